"""What the portal talks to: E-licensing, the payment gateway and the Legal Entities register
through the project's adapters (``procedure.clients.ProcedureClients``), the applicants' bank, the
state fee, and the trust that checks the head's signature on a decision."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.core.clock import SYSTEM_CLOCK, Clock
from procedure.clients import ProcedureClients
from procedure.fees import Fees
from procedure.ports import ApplicantBank


@dataclass
class PortalBackends:
    clients: ProcedureClients
    bank: ApplicantBank
    """Pays a fee order when the applicant pays through the payment gateway."""
    fees: Fees = field(default_factory=Fees)
    clock: Clock = SYSTEM_CLOCK

    def close(self) -> None:
        self.clients.close()
