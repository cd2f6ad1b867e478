"""Control API of the payment gateway simulator: the bank's side, for QA (JSON over HTTP).

- ``GET    /_control/payments[?client_reference=&status=]`` → ``{"count", "payments": [...]}``
- ``GET    /_control/payments/{orderId|clientReference}``   → one order
- ``POST   /_control/payments/{key}/pay``      body ``{"bank_bic": ..., "bank_name": ...}`` (optional)
- ``POST   /_control/payments/{key}/reject``   body ``{"reason": ...}`` (optional)
- ``POST   /_control/payments/{key}/refund``   body ``{"reason": ...}`` (optional)
- ``DELETE /_control/payments``                 → empty the store
- ``GET|PUT /_control/auto-pay``               body ``{"delay_seconds": 5}`` or ``{"delay_seconds": null}``
- ``POST   /_control/reset``                    → empty store, no faults, empty journal
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from simulators.common.httpserver import Request, Response, Router
from simulators.payment_gateway.errors import PaymentRefusal
from simulators.payment_gateway.state import Bank

if TYPE_CHECKING:
    from simulators.payment_gateway.simulator import PaymentGatewaySimulator

PREFIX = "/_control/payments"


def _body(req: Request) -> dict[str, Any]:
    data = req.json() if req.body.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _error(exc: Exception) -> Response:
    if isinstance(exc, PaymentRefusal):
        status = 404 if exc.error_code == "PSE004" else 409
        return Response.json({"error": exc.error_code, "message": exc.detail}, status)
    return Response.json({"error": "bad-request", "message": str(exc)}, 400)


def install_payment_control(router: Router, sim: PaymentGatewaySimulator) -> None:
    store = sim.store

    def get(req: Request) -> Response:
        key = req.path[len(PREFIX):].strip("/")
        try:
            if key:
                return Response.json(store.get(key).public())
            orders = store.list(client_reference=req.param("client_reference"), status=req.param("status"))
        except (PaymentRefusal, ValueError) as exc:
            return _error(exc)
        return Response.json({"count": len(orders), "payments": [o.public() for o in orders]})

    def post(req: Request) -> Response:
        parts = req.path[len(PREFIX):].strip("/").split("/")
        if len(parts) != 2 or parts[1] not in ("pay", "reject", "refund"):
            return Response.json({"error": "not-found", "message": f"no action at {req.path}"}, 404)
        key, action = parts
        try:
            data = _body(req)
            if action == "pay":
                bank = None
                if data.get("bank_bic"):
                    bank = Bank(bic=str(data["bank_bic"]), name=str(data.get("bank_name") or data["bank_bic"]))
                order = store.pay(key, bank)
            elif action == "reject":
                order = store.reject(key, data.get("reason"))
            else:
                order = store.refund(key, data.get("reason"))
        except (PaymentRefusal, ValueError) as exc:
            return _error(exc)
        return Response.json(order.public())

    def delete(req: Request) -> Response:
        store.reset()
        return Response.json({"count": 0, "payments": []})

    def auto_pay(req: Request) -> Response:
        if req.method == "PUT":
            try:
                seconds = _body(req).get("delay_seconds")
                store.auto_pay_after = None if seconds is None else dt.timedelta(seconds=float(seconds))
            except (ValueError, TypeError) as exc:
                return _error(ValueError(f"expected {{\"delay_seconds\": number | null}}: {exc}"))
        delay = store.auto_pay_after
        return Response.json({"delay_seconds": None if delay is None else delay.total_seconds()})

    def reset(req: Request) -> Response:
        sim.reset()
        return Response.json({"reset": True})

    router.add("GET", PREFIX, get)
    router.add("POST", PREFIX, post)
    router.add("DELETE", PREFIX, delete)
    router.add("GET", "/_control/auto-pay", auto_pay)
    router.add("PUT", "/_control/auto-pay", auto_pay)
    router.add("POST", "/_control/reset", reset)
