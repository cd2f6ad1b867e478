"""Adapter of the state database "Legal Entities" (GBD UL), reached through the e-government gateway."""

from adapters.legal_entities.client import LegalEntitiesClient
from adapters.legal_entities.errors import RegisterError, RequestorRefusedError
from adapters.legal_entities.messages import SERVICE_ID_BY_BIN, SERVICE_ID_BY_IIN
from adapters.legal_entities.models import (
    Activity,
    Address,
    Found,
    Inactive,
    InvalidBin,
    Leader,
    Liquidated,
    LookupOutcome,
    NotFound,
    Organisation,
    RegistrationStatus,
)

__all__ = [
    "SERVICE_ID_BY_BIN",
    "SERVICE_ID_BY_IIN",
    "Activity",
    "Address",
    "Found",
    "Inactive",
    "InvalidBin",
    "Leader",
    "LegalEntitiesClient",
    "Liquidated",
    "LookupOutcome",
    "NotFound",
    "Organisation",
    "RegisterError",
    "RegistrationStatus",
    "RequestorRefusedError",
]
