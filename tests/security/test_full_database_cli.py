"""A database that cannot be written (issue 11, item 14, the command line): a flow step whose
journal row or flow-state row does not fit fails typed and retryable, ``egov`` prints one line and
a hint instead of a traceback, and the flow resumes once there is space again, its external effects
made once.

The database is a real SQLite file. "Full" is SQLite's own "database or disk is full": every
connection to the file is held to the pages the file has (``PRAGMA max_page_count``) and its free
pages are used up; "damaged" is its header overwritten. The flow runs against the simulators over
real HTTP.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event
from sqlalchemy.pool import Pool

from cli.main import cli
from harness.landscape import Landscape
from procedure.machine import FlowContext, StepObserver, StepPhase
from procedure.models import FlowStatus
from procedure.store import FlowStore
from tests.paths import ROOT

EGOV = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
NO_LIMIT = 1_073_741_823
EXIT_RETRYABLE, EXIT_FINAL = 75, 1
"""The exit statuses of an error (README, cli/failure.py): the same command may succeed later, or not."""


class FullDisk:
    """Makes the SQLite file ``path`` full (for every connection of this process) and frees it again."""

    def __init__(self, path: Path) -> None:
        self.path = str(path.resolve())
        self.full = False

    def _ours(self, dbapi_connection: Any) -> bool:
        return any(row[2] == self.path for row in dbapi_connection.execute("PRAGMA database_list"))

    def on_checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection) and self._ours(dbapi_connection):
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages if self.full else NO_LIMIT}")

    def fill(self) -> None:
        """No page may be added, and the free ones are taken by ballast."""
        self.full = True
        with sqlite3.connect(self.path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS ballast (b BLOB)")
            db.commit()
            db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0]}")
            for size in (4000, 1000, 100, 10, 1):
                try:
                    while True:
                        db.execute("INSERT INTO ballast VALUES (randomblob(?))", (size,))
                        db.commit()
                except sqlite3.OperationalError as exc:
                    assert "full" in str(exc)
                    db.rollback()

    def free(self) -> None:
        self.full = False
        with sqlite3.connect(self.path) as db:
            db.execute(f"PRAGMA max_page_count = {NO_LIMIT}")
            db.execute("DROP TABLE IF EXISTS ballast")


class FillAt:
    """A step observer: the disk becomes full just before ``step`` runs."""

    def __init__(self, disk: FullDisk, step: str) -> None:
        self.disk, self.step = disk, step

    def __call__(self, ctx: FlowContext, phase: StepPhase) -> None:
        if phase == "before" and ctx.step.id == self.step and not self.disk.full:
            self.disk.fill()


@pytest.fixture(scope="module")
def landscape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Landscape, Path]]:
    with Landscape.start(tmp_path_factory.mktemp("full-disk-landscape")) as land:
        yield land, land.write_manifest()


def _one_line_and_a_hint(output: str) -> list[str]:
    lines = [line for line in output.splitlines() if line.startswith(("egov:", "hint:"))]
    assert "Traceback" not in output and "sqlite3." not in output and "[SQL:" not in output
    return lines


def test_a_full_database_stops_the_flow_with_one_line_and_it_resumes_once_space_is_back(
        landscape: tuple[Landscape, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    land, manifest = landscape
    db = tmp_path / "flows.db"
    url = f"sqlite:///{db}"
    FlowStore.from_url(url).engine.dispose()  # the file exists, with its tables
    disk = FullDisk(db)
    event.listen(Pool, "checkout", disk.on_checkout)
    observer: StepObserver = FillAt(disk, "1")
    monkeypatch.setattr("harness.crash.crash_observer", lambda environ=None: observer)
    applications_before = len(land.applications())
    try:
        ran = CliRunner().invoke(cli, ["flow", "run", "--service", "school", "--flow-id", "full-1",
                                       "--manifest", str(manifest), "--db", url, "--out", str(tmp_path / "out")])
        assert ran.exit_code == EXIT_RETRYABLE, ran.output
        shown = _one_line_and_a_hint(ran.output)
        assert [line.split(":")[0] for line in shown] == ["egov", "hint"], ran.output
        assert "database or disk is full" in shown[0]
        assert "retryable" in shown[1] and "free space" in shown[1]
        assert isinstance(ran.exception, SystemExit)

        from procedure.store import FlowStoreError

        store = FlowStore.from_url(url)  # the store's own error, for a row that does not fit
        with pytest.raises(FlowStoreError, match="database or disk is full") as typed:
            store.step_failed(flow_id="full-1", step_id="1", error="x" * 50_000, now=dt.datetime.now(dt.UTC))
        assert typed.value.retryable and typed.value.code == "EGOV130"
        assert "x" * 100 not in str(typed.value)  # the statement's parameters are not in the message
        store.engine.dispose()

        disk.free()
        store = FlowStore.from_url(url)
        stopped = store.get_flow("full-1")
        assert stopped.status in (FlowStatus.RUNNING, FlowStatus.FAILED)  # committed up to a step, not past it
        store.engine.dispose()
        resumed = CliRunner().invoke(cli, ["flow", "resume", "full-1", "--manifest", str(manifest), "--db", url,
                                           "--out", str(tmp_path / "out")])
        assert resumed.exit_code == 0, resumed.output
    finally:
        event.remove(Pool, "checkout", disk.on_checkout)
    store = FlowStore.from_url(url)
    assert store.get_flow("full-1").status is FlowStatus.COMPLETED
    assert [r.step for r in store.history("full-1")][-1] == "11"
    store.engine.dispose()
    assert len(land.applications()) == applications_before + 1  # the step that failed did not apply twice


def _egov(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_")}
    environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + environ["PYTHONPATH"] if environ.get("PYTHONPATH") else "")
    return subprocess.run([*EGOV, *args], capture_output=True, text=True, timeout=60, env=environ, check=False)


@pytest.mark.parametrize("command", [["flow", "show", "some-flow"], ["journal", "tail"]])
def test_a_damaged_database_is_one_line_on_stderr_and_the_file_is_left_as_it_is(
        tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "egov.db"
    db.write_bytes(b"this is not a database" * 200)
    db.chmod(0o600)
    before = db.read_bytes()
    done = _egov(*command, "--db", f"sqlite:///{db}")
    assert done.returncode == EXIT_FINAL, done.stderr  # final: someone must repair the file first
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("egov: ") and lines[1].startswith("hint: "), done.stderr
    assert "file is not a database" in lines[0] and str(db) in lines[0]
    assert "Traceback" not in done.stderr
    assert db.read_bytes() == before
