"""The fault-matrix drill: every simulator fault kind × every adapter operation that crosses the wire.

The expected outcome of a cell is *not* read from the code under test: it comes from the small
explicit tables below.

- :data:`FAULTS` says, per fault kind (and per system where the wire format differs), whether the
  faulted attempt is retryable, whether the backend ran before the answer was spoiled ("lands"),
  and which typed error the failed attempt raises.
- :data:`OPERATIONS` says, per operation, where faults are aimed (service / SOAP operation), what
  state it changes when it lands (``effect``: counter → delta), and whether it is idempotent.

:func:`run_cell` then sets the operation's preconditions up through a plain client, resets the
simulators' faults and journals and the exchange journal, injects the fault, calls the operation
through a journalled :class:`ResilientCaller` (fake sleep: no back-off time) and checks four things:
the outcome class and number of attempts, that retries carried the same messageId, that no effect
was lost or duplicated (simulator state before and after), and that the exchange journal has one
row per attempt with the right outcome and the digest of the exact bytes posted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import func, select

from adapters.core.errors import (
    BusinessError,
    EgovError,
    HttpStatusError,
    InvalidResponseError,
    RetriesExhaustedError,
    SignatureRefused,
    TransportError,
)
from adapters.core.http import HttpResult, Timeouts
from adapters.core.journal import AttemptRecord, ExchangeJournal
from adapters.core.resilience import CallContext, ResilientCaller, RetryPolicy
from adapters.core.soap import ResponseRefusedError
from adapters.core.transport import SoapTransport
from adapters.core.xmlsig import SigningService, VerificationService
from adapters.egov_gateway import GatewayClient
from adapters.elicense import ElicenseClient, LicenseSearch, MissingDocument, Session
from adapters.legal_entities import LegalEntitiesClient
from adapters.payment_gateway import Payer, PaymentGatewayClient, PaymentOrderRequest, licence_fee
from simulators.common.request_journal import RequestJournal
from simulators.egov_gateway import EchoBackend, GatewaySimulator
from simulators.egov_gateway.state import DELIVERED, ON_DELIVERY
from simulators.elicense import ElicenseSimulator
from simulators.elicense import tables as ET
from simulators.legal_entities import LegalEntitiesBackend, LegalEntitiesState
from simulators.payment_gateway import PaymentGatewaySimulator

SENDER_ID = "MINISTRY_EDU"
ECHO = "ECHO"
BY_BIN = "GbdulInfoByBin_v2"
BY_IIN = "GbdulInfoByIin_v2"
KNOWN_BIN = "940140000385"
SOME_IIN = "871008401427"
PAYER_BIN = "950341000052"

MAX_ATTEMPTS = 3
CALL_TIMEOUT = 5.0
"""Per-attempt timeout of every drill call: nothing can hang for the regulation's 90 s."""
TIMEOUT_CALL = 1.0
LATENCY_OVER_TIMEOUT_MS = 2000
"""The ``timeout`` cell: the simulator sleeps longer than the per-attempt timeout, then processes.
The per-attempt timeout leaves a normal answer room on a loaded shared machine (at 0.4 s the attempt
after the fault timed out too, now and then, and the cell counted one attempt more)."""


# =========================================================================== the fault table

@dataclass(frozen=True)
class Fault:
    """One row of the fault table: what is injected and what must follow from it."""

    id: str
    kind: str
    """A FaultSpec kind; or ``maintenance`` (the simulator's flag), ``timeout`` (latency beyond the
    per-call timeout), ``refused`` (nothing listens: the adapter connects to a closed port)."""
    spec: Mapping[str, Any] = field(default_factory=dict)
    outcome: str = "retry"
    """``ok`` (the fault is absorbed: one attempt succeeds), ``retry`` (retryable), ``final``."""
    lands: bool = False
    """The backend ran on the faulted attempt (the answer was spoiled on the way back)."""
    error: type[BaseException] = EgovError
    """Type of the faulted attempt's error."""
    code: str | None = None
    """Its ``code``, when the table knows it."""
    delivered: bool = True
    """False only for ``refused``: the request provably never left, so even a non-idempotent call may repeat it."""
    persistent: bool = True
    """Whether the "persistent until exhausted" variant applies (not for slow or absorbed faults)."""
    after_exchange: bool = False
    """The failure is raised after the exchange (a signed document refused once received): the
    exchange journal rightly says ``ok``."""
    only: frozenset[str] | None = None
    """Operations this row applies to (None: all of the system's); used for per-operation answers."""

    def __post_init__(self) -> None:
        if self.outcome not in ("ok", "retry", "final"):
            raise ValueError(f"fault {self.id}: outcome {self.outcome!r}")


def _transport_faults() -> list[Fault]:
    """Kinds carried out on the socket, the same for every simulator."""
    rows = [
        Fault("latency", "latency", {"latency_ms": 20, "jitter_ms": 10}, outcome="ok", persistent=False),
        Fault("drip", "drip", {"drip_chunk": 512, "drip_interval_ms": 1}, outcome="ok", persistent=False),
        Fault("timeout", "timeout", {"latency_ms": LATENCY_OVER_TIMEOUT_MS}, lands=True, error=TransportError,
              persistent=False),
        Fault("refused", "refused", error=TransportError, delivered=False),
        Fault("maintenance", "maintenance", error=HttpStatusError, code="EGOV402"),
        Fault("http-503", "http_status", {"http_status": 503}, error=HttpStatusError),
        Fault("http-500-after", "http_status", {"http_status": 500, "when": "after"}, lands=True,
              error=HttpStatusError),
        Fault("http-404", "http_status", {"http_status": 404}, outcome="final", error=HttpStatusError,
              code="EGOV402"),
    ]
    for kind in ("reset", "empty", "garbage", "truncated", "empty_body", "malformed_xml"):
        error: type[BaseException] = InvalidResponseError if kind == "malformed_xml" else TransportError
        rows.append(Fault(kind.replace("_", "-"), kind, error=error))
        rows.append(Fault(f"{kind.replace('_', '-')}-after", kind, {"when": "after"}, lands=True, error=error))
    return rows


