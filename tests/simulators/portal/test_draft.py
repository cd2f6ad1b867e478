"""The wizard's draft: 30 MB of attachments in total at most, and a form only once every step is done."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.contracts.elicense import ATTACHMENTS_MAX_TOTAL_BYTES
from adapters.core.errors import ValidationError
from adapters.elicense import ElicenseClient
from simulators.portal.draft import Draft, UploadedFile

NOW = dt.datetime(2026, 12, 3, 10, 0, 7, 123, tzinfo=dt.UTC)
APPLICANT = {"name": "«Шаһар» білім ордасы ЖШС", "postal_index": "010000", "city_kato": "710000000",
             "city_name": "Астана", "street_ru": "ул. Толе би", "street_kz": "", "house": "150", "flat": "",
             "phone": "+7 727 000 00 00", "small_business": "1"}


def test_attachments_beyond_30_mb_in_total_are_refused() -> None:
    draft = Draft(service_code="S1")
    draft.attachments.append(UploadedFile("Жарғы", "Жарғы.pdf", "0" * 64, ATTACHMENTS_MAX_TOTAL_BYTES - 10))
    draft.check_room(10)
    with pytest.raises(ValidationError) as refused:
        draft.check_room(11)
    assert refused.value.field == "attachments" and "30 MB" in str(refused.value)


def test_the_form_needs_every_step_and_keeps_its_submission_time() -> None:
    draft = Draft(service_code="S1")
    with pytest.raises(ValidationError, match="territory"):
        draft.form("110240163063", NOW)
    draft.territory_code = "710000000"
    draft.applicant = dict(APPLICANT)
    with pytest.raises(ValidationError, match="payment"):
        draft.form("110240163063", NOW)
    draft.payment = {"amount_paid": "16180.00", "document_number": "90102", "document_date": "2026-12-03",
                     "amount_due": "16180", "receipt_id": "order-1"}
    draft.sub_types = ["ED010100"]
    form = draft.form("110240163063", NOW)
    assert form.submitted_at == NOW.replace(microsecond=0)
    assert draft.form("110240163063", NOW + dt.timedelta(minutes=5)).submitted_at == form.submitted_at
    assert form.applicant.is_small_business and form.applicant.address.street_kz is None
    doc = ElicenseClient.application_document(form)  # schema-valid: what the browser signs
    assert doc.findtext("{http://elicense.kz/Elicense/v10/Types}ServiceCode") == "S1"
