"""Diagram 1, the service through the portal: the applicant's steps up to the signed application.

- 1 registers the applicant on the portal when the request says it is the first time (proving
  possession of the AUTH key: a fresh challenge of the portal, signed with it);
- C1 authorises with the AUTH key (a fresh challenge signed with it) and the password the
  applicant typed;
- 3 attaches the documents; 4 creates the fee order on the payment gateway and asks the
  applicant's bank to pay it; C2 asks the gateway whether it was paid (the gateway-signed receipt
  is verified and becomes the application's payment information);
- 6 selects the signing certificate; C3 validates it: chain, validity, revocation (OCSP, then
  CRL) and the BIN of the application; 8 signs the application (kept in the flow, so that
  registering it again after a crash sends the same document).

Registration, the qualification check and the decision are shared with Diagram 2
(:mod:`procedure.decision`).
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

from adapters.core.errors import SignatureRefused
from adapters.core.xmlsig import SigningService
from adapters.elicense import AuthorisationDenied, Payment
from adapters.payment_gateway import Payer, PaymentOrderRequest, PaymentStatus
from procedure.application import Application
from procedure.fees import Fees
from procedure.form import application_form, attach
from procedure.logins import Logins
from procedure.machine import FlowContext, Outcome, failed, passed
from procedure.ports import ProcedurePorts

__all__ = ["PortalSteps"]


class PortalSteps:
    """Steps 1, C1, 3, 4, C2, 6, C3 and 8 of Diagram 1."""

    def __init__(self, ports: ProcedurePorts, logins: Logins, fees: Fees, *, payment_deadline: float = 10.0) -> None:
        self.ports = ports
        self.logins = logins
        self.fees = fees
        self.payment_deadline = payment_deadline

    def register_on_portal(self, ctx: FlowContext) -> Outcome:
        """Step 1: registration is for the first time only; a returning applicant goes on to log in."""
        app = Application.of_flow(ctx.data)
        portal = app.on_portal()
        if not portal.first_time:
            return passed(f"returning applicant {app.applicant.bin}")
        registered = self.ports.elicense.register_applicant(self.logins.key(portal.auth_key), portal.password.resolve(),
                                                            iin_bin=app.applicant.bin)
        return passed(f"registered on the portal as {registered.iin_bin}", portal_account=registered.iin_bin)

    def authorise(self, ctx: FlowContext) -> Outcome:
        """C1: the portal checks the applicant's AUTH key (a fresh challenge signed with it: a trusted,
        valid, unrevoked certificate of the applicant's BIN) and the typed password."""
        app = Application.of_flow(ctx.data)
        portal = app.on_portal()
        try:
            session = self.ports.elicense.authorize_applicant(self.logins.key(portal.auth_key),
                                                              portal.password.resolve(), iin_bin=app.applicant.bin)
        except AuthorisationDenied as exc:
            return failed(f"{exc.code}: {exc}")
        self.logins.remember("applicant", app.applicant.bin, session)
        return passed(f"authorised as {session.subject}", authorised=session.subject)

    def fill_and_attach(self, ctx: FlowContext) -> Outcome:
        """Step 3: the form filled and the documents attached electronically."""
        app = Application.of_flow(ctx.data)
        data = attach(self.ports.elicense, self.logins.applicant(app, ctx.clock.now()), app)
        return passed(f"{len(data['attachments'])} documents attached", **data)

    def pay(self, ctx: FlowContext) -> Outcome:
        """Step 4: the fee order (its client reference is the step's idempotency key), paid by the
        applicant's bank unless a resumed step finds it already decided."""
        app = Application.of_flow(ctx.data)
        order = PaymentOrderRequest(client_reference=ctx.idempotency_key,
                                    payer=Payer(iin_bin=app.applicant.bin, name=app.applicant.name_ru[:500]),
                                    amount=self.fees.of(app.operation), application_reference=ctx.flow_id)
        current = self.ports.payment.create_order(order, message_id=None).order
        if current.status is PaymentStatus.CREATED:
            self.ports.bank.pay(current)
        basis = self.fees.basis(app.operation)
        return passed(f"order {current.order_id} for {order.amount} KZT ({basis.en})", payment_order=current.order_id,
                      fee=str(order.amount), fee_basis=basis.model_dump())

    def paid(self, ctx: FlowContext) -> Outcome:
        """C2: the gateway says whether the order is paid; the signed receipt is verified."""
        order_id = str(ctx.data["payment_order"])
        order = self.ports.payment.get_status(order_id)
        if order.status is PaymentStatus.CREATED:
            order = self.ports.payment.wait_until_final(order_id, deadline=self.payment_deadline, initial=0.05)
        if not order.paid:
            reason = f": {order.status_reason}" if order.status_reason else ""
            return failed(f"payment order {order_id} is {order.status.value}{reason}")
        receipt = self.ports.payment.get_receipt(order_id)
        return passed(receipt.summary(), payment={
            "amount": str(receipt.amount), "document_number": receipt.document_number,
            "document_date": receipt.document_date.isoformat(), "receipt": order.order_id,
            "signed_by": receipt.signer.bin})

    def select_certificate(self, ctx: FlowContext) -> Outcome:
        """Step 6: the certificate the applicant signs with."""
        cert = self.logins.key(Application.of_flow(ctx.data).on_portal().sign_key).certificate
        return passed(f"certificate {cert.serial_number:x}", certificate={
            "serial": f"{cert.serial_number:x}", "subject": cert.subject.rfc4514_string(),
            "not_after": cert.not_valid_after_utc.isoformat()})

    def check_certificate(self, ctx: FlowContext) -> Outcome:
        """C3: validity period, revocation, and the application's BIN in the certificate."""
        app = Application.of_flow(ctx.data)
        key = self.logins.key(app.on_portal().sign_key)
        try:
            info = self.ports.certificates.validate(key.certificate, chain=key.chain, usage="sign",
                                                    expect_bin=app.applicant.bin)
        except SignatureRefused as exc:
            return failed(f"{exc.reason.value}: {exc.detail}", certificate_refusal=exc.reason.value)
        return passed(f"valid, not revoked, BIN {info.bin}", signer=info.describe())

    def sign(self, ctx: FlowContext) -> Outcome:
        """Step 8: the filled request, with the payment information, signed with the applicant's EDS."""
        app = Application.of_flow(ctx.data)
        paid = ctx.data["payment"]
        payment = Payment(amount_paid=Decimal(paid["amount"]), document_number=paid["document_number"],
                          document_date=dt.date.fromisoformat(paid["document_date"]),
                          amount_due=Decimal(ctx.data["fee"]), receipt_id=paid["receipt"])
        form = application_form(self.ports.elicense, app, ctx.data, submitted_at=ctx.clock.now(),
                                payment=payment, paper=None)
        signing = SigningService(self.logins.key(app.on_portal().sign_key))
        signed = self.ports.elicense.sign_application(form, signing)
        return passed(f"signed, {len(signed)} bytes", signed_application=base64.b64encode(signed).decode())