LICENCE_ANSWERS = frozenset({"issue", "get_licence"})
"""E-licensing operations whose answer carries a signed licence (``invalid_signature`` tampers it)."""


def _faults(system: str) -> list[Fault]:
    rows = _transport_faults()
    if system in ("gateway", "legal_entities"):
        rows += [
            Fault("soap-fault-SCE909", "soap_fault", {"code": "SCE909"}, code="SCE909"),
            Fault("soap-fault-SCE909-after", "soap_fault", {"code": "SCE909", "when": "after"}, lands=True,
                  code="SCE909"),
            Fault("soap-fault-SCE006", "soap_fault", {"code": "SCE006"}, outcome="final", code="SCE006"),
            Fault("status-SCE009", "status_code", {"code": "SCE009"}, code="SCE009"),
            Fault("status-SCE009-after", "status_code", {"code": "SCE009", "when": "after"}, lands=True,
                  code="SCE009"),
            Fault("status-SCE013", "status_code", {"code": "SCE013"}, outcome="final", code="SCE013"),
        ]
        rows += [Fault(k.replace("_", "-"), k, lands=True, error=ResponseRefusedError, code="EGOV408")
                 for k in ("invalid_signature", "missing_signature", "expired_timestamp")]
    elif system == "payment":
        rows += [
            Fault("soap-fault-PSE909", "soap_fault", {"code": "PSE909"}, code="PSE909"),
            Fault("soap-fault-PSE909-after", "soap_fault", {"code": "PSE909", "when": "after"}, lands=True,
                  code="PSE909"),
            Fault("soap-fault-PSE002", "soap_fault", {"code": "PSE002"}, outcome="final", code="PSE002"),
            Fault("status-default", "status_code", {}, code="PSE909"),
            Fault("status-PSE004", "status_code", {"code": "PSE004"}, outcome="final", code="PSE004"),
        ]
        rows += [Fault(k.replace("_", "-"), k, lands=True, error=ResponseRefusedError, code="EGOV408")
                 for k in ("invalid_signature", "missing_signature", "expired_timestamp")]
    elif system == "elicense":
        rows += [
            Fault("soap-fault-ELC909", "soap_fault", {"code": "ELC909"}, code="ELC909"),
            Fault("soap-fault-ELC909-after", "soap_fault", {"code": "ELC909", "when": "after"}, lands=True,
                  code="ELC909"),
            Fault("soap-fault-ELC601", "soap_fault", {"code": "ELC601"}, outcome="final", code="ELC601"),
            # no gateway status on this wire: the simulator answers an internal (server) fault
            Fault("status-code", "status_code", {}, code="ELC909"),
            # no transport signature on this wire: the signature kinds only touch signed licences
            Fault("invalid-signature", "invalid_signature", outcome="final", lands=True, error=SignatureRefused,
                  after_exchange=True, only=LICENCE_ANSWERS),
            Fault("invalid-signature-unsigned-answer", "invalid_signature", outcome="ok", persistent=False,
                  only=None),
            Fault("missing-signature", "missing_signature", outcome="ok", persistent=False),
            Fault("expired-timestamp", "expired_timestamp", outcome="ok", persistent=False),
        ]
    else:  # pragma: no cover - table error
        raise ValueError(system)
    return rows


SYSTEMS = ("gateway", "legal_entities", "payment", "elicense")
FAULTS: dict[str, list[Fault]] = {s: _faults(s) for s in SYSTEMS}


# =========================================================================== the drill environment

class RecordingTransport(SoapTransport):
    """The shared transport, recording every body it posts; ``refuse_next`` sends the next N posts
    to a port nobody listens on (a real "connection refused")."""

    def __init__(self, dead_url: str) -> None:
        super().__init__(timeouts=Timeouts(connect=2.0, read=CALL_TIMEOUT))
        self.posted: list[bytes] = []
        self.refuse_next = 0
        self._dead = dead_url
        self._lock = threading.Lock()

    def post(self, url: str, body: Any, **kwargs: Any) -> HttpResult:
        with self._lock:
            # a streamed body (E-licensing uploads) is re-readable: its source runs once per send
            self.posted.append(bytes(body) if isinstance(body, bytes | bytearray) else b"".join(body))
            refuse = self.refuse_next > 0
            if refuse:
                self.refuse_next -= 1
        return super().post(self._dead if refuse else url, body, **kwargs)


class DrillCaller(ResilientCaller):
    """A ResilientCaller with a fake sleep and one per-attempt timeout for every call.

    The clients of E-licensing and of the payment gateway take their per-attempt timeout from the
    regulation's norms (10–90 s); the drill needs seconds or less, so the caller fills it in.
    ``after_sleep`` hooks run on each (fake) back-off: the maintenance window ends there.
    """

    def __init__(self, journal: ExchangeJournal, timeout: float) -> None:
        super().__init__(RetryPolicy(max_attempts=MAX_ATTEMPTS, initial_backoff=0.0, max_backoff=0.0, jitter=0.0),
                         journal=journal, sleep=self._sleep)
        self.timeout = timeout
        self.sleeps = 0
        self.after_sleep: list[Callable[[], None]] = []

    def _sleep(self, seconds: float) -> None:
        self.sleeps += 1
        for hook in self.after_sleep:
            hook()

    def call(self, ctx: CallContext, fn: Callable[[Any], Any]) -> Any:
        if ctx.timeout is None:
            ctx = dataclasses.replace(ctx, timeout=self.timeout)
        return super().call(ctx, fn)


