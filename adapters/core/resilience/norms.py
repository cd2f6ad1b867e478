"""The regulation's step norms, used as default per-call timeouts.

The licensing regulation (Order No. 467, see ``/work/shared/spec/REGULATION.md``) gives a time norm
for every step of its two diagrams. A step that is an exchange between systems must not take
longer than its norm, so the norm is the natural default timeout of that exchange. Where the
regulation gives a range ("10–15 s") the upper bound is the timeout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["DEFAULT_TIMEOUTS", "FALLBACK_TIMEOUT", "STEP_NORMS", "StepNorm", "default_timeout", "step_norm"]


@dataclass(frozen=True)
class StepNorm:
    """One step of a diagram of the regulation and its time norm."""

    diagram: int
    """1: service through the portal; 2: service through the provider's employee."""
    step: int
    """Step number inside the diagram."""
    what: str
    """What happens in the step (short)."""
    min_seconds: float
    """Lower bound of the norm (equal to ``max_seconds`` when the norm is a single value)."""
    max_seconds: float
    """Upper bound of the norm: the default timeout of an exchange implementing the step."""


STEP_NORMS: tuple[StepNorm, ...] = (
    StepNorm(1, 1, "applicant authorises on the portal with EDS certificate and password", 10, 15),
    StepNorm(1, 2, "portal refuses authorisation", 20, 20),
    StepNorm(1, 3, "applicant fills the application form and attaches documents", 90, 90),
    StepNorm(1, 4, "payment through the payment gateway reaches E-licensing", 90, 90),
    StepNorm(1, 5, "portal refuses: no payment for the service", 10, 15),
    StepNorm(1, 6, "applicant selects the EDS certificate to sign the request", 10, 15),
    StepNorm(2, 1, "provider employee logs in to E-licensing", 10, 15),
    StepNorm(2, 2, "E-licensing refuses authorisation", 10, 10),
    StepNorm(2, 3, "provider employee enters the applicant's data", 90, 90),
    StepNorm(2, 4, "request to the Legal Entities database through the gateway", 90, 90),
    StepNorm(2, 5, "E-licensing reports that the applicant is absent from the Legal Entities database", 90, 90),
    StepNorm(2, 6, "provider employee attaches scanned paper documents", 10, 15),
)


def step_norm(diagram: int, step: int) -> StepNorm:
    """The norm of one step; ``KeyError`` naming the step when the regulation has none."""
    for norm in STEP_NORMS:
        if norm.diagram == diagram and norm.step == step:
            return norm
    raise KeyError(f"the regulation gives no norm for diagram {diagram} step {step}")


FALLBACK_TIMEOUT: float = step_norm(1, 1).max_seconds
"""Timeout of an exchange the regulation does not name: the short "10–15 s" norm."""

_T = {(n.diagram, n.step): n.max_seconds for n in STEP_NORMS}

#: (system, operation) -> default timeout in seconds. ``"*"`` is the system's default operation.
DEFAULT_TIMEOUTS: Mapping[tuple[str, str], float] = MappingProxyType({
    # Diagram 2 step 4: request for the applicant's data to the Legal Entities DB through the gateway
    ("legal_entities", "lookup"): _T[(2, 4)],
    ("legal_entities", "*"): _T[(2, 4)],
    ("egov_gateway", "send_sync"): _T[(2, 4)],
    ("egov_gateway", "send_async"): _T[(2, 4)],
    ("egov_gateway", "*"): _T[(2, 4)],
    # Diagram 1 step 4: payment, whose information then reaches E-licensing
    ("payment_gateway", "payment"): _T[(1, 4)],
    ("payment_gateway", "*"): _T[(1, 4)],
    # Diagram 1 step 5 (refusal for no payment) follows the payment check: 10–15 s
    ("payment_gateway", "check_payment"): _T[(1, 5)],
    # E-licensing: registration and signing steps are 10–15 s (D1 s6, D2 s6); D2 s5 message 1.5 min
    ("elicense", "sign"): _T[(1, 6)],
    ("elicense", "attach_documents"): _T[(2, 6)],
    ("elicense", "report_absent"): _T[(2, 5)],
    ("elicense", "*"): _T[(1, 6)],
    # authorisation steps (portal D1 s1, E-licensing D2 s1) and their refusals (D1 s2, D2 s2)
    ("auth", "login"): _T[(1, 1)],
    ("auth", "portal_refusal"): _T[(1, 2)],
    ("auth", "refusal"): _T[(2, 2)],
})


def default_timeout(system: str, operation: str) -> float:
    """Default timeout for ``operation`` on ``system``: the exact entry, else the system's, else 15 s."""
    for key in ((system, operation), (system, "*")):
        if key in DEFAULT_TIMEOUTS:
            return DEFAULT_TIMEOUTS[key]
    return FALLBACK_TIMEOUT
