"""SOAP front of the E-licensing simulator: the wire format of ``wsdl/elicense/elicense.wsdl``.

Order of work per request: find the operation (SOAPAction, else the Body's first child), parse the
envelope with the hardened parser (``allow_huge`` for UploadAttachment only), validate the request
element against the schema, apply an injected fault if one matches, call the backend, render the
answer. Refusals become SOAP 1.1 Faults with ``ErrorInfo`` (HTTP 500).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from lxml import etree

from adapters.contracts.elicense import (
    APPLICATION_TYPE_NAMES,
    CATEGORY_NAME,
    EL_NS,
    SOAP_NS,
    STATUS_NAMES,
    UL_NS,
    el,
    ul,
    validate,
)
from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import XmlError
from adapters.core.soap import build_envelope, build_fault, serialize
from adapters.core.xmlparse import parse_xml
from simulators.common.faults import TRANSPORT_KINDS, FaultInjector, FaultSpec, perform
from simulators.common.httpserver import Request, Response
from simulators.common.request_journal import RequestJournal
from simulators.common.wire_fault import WireFault
from simulators.elicense import catalogue as cat
from simulators.elicense import documents as docs
from simulators.elicense import errors as E
from simulators.elicense.backend import (
    Application,
    ElicenseBackend,
    Licence,
    SearchCriteria,
)

log = logging.getLogger(__name__)

SERVICE = "elicense"
OPERATIONS = ("GetChallenge", "RegisterApplicant", "Authorize", "ChangePassword", "GetCatalogue",
              "UploadAttachment", "GetAttachment", "RegisterApplication", "GetApplication", "ListApplications",
              "StartProcessing", "PrepareLicence", "PrepareRefusal", "Decide", "GetLicence", "SubmitSurvey",
              "GetSurveyIndicators", "GetUniversalLicenses")
_ACTION = re.compile(r"/(\w+)\"?\s*$")
_BODY_CHILD = re.compile(rb"<(?:\w+:)?(\w+)Request[\s>/]")


def _envelope(payload: etree._Element) -> bytes:
    return serialize(build_envelope(payload))


def fault_body(code: str, message: str, data: str | None, *, client: bool, at: dt.datetime) -> bytes:
    info = etree.Element(el("ErrorInfo"), nsmap={None: EL_NS})
    etree.SubElement(info, el("errorCode")).text = code
    etree.SubElement(info, el("errorMessage")).text = message
    if data is not None:
        etree.SubElement(info, el("errorData")).text = data
    etree.SubElement(info, el("errorDate")).text = at.isoformat()
    return serialize(build_fault("soap:Client" if client else "soap:Server", f"{code}: {message}", detail=info))


def _t(parent: etree._Element, name: str) -> str | None:
    child = parent.find(el(name))
    return None if child is None or child.text is None else child.text.strip()


def _b64(parent: etree._Element, name: str) -> bytes:
    try:
        return base64.b64decode(_t(parent, name) or "", validate=False)
    except ValueError as exc:
        raise E.ElicenseFault(E.MALFORMED, f"{name} is not base64: {exc}", data=name) from exc


def _missing(parent: etree._Element) -> list[dict[str, str]]:
    """The ``MissingDocument`` rows of a refusal (or of the request to prepare one)."""
    return [{"document": _t(m, "Document") or "", "comment": _t(m, "Comment") or "",
             "document_kz": _t(m, "DocumentKz") or "", "comment_kz": _t(m, "CommentKz") or ""}
            for m in parent.iterfind(el("MissingDocument"))]


class ElicenseSoapFront:
    """Turns SOAP requests into backend calls."""

    def __init__(self, backend: ElicenseBackend, *, injector: FaultInjector, journal: RequestJournal,
                 clock: Clock = SYSTEM_CLOCK, base_url: Callable[[], str] = lambda: "") -> None:
        self.backend = backend
        self.injector = injector
        self.journal = journal
        self.clock = clock
        self.base_url = base_url
        self._handlers: dict[str, Callable[[etree._Element], tuple[etree._Element, bool]]] = {
            "GetChallenge": self._challenge, "RegisterApplicant": self._register_applicant,
            "Authorize": self._authorize, "ChangePassword": self._change_password,
            "GetCatalogue": self._catalogue, "UploadAttachment": self._upload,
            "GetAttachment": self._get_attachment,
            "RegisterApplication": self._register_application, "GetApplication": self._get_application,
            "ListApplications": self._list_applications, "StartProcessing": self._start_processing,
            "PrepareLicence": self._prepare_licence, "PrepareRefusal": self._prepare_refusal,
            "Decide": self._decide, "GetLicence": self._get_licence,
            "SubmitSurvey": self._submit_survey,
            "GetSurveyIndicators": self._indicators, "GetUniversalLicenses": self._search,
        }

    # ------------------------------------------------------------------ HTTP entry point

    def handle(self, req: Request) -> Response | WireFault:
        started = time.monotonic()
        operation = self._operation(req)
        record: dict[str, Any] = {"method": req.method, "path": req.path, "service": SERVICE,
                                  "operation": operation}
        spec = self.injector.pick(SERVICE, operation)
        if self.injector.maintenance:
            spec = spec or FaultSpec.model_validate({"kind": "http_status", "http_status": 503,
                                                     "message": "E-licensing under maintenance"})
        if spec is not None:
            record["fault"], record["fault_when"] = spec.kind, spec.when
            self.injector.delay(spec)
        try:
            if spec is not None and spec.when == "before" and spec.kind != "latency":
                resp = self._inject(spec, b"")
                self.journal.record(**record, outcome=f"injected:{spec.kind}",
                                    duration_ms=(time.monotonic() - started) * 1000)
                return resp
            body, status, outcome, called = self._process(req, operation, spec)
            record.update(outcome=outcome, backend_called=called, http_status=status)
            if spec is not None and spec.when == "after" and spec.kind != "latency" \
                    and (spec.kind in TRANSPORT_KINDS or spec.kind == "soap_fault"):
                record["outcome"] = f"injected:{spec.kind}"
                return self._inject(spec, body)
            return Response(status, body, {"Content-Type": "text/xml; charset=utf-8"})
        finally:
            if "outcome" in record:
                self.journal.record(**record, duration_ms=(time.monotonic() - started) * 1000)

    def _inject(self, spec: FaultSpec, body: bytes) -> Response | WireFault:
        if spec.kind == "soap_fault":
            return Response(500, fault_body(spec.code or E.INTERNAL, spec.message or "injected fault", None,
                                            client=False, at=self.clock.now()),
                            {"Content-Type": "text/xml; charset=utf-8"})
        if spec.kind in TRANSPORT_KINDS:
            return perform(spec, body)
        # protocol kinds without meaning here (no transport signature): a plain internal error
        return Response(500, fault_body(E.INTERNAL, f"injected {spec.kind}", None, client=False,
                                        at=self.clock.now()), {"Content-Type": "text/xml; charset=utf-8"})

    @staticmethod
    def _operation(req: Request) -> str | None:
        action = req.headers.get("SOAPAction") or req.headers.get("Soapaction") or ""
        m = _ACTION.search(action)
        if m and m.group(1) in OPERATIONS:
            return m.group(1)
        found = _BODY_CHILD.search(req.body[:8192])
        if found:
            name = found.group(1).decode()
            return "GetUniversalLicenses" if name == "UniversalLicense" else name
        return None

    def _process(self, req: Request, operation: str | None,
                 spec: FaultSpec | None) -> tuple[bytes, int, str, bool]:
        now = self.clock.now()
        try:
            if operation not in self._handlers:
                raise E.ElicenseFault(E.UNKNOWN_OPERATION, f"unknown operation {operation!r}", data="SOAPAction")
            payload = self._payload(req.body, operation)
            answer, tamper = self._handlers[operation](payload)
            if tamper and spec is not None and spec.kind == "invalid_signature":
                self._tamper(answer)
            return _envelope(answer), 200, "ok", True
        except E.ElicenseFault as exc:
            return fault_body(exc.code, exc.message, exc.data, client=exc.client, at=now), 500, \
                f"fault:{exc.code}", True
        except Exception as exc:  # a bug answers ELC909, the server keeps running
            log.exception("E-licensing simulator failed on %s", operation)
            return fault_body(E.INTERNAL, f"internal error: {exc}", None, client=False, at=now), 500, \
                f"fault:{E.INTERNAL}", True

    @staticmethod
    def _payload(body: bytes, operation: str) -> etree._Element:
        huge = operation == "UploadAttachment"
        try:
            env = parse_xml(body, allow_huge=huge, what=f"{operation} request")
            if env.tag != f"{{{SOAP_NS}}}Envelope":
                raise E.ElicenseFault(E.MALFORMED, "not a SOAP 1.1 envelope", data="Envelope")
            soap_body = env.find(f"{{{SOAP_NS}}}Body")
            if soap_body is None or len(soap_body) != 1:
                raise E.ElicenseFault(E.MALFORMED, "soap:Body must hold exactly one element", data="Body")
            payload = soap_body[0]
            expected = ul("UniversalLicenseRequest") if operation == "GetUniversalLicenses" \
                else el(f"{operation}Request")
            if payload.tag != expected:
                raise E.ElicenseFault(E.MALFORMED, f"soap:Body holds {payload.tag}, operation {operation} expects "
                                                   f"{expected}", data="Body")
            validate(payload, what=f"{operation} request")
        except XmlError as exc:
            raise E.ElicenseFault(E.MALFORMED, str(exc), data=operation) from exc
        return payload

    @staticmethod
    def _tamper(answer: etree._Element) -> None:
        """Fault ``invalid_signature``: the licence's content changes after it was signed."""
        node = answer.find(el("SignedLicence"))
        if node is not None and node.text:
            signed = base64.b64decode(node.text)
            node.text = base64.b64encode(signed.replace(b"<SpecialConditions>", b"<SpecialConditions>tampered ",
                                                        1)).decode()

    # ------------------------------------------------------------------ operations

    def _challenge(self, p: etree._Element) -> tuple[etree._Element, bool]:
        challenge = self.backend.issue_challenge()
        out = etree.Element(el("GetChallengeResponse"), nsmap={None: EL_NS})
        docs.sub(out, "Challenge", base64.b64encode(challenge.document).decode())
        docs.sub(out, "ExpiresAt", challenge.expires_at.isoformat())
        return out, False

    def _register_applicant(self, p: etree._Element) -> tuple[etree._Element, bool]:
        subject, name = self.backend.register_proven(_t(p, "IinBin") or "", _b64(p, "SignedChallenge"),
                                                     _t(p, "Password") or "", email=_t(p, "Email"),
                                                     phone=_t(p, "Phone"))
        out = etree.Element(el("RegisterApplicantResponse"), nsmap={None: EL_NS})
        docs.sub(out, "IinBin", subject)
        docs.sub(out, "Name", name)
        return out, False

    def _authorize(self, p: etree._Element) -> tuple[etree._Element, bool]:
        applicant = p.find(el("Applicant"))
        if applicant is not None:
            session = self.backend.authorize_applicant(_t(applicant, "IinBin") or "",
                                                       _b64(applicant, "SignedChallenge"),
                                                       _t(applicant, "Password") or "")
        else:
            emp = p.find(el("Employee"))
            assert emp is not None  # schema: a choice
            session = self.backend.authorize_employee(_t(emp, "Login") or "", _t(emp, "Password") or "")
        out = etree.Element(el("AuthorizeResponse"), nsmap={None: EL_NS})
        docs.sub(out, "SessionToken", session.token)
        docs.sub(out, "Role", session.kind)
        docs.sub(out, "Subject", session.subject)
        if session.licensor_code:
            docs.sub(out, "LicensorCode", session.licensor_code)
        docs.sub(out, "ExpiresAt", session.expires_at.isoformat())
        if session.kind == "applicant":
            email, phone = self.backend.profile(session.subject)
            if email:
                docs.sub(out, "Email", email)
            if phone:
                docs.sub(out, "Phone", phone)
        return out, False

    def _change_password(self, p: etree._Element) -> tuple[etree._Element, bool]:
        proof = p.find(el("SignedChallenge"))
        subject = self.backend.change_password(
            _t(p, "IinBin") or "", _t(p, "NewPassword") or "",
            old_password=_t(p, "OldPassword") if proof is None else None,
            signed_challenge=_b64(p, "SignedChallenge") if proof is not None else None)
        out = etree.Element(el("ChangePasswordResponse"), nsmap={None: EL_NS})
        docs.sub(out, "IinBin", subject)
        return out, False

    def _catalogue(self, p: etree._Element) -> tuple[etree._Element, bool]:
        out = etree.Element(el("GetCatalogueResponse"), nsmap={None: EL_NS})
        docs.activity(out)
        for svc in cat.SERVICES:
            node = docs.code_name(out, "Service", svc.code, svc.name_ru, svc.name_kz, svc.name_en)
            docs.sub(node, "LicensorLevel", svc.licensor_level)
            for st in svc.sub_types:
                docs.code_name(node, "SubType", st.code, st.name_ru, st.name_kz, st.name_en)
        for lic in cat.licensors():
            node = docs.code_name(out, "Licensor", lic.code, lic.name_ru, lic.name_kz, lic.name_en)
            docs.sub(node, "Bin", lic.bin)
            docs.sub(node, "TerritoryCode", lic.territory_code)
        for ter in cat.TERRITORIES:
            node = docs.code_name(out, "Territory", ter.code, ter.name_ru, ter.name_kz, ter.name_en)
            docs.sub(node, "Kind", ter.kind)
        return out, False

    def _upload(self, p: etree._Element) -> tuple[etree._Element, bool]:
        session = self.backend.session(_t(p, "SessionToken") or "")
        content = _b64(p, "Content")
        node = p.find(el("Content"))
        if node is not None:
            node.text = None  # free the tree's copy of the base64 before the file is stored
        att = self.backend.upload_attachment(session, _t(p, "FileName") or "", content)
        out = etree.Element(el("UploadAttachmentResponse"), nsmap={None: EL_NS})
        docs.sub(out, "AttachmentId", att.id)
        docs.sub(out, "FileName", att.file_name)
        docs.sub(out, "Sha256", att.sha256)
        docs.sub(out, "Size", att.size)
        return out, False

    def _get_attachment(self, p: etree._Element) -> tuple[etree._Element, bool]:
        session = self.backend.session(_t(p, "SessionToken") or "")
        att, content = self.backend.application_attachment(session, _t(p, "ApplicationNumber") or "",
                                                           _t(p, "FileName") or "")
        out = etree.Element(el("GetAttachmentResponse"), nsmap={None: EL_NS})
        docs.sub(out, "FileName", att.file_name)
        docs.sub(out, "Sha256", att.sha256)
        docs.sub(out, "Size", att.size)
        docs.sub(out, "Content", base64.b64encode(content).decode())
        return out, True

    def _register_application(self, p: etree._Element) -> tuple[etree._Element, bool]:
        session = self.backend.session(_t(p, "SessionToken") or "")
        app = self.backend.register_application(session, _t(p, "IdempotencyKey") or "",
                                                 _b64(p, "SignedApplication"))
        out = etree.Element(el("RegisterApplicationResponse"), nsmap={None: EL_NS})
        self._application(out, app)
        return out, False

    def _with_documents(self, name: str, app: Application) -> etree._Element:
        out = etree.Element(el(name), nsmap={None: EL_NS})
        self._application(out, app)
        if app.licence_document:
            docs.sub(out, "SignedLicence", base64.b64encode(app.licence_document).decode())
        if app.refusal_document:
            docs.sub(out, "SignedRefusal", base64.b64encode(app.refusal_document).decode())
        return out

    def _get_application(self, p: etree._Element) -> tuple[etree._Element, bool]:
        session = self.backend.session(_t(p, "SessionToken") or "")
        app = self.backend.application(_t(p, "ApplicationNumber") or "", session)
        return self._with_documents("GetApplicationResponse", app), True

    def _list_applications(self, p: etree._Element) -> tuple[etree._Element, bool]:
        session = self.backend.session(_t(p, "SessionToken") or "")
        out = etree.Element(el("ListApplicationsResponse"), nsmap={None: EL_NS})
        for app in self.backend.list_applications(session, _t(p, "Status")):
            self._application(out, app)
        return out, False

    def _start_processing(self, p: etree._Element) -> tuple[etree._Element, bool]:
        session = self.backend.session(_t(p, "SessionToken") or "", kind="employee")
        app = self.backend.start_processing(session, _t(p, "ApplicationNumber") or "")
        out = etree.Element(el("StartProcessingResponse"), nsmap={None: EL_NS})
        self._application(out, app)
        return out, False

    def _prepare_licence(self, p: etree._Element) -> tuple[etree._Element, bool]:
        session = self.backend.session(_t(p, "SessionToken") or "", kind="employee")
        end = _t(p, "ValidityEndDate")
        unsigned = self.backend.prepare_licence(session, _t(p, "ApplicationNumber") or "",
                                                special_conditions=_t(p, "SpecialConditions"),
                                                validity_end=dt.date.fromisoformat(end) if end else None)
        out = etree.Element(el("PrepareLicenceResponse"), nsmap={None: EL_NS})
        docs.sub(out, "UnsignedLicence", base64.b64encode(unsigned).decode())
        return out, True

    def _prepare_refusal(self, p: etree._Element) -> tuple[etree._Element, bool]:
        session = self.backend.session(_t(p, "SessionToken") or "", kind="employee")
        unsigned = self.backend.prepare_refusal(session, _t(p, "ApplicationNumber") or "", _missing(p))
        out = etree.Element(el("PrepareRefusalResponse"), nsmap={None: EL_NS})
        docs.sub(out, "UnsignedRefusal", base64.b64encode(unsigned).decode())
        return out, True

    def _decide(self, p: etree._Element) -> tuple[etree._Element, bool]:
        session = self.backend.session(_t(p, "SessionToken") or "", kind="employee")
        number, key = _t(p, "ApplicationNumber") or "", _t(p, "IdempotencyKey") or ""
        issue = p.find(el("Issue"))
        if issue is not None:
            end = _t(issue, "ValidityEndDate")
            signed = None if issue.find(el("SignedLicence")) is None else _b64(issue, "SignedLicence")
            app = self.backend.decide_issue(session, number, key, special_conditions=_t(issue, "SpecialConditions"),
                                            validity_end=dt.date.fromisoformat(end) if end else None,
                                            signed_licence=signed)
        else:
            refuse = p.find(el("Refuse"))
            assert refuse is not None  # schema: a choice
            signed = None if refuse.find(el("SignedRefusal")) is None else _b64(refuse, "SignedRefusal")
            app = self.backend.decide_refuse(session, number, key, _missing(refuse), signed_refusal=signed)
        return self._with_documents("DecideResponse", app), True

    def _get_licence(self, p: etree._Element) -> tuple[etree._Element, bool]:
        lic = self.backend.licence(_t(p, "LicenceNumber") or "")
        out = etree.Element(el("GetLicenceResponse"), nsmap={None: EL_NS})
        docs.sub(out, "Status", lic.status)
        docs.sub(out, "SignedLicence", base64.b64encode(lic.document).decode())
        return out, True

    def _submit_survey(self, p: etree._Element) -> tuple[etree._Element, bool]:
        session = self.backend.session(_t(p, "SessionToken") or "", kind="applicant")
        self.backend.submit_survey(session, _t(p, "ApplicationNumber") or "", _t(p, "ServiceQuality") or "",
                                   _t(p, "InformationQuality") or "")
        out = etree.Element(el("SubmitSurveyResponse"), nsmap={None: EL_NS})
        docs.sub(out, "Accepted", "true")
        return out, False

    def _indicators(self, p: etree._Element) -> tuple[etree._Element, bool]:
        out = etree.Element(el("GetSurveyIndicatorsResponse"), nsmap={None: EL_NS})
        first, last = _t(p, "From"), _t(p, "To")
        for ind in self.backend.survey_indicators(_t(p, "ServiceCode"), _t(p, "LicensorCode"),
                                                  dt.date.fromisoformat(first) if first else None,
                                                  dt.date.fromisoformat(last) if last else None):
            node = docs.sub(out, "Indicator")
            docs.sub(node, "ServiceCode", ind.service_code)
            if ind.licensor_code:
                docs.sub(node, "LicensorCode", ind.licensor_code)
            for name, value in (("Question", ind.question),
                                ("Answers", ind.answers), ("Satisfied", ind.satisfied),
                                ("PartlySatisfied", ind.partly), ("NotSatisfied", ind.not_satisfied),
                                ("SatisfiedShare", ind.share(ind.satisfied)),
                                ("PartlySatisfiedShare", ind.share(ind.partly)),
                                ("SatisfiedOrPartlyShare", ind.share(ind.satisfied + ind.partly))):
                docs.sub(node, name, value)
        return out, False

    def _search(self, p: etree._Element) -> tuple[etree._Element, bool]:
        def t(name: str) -> str | None:
            child = p.find(ul(name))
            return None if child is None or not (child.text or "").strip() else (child.text or "").strip()

        issue = t("IssueDate")
        criteria = SearchCriteria(
            iin_bin=t("IinBin"), number=t("NumberNikadUinrd"),
            issue_date=dt.date.fromisoformat(issue) if issue else None,
            activity_codes=tuple((c.text or "").strip() for c in p.iterfind(f"{ul('ActivityCodes')}/{ul('Code')}")),
            licensor_code=t("LicensiarCode"), name=t("Name"),
            page_index=int(t("PageIndex") or 0), page_size=min(int(t("PageSize") or 20), 100))
        total, found = self.backend.search(criteria)
        out = etree.Element(ul("UniversalLicenseResponse"), nsmap={None: UL_NS})
        request_info = p.find(ul("SystemInfo"))
        self._system_info(out, request_info)
        etree.SubElement(out, ul("TotalCount")).text = str(total)
        holder = etree.SubElement(out, ul("Licenses"))
        for lic in found:
            self._universal_license(holder, lic)
        return out, False

    # ------------------------------------------------------------------ rendering

    def _system_info(self, parent: etree._Element, request_info: etree._Element | None) -> None:
        import uuid

        def req(name: str) -> str | None:
            if request_info is None:
                return None
            child = request_info.find(ul(name))
            return None if child is None else child.text

        info = etree.SubElement(parent, ul("SystemInfo"))
        for name, value in (("MessageId", str(uuid.uuid4())), ("ChainId", req("MessageId")),
                            ("MessageDate", self.clock.now().isoformat()), ("MessageType", "Response"),
                            ("ServiceId", req("ServiceId") or "ElicenseUniversalLicense"),
                            ("ResponseCode", "SCSS001"), ("SenderId", "ELICENSE"), ("SignatureType", "None")):
            if value is not None:
                etree.SubElement(info, ul(name)).text = value

    def _universal_license(self, parent: etree._Element, lic: Licence) -> None:
        node = etree.SubElement(parent, ul("UniversalLicense"))
        licensor = cat.licensor(lic.licensor_code)
        assert licensor is not None

        def add(name: str, value: object | None) -> etree._Element | None:
            if value is None:
                return None
            child = etree.SubElement(node, ul(name))
            child.text = str(value)
            return child

        def ref(name: str, code: str, ru: str, kz: str, en: str) -> None:
            child = etree.SubElement(node, ul(name))
            for n, v in (("Code", code), ("NameRu", ru), ("NameKz", kz), ("NameEn", en)):
                etree.SubElement(child, ul(n)).text = v

        add("IinBin", lic.iin_bin)
        add("Number", lic.number)
        add("GlobalUniqueNumber", lic.global_unique_number)
        add("IssueDate", lic.issue_date.isoformat())
        add("ValidityStartDate", lic.data.get("validity_start"))
        add("ValidityEndDate", lic.validity_end.isoformat() if lic.validity_end else None)
        ref("ActivityType", cat.ACTIVITY_CODE, cat.ACTIVITY_NAMES["ru"], cat.ACTIVITY_NAMES["kz"],
            cat.ACTIVITY_NAMES["en"])
        ref("Licensiar", licensor.code, licensor.name_ru, licensor.name_kz, licensor.name_en)
        add("StopSuspendDuplicateDate", lic.duplicate_date.isoformat() if lic.duplicate_date else None)
        add("Status", lic.status)
        add("DocumentUrl", f"{self.base_url()}/elicense/licences/{lic.number}")
        add("LicenseeName", lic.licensee_name)

    def _application(self, parent: etree._Element, app: Application) -> None:
        node = docs.sub(parent, "Application")
        data = app.data
        a = data["applicant"]
        docs.sub(node, "Number", app.number)
        docs.sub(node, "ApplicationType", app.app_type)
        type_kz, type_ru = APPLICATION_TYPE_NAMES[app.app_type]
        docs.sub(node, "ApplicationTypeName", type_ru)
        docs.sub(node, "ApplicationTypeNameKz", type_kz)
        docs.sub(node, "Category", CATEGORY_NAME[1])
        docs.sub(node, "CategoryKz", CATEGORY_NAME[0])
        docs.sub(node, "Channel", app.channel)
        docs.sub(node, "Status", app.status)
        docs.sub(node, "StatusName", STATUS_NAMES[app.status][1])
        docs.sub(node, "StatusNameKz", STATUS_NAMES[app.status][0])
        docs.sub(node, "ServiceCode", app.service_code)
        ap = docs.sub(node, "Applicant")
        docs.sub(ap, "IinBin", a["iin_bin"])
        docs.sub(ap, "Name", a["name"])
        docs.sub(ap, "IsSmallBusiness", "true" if a["is_small_business"] else "false")
        docs.sub(ap, "IsSoleProprietor", "true" if a["is_sole_proprietor"] else "false")
        addr = docs.sub(ap, "Address")
        for key, name in (("postal_index", "PostalIndex"), ("city_kato", "CityKato"), ("city_name", "CityName"),
                          ("street_ru", "StreetRu"), ("street_kz", "StreetKz"), ("house", "House"),
                          ("flat", "Flat")):
            if a["address"].get(key) is not None:
                docs.sub(addr, name, a["address"][key])
        docs.sub(ap, "Phone", a["phone"])
        if a.get("fax"):
            docs.sub(ap, "Fax", a["fax"])
        if a.get("email"):
            docs.sub(ap, "Email", a["email"])
        docs.sub(node, "ApplicantDetails", docs.address_line(a["address"]))
        docs.sub(node, "SubmittedAt", app.submitted_at.isoformat())
        docs.sub(node, "RegisteredAt", app.registered_at.isoformat())
        lic = cat.licensor(app.licensor_code)
        assert lic is not None
        docs.code_name(node, "Licensor", lic.code, lic.name_ru, lic.name_kz, lic.name_en)
        pay = data.get("payment")
        if pay:
            p = docs.sub(node, "Payment")
            for key, name in (("amount_paid", "AmountPaid"), ("currency", "Currency"),
                              ("document_number", "DocumentNumber"), ("document_date", "DocumentDate"),
                              ("amount_due", "AmountDue"), ("receipt_id", "ReceiptId")):
                if pay.get(key) is not None:
                    docs.sub(p, name, pay[key])
        docs.sub(node, "PaymentInformation", docs.payment_line(pay))
        ter = cat.territory(app.territory_code)
        assert ter is not None
        docs.code_name(node, "Territory", ter.code, ter.name_ru, ter.name_kz, ter.name_en)
        docs.activity(node)
        svc = cat.service(app.service_code)
        assert svc is not None
        names = {st.code: st for st in svc.sub_types}
        for code in data["sub_types"]:
            st = names[code]
            docs.code_name(node, "SubType", st.code, st.name_ru, st.name_kz, st.name_en)
        for att in data["attachments"]:
            n = docs.sub(node, "Attachment")
            docs.sub(n, "FileName", att["file_name"])
            docs.sub(n, "Sha256", att["sha256"])
            docs.sub(n, "Size", att["size"])
        signer = data["signer"]
        s = docs.sub(node, "Signer")
        docs.sub(s, "FullName", signer["full_name"])
        docs.sub(s, "Iin", signer["iin"])
        if signer.get("bin"):
            docs.sub(s, "Bin", signer["bin"])
        if signer.get("city"):
            docs.sub(s, "City", signer["city"])
        if app.licence_number:
            docs.sub(node, "LicenceNumber", app.licence_number)
        if app.target_licence:
            docs.sub(node, "TargetLicenceNumber", app.target_licence)
        hist = docs.sub(node, "StatusHistory")
        for status, at, comment in app.history:
            e = docs.sub(hist, "Entry")
            docs.sub(e, "Status", status)
            docs.sub(e, "StatusName", STATUS_NAMES[status][1])
            docs.sub(e, "StatusNameKz", STATUS_NAMES[status][0])
            docs.sub(e, "ChangedAt", at.isoformat())
            if comment:
                docs.sub(e, "Comment", comment)