def _dead_url() -> str:
    """A loopback URL on a port that was free a moment ago (nothing listens there)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@dataclass
class Drill:
    """Module-scoped simulators and clients; :meth:`begin_cell` resets faults and journals."""

    gateway: GatewaySimulator
    echo: EchoBackend
    register: LegalEntitiesBackend
    payment: PaymentGatewaySimulator
    elicense: ElicenseSimulator
    journal: ExchangeJournal
    transport: RecordingTransport
    caller: DrillCaller
    gw: GatewayClient
    le: LegalEntitiesClient
    pay: PaymentGatewayClient
    el: ElicenseClient
    plain_gw: GatewayClient
    plain_pay: PaymentGatewayClient
    plain_el: ElicenseClient
    applicant: Any
    applicant_password: str
    employee_password: str
    _sessions: dict[str, Session] = field(default_factory=dict)

    # ------------------------------------------------------------------ cells

    def begin_cell(self) -> None:
        for sim_journal in (self.gateway.journal, self.payment.journal, self.elicense.journal):
            sim_journal.reset()
        self.gateway.injector.reset()
        self.payment.faults.reset()
        self.elicense.injector.reset()
        self.journal.reset()
        self.transport.posted.clear()
        self.transport.refuse_next = 0
        self.caller.timeout = CALL_TIMEOUT
        self.caller.sleeps = 0
        self.caller.after_sleep.clear()

    def sim_journal(self, system: str) -> RequestJournal:
        return {"gateway": self.gateway.journal, "legal_entities": self.gateway.journal,
                "payment": self.payment.journal, "elicense": self.elicense.journal}[system]

    def injector(self, system: str) -> Any:
        return {"gateway": self.gateway.injector, "legal_entities": self.gateway.injector,
                "payment": self.payment.faults, "elicense": self.elicense.injector}[system]

    # ------------------------------------------------------------------ E-licensing preconditions

    def applicant_session(self) -> Session:
        """A portal session of the drill's applicant (authorised once per module)."""
        if "applicant" not in self._sessions:
            self._sessions["applicant"] = self.plain_el.authorize_applicant(self.applicant.auth,
                                                                           self.applicant_password)
        return self._sessions["applicant"]

    def employee_session(self) -> Session:
        if "employee" not in self._sessions:
            self._sessions["employee"] = self.plain_el.authorize_employee("kkson.officer", self.employee_password)
        return self._sessions["employee"]

    def proof(self) -> bytes:
        """A fresh challenge signed with the applicant's AUTH key (one request's proof of possession)."""
        return self.plain_el.sign_challenge(self.plain_el.get_challenge(), self.applicant.auth)

    def signed_application(self) -> bytes:
        from tests.fixtures.elicense import application_form, paid_receipt

        receipt = paid_receipt(self.payment.store, self.applicant.iin_bin, Decimal("16180.00"), owner=SENDER_ID)
        return self.plain_el.sign_application(application_form(self.applicant, receipt_id=receipt),
                                              self.applicant.signing)

    def registered(self, *, in_progress: bool = False) -> str:
        number = self.plain_el.register_application(self.applicant_session(), self.signed_application(),
                                                    idempotency_key=f"setup-{uuid.uuid4()}").number
        if in_progress:
            self.plain_el.start_processing(self.employee_session(), number)
        return number

    def with_attachment(self, content: bytes) -> tuple[str, str]:
        """An application of the drill's applicant with one attached file: (number, file name)."""
        from adapters.elicense.models import AttachmentRef
        from tests.fixtures.elicense import application_form, paid_receipt

        name = f"drill-{uuid.uuid4().hex[:8]}.pdf"
        session = self.applicant_session()
        up = self.plain_el.upload_attachment(session, name, content)
        receipt = paid_receipt(self.payment.store, self.applicant.iin_bin, Decimal("16180.00"), owner=SENDER_ID)
        form = application_form(self.applicant, receipt_id=receipt).model_copy(
            update={"attachments": (AttachmentRef(file_name=name, sha256=up.sha256, size=up.size),)})
        signed = self.plain_el.sign_application(form, self.applicant.signing)
        number = self.plain_el.register_application(session, signed, idempotency_key=f"setup-{uuid.uuid4()}").number
        return number, name

    def issued(self) -> tuple[str, str]:
        number = self.registered(in_progress=True)
        details = self.plain_el.issue(self.employee_session(), number, idempotency_key=f"setup-{uuid.uuid4()}")
        assert details.application.licence_number is not None
        return number, details.application.licence_number

    def refused(self) -> str:
        number = self.registered(in_progress=True)
        self.plain_el.refuse(self.employee_session(), number, [MissingDocument(document="staff list",
                                                                               comment="not attached")],
                             idempotency_key=f"setup-{uuid.uuid4()}")
        return number

    # ------------------------------------------------------------------ state counters

    def counters(self) -> dict[str, int]:
        """Every effect the drill watches, read from the simulators' own state."""
        records = self.gateway.async_store.all()
        out = {
            "echo_calls": self.echo.count(),
            "register_lookups": len(self.register.requests),
            "async_records": len(records),
            "async_pending_for_us": sum(r.recipient_id == SENDER_ID and r.state == ON_DELIVERY for r in records),
            "async_delivered_to_us": sum(r.recipient_id == SENDER_ID and r.state == DELIVERED for r in records),
        }
        orders = self.payment.store.list()
        out["payment_orders"] = len(orders)
        out["payment_cancelled"] = sum(o.status == "CANCELLED" for o in orders)
        out["payment_paid"] = sum(o.status == "PAID" for o in orders)
        with self.elicense.backend.engine.connect() as conn:
            for name, table in (("applications", ET.applications), ("licences", ET.licences),
                                ("attachments", ET.attachments), ("surveys", ET.survey_answers),
                                ("status_changes", ET.status_history), ("notices", ET.notifications),
                                ("applicant_accounts", ET.accounts)):
                query = select(func.count()).select_from(table)
                if name == "applicant_accounts":
                    query = query.where(ET.accounts.c.kind == "applicant")
                out[name] = int(conn.execute(query).scalar_one())
        return out


