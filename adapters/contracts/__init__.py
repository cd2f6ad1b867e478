"""Where the packaged contract files (``wsdl/`` and ``schemas/``) live, and their compiled schemas.

The folders sit at the repository root, next to ``adapters/``. ``EGOV_CONTRACTS_DIR`` overrides
the root (a directory holding ``wsdl/`` and ``schemas/``), for installs that put them elsewhere.
Nothing here touches the network: schemas are compiled from local files, imports resolved on disk.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from lxml import etree

from adapters.core.errors import ConfigurationError

ENV_VAR = "EGOV_CONTRACTS_DIR"

SYNC_WSDL = "wsdl/shep/SyncChannel.wsdl"
ASYNC_WSDL = "wsdl/shep/AsyncChannel.wsdl"
SYNC_INTERFACES_XSD = "schemas/shep/sync-interfaces-v10.xsd"
ASYNC_INTERFACES_XSD = "schemas/shep/async-interfaces-v10.xsd"


def contracts_root() -> Path:
    """The directory holding ``wsdl/`` and ``schemas/``."""
    override = os.environ.get(ENV_VAR)
    root = Path(override) if override else Path(__file__).resolve().parents[2]
    if not (root / "wsdl").is_dir() or not (root / "schemas").is_dir():
        raise ConfigurationError(f"contract files not found under {root} (set {ENV_VAR})", root=str(root))
    return root


def contract_path(relative: str) -> Path:
    """Absolute path of a packaged contract file, e.g. ``contract_path(SYNC_WSDL)``."""
    path = contracts_root() / relative
    if not path.is_file():
        raise ConfigurationError(f"contract file missing: {relative}", path=str(path))
    return path


_schema_lock = threading.Lock()


@lru_cache(maxsize=16)
def _compile(path: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    doc = etree.parse(path, parser)
    return etree.XMLSchema(doc)


_loaded: dict[tuple[str | None, str], tuple[etree.XMLSchema, threading.Lock]] = {}
"""Compiled schemas by (``EGOV_CONTRACTS_DIR``, relative path), each with its validation lock.

Looked up without touching the file system (no root resolution or stat per call). The override is part of the key, so
pointing ``EGOV_CONTRACTS_DIR`` elsewhere still loads (and checks) the other copy.
"""


def _schema_entry(relative: str) -> tuple[etree.XMLSchema, threading.Lock]:
    key = (os.environ.get(ENV_VAR), relative)
    entry = _loaded.get(key)
    if entry is None:
        with _schema_lock:
            entry = _loaded.get(key)
            if entry is None:
                entry = (_compile(str(contract_path(relative))), threading.Lock())
                _loaded[key] = entry
    return entry


def load_schema(relative: str) -> etree.XMLSchema:
    """A compiled XML schema (cached; lxml schemas may be used from several threads for validation)."""
    return _schema_entry(relative)[0]


def schema_errors(relative: str, element: etree._Element) -> list[str]:
    """Validate ``element`` against a packaged schema; return the errors (empty when valid).

    Validation runs under a per-schema lock: the schema's ``error_log`` is shared state.
    """
    schema, lock = _schema_entry(relative)
    with lock:
        if schema.validate(element):
            return []
        return [f"line {e.line}: {e.message}" for e in schema.error_log]


def schema_check(relative: str) -> Callable[[etree._Element], list[str]]:
    """A payload check for :class:`adapters.core.soap.ResponsePipeline` against a packaged schema."""

    def check(element: etree._Element) -> list[str]:
        return schema_errors(relative, element)

    return check
