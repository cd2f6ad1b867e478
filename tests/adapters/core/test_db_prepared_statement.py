"""``PreparedStatement`` (the hot statements of the journal and the flow store, compiled once per
dialect): writes exactly what ``Connection.execute`` writes, in the caller's transaction, through
the same events and error wrapping, and refuses statements it cannot run unchanged."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from adapters.core.db import JsonText, PreparedStatement, make_engine
from adapters.core.errors import ConfigurationError

metadata = MetaData()
things = Table(
    "things", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(32), nullable=False, unique=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("flag", Boolean, nullable=True),
    Column("ratio", Float, nullable=True),
    Column("data", JSON, nullable=True),
    Column("note", Text, nullable=True),
)
KEYS = [c.key for c in things.columns if c.key != "id"]
T0 = dt.datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    metadata.create_all(e)
    yield e
    e.dispose()


def _row(name: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, "at": T0, "flag": True, "ratio": 0.5,
                           "data": {"a": [1, 2], "b": {"c": "ж"}}, "note": None}
    row.update(over)
    return row


def _read(engine: Engine, name: str) -> dict[str, Any]:
    with engine.connect() as conn:
        found = conn.execute(select(things).where(things.c.name == name)).mappings().one()
    return {k: v for k, v in found.items() if k != "id"}


def _raw(engine: Engine, name: str) -> tuple[Any, ...]:
    """The stored column values as SQLite holds them (text of datetimes and JSON, 0/1)."""
    with engine.connect() as conn:
        return tuple(conn.exec_driver_sql(
            "SELECT name, at, flag, ratio, data, note FROM things WHERE name = ?", (name,)).one())


@pytest.mark.parametrize("over", [{}, {"flag": False, "ratio": None}, {"flag": None, "data": None},
                                  {"data": [1, "x", None], "note": "n\u00e9"}])
def test_insert_stores_exactly_what_connection_execute_stores(engine: Engine, over: dict[str, Any]) -> None:
    prepared = PreparedStatement(insert(things), column_keys=KEYS)
    with engine.begin() as conn:
        conn.execute(insert(things), _row("core", **over))
        prepared.execute(conn, _row("fast", **over))
    assert _raw(engine, "fast")[1:] == _raw(engine, "core")[1:]
    assert _read(engine, "fast") == {**_read(engine, "core"), "name": "fast"}


def test_pre_serialised_json_is_stored_as_the_json_type_would_store_it(engine: Engine) -> None:
    value = {"k": [1, 2], "t": "\u049b\u0430\u0437"}
    prepared = PreparedStatement(insert(things), column_keys=KEYS)
    with engine.begin() as conn:
        conn.execute(insert(things), _row("core", data=value))
        prepared.execute(conn, _row("fast", data=JsonText(json.dumps(value))))
    assert _raw(engine, "fast")[1:] == _raw(engine, "core")[1:]
    assert _read(engine, "fast")["data"] == value


def test_update_with_fixed_values_and_rowcount(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(things), _row("a", note="old"))
    stmt = PreparedStatement(update(things).where(
        things.c.name == bindparam("p_name"), things.c.note.is_not(None)).values(
        ratio=bindparam("p_ratio"), at=bindparam("p_at"), note=None))
    later = T0 + dt.timedelta(hours=1)
    with engine.begin() as conn:
        assert stmt.execute(conn, {"p_name": "a", "p_ratio": 2.0, "p_at": later}).rowcount == 1
        assert stmt.execute(conn, {"p_name": "a", "p_ratio": 3.0, "p_at": later}).rowcount == 0  # note now NULL
        assert stmt.execute(conn, {"p_name": "zz", "p_ratio": 3.0, "p_at": later}).rowcount == 0
    row = _read(engine, "a")
    assert row["ratio"] == 2.0 and row["note"] is None
    assert row["at"].replace(tzinfo=dt.UTC) == later


def test_runs_in_the_callers_transaction(engine: Engine) -> None:
    prepared = PreparedStatement(insert(things), column_keys=KEYS)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        prepared.execute(conn, _row("gone"))
        raise RuntimeError("rolled back")
    with engine.connect() as conn:
        assert conn.execute(select(things)).all() == []


def test_events_see_the_statement_and_errors_are_sqlalchemys(engine: Engine) -> None:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cur, statement, *a: seen.append(statement))
    prepared = PreparedStatement(insert(things), column_keys=KEYS)
    with engine.begin() as conn:
        prepared.execute(conn, _row("a"))
    assert seen and seen[-1].upper().startswith("INSERT INTO THINGS")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        prepared.execute(conn, _row("a"))                  # unique name


def test_a_missing_parameter_is_a_key_error_naming_it(engine: Engine) -> None:
    prepared = PreparedStatement(insert(things), column_keys=KEYS)
    row = _row("a")
    del row["ratio"]
    with pytest.raises(KeyError, match="ratio"), engine.begin() as conn:
        prepared.execute(conn, row)


def test_statements_needing_per_execution_compilation_are_refused(engine: Engine) -> None:
    expanding = PreparedStatement(select(things).where(things.c.name.in_(["a", "b"])))
    with pytest.raises(ConfigurationError, match="per-execution"), engine.connect() as conn:
        expanding.execute(conn, {})


def test_compiled_once_per_dialect(engine: Engine) -> None:
    prepared = PreparedStatement(insert(things), column_keys=KEYS)
    first = prepared.compiled(engine.dialect)
    assert prepared.compiled(engine.dialect) is first
    assert first.sql.startswith("INSERT INTO things") and "?" in first.sql


def test_postgresql_rendering_has_named_parameters_and_casts() -> None:
    pytest.importorskip("psycopg")
    from sqlalchemy.dialects.postgresql import psycopg

    compiled = PreparedStatement(insert(things), column_keys=KEYS).compiled(psycopg.dialect())
    assert not compiled.positional and "%(name)s" in compiled.sql
    assert [b.key for b in compiled.binds] == KEYS