@contextlib.contextmanager
def start_drill(*, pki: Any, elicense_keys: Any, backend_keys: Any, verifier: VerificationService,
                workdir: Path) -> Iterator[Drill]:
    """Start the gateway (echo + Legal Entities), the payment gateway and E-licensing on loopback,
    with drill clients on one recording transport and one journalled caller; stop them afterwards."""
    from adapters.core.identifiers import make_bin, make_iin
    from adapters.core.trust.validator import CertificateValidator
    from simulators.elicense.payments import GatewayLedger
    from tests.fixtures.backends import GBDUL_BIN, MINISTRY_BIN, PSHEP_BIN, SENDER_PASSWORD, SHEP_BIN, with_our_sender
    from tests.fixtures.elicense import APPLICANT_PASSWORD, EMPLOYEE_PASSWORD, TestApplicant, _valid

    gateway = GatewaySimulator(key=backend_keys.gateway, verification=verifier)
    gateway.add_sender(SENDER_ID, bin=MINISTRY_BIN)
    echo = EchoBackend()
    gateway.register_backend(ECHO, echo)
    register = LegalEntitiesBackend(LegalEntitiesState(), signer=SigningService(backend_keys.register),
                                    verifier=verifier, expect_requestor_bin=True)
    register.register(gateway)
    payment = with_our_sender(PaymentGatewaySimulator(signer=SigningService(backend_keys.payment_gateway),
                                                      verifier=verifier))
    # applicants' signatures are checked without revocation here: the PKI drills cover revocation
    doc_verifier = VerificationService(CertificateValidator([pki.root_certificate], [pki.issuing_certificate]))
    elicense = ElicenseSimulator(verifier=doc_verifier, head_key=elicense_keys.head,
                                 system_key=elicense_keys.system.key_material,
                                 payments=GatewayLedger(payment.store))
    journal = ExchangeJournal.open(f"sqlite:///{workdir / 'exchange-journal.db'}")
    started: list[Any] = []
    clients: list[Any] = []
    try:
        for sim in (gateway, payment, elicense):
            sim.start()
            started.append(sim)
        transport = RecordingTransport(_dead_url())
        caller = DrillCaller(journal, CALL_TIMEOUT)
        signer = SigningService(backend_keys.ministry)
        gw = GatewayClient(gateway.sync_url, signing=signer, verification=verifier, sender_id=SENDER_ID,
                           caller=caller, transport=transport, expect_bin=SHEP_BIN)
        le = LegalEntitiesClient(gw, signer=signer, verifier=verifier, requestor_bin=MINISTRY_BIN,
                                 expect_register_bin=GBDUL_BIN)
        pay = PaymentGatewayClient(payment.endpoint_url, signer=signer, verifier=verifier,
                                   expect_gateway_bin=PSHEP_BIN, sender_password=SENDER_PASSWORD, caller=caller,
                                   transport=transport)
        el = ElicenseClient(elicense.endpoint, verification=doc_verifier, caller=caller, transport=transport)
        plain_gw = GatewayClient(gateway.sync_url, signing=signer, verification=verifier, sender_id=SENDER_ID,
                                 expect_bin=SHEP_BIN)
        plain_pay = PaymentGatewayClient(payment.endpoint_url, signer=signer, verifier=verifier,
                                         expect_gateway_bin=PSHEP_BIN, sender_password=SENDER_PASSWORD)
        plain_el = ElicenseClient(elicense.endpoint, verification=doc_verifier)
        clients += [plain_gw, plain_pay, plain_el, transport]
        name = "ТОО «Колледж Дрилл»"
        bin_ = _valid(make_bin, 2012, 3, 4, 0, serial=7100)
        iin = _valid(make_iin, dt.date(1979, 3, 14), "female", serial=7100)
        applicant = TestApplicant(bin_, name, elicense_keys.pki.issue(iin=iin, bin=bin_, org=name),
                                  elicense_keys.pki.issue(iin=iin, bin=bin_, org=name, usage="auth"))
        elicense.backend.register_applicant(applicant.auth_der, APPLICANT_PASSWORD)
        yield Drill(gateway=gateway, echo=echo, register=register, payment=payment, elicense=elicense,
                    journal=journal, transport=transport, caller=caller, gw=gw, le=le, pay=pay, el=el,
                    plain_gw=plain_gw, plain_pay=plain_pay, plain_el=plain_el, applicant=applicant,
                    applicant_password=APPLICANT_PASSWORD, employee_password=EMPLOYEE_PASSWORD)
    finally:
        for client in clients:
            client.close()
        for sim in reversed(started):
            sim.stop()
        journal.close()


