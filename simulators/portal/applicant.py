"""The applicant's pages (Diagram 1 through the portal, as the user's memo walks it).

Registration and login prove possession of the AUTH key: the page has NCALayer sign E-licensing's
one-time challenge (``signXml`` with an AUTHENTICATION key) and the portal hands the signed
challenge to E-licensing (RegisterApplicant, Authorize). The wizard keeps a :class:`Draft`; its
last step has NCALayer sign the application document (``signXml``, SIGNATURE key) and sends it
(RegisterApplication). Every exchange with E-licensing, the payment gateway and the Legal Entities
register goes through the project's adapters.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from urllib.parse import unquote

from cryptography import x509
from lxml import etree

from adapters.contracts.elicense import EMAIL_PATTERN, PHONE_PATTERN
from adapters.core.errors import EgovError, ValidationError
from adapters.core.trust.subject import signer_info
from adapters.elicense import ElicenseClient, LicenseSearch, Session
from adapters.legal_entities.models import Found, LookupOutcome
from adapters.payment_gateway import Payer, PaymentOrderRequest, PaymentStatus
from procedure.artefacts import licence_view, render_licence_pdf
from procedure.models import Operation
from simulators.common.messages import Request, Response
from simulators.common.router import Router
from simulators.portal import i18n
from simulators.portal.attachments import attachment_answer
from simulators.portal.backends import PortalBackends
from simulators.portal.draft import Draft, UploadedFile
from simulators.portal.pages import Pages
from simulators.portal.requirements import required_documents
from simulators.portal.sessions import BrowserSession
from simulators.portal.web import document, field, form, json_answer, redirect

PAYMENT_DEADLINE_SECONDS = 10.0


def _tail(req: Request, prefix: str) -> str:
    """The path after ``prefix`` (percent-decoded), e.g. the number in ``/applications/00012001``."""
    return unquote(req.path[len(prefix):].strip("/"))


def with_register_record(profile: dict[str, str], outcome: LookupOutcome) -> dict[str, str]:
    """``profile`` filled from the Legal Entities register's record (when the register found one)."""
    if not isinstance(outcome, Found):
        return profile
    org, a = outcome.organisation, outcome.organisation.address
    return {**profile, "name": org.full_name_kz or org.full_name_ru, "postal_index": a.zip_code, "city_kato": a.kato,
            "city_name": a.city_ru, "street_ru": a.street_ru, "street_kz": a.street_kz, "house": a.building,
            "flat": a.flat or a.office or "", "phone": "+7 727 000 00 00"}


def contact_errors(values: dict[str, str], lang: str) -> str | None:
    """What is wrong with the email and phone typed (E-licensing's patterns), or None; blank is allowed."""
    wrong = [i18n.text(lang, key) for key, pattern in (("email", EMAIL_PATTERN), ("phone", PHONE_PATTERN))
             if values.get(key) and not re.fullmatch(pattern, values[key])]
    return f"{i18n.text(lang, 'malformed')}: {', '.join(wrong)}" if wrong else None


