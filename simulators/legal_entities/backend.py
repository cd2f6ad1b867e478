"""The Legal Entities simulator as a backend of the gateway simulator.

Registered under ``GbdulInfoByBin_v2`` (look-up by BIN) and ``GbdulInfoByIin_v2`` (sole
proprietor by the individual's IIN)::

    backend = LegalEntitiesBackend(LegalEntitiesState(), signer=SigningService(key))
    backend.register(gateway_sim)

Business outcomes travel in the GBD UL ``Status`` (00 found, 01 not found, 02 invalid number,
03 invalid requestor), with gateway status SCSS001: the gateway delivered the message, the
register answered. A request the register cannot read is a gateway-level error (SCE001); a
business-data signature that does not verify raises ``SignatureRefused``, which the gateway maps
to SCE015/SCE016/SCE017.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lxml import etree

from adapters.core.errors import IdentifierError
from adapters.core.identifiers import parse_bin, parse_identifier, parse_iin
from adapters.core.xmlparse import parse_xml
from simulators.legal_entities import wire
from simulators.legal_entities.control import install_register_control
from simulators.legal_entities.records import OrganisationRecord
from simulators.legal_entities.state import LegalEntitiesState

if TYPE_CHECKING:
    from adapters.core.xmlsig import SigningService, VerificationService
    from simulators.egov_gateway import BackendRequest, BackendResponse

log = logging.getLogger(__name__)

SERVICE_ID_BY_BIN = "GbdulInfoByBin_v2"
SERVICE_ID_BY_IIN = "GbdulInfoByIin_v2"


class LegalEntitiesBackend:
    """Answers GBD UL look-ups from a :class:`LegalEntitiesState`.

    ``signer`` signs every response (enveloped XML-DSig over ``Response``); ``verifier``, when
    given, checks the request's business-data signature (and, with ``expect_requestor_bin``,
    that the signer's certificate carries the RequestorBIN).
    """

    def __init__(self, state: LegalEntitiesState | None = None, *, signer: SigningService | None = None,
                 verifier: VerificationService | None = None, expect_requestor_bin: bool = False) -> None:
        self.state = state or LegalEntitiesState()
        self.signer = signer
        self.verifier = verifier
        self.expect_requestor_bin = expect_requestor_bin
        self.requests: list[wire.LookupRequest] = []

    def register(self, gateway: Any, *, control: bool = True) -> None:
        """Register under both service ids on a ``GatewaySimulator``; with ``control``, mount the
        register's control API (``/_control/legal-entities``) on the gateway's router."""
        gateway.register_backend(SERVICE_ID_BY_BIN, self)
        gateway.register_backend(SERVICE_ID_BY_IIN, self)
        if control:
            install_register_control(gateway.router, self.state)

    def reset(self) -> None:
        self.state.reset()
        self.requests.clear()

    # ------------------------------------------------------------------ gateway backend protocol

    def handle(self, request: BackendRequest) -> BackendResponse:
        from simulators.egov_gateway import BackendResponse

        data = request.data
        if data is None:
            return BackendResponse(None, status_code="SCE001", status_message="requestData/data is empty")
        try:
            lookup = wire.read_request(data)
        except ValueError as exc:
            return BackendResponse(None, status_code="SCE001", status_message=str(exc)[:250])
        if self.verifier is not None:
            # a refusal propagates: the gateway maps it to SCE015/SCE016/SCE017
            self.verifier.verify_document(
                etree.tostring(data), expect_bin=lookup.requestor_bin if self.expect_requestor_bin else None)
        self.requests.append(lookup)
        return BackendResponse(self._sign(self.answer(lookup)))

    # ------------------------------------------------------------------ business logic

    def answer(self, lookup: wire.LookupRequest) -> etree._Element:
        """The unsigned ``Response`` for a look-up."""
        try:
            parse_bin(lookup.requestor_bin, "RequestorBIN")
        except IdentifierError as exc:
            return wire.build_response("03", detail=exc.reason)
        found: OrganisationRecord | None
        try:
            if lookup.kind == "IIN":
                parse_iin(lookup.number, "IIN")
                found = self.state.find_by_iin(lookup.number)
            else:
                # a sole proprietor registered under an IIN is found by that number too
                parse_identifier(lookup.number, "BIN")
                found = self.state.get(lookup.number)
        except IdentifierError as exc:
            return wire.build_response("02", detail=exc.reason)
        if found is None:
            return wire.build_response("01")
        return wire.build_response("00", found)

    def _sign(self, response: etree._Element) -> etree._Element:
        if self.signer is None:
            return response
        return parse_xml(self.signer.sign_document(response), what="signed GBD UL response")
