"""The crash drill's step observer: SIGKILL this process at a chosen point of a flow.

``EGOV_FLOW_CRASH_AT=<step id>[:before|:after]`` names the point: just before the step's
implementation runs, or just after it returned (before the step is recorded as finished). The
``egov flow`` commands add :func:`crash_observer` to their runners; the procedure itself never
reads the variable. Never set it in production.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping

from adapters.core.errors import ConfigurationError
from procedure.machine import FlowContext, StepObserver, StepPhase

__all__ = ["CRASH_ENV", "CrashAt", "crash_observer", "crash_point"]

CRASH_ENV = "EGOV_FLOW_CRASH_AT"
"""``<step id>[:before|:after]``: SIGKILL the process at that point of a flow."""


def crash_point(spec: str | None) -> tuple[str, StepPhase] | None:
    """Parse ``EGOV_FLOW_CRASH_AT``: ``"C4"`` → ("C4", "before"), ``"4:after"`` → ("4", "after")."""
    if not spec:
        return None
    step, _, when = spec.partition(":")
    when = when or "before"
    if when == "before" and step:
        return step, "before"
    if when == "after" and step:
        return step, "after"
    raise ConfigurationError(f"{CRASH_ENV}={spec!r}: expected <step id>[:before|:after]", setting=CRASH_ENV)


def _sigkill() -> None:  # pragma: no cover - the process ends here
    os.kill(os.getpid(), signal.SIGKILL)


class CrashAt:
    """A step observer that ends the process (``die``: SIGKILL) at ``step``, ``when``."""

    def __init__(self, step: str, when: StepPhase, *, die: Callable[[], None] = _sigkill) -> None:
        self.step = step
        self.when = when
        self.die = die

    def __call__(self, ctx: FlowContext, phase: StepPhase) -> None:
        if phase == self.when and ctx.step.id == self.step:
            self.die()


def crash_observer(environ: Mapping[str, str] | None = None) -> StepObserver | None:
    """The observer ``EGOV_FLOW_CRASH_AT`` asks for (``environ``: default the process's), or None."""
    point = crash_point((os.environ if environ is None else environ).get(CRASH_ENV))
    return CrashAt(*point) if point is not None else None
