"""Diagram 1's applicant pays the fee at their own bank: the service cannot pay for them.

Step 4 creates the fee order on the payment gateway (its client reference is the step's
idempotency key); the applicant pays it in their bank (its order id is in the flow's state, under
``payment_order``). :class:`PaymentByApplicant` is the procedure's
:class:`~procedure.ports.ApplicantBank` port for a deployment: it asks nothing of anyone and logs
the order awaited. Condition 2 then reads the order's status from the gateway, waiting
``EGOV_FLOW_PAYMENT_WAIT_SECONDS``; an order still unpaid fails the step, and the worker tries it
again later (``EGOV_WORKER_RETRY_SECONDS``), until the applicant has paid or the retries run out.
"""

from __future__ import annotations

import logging

from adapters.payment_gateway import PaymentOrder

__all__ = ["PaymentByApplicant"]

log = logging.getLogger("workers.payment")


class PaymentByApplicant:
    """The applicant's bank as a deployment sees it: out of reach; the applicant pays there."""

    def pay(self, order: PaymentOrder) -> None:
        log.info("fee order %s of %s %s awaits the applicant's payment", order.order_id, order.amount,
                 order.currency, extra={"order_id": order.order_id})
