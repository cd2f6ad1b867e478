"""The contract a SOAP simulator serves: its WSDL at ``GET <endpoint>?wsdl`` and the schemas the WSDL
imports at ``GET <endpoint>?xsd=<file name>``, as SOAP stacks expect of a service.

Both are the packaged files of ``wsdl/`` and ``schemas/`` (the same the adapters use), rewritten
so that a client fetching them from the simulator stays on it: the ``soap:address`` of a WSDL with
one port is the requested endpoint; of a WSDL with several, each address keeps its path on this
server; every ``schemaLocation`` is ``<endpoint>?xsd=<file name>``. A name with anything but
letters, digits, ``_``, ``.`` and ``-`` (no path) answers 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from adapters.contracts import contract_path, contracts_root
from simulators.common.messages import Request, Response
from simulators.common.router import Router

__all__ = ["install_contract", "served_wsdl", "served_xsd"]

_LOCATION = re.compile(rb'schemaLocation="([^"]+)"')
_ADDRESS = re.compile(rb'(<soap:address\s+location=")(https?://[^/"]+)([^"]*)(")')
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.xsd$")


def _imports_here(raw: bytes, endpoint: bytes) -> bytes:
    return _LOCATION.sub(lambda m: b'schemaLocation="' + endpoint + b"?xsd=" + m.group(1).rsplit(b"/", 1)[-1] + b'"',
                         raw)


def served_wsdl(wsdl: str, base_url: str, path: str) -> bytes:
    """The packaged WSDL ``wsdl`` (relative to the contracts' root) as served at ``base_url + path``."""
    raw = contract_path(wsdl).read_bytes()
    endpoint = f"{base_url}{path}".encode()
    if len(_ADDRESS.findall(raw)) == 1:
        raw = _ADDRESS.sub(lambda m: m.group(1) + endpoint + m.group(4), raw)
    else:
        raw = _ADDRESS.sub(lambda m: m.group(1) + base_url.encode() + m.group(3) + m.group(4), raw)
    return _imports_here(raw, endpoint)


def served_xsd(schema_dir: str, name: str, base_url: str, path: str) -> bytes | None:
    """The packaged schema ``name`` of ``schema_dir`` (e.g. ``schemas/shep``) as served at
    ``base_url + path``; None when there is none of that name."""
    if not _SAFE_NAME.match(name):
        return None
    file: Path = contracts_root() / schema_dir / name
    if not file.is_file():
        return None
    return _imports_here(file.read_bytes(), f"{base_url}{path}".encode())


def contract_handler(wsdl: str, schema_dir: str, base_url: Callable[[], str]) -> Callable[[Request], Response]:
    """A GET handler: ``?xsd=NAME`` answers that schema, anything else the WSDL ("?wsdl" arrives with
    an empty value, which the server's query parsing drops, so any GET without ?xsd= answers the WSDL,
    as many SOAP stacks do)."""
    def get(req: Request) -> Response:
        base = base_url()
        name = req.param("xsd")
        if name:
            doc = served_xsd(schema_dir, name, base, req.path)
            return Response.xml(doc) if doc is not None else Response.text(f"no schema named {name}", 404)
        return Response.xml(served_wsdl(wsdl, base, req.path))
    return get


def install_contract(router: Router, paths: tuple[str, ...], wsdl: str, schema_dir: str,
                     base_url: Callable[[], str]) -> None:
    """Serve ``wsdl`` and its schemas at ``GET`` of each of ``paths`` (the SOAP endpoints)."""
    handler = contract_handler(wsdl, schema_dir, base_url)
    for path in paths:
        router.add("GET", path, handler)
