"""The one SQLAlchemy engine factory: exchange journal and durable flow state share it.

SQLite (the default, a file) gets WAL mode and a busy timeout so that several threads and the
``egov journal`` command can use the same file at once.

Durability: WAL with ``synchronous=NORMAL``. A commit is in the WAL file (the operating system's
page cache) when it returns, so it survives the process being killed at any point (SIGKILL, OOM,
crash: the crash drills rely on this) but not a power loss or kernel crash before the next
checkpoint's fsync, which may lose the last commits (never corrupt the database). That is the
trade-off chosen for the journal and the flow state: ``synchronous=FULL`` would add an fsync to
each of the ≈ 20 commits of a licensing flow (13 of flow state, and the journal's: one per step
with exchanges when the flow runner batches them, one per attempt otherwise). A
deployment that must survive power loss without losing the last commits sets
``PRAGMA synchronous=FULL`` (or uses PostgreSQL).

A SQLite file is private: created readable by its owner only (0600), and one left by an earlier
run with a wider mode tightened before it is opened (its ``-wal`` and ``-shm`` files too:
:func:`adapters.core.private_files.ensure_private_sqlite`). The journal and the flow state hold
personal data (applicants' BINs, names, application numbers).

A ``postgresql://`` URL works unchanged (the driver, e.g. psycopg, must be installed).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import URL, Connection, CursorResult, Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.base import Executable

from adapters.core.errors import ConfigurationError
from adapters.core.private_files import ensure_private_sqlite

__all__ = ["DEFAULT_DATABASE_URL", "POSTGRES_DRIVER", "SQLITE_BUSY_TIMEOUT_MS", "JsonText", "PreparedStatement",
           "create_tables", "database_reason", "default_database_url", "existing_database", "make_engine",
           "normalise_url", "redact_url"]

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


def database_reason(exc: BaseException) -> str:
    """The database's own reason for ``exc`` ("database or disk is full"), on one line: without
    SQLAlchemy's statement and parameters (they may hold personal data) or its help link."""
    orig = getattr(exc, "orig", None)
    text = str(orig) if orig is not None else (str(exc).splitlines() or [""])[0]
    return " ".join(text.split()) or type(exc).__name__


def normalise_url(url: URL) -> URL:
    """``url`` with the driver the project installs: ``postgresql://`` and ``postgres://`` (the
    form many hosting platforms hand out) become ``postgresql+psycopg://`` — SQLAlchemy before 2.1
    would pick psycopg2, which is not a dependency. An explicit driver is kept."""
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername=POSTGRES_DRIVER)
    return url


_SQLITE_HEADER = b"SQLite format 3\x00"


def existing_database(url: str, *, what: str = "database") -> str:
    """``url``, when it names a database that exists: for reading commands, which must not create an
    empty one where a mistyped path points. A SQLite file that is missing, a folder, or not a SQLite
    database is a :class:`ConfigurationError` naming it (an empty file counts as a new database;
    other back ends are checked when connected to)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"database URL {redact_url(url)!r} is not valid: {exc}", field="database_url") from exc
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or "uri" in parsed.query:
        return url
    path = Path(database).expanduser()
    if not path.exists():
        raise ConfigurationError(f"{what} {path} does not exist (nothing was recorded there: check --db or "
                                 "EGOV_DATABASE_URL)", field="database_url")
    if not path.is_file():
        raise ConfigurationError(f"{what} {path} is not a file", field="database_url")
    with path.open("rb") as head:
        start = head.read(len(_SQLITE_HEADER))
    if start and start != _SQLITE_HEADER:
        raise ConfigurationError(f"{what} {path}: file is not a database (not SQLite)", field="database_url")
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


SCHEMA_LOCK_KEY = 0x65676F76  # "egov"
"""PostgreSQL advisory lock taken while the project's tables are created (:func:`create_tables`)."""


