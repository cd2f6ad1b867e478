"""Adapter of the state database "Legal Entities" (GBD UL), reached through the e-government gateway.

Requests are built with lxml in ``messages.py``, answers read with lxml in ``answers.py`` after the
document's signature and schema checks: the one way to build and the one way to read of every
adapter, chosen and explained in :mod:`adapters.egov_gateway`. GBD UL has no WSDL (its documents
travel inside the gateway's data), so the tests check them against ``schemas/gbdul/gbdul.xsd`` and
the register's own reader.
"""

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
