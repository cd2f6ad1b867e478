"""The licensor's desk (Diagram 2, and the decisions of Diagram 1): the employee's login, the
applications with their review deadlines (30 working days from registration; overdue marked),
an application's page with the Legal Entities register's data and the attachments (each opened or
saved from E-licensing, ``GetAttachment``, checked against the signed application's digest), and the
decision to issue or refuse (the missing-documents table, a comment per row): the licence or refusal
letter E-licensing prepares, signed by the head through NCALayer (:mod:`portal.decision`), is what
E-licensing records."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import unquote

from adapters.core.errors import EgovError, ValidationError
from adapters.elicense import ApplicationInfo, MissingDocument, Session
from adapters.legal_entities.models import Found
from procedure.calendar import review_deadline
from simulators.common.messages import Request, Response
from simulators.common.router import Router
from simulators.portal import i18n
from simulators.portal.applicant import with_register_record
from simulators.portal.attachments import attachment_answer
from simulators.portal.backends import PortalBackends
from simulators.portal.decision import Pending, accept_signed, check_decision, decision_key
from simulators.portal.draft import Draft
from simulators.portal.pages import Pages
from simulators.portal.requirements import required_documents
from simulators.portal.sessions import BrowserSession
from simulators.portal.web import field, form, json_answer, redirect

OPEN = ("SENT", "IN_PROGRESS")


def review_state(registered_at: dt.datetime, status: str, today: dt.date) -> tuple[dt.date, bool]:
    """The review deadline (30 working days from registration by the state body, the memo's count) and
    whether an undecided application is past it on ``today``."""
    deadline = review_deadline(registered_at)
    return deadline, status in OPEN and today > deadline


class DeskPages:
    def __init__(self, pages: Pages, backends: PortalBackends) -> None:
        self.pages = pages
        self.b = backends

    def install(self, router: Router) -> None:
        p = self.pages.page
        router.add("GET", "/desk/login", p(self.login_form))
        router.add("POST", "/desk/login", p(self.login))
        router.add("GET", "/desk/new", p(self.new_form))
        router.add("POST", "/desk/new", p(self.new))
        router.add("GET", "/desk", p(self.listing))
        router.add("GET", "/desk/applications", p(self.application))
        router.add("POST", "/desk/applications", p(self.act))

    def _employee(self, bs: BrowserSession) -> Session:
        if bs.employee is None or bs.employee.expires_at <= self.b.clock.now():
            bs.employee = None
            raise ValidationError("session", i18n.text(bs.lang, "need_login"))
        return bs.employee

    def login_form(self, req: Request, bs: BrowserSession) -> Response:
        return self.pages.render(bs, "desk_login.html", error=None)

    def login(self, req: Request, bs: BrowserSession) -> Response:
        f = form(req)
        try:
            bs.employee = self.b.clients.elicense.authorize_employee(field(f, "login"), field(f, "password"))
        except EgovError as exc:
            return self.pages.render(bs, "desk_login.html", 422, error=f"{i18n.text(bs.lang, 'login_refused')}: {exc}")
        self.pages.sessions.rotate(bs)
        return redirect("/desk")

    def new_form(self, req: Request, bs: BrowserSession) -> Response:
        self._employee(bs)
        return self.pages.render(bs, "desk_new.html", catalogue=self.b.clients.elicense.get_catalogue(), error=None)

    def new(self, req: Request, bs: BrowserSession) -> Response:
        """Diagram 2, steps 3 to 5: the service and the applicant's BIN; the applicant's data asked of the
        Legal Entities register through the gateway; absent, the application cannot be made."""
        self._employee(bs)
        f = form(req)
        service, iin_bin = field(f, "service"), field(f, "iin_bin")
        catalogue = self.b.clients.elicense.get_catalogue()
        if not any(s.code == service for s in catalogue.services):
            raise ValidationError("service", f"unknown service {service!r}")
        outcome = self.b.clients.legal_entities.lookup_bin(iin_bin)
        if not isinstance(outcome, Found):
            message = f"{i18n.text(bs.lang, 'no_register_data')}: {iin_bin} ({outcome.kind})"
            return self.pages.render(bs, "desk_new.html", 422, catalogue=catalogue, error=message)
        empty = {k: "" for k in ("postal_index", "city_kato", "city_name", "street_ru", "street_kz", "house", "flat",
                                 "phone", "small_business")}
        bs.draft = Draft(service_code=service, channel="desk", applicant_iin_bin=iin_bin,
                         applicant=with_register_record({"name": iin_bin, **empty}, outcome))
        return redirect("/wizard/territory")

    def _row(self, info: ApplicationInfo) -> dict[str, Any]:
        deadline, overdue = review_state(info.registered_at, info.status, self.b.clock.now().date())
        return {"info": info, "deadline": deadline, "overdue": overdue}

    def listing(self, req: Request, bs: BrowserSession) -> Response:
        employee = self._employee(bs)
        rows = [self._row(a) for a in self.b.clients.elicense.list_applications(employee)]
        rows.sort(key=lambda r: (r["info"].status not in OPEN, r["deadline"], r["info"].number))
        return self.pages.render(bs, "desk_list.html", rows=rows)

    def _number(self, req: Request) -> tuple[str, str]:
        rest = req.path[len("/desk/applications"):].strip("/")
        number, _, action = rest.partition("/")
        return number, action

    def application(self, req: Request, bs: BrowserSession) -> Response:
        employee = self._employee(bs)
        number, action = self._number(req)
        if action.startswith("attachments/"):
            return attachment_answer(self.b.clients.elicense, employee, req, number,
                                     unquote(action[len("attachments/"):]))
        details = self.b.clients.elicense.get_application(employee, number)
        info = details.application
        iin_bin = info.applicant.iin_bin
        le = self.b.clients.legal_entities
        outcome = le.lookup_bin(iin_bin) if iin_bin[4] in "456" else le.lookup_iin(iin_bin)
        organisation = outcome.organisation if isinstance(outcome, Found) else None
        return self.pages.render(bs, "desk_application.html", details=details, info=info, row=self._row(info),
                                 organisation=organisation, register_outcome=outcome,
                                 licensor_bin=self._licensor_bin(employee),
                                 required=required_documents(info.service_code, info.application_type, bs.lang))

    def act(self, req: Request, bs: BrowserSession) -> Response:
        employee = self._employee(bs)
        number, action = self._number(req)
        elicense = self.b.clients.elicense
        if action == "take":
            elicense.start_processing(employee, number)
            return redirect(f"/desk/applications/{number}")
        if action == "decision":
            return self._make_decision(req, bs, employee, number)
        if action == "decide":
            return self._decide(req, bs, employee, number)
        return Response.text(f"no action {action!r}", 404)

    def _licensor_bin(self, employee: Session) -> str:
        catalogue = self.b.clients.elicense.get_catalogue()
        found = next((lic for lic in catalogue.licensors if lic.code == employee.licensor_code), None)
        if found is None:
            raise ValidationError("licensor", f"the employee's licensor {employee.licensor_code} is not in the "
                                              "catalogue")
        return found.bin

    def _make_decision(self, req: Request, bs: BrowserSession, employee: Session, number: str) -> Response:
        """What the head signs (JSON in: kind, special conditions, rows): the licence or the refusal letter
        E-licensing prepares."""
        try:
            body = json.loads(req.body)
            missing = [MissingDocument(document=str(r["document"]).strip(), comment=str(r["comment"]).strip())
                       for r in body.get("missing", []) if str(r.get("document", "")).strip()]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return json_answer({"error": f"not a decision: {exc}"}, 400)
        except EgovError as exc:
            return json_answer({"error": str(exc)}, 422)
        kind = str(body.get("kind"))
        special = str(body.get("special_conditions") or "").strip() or None
        elicense = self.b.clients.elicense
        try:
            check_decision(kind, missing)  # before E-licensing is asked
            made = (elicense.prepare_licence(employee, number, special_conditions=special) if kind == "issue"
                    else elicense.prepare_refusal(employee, number, missing))
            bs.pending[number] = Pending(kind, made, special, tuple(missing))
        except EgovError as exc:
            return json_answer({"error": str(exc)}, 422)
        return json_answer({"xml": made.decode("utf-8")})

    def _decide(self, req: Request, bs: BrowserSession, employee: Session, number: str) -> Response:
        pending = bs.pending.get(number)
        if pending is None:
            raise ValidationError("decision", "no decision was prepared for this application on this desk")
        signed = field(form(req), "signed_xml").encode("utf-8")
        verified = accept_signed(signed, pending.document, licensor_bin=self._licensor_bin(employee),
                                 verification=self.b.clients.verification)
        key = decision_key(number, pending.document)
        elicense = self.b.clients.elicense
        # the licence or letter the head signed is the one E-licensing keeps
        if pending.kind == "issue":
            elicense.issue(employee, number, idempotency_key=key, special_conditions=pending.special_conditions,
                           signed_licence=signed)
        else:
            elicense.refuse(employee, number, list(pending.missing), idempotency_key=key, signed_refusal=signed)
        del bs.pending[number]
        bs.flash = f"{i18n.text(bs.lang, 'decided')} ({verified.signer.common_name})"
        return redirect(f"/desk/applications/{number}")
