"""The licensing procedure wired to the real adapters: step implementations of both diagrams.

:class:`Scenario` (stored as the flow's initial data) says who applies for what and which fault to
play; :class:`ProcedureWiring` gives the :class:`~procedure.machine.FlowRunner` one
callable per step of Diagram 1 (portal) and Diagram 2 (provider's employee), for the operations
issue, re-issue, duplicate and appendix:

- C1 authorises on E-licensing (the applicant's certificate + password, or the employee's login);
- D1 step 4 / C2 create the fee order on the payment gateway and ask it whether it was paid (the
  gateway-signed receipt is verified and becomes the application's payment information);
- D1 C3 validates the selected certificate with the trust layer: chain, validity, revocation
  (OCSP, then CRL) and the BIN of the application;
- D2 step 4 / C2 ask the Legal Entities database through the e-Government gateway and branch on
  the typed outcome (found / not found / liquidated / inactive);
- D1 C4 / D2 C3 apply the service's qualification rules;
- the refusal step (D1 10 / D2 8) records the decision in E-licensing and writes the signed refusal
  letter and its PDF; the result step (D1 11 / D2 9) records the decision to issue, fetches and
  verifies the signed licence, consumes the status notices from the gateway (getMessages, then
  sendDeliveryNotification) and writes the licence XML and PDF.

Crash safety: every external change passes ``ctx.idempotency_key`` (payment clientReference,
registration key, decision key) and what a later step re-sends (the signed application) is kept in
the flow's data, so a flow resumed after a crash never pays, registers or issues twice.

Test hook: ``EGOV_FLOW_CRASH_AT=<step id>[:before|:after]`` kills the process with SIGKILL just
before a step's implementation runs or just after it returned (before the step is recorded as
finished). It exists for the crash/resume drill (``tests/test_procedure_crash.py``); never set it
in production.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import os
import signal
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, model_validator

from adapters.core.errors import ConfigurationError, DeadlineExceededError, SignatureRefused, ValidationError
from adapters.core.trust.keystore import KeyMaterial
from adapters.core.xmlsig import SigningService
from adapters.elicense import (
    Address,
    ApplicationForm,
    AuthorisationDenied,
    MissingDocument,
    Payment,
    Session,
)
from adapters.elicense import Applicant as FormApplicant
from adapters.elicense.models import AttachmentRef
from adapters.legal_entities import Found, Inactive, InvalidBin, Liquidated, NotFound
from adapters.payment_gateway import Payer, PaymentOrderRequest, PaymentStatus, licence_fee
from procedure import artefacts
from procedure.calendar import review_deadline
from procedure.clients import ProcedureClients
from procedure.diagrams import Diagram, get_diagram
from procedure.machine import FlowContext, FlowRunner, Outcome, StepFn
from procedure.models import (
    ApplicationDocuments,
    FlowStatus,
    Operation,
    ProvidedDocument,
    Service,
)
from procedure.qualification import RuleSet, default_rules, qualification_step
from procedure.store import FlowStore

CRASH_ENV = "EGOV_FLOW_CRASH_AT"
"""Test hook: ``<step id>[:before|:after]`` — SIGKILL this process at that point of a flow."""

DiagramNumber = Literal[1, 2]

SERVICE_CODES: dict[Service, str] = {
    Service.HIGHER_POSTGRADUATE: "S1",
    Service.RELIGIOUS: "S2",
    Service.TECHNICAL_VOCATIONAL: "S3",
    Service.SCHOOL: "S4",
    Service.REPUBLICAN_BUDGET: "S5",
}
"""Our services and their codes in the E-licensing catalogue."""

DIAGRAM_IDS: dict[int, str] = {1: "portal", 2: "provider"}


class Fault(enum.StrEnum):
    """What goes wrong in a flow; each fault ends the flow at one refusal of the regulation."""

    NONE = "none"
    NOT_AUTHORISED = "not-authorised"              # C1: wrong password (applicant / employee)
    NOT_PAID = "not-paid"                          # D1 C2: the bank declines the payment
    CERT_EXPIRED = "cert-expired"                  # D1 C3: the signing certificate has expired
    CERT_REVOKED = "cert-revoked"                  # D1 C3: ... is revoked (OCSP says so)
    CERT_OTHER_BIN = "cert-other-bin"              # D1 C3: ... carries another organisation's BIN
    ABSENT_FROM_LE = "absent-from-le"              # D2 C2: BIN not in the Legal Entities database
    LIQUIDATED = "liquidated"                      # D2 C2: present, but liquidated
    QUALIFICATION_NOT_MET = "qualification-not-met"  # D1 C4 / D2 C3

    def applies_to(self, diagram: int) -> bool:
        portal_only = {Fault.NOT_PAID, Fault.CERT_EXPIRED, Fault.CERT_REVOKED, Fault.CERT_OTHER_BIN}
        provider_only = {Fault.ABSENT_FROM_LE, Fault.LIQUIDATED}
        if diagram == 1:
            return self not in provider_only
        return self not in portal_only


# (diagram, fault) -> the step the flow must end at
_EXPECTED_END: dict[tuple[int, Fault], str] = {
    (1, Fault.NONE): "11",
    (1, Fault.NOT_AUTHORISED): "2",
    (1, Fault.NOT_PAID): "5",
    (1, Fault.CERT_EXPIRED): "7",
    (1, Fault.CERT_REVOKED): "7",
    (1, Fault.CERT_OTHER_BIN): "7",
    (1, Fault.QUALIFICATION_NOT_MET): "10",
    (2, Fault.NONE): "9",
    (2, Fault.NOT_AUTHORISED): "2",
    (2, Fault.ABSENT_FROM_LE): "5",
    (2, Fault.LIQUIDATED): "5",
    (2, Fault.QUALIFICATION_NOT_MET): "8",
}


class KeyRef(BaseModel):
    """A PKCS#12 file and its password (test keys written by the landscape)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    password: str

    def load(self) -> KeyMaterial:
        return KeyMaterial.from_pkcs12(self.path, self.password)


