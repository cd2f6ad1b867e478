"""Running the checks: each one timed, its verdict and what it saw kept in the :class:`Report`.

A check passes when it returns (it says what it saw), fails with :class:`CheckFailed` (what it
expected, what it saw), or with any :class:`EgovError` of the adapters (the pipeline refused the
answer: its type, code and message are what was seen); :class:`CheckSkipped` judges nothing.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Sequence

from adapters.core.errors import EgovError, RetriesExhaustedError
from conformance.gateway import GATEWAY_CHECKS
from conformance.probe import Probe
from conformance.report import CheckFailed, CheckResult, CheckSkipped, Report
from conformance.systems import ELICENSE_CHECKS, LEGAL_ENTITIES_CHECKS, PAYMENT_CHECKS

__all__ = ["CHECKS", "Check", "run_conformance"]

Check = Callable[[Probe], str]

CHECKS: dict[str, tuple[tuple[str, Check], ...]] = {
    "gateway": GATEWAY_CHECKS + LEGAL_ENTITIES_CHECKS,  # the register is reached through the gateway
    "payment": PAYMENT_CHECKS,
    "elicense": ELICENSE_CHECKS,
}
"""The checks of each system, in the order they run."""


def _endpoint(probe: Probe, system: str) -> str:
    e = probe.endpoints
    return {"gateway": e.gateway_url, "payment": e.payment_gateway_url, "elicense": e.elicense_url}[system]


def run_one(probe: Probe, system: str, name: str, check: Check) -> CheckResult:
    started = time.monotonic()
    try:
        detail, verdict = check(probe), "passed"
    except CheckFailed as failed:
        detail, verdict = f"expected {failed.expected}; seen {failed.seen}", "failed"
    except CheckSkipped as skipped:
        detail, verdict = str(skipped), "skipped"
    except EgovError as exc:
        # the probe makes one attempt per call: name the endpoint's refusal, not the retry wrapper
        seen = exc.last if isinstance(exc, RetriesExhaustedError) else exc
        detail, verdict = f"seen {type(seen).__name__} {seen.code}: {seen.message}", "failed"
    except Exception as exc:
        detail, verdict = f"the check could not run: {type(exc).__name__}: {exc}", "failed"
    return CheckResult(name=name, system=name.split(".", 1)[0], verdict=verdict,  # type: ignore[arg-type]
                       detail=detail, seconds=time.monotonic() - started, endpoint=_endpoint(probe, system))


def run_conformance(probe: Probe, systems: Sequence[str], *, only: Sequence[str] = (),
                    on_result: Callable[[CheckResult], None] | None = None) -> Report:
    """Run the checks of ``systems`` (those whose names match a pattern of ``only``, when given)."""
    report = Report()
    for system in systems:
        for name, check in CHECKS[system]:
            if only and not any(fnmatch.fnmatchcase(name, pattern) for pattern in only):
                continue
            result = run_one(probe, system, name, check)
            report.results.append(result)
            if on_result is not None:
                on_result(result)
    return report
