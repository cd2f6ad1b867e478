"""``/api/v1/payments``: create (idempotent by client reference), status, receipt, cancel — and their refusals."""

from __future__ import annotations

import uuid
from typing import Any

from lxml import etree

from harness.landscape import MINISTRY_BIN, Landscape
from tests.service.conftest import Running, error_of


def _order(reference: str, amount: str = "16180.00") -> dict[str, Any]:
    return {"client_reference": reference, "payer": {"iin_bin": MINISTRY_BIN, "name": "Мектеп ЖШС"},
            "amount": amount, "application_reference": f"app-{reference}"}


def _create(service: Running, reference: str, amount: str = "16180.00") -> dict[str, Any]:
    answer = service.post("/api/v1/payments", json=_order(reference, amount))
    assert answer.status_code in (200, 201), answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_create_is_idempotent_by_client_reference(service: Running) -> None:
    reference = f"svc-{uuid.uuid4().hex[:12]}"
    first = service.post("/api/v1/payments", json=_order(reference))
    again = service.post("/api/v1/payments", json=_order(reference))
    assert (first.status_code, first.json()["created"]) == (201, True)
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert again.json()["order"]["order_id"] == first.json()["order"]["order_id"]
    assert first.json()["order"]["status"] == "CREATED"


def test_the_same_reference_with_other_data_is_a_conflict(service: Running) -> None:
    reference = f"svc-{uuid.uuid4().hex[:12]}"
    _create(service, reference)
    error_of(service.post("/api/v1/payments", json=_order(reference, "1.00")), 409, "PSE005")


def test_a_bad_payer_number_is_bad_input_naming_the_field(service: Running) -> None:
    order = _order(f"svc-{uuid.uuid4().hex[:12]}")
    order["payer"]["iin_bin"] = "123456789012"
    error = error_of(service.post("/api/v1/payments", json=order), 422, "EGOV101")
    assert error["field"] == "payer.iin_bin"
    negative = _order(f"svc-{uuid.uuid4().hex[:12]}", "-5")
    assert error_of(service.post("/api/v1/payments", json=negative), 422, "EGOV100")["field"] == "amount"


def test_status_by_id_and_by_reference(service: Running) -> None:
    reference = f"svc-{uuid.uuid4().hex[:12]}"
    order_id = _create(service, reference)["order"]["order_id"]
    by_id = service.get(f"/api/v1/payments/{order_id}")
    by_reference = service.get("/api/v1/payments", params={"client_reference": reference})
    assert by_id.status_code == by_reference.status_code == 200
    assert by_id.json() == by_reference.json()
    error_of(service.get(f"/api/v1/payments/{uuid.uuid4()}"), 404, "PSE004")
    assert error_of(service.get("/api/v1/payments/NO-SUCH-ORDER"), 422, "EGOV100")["field"] == "order_id"
    error_of(service.get("/api/v1/payments"), 422, "EGOV100")


def test_receipt_of_a_paid_order_is_verified_and_signed(service: Running, landscape: Landscape) -> None:
    order_id = _create(service, f"svc-{uuid.uuid4().hex[:12]}")["order"]["order_id"]
    error_of(service.get(f"/api/v1/payments/{order_id}/receipt"), 409, "PSE007")  # not paid yet
    landscape.bank.desk.pay(order_id)
    answer = service.get(f"/api/v1/payments/{order_id}/receipt")
    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert receipt["order_id"] == order_id and receipt["amount"] == "16180.00"
    assert receipt["summary"].startswith("16180.00 KZT paid, document No.")
    assert receipt["signer"]["bin"] == landscape.endpoints.payment_gateway_bin
    signed = etree.fromstring(receipt["signed_xml"].encode())
    assert signed.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None
    verified = service.runtime.clients.payment.verify_receipt(receipt["signed_xml"].encode())
    assert verified.document_number == receipt["document_number"]


def test_cancel_an_unpaid_order_but_not_a_paid_one(service: Running, landscape: Landscape) -> None:
    unpaid = _create(service, f"svc-{uuid.uuid4().hex[:12]}")["order"]["order_id"]
    cancelled = service.post(f"/api/v1/payments/{unpaid}/cancel", json={"reason": "applicant withdrew"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    paid = _create(service, f"svc-{uuid.uuid4().hex[:12]}")["order"]["order_id"]
    landscape.bank.desk.pay(paid)
    error_of(service.post(f"/api/v1/payments/{paid}/cancel"), 409, "PSE006")
