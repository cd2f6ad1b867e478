"""The service's callers: who may call, with which key, and what each may do.

In the spirit of X-Road's access rights: every system calling the service is a *caller* with a
name, an API key and an allow-list of permissions ``<service>:<operation>`` — e.g.
``legal_entities:lookup``, ``payments:create``, ``shep:GbdulInfoByBin_v2`` (by the gateway's
serviceId). Shell-style wildcards are allowed (``payments:*``, ``shep:Gbdul*``, ``*``).

The callers file (``EGOV_SERVICE_CALLERS_FILE``, JSON) holds, per caller, the **SHA-256 of its key,
never the key**: :func:`add_caller` makes a random key (256 bits), returns it once and stores its
digest. A fast digest is enough here because the key is random, not a password people choose. The
file is written 0600 (owner only), atomically; a file that others may write is refused (anyone
who can write it can add a caller). The service re-reads the file when it changes, so adding or
removing a caller needs no restart.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from adapters.core.errors import ConfigurationError, ValidationError

__all__ = ["PERMISSIONS", "Caller", "CallersFile", "CallersRegistry", "add_caller", "key_digest", "read_callers",
           "remove_caller", "write_callers"]

FILE_VERSION = 1
KEY_PREFIX = "egk_"
"""API keys start with this, so a leaked key is recognisable by secret scanners."""

PERMISSIONS: dict[str, str] = {
    "legal_entities:lookup": "Legal Entities register: look up a BIN",
    "payments:create": "payment gateway: create a fee order (idempotent by client reference)",
    "payments:status": "payment gateway: an order's status",
    "payments:receipt": "payment gateway: the verified, signed receipt of a paid order",
    "payments:cancel": "payment gateway: cancel an unpaid order",
    "elicense:search": "E-licensing: search licences, the survey's indicators",
    "elicense:licence": "E-licensing: a licence as verified JSON, signed XML or PDF",
    "elicense:application": "E-licensing: an application's status and decision",
    "trust:certificate": "certificate information (NCA attributes, chain, validity, revocation)",
    "trust:verify": "verify a signed XML (enveloped or WS-Security)",
    "trust:sign": "sign with the organisation's key (only when EGOV_SERVICE_SIGNING_ENABLED)",
    "shep:<serviceId>": "ShEP proxy: send a message to that gateway service (sync or async)",
    "shep_async:getMessageStatus": "ShEP proxy: status of an async message",
    "flows:start": "licensing flows: start one (service, operation, diagram, the applicant's files)",
    "flows:read": "licensing flows: list them, a flow's state and steps, its artefacts",
    "flows:resume": "licensing flows: resume a failed or waiting flow",
}
"""What can be allowed (``shep:`` takes any serviceId). Documented in docs/service.md."""

_KNOWN = tuple(name.replace("<serviceId>", "AnyService") for name in PERMISSIONS)
"""The permissions a pattern is matched against (``shep:`` takes any serviceId)."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PERMISSION = re.compile(r"^[A-Za-z0-9_*?\[\]-]+(:[A-Za-z0-9_.*?\[\]-]+)?$")


def key_digest(key: str) -> str:
    """SHA-256 (hex) of an API key, as the callers file stores it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Caller(BaseModel):
    """One caller as the callers file holds it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="who calls: a system of the organisation")
    key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the API key (never the key)")
    allow: tuple[str, ...] = Field(description="permissions '<service>:<operation>', wildcards allowed")
    created_at: dt.datetime | None = None

    def allows(self, permission: str) -> bool:
        """Whether one of the caller's patterns matches ``permission`` (case-sensitive)."""
        return any(fnmatch.fnmatchcase(permission, pattern) for pattern in self.allow)


class CallersFile(BaseModel):
    """The callers file's JSON."""

    model_config = ConfigDict(extra="forbid")

    version: int = FILE_VERSION
    callers: list[Caller] = Field(default_factory=list)


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValidationError("name", "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
                              value=name)
    return name


