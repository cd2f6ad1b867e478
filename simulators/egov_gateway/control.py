"""The gateway simulator's control API (JSON over HTTP under ``/_control/``), for QA and tests.

- ``GET  /_control/health``                         → ``{"status": "ok"}``
- ``GET  /_control/services``                       → registered serviceIds
- ``GET  /_control/senders`` / ``POST`` one sender  → ``{"sender_id", "password", "bin", "services"}``
- ``GET  /_control/async[?recipient=ID]``           → queued async messages and their states
- ``POST /_control/publish``                        → queue a message for a recipient
  ``{"recipient_id", "service_id", "message_type", "data": "<xml/>", "correlation_id"}``
- ``GET  /_control/stats``                          → dedup size, journal counts
- ``POST /_control/reset``                          → forget dedup, async queues, journal and faults
- faults: ``/_control/faults`` (see ``simulators.common.faults.install_fault_control``)
- journal: ``/_control/journal`` (see ``simulators.common.request_journal.install_journal_control``)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.core.errors import EgovError
from adapters.core.xmlparse import parse_xml
from simulators.common.faults import install_fault_control
from simulators.common.httpserver import Request, Response, Router
from simulators.common.request_journal import install_journal_control

if TYPE_CHECKING:
    from simulators.egov_gateway.simulator import GatewaySimulator

PREFIX = "/_control"


def install_control(router: Router, sim: GatewaySimulator) -> None:
    install_fault_control(router, sim.injector, f"{PREFIX}/faults")
    install_journal_control(router, sim.journal, f"{PREFIX}/journal")

    def health(req: Request) -> Response:
        return Response.json({"status": "ok", "maintenance": sim.injector.maintenance})

    def services(req: Request) -> Response:
        return Response.json({"services": sim.routes.services()})

    def senders(req: Request) -> Response:
        if req.method == "POST":
            data: dict[str, Any] = req.json() or {}
            if not data.get("sender_id"):
                return Response.json({"error": "sender_id is required"}, 400)
            sim.add_sender(str(data["sender_id"]), data.get("password"), bin=data.get("bin"),
                           services=data.get("services"))
        return Response.json({"senders": [
            {"sender_id": a.sender_id, "has_password": a.password is not None, "bin": a.bin,
             "services": sorted(a.services) if a.services is not None else None}
            for a in sim.senders.all()]})

    def async_list(req: Request) -> Response:
        recipient = req.param("recipient")
        items = [r for r in sim.async_store.all() if recipient is None or r.recipient_id == recipient]
        return Response.json({"count": len(items), "messages": [
            {"message_id": r.message_id, "correlation_id": r.correlation_id, "service_id": r.service_id,
             "message_type": r.message_type, "sender_id": r.sender_id, "recipient_id": r.recipient_id,
             "state": r.state, "status_code": r.status_code, "status_message": r.status_message,
             "created": r.created.isoformat(), "pulls": r.pulls} for r in items]})

    def publish(req: Request) -> Response:
        try:
            data: dict[str, Any] = req.json() or {}
            element = parse_xml(str(data.get("data") or "<empty/>"), what="published data")
            message_id = sim.publish(str(data["recipient_id"]), str(data["service_id"]),
                                     str(data.get("message_type") or "NOTIFICATION"), element,
                                     correlation_id=data.get("correlation_id"))
        except (KeyError, ValueError, EgovError) as exc:
            return Response.json({"error": str(exc)}, 400)
        return Response.json({"message_id": message_id}, 201)

    def stats(req: Request) -> Response:
        entries = sim.journal.entries()
        outcomes: dict[str, int] = {}
        for e in entries:
            outcomes[e.outcome] = outcomes.get(e.outcome, 0) + 1
        return Response.json({"dedup_entries": len(sim.dedup), "requests": len(entries),
                              "backend_calls": sum(1 for e in entries if e.backend_called),
                              "outcomes": outcomes, "async_messages": len(sim.async_store.all())})

    def reset(req: Request) -> Response:
        sim.reset()
        return Response.json({"status": "reset"})

    router.add("GET", f"{PREFIX}/health", health)
    router.add("GET", f"{PREFIX}/services", services)
    router.add("GET", f"{PREFIX}/senders", senders)
    router.add("POST", f"{PREFIX}/senders", senders)
    router.add("GET", f"{PREFIX}/async", async_list)
    router.add("POST", f"{PREFIX}/publish", publish)
    router.add("GET", f"{PREFIX}/stats", stats)
    router.add("POST", f"{PREFIX}/reset", reset)
