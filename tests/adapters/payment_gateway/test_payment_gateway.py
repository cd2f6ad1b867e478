"""Payment gateway (PShEP): fee, orders over real HTTP, idempotent creation, signed receipts."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from adapters.core.clock import FrozenClock
from adapters.core.errors import (
    ConfigurationError,
    RefusalReason,
    RetriesExhaustedError,
    SignatureRefused,
    SoapFaultError,
    ValidationError,
)
from adapters.core.settings import Settings
from adapters.core.soap import ResponseRefusedError
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.payment_gateway import (
    ClientReferenceConflictError,
    Payer,
    PaymentGatewayClient,
    PaymentNotFoundError,
    PaymentOrderRequest,
    PaymentStateError,
    PaymentStatus,
    licence_fee,
    licence_fee_from_settings,
)
from simulators.payment_gateway import PaymentGatewaySimulator
from simulators.pki import TestPKI
from tests.fixtures.backends import MINISTRY_BIN, PSHEP_BIN, SENDER_PASSWORD, BackendKeys, with_our_sender
from tests.fixtures.control import control_session

APPLICANT_BIN = "950341000052"


def fee_order(reference: str = "app-12009269-fee", amount: Decimal | None = None) -> PaymentOrderRequest:
    return PaymentOrderRequest(
        client_reference=reference, payer=Payer(iin_bin=APPLICANT_BIN, name='Филиал АО "Арман"'),
        amount=amount if amount is not None else licence_fee(Decimal("1618"), 10),
        application_reference="12009269")


def control(sim: PaymentGatewaySimulator, method: str, path: str, **kwargs: object) -> requests.Response:
    return control_session(sim.control_token).request(method, f"{sim.url}{path}", timeout=5,
                                                      **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- fee

def test_licence_fee_is_ten_mci_of_1618() -> None:
    assert licence_fee(Decimal("1618"), 10) == Decimal("16180.00")
    assert str(licence_fee(1618, 10)) == "16180.00"
    assert licence_fee("3692", 10) == Decimal("36920.00")  # another year's index


def test_licence_fee_from_settings_uses_configured_index() -> None:
    assert licence_fee_from_settings(Settings()) == Decimal("16180.00")
    assert licence_fee_from_settings(Settings(mci_kzt=Decimal("3932"), licence_fee_mci=10)) == Decimal("39320.00")


@pytest.mark.parametrize(("mci", "multiplier", "field"), [(0, 10, "mci"), ("-5", 10, "mci"), (1618, 0, "multiplier"),
                                                          (1618, True, "multiplier")])
def test_licence_fee_refuses_nonsense(mci: object, multiplier: object, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        licence_fee(mci, multiplier)  # type: ignore[arg-type]
    assert err.value.field == field


def test_order_request_refuses_invalid_payer_number() -> None:
    with pytest.raises(ValidationError, match="check digit"):
        Payer(iin_bin="950341000053", name="X")


# --------------------------------------------------------------------------- orders

def test_order_created_paid_and_queried_twice(payment_client: PaymentGatewayClient,
                                              payment_gateway_sim: PaymentGatewaySimulator) -> None:
    outcome = payment_client.create_order(fee_order())
    order = outcome.order
    assert outcome.created is True
    assert order.status is PaymentStatus.CREATED
    assert (order.amount, order.currency, order.kbk, order.knp) == (Decimal("16180.00"), "KZT", "105315", "911")
    assert order.payer.iin_bin == APPLICANT_BIN and order.application_reference == "12009269"

    paid = control(payment_gateway_sim, "POST", f"/_control/payments/{order.order_id}/pay")
    assert paid.status_code == 200 and paid.json()["status"] == "PAID"

    first = payment_client.get_status(order.order_id)
    second = payment_client.get_status(client_reference="app-12009269-fee")
    assert first.status is PaymentStatus.PAID and second.status is PaymentStatus.PAID
    assert first.order_id == second.order_id == order.order_id
    assert first.document_number == second.document_number == "90102"
    assert first.paid_at == second.paid_at is not None


def test_created_twice_with_same_client_reference_is_charged_once(
        payment_client: PaymentGatewayClient, payment_gateway_sim: PaymentGatewaySimulator) -> None:
    one = payment_client.create_order(fee_order())
    two = payment_client.create_order(fee_order())
    assert one.created is True and two.created is False
    assert one.order.order_id == two.order.order_id

    listing = control(payment_gateway_sim, "GET", "/_control/payments",
                      params={"client_reference": "app-12009269-fee"}).json()
    assert listing["count"] == 1
    assert listing["payments"][0]["create_requests"] == 2

    control(payment_gateway_sim, "POST", "/_control/payments/app-12009269-fee/pay")
    control(payment_gateway_sim, "POST", "/_control/payments/app-12009269-fee/pay")  # the bank repeats itself
    paid = payment_gateway_sim.store.list(status="PAID")
    assert [o.order_id for o in paid] == [one.order.order_id]
    assert sum(o.amount for o in paid) == Decimal("16180.00")


def test_client_reference_reused_with_other_data_is_refused(payment_client: PaymentGatewayClient) -> None:
    payment_client.create_order(fee_order())
    with pytest.raises(ClientReferenceConflictError) as err:
        payment_client.create_order(fee_order(amount=Decimal("1.00")))
    assert err.value.code == "PSE005"
    assert "app-12009269-fee" in err.value.message


def test_create_retried_after_lost_answer_creates_one_order(
        payment_client: PaymentGatewayClient, payment_gateway_sim: PaymentGatewaySimulator) -> None:
    # the gateway processes the create, then the connection is reset before the answer arrives
    payment_gateway_sim.faults.set({"kind": "reset", "operation": "CreatePaymentOrder", "when": "after",
                                    "times": 1})
    outcome = payment_client.create_order(fee_order())
    assert outcome.created is False  # the retry found the order the lost answer had created
    orders = payment_gateway_sim.store.list()
    assert len(orders) == 1 and orders[0].create_requests == 2
    calls = payment_gateway_sim.journal.entries(operation="CreatePaymentOrder")
    assert len(calls) == 2
    assert calls[0].message_id == calls[1].message_id  # the same message, sent again
    assert calls[0].fault == "reset"


def test_injected_server_fault_is_retried(payment_client: PaymentGatewayClient,
                                          payment_gateway_sim: PaymentGatewaySimulator) -> None:
    created = payment_client.create_order(fee_order()).order
    payment_gateway_sim.faults.set({"kind": "soap_fault", "code": "PSE909", "operation": "GetPaymentStatus",
                                    "times": 1})
    assert payment_client.get_status(created.order_id).status is PaymentStatus.CREATED
    assert payment_gateway_sim.journal.count(operation="GetPaymentStatus") == 2


def test_tampered_answer_is_refused(payment_client: PaymentGatewayClient,
                                    payment_gateway_sim: PaymentGatewaySimulator) -> None:
    created = payment_client.create_order(fee_order()).order
    payment_gateway_sim.faults.set({"kind": "invalid_signature", "operation": "GetPaymentStatus"})
    with pytest.raises(RetriesExhaustedError) as err:
        payment_client.get_status(created.order_id)
    assert isinstance(err.value.last, ResponseRefusedError)
    assert err.value.last.reason is RefusalReason.DIGEST_MISMATCH


def test_unknown_order_is_not_found(payment_client: PaymentGatewayClient) -> None:
    with pytest.raises(PaymentNotFoundError) as err:
        payment_client.get_status("00000000-0000-4000-8000-000000000000")
    assert err.value.code == "PSE004"


def test_rejected_and_cancelled_orders(payment_client: PaymentGatewayClient,
                                       payment_gateway_sim: PaymentGatewaySimulator) -> None:
    rejected = payment_client.create_order(fee_order("app-1-fee")).order
    resp = control(payment_gateway_sim, "POST", f"/_control/payments/{rejected.order_id}/reject",
                   json={"reason": "insufficient funds"})
    assert resp.status_code == 200
    after = payment_client.get_status(rejected.order_id)
    assert after.status is PaymentStatus.REJECTED and after.status_reason == "insufficient funds"

    kept = payment_client.create_order(fee_order("app-2-fee")).order
    cancelled = payment_client.cancel_order(kept.order_id, "application withdrawn")
    assert cancelled.status is PaymentStatus.CANCELLED
    # cancel is idempotent: a repeat (a retry whose first answer was lost) gets the cancelled order,
    # unchanged (the first reason and time are kept)
    again = payment_client.cancel_order(kept.order_id, "another reason")
    assert again.order_id == kept.order_id and again.status is PaymentStatus.CANCELLED
    assert again.status_reason == "application withdrawn" and again.updated_at == cancelled.updated_at
    assert [o.status for o in payment_gateway_sim.store.list(client_reference="app-2-fee")] == ["CANCELLED"]
    # the bank cannot pay a cancelled order either
    assert control(payment_gateway_sim, "POST", f"/_control/payments/{kept.order_id}/pay").status_code == 409
    # a rejected order cannot be cancelled
    with pytest.raises(PaymentStateError) as err:
        payment_client.cancel_order(rejected.order_id)
    assert err.value.code == "PSE006"


def test_a_paid_or_refunded_order_cannot_be_cancelled(payment_client: PaymentGatewayClient,
                                                      payment_gateway_sim: PaymentGatewaySimulator) -> None:
    order = payment_client.create_order(fee_order("app-3-fee")).order
    assert control(payment_gateway_sim, "POST", f"/_control/payments/{order.order_id}/pay").status_code == 200
    with pytest.raises(PaymentStateError) as err:
        payment_client.cancel_order(order.order_id)
    assert err.value.code == "PSE006"
    assert payment_client.get_status(order.order_id).status is PaymentStatus.PAID
    assert control(payment_gateway_sim, "POST", f"/_control/payments/{order.order_id}/refund").status_code == 200
    with pytest.raises(PaymentStateError) as err:
        payment_client.cancel_order(order.order_id)
    assert err.value.code == "PSE006"
    assert payment_client.get_status(order.order_id).status is PaymentStatus.REFUNDED


def test_refund_keeps_the_receipt(payment_client: PaymentGatewayClient,
                                  payment_gateway_sim: PaymentGatewaySimulator) -> None:
    order = payment_client.create_order(fee_order()).order
    control(payment_gateway_sim, "POST", f"/_control/payments/{order.order_id}/pay")
    control(payment_gateway_sim, "POST", f"/_control/payments/{order.order_id}/refund")
    assert payment_client.get_status(order.order_id).status is PaymentStatus.REFUNDED
    assert payment_client.get_receipt(order.order_id).document_number == "90102"


def test_unsigned_request_is_refused_by_the_gateway(payment_gateway_sim: PaymentGatewaySimulator,
                                                    backend_verifier: VerificationService) -> None:
    client = PaymentGatewayClient(payment_gateway_sim.endpoint_url, signer=None, verifier=backend_verifier,
                                  sender_password=SENDER_PASSWORD, allow_unsigned=True)
    with pytest.raises(SoapFaultError) as err:
        client.create_order(fee_order())
    assert err.value.code == "PSE017" and not err.value.retryable
    assert payment_gateway_sim.store.list() == []


def test_client_refuses_to_run_unsigned_by_default(backend_verifier: VerificationService) -> None:
    with pytest.raises(ConfigurationError, match="signer and a verifier"):
        PaymentGatewayClient("http://127.0.0.1:9/pshep/", signer=None, verifier=backend_verifier,
                             sender_password=SENDER_PASSWORD)


@pytest.mark.parametrize("password", [None, ""])
def test_client_refuses_to_run_without_our_sender_password(backend_keys: BackendKeys,
                                                           backend_verifier: VerificationService,
                                                           password: str | None) -> None:
    with pytest.raises(ConfigurationError, match="sender's password") as err:
        PaymentGatewayClient("http://127.0.0.1:9/pshep/", signer=SigningService(backend_keys.ministry),
                             verifier=backend_verifier, sender_password=password)
    assert err.value.context["setting"] == "sender_password"


# --------------------------------------------------------------------------- receipts

def test_receipt_is_signed_by_the_payment_gateway(payment_client: PaymentGatewayClient,
                                                  payment_gateway_sim: PaymentGatewaySimulator) -> None:
    order = payment_client.create_order(fee_order()).order
    control(payment_gateway_sim, "POST", f"/_control/payments/{order.order_id}/pay",
            json={"bank_bic": "KCJBKZKX", "bank_name": 'АО "Kaspi Bank"'})
    receipt = payment_client.get_receipt(order.order_id)
    assert receipt.signer.bin == PSHEP_BIN
    assert (receipt.order_id, receipt.client_reference, receipt.application_reference) == (
        order.order_id, "app-12009269-fee", "12009269")
    assert receipt.amount == Decimal("16180.00") and receipt.payer.iin_bin == APPLICANT_BIN
    assert (receipt.bank.bic, receipt.document_number) == ("KCJBKZKX", "90102")
    assert re.fullmatch(r"16180\.00 KZT paid, document No\. 90102 of \d\d\.\d\d\.\d{4}", receipt.summary())
    # a stored receipt verifies again later, byte for byte what the gateway signed
    assert payment_client.verify_receipt(receipt.signed_xml) == receipt


def test_tampered_receipt_is_refused(payment_client: PaymentGatewayClient,
                                     payment_gateway_sim: PaymentGatewaySimulator) -> None:
    order = payment_client.create_order(fee_order()).order
    control(payment_gateway_sim, "POST", f"/_control/payments/{order.order_id}/pay")
    signed = payment_client.get_receipt(order.order_id).signed_xml
    tampered = signed.replace(b">16180.00<", b">1618.00<")
    assert tampered != signed
    with pytest.raises(SignatureRefused) as err:
        payment_client.verify_receipt(tampered)
    assert err.value.reason is RefusalReason.DIGEST_MISMATCH


def test_receipt_signed_by_someone_else_is_refused(payment_client: PaymentGatewayClient,
                                                   payment_gateway_sim: PaymentGatewaySimulator,
                                                   backend_keys: BackendKeys) -> None:
    order = payment_client.create_order(fee_order()).order
    control(payment_gateway_sim, "POST", f"/_control/payments/{order.order_id}/pay")
    signed = payment_client.get_receipt(order.order_id).signed_xml
    # a well-formed, validly signed receipt — but by the ministry, not by the payment gateway
    stripped = re.sub(rb"<ds:Signature.*</ds:Signature>", b"", signed, flags=re.S)
    forged = SigningService(backend_keys.ministry).sign_document(stripped)
    with pytest.raises(SignatureRefused) as err:
        payment_client.verify_receipt(forged)
    assert err.value.reason is RefusalReason.BIN_MISMATCH
    assert MINISTRY_BIN in err.value.message or PSHEP_BIN in err.value.message
    with pytest.raises(SignatureRefused) as unsigned:
        payment_client.verify_receipt(stripped)
    assert unsigned.value.reason is RefusalReason.MISSING_SIGNATURE


def test_no_receipt_before_payment(payment_client: PaymentGatewayClient) -> None:
    order = payment_client.create_order(fee_order()).order
    with pytest.raises(PaymentStateError) as err:
        payment_client.get_receipt(order.order_id)
    assert err.value.code == "PSE007"


# --------------------------------------------------------------------------- auto-pay

@pytest.fixture
def auto_pay_sim(backend_keys: BackendKeys, backend_verifier: VerificationService) -> Iterator[
        tuple[PaymentGatewaySimulator, FrozenClock]]:
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    sim = with_our_sender(PaymentGatewaySimulator(signer=SigningService(backend_keys.payment_gateway),
                                                  verifier=backend_verifier, clock=clock,
                                                  auto_pay_after=dt.timedelta(seconds=30))).start()
    try:
        yield sim, clock
    finally:
        sim.stop()


def test_auto_pay_after_configured_delay(auto_pay_sim: tuple[PaymentGatewaySimulator, FrozenClock],
                                         backend_keys: BackendKeys, backend_verifier: VerificationService) -> None:
    sim, clock = auto_pay_sim
    client = PaymentGatewayClient(sim.endpoint_url, signer=SigningService(backend_keys.ministry),
                                  verifier=backend_verifier, expect_gateway_bin=PSHEP_BIN,
                                  sender_password=SENDER_PASSWORD)
    order = client.create_order(fee_order()).order
    clock.advance(dt.timedelta(seconds=29))
    assert client.get_status(order.order_id).status is PaymentStatus.CREATED
    clock.advance(dt.timedelta(seconds=2))
    paid = client.wait_until_final(order.order_id, deadline=5)
    assert paid.status is PaymentStatus.PAID
    assert paid.paid_at == order.created_at + dt.timedelta(seconds=30)
    assert client.get_receipt(order.order_id).amount == Decimal("16180.00")

    # the delay is a control-API setting too
    assert control(sim, "PUT", "/_control/auto-pay", json={"delay_seconds": None}).json() == {"delay_seconds": None}
    later = client.create_order(fee_order("app-2-fee")).order
    clock.advance(dt.timedelta(hours=1))
    assert client.get_status(later.order_id).status is PaymentStatus.CREATED


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 command not installed")
def test_receipt_verifies_with_xmlsec1(payment_client: PaymentGatewayClient,
                                       payment_gateway_sim: PaymentGatewaySimulator, pki: TestPKI,
                                       tmp_path: Path) -> None:
    """An independent verifier accepts the gateway's receipt, and refuses it once changed."""
    order = payment_client.create_order(fee_order()).order
    control(payment_gateway_sim, "POST", f"/_control/payments/{order.order_id}/pay")
    signed = payment_client.get_receipt(order.order_id).signed_xml
    root_pem, issuing_pem = tmp_path / "root.pem", tmp_path / "issuing.pem"
    root_pem.write_bytes(pki.root_certificate.public_bytes(serialization.Encoding.PEM))
    issuing_pem.write_bytes(pki.issuing_certificate.public_bytes(serialization.Encoding.PEM))

    def xmlsec1(document: bytes) -> subprocess.CompletedProcess[bytes]:
        path = tmp_path / "receipt.xml"
        path.write_bytes(document)
        return subprocess.run(["xmlsec1", "--verify", "--trusted-pem", str(root_pem), "--untrusted-pem",
                               str(issuing_pem), str(path)], capture_output=True, timeout=30, check=False)

    assert xmlsec1(signed).returncode == 0
    assert xmlsec1(signed.replace(b">16180.00<", b">1618.00<")).returncode != 0
