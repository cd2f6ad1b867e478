"""Scale drill helpers: ``egov serve`` and ``egov worker`` as real processes over one PostgreSQL and
one Redis, and the checks of the simulators' state and journals after the flows ended.

Each process is a fresh interpreter (``egov`` of this checkout) with the drill's ``EGOV_*``
settings only; its stdout and stderr go to files in the drill's directory (printed on failure).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.drills.crash import EGOV, _clean_env
from tests.fixtures.control import control_session

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EgovProcess:
    """One ``egov`` command running in the background."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    url: str | None = None
    _files: list[Any] = field(default_factory=list)

    @property
    def out(self) -> Path:
        return self.workdir / f"{self.name}.out"

    @property
    def err(self) -> Path:
        return self.workdir / f"{self.name}.err"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> EgovProcess:
        out, err = self.out.open("wb"), self.err.open("wb")
        self._files = [out, err]
        self.process = subprocess.Popen([*EGOV, *self.args], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                        env=self.env, cwd=self.workdir)
        return self

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> None:
        """Until ``text`` is in the process's stdout (its start-up line)."""
        deadline = time.monotonic() + timeout
        while text not in self.out.read_text(errors="replace"):
            assert self.process is not None
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not start:\n{self.describe()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, timeout: float = 40.0) -> int:
        """SIGTERM and wait (SIGKILL past ``timeout``); the exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for f in self._files:
            f.close()
        return int(self.process.returncode)

    def describe(self) -> str:
        rc = self.process.poll() if self.process is not None else None
        return (f"--- {self.name} (rc={rc})\n{self.out.read_text(errors='replace')[-2000:]}\n"
                f"--- stderr\n{self.err.read_text(errors='replace')[-4000:]}")


def drill_env(settings: Mapping[str, str]) -> dict[str, str]:
    """A fresh interpreter's environment: the test's, without its EGOV_*, plus ``settings``."""
    return {**_clean_env(), **settings}


def serve(name: str, workdir: Path, settings: Mapping[str, str]) -> EgovProcess:
    port = free_port()
    proc = EgovProcess(name, ("serve", "--host", "127.0.0.1", "--port", str(port)), drill_env(settings), workdir)
    proc.url = f"http://127.0.0.1:{port}"
    return proc.start()


def worker(name: str, workdir: Path, settings: Mapping[str, str]) -> EgovProcess:
    return EgovProcess(name, ("worker",), drill_env(settings), workdir).start()


@contextlib.contextmanager
def running(processes: list[EgovProcess]) -> Iterator[list[EgovProcess]]:
    """Stop every process at the end (the ones still running), whatever happened."""
    try:
        yield processes
    finally:
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.stop(timeout=20)


def journal_of(control_url: str | None, token: str | None, limit: int = 10_000) -> list[dict[str, Any]]:
    """A simulator's request journal (``<control URL>/journal``), asked with the landscape's control token."""
    assert control_url is not None
    with control_session(token) as session:
        answer = session.get(control_url.rstrip("/") + "/journal", params={"limit": limit}, timeout=30)
    answer.raise_for_status()
    body = answer.json()
    return list(body["entries"] if isinstance(body, dict) else body)


def flows_held_by(engine: Any, pid: int) -> list[str]:
    """Flows whose claim process ``pid`` holds now (owners are ``host:pid:task``)."""
    from sqlalchemy import select

    from workers.claims import claims_table

    with engine.connect() as conn:
        owners = conn.execute(select(claims_table.c.flow_id, claims_table.c.owner)
                              .where(claims_table.c.owner.is_not(None))).all()
    return [str(flow_id) for flow_id, owner in owners if int(str(owner).split(":")[1]) == pid]
