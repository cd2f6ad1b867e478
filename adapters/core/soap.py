"""SOAP 1.1 envelopes and the one response pipeline, written down once.

Every SOAP answer an adapter receives goes through :class:`ResponsePipeline`, in this order:

1. **HTTP status**: an empty 2xx body is a transport failure (retryable); a status ≥ 400 is
   an :class:`HttpStatusError` *unless* its body is a SOAP Fault (SOAP 1.1 sends Faults with 500);
2. **XML**: parsed with the hardened parser; broken XML is an :class:`InvalidResponseError`;
3. **SOAP Fault**: mapped to a typed error by the caller's fault mapper, before any signature
   check (zeep checks signatures first and hides Faults, issue 1197);
4. **signature**: the transport signature is verified (coverage and freshness included) and the
   Body *that was verified* is used from here on; a refusal is a :class:`ResponseRefusedError`;
5. **schema**: the Body's payload is validated against the packaged schema;
6. **model**: the caller turns the validated payload into its model;
7. **match**: the caller checks that the answer is the answer to its request (:func:`require_match`:
   the ids the contract carries, echoed from the request), so that a replayed answer, however
   validly signed, is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lxml import etree

from adapters.core.errors import (
    EgovError,
    HttpStatusError,
    InvalidResponseError,
    MismatchedAnswerError,
    RefusalReason,
    SignatureRefused,
    SoapFaultError,
    TransportError,
    XmlError,
)
from adapters.core.http import HttpResult
from adapters.core.xmlparse import DEFAULT_MAX_BYTES, NS, parse_xml
from adapters.core.xmlsig.wsse import format_time

SOAP_ENV = NS["soap"]

SchemaCheck = Callable[[etree._Element], list[str]]
"""Validates a payload against its contract's schema; returns the errors (empty when valid)."""
_Q_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_Q_HEADER = f"{{{SOAP_ENV}}}Header"
_Q_BODY = f"{{{SOAP_ENV}}}Body"
_NSMAP = {"soap": SOAP_ENV}
_SIGNED_NSMAP = {"wsu": NS["wsu"], "soap": SOAP_ENV}
_Q_FAULT = f"{{{SOAP_ENV}}}Fault"


# --------------------------------------------------------------------------- envelope helpers

def build_envelope(payload: etree._Element | None, *, header: Sequence[etree._Element] = (),
                   declare_wsu: bool = False) -> etree._Element:
    """A SOAP 1.1 envelope holding ``payload`` in its Body (and ``header`` blocks, if any).

    ``declare_wsu``: for an envelope that will be signed, ``xmlns:wsu`` is declared up front, where
    the signer would add it: the signer otherwise serialises and re-parses the whole envelope to
    declare it (:func:`adapters.core.xmlsig.signer.declare_wsu`)."""
    env = etree.Element(_Q_ENVELOPE, nsmap=_SIGNED_NSMAP if declare_wsu else _NSMAP)
    if header:
        hdr = etree.SubElement(env, _Q_HEADER)
        for block in header:
            hdr.append(block)
    body = etree.SubElement(env, _Q_BODY)
    if payload is not None:
        body.append(payload)
    return env


def serialize(envelope: etree._Element) -> bytes:
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def body_of(envelope: etree._Element, *, what: str = "message") -> etree._Element:
    """The one soap:Body of an envelope (refuses anything else)."""
    if envelope.tag != _Q_ENVELOPE:
        raise InvalidResponseError(f"{what}: root element is {envelope.tag}, not a SOAP 1.1 Envelope",
                                   field="Envelope")
    bodies = envelope.findall(_Q_BODY)
    if len(bodies) != 1:
        raise InvalidResponseError(f"{what}: expected one soap:Body, found {len(bodies)}", field="Body")
    return bodies[0]