def _check_permissions(allow: Iterable[str]) -> tuple[str, ...]:
    found = tuple(allow)
    if not found:
        raise ValidationError("allow", "give at least one permission (e.g. legal_entities:lookup)")
    for pattern in found:
        if not _PERMISSION.match(pattern):
            raise ValidationError("allow", "a permission is '<service>:<operation>' (wildcards * ? [ ] allowed)",
                                  value=pattern)
        if not pattern.startswith("shep:") and not any(fnmatch.fnmatchcase(known, pattern) for known in _KNOWN):
            raise ValidationError("allow", "it allows nothing the service offers; the permissions are "
                                  + ", ".join(PERMISSIONS), value=pattern)
    return found


def read_callers(path: Path) -> CallersFile:
    """The callers file; an absent file is an empty one. Refuses a file others may write."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return CallersFile()
    except OSError as exc:
        raise ConfigurationError(f"callers file {path}: cannot read: {exc}", setting="service_callers_file") from exc
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigurationError(f"callers file {path} may be written by others (mode {stat.S_IMODE(st.st_mode):o}): "
                                 "anyone could add a caller; chmod 600 it", setting="service_callers_file")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        parsed = CallersFile.model_validate(raw)
    except (OSError, ValueError, PydanticValidationError) as exc:
        raise ConfigurationError(f"callers file {path}: not a valid callers file: {exc}",
                                 setting="service_callers_file") from exc
    if parsed.version != FILE_VERSION:
        raise ConfigurationError(f"callers file {path}: version {parsed.version}, expected {FILE_VERSION}",
                                 setting="service_callers_file")
    return parsed


def write_callers(path: Path, content: CallersFile) -> None:
    """Write the file atomically with mode 0600 (created so, never readable by others in between)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(content.model_dump_json(indent=2))
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_caller(path: Path, name: str, allow: Iterable[str], *, now: dt.datetime | None = None) -> str:
    """Add (or re-key) caller ``name`` with the permissions ``allow``; return its new API key.

    The key is returned once and never stored: the file keeps only its SHA-256. Adding a name
    that exists replaces its key and permissions (key rotation).
    """
    _check_name(name)
    permissions = _check_permissions(allow)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    current = read_callers(path)
    kept = [c for c in current.callers if c.name != name]
    kept.append(Caller(name=name, key_sha256=key_digest(key), allow=permissions,
                       created_at=now or dt.datetime.now(dt.UTC)))
    write_callers(path, CallersFile(callers=kept))
    return key


def remove_caller(path: Path, name: str) -> bool:
    """Remove caller ``name``; False when there was none."""
    current = read_callers(path)
    kept = [c for c in current.callers if c.name != name]
    if len(kept) == len(current.callers):
        return False
    write_callers(path, CallersFile(callers=kept))
    return True


class CallersRegistry:
    """The callers file as the running service sees it: re-read when it changes. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[float, int, int] | None = None
        self._by_digest: dict[str, Caller] = {}
        self._loaded = False
        self._refresh()  # a broken file stops the service at start, not at the first call

    def _file_stamp(self) -> tuple[float, int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime, st.st_size, st.st_ino)

    def _refresh(self) -> None:
        stamp = self._file_stamp()
        with self._lock:
            if self._loaded and stamp == self._stamp:
                return
            content = read_callers(self.path)
            self._by_digest = {c.key_sha256: c for c in content.callers}
            self._stamp, self._loaded = stamp, True

    def callers(self) -> list[Caller]:
        self._refresh()
        with self._lock:
            return list(self._by_digest.values())

    def authenticate(self, key: str) -> Caller | None:
        """The caller holding ``key``, or None. Compares digests in constant time."""
        self._refresh()
        wanted = key_digest(key)
        with self._lock:
            candidates = list(self._by_digest.items())
        found = None
        for stored, caller in candidates:
            if hmac.compare_digest(stored, wanted):
                found = caller
        return found