# =========================================================================== the operation table

@dataclass(frozen=True)
class Operation:
    """One adapter operation that crosses the wire, and what it changes when it lands."""

    system: str
    name: str
    target: Mapping[str, str]
    """FaultSpec ``service`` / ``operation`` aiming the fault at this operation only."""
    call: Callable[[Drill, dict[str, Any]], Any]
    prepare: Callable[[Drill], dict[str, Any]] = lambda d: {}
    effect: Mapping[str, int] = field(default_factory=dict)
    """Counter → change when the operation lands (exactly once); every other counter stays."""
    idempotent: bool = True
    check: Callable[[Drill, dict[str, Any], Any], None] | None = None
    """Checks the result of a successful call."""
    settle: Callable[[Drill, dict[str, Any]], None] | None = None
    """Waits for work the simulator finishes after answering (async delivery)."""
    finish: Callable[[Drill], None] | None = None

    @property
    def id(self) -> str:
        return f"{self.system}.{self.name}"


def _payload() -> etree._Element:
    el = etree.Element("{urn:egov-adapters:drill}query")
    el.text = "fault matrix"
    return el


def _wait(predicate: Callable[[], bool], what: str, deadline: float = 10.0) -> None:
    """Wait (bounded) for something a simulator's worker thread finishes after answering."""
    end = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def _settle_async(d: Drill, p: dict[str, Any]) -> None:
    if d.gateway.async_store.get(p["mid"]) is None:
        return
    _wait(lambda: any(r.correlation_id == p["mid"] for r in d.gateway.async_store.all()),
          f"the async answer to {p['mid']}")


def _publish(d: Drill, n: int) -> dict[str, Any]:
    service = f"DRILL_{uuid.uuid4().hex[:8]}"
    ids = [d.gateway.publish(SENDER_ID, service, "NOTIFICATION", _payload(), correlation_id=str(uuid.uuid4()))
           for _ in range(n)]
    return {"service": service, "ids": ids, "mid": ids[0]}


def _order(reference: str) -> PaymentOrderRequest:
    return PaymentOrderRequest(client_reference=reference, payer=Payer(iin_bin=PAYER_BIN, name="ТОО «Плательщик»"),
                               amount=licence_fee(Decimal("1618"), 10), application_reference="12000001")


def _created(d: Drill) -> dict[str, Any]:
    return {"order_id": d.plain_pay.create_order(_order(f"drill-{uuid.uuid4().hex}")).order.order_id}


def _paid(d: Drill) -> dict[str, Any]:
    p = _created(d)
    d.payment.store.pay(p["order_id"])
    return p


def _gateway_ops() -> list[Operation]:
    sync = {"service": ECHO, "operation": "SendMessage"}

    def send(idempotent: bool) -> Callable[[Drill, dict[str, Any]], Any]:
        return lambda d, p: d.gw.send_message(ECHO, _payload(), message_id=p["mid"], idempotent=idempotent)

    def same_mid(d: Drill, p: dict[str, Any], r: Any) -> None:
        assert r.message_id == p["mid"]

    def got_published(d: Drill, p: dict[str, Any], r: Any) -> None:
        assert [m.message_id for m in r] == p["ids"], "getMessages lost or duplicated a message"

    mid = {"prepare": lambda d: {"mid": str(uuid.uuid4())}}
    return [
        Operation("gateway", "send_message", sync, send(True), **mid, effect={"echo_calls": 1}, check=same_mid),
        Operation("gateway", "send_message[non-idempotent]", sync, send(False), **mid, effect={"echo_calls": 1},
                  idempotent=False, check=same_mid),
        Operation("gateway", "send_async", {"operation": "sendMessage"},
                  lambda d, p: d.gw.send_async(ECHO, _payload(), message_id=p["mid"]), **mid,
                  effect={"async_records": 2, "echo_calls": 1, "async_pending_for_us": 1},
                  check=lambda d, p, r: None if r.message_id == p["mid"] else (_ for _ in ()).throw(
                      AssertionError("receipt for another messageId")),
                  settle=_settle_async),
        Operation("gateway", "get_messages", {"operation": "getMessages"},
                  lambda d, p: d.gw.get_messages(service_id=p["service"]), prepare=lambda d: _publish(d, 2),
                  check=got_published),
        Operation("gateway", "get_message_status", {"operation": "getMessageStatus"},
                  lambda d, p: d.gw.get_message_status(p["mid"]), prepare=lambda d: _publish(d, 1),
                  check=lambda d, p, r: _eq(r.state, ON_DELIVERY)),
        Operation("gateway", "send_delivery_notification", {"operation": "sendDeliveryNotification"},
                  lambda d, p: d.gw.send_delivery_notification(p["mid"]), prepare=lambda d: _publish(d, 1),
                  effect={"async_pending_for_us": -1, "async_delivered_to_us": 1}),
    ]


def _eq(got: Any, expected: Any) -> None:
    assert got == expected, f"expected {expected!r}, got {got!r}"