class Applicant(BaseModel):
    """The legal entity applying: identity, address, portal password and its two NCA keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bin: str
    name: str
    """Name as written on the application (and so on the licence)."""
    name_ru: str
    leader_iin: str
    leader_name: str
    postal_index: str
    city_kato: str
    city_name: str
    street_ru: str
    street_kz: str
    house: str
    phone: str = "+7 7172 000000"
    portal_password: str
    auth_key: KeyRef
    """AUTH_RSA256: logs in to the portal."""
    sign_key: KeyRef
    """RSA256: signs the application (the certificate Condition 3 checks)."""


class Officer(BaseModel):
    """An employee of the licensor in E-licensing (Diagram 2's actor; decides in both diagrams)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    login: str
    password: str
    licensor_code: str
    key: KeyRef
    """The employee's EDS (carries the licensor's BIN): signs applications entered in Diagram 2."""


class Expected(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: FlowStatus
    step: str


class Scenario(BaseModel):
    """One run: service, operation, diagram, applicant, officer and the fault to play."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: Service
    operation: Operation = Operation.ISSUE
    diagram: DiagramNumber = 1
    fault: Fault = Fault.NONE
    applicant: Applicant
    officer: Officer
    licence_number: str | None = None
    """The existing licence a re-issue, duplicate or appendix is about."""

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if not self.fault.applies_to(self.diagram):
            raise ValueError(f"fault {self.fault.value!r} does not exist in Diagram {self.diagram}")
        if self.operation is not Operation.ISSUE and not self.licence_number:
            raise ValueError(f"operation {self.operation.value} needs the number of the existing licence")
        if self.operation is Operation.ISSUE and self.licence_number:
            raise ValueError("a new licence is not issued against an existing licence number")
        return self

    @property
    def service_code(self) -> str:
        return SERVICE_CODES[self.service]

    @property
    def diagram_id(self) -> str:
        return DIAGRAM_IDS[self.diagram]

    def expected(self) -> Expected:
        """Where the regulation's diagram ends for this fault."""
        step = _EXPECTED_END[(self.diagram, self.fault)]
        status = FlowStatus.REFUSED if self.fault is not Fault.NONE else FlowStatus.COMPLETED
        return Expected(status=status, step=step)


# --------------------------------------------------------------------------- the applicant's documents

def application_documents(service: Service, operation: Operation, *, qualified: bool = True,
                          rules: RuleSet | None = None) -> ApplicationDocuments:
    """The documents and facts an applicant brings for ``service`` and ``operation``.

    Complete (every rule of the rule set met) when ``qualified``; otherwise the application form
    is "an application to restore licence data" and the licence-fee payment document is missing,
    the two cases of the regulation's sample refusal letter.
    """
    rule_set = rules or default_rules()
    documents: list[ProvidedDocument] = []
    facts: dict[str, Any] = {}
    for rule in rule_set.rules_for(service, operation):
        if rule.document is not None:
            attributes: dict[str, Any] = {}
            for check in rule.checks:
                if "equals" in check.model_fields_set:
                    expected = check.equals
                    attributes[check.attribute] = (expected.replace("{operation}", operation.value)
                                                   if isinstance(expected, str) else expected)
            documents.append(ProvidedDocument(code=rule.document, attributes=attributes))
        if rule.fact is not None and rule.at_least is not None:
            facts[rule.fact] = max(rule.at_least, 0.65) if rule.percent else rule.at_least
    if not qualified:
        documents = [d for d in documents if d.code != "licence_fee_payment"]
        documents = [ProvidedDocument(code=d.code, attributes={**d.attributes, "form": "restore-licence-data"})
                     if d.code == "application" else d for d in documents]
    return ApplicationDocuments(service=service, operation=operation, documents=documents, facts=facts)


def attachment_files(documents: ApplicationDocuments, owner: str) -> dict[str, bytes]:
    """One scanned file per document (the simulated scans: small PDF-like files)."""
    return {f"{d.code}.pdf": f"%PDF-1.4\n% scan of {d.code} brought by {owner}\n".encode()
            for d in documents.documents}


# --------------------------------------------------------------------------- the applicant's bank

class Bank(Protocol):
    """The applicant's bank, paying (or declining) a fee order held by the payment gateway."""

    def pay(self, order_id: str) -> None: ...

    def decline(self, order_id: str, reason: str) -> None: ...


StepObserver = Callable[[FlowContext, str], None]
"""Called with (context, "start" | "end") around each step: progress lines of the demo."""


# --------------------------------------------------------------------------- crash hook (tests only)

def crash_point(spec: str | None) -> tuple[str, str] | None:
    """Parse ``EGOV_FLOW_CRASH_AT``: ``"C4"`` → ("C4", "before"), ``"4:after"`` → ("4", "after")."""
    if not spec:
        return None
    step, _, when = spec.partition(":")
    when = when or "before"
    if when not in ("before", "after") or not step:
        raise ConfigurationError(f"{CRASH_ENV}={spec!r}: expected <step id>[:before|:after]", setting=CRASH_ENV)
    return step, when


def _die() -> None:  # pragma: no cover - the process ends here
    os.kill(os.getpid(), signal.SIGKILL)


def _wrap(step_id: str, fn: StepFn, crash: tuple[str, str] | None, observer: StepObserver | None) -> StepFn:
    def run(ctx: FlowContext) -> Any:
        if observer is not None:
            observer(ctx, "start")
        if crash == (step_id, "before"):
            _die()
        result = fn(ctx)
        if crash == (step_id, "after"):
            _die()
        if observer is not None:
            observer(ctx, "end")
        return result
    return run


# --------------------------------------------------------------------------- the wiring

def _ok(detail: str = "", **data: Any) -> Outcome:
    return Outcome(ok=True, detail=detail, data=data)


def _fail(detail: str, **data: Any) -> Outcome:
    return Outcome(ok=False, detail=detail, data=data)


class ProcedureWiring:
    """Step implementations of both diagrams over :class:`ProcedureClients`.

    ``bank`` plays the applicant's bank (Diagram 1 step 4); ``out_dir`` receives the licences and
    refusal letters. Sessions are opened on demand and kept in memory only: a resumed flow
    authorises again, nothing secret is stored in the flow's data.
    """

    def __init__(self, clients: ProcedureClients, *, bank: Bank, out_dir: Path, rules: RuleSet | None = None,
                 mci: Decimal = Decimal("1618"), licence_fee_mci: int = 10, notice_deadline: float = 5.0,
                 observer: StepObserver | None = None, crash_at: str | None = None) -> None:
        self.clients = clients
        self.bank = bank
        self.out_dir = Path(out_dir)
        self.rules = rules or default_rules()
        self.mci = mci
        self.licence_fee_mci = licence_fee_mci
        self.notice_deadline = notice_deadline
        self.observer = observer
        self.crash = crash_point(crash_at if crash_at is not None else os.environ.get(CRASH_ENV))
        self._sessions: dict[tuple[str, str], Session] = {}
        self._keys: dict[str, KeyMaterial] = {}
        self._qualification = qualification_step(self.rules)

    # ------------------------------------------------------------------ runners

    def steps(self, diagram: Diagram | str) -> dict[str, StepFn]:
        d = get_diagram(diagram) if isinstance(diagram, str) else diagram
        table = self._portal_steps() if d.id == "portal" else self._provider_steps()
        return {sid: _wrap(sid, fn, self.crash, self.observer) for sid, fn in table.items()}

    def runner(self, diagram: Diagram | str, store: FlowStore) -> FlowRunner:
        d = get_diagram(diagram) if isinstance(diagram, str) else diagram
        return FlowRunner(d, self.steps(d), store, clock=self.clients.clock)

    def fee(self, operation: Operation) -> Decimal:
        """The state fee: the licence fee for a licence, one MCI for a re-issue, duplicate or appendix."""
        return licence_fee(self.mci, self.licence_fee_mci if operation is Operation.ISSUE else 1)

    def _portal_steps(self) -> dict[str, StepFn]:
        return {"1": self._d1_register_on_portal, "C1": self._d1_authorise, "3": self._fill_and_attach,
                "4": self._d1_pay, "C2": self._d1_paid, "6": self._d1_select_certificate,
                "C3": self._d1_check_certificate, "8": self._d1_sign, "9": self._register,
                "C4": self._qualification, "10": self._refuse, "11": self._result}

    def _provider_steps(self) -> dict[str, StepFn]:
        return {"1": self._d2_log_in, "C1": self._d2_authorise, "3": self._d2_enter_applicant,
                "4": self._d2_ask_legal_entities, "C2": self._d2_applicant_present, "6": self._d2_fill_and_attach,
                "7": self._register, "C3": self._qualification, "8": self._refuse, "9": self._result}

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def scenario(ctx: FlowContext) -> Scenario:
        return Scenario.model_validate(ctx.data["scenario"])

    def _key(self, ref: KeyRef) -> KeyMaterial:
        key = self._keys.get(ref.path)
        if key is None:
            key = self._keys[ref.path] = ref.load()
        return key

    def _session(self, kind: str, who: str, login: Callable[[], Session], now: dt.datetime) -> Session:
        cached = self._open_session(kind, who, now)
        if cached is None:
            cached = self._sessions[(kind, who)] = login()
        return cached

    def _applicant_session(self, s: Scenario, now: dt.datetime) -> Session:
        cert = self._key(s.applicant.auth_key).certificate
        return self._session("applicant", s.applicant.bin,
                             lambda: self.clients.elicense.authorize_applicant(cert, s.applicant.portal_password), now)

    def _officer_session(self, s: Scenario, now: dt.datetime) -> Session:
        return self._session("employee", s.officer.login,
                             lambda: self.clients.elicense.authorize_employee(s.officer.login, s.officer.password),
                             now)

    def _form(self, s: Scenario, data: Mapping[str, Any], *, submitted_at: dt.datetime,
              payment: Payment | None, paper: str | None) -> ApplicationForm:
        a = s.applicant
        catalogue = self.clients.elicense.get_catalogue()
        sub_types = catalogue.service(s.service_code).sub_types
        if s.operation is Operation.ISSUE:
            chosen: tuple[str, ...] = (sub_types[0].code,)
        elif s.operation is Operation.APPENDIX:
            chosen = (sub_types[-1].code,)
        else:
            chosen = ()
        refs = tuple(AttachmentRef.model_validate(r) for r in data.get("attachments", []))
        return ApplicationForm(
            app_type=s.operation.value.upper(),  # type: ignore[arg-type]
            service_code=s.service_code, licence_number=s.licence_number,
            applicant=FormApplicant(iin_bin=a.bin, name=a.name, is_small_business=True,
                                    address=Address(postal_index=a.postal_index, city_kato=a.city_kato,
                                                    city_name=a.city_name, street_ru=a.street_ru,
                                                    street_kz=a.street_kz, house=a.house),
                                    phone=a.phone),
            territory_code="000000000", sub_types=chosen, payment=payment, attachments=refs,
            paper_documents=paper, submitted_at=submitted_at)

    def _upload(self, session: Session, s: Scenario) -> dict[str, Any]:
        documents = application_documents(s.service, s.operation, rules=self.rules,
                                          qualified=s.fault is not Fault.QUALIFICATION_NOT_MET)
        files = attachment_files(documents, s.applicant.bin)
        refs = self.clients.elicense.attachment_refs(files)
        for name, content in files.items():
            self.clients.elicense.upload_attachment(session, name, content)
        return {"application": documents.model_dump(mode="json"),
                "attachments": [r.model_dump(mode="json") for r in refs]}

    # ------------------------------------------------------------------ Diagram 1

    def _open_session(self, kind: str, who: str, now: dt.datetime) -> Session | None:
        """A session of this wiring for ``who`` that is still good for a minute, if any."""
        cached = self._sessions.get((kind, who))
        return cached if cached is not None and cached.expires_at > now + dt.timedelta(minutes=1) else None

    def _d1_register_on_portal(self, ctx: FlowContext) -> Outcome:
        """Registration is for the first time only. An applicant with an open session of this
        wiring has an account (no round trip); otherwise logging in tells whether it has one, and
        the session obtained is the one C1 then confirms (one authorisation per flow, not two)."""
        s = self.scenario(ctx)
        session = self._open_session("applicant", s.applicant.bin, ctx.clock.now())
        if session is not None:
            return _ok(f"portal account {session.subject} exists", portal_account=session.subject)
        cert = self._key(s.applicant.auth_key).certificate
        try:
            known = self.clients.elicense.authorize_applicant(cert, s.applicant.portal_password)
        except AuthorisationDenied:
            registered = self.clients.elicense.register_applicant(cert, s.applicant.portal_password)
            return _ok(f"registered on the portal as {registered.iin_bin}", portal_account=registered.iin_bin)
        self._sessions[("applicant", s.applicant.bin)] = known
        return _ok(f"portal account {known.subject} exists", portal_account=known.subject,
                   portal_login_at=ctx.step.id)

    def _d1_authorise(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        password = s.applicant.portal_password + ("-mistyped" if s.fault is Fault.NOT_AUTHORISED else "")
        # Step 1 of this flow has just logged in with these credentials (and this process still
        # holds that session): that is the authorisation C1 checks; no second round trip.
        if ctx.data.get("portal_login_at") == "1" and password == s.applicant.portal_password:
            reused = self._open_session("applicant", s.applicant.bin, ctx.clock.now())
            if reused is not None:
                return _ok(f"authorised as {reused.subject}", authorised=reused.subject)
        cert = self._key(s.applicant.auth_key).certificate
        try:
            session = self.clients.elicense.authorize_applicant(cert, password)
        except AuthorisationDenied as exc:
            return _fail(f"{exc.code}: {exc}")
        self._sessions[("applicant", s.applicant.bin)] = session
        return _ok(f"authorised as {session.subject}", authorised=session.subject)

    def _fill_and_attach(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        session = self._applicant_session(s, ctx.clock.now())
        data = self._upload(session, s)
        return _ok(f"{len(data['attachments'])} documents attached", **data)

    def _d1_pay(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        order = PaymentOrderRequest(client_reference=ctx.idempotency_key,
                                    payer=Payer(iin_bin=s.applicant.bin, name=s.applicant.name_ru[:500]),
                                    amount=self.fee(s.operation), application_reference=ctx.flow_id)
        created = self.clients.payment.create_order(order, message_id=None)
        current = created.order
        if current.status is PaymentStatus.CREATED:  # a resumed step finds it already paid
            if s.fault is Fault.NOT_PAID:
                self.bank.decline(current.order_id, "insufficient funds on the card")
            else:
                self.bank.pay(current.order_id)
        return _ok(f"order {current.order_id} for {order.amount} KZT", payment_order=current.order_id,
                   fee=str(order.amount))

    def _d1_paid(self, ctx: FlowContext) -> Outcome:
        order_id = str(ctx.data["payment_order"])
        order = self.clients.payment.get_status(order_id)
        if order.status is PaymentStatus.CREATED:
            order = self.clients.payment.wait_until_final(order_id, deadline=10.0, initial=0.05)
        if not order.paid:
            reason = f": {order.status_reason}" if order.status_reason else ""
            return _fail(f"payment order {order_id} is {order.status.value}{reason}")
        receipt = self.clients.payment.get_receipt(order_id)
        return _ok(receipt.summary(), payment={
            "amount": str(receipt.amount), "document_number": receipt.document_number,
            "document_date": receipt.document_date.isoformat(), "receipt": order.order_id,
            "signed_by": receipt.signer.bin})

    def _d1_select_certificate(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        cert = self._key(s.applicant.sign_key).certificate
        return _ok(f"certificate {cert.serial_number:x}", certificate={
            "serial": f"{cert.serial_number:x}", "subject": cert.subject.rfc4514_string(),
            "not_after": cert.not_valid_after_utc.isoformat()})

    def _d1_check_certificate(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        key = self._key(s.applicant.sign_key)
        try:
            info = self.clients.validator.validate(key.certificate, chain=key.chain, usage="sign",
                                                   expect_bin=s.applicant.bin)
        except SignatureRefused as exc:
            return _fail(f"{exc.reason.value}: {exc.detail}", certificate_refusal=exc.reason.value)
        return _ok(f"valid, not revoked, BIN {info.bin}", signer=info.describe())

    def _d1_sign(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        paid = ctx.data["payment"]
        payment = Payment(amount_paid=Decimal(paid["amount"]), document_number=paid["document_number"],
                          document_date=dt.date.fromisoformat(paid["document_date"]),
                          amount_due=Decimal(ctx.data["fee"]), receipt_id=paid["receipt"])
        form = self._form(s, ctx.data, submitted_at=ctx.clock.now(), payment=payment, paper=None)
        signed = self.clients.elicense.sign_application(form, SigningService(self._key(s.applicant.sign_key)))
        return _ok(f"signed, {len(signed)} bytes", signed_application=base64.b64encode(signed).decode())

    # ------------------------------------------------------------------ Diagram 2

    def _d2_log_in(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        return _ok(f"login {s.officer.login}", login=s.officer.login)

    def _d2_authorise(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        password = s.officer.password + ("-mistyped" if s.fault is Fault.NOT_AUTHORISED else "")
        try:
            session = self.clients.elicense.authorize_employee(s.officer.login, password)
        except AuthorisationDenied as exc:
            return _fail(f"{exc.code}: {exc}")
        self._sessions[("employee", s.officer.login)] = session
        return _ok(f"authorised as {session.subject} ({session.licensor_code})", authorised=session.subject)

    def _d2_enter_applicant(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        return _ok(f"service {s.service_code}, applicant BIN {s.applicant.bin}", applicant_bin=s.applicant.bin)

    def _d2_ask_legal_entities(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        outcome = self.clients.legal_entities.lookup_bin(s.applicant.bin, correlation_id=ctx.flow_id)
        found: dict[str, Any] = {"kind": outcome.kind, "present": outcome.present, "eligible": outcome.eligible}
        if isinstance(outcome, Found | Liquidated | Inactive):
            org = outcome.organisation
            found.update(name_ru=org.full_name_ru, name_kz=org.full_name_kz, status=org.status.value,
                         leader=org.leader.full_name, kato=org.address.kato)
        return _ok(f"register answered {outcome.kind}", legal_entity=found)

    def _d2_applicant_present(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        le = ctx.data["legal_entity"]
        kind = le["kind"]
        if kind == Found.model_fields["kind"].default:
            return _ok(f"{le['name_ru']} is registered")
        if kind in (NotFound.model_fields["kind"].default, InvalidBin.model_fields["kind"].default):
            return _fail(f"BIN {s.applicant.bin} is absent from the Legal Entities database ({kind})")
        return _fail(f"BIN {s.applicant.bin} is {le.get('status', kind)} in the Legal Entities database: "
                     "the data of a registered, active entity cannot be obtained")

    def _d2_fill_and_attach(self, ctx: FlowContext) -> Outcome:
        """Paper documents noted, scans attached; the completed form is signed with the employee's EDS
        (kept in the flow, so that registering it again after a crash sends the same document)."""
        s = self.scenario(ctx)
        session = self._officer_session(s, ctx.clock.now())
        data = self._upload(session, s)
        paper = "; ".join(d["code"] for d in data["application"]["documents"])
        form = self._form(s, data, submitted_at=ctx.clock.now(), payment=None,
                          paper=f"paper originals brought in: {paper}")
        signed = self.clients.elicense.sign_application(form, SigningService(self._key(s.officer.key)))
        return _ok(f"{len(data['attachments'])} scans attached, form signed", **data,
                   signed_application=base64.b64encode(signed).decode())

    # ------------------------------------------------------------------ both diagrams

    def _register(self, ctx: FlowContext) -> Outcome:
        """D1 step 9 / D2 step 7: E-licensing registers the signed application; the licensor's
        officer takes it into work."""
        s = self.scenario(ctx)
        now = ctx.clock.now()
        session = self._applicant_session(s, now) if s.diagram == 1 else self._officer_session(s, now)
        signed = base64.b64decode(ctx.data["signed_application"])
        info = self.clients.elicense.register_application(session, signed, idempotency_key=ctx.idempotency_key)
        if info.licensor.code != s.officer.licensor_code:
            raise ConfigurationError(f"application {info.number} went to licensor {info.licensor.code}, the "
                                     f"scenario's officer works for {s.officer.licensor_code}",
                                     setting="officer")
        self.clients.elicense.start_processing(self._officer_session(s, now), info.number)
        deadline = review_deadline(info.registered_at)
        return _ok(f"application {info.number} registered {info.registered_at:%d.%m.%Y %H:%M:%S}",
                   application_number=info.number, registered_at=info.registered_at.isoformat(),
                   licensor=info.licensor.code, deadline=deadline.isoformat())

    def _refuse(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        number = str(ctx.data["application_number"])
        rows = ctx.data.get("qualification", {}).get("missing", [])
        missing = [MissingDocument(document=r["name_ru"], comment=r.get("comment_ru") or r["comment"]) for r in rows]
        if not missing:
            raise ValidationError("qualification.missing", "a refusal lists at least one missing document")
        details = self.clients.elicense.refuse(self._officer_session(s, ctx.clock.now()), number, missing,
                                               idempotency_key=ctx.idempotency_key)
        if details.refusal is None:
            raise ValidationError("refusal", f"E-licensing refused application {number} without a letter")
        xml_path, pdf_path = artefacts.write_refusal(self.out_dir, details.refusal, rows,
                                                     recipient=s.applicant.name)
        return _ok(f"refusal letter of application {number}", refusal_xml=str(xml_path),
                   refusal_pdf=str(pdf_path), refused_by=details.refusal.signer.describe())

    def _result(self, ctx: FlowContext) -> Outcome:
        s = self.scenario(ctx)
        number = str(ctx.data["application_number"])
        officer = self._officer_session(s, ctx.clock.now())
        decided = self.clients.elicense.issue(officer, number, idempotency_key=ctx.idempotency_key)
        licence_number = decided.application.licence_number
        if licence_number is None:
            raise ValidationError("licence_number", f"application {number} is {decided.application.status}, "
                                                    "not issued")
        # the applicant receives the result: the licence as the registry holds it, verified here
        signed = self.clients.elicense.get_licence(licence_number)
        notices = self.clients.notifications.fetch(application_number=number)
        if not notices:
            try:
                notices = self.clients.notifications.wait(application_number=number,
                                                          deadline=self.notice_deadline)
            except DeadlineExceededError:  # a resumed step may find them consumed already
                notices = []
        suffix = "" if s.operation in (Operation.ISSUE, Operation.REISSUE) else f"-{s.operation.value}"
        xml_path, pdf_path = artefacts.write_licence(self.out_dir, signed, suffix=suffix)
        return _ok(f"licence {licence_number} ({signed.licence.kind}), signed by {signed.signer.common_name}",
                   licence_number=licence_number, licence_kind=signed.licence.kind,
                   licence_xml=str(xml_path), licence_pdf=str(pdf_path),
                   notices=[n.status for n in notices], signed_by=signed.signer.describe())

