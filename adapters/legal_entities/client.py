"""Client of the Legal Entities register (GBD UL) through the e-government gateway.

One look-up = one sync ``SendMessage`` under serviceId ``GbdulInfoByBin_v2`` (or
``GbdulInfoByIin_v2``). The request document is signed by us (enveloped XML-DSig, the
business-data signature) and the answer's signature is verified before anything is read from
it; the transport signature, retries, circuit breaker and journal are the gateway client's.

The request document is built with lxml (:mod:`adapters.legal_entities.messages`), the verified,
schema-checked answer read with lxml (:mod:`adapters.legal_entities.answers`) into a typed
:data:`LookupOutcome`: one way to build and one way to read, as in every adapter.

An answer is matched to its look-up twice: the gateway's answer to our messageId (the gateway
client), and the organisation the signed register document describes to the number asked for
(:func:`adapters.legal_entities.answers.require_answers`): a register answer about another
organisation, however validly signed, is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from adapters.contracts import schema_errors
from adapters.core.errors import IdentifierError, InvalidResponseError
from adapters.core.identifiers import parse_bin, parse_identifier, parse_iin
from adapters.core.trust.subject import SignerInfo
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.legal_entities import answers, messages
from adapters.legal_entities.errors import RegisterError, RequestorRefusedError
from adapters.legal_entities.models import (
    Found,
    Inactive,
    InvalidBin,
    Liquidated,
    LookupOutcome,
    NotFound,
    RegistrationStatus,
)

SYSTEM = "legal_entities"
"""How the journal, the metrics and the circuit breakers name the register (reached through the gateway)."""

if TYPE_CHECKING:
    from adapters.egov_gateway import GatewayClient


class LegalEntitiesClient:
    """Look-ups in the Legal Entities register. Thread-safe; build once.

    ``requestor_bin`` is our BIN (``settings.requestor_bin``); ``expect_register_bin``, when set,
    is the BIN the register's signing certificate must carry. ``validate_locally`` answers
    :class:`InvalidBin` for a number with a wrong check digit without a network round trip.
    """

    def __init__(self, gateway: GatewayClient, *, signer: SigningService, verifier: VerificationService,
                 requestor_bin: str, expect_register_bin: str | None = None, validate_locally: bool = True) -> None:
        self.requestor_bin = parse_bin(requestor_bin, "requestor_bin").value
        self._gateway = gateway
        self._signer = signer
        self._verifier = verifier
        self._expect_bin = expect_register_bin
        self._validate_locally = validate_locally

    def lookup_bin(self, bin_value: str, *, correlation_id: str | None = None) -> LookupOutcome:
        """The organisation registered under ``bin_value`` (a sole proprietor's IIN is accepted too)."""
        if self._validate_locally:
            try:
                parse_identifier(bin_value, "BIN")
            except IdentifierError as exc:
                return InvalidBin(number=str(bin_value), reason=exc.reason)
        return self._lookup(messages.SERVICE_ID_BY_BIN, "BIN", bin_value, correlation_id)

    def lookup_iin(self, iin: str, *, correlation_id: str | None = None) -> LookupOutcome:
        """The sole proprietor registered by the individual ``iin``."""
        if self._validate_locally:
            try:
                parse_iin(iin, "IIN")
            except IdentifierError as exc:
                return InvalidBin(number=str(iin), reason=exc.reason)
        return self._lookup(messages.SERVICE_ID_BY_IIN, "IIN", iin, correlation_id)

    # ------------------------------------------------------------------ one exchange

    def _lookup(self, service_id: str, by: str, number: str, correlation_id: str | None) -> LookupOutcome:
        request = messages.lookup_request(self.requestor_bin, number, by=by)
        signed = parse_xml(self._signer.sign_document(request), what="signed GBD UL request")
        answer = self._gateway.send_message(service_id, signed, correlation_id=correlation_id, idempotent=True,
                                            system=SYSTEM)
        if answer.data is None:
            raise InvalidResponseError(f"{service_id}: the gateway answer carries no data", field="responseData")
        verified = self._verifier.verify_document(etree.tostring(answer.data), expect_bin=self._expect_bin)
        errors = schema_errors(answers.GBDUL_XSD, verified.root)
        if errors:
            raise InvalidResponseError(f"GBD UL response does not match gbdul.xsd: {errors[0]}", field="Response",
                                       service=service_id)
        return self._outcome(verified.root, number, verified.signer, by)

    def _outcome(self, root: etree._Element, number: str, signer: SignerInfo, by: str) -> LookupOutcome:
        code, name_ru, _ = answers.read_status(root)
        if code == "01":
            return NotFound(number=number, signer=signer, message=name_ru)
        if code == "02":
            return InvalidBin(number=number, signer=signer, reason=name_ru)
        if code == "03":
            raise RequestorRefusedError(f"the register refuses RequestorBIN {self.requestor_bin}: {name_ru}",
                                        setting="requestor_bin")
        if code != "00":
            raise RegisterError(f"Legal Entities register error {code}: {name_ru}", status=code)
        organisation = answers.read_organisation(root)
        if organisation is None:
            raise InvalidResponseError("GBD UL status 00 without an Organization", field="Organization")
        answers.require_answers(organisation, number, by=by)
        if organisation.status is RegistrationStatus.LIQUIDATED:
            return Liquidated(number=number, signer=signer, organisation=organisation)
        if organisation.status is RegistrationStatus.INACTIVE:
            return Inactive(number=number, signer=signer, organisation=organisation)
        return Found(number=number, signer=signer, organisation=organisation)
