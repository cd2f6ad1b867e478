"""The application form on E-licensing: the attachments uploaded, the form filled from the request.

Diagram 1 step 3 and Diagram 2 step 6 attach the request's files (:func:`attach`); the form then
references them by name, SHA-256 and size (:func:`application_form`), so that the signed
application proves which files were submitted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.elicense import Address, ApplicationForm, Payment, Session
from adapters.elicense import Applicant as FormApplicant
from adapters.elicense.models import AttachmentRef
from procedure.application import Application
from procedure.models import Operation
from procedure.ports import Elicensing

__all__ = ["application_form", "attach"]


def attach(elicense: Elicensing, session: Session, application: Application) -> dict[str, Any]:
    """Upload the request's attachments; the flow keeps the documents as submitted
    (``"documents"``, what the qualification check reads) and the files' references (``"attachments"``)."""
    files = {a.name: Path(a.path) for a in application.attachments}
    refs = elicense.attachment_refs(files)
    for name, path in files.items():
        elicense.upload_attachment(session, name, path)
    return {"documents": application.submitted_documents().model_dump(mode="json"),
            "attachments": [r.model_dump(mode="json") for r in refs]}


def application_form(elicense: Elicensing, application: Application, data: Mapping[str, Any], *,
                     submitted_at: dt.datetime, payment: Payment | None, paper: str | None) -> ApplicationForm:
    """The form of ``application``, with the attachments ``data`` holds (see :func:`attach`)."""
    a = application.applicant
    sub_types = elicense.get_catalogue().service(application.service_code).sub_types
    if application.operation is Operation.ISSUE:
        chosen: tuple[str, ...] = (sub_types[0].code,)
    elif application.operation is Operation.APPENDIX:
        chosen = (sub_types[-1].code,)
    else:
        chosen = ()
    refs = tuple(AttachmentRef.model_validate(r) for r in data.get("attachments", []))
    return ApplicationForm(
        app_type=application.operation.value.upper(),  # type: ignore[arg-type]
        service_code=application.service_code, licence_number=application.licence_number,
        applicant=FormApplicant(iin_bin=a.bin, name=a.name, is_small_business=True,
                                address=Address(postal_index=a.postal_index, city_kato=a.city_kato,
                                                city_name=a.city_name, street_ru=a.street_ru,
                                                street_kz=a.street_kz, house=a.house),
                                phone=a.phone, head_name=a.head_name or None),
        territory_code="000000000", sub_types=chosen, payment=payment, attachments=refs,
        paper_documents=paper, special_conditions=application.special_conditions or None,
        submitted_at=submitted_at)
