"""Diagram 2, the service through the provider's employee: the employee's steps up to the signed application.

- 1 the employee's login; C1 E-licensing checks the login and the password the employee typed;
- 3 the applicant's data entered as brought on paper; 4 the Legal Entities database asked through
  the e-Government gateway; C2 branches on its typed answer (found / not found / liquidated /
  inactive);
- 6 the form filled from the register's answer (name, BIN, address, head) and completed with what
  the applicant brought, each difference between the two shown (:mod:`procedure.entity_form`); the
  paper documents noted, the scans attached and the form signed with the employee's EDS (kept in
  the flow, so that registering it again after a crash sends the same document).

Registration, the qualification check and the decision are shared with Diagram 1
(:mod:`procedure.decision`).
"""

from __future__ import annotations

import base64
from typing import Any

from adapters.core.xmlsig import SigningService
from adapters.elicense import AuthorisationDenied
from adapters.legal_entities import Found, Inactive, InvalidBin, Liquidated, NotFound
from procedure.application import Application
from procedure.entity_form import form_applicant, register_record
from procedure.form import application_form, attach
from procedure.logins import Logins
from procedure.machine import FlowContext, Outcome, failed, passed
from procedure.ports import ProcedurePorts

__all__ = ["ProviderSteps"]

_FOUND = Found.model_fields["kind"].default
_ABSENT = (NotFound.model_fields["kind"].default, InvalidBin.model_fields["kind"].default)


class ProviderSteps:
    """Steps 1, C1, 3, 4, C2 and 6 of Diagram 2."""

    def __init__(self, ports: ProcedurePorts, logins: Logins) -> None:
        self.ports = ports
        self.logins = logins

    def log_in(self, ctx: FlowContext) -> Outcome:
        """Step 1: the employee logs in to E-licensing."""
        login = Application.of_flow(ctx.data).officer.login
        return passed(f"login {login}", login=login)

    def authorise(self, ctx: FlowContext) -> Outcome:
        """C1: E-licensing checks the login and the typed password."""
        officer = Application.of_flow(ctx.data).officer
        try:
            session = self.ports.elicense.authorize_employee(officer.login, officer.password.resolve())
        except AuthorisationDenied as exc:
            return failed(f"{exc.code}: {exc}")
        self.logins.remember("employee", officer.login, session)
        return passed(f"authorised as {session.subject} ({session.licensor_code})", authorised=session.subject)

    def enter_applicant(self, ctx: FlowContext) -> Outcome:
        """Step 3: the service chosen, the applicant's data entered."""
        app = Application.of_flow(ctx.data)
        a = app.applicant
        brought = {"bin": a.bin, "name": a.name, "head_name": a.head_name, "address": ", ".join(
            p for p in (a.postal_index, a.city_name, a.street_ru, a.house) if p), "phone": a.phone}
        return passed(f"service {app.service_code}, applicant BIN {a.bin} ({a.name})", applicant_bin=a.bin,
                      applicant_brought=brought)

    def ask_legal_entities(self, ctx: FlowContext) -> Outcome:
        """Step 4: the applicant's record, from the Legal Entities database through the gateway."""
        app = Application.of_flow(ctx.data)
        outcome = self.ports.legal_entities.lookup_bin(app.applicant.bin, correlation_id=ctx.flow_id)
        found: dict[str, Any] = {"kind": outcome.kind, "present": outcome.present, "eligible": outcome.eligible}
        if isinstance(outcome, Found | Liquidated | Inactive):
            org = outcome.organisation
            found.update(status=org.status.value, **register_record(org))
        return passed(f"register answered {outcome.kind}", legal_entity=found)

    def applicant_present(self, ctx: FlowContext) -> Outcome:
        """C2: a registered, active entity; absent, liquidated or inactive ones are refused."""
        bin_value = Application.of_flow(ctx.data).applicant.bin
        le = ctx.data["legal_entity"]
        kind = le["kind"]
        if kind == _FOUND:
            return passed(f"{le['name_ru']} is registered")
        if kind in _ABSENT:
            return failed(f"BIN {bin_value} is absent from the Legal Entities database ({kind})")
        return failed(f"BIN {bin_value} is {le.get('status', kind)} in the Legal Entities database: "
                      "the data of a registered, active entity cannot be obtained")

    def fill_and_attach(self, ctx: FlowContext) -> Outcome:
        """Step 6: paper documents noted, scans attached; the completed form is signed with the employee's EDS."""
        app = Application.of_flow(ctx.data)
        applicant, mismatches = form_applicant(app.applicant, ctx.data["legal_entity"])
        data = attach(self.ports.elicense, self.logins.officer(app.officer, ctx.clock.now()), app)
        paper = "; ".join(d["code"] for d in data["documents"]["documents"])
        form = application_form(self.ports.elicense, app.model_copy(update={"applicant": applicant}), data,
                                submitted_at=ctx.clock.now(), payment=None,
                                paper=f"paper originals brought in: {paper}")
        signed = self.ports.elicense.sign_application(form, SigningService(self.logins.key(app.officer.key)))
        shown = "; ".join(f"{m['field']}: register {m['register']!r}, brought {m['brought']!r}" for m in mismatches)
        return passed(f"form filled from the register{f' (differs from what was brought: {shown})' if shown else ''}"
                      f"; {len(data['attachments'])} scans attached, form signed", **data,
                      register_mismatches=mismatches, signed_application=base64.b64encode(signed).decode())
