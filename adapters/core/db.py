"""The one SQLAlchemy engine factory: exchange journal and durable flow state share it.

SQLite (the default, a file) gets WAL mode and a busy timeout so that several threads and the
``egov journal`` command can use the same file at once.

Durability: WAL with ``synchronous=NORMAL``. A commit is in the WAL file (the operating system's
page cache) when it returns, so it survives the process being killed at any point (SIGKILL, OOM,
crash: the crash drills rely on this) but not a power loss or kernel crash before the next
checkpoint's fsync, which may lose the last commits (never corrupt the database). That is the
trade-off chosen for the journal and the flow state: ``synchronous=FULL`` would add an fsync to
each of the ≈ 30 commits of a licensing flow (13 of flow state, one per exchange attempt). A
deployment that must survive power loss without losing the last commits sets
``PRAGMA synchronous=FULL`` (or uses PostgreSQL).

A ``postgresql://`` URL works unchanged (the driver, e.g. psycopg, must be installed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from adapters.core.errors import ConfigurationError

__all__ = ["DEFAULT_DATABASE_URL", "POSTGRES_DRIVER", "SQLITE_BUSY_TIMEOUT_MS", "default_database_url",
           "make_engine", "normalise_url", "redact_url"]

DEFAULT_DATABASE_URL = "sqlite:///./egov.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRES_DRIVER = "postgresql+psycopg"
"""psycopg 3 (the ``postgres`` extra): what a plain ``postgresql://`` or ``postgres://`` URL gets."""


def default_database_url() -> str:
    """``database_url`` from the settings (``EGOV_DATABASE_URL``)."""
    from adapters.core.settings import get_settings

    return get_settings().database_url or DEFAULT_DATABASE_URL


def redact_url(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


def normalise_url(url: URL) -> URL:
    """``url`` with the driver the project installs: ``postgresql://`` and ``postgres://`` (the
    form many hosting platforms hand out) become ``postgresql+psycopg://`` — SQLAlchemy before 2.1
    would pick psycopg2, which is not a dependency. An explicit driver is kept."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername=POSTGRES_DRIVER)
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default: settings ``database_url``).

    Raises :class:`ConfigurationError` naming the (redacted) URL when it cannot be used.
    """
    raw = url or default_database_url()
    try:
        parsed = normalise_url(make_url(raw))
    except ArgumentError as exc:
        raise ConfigurationError(f"database URL {redact_url(raw)!r} is not valid: {exc}",
                                 field="database_url") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, **kwargs)
        return create_engine(parsed, pool_pre_ping=True, future=True, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        hint = " (pip install 'egov-adapters[postgres]')" if parsed.get_backend_name() == "postgresql" else ""
        raise ConfigurationError(
            f"database URL {redact_url(parsed)!r}: driver not installed ({exc}){hint}", field="database_url"
        ) from exc


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    database = url.database
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    if in_memory:
        # one shared connection, or every pool checkout would see a different empty database
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool, **kwargs)
    else:
        assert database is not None
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
        finally:
            cur.close()

    return engine
