"""Scenarios: who applies for what, through which diagram, and what goes wrong (:class:`Fault`).

Each fault ends the flow at one refusal of the regulation (:meth:`Scenario.expected`). The faults
are played by the world and the actors, never by the procedure's steps (:mod:`harness.play`).
"""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, model_validator

from harness.actors import ApplicantActor, OfficerActor
from procedure.application import DIAGRAM_IDS, SERVICE_CODES, DiagramNumber
from procedure.models import FlowStatus, Operation, Service

__all__ = ["Expected", "Fault", "Scenario"]


class Fault(enum.StrEnum):
    """What goes wrong in a flow; each fault ends the flow at one refusal of the regulation."""

    NONE = "none"
    NOT_AUTHORISED = "not-authorised"              # C1: a mistyped password (applicant / employee)
    NOT_PAID = "not-paid"                          # D1 C2: the bank declines the payment
    CERT_EXPIRED = "cert-expired"                  # D1 C3: the signing certificate has expired
    CERT_REVOKED = "cert-revoked"                  # D1 C3: ... is revoked (OCSP says so)
    CERT_OTHER_BIN = "cert-other-bin"              # D1 C3: ... carries another organisation's BIN
    ABSENT_FROM_LE = "absent-from-le"              # D2 C2: BIN not in the Legal Entities database
    LIQUIDATED = "liquidated"                      # D2 C2: present, but liquidated
    QUALIFICATION_NOT_MET = "qualification-not-met"  # D1 C4 / D2 C3: incomplete documents

    def applies_to(self, diagram: int) -> bool:
        portal_only = {Fault.NOT_PAID, Fault.CERT_EXPIRED, Fault.CERT_REVOKED, Fault.CERT_OTHER_BIN}
        provider_only = {Fault.ABSENT_FROM_LE, Fault.LIQUIDATED}
        if diagram == 1:
            return self not in provider_only
        return self not in portal_only


# (diagram, fault) -> the step the flow must end at
_EXPECTED_END: dict[tuple[int, Fault], str] = {
    (1, Fault.NONE): "11",
    (1, Fault.NOT_AUTHORISED): "2",
    (1, Fault.NOT_PAID): "5",
    (1, Fault.CERT_EXPIRED): "7",
    (1, Fault.CERT_REVOKED): "7",
    (1, Fault.CERT_OTHER_BIN): "7",
    (1, Fault.QUALIFICATION_NOT_MET): "10",
    (2, Fault.NONE): "9",
    (2, Fault.NOT_AUTHORISED): "2",
    (2, Fault.ABSENT_FROM_LE): "5",
    (2, Fault.LIQUIDATED): "5",
    (2, Fault.QUALIFICATION_NOT_MET): "8",
}


class Expected(BaseModel):
    """Where a flow must end: its status and step."""

    model_config = ConfigDict(frozen=True)

    status: FlowStatus
    step: str


class Scenario(BaseModel):
    """One run: service, operation, diagram, the actors, the existing licence, the fault to play."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: Service
    operation: Operation = Operation.ISSUE
    diagram: DiagramNumber = 1
    fault: Fault = Fault.NONE
    applicant: ApplicantActor
    officer: OfficerActor
    licence_number: str | None = None
    """The existing licence a re-issue, duplicate or appendix is about."""

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if not self.fault.applies_to(self.diagram):
            raise ValueError(f"fault {self.fault.value!r} does not exist in Diagram {self.diagram}")
        if self.operation is not Operation.ISSUE and not self.licence_number:
            raise ValueError(f"operation {self.operation.value} needs the number of the existing licence")
        if self.operation is Operation.ISSUE and self.licence_number:
            raise ValueError("a new licence is not issued against an existing licence number")
        return self

    @property
    def service_code(self) -> str:
        return SERVICE_CODES[self.service]

    @property
    def diagram_id(self) -> str:
        return DIAGRAM_IDS[self.diagram]

    def expected(self) -> Expected:
        """Where the regulation's diagram ends for this fault."""
        step = _EXPECTED_END[(self.diagram, self.fault)]
        status = FlowStatus.REFUSED if self.fault is not Fault.NONE else FlowStatus.COMPLETED
        return Expected(status=status, step=step)
