"""Starting the Legal Entities register in a landscape, and its config section (``legal_entities``)."""

from __future__ import annotations

from pathlib import Path

from adapters.core.errors import ConfigurationError
from adapters.core.xmlsig import SigningService
from simulators.context import RunningSimulator, SimContext
from simulators.identities import REGISTER_BIN, SYSTEM_IIN
from simulators.legal_entities.backend import LegalEntitiesBackend
from simulators.legal_entities.state import LegalEntitiesState
from simulators.pki.trust import system_key, verification
from simulators.sections import SectionConfig


class LegalEntitiesConfig(SectionConfig):
    fixtures: Path | None = None
    """JSON fixtures file replacing the packaged one (``simulators/legal_entities/fixtures``)."""


def start_legal_entities(ctx: SimContext) -> RunningSimulator:
    """The Legal Entities register behind the gateway (``GbdulInfoByBin_v2``, ``GbdulInfoByIin_v2``)."""
    pki = ctx.needs("pki", "legal_entities")
    gateway = ctx.needs("gateway", "legal_entities")
    options = ctx.options("legal_entities", LegalEntitiesConfig)
    if options.fixtures is not None:
        fixtures = ctx.path(options.fixtures)
        if not fixtures.is_file():
            raise ConfigurationError(f"Legal Entities fixtures file not found: {fixtures}",
                                     setting="legal_entities.fixtures")
        state = LegalEntitiesState(fixtures)
    else:
        state = LegalEntitiesState()
    key = system_key(pki, SYSTEM_IIN, REGISTER_BIN, "LEGAL ENTITIES REGISTER (SIMULATOR)")
    backend = LegalEntitiesBackend(state, signer=SigningService(key, clock=ctx.clock),
                                   verifier=verification(pki, ctx.clock), expect_requestor_bin=True)
    backend.register(gateway)
    return RunningSimulator("legal_entities", {"control": f"{gateway.url}/_control/legal-entities"},
                            lambda: None, backend)