class ApplicantPages:
    """Registration, login, the services, the wizard, My applications, My permit documents, search,
    the permit document page and the survey."""

    def __init__(self, pages: Pages, backends: PortalBackends) -> None:
        self.pages = pages
        self.b = backends

    @property
    def elicense(self) -> ElicenseClient:
        return self.b.clients.elicense

    def install(self, router: Router) -> None:
        p = self.pages.page
        for method, path, handler in (
            ("GET", "/register", self.register_form), ("POST", "/register", self.register),
            ("GET", "/login", self.login_form), ("POST", "/login", self.login),
            ("POST", "/api/certificate", self.certificate), ("GET", "/api/challenge", self.challenge),
            ("GET", "/services", self.services), ("GET", "/wizard/new", self.wizard_new),
            ("GET", "/wizard/territory", self.territory_form), ("POST", "/wizard/territory", self.territory),
            ("GET", "/wizard/personal", self.personal_form), ("POST", "/wizard/personal", self.personal),
            ("GET", "/wizard/attachments", self.attachments_form), ("POST", "/wizard/upload", self.upload),
            ("GET", "/wizard/payment", self.payment_form), ("POST", "/wizard/payment", self.payment_by_hand),
            ("POST", "/wizard/pay", self.pay), ("GET", "/wizard/sign", self.sign_form),
            ("GET", "/wizard/document", self.unsigned_document), ("POST", "/wizard/send", self.send),
            ("GET", "/applications", self.applications), ("POST", "/applications", self.survey),
            ("GET", "/permits", self.permits), ("GET", "/search", self.search),
            ("GET", "/licences", self.licence),
        ):
            router.add(method, path, p(handler))

    # ------------------------------------------------------------------ who

    def _applicant(self, bs: BrowserSession) -> Session:
        if bs.applicant is None or bs.applicant.expires_at <= self.b.clock.now():
            bs.applicant = None
            raise ValidationError("session", i18n.text(bs.lang, "need_login"))
        return bs.applicant

    def _draft(self, bs: BrowserSession) -> Draft:
        self._actor(bs)
        assert bs.draft is not None
        return bs.draft

    def _actor(self, bs: BrowserSession) -> Session:
        """Who fills the draft: the applicant on the portal, the employee on the desk (Diagram 2)."""
        if bs.draft is None:
            raise ValidationError("wizard", "no application is being filled: choose a service first")
        if bs.draft.channel == "desk":
            if bs.employee is None or bs.employee.expires_at <= self.b.clock.now():
                bs.employee = None
                raise ValidationError("session", i18n.text(bs.lang, "need_login"))
            return bs.employee
        return self._applicant(bs)

    # ------------------------------------------------------------------ registration and login

    def certificate(self, req: Request, bs: BrowserSession) -> Response:
        """What the page shows of the certificate NCALayer read (``getKeyInfo``'s ``pem``)."""
        try:
            cert = x509.load_pem_x509_certificate(str(json.loads(req.body)["pem"]).encode("ascii"))
        except (ValueError, KeyError, TypeError) as exc:
            return json_answer({"error": f"not a PEM certificate: {exc}"}, 400)
        info = signer_info(cert)
        return json_answer({"iin": info.iin, "bin": info.bin, "iin_bin": info.bin or info.iin,
                            "holder": info.common_name, "organisation": info.organisation, "usage": info.usage,
                            "valid_until": info.not_after.date().isoformat()})

    def challenge(self, req: Request, bs: BrowserSession) -> Response:
        issued = self.elicense.get_challenge()
        return json_answer({"xml": issued.document.decode("utf-8")})

    def register_form(self, req: Request, bs: BrowserSession) -> Response:
        return self.pages.render(bs, "register.html", error=None, values={})

    def register(self, req: Request, bs: BrowserSession) -> Response:
        f = form(req)
        values = {k: field(f, k) for k in ("iin_bin", "holder", "organisation", "email", "phone")}
        if field(f, "password") != field(f, "password2"):
            return self.pages.render(bs, "register.html", 422, error=i18n.text(bs.lang, "passwords_differ"),
                                     values=values)
        wrong = contact_errors(values, bs.lang)
        if wrong:
            return self.pages.render(bs, "register.html", 422, error=wrong, values=values)
        try:
            self.elicense.register_applicant_with_proof(values["iin_bin"], field(f, "signed_challenge").encode(),
                                                        field(f, "password"), email=values["email"] or None,
                                                        phone=values["phone"] or None)
        except EgovError as exc:
            return self.pages.render(bs, "register.html", 422,
                                     error=f"{i18n.text(bs.lang, 'registration_refused')}: {exc}", values=values)
        bs.flash = i18n.text(bs.lang, "registered")
        return redirect("/login")

    def login_form(self, req: Request, bs: BrowserSession) -> Response:
        return self.pages.render(bs, "login.html", error=None)

    def login(self, req: Request, bs: BrowserSession) -> Response:
        f = form(req)
        try:
            bs.applicant = self.elicense.authorize_applicant_with_proof(
                field(f, "iin_bin"), field(f, "signed_challenge").encode(), field(f, "password"))
        except EgovError as exc:
            return self.pages.render(bs, "login.html", 422, error=f"{i18n.text(bs.lang, 'login_refused')}: {exc}")
        self.pages.sessions.rotate(bs)
        return redirect("/services")

    # ------------------------------------------------------------------ services and the wizard

    def services(self, req: Request, bs: BrowserSession) -> Response:
        catalogue = self.elicense.get_catalogue()
        sphere = req.path.rstrip("/").endswith("/education")
        return self.pages.render(bs, "services.html", catalogue=catalogue, sphere=sphere)

    def wizard_new(self, req: Request, bs: BrowserSession) -> Response:
        self._applicant(bs)
        service = req.param("service") or ""
        if not any(s.code == service for s in self.elicense.get_catalogue().services):
            raise ValidationError("service", f"unknown service {service!r}")
        app_type = (req.param("type") or "ISSUE").upper()
        if app_type not in ("ISSUE", "APPENDIX", "REISSUE", "DUPLICATE"):
            raise ValidationError("type", f"unknown application type {app_type!r}")
        bs.draft = Draft(service_code=service, app_type=app_type, licence_number=req.param("licence"))
        return redirect("/wizard/territory")

    def _wizard(self, bs: BrowserSession, template: str, step: int, status: int = 200, **context: object) -> Response:
        draft = self._draft(bs)
        catalogue = self.elicense.get_catalogue()
        service = next(s for s in catalogue.services if s.code == draft.service_code)
        return self.pages.render(bs, template, status, draft=draft, catalogue=catalogue, service=service, step=step,
                                 **context)

    def territory_form(self, req: Request, bs: BrowserSession) -> Response:
        return self._wizard(bs, "wizard_territory.html", 1)

    def territory(self, req: Request, bs: BrowserSession) -> Response:
        draft = self._draft(bs)
        f = form(req)
        code = field(f, "territory")
        if not any(t.code == code for t in self.elicense.get_catalogue().territories):
            raise ValidationError("territory", f"{code!r} is not in the directory")
        draft.territory_code = code
        draft.sub_types = [c for c in f.get("sub_type", []) if c]
        return redirect("/wizard/personal")

    def personal_form(self, req: Request, bs: BrowserSession) -> Response:
        draft = self._draft(bs)
        if not draft.applicant:
            draft.applicant = self._profile(self._applicant(bs))
        return self._wizard(bs, "wizard_personal.html", 2)

    def _profile(self, session: Session) -> dict[str, str]:
        """The applicant's data as the profile has it: the Legal Entities register's record of the BIN,
        and the email and phone typed at registration (E-licensing gives them back at login)."""
        iin_bin = session.subject
        profile = {"name": iin_bin, "postal_index": "",
                   "city_kato": "", "city_name": "", "street_ru": "", "street_kz": "", "house": "", "flat": "",
                   "phone": "", "email": "", "small_business": ""}
        outcome = self.b.clients.legal_entities.lookup_bin(iin_bin) if iin_bin[4:5] in ("4", "5", "6") else None
        if outcome is not None:
            profile = with_register_record(profile, outcome)
        return {**profile, "phone": session.phone or profile["phone"], "email": session.email or ""}

    def personal(self, req: Request, bs: BrowserSession) -> Response:
        draft = self._draft(bs)
        f = form(req)
        keys = ("name", "postal_index", "city_kato", "city_name", "street_ru", "street_kz", "house", "flat", "phone",
                "fax", "email", "small_business", "sole_proprietor")
        values = {k: field(f, k) for k in keys}
        missing = [k for k in ("name", "postal_index", "city_kato", "city_name", "street_ru", "house", "phone")
                   if not values[k]]
        draft.applicant = values
        if missing:
            return self._wizard(bs, "wizard_personal.html", 2, 422,
                                error=", ".join(i18n.text(bs.lang, k) for k in missing))
        wrong = contact_errors({"email": values["email"]}, bs.lang)
        if wrong:
            return self._wizard(bs, "wizard_personal.html", 2, 422, error=wrong)
        return redirect("/wizard/attachments")

    def attachments_form(self, req: Request, bs: BrowserSession) -> Response:
        draft = self._draft(bs)
        return self._wizard(bs, "wizard_attachments.html", 3,
                            required=required_documents(draft.service_code, draft.app_type, bs.lang))

    def upload(self, req: Request, bs: BrowserSession) -> Response:
        """One file, the request's body, under the document name typed (``?document=``) and the
        file's own extension (``?file=``). The 30 MB total is checked here before E-licensing is asked."""
        session = self._actor(bs)
        draft = self._draft(bs)
        name = (req.param("document") or "").strip()
        original = PurePosixPath(req.param("file") or "")
        if not name:
            return json_answer({"error": i18n.text(bs.lang, "document_name")}, 400)
        file_name = name if PurePosixPath(name).suffix else f"{name}{original.suffix}"
        try:
            draft.check_room(len(req.body))
        except ValidationError as exc:
            return json_answer({"error": f"{i18n.text(bs.lang, 'too_large')}: {exc}"}, 413)
        stored = self.elicense.upload_attachment(session, file_name, req.body)
        draft.attachments.append(UploadedFile(name, stored.file_name, stored.sha256, stored.size))
        return json_answer({"file_name": stored.file_name, "size": stored.size, "total": draft.total_bytes()})

    def _fee(self, draft: Draft) -> str:
        return str(self.b.fees.of(Operation(draft.app_type.lower())))

    def payment_form(self, req: Request, bs: BrowserSession) -> Response:
        draft = self._draft(bs)
        return self._wizard(bs, "wizard_payment.html", 4, fee=self._fee(draft))

    def pay(self, req: Request, bs: BrowserSession) -> Response:
        """Pay through the payment gateway: the fee order (its client reference the draft's id, so a
        second press finds the same order), paid by the applicant's bank, then its signed receipt."""
        session = self._applicant(bs)
        draft = self._draft(bs)
        pay = self.b.clients.payment
        order = PaymentOrderRequest(client_reference=draft.id,
                                    payer=Payer(iin_bin=session.subject,
                                                name=(draft.applicant.get("name") or session.subject)[:500]),
                                    amount=self.b.fees.of(Operation(draft.app_type.lower())),
                                    application_reference=draft.id)
        current = pay.create_order(order, message_id=None).order
        if current.status is PaymentStatus.CREATED:
            self.b.bank.pay(current)
            current = pay.wait_until_final(current.order_id, deadline=PAYMENT_DEADLINE_SECONDS, initial=0.05)
        if not current.paid:
            bs.flash = f"{i18n.text(bs.lang, 'payment_refused')}: {current.status.value} {current.status_reason or ''}"
            return redirect("/wizard/payment")
        receipt = pay.get_receipt(current.order_id)
        draft.payment_order = current.order_id
        draft.payment = {"amount_paid": str(receipt.amount), "document_number": receipt.document_number,
                         "document_date": receipt.document_date.isoformat(), "amount_due": str(order.amount),
                         "receipt_id": current.order_id}
        bs.flash = f"{i18n.text(bs.lang, 'paid')}: {receipt.summary()}"
        return redirect("/wizard/payment")

    def payment_by_hand(self, req: Request, bs: BrowserSession) -> Response:
        draft = self._draft(bs)
        f = form(req)
        values = {k: field(f, k) for k in ("document_number", "document_date", "amount_paid", "receipt_id")}
        missing = [k for k in ("document_number", "document_date", "amount_paid") if not values[k]]
        if draft.channel == "desk":
            draft.paper_documents = field(f, "paper_documents") or None
            if not draft.paper_documents:
                return self._wizard(bs, "wizard_payment.html", 4, 422, fee=self._fee(draft),
                                    error=i18n.text(bs.lang, "paper_documents"))
            if not any(values.values()):  # no payment noted: E-licensing does not ask for one here
                return redirect("/wizard/sign")
        if missing:
            return self._wizard(bs, "wizard_payment.html", 4, 422, fee=self._fee(draft),
                                error=", ".join(i18n.text(bs.lang, k) for k in missing))
        draft.payment = {**values, "amount_due": self._fee(draft)}
        return redirect("/wizard/sign")

    def sign_form(self, req: Request, bs: BrowserSession) -> Response:
        draft = self._draft(bs)
        return self._wizard(bs, "wizard_sign.html", 5, fee=self._fee(draft))

    def unsigned_document(self, req: Request, bs: BrowserSession) -> Response:
        """The application document the browser has NCALayer sign (schema-valid, or the reason why not)."""
        session = self._actor(bs)
        draft = self._draft(bs)
        doc = ElicenseClient.application_document(draft.form(draft.applicant_iin_bin or session.subject,
                                                             self.b.clock.now()))
        body = etree.tostring(doc, encoding="UTF-8", xml_declaration=True)
        return Response(200, body, {"Content-Type": "application/xml; charset=utf-8", "Cache-Control": "no-store"})

    def send(self, req: Request, bs: BrowserSession) -> Response:
        session = self._actor(bs)
        draft = self._draft(bs)
        signed = field(form(req), "signed_xml").encode("utf-8")
        if not signed:
            raise ValidationError("signed_xml", "the application was not signed")
        info = self.elicense.register_application(session, signed, idempotency_key=draft.id)
        bs.draft = None
        bs.flash = f"{i18n.text(bs.lang, 'sent')}: № {info.number}"
        where = "/desk/applications" if draft.channel == "desk" else "/applications"
        return redirect(f"{where}/{info.number}")

    # ------------------------------------------------------------------ my applications, survey

    def applications(self, req: Request, bs: BrowserSession) -> Response:
        session = self._applicant(bs)
        number, _, action = _tail(req, "/applications").partition("/")
        if not number:
            found = sorted(self.elicense.list_applications(session), key=lambda a: a.number, reverse=True)
            return self.pages.render(bs, "applications.html", applications=found)
        if action.startswith("attachments/"):
            return attachment_answer(self.elicense, session, req, number, action[len("attachments/"):])
        details = self.elicense.get_application(session, number)
        return self.pages.render(bs, "application.html", details=details, info=details.application)

    def survey(self, req: Request, bs: BrowserSession) -> Response:
        session = self._applicant(bs)
        number = _tail(req, "/applications").removesuffix("/survey")
        f = form(req)
        self.elicense.submit_survey(session, number, field(f, "service_quality"), field(f, "information_quality"))
        bs.flash = i18n.text(bs.lang, "survey_thanks")
        return redirect(f"/applications/{number}")

    # ------------------------------------------------------------------ permit documents

    def permits(self, req: Request, bs: BrowserSession) -> Response:
        session = self._applicant(bs)
        found = self.elicense.search(LicenseSearch(iin_bin=session.subject, page_index=0, page_size=100))
        documents = []
        for listed in found.licenses:  # each licence read (and verified) for its appendices
            signed = self.elicense.get_licence(listed.number)
            service = self.elicense.get_application(session, signed.licence.application_number).application.service_code
            documents.append({"listed": listed, "licence": signed.licence, "service": service})
        return self.pages.render(bs, "permits.html", licences=found.licenses, documents=documents)

    def search(self, req: Request, bs: BrowserSession) -> Response:
        criteria = {k: (req.param(k) or "").strip() or None for k in ("number", "licensor_code", "name", "iin_bin")}
        catalogue = self.elicense.get_catalogue()
        found = (self.elicense.search(LicenseSearch(**criteria, page_index=0, page_size=50))  # type: ignore[arg-type]
                 if any(criteria.values()) else None)
        return self.pages.render(bs, "search.html", criteria=criteria, found=found, catalogue=catalogue)

    def licence(self, req: Request, bs: BrowserSession) -> Response:
        """The permit document page (``/licences/<number>``), its signed XML (``.xml``) and its PDF
        (``.pdf``); ``?download=1`` saves instead of opening."""
        name = _tail(req, "/licences")
        number, _, kind = name.partition(".")
        signed = self.elicense.get_licence(number)
        download = req.param("download") == "1"
        if kind == "xml":
            return document(signed.xml, "application/xml", f"licence-{number}.xml", download=download)
        if kind == "pdf":
            pdf = render_licence_pdf(licence_view(signed.licence))
            return document(pdf, "application/pdf", f"licence-{number}.pdf", download=download)
        service = None
        own = bs.applicant is not None and bs.applicant.subject == signed.licence.licensee.iin_bin
        if own and bs.applicant is not None:
            service = self.elicense.get_application(bs.applicant, signed.licence.application_number
                                                    ).application.service_code
        return self.pages.render(bs, "licence.html", signed=signed, licence=signed.licence, licence_service=service)