def _legal_entities_ops() -> list[Operation]:
    from adapters.legal_entities.models import Found, NotFound

    return [
        Operation("legal_entities", "lookup_bin", {"service": BY_BIN, "operation": "SendMessage"},
                  lambda d, p: d.le.lookup_bin(KNOWN_BIN), effect={"register_lookups": 1},
                  check=lambda d, p, r: _eq(type(r), Found)),
        Operation("legal_entities", "lookup_iin", {"service": BY_IIN, "operation": "SendMessage"},
                  lambda d, p: d.le.lookup_iin(SOME_IIN), effect={"register_lookups": 1},
                  check=lambda d, p, r: _eq(type(r) in (Found, NotFound), True)),
    ]


def _payment_ops() -> list[Operation]:
    def op(name: str) -> dict[str, str]:
        return {"service": "pshep", "operation": name}

    return [
        Operation("payment", "create_order", op("CreatePaymentOrder"),
                  lambda d, p: d.pay.create_order(_order(p["ref"])),
                  prepare=lambda d: {"ref": f"drill-{uuid.uuid4().hex}"}, effect={"payment_orders": 1},
                  check=lambda d, p, r: _eq((r.order.client_reference, r.order.order_id),
                                            (p["ref"], d.payment.store.get(p["ref"]).order_id))),
        Operation("payment", "get_status", op("GetPaymentStatus"), lambda d, p: d.pay.get_status(p["order_id"]),
                  prepare=_created, check=lambda d, p, r: _eq(r.status.value, "CREATED")),
        Operation("payment", "get_receipt", op("GetReceipt"), lambda d, p: d.pay.get_receipt(p["order_id"]),
                  prepare=_paid, check=lambda d, p, r: _eq(r.order_id, p["order_id"])),
        # safe to retry: cancelling a CANCELLED order answers it again (PSE006 only for paid/refunded/rejected)
        Operation("payment", "cancel_order", op("CancelPaymentOrder"),
                  lambda d, p: d.pay.cancel_order(p["order_id"], "application withdrawn"), prepare=_created,
                  effect={"payment_cancelled": 1}, idempotent=True,
                  check=lambda d, p, r: _eq(r.status.value, "CANCELLED")),
    ]


def _elicense_ops() -> list[Operation]:
    def op(name: str) -> dict[str, str]:
        return {"service": "elicense", "operation": name}

    registered = {"status_changes": 1, "notices": 1}
    content = b"%PDF-1.4 drill attachment\n" * 64
    return [
        # a signed challenge answers one request: a delivered attempt is not repeated (not idempotent)
        Operation("elicense", "register_applicant", op("RegisterApplicant"),
                  lambda d, p: d.el.register_applicant_with_proof(d.applicant.iin_bin, p["proof"],
                                                                  d.applicant_password),
                  prepare=lambda d: {"proof": d.proof()}, idempotent=False,
                  check=lambda d, p, r: _eq(r.iin_bin, d.applicant.iin_bin)),
        Operation("elicense", "authorize_applicant", op("Authorize"),
                  lambda d, p: d.el.authorize_applicant_with_proof(d.applicant.iin_bin, p["proof"],
                                                                   d.applicant_password),
                  prepare=lambda d: {"proof": d.proof()}, idempotent=False,
                  check=lambda d, p, r: _eq(r.role, "applicant")),
        Operation("elicense", "authorize_employee", op("Authorize"),
                  lambda d, p: d.el.authorize_employee("kkson.officer", d.employee_password),
                  check=lambda d, p, r: _eq(r.role, "employee")),
        Operation("elicense", "get_catalogue", op("GetCatalogue"), lambda d, p: d.el.get_catalogue(refresh=True),
                  check=lambda d, p, r: _eq(bool(r.services), True)),
        # safe to retry: the owner's unattached upload of the same name, SHA-256 and size is answered again
        Operation("elicense", "upload_attachment", op("UploadAttachment"),
                  lambda d, p: d.el.upload_attachment(d.applicant_session(), p["file"], content),
                  prepare=lambda d: {"file": f"drill-{uuid.uuid4().hex[:8]}.pdf"}, effect={"attachments": 1},
                  idempotent=True, check=lambda d, p, r: _eq(r.sha256, hashlib.sha256(content).hexdigest())),
        Operation("elicense", "register_application", op("RegisterApplication"),
                  lambda d, p: d.el.register_application(d.applicant_session(), p["signed"],
                                                         idempotency_key=p["key"]),
                  prepare=lambda d: {"signed": d.signed_application(), "key": f"drill-{uuid.uuid4()}"},
                  effect={"applications": 1, **registered}, check=lambda d, p, r: _eq(r.status, "SENT")),
        Operation("elicense", "get_attachment", op("GetAttachment"),
                  lambda d, p: d.el.get_attachment(d.employee_session(), p["number"], p["file"]),
                  prepare=lambda d: dict(zip(("number", "file"), d.with_attachment(content), strict=True)),
                  check=lambda d, p, r: _eq(r.content, content)),
        Operation("elicense", "get_application", op("GetApplication"),
                  lambda d, p: d.el.get_application(d.applicant_session(), p["number"]),
                  prepare=lambda d: {"number": d.registered()},
                  check=lambda d, p, r: _eq(r.application.number, p["number"])),
        Operation("elicense", "list_applications", op("ListApplications"),
                  lambda d, p: d.el.list_applications(d.applicant_session(), status="SENT"),
                  prepare=lambda d: {"number": d.registered()},
                  check=lambda d, p, r: _eq(p["number"] in [a.number for a in r], True)),
        Operation("elicense", "start_processing", op("StartProcessing"),
                  lambda d, p: d.el.start_processing(d.employee_session(), p["number"]),
                  prepare=lambda d: {"number": d.registered()}, effect=registered,
                  check=lambda d, p, r: _eq(r.status, "IN_PROGRESS")),
        Operation("elicense", "prepare_licence", op("PrepareLicence"),
                  lambda d, p: d.el.prepare_licence(d.employee_session(), p["number"]),
                  prepare=lambda d: {"number": d.registered(in_progress=True)},
                  check=lambda d, p, r: _eq(p["number"].encode() in r, True)),
        Operation("elicense", "prepare_refusal", op("PrepareRefusal"),
                  lambda d, p: d.el.prepare_refusal(d.employee_session(), p["number"],
                                                    [MissingDocument(document="staff list", comment="not attached")]),
                  prepare=lambda d: {"number": d.registered(in_progress=True)},
                  check=lambda d, p, r: _eq(p["number"].encode() in r, True)),
        Operation("elicense", "issue", op("Decide"),
                  lambda d, p: d.el.issue(d.employee_session(), p["number"], idempotency_key=p["key"]),
                  prepare=lambda d: {"number": d.registered(in_progress=True), "key": f"drill-{uuid.uuid4()}"},
                  effect={"licences": 1, **registered},
                  check=lambda d, p, r: _eq((r.application.status, r.licence is not None), ("ISSUED", True))),
        Operation("elicense", "refuse", op("Decide"),
                  lambda d, p: d.el.refuse(d.employee_session(), p["number"],
                                           [MissingDocument(document="staff list", comment="not attached")],
                                           idempotency_key=p["key"]),
                  prepare=lambda d: {"number": d.registered(in_progress=True), "key": f"drill-{uuid.uuid4()}"},
                  effect=registered,
                  check=lambda d, p, r: _eq((r.application.status, r.refusal is not None), ("REFUSED", True))),
        Operation("elicense", "get_licence", op("GetLicence"), lambda d, p: d.el.get_licence(p["licence"]),
                  prepare=lambda d: dict(zip(("number", "licence"), d.issued(), strict=True)),
                  check=lambda d, p, r: _eq(r.licence.number, p["licence"])),
        Operation("elicense", "search", op("GetUniversalLicenses"),
                  lambda d, p: d.el.search(LicenseSearch(iin_bin=d.applicant.iin_bin, page_size=5)),
                  check=lambda d, p, r: _eq(r.total_count >= 0, True)),
        # safe to retry: the same answers again succeed without storing twice (other answers: ELC502)
        Operation("elicense", "submit_survey", op("SubmitSurvey"),
                  lambda d, p: d.el.submit_survey(d.applicant_session(), p["number"], "SATISFIED",
                                                  "PARTLY_SATISFIED"),
                  prepare=lambda d: {"number": d.refused()}, effect={"surveys": 1}, idempotent=True),
        Operation("elicense", "survey_indicators", op("GetSurveyIndicators"),
                  lambda d, p: d.el.survey_indicators(), check=lambda d, p, r: _eq(isinstance(r, list), True)),
    ]


