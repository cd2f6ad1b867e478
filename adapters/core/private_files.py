"""Files only their owner may read: keys, PKCS#12 keystores, password files, databases, manifests.

What this module guarantees, on POSIX systems (elsewhere the checks are skipped: Windows has no
mode bits to check):

- :func:`write_private` creates a file readable and writable by its owner only (0600) from the
  first byte (the temporary file is created 0600, then renamed over the target): there is no moment
  at which another user can open it, and a reader sees the old content or the new one. A target
  that existed with a wider mode is replaced by a 0600 file.
- :func:`ensure_private` makes a file the caller will open for writing (a SQLite database) private
  before it is opened: an absent one is created empty, 0600; an existing one that its group or
  other users may access is tightened to its owner's bits (logged as a warning), or refused with a
  :class:`~adapters.core.errors.ConfigurationError` when it cannot be (another user's file).
  :func:`ensure_private_sqlite` does it for a database and its ``-wal``, ``-shm`` and ``-journal``
  files (SQLite creates those with the database file's mode).
- :func:`refuse_if_exposed` refuses a file the caller only reads (a keystore, a password file)
  when other users may read or write it (any "other" bit). Group access is the operator's choice
  (a service group) and is accepted; the files this project creates are 0600.
- :func:`read_secret_text` reads a password file (one trailing line break is not part of the
  secret) after :func:`refuse_if_exposed`; its errors name the file, never its content.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from pathlib import Path

from adapters.core.errors import ConfigurationError, EgovError

__all__ = ["OWNER_ONLY", "ensure_private", "ensure_private_sqlite", "read_secret_text", "refuse_if_exposed",
           "write_private"]

log = logging.getLogger(__name__)

OWNER_ONLY = 0o600
"""The mode of every file this project creates that holds a secret or personal data."""
_GROUP_OR_OTHERS = 0o077
_OTHERS = 0o007
_POSIX = os.name == "posix"
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside a database, with the database's mode."""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_private(path: str | Path, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` (its directory created if needed) as a 0600 file, atomically.
    Returns the path. Errors are the operating system's (``OSError``)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")  # created 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target


def ensure_private(path: str | Path, *, what: str) -> Path:
    """``path`` exists and only its owner may access it: created empty (0600) when absent, its
    group and other bits removed when present. :class:`ConfigurationError` naming ``what`` and the
    path when that cannot be done (the file belongs to another user, a read-only file system)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not _POSIX:
        return target
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        _tighten(target, what)
    except OSError as exc:
        raise ConfigurationError(f"{what} {target}: cannot be created: {exc.strerror}", path=str(target)) from exc
    else:
        os.close(fd)
    return target


def ensure_private_sqlite(path: str | Path, *, what: str = "database") -> Path:
    """:func:`ensure_private` for a SQLite database file, and the tightening of its companion files
    (``-wal``, ``-shm``, ``-journal``) left by an earlier run with a wider mode."""
    target = ensure_private(path, what=what)
    if _POSIX:
        for suffix in SQLITE_COMPANIONS:
            companion = target.with_name(target.name + suffix)
            if companion.exists():
                _tighten(companion, what)
    return target


def _tighten(target: Path, what: str) -> None:
    mode = _mode(target)
    if not mode & _GROUP_OR_OTHERS:
        return
    try:
        os.chmod(target, mode & ~_GROUP_OR_OTHERS)
    except OSError as exc:
        raise ConfigurationError(
            f"{what} {target} may be read by other users (mode {mode:04o}) and cannot be made private "
            f"({exc.strerror}): make it readable by its owner only (chmod 600) or use another file",
            path=str(target), mode=f"{mode:04o}") from exc
    log.warning("%s %s was accessible to other users (mode %04o): now %04o", what, target, mode,
                mode & ~_GROUP_OR_OTHERS)


def refuse_if_exposed(path: str | Path, *, what: str, error: type[EgovError] = ConfigurationError) -> None:
    """Raise ``error`` naming ``what``, the path and its mode when other users may read or write the
    file. An absent file passes (the caller's read reports it)."""
    if not _POSIX:
        return
    target = Path(path)
    try:
        mode = _mode(target)
    except OSError:
        return
    if mode & _OTHERS:
        raise error(f"{what} {target} may be read by other users (mode {mode:04o}); refused: make it "
                    f"readable by its owner only (chmod 600 {target})", path=str(target), mode=f"{mode:04o}")


def read_secret_text(path: str | Path, *, what: str = "secret file") -> str:
    """The secret in ``path`` (UTF-8; one trailing line break removed), after
    :func:`refuse_if_exposed`. :class:`ConfigurationError` naming the file when it cannot be read."""
    target = Path(path)
    refuse_if_exposed(target, what=what)
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{what} {target}: cannot read: {exc.__class__.__name__}",
                                 path=str(target)) from exc
    return text.removesuffix("\n").removesuffix("\r")
