"""Every answer is matched to its request (issue 11, item 7).

A man in the middle (:class:`tests.fixtures.replay.ReplayProxy`) forwards the client's calls to a
real gateway simulator and replays, for a later request, an answer the gateway validly signed for
another one: the async channel's ``getMessageStatus``, ``sendMessage`` and
``sendDeliveryNotification``, ``getMessages`` for another correlationId, a Legal Entities register
answer about another organisation, a payment gateway answer about another order, an E-licensing
status notice travelling under another application's correlationId. Each replay is refused with a
:class:`MismatchedAnswerError` naming the identifier (and never the other request's value), and
nothing is taken from it: nothing returned, nothing acknowledged, nothing forwarded.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from adapters.contracts.elicense import STATUS_NOTIFICATION_SERVICE_ID
from adapters.core.errors import DeadlineExceededError, MismatchedAnswerError, RetriesExhaustedError
from adapters.core.resilience import ResilientCaller, RetryPolicy
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.egov_gateway import GatewayClient
from adapters.elicense import StatusNotificationConsumer
from adapters.legal_entities import Found, LegalEntitiesClient
from adapters.payment_gateway import Payer, PaymentGatewayClient, PaymentOrderRequest
from simulators.egov_gateway import GatewaySimulator, wire
from simulators.elicense.documents import build_status_notice
from simulators.legal_entities import LegalEntitiesState
from simulators.payment_gateway import PaymentGatewaySimulator
from tests.fixtures.backends import MINISTRY_BIN, SENDER_ID, SENDER_PASSWORD, SHEP_BIN, BackendKeys
from tests.fixtures.gateway import ECHO_SERVICE, GatewayEnv
from tests.fixtures.replay import ReplayProxy

PAYLOAD = etree.fromstring(b'<q xmlns="urn:test">hello</q>')


def _no_retry() -> ResilientCaller:
    return ResilientCaller(RetryPolicy.no_retry(), sleep=lambda seconds: None)


@pytest.fixture
def proxied(gateway_env: GatewayEnv) -> Iterator[tuple[GatewayClient, ReplayProxy]]:
    with ReplayProxy(gateway_env.sim.url) as proxy, gateway_env.client() as direct:
        client = GatewayClient(proxy.url + GatewaySimulator.SYNC_PATH, signing=gateway_env.signing(),
                               verification=gateway_env.verification(), sender_id=direct.sender_id,
                               sender_password="s3cret", caller=_no_retry())
        try:
            yield client, proxy
        finally:
            client.close()


def _refused(exc: pytest.ExceptionInfo[Any], field: str, expected: str, other: str) -> None:
    """The refusal (a gateway client's call runs under its caller: one attempt, then given up)."""
    refused = exc.value.last if isinstance(exc.value, RetriesExhaustedError) else exc.value
    assert isinstance(refused, MismatchedAnswerError)
    assert refused.field == field and expected in refused.message
    assert other not in str(exc.value.to_dict())  # the other request's id is not revealed


def test_a_replayed_message_status_is_refused(proxied: tuple[GatewayClient, ReplayProxy]) -> None:
    client, proxy = proxied
    first = client.send_async(ECHO_SERVICE, PAYLOAD).message_id
    second = client.send_async(ECHO_SERVICE, PAYLOAD).message_id
    assert client.get_message_status(first).message_id == first
    proxy.arm("getMessageStatus", proxy.recorded["getMessageStatus"])  # the signed status of `first`
    with pytest.raises((MismatchedAnswerError, RetriesExhaustedError)) as exc:
        client.get_message_status(second)
    _refused(exc, "messageId", second, first)
    assert proxy.forwarded.count("getMessageStatus") == 1  # the replay answered; nothing else happened


def test_a_replayed_send_receipt_is_refused(proxied: tuple[GatewayClient, ReplayProxy],
                                            gateway_env: GatewayEnv) -> None:
    client, proxy = proxied
    first = client.send_async(ECHO_SERVICE, PAYLOAD).message_id
    proxy.arm("sendMessage", proxy.recorded["sendMessage"])  # the signed receipt of `first`
    third = str(uuid.uuid4())
    with pytest.raises((MismatchedAnswerError, RetriesExhaustedError)) as exc:
        client.send_async(ECHO_SERVICE, PAYLOAD, message_id=third)
    _refused(exc, "messageId", third, first)
    assert gateway_env.sim.async_store.get(third) is None  # the message never reached the gateway


def test_a_replayed_delivery_acknowledgement_is_refused(proxied: tuple[GatewayClient, ReplayProxy],
                                                         gateway_env: GatewayEnv) -> None:
    client, proxy = proxied
    first = gateway_env.sim.publish(client.sender_id, ECHO_SERVICE, "NOTIFICATION", PAYLOAD, "corr-1")
    second = gateway_env.sim.publish(client.sender_id, ECHO_SERVICE, "NOTIFICATION", PAYLOAD, "corr-2")
    assert client.send_delivery_notification(first).message_id == first
    proxy.arm("sendDeliveryNotification", proxy.recorded["sendDeliveryNotification"])
    with pytest.raises((MismatchedAnswerError, RetriesExhaustedError)) as exc:
        client.send_delivery_notification(second)
    _refused(exc, "messageId", second, first)
    assert gateway_env.sim.async_store.get(second).state != "DELIVERED"  # still waiting to be acknowledged


def test_messages_of_another_correlation_are_refused_and_not_acknowledged(
        proxied: tuple[GatewayClient, ReplayProxy], gateway_env: GatewayEnv) -> None:
    client, proxy = proxied
    gateway_env.sim.publish(client.sender_id, ECHO_SERVICE, "NOTIFICATION", PAYLOAD, "corr-A")
    mine = gateway_env.sim.publish(client.sender_id, ECHO_SERVICE, "NOTIFICATION", PAYLOAD, "corr-B")
    assert [m.correlation_id for m in client.get_messages(correlation_id="corr-A")] == ["corr-A"]
    proxy.arm("getMessages", proxy.recorded["getMessages"])  # the signed list for corr-A
    with pytest.raises((MismatchedAnswerError, RetriesExhaustedError)) as exc:
        client.get_messages(correlation_id="corr-B")
    _refused(exc, "correlationId", "corr-B", "corr-A")
    # waiting for corr-B's messages, the replays are not taken for them: the wait runs out
    # (under the client's caller a refused answer ends the wait at once, given up; it is never taken)
    with pytest.raises((DeadlineExceededError, RetriesExhaustedError)) as waited:
        client.poll_messages(correlation_id="corr-B", deadline=0.3, initial=0.05)
    cause = waited.value.__cause__ if isinstance(waited.value, DeadlineExceededError) else waited.value
    assert isinstance(cause.last if isinstance(cause, RetriesExhaustedError) else cause, MismatchedAnswerError)
    assert "sendDeliveryNotification" not in proxy.forwarded  # nothing was acknowledged
    assert gateway_env.sim.async_store.get(mine).state != "DELIVERED"


# --------------------------------------------------------------------------- the systems behind

def test_a_register_answer_about_another_organisation_is_refused(
        legal_entities_gateway: GatewaySimulator, backend_keys: BackendKeys,
        backend_verifier: VerificationService) -> None:
    """A hostile gateway puts the register's signed answer about one organisation into its own,
    validly transport-signed answer to a look-up of another."""
    asked, other = MINISTRY_BIN, _another_registered_bin()
    with ReplayProxy(legal_entities_gateway.url) as proxy:
        gateway = GatewayClient(proxy.url + GatewaySimulator.SYNC_PATH, signing=SigningService(backend_keys.ministry),
                                verification=backend_verifier, sender_id=SENDER_ID, caller=_no_retry(),
                                expect_bin=SHEP_BIN)
        client = LegalEntitiesClient(gateway, signer=SigningService(backend_keys.ministry), verifier=backend_verifier,
                                     requestor_bin=MINISTRY_BIN)
        try:
            assert isinstance(client.lookup_bin(other), Found)
            proxy.forge("SendMessage", _wrapping(_data_of(proxy.recorded["SendMessage"]), backend_keys))
            with pytest.raises(MismatchedAnswerError) as exc:
                client.lookup_bin(asked)
        finally:
            gateway.close()
    _refused(exc, "Organization/BIN", asked, other)
    assert proxy.forwarded == ["SendMessage"]  # the look-up never reached the register


def test_a_payment_answer_about_another_order_is_refused(payment_gateway_sim: PaymentGatewaySimulator,
                                                         backend_keys: BackendKeys,
                                                         backend_verifier: VerificationService) -> None:
    with ReplayProxy(payment_gateway_sim.endpoint_url) as proxy:
        client = PaymentGatewayClient(proxy.url + "/pshep/", signer=SigningService(backend_keys.ministry),
                                      verifier=backend_verifier, caller=_no_retry(),
                                      sender_password=SENDER_PASSWORD)
        try:
            first = client.create_order(_order("ref-first")).order
            second = client.create_order(_order("ref-second")).order
            assert client.get_status(first.order_id).order_id == first.order_id
            status_of_first = proxy.recorded["urn:pshep:GetPaymentStatus"]
            proxy.arm("urn:pshep:GetPaymentStatus", status_of_first)
            with pytest.raises(MismatchedAnswerError) as exc:
                client.get_status(second.order_id)
        finally:
            client.close()
    _refused(exc, "orderId", second.order_id, first.order_id)
    assert proxy.forwarded.count("urn:pshep:GetPaymentStatus") == 1


def test_a_status_notice_under_another_application_is_refused(gateway_env: GatewayEnv, elicense_keys: Any) -> None:
    """E-licensing's signed notice about one application, published under another application's
    correlationId: the consumer refuses it and does not acknowledge it."""
    notice = etree.fromstring(SigningService(elicense_keys.system.key_material).sign_document(
        build_status_notice(number="00000001", status="SENT", status_name="Sent",
                            changed_at=dt.datetime.now(dt.UTC), licensor_code="EDU", applicant="871008401427",
                            licence_number=None, comment=None)))
    with gateway_env.client() as gateway:
        published = gateway_env.sim.publish(gateway.sender_id, STATUS_NOTIFICATION_SERVICE_ID, "NOTIFICATION",
                                            notice, "00000002")
        consumer = StatusNotificationConsumer(gateway, VerificationService(gateway_env.keys.validator))
        with pytest.raises(MismatchedAnswerError) as exc:
            consumer.fetch(application_number="00000002")
    assert exc.value.field == "correlationId" and "00000001" in exc.value.message
    assert gateway_env.sim.async_store.get(published).state != "DELIVERED"  # not acknowledged


# --------------------------------------------------------------------------- helpers

def _order(reference: str) -> PaymentOrderRequest:
    return PaymentOrderRequest(client_reference=reference, payer=Payer(iin_bin="871008401427", name="Test"),
                               amount=Decimal("16180.00"), application_reference=reference)


def _another_registered_bin() -> str:
    for org in LegalEntitiesState():
        if org.bin != MINISTRY_BIN and org.org_form.code != "IP":
            return org.bin
    raise AssertionError("the register's fixtures hold no other organisation")


def _data_of(answer: bytes) -> etree._Element:
    """The register's signed document inside a gateway answer."""
    data = etree.fromstring(answer).find(".//responseData/data")
    assert data is not None
    return next(child for child in data if isinstance(child.tag, str))


def _wrapping(document: etree._Element, keys: BackendKeys) -> Callable[[bytes], bytes]:
    """Answers a SendMessage with ``document``, in a fresh answer to the request's own messageId,
    transport-signed with the gateway's key: a gateway that lies about the register."""
    signer = SigningService(keys.gateway)

    def make(request: bytes) -> bytes:
        message_id = etree.fromstring(request).findtext(".//requestInfo/messageId") or ""
        answer = wire.sync_response(message_id=message_id, correlation_id=None, session_id=None,
                                    status_code="SCSS001", status_message="Message has been processed successfully",
                                    data=document, now=dt.datetime.now(dt.UTC))
        return signer.sign_envelope(answer)

    return make