OPERATIONS: list[Operation] = _gateway_ops() + _legal_entities_ops() + _payment_ops() + _elicense_ops()

LEFT_OUT: dict[str, str] = {
    "GatewayClient.poll_messages": "a loop of get_messages + send_delivery_notification, both in the matrix",
    "ElicenseClient.submit_application": "upload_attachment + register_application, both in the matrix",
    "PaymentGatewayClient.wait_until_final": "a polling loop of get_status, in the matrix",
    "PaymentGatewayClient.verify_receipt, ElicenseClient.verify_licence / verify_refusal": "local, no wire",
    "StatusNotificationConsumer.fetch": "get_messages + verification of the notices, in the matrix",
}
"""Client methods not in the matrix, and why (docs/drills.md repeats this)."""


# =========================================================================== cells

@dataclass(frozen=True)
class Cell:
    op: Operation
    fault: Fault
    variant: str
    """``once`` (the next matching call only) or ``persistent`` (every call: the retries run out)."""

    @property
    def id(self) -> str:
        return f"{self.op.id}-{self.fault.id}-{self.variant}"


def cells() -> list[Cell]:
    out: list[Cell] = []
    for op in OPERATIONS:
        for fault in FAULTS[op.system]:
            if fault.only is not None and op.name not in fault.only:
                continue
            if fault.id == "invalid-signature-unsigned-answer" and op.name in LICENCE_ANSWERS:
                continue
            out.append(Cell(op, fault, "once"))
            if fault.outcome == "retry" and fault.persistent:
                out.append(Cell(op, fault, "persistent"))
    return out


@dataclass(frozen=True)
class Expected:
    success: bool
    attempts: int
    exhausted: bool
    landed: bool


def expected(cell: Cell) -> Expected:
    """The cell's outcome from the tables alone (see the module docstring)."""
    fault, op = cell.fault, cell.op
    if fault.outcome == "ok":
        return Expected(True, 1, False, True)
    if fault.outcome == "final":
        return Expected(False, 1, False, fault.lands)
    if not (op.idempotent or not fault.delivered):
        return Expected(False, 1, False, fault.lands)  # a delivered failure of a non-idempotent call
    if cell.variant == "once":
        return Expected(True, 2, False, True)
    return Expected(False, MAX_ATTEMPTS, True, fault.lands)


def _inject(d: Drill, cell: Cell) -> None:
    fault, op = cell.fault, cell.op
    injector = d.injector(op.system)
    times = 1 if cell.variant == "once" else None
    if fault.kind == "maintenance":
        injector.maintenance = True
        if cell.variant == "once":
            def end_maintenance() -> None:
                injector.maintenance = False
            d.caller.after_sleep.append(end_maintenance)
        return
    if fault.kind == "refused":
        d.transport.refuse_next = 1 if cell.variant == "once" else MAX_ATTEMPTS
        return
    kind = "latency" if fault.kind == "timeout" else fault.kind
    if fault.kind == "timeout":
        d.caller.timeout = TIMEOUT_CALL
    injector.set({"kind": kind, **op.target, **fault.spec, "times": times})


