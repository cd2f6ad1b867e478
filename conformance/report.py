"""What a conformance run found: one :class:`CheckResult` per check, and the :class:`Report`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CheckFailed", "CheckResult", "Report", "Verdict", "expect"]

Verdict = Literal["passed", "failed", "skipped"]


class CheckFailed(Exception):
    """A check saw something else than the contract says: what it expected and what it saw."""

    def __init__(self, expected: str, seen: str) -> None:
        super().__init__(f"expected {expected}; seen {seen}")
        self.expected = expected
        self.seen = seen


class CheckSkipped(Exception):
    """The endpoint does not offer what the check needs (e.g. no ``?wsdl``): nothing to judge."""


def expect(condition: bool, expected: str, seen: object) -> None:
    """Fail the check unless ``condition``, saying what was expected and what was seen."""
    if not condition:
        raise CheckFailed(expected, str(seen))


@dataclass(frozen=True)
class CheckResult:
    """One check against one endpoint."""

    name: str
    """``<system>.<what>``, e.g. ``gateway.status.unknown-service``."""
    system: str
    verdict: Verdict
    detail: str
    """What was seen (passed), what was expected and seen (failed), or why it was skipped."""
    seconds: float
    endpoint: str

    def line(self) -> str:
        mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[self.verdict]
        return f"{mark} {self.name:<38} {self.detail}"


@dataclass
class Report:
    """Every check of a run, in the order they ran."""

    results: list[CheckResult] = field(default_factory=list)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.verdict == "failed"]

    @property
    def passed(self) -> bool:
        """True when no check failed (skipped checks judge nothing)."""
        return not self.failed and any(r.verdict == "passed" for r in self.results)

    def summary(self) -> str:
        counts = {v: sum(r.verdict == v for r in self.results) for v in ("passed", "failed", "skipped")}
        return f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
