"""Simulator of the state database "Legal Entities" (GBD UL), a backend of the gateway simulator."""

from simulators.legal_entities.backend import SERVICE_ID_BY_BIN, SERVICE_ID_BY_IIN, LegalEntitiesBackend
from simulators.legal_entities.records import OrganisationRecord
from simulators.legal_entities.state import DEFAULT_FIXTURES, LegalEntitiesState, load_fixtures

__all__ = [
    "DEFAULT_FIXTURES",
    "SERVICE_ID_BY_BIN",
    "SERVICE_ID_BY_IIN",
    "LegalEntitiesBackend",
    "LegalEntitiesState",
    "OrganisationRecord",
    "load_fixtures",
]
