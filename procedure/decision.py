"""Steps both diagrams share, from registration to the decision.

- registration (Diagram 1 step 9 / Diagram 2 step 7): E-licensing registers the signed application
  under the step's idempotency key; the licensor's officer takes it into work; the 30-working-day
  review deadline is counted from the registration;
- the refusal (D1 10 / D2 8) records the decision in E-licensing and writes the signed refusal
  letter and its PDF;
- the result (D1 11 / D2 9) records the decision to issue, takes the signed licence its answer
  carries (verified by the adapter; fetched from the registry only when the answer has none),
  consumes the status notices from the gateway and writes the licence XML and PDF.

The qualification check between them (D1 C4 / D2 C3) is :func:`procedure.qualification.qualification_step`.
"""

from __future__ import annotations

import base64
from typing import Any

from adapters.core.errors import ConfigurationError, DeadlineExceededError, ValidationError
from adapters.elicense import ApplicationInfo, MissingDocument, Session
from procedure.application import Application
from procedure.calendar import DEFAULT_OFFICE_HOURS, REVIEW_WORKING_DAYS, registration_day, review_deadline
from procedure.logins import Logins
from procedure.machine import FlowContext, Outcome, passed
from procedure.models import Operation
from procedure.ports import ProcedurePorts
from procedure.survey import QUESTIONS

__all__ = ["DecisionSteps"]


class DecisionSteps:
    """Registration, refusal and result, on the application's own channel (portal or employee)."""

    def __init__(self, ports: ProcedurePorts, logins: Logins, *, notice_deadline: float = 5.0,
                 review_working_days: int = REVIEW_WORKING_DAYS, office_hours: str = DEFAULT_OFFICE_HOURS) -> None:
        self.ports = ports
        self.logins = logins
        self.notice_deadline = notice_deadline
        self.review_working_days = review_working_days
        """The review deadline, in working days from registration (``EGOV_REVIEW_WORKING_DAYS``)."""
        self.office_hours = office_hours

    def _officer(self, app: Application, ctx: FlowContext) -> Session:
        return self.logins.officer(app.officer, ctx.clock.now())

    def register(self, ctx: FlowContext) -> Outcome:
        """E-licensing registers the signed application; the licensor's officer takes it into work."""
        app = Application.of_flow(ctx.data)
        now = ctx.clock.now()
        session = self.logins.applicant(app, now) if app.diagram == 1 else self._officer(app, ctx)
        signed = base64.b64decode(ctx.data["signed_application"])
        info = self.ports.elicense.register_application(session, signed, idempotency_key=ctx.idempotency_key)
        if info.licensor.code != app.officer.licensor_code:
            raise ConfigurationError(f"application {info.number} went to licensor {info.licensor.code}, the "
                                     f"application's officer works for {app.officer.licensor_code}",
                                     setting="officer")
        self.ports.elicense.start_processing(self._officer(app, ctx), info.number)
        registered_on = registration_day(info.registered_at, hours=self.office_hours)
        deadline = review_deadline(registered_on, self.review_working_days)
        return passed(f"application {info.number} received {info.registered_at:%d.%m.%Y %H:%M:%S}, registered "
                      f"{registered_on:%d.%m.%Y}, review until {deadline:%d.%m.%Y}",
                      application_number=info.number, registered_at=info.registered_at.isoformat(),
                      registration_date=registered_on.isoformat(), licensor=info.licensor.code,
                      deadline=deadline.isoformat())

    def refuse(self, ctx: FlowContext) -> Outcome:
        """The refusal: the missing documents recorded, the signed letter and its PDF written."""
        app = Application.of_flow(ctx.data)
        number = str(ctx.data["application_number"])
        rows = ctx.data.get("qualification", {}).get("missing", [])
        missing = [MissingDocument(document=r["name_ru"], comment=r.get("comment_ru") or r["comment"],
                                   document_kz=r.get("name_kk") or None, comment_kz=r.get("comment_kk") or None)
                   for r in rows]
        if not missing:
            raise ValidationError("qualification.missing", "a refusal lists at least one missing document")
        details = self.ports.elicense.refuse(self._officer(app, ctx), number, missing,
                                             idempotency_key=ctx.idempotency_key)
        if details.refusal is None:
            raise ValidationError("refusal", f"E-licensing refused application {number} without a letter")
        xml_path, pdf_path = self.ports.artefacts.write_refusal(details.refusal, rows)
        return passed(f"refusal letter of application {number}", refusal_xml=str(xml_path),
                      refusal_pdf=str(pdf_path), refused_by=details.refusal.signer.describe(),
                      **_names(details.application))

    def result(self, ctx: FlowContext) -> Outcome:
        """The decision to issue; the applicant receives the licence as the registry holds it, verified."""
        app = Application.of_flow(ctx.data)
        number = str(ctx.data["application_number"])
        decided = self.ports.elicense.issue(self._officer(app, ctx), number, idempotency_key=ctx.idempotency_key)
        licence_number = decided.application.licence_number
        if licence_number is None:
            raise ValidationError("licence_number", f"application {number} is {decided.application.status}, "
                                                    "not issued")
        # The decision's answer carries the licence, already verified (signature, certificate, role,
        # the issuing body's BIN) by the adapter; it is fetched from the registry only when it does not.
        signed = decided.licence
        if signed is None or signed.licence.number != licence_number:
            signed = self.ports.elicense.get_licence(licence_number)
        notices = self.ports.notices.fetch(application_number=number)
        if not notices:
            try:
                notices = self.ports.notices.wait(application_number=number, deadline=self.notice_deadline)
            except DeadlineExceededError:  # a resumed step may find them consumed already
                notices = []
        suffix = "" if app.operation in (Operation.ISSUE, Operation.REISSUE) else f"-{app.operation.value}"
        xml_path, pdf_path = self.ports.artefacts.write_licence(signed, suffix=suffix)
        return passed(f"licence {licence_number} ({signed.licence.kind}), signed by {signed.signer.common_name}",
                      licence_number=licence_number, licence_kind=signed.licence.kind,
                      licence_xml=str(xml_path), licence_pdf=str(pdf_path),
                      notices=[n.status for n in notices], signed_by=signed.signer.describe(),
                      **_names(decided.application))


def _names(info: ApplicationInfo) -> dict[str, Any]:
    """The application's status and type as E-licensing names them, in Kazakh and Russian (for people),
    and the survey offered to the applicant now that the application is decided (its questions' codes;
    the texts are :data:`procedure.survey.QUESTIONS`)."""
    return {"application_status": {"code": info.status, "kk": info.status_name_kz or "", "ru": info.status_name},
            "application_type": {"code": info.application_type, "kk": info.application_type_name_kz or "",
                                 "ru": info.application_type_name},
            "survey_offered": list(QUESTIONS)}
