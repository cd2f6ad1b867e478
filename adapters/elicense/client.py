"""Client of the E-licensing system (``wsdl/elicense/elicense.wsdl``).

Every call: build the request with lxml (:mod:`adapters.elicense.messages`), validate it against
the schema (a bad request fails here, not at the other end), POST it through the shared
:class:`SoapTransport`, run the shared :class:`ResponsePipeline` (HTTP status → SOAP Fault → schema
→ payload; this service has no transport signature, its business documents are signed), then read
the model with lxml (:mod:`adapters.elicense.answers`): one way to build and one way to read, as in
every adapter; zeep reads the WSDL in the tests only. Signed documents (licence, refusal letter)
are verified with the :class:`VerificationService` before they are read and returned, on their
exact bytes.

Attachments are streamed (:mod:`adapters.elicense.upload`): given as bytes, a path or a binary
file object, digested in chunks and posted as ``prefix + base64 chunks + suffix`` of the
schema-valid request envelope, so a 30 MB submission never holds a whole file (or its base64).

Applicants prove possession of their AUTH key on registration, login and a password change: a
fresh ``AuthChallenge`` of the system, signed with the key by the one :class:`SigningService` (as
NCALayer's ``signXml`` signs the portal's), sent back once. Only an unsigned challenge of the
contract is ever signed with the AUTH key.

Matching: an answer about an application, a licence or a search names what it answers (the
application number, the licence number, the search's MessageId as its ChainId); each is checked
against the request, so an answer about another one (a replay) is a ``MismatchedAnswerError``.

Retries: with a ``caller`` (:class:`ResilientCaller`) each call runs under the retry policy with the
same message id. A request carrying a signed challenge is repeated only when the attempt provably
never left (the challenge answers one request); the methods taking the AUTH key start over once
with a new challenge instead. Registration and decisions carry an idempotency key, so repeating them is safe: the
system answers the same application, and never issues a second licence. The survey (the same answers
again) and uploads (the owner's same, not yet attached file again) are idempotent at the system, so
they are safe to repeat as well. Each attempt's request digest reaches the exchange journal before
it is sent, so an attempt lost in transport is journalled with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from lxml import etree

from adapters.contracts import schema_check
from adapters.contracts.elicense import (
    ATTACHMENTS_MAX_TOTAL_BYTES,
    DS_NS,
    ELICENSE_XSD,
    SEARCH_SERVICE_ID,
    UNIVERSAL_LICENSE_XSD,
    el,
    soap_action,
    validate,
)
from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import (
    ConfigurationError,
    EgovError,
    InvalidResponseError,
    RefusalReason,
    SignatureRefused,
    ValidationError,
    XmlError,
)
from adapters.core.http import DEFAULT_MAX_RESPONSE_BYTES, StreamedBody, StreamedBodyError, Timeouts
from adapters.core.soap import ResponsePipeline, build_envelope, require_match, serialize
from adapters.core.transport import SoapTransport
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.trust.subject import signer_info
from adapters.core.xmlparse import parse_xml
from adapters.core.xmlsig import SigningService
from adapters.elicense import answers, messages
from adapters.elicense.errors import AttachmentDigestMismatch, AttachmentError, AuthorisationDenied, map_fault
from adapters.elicense.models import (
    ApplicationDetails,
    ApplicationForm,
    ApplicationInfo,
    AttachmentContent,
    AttachmentRef,
    AuthChallenge,
    Catalogue,
    LicenseSearch,
    MissingDocument,
    RegisteredApplicant,
    Session,
    SignedLicence,
    SignedRefusal,
    SurveyAnswer,
    SurveyIndicator,
    SystemInfo,
    UniversalLicenseResponse,
    UploadedAttachment,
)
from adapters.elicense.upload import (
    Attachment,
    AttachmentSource,
    placeholder,
    prepare,
    split_envelope,
    streamed_envelope,
)

T = TypeVar("T")
SYSTEM = "elicense"


class ElicenseClient:
    """E-licensing: authorisation, catalogue, attachments, applications, decisions, licences, search, survey.

    Build once and share (thread-safe). ``verification`` (a ``VerificationService``) verifies the
    signed licences and refusal letters; ``caller`` adds retries, circuit breaker and journal;
    ``max_response_bytes`` bounds every answer (of the transport built here).
    """

    def __init__(self, endpoint_url: str, *, verification: Any, search_url: str | None = None,
                 caller: Any | None = None, transport: SoapTransport | None = None,
                 timeouts: Timeouts | None = None, sender_id: str = "MINISTRY_EDU",
                 clock: Clock = SYSTEM_CLOCK, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> None:
        if not endpoint_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"E-licensing endpoint must be an http(s) URL, got {endpoint_url!r}",
                                     setting="elicense_url")
        if verification is None:
            raise ConfigurationError("the E-licensing client verifies every signed document it returns: "
                                     "verification is required", setting="verification")
        self.endpoint_url = endpoint_url
        self.search_url = search_url or endpoint_url.rstrip("/") + "/universal-license/"
        self.sender_id = sender_id
        self._verification = verification
        self._caller = caller
        self._own_transport = transport is None
        self._transport = transport or SoapTransport(timeouts=timeouts or Timeouts(),
                                                     max_response_bytes=max_response_bytes)
        self._clock = clock
        self._pipeline = ResponsePipeline(None, schema_check(ELICENSE_XSD), map_fault)
        self._file_pipeline = ResponsePipeline(None, schema_check(ELICENSE_XSD), map_fault, allow_huge=True)
        self._search_pipeline = ResponsePipeline(None, schema_check(UNIVERSAL_LICENSE_XSD), map_fault)
        self._catalogue: Catalogue | None = None

    @classmethod
    def from_settings(cls, *, verification: Any, caller: Any | None = None,
                      settings: Any | None = None) -> ElicenseClient:
        from adapters.core.settings import get_settings

        s = settings or get_settings()
        return cls(s.elicense_url, verification=verification, caller=caller, sender_id=s.gateway_sender_id,
                   timeouts=Timeouts.from_settings(s), max_response_bytes=s.response_max_bytes)

    def close(self) -> None:
        if self._own_transport:
            self._transport.close()

    def __enter__(self) -> ElicenseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ Condition 1

    def register_applicant(self, auth_key: KeyMaterial, password: str, *, iin_bin: str | None = None,
                           email: str | None = None, phone: str | None = None) -> RegisteredApplicant:
        """First-time portal registration of ``iin_bin`` (default: the AUTH certificate's BIN, else its
        IIN), proven by a fresh challenge signed with ``auth_key``, with the profile's ``email`` and
        ``phone``. Registering again with the same password answers the same account; another password
        is a ``ConflictError``."""
        login = iin_bin or _subject(auth_key)
        return self._proving(auth_key, lambda signed: self.register_applicant_with_proof(
            login, signed, password, email=email, phone=phone))

    def register_applicant_with_proof(self, iin_bin: str, signed_challenge: bytes, password: str, *,
                                      email: str | None = None, phone: str | None = None) -> RegisteredApplicant:
        """One ``RegisterApplicant`` with a challenge signed beforehand (by :meth:`sign_challenge`, or in
        the applicant's browser through NCALayer); ``email`` and ``phone`` go to the profile (an
        authorisation gives them back). A challenge answers one request: a delivered attempt is not
        sent again (only an attempt that provably never left is)."""
        return answers.registered_applicant(self._call(
            "RegisterApplicant", messages.register_applicant_request(iin_bin, signed_challenge, password,
                                                                     email=email or None, phone=phone or None),
            idempotent=False))

    def authorize_applicant(self, auth_key: KeyMaterial, password: str, *, iin_bin: str | None = None) -> Session:
        """Condition 1 on the portal: a fresh challenge signed with ``auth_key``, and the password."""
        login = iin_bin or _subject(auth_key)
        return self._proving(auth_key, lambda signed: self.authorize_applicant_with_proof(login, signed, password))

    def authorize_applicant_with_proof(self, iin_bin: str, signed_challenge: bytes, password: str) -> Session:
        """One applicant ``Authorize`` with a challenge signed beforehand (see
        :meth:`register_applicant_with_proof`)."""
        return answers.session(self._call(
            "Authorize", messages.authorize_applicant_request(iin_bin, signed_challenge, password),
            idempotent=False))

    def change_applicant_password(self, new_password: str, *, old_password: str | None = None,
                                  auth_key: KeyMaterial | None = None, iin_bin: str | None = None) -> None:
        """A portal account's new password, proven by ``old_password`` or by a fresh challenge signed
        with ``auth_key`` (exactly one; ``iin_bin`` defaults to the AUTH certificate's subject). The
        account's open sessions end."""
        if (old_password is None) == (auth_key is None):
            raise ValidationError("old_password", "give exactly one of old_password and auth_key")
        if auth_key is not None:
            login = iin_bin or _subject(auth_key)
            self._proving(auth_key, lambda signed: self._call("ChangePassword", messages.change_password_request(
                login, new_password, signed_challenge=signed), idempotent=False))
            return
        if iin_bin is None:
            raise ValidationError("iin_bin", "a password change by the old password names the account")
        self._call("ChangePassword", messages.change_password_request(iin_bin, new_password,
                                                                      old_password=old_password))

    def get_challenge(self) -> AuthChallenge:
        """A one-time challenge to sign with an AUTH key (:meth:`sign_challenge`)."""
        return answers.challenge(self._call("GetChallenge", messages.challenge_request()))

    def sign_challenge(self, challenge: AuthChallenge, auth_key: KeyMaterial) -> bytes:
        """``challenge`` signed with ``auth_key`` (enveloped XML-DSig, the one :class:`SigningService`), as
        NCALayer's ``signXml`` signs the portal's. Only an unsigned, schema-valid ``AuthChallenge`` is
        signed: the AUTH key never signs another document a server hands out."""
        try:
            root = parse_xml(challenge.document, what="AuthChallenge")
            if root.tag != el("AuthChallenge") or root.find(f"{{{DS_NS}}}Signature") is not None:
                raise InvalidResponseError(f"the challenge to sign is <{etree.QName(root).localname}>, not an "
                                           "unsigned <AuthChallenge>", field="Challenge")
            validate(root, what="AuthChallenge")
        except XmlError as exc:
            raise InvalidResponseError(f"the challenge to sign is not an AuthChallenge: {exc}",
                                       field="Challenge") from exc
        return SigningService(auth_key, clock=self._clock).sign_document(root)

    def _proving(self, auth_key: KeyMaterial, exchange: Callable[[bytes], T]) -> T:
        """``exchange(signed challenge)`` with a fresh challenge signed with ``auth_key``. A challenge
        answers one request, so a delivered attempt is never sent again; when it failed in a way worth
        repeating (retryable, or ELC104: its challenge expired or was used), the call starts over,
        once, with a new challenge. Registering, logging in and changing to the same password again
        are safe to repeat."""
        for last in (False, True):
            signed = self.sign_challenge(self.get_challenge(), auth_key)
            try:
                return exchange(signed)
            except EgovError as exc:
                again = exc.retryable or (isinstance(exc, AuthorisationDenied) and exc.code == "ELC104")
                if last or not again:
                    raise
        raise AssertionError("unreachable")

    def authorize_employee(self, login: str, password: str) -> Session:
        return answers.session(self._call("Authorize", messages.authorize_employee_request(login, password)))

    # ------------------------------------------------------------------ catalogue

    def get_catalogue(self, *, refresh: bool = False) -> Catalogue:
        """Services, licensors, activity type and territories (cached after the first call)."""
        if self._catalogue is None or refresh:
            self._catalogue = answers.catalogue(self._call("GetCatalogue", messages.catalogue_request()))
        return self._catalogue

    # ------------------------------------------------------------------ attachments and registration

    def upload_attachment(self, session: Session, file_name: str,
                          content: AttachmentSource | Attachment) -> UploadedAttachment:
        """Upload one file (bytes, a path or a binary file object), streamed; the answer's SHA-256
        and size must be the ones computed here. Over 30 MB: :class:`AttachmentsTooLarge`, nothing sent."""
        att = content if isinstance(content, Attachment) else Attachment(file_name, content)
        local = att.sha256  # before sending: a retry re-reads the file, the server must see these bytes
        marker = placeholder()
        req = messages.upload_attachment_request(session, file_name, marker)
        validate(req, what="UploadAttachment request")
        prefix, suffix = split_envelope(serialize(build_envelope(req)), marker)
        body = streamed_envelope(prefix, att, suffix)
        try:
            # the journal digests the envelope with the placeholder: the content is named by its SHA-256
            p = self._exchange("UploadAttachment", body, journal=prefix + marker.encode() + suffix,
                               pipeline=self._file_pipeline)
        except StreamedBodyError as exc:
            cause = exc.__cause__
            reason = cause.reason if isinstance(cause, AttachmentError) else f"could not be sent: {exc.reason}"
            raise AttachmentError(file_name, reason) from exc
        uploaded = answers.uploaded_attachment(p, file_name)
        if uploaded.sha256 != local or uploaded.size != att.size:
            raise AttachmentDigestMismatch(file_name, f"the system stored SHA-256 {uploaded.sha256} "
                                                      f"({uploaded.size} bytes), the file has {local} "
                                                      f"({att.size} bytes)")
        return uploaded

    def get_attachment(self, session: Session, number: str, file_name: str) -> AttachmentContent:
        """The content of ``file_name`` attached to application ``number`` (its applicant, or an employee
        of its licensor). The answer must name that file, and the content must have the SHA-256 and
        size the answer gives (:class:`AttachmentDigestMismatch` otherwise); the caller compares them
        with the signed application's reference."""
        p = self._call("GetAttachment", messages.get_attachment_request(session, number, file_name),
                       pipeline=self._file_pipeline)
        got = answers.attachment_content(p)
        require_match("GetAttachment answer", "FileName", file_name, got.file_name)
        digest = hashlib.sha256(got.content).hexdigest()
        if digest != got.sha256 or len(got.content) != got.size:
            raise AttachmentDigestMismatch(file_name, f"the content received has SHA-256 {digest} ({len(got.content)} "
                                                      f"bytes), the answer names {got.sha256} ({got.size} bytes)")
        return got

    @staticmethod
    def attachment_refs(files: Mapping[str, AttachmentSource]) -> tuple[AttachmentRef, ...]:
        """References (name, SHA-256, size) for the signed application; checks the 30 MB total
        (from the sizes, before reading any file) and digests each file in chunks."""
        return tuple(a.ref() for a in prepare(files.items(), limit=ATTACHMENTS_MAX_TOTAL_BYTES))

    @staticmethod
    def application_document(form: ApplicationForm) -> etree._Element:
        """The unsigned ``Application`` document (validated against the schema)."""
        doc = messages.application_document(form)
        validate(doc, what="application")
        return doc

    def sign_application(self, form: ApplicationForm, signing: Any) -> bytes:
        """The application signed (enveloped XML-DSig) with ``signing`` (a ``SigningService``)."""
        signed: bytes = signing.sign_document(self.application_document(form))
        return signed

    def register_application(self, session: Session, signed_application: bytes, *,
                             idempotency_key: str) -> ApplicationInfo:
        """Register a signed application. The same key always answers the same application number."""
        req = messages.register_application_request(session, signed_application, idempotency_key=idempotency_key)
        return answers.application(self._call("RegisterApplication", req, message_id=idempotency_key))

    def submit_application(self, session: Session, form: ApplicationForm, signing: Any, *,
                           files: Mapping[str, AttachmentSource] | None = None,
                           idempotency_key: str) -> ApplicationInfo:
        """Upload ``files`` (bytes, paths or binary file objects; streamed), reference them by
        digest in the form, sign it, register it. Each file is digested once."""
        attachments = prepare((files or {}).items(), limit=ATTACHMENTS_MAX_TOTAL_BYTES)
        refs = tuple(a.ref() for a in attachments)
        for att in attachments:
            self.upload_attachment(session, att.file_name, att)
        signed = self.sign_application(form.model_copy(update={"attachments": refs}), signing)
        return self.register_application(session, signed, idempotency_key=idempotency_key)

    # ------------------------------------------------------------------ reading applications

    def get_application(self, session: Session, number: str) -> ApplicationDetails:
        return self._details(self._call("GetApplication", messages.get_application_request(session, number)),
                             number=number)

    def list_applications(self, session: Session, status: str | None = None) -> list[ApplicationInfo]:
        return answers.applications(self._call("ListApplications", messages.list_applications_request(session, status)))

    # ------------------------------------------------------------------ provider

    def start_processing(self, session: Session, number: str) -> ApplicationInfo:
        info = answers.application(self._call("StartProcessing", messages.start_processing_request(session, number)))
        require_match("StartProcessing answer", "Application/Number", number, info.number)
        return info

    def prepare_licence(self, session: Session, number: str, *, special_conditions: str | None = None,
                        validity_end: dt.date | None = None) -> bytes:
        """The unsigned licence a decision to issue ``number`` gives now (the exact bytes to sign), for
        the licensor's first head to sign and :meth:`issue` to send back."""
        p = self._call("PrepareLicence", messages.prepare_licence_request(
            session, number, special_conditions=special_conditions, validity_end=validity_end))
        return _prepared(p, "UnsignedLicence", "Licence", number)

    def prepare_refusal(self, session: Session, number: str, missing: Sequence[MissingDocument]) -> bytes:
        """The unsigned refusal letter a decision to refuse ``number`` with ``missing`` gives now (the
        exact bytes to sign), for the licensor's first head to sign and :meth:`refuse` to send back."""
        p = self._call("PrepareRefusal", messages.prepare_refusal_request(session, number, missing))
        return _prepared(p, "UnsignedRefusal", "RefusalLetter", number)

    def issue(self, session: Session, number: str, *, idempotency_key: str, special_conditions: str | None = None,
              validity_end: dt.date | None = None, signed_licence: bytes | None = None) -> ApplicationDetails:
        """Decision to issue: the answer carries the signed licence (verified here). ``signed_licence``:
        the licence :meth:`prepare_licence` gave, signed by the licensor's first head (with the same
        special conditions and validity end); without it E-licensing signs with the head's key it holds."""
        req = messages.issue_request(session, number, idempotency_key=idempotency_key,
                                     special_conditions=special_conditions, validity_end=validity_end,
                                     signed_licence=signed_licence)
        return self._details(self._call("Decide", req, message_id=idempotency_key), number=number)

    def refuse(self, session: Session, number: str, missing: Sequence[MissingDocument], *,
               idempotency_key: str, signed_refusal: bytes | None = None) -> ApplicationDetails:
        """Decision to refuse, with the missing documents and a comment for each. ``signed_refusal``:
        the letter :meth:`prepare_refusal` gave, signed by the licensor's first head (same missing
        documents); without it E-licensing signs with the head's key it holds."""
        req = messages.refuse_request(session, number, missing, idempotency_key=idempotency_key,
                                      signed_refusal=signed_refusal)
        return self._details(self._call("Decide", req, message_id=idempotency_key), number=number)

    # ------------------------------------------------------------------ licences

    def get_licence(self, number: str) -> SignedLicence:
        p = self._call("GetLicence", messages.licence_request(number))
        signed = answers.signed_document(p, "SignedLicence")
        if signed is None:
            raise InvalidResponseError(f"GetLicence answer for {number} carries no signed licence",
                                       field="SignedLicence")
        licence = self.verify_licence(signed, status=answers.licence_status(p))
        require_match("GetLicence answer", "Licence/Number", number, licence.licence.number)
        return licence

    def verify_licence(self, data: bytes, *, status: str | None = None) -> SignedLicence:
        """Verify a signed licence: signature, certificate (trust, validity, revocation), role
        first-head, and the signer's BIN equal to the issuing body's."""
        root, signer = self._verify(data, "Licence")
        model = answers.licence(root)
        self._check_issuer(signer, model.issuing_body.bin, f"licence {model.number}")
        return SignedLicence(xml=data, signer=signer, licence=model, status=status)

    def verify_refusal(self, data: bytes) -> SignedRefusal:
        root, signer = self._verify(data, "RefusalLetter")
        letter = answers.refusal_letter(root)
        self._check_issuer(signer, letter.state_body.bin, f"refusal of application {letter.application_number}")
        return SignedRefusal(xml=data, signer=signer, letter=letter)

    @staticmethod
    def _check_issuer(signer: Any, body_bin: str, what: str) -> None:
        """The head who signed must belong to the issuing body (BIN in the certificate)."""
        found = getattr(signer, "bin", None)
        if found != body_bin:
            raise SignatureRefused(RefusalReason.BIN_MISMATCH,
                                   f"{what} is signed by a certificate with BIN {found}, the issuing body's BIN "
                                   f"is {body_bin}", expected=body_bin, found=found)

    def _verify(self, data: bytes, expected: str) -> tuple[etree._Element, Any]:
        verified = self._verification.verify_document(data, required_roles=("first-head",))
        root = verified.root
        if root.tag != el(expected):
            raise InvalidResponseError(f"expected a signed <{expected}>, got <{etree.QName(root).localname}>",
                                       field=expected)
        validate(verified.signed_root, what=expected)
        return root, verified.signer

    # ------------------------------------------------------------------ search

    def search(self, criteria: LicenseSearch | None = None, **kwargs: Any) -> UniversalLicenseResponse:
        """UniversalLicenseRequest: by IIN/BIN, licence number, issue date, activity codes, licensor, name."""
        crit = criteria or LicenseSearch(**kwargs)
        message_id = str(uuid.uuid4())
        info = SystemInfo(message_id=message_id, message_date=self._clock.now(), message_type="Request",
                          service_id=SEARCH_SERVICE_ID, sender_id=self.sender_id, signature_type="None")
        req = messages.universal_license_request(crit, info)
        p = self._call("GetUniversalLicenses", req, url=self.search_url, pipeline=self._search_pipeline,
                       message_id=message_id)
        found = answers.universal_license_response(p)
        require_match("UniversalLicense answer", "SystemInfo/ChainId", message_id, found.system_info.chain_id)
        return found

    # ------------------------------------------------------------------ survey

    def submit_survey(self, session: Session, number: str, service_quality: SurveyAnswer | str,
                      information_quality: SurveyAnswer | str) -> None:
        self._call("SubmitSurvey", messages.survey_request(session, number, service_quality, information_quality))

    def survey_indicators(self, service_code: str | None = None, *, licensor_code: str | None = None,
                          first_day: dt.date | None = None, last_day: dt.date | None = None) -> list[SurveyIndicator]:
        """The survey's indicators per service, licensor and question, over a period (inclusive days)."""
        return answers.survey_indicators(self._call("GetSurveyIndicators", messages.survey_indicators_request(
            service_code, licensor_code, first_day, last_day)))

    # ------------------------------------------------------------------ plumbing

    def _details(self, p: etree._Element, *, number: str) -> ApplicationDetails:
        info = answers.application(p)
        require_match("application answer", "Application/Number", number, info.number)
        lic = answers.signed_document(p, "SignedLicence")
        ref = answers.signed_document(p, "SignedRefusal")
        return ApplicationDetails(application=info, licence=self.verify_licence(lic) if lic else None,
                                  refusal=self.verify_refusal(ref) if ref else None)

    def _call(self, operation: str, payload: etree._Element, *, url: str | None = None,
              pipeline: ResponsePipeline | None = None, message_id: str | None = None,
              idempotent: bool = True) -> etree._Element:
        validate(payload, what=f"{operation} request")
        body = serialize(build_envelope(payload))
        return self._exchange(operation, body, url=url, pipeline=pipeline, message_id=message_id,
                              idempotent=idempotent)

    def _exchange(self, operation: str, body: bytes | StreamedBody, *, journal: bytes | None = None,
                  url: str | None = None, pipeline: ResponsePipeline | None = None,
                  message_id: str | None = None, idempotent: bool = True) -> etree._Element:
        """POST ``body`` (validated already) under the caller's policy; ``journal`` stands for a
        streamed body in the exchange journal; a request that is not ``idempotent`` (it carries a
        one-time proof) is repeated only when the attempt provably never left."""
        target = url or self.endpoint_url
        pipe = pipeline or self._pipeline
        recorded = journal if journal is not None else body if isinstance(body, bytes) else None

        def attempt(timeout: float | None, record: Callable[[bytes | None, bytes | None], None]) -> etree._Element:
            # journal the request before sending: an attempt lost in transport keeps its digest
            record(recorded, None)
            result = self._transport.post(target, body, soap_action=soap_action(operation),
                                          timeout=timeout)
            record(recorded, result.body)
            return pipe.process(result, what=f"E-licensing {operation} answer").payload

        if self._caller is None:
            return attempt(None, lambda _q, _r: None)
        from adapters.core.resilience import Attempt, CallContext

        ctx = CallContext(system=SYSTEM, service=operation, operation=operation,
                          message_id=message_id or str(uuid.uuid4()), idempotent=idempotent)

        def one(a: Attempt) -> etree._Element:
            def record(q: bytes | None, r: bytes | None) -> None:
                a.request_bytes, a.response_bytes = q, r
            return attempt(a.context.timeout, record)

        result: etree._Element = self._caller.call(ctx, one)
        return result


def _prepared(payload: etree._Element, field: str, root_name: str, number: str) -> bytes:
    """The unsigned document (``root_name``) of application ``number`` a Prepare answer carries in ``field``."""
    unsigned = answers.signed_document(payload, field)
    if unsigned is None:
        raise InvalidResponseError(f"the answer for {number} carries no {field}", field=field)
    try:
        root = parse_xml(unsigned, what=field)
    except XmlError as exc:
        raise InvalidResponseError(f"{field} is not XML: {exc}", field=field) from exc
    if root.tag != el(root_name) or root.find(f"{{{DS_NS}}}Signature") is not None:
        raise InvalidResponseError(f"{field} is not an unsigned <{root_name}>", field=field)
    require_match(f"{field} answer", f"{root_name}/ApplicationNumber", number, root.findtext(el("ApplicationNumber")))
    return unsigned


def _subject(auth_key: KeyMaterial) -> str:
    """The account an AUTH certificate logs in as by default: its BIN, else its IIN."""
    info = signer_info(auth_key.certificate)
    subject = info.bin or info.iin
    if subject is None:
        raise ValidationError("auth_key", "the AUTH certificate carries neither BIN nor IIN: name the account")
    return subject