def payload_of(body: etree._Element, *, what: str = "message") -> etree._Element:
    """The single element child of a soap:Body."""
    children = [c for c in body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise InvalidResponseError(f"{what}: soap:Body must hold exactly one element, found {len(children)}",
                                   field="Body")
    return children[0]


@dataclass(frozen=True)
class SoapFault:
    """A SOAP 1.1 Fault as received."""

    code: str
    string: str
    actor: str | None = None
    detail: etree._Element | None = None
    """The first element inside ``detail`` (e.g. the gateway's ErrorInfo), if any."""


def find_fault(envelope: etree._Element) -> SoapFault | None:
    body = envelope.find(_Q_BODY)
    if body is None:
        return None
    fault = body.find(_Q_FAULT)
    if fault is None:
        return None
    detail = fault.find("detail")
    first = None
    if detail is not None:
        elements = [c for c in detail if isinstance(c.tag, str)]
        first = elements[0] if elements else None
    return SoapFault(code=(fault.findtext("faultcode") or "").strip(),
                     string=(fault.findtext("faultstring") or "").strip(),
                     actor=fault.findtext("faultactor"), detail=first)


def build_fault(code: str, string: str, *, detail: etree._Element | None = None,
                actor: str | None = None) -> etree._Element:
    """A SOAP 1.1 Fault envelope; ``code`` like ``soap:Server`` or ``soap:Client``."""
    fault = etree.Element(_Q_FAULT)
    etree.SubElement(fault, "faultcode").text = code
    etree.SubElement(fault, "faultstring").text = string
    if actor:
        etree.SubElement(fault, "faultactor").text = actor
    if detail is not None:
        etree.SubElement(fault, "detail").append(detail)
    return build_envelope(fault)


def xml_datetime(value: dt.datetime) -> str:
    """xsd:dateTime in UTC with milliseconds, e.g. ``2024-05-01T10:00:00.000Z`` (the WS-Security form)."""
    return format_time(value)


# --------------------------------------------------------------------------- pipeline

_PLAIN_PARSE_MAX_BYTES = 50_000
"""libxml2's name-length limit without ``huge_tree``: a smaller document cannot reach it."""
_PLAIN_PARSE_MAX_DEPTH = 256
"""libxml2's nesting limit without ``huge_tree``."""


def verifier_input(raw: bytes, envelope: etree._Element, *, parsed_huge: bool) -> bytes | etree._Element:
    """What to hand ``verify_envelope``: the envelope already parsed, rather than the bytes again.

    The element is handed over only when the verifier's own parse of ``raw`` (hardened, with or
    without ``allow_huge``) is certain to give the same tree, so that every refusal stays what
    it was: ``raw`` was parsed without ``huge_tree`` (the strictest settings), or it is too small
    and has too few elements to reach any limit that ``huge_tree`` lifts (size, name length,
    nesting depth). Otherwise the bytes are passed, and the verifier parses them as before.
    """
    if not parsed_huge and len(raw) <= DEFAULT_MAX_BYTES:
        return envelope
    if len(raw) <= _PLAIN_PARSE_MAX_BYTES and raw.count(b"<") <= _PLAIN_PARSE_MAX_DEPTH:
        return envelope
    return raw


class EnvelopeVerifier(Protocol):
    """What the pipeline needs from ``adapters.core.xmlsig.VerificationService``."""

    def verify_envelope(self, data: bytes | etree._Element, **kwargs: Any) -> Any: ...


class ResponseRefusedError(InvalidResponseError):
    """The answer's transport signature was refused (tampered, unsigned, expired, untrusted...).

    ``reason`` is the :class:`RefusalReason`. Retryable when a fresh copy may pass (the gateway
    re-signs the deduplicated answer): digest or signature mismatch, missing signature or
    Timestamp, stale Timestamp, unknown revocation status. Final when the signer itself is not
    acceptable (untrusted chain, expired or revoked certificate, wrong usage, role or BIN).
    """

    code = "EGOV408"

    RETRYABLE_REASONS = frozenset({
        RefusalReason.MALFORMED, RefusalReason.MISSING_SIGNATURE, RefusalReason.DIGEST_MISMATCH,
        RefusalReason.SIGNATURE_MISMATCH, RefusalReason.REFERENCE_COVERAGE, RefusalReason.WRAPPING,
        RefusalReason.TIMESTAMP_MISSING, RefusalReason.TIMESTAMP_EXPIRED, RefusalReason.TIMESTAMP_FUTURE,
        RefusalReason.REVOCATION_UNKNOWN,
    })

    def __init__(self, refusal: SignatureRefused, *, what: str = "response", **context: Any) -> None:
        super().__init__(f"{what} refused: {refusal.message}",
                         retryable=refusal.reason in self.RETRYABLE_REASONS,
                         reason=refusal.reason.value, **context)
        self.reason = refusal.reason
        self.refusal = refusal


FaultMapper = Callable[[SoapFault, HttpResult], EgovError]


def default_fault_mapper(fault: SoapFault, result: HttpResult) -> EgovError:
    """Generic SOAP 1.1 mapping: ``Server`` faults retryable, ``Client`` faults final."""
    local = fault.code.rsplit(":", 1)[-1]
    return SoapFaultError(fault.code or "soap:Server", fault.string or "SOAP Fault",
                          retryable=local == "Server", http_status=result.status)


def require_match(what: str, field: str, expected: str, found: object) -> None:
    """Step 7: ``found`` (read from the answer) is ``expected`` (sent in the request), else
    :class:`MismatchedAnswerError` naming ``field``."""
    if found != expected:
        raise MismatchedAnswerError(what, field, expected)


@dataclass(frozen=True)
class ProcessedResponse:
    """A response that passed the pipeline."""

    envelope: etree._Element
    """The envelope as parsed."""
    payload: etree._Element
    """The Body's element child, taken from the Body that was verified."""
    verified: Any = None
    """The verifier's result (signer, certificate), or None when signatures are not required."""
    http: HttpResult | None = None


@dataclass(frozen=True)
class ResponsePipeline:
    """HTTP status → SOAP Fault → signature → schema → payload. One instance per service contract."""

    verifier: EnvelopeVerifier | None
    """Transport-signature verification; ``None`` only for services that do not sign."""
    schema: SchemaCheck | None = None
    """The payload's schema check (``adapters.contracts.schema_check(path)``): the errors, empty when valid."""
    fault_mapper: FaultMapper = default_fault_mapper
    allow_huge: bool = False
    """Accept large text nodes (answers that carry attachments)."""
    verify_kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra keyword arguments for ``verify_envelope`` (e.g. ``expect_bin``)."""

    def process(self, result: HttpResult, *, what: str = "response") -> ProcessedResponse:
        # 1. HTTP status
        if not result.body.strip():
            if result.status >= 400:
                raise HttpStatusError(result.status, f"HTTP {result.status} from {result.url} (empty body)",
                                      url=result.url)
            raise TransportError(f"empty-body: {result.url} answered HTTP {result.status} with no content",
                                 kind="empty-body", url=result.url)
        looks_xml = result.body.lstrip()[:1] == b"<"
        if result.status >= 400 and not looks_xml:
            result.raise_for_status()
        # 2. XML
        try:
            envelope = parse_xml(result.body, allow_huge=self.allow_huge, what=what)
        except XmlError as exc:
            if result.status >= 400:
                raise HttpStatusError(result.status, f"HTTP {result.status} from {result.url}: {exc.message}",
                                      url=result.url) from exc
            raise InvalidResponseError(f"{what} from {result.url}: {exc.message}", url=result.url) from exc
        body = body_of(envelope, what=what)
        # 3. Fault
        fault = find_fault(envelope)
        if fault is not None:
            raise self.fault_mapper(fault, result)
        if result.status >= 400 or result.status < 200 or result.status >= 300:
            raise HttpStatusError(result.status, f"HTTP {result.status} from {result.url} without a SOAP Fault",
                                  url=result.url)
        # 4. signature
        verified: Any = None
        if self.verifier is not None:
            try:
                verified = self.verifier.verify_envelope(
                    verifier_input(result.body, envelope, parsed_huge=self.allow_huge), **self.verify_kwargs)
            except SignatureRefused as exc:
                raise ResponseRefusedError(exc, what=what, url=result.url) from exc
            signed_body = getattr(verified, "body", None)
            if isinstance(signed_body, etree._Element):
                body = signed_body
        payload = payload_of(body, what=what)
        # 5. schema
        if self.schema is not None:
            errors = self.schema(payload)
            if errors:
                raise InvalidResponseError(f"{what} does not match its schema: {errors[0]}",
                                           field=etree.QName(payload).localname, errors="; ".join(errors[:5]),
                                           url=result.url)
        return ProcessedResponse(envelope=envelope, payload=payload, verified=verified, http=result)
