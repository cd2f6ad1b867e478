"""What the portal talks to: E-licensing, the payment gateway and the Legal Entities register
through the project's adapters (``procedure.clients.ProcedureClients``), the applicants' bank, the
state fee, and the trust that checks the head's signature on a decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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

    @classmethod
    def attach(cls, manifest: str | Path, *, clock: Clock = SYSTEM_CLOCK) -> PortalBackends:
        """The backends of the landscape described by ``manifest`` (``egov sim up`` writes it)."""
        from harness.landscape import Landscape

        land = Landscape.attach(manifest, clock=clock)
        return cls(ProcedureClients(land.endpoints, clock=clock), land.bank, clock=clock)

    def close(self) -> None:
        self.clients.close()