def create_tables(engine: Engine, metadata: MetaData) -> None:
    """Create ``metadata``'s tables and indexes that do not exist yet; safe when several processes
    do it at once on a new database (``egov serve`` and ``egov worker`` processes starting together).

    ``metadata.create_all`` is not: it looks, then creates, and a process that lost the race fails
    ("table already exists"). ``IF NOT EXISTS`` closes the gap on SQLite, where DDL takes the
    database's write lock; on PostgreSQL two concurrent ``CREATE TABLE IF NOT EXISTS`` of one name
    can still both go ahead and the second fails on the catalogue's unique index
    (``pg_type_typname_nsp_index``), so there creators first take a transaction-scoped advisory
    lock: they run one after the other, and the later ones find the tables.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
        for table in metadata.sorted_tables:
            conn.execute(CreateTable(table, if_not_exists=True))
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                conn.execute(CreateIndex(index, if_not_exists=True))


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    database = url.database
    in_memory = not database or database == ":memory:" or database.startswith("file::memory:")
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    if in_memory:
        # one shared connection, or every pool checkout would see a different empty database
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool, **kwargs)
    else:
        assert database is not None
        if "uri" not in url.query:  # a file: URI names its own options (mode=ro...): left as it is
            ensure_private_sqlite(Path(database).expanduser())
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


@dataclass(frozen=True)
class _Bind:
    """One parameter of a compiled statement: where its value comes from and how it is converted."""

    name: str                                   # as rendered in the SQL (pyformat key)
    key: str | None                             # the caller's parameter, or None for a fixed value
    fixed: Any
    process: Callable[[Any], Any] | None        # the type's bind processor for this dialect


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    binds: tuple[_Bind, ...]
    raw_json: bool      # the dialect stores JSON as the text json.dumps writes (SQLite, default serializer)


class PreparedStatement:
    """A Core statement compiled once per dialect and executed with ``exec_driver_sql``.

    What SQLAlchemy does per execution of a cached statement (cache lookup, execution context,
    ``construct_params``, result set-up) costs several times the SQLite write itself on the hot
    paths (a journal row per attempt, the flow store's step boundary). This keeps SQLAlchemy's
    compilation (per dialect: SQLite's ``?``, psycopg's ``%(name)s::TYPE``) and its type bind
    processors (datetimes, JSON, booleans are converted exactly as ``Connection.execute`` would),
    and still runs through the Connection, so transactions, ``before_cursor_execute`` events and
    error wrapping (``IntegrityError``...) are unchanged. Only plain statements qualify: no
    expanding ``IN`` (post-compile), no SQL-expression defaults; anything else raises
    :class:`ConfigurationError` when first compiled.

    Parameters are the statement's bind keys (``bindparam`` names, column keys of an INSERT);
    callers pass every required key. Values meant as already-serialised JSON for a JSON column can
    be passed as :class:`JsonText` and skip the second serialisation.
    """

    def __init__(self, statement: Executable, *, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect)
        if found is None:
            found = self._compile(dialect)
            self._by_dialect[dialect] = found
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = cast(Any, self.statement).compile(dialect=dialect, column_keys=self._column_keys)
        sql: str = compiled.string
        if "POSTCOMPILE" in sql:
            raise ConfigurationError(f"statement needs per-execution compilation, cannot be prepared: {sql[:80]}",
                                     field="statement")
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        names = list(compiled.positiontup) if compiled.positional else list(by_name)
        binds: list[_Bind] = []
        for name in names:
            bind = by_name[name]
            if bind.callable is not None or bind.expanding:
                raise ConfigurationError(f"bind {bind.key!r} is computed or expanding, cannot be prepared",
                                         field="statement")
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            key = bind.key if bind.required else None
            binds.append(_Bind(name=name, key=key, fixed=bind.value, process=process))
        raw_json = dialect.name == "sqlite" and getattr(dialect, "_json_serializer", None) is None
        return _Compiled(sql=sql, positional=bool(compiled.positional), binds=tuple(binds), raw_json=raw_json)

    def execute(self, conn: Connection, params: Mapping[str, Any]) -> CursorResult[Any]:
        """Run the statement on ``conn`` (in the caller's transaction) with ``params``."""
        compiled = self.compiled(conn.dialect)
        return conn.exec_driver_sql(compiled.sql, _driver_values(compiled, params))

    def execute_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once per element of ``rows`` as ONE driver call (the DBAPI's
        ``executemany``, in the caller's transaction): a batch of journal rows pays SQLAlchemy's
        per-execution work once, not per row."""
        if not rows:
            return
        compiled = self.compiled(conn.dialect)
        conn.exec_driver_sql(compiled.sql, [_driver_values(compiled, row) for row in rows])


def _driver_values(compiled: _Compiled, params: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
    """The driver's parameters of one execution: converted by the types' bind processors, in the
    compiled statement's order (positional) or by name."""
    values: list[Any] = []
    for bind in compiled.binds:
        value = bind.fixed if bind.key is None else params[bind.key]
        if type(value) is JsonText:
            if compiled.raw_json:
                values.append(str(value))
                continue
            value = json.loads(value)
        values.append(value if bind.process is None else bind.process(value))
    if compiled.positional:
        return tuple(values)
    return {b.name: v for b, v in zip(compiled.binds, values, strict=True)}


class JsonText(str):
    """JSON already serialised (``json.dumps``), for a JSON column of a :class:`PreparedStatement`:
    SQLite stores the text as it is instead of serialising the value a second time."""