def run_cell(d: Drill, cell: Cell) -> None:
    """Run one cell and check it; raises AssertionError naming what went wrong."""
    op, fault = cell.op, cell.fault
    want = expected(cell)
    d.begin_cell()  # no fault left over from the previous cell may hit the preparation
    prepared = op.prepare(d)
    if op.system == "elicense":  # sessions are opened outside the cell
        d.applicant_session()
        d.employee_session()
    d.begin_cell()
    before = d.counters()
    _inject(d, cell)
    result: Any = None
    error: BaseException | None = None
    try:
        result = op.call(d, prepared)
    except EgovError as exc:
        error = exc
    finally:
        if op.finish is not None:
            op.finish(d)
    posted = list(d.transport.posted)
    refused = min(len(posted), 1 if cell.variant == "once" else MAX_ATTEMPTS) if fault.kind == "refused" else 0
    sim_journal = d.sim_journal(op.system)
    reached = len(posted) - refused
    _wait(lambda: sim_journal.count() >= reached, f"{reached} request(s) in the {op.system} simulator's journal")
    if op.settle is not None:
        op.settle(d, prepared)
    entries = sim_journal.entries()

    # (1) outcome class and number of attempts
    assert len(posted) == want.attempts, f"{len(posted)} attempt(s) posted, expected {want.attempts} ({error!r})"
    if want.success:
        assert error is None, f"expected success, got {error!r}"
        if op.check is not None:
            op.check(d, prepared, result)
    else:
        assert error is not None, f"expected a failure, got {result!r}"
        _check_error(cell, want, error)

    # (2) every attempt that reached the simulator carried the same messageId as the journal rows
    rows = d.journal.tail(50)
    ids = {r.message_id for r in rows}
    assert len(ids) == 1, f"attempts of one call journalled under several messageIds: {ids}"
    seen = {e.message_id for e in entries if e.message_id}
    assert seen <= ids, f"the simulator saw messageIds {seen}, the journal has {ids}"
    assert len(entries) == reached, f"the simulator journalled {len(entries)} request(s), {reached} reached it"

    # (3) nothing lost, nothing duplicated
    after = d.counters()
    changes = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    wanted = {k: v for k, v in op.effect.items() if v} if want.landed else {}
    assert changes == wanted, f"state changed by {changes}, expected {wanted}"

    # (4) one journal row per attempt, in order, with the digest of the exact bytes posted
    _check_journal(rows, want, posted, op, fault, error)


def _check_error(cell: Cell, want: Expected, error: BaseException) -> None:
    fault = cell.fault
    if want.exhausted:
        assert isinstance(error, RetriesExhaustedError), f"expected RetriesExhaustedError, got {error!r}"
        assert error.attempts == want.attempts
        last: BaseException = error.last
        assert last.retryable, f"gave up on a final error {last!r}"  # type: ignore[attr-defined]
    else:
        assert not isinstance(error, RetriesExhaustedError), f"a call that must not retry gave up: {error!r}"
        last = error
        if fault.outcome == "final":
            assert not getattr(error, "retryable", True), f"{error!r} should be final"
        else:  # a retryable error the caller was not allowed to repeat (non-idempotent, delivered)
            assert getattr(error, "retryable", False), f"{error!r} should be retryable"
    assert isinstance(last, fault.error), f"expected {fault.error.__name__}, got {last!r}"
    if fault.code is not None:
        assert getattr(last, "code", None) == fault.code, f"expected code {fault.code}, got {last!r}"


STAND_IN_DIGEST = frozenset({"elicense.upload_attachment"})
"""Operations whose journal digests a stand-in for a streamed body (the envelope with a placeholder
naming the content by its SHA-256), by design: the posted bytes are not held in memory."""

def _check_journal(rows: list[AttemptRecord], want: Expected, posted: list[bytes], op: Operation,
                   fault: Fault, error: BaseException | None) -> None:
    # a business answer (PSE004: no such order...) is journalled as refused, not as a failure
    last = ("ok" if want.success or fault.after_exchange
            else "refused" if isinstance(error, BusinessError) else "failed")
    outcomes = [r.outcome for r in rows]
    assert outcomes == ["retry"] * (want.attempts - 1) + [last], f"journal outcomes {outcomes}"
    assert [r.attempt for r in rows] == list(range(1, want.attempts + 1))
    assert [r.exhausted for r in rows] == [False] * (want.attempts - 1) + [want.exhausted]
    # the request is journalled before it is sent: even an attempt lost in transport has its digest
    for row, body in zip(rows, posted, strict=True):
        if op.id in STAND_IN_DIGEST:
            assert row.request_digest is not None, f"attempt {row.attempt} has no digest"
            assert row.request_digest == rows[0].request_digest, "the attempts of one upload journal other stand-ins"
            continue
        assert row.request_digest == hashlib.sha256(body).hexdigest(), \
            f"journal row of attempt {row.attempt} does not digest the bytes posted"
    if last == "ok":
        assert rows[-1].response_digest is not None and rows[-1].error_code is None
    for row in rows[:-1] if last == "ok" else rows:
        assert row.error_code, f"failed attempt {row.attempt} without an error code"

