"""``create_tables``: several processes creating the project's tables on a new database at once
(``egov serve`` and ``egov worker`` starting together) all succeed, on SQLite and on PostgreSQL.

Each round creates tables of new names from several threads with engines of their own, released
together by a barrier; ``metadata.create_all`` in their place loses the race (PostgreSQL:
``duplicate key value violates unique constraint "pg_type_typname_nsp_index"``; the scale drill
met it with four processes starting).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, inspect
from sqlalchemy.engine import Engine

from adapters.core.db import create_tables, make_engine

CREATORS = 6
ROUNDS = 5


def _metadata(suffix: str) -> MetaData:
    metadata = MetaData()
    Table(f"parent_{suffix}", metadata, Column("id", Integer, primary_key=True),
          Column("name", String(32), nullable=False, index=True))
    Table(f"child_{suffix}", metadata, Column("id", Integer, primary_key=True),
          Column("parent", Integer, nullable=False), Index(f"ix_child_{suffix}_parent", "parent"))
    return metadata


def _race(engines: list[Engine], create: Callable[[Engine, MetaData], None], metadata: MetaData) -> list[BaseException]:
    barrier = threading.Barrier(len(engines))
    failures: list[BaseException] = []

    def run(engine: Engine) -> None:
        barrier.wait()
        try:
            create(engine, metadata)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


def _check_all_created(engines: list[Engine]) -> None:
    try:
        for n in range(ROUNDS):
            failures = _race(engines, create_tables, _metadata(f"r{n}"))
            assert failures == [], failures
            inspector = inspect(engines[0])
            assert {f"parent_r{n}", f"child_r{n}"} <= set(inspector.get_table_names())
            assert [i["name"] for i in inspector.get_indexes(f"child_r{n}")] == [f"ix_child_r{n}_parent"]
        create_tables(engines[0], _metadata("r0"))  # again, once they exist: nothing to do
    finally:
        for engine in engines:
            engine.dispose()


def test_concurrent_creators_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    _check_all_created([make_engine(url) for _ in range(CREATORS)])


def test_concurrent_creators_on_postgresql(postgres_db_url: str) -> None:
    _check_all_created([make_engine(postgres_db_url) for _ in range(CREATORS)])
