"""The fault proxy: any HTTP endpoint behind the simulators' transport faults, as Toxiproxy does for TCP.

``egov sim proxy --listen PORT --target URL`` forwards every request to the target and plays the
faults set through the same control API as the simulators' (``/_control/faults``, the landscape's
token; ``egov sim fault add --url <proxy>``): the same :class:`~simulators.common.faults.FaultSpec`,
the same :func:`~simulators.common.faults.perform`, played on the socket by the same
:class:`~simulators.common.httpserver.SimServer`. A fault matches on ``operation`` (the request's
SOAP operation, from its ``SOAPAction``) and ``service`` (the request's path, e.g. ``/bip-sync/``).

When a fault applies (``when``):

- ``before``: the request is not forwarded: ``http_status`` answers its status, ``reset``,
  ``empty`` and ``garbage`` break the connection; ``latency`` waits, then forwards;
- ``after``: the request is forwarded (the target processed it), then its answer is lost or spoilt.

``truncated``, ``drip``, ``malformed_xml`` and ``empty_body`` need the target's answer: they are
always ``after``. The protocol kinds (``soap_fault``, ``status_code``, the signature kinds) need a
system's wire format, which the proxy does not speak: setting one is refused (400). Maintenance
answers 503 without forwarding. Every request is journalled (``/_control/journal``,
``egov sim journal --url <proxy>``).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from adapters.core.errors import ConfigurationError
from simulators.common.control_guard import ControlGuard, is_control_path, new_control_token
from simulators.common.faults import FaultInjector, FaultSpec, install_fault_control, parse_spec, perform
from simulators.common.httpserver import SimServer
from simulators.common.limits import DEFAULT_LIMITS, ConnectionLimits
from simulators.common.messages import Request, Response
from simulators.common.request_journal import RequestJournal, install_journal_control
from simulators.common.router import Router
from simulators.common.sim_metrics import operation_of
from simulators.common.wire_fault import WireFault
from simulators.proxy.forward import Upstream

__all__ = ["ANSWER_KINDS", "BEFORE_KINDS", "PROXY_KINDS", "FaultProxy", "ProxyInjector"]


BEFORE_KINDS = frozenset({"latency", "http_status", "reset", "empty", "garbage"})
"""Kinds that can strike before the request is forwarded."""
ANSWER_KINDS = frozenset({"truncated", "drip", "malformed_xml", "empty_body"})
"""Kinds that spoil the target's answer: always after forwarding."""
PROXY_KINDS = BEFORE_KINDS | ANSWER_KINDS
"""Every kind the proxy plays: the simulators' transport kinds."""
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


class ProxyInjector(FaultInjector):
    """A :class:`FaultInjector` that refuses the kinds a proxy cannot play (they need a wire format)."""

    def set(self, spec: FaultSpec | dict[str, Any]) -> FaultSpec:
        parsed = spec if isinstance(spec, FaultSpec) else parse_spec(spec)
        if parsed.kind not in PROXY_KINDS:
            raise ConfigurationError(f"the fault proxy plays only {', '.join(sorted(PROXY_KINDS))}; {parsed.kind!r} "
                                     "needs a system's wire format: set it on a simulator", setting="kind")
        if parsed.kind in ANSWER_KINDS:
            parsed.when = "after"
        return super().set(parsed)


class FaultProxy:
    """A reverse proxy to ``target`` with fault injection; start/stop or use as a context manager."""

    def __init__(self, target: str, *, port: int = 0, host: str = "127.0.0.1", control_token: str | None = None,
                 timeout: float = 120.0, injector: ProxyInjector | None = None, journal: RequestJournal | None = None,
                 limits: ConnectionLimits = DEFAULT_LIMITS, upstream: Upstream | None = None) -> None:
        self.control_token = control_token or new_control_token()
        self.upstream = upstream or Upstream(target, timeout=timeout)
        self.faults = injector or ProxyInjector()
        self.journal = journal or RequestJournal()
        self.router = Router(control=ControlGuard(self.control_token))
        install_fault_control(self.router, self.faults)
        install_journal_control(self.router, self.journal)
        for method in METHODS:
            self.router.add(method, "/", self.handle)
        self._server = SimServer(self.router, name="proxy", host=host, port=port, limits=limits)

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def target(self) -> str:
        return self.upstream.base

    def start(self) -> FaultProxy:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self.upstream.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ one request

    def handle(self, req: Request) -> Response | WireFault:
        if is_control_path(req.path):  # the proxy's own control API only; never the target's
            return Response.json({"error": f"no such control route {req.path}"}, 404)
        started = time.monotonic()
        operation = operation_of(req)
        record: dict[str, Any] = {"method": req.method, "path": req.path, "service": req.path,
                                  "operation": operation}
        if self.faults.maintenance:
            return self._journal(record, started, Response.text("under maintenance (fault proxy)", 503),
                                 outcome="http:503")
        spec = self.faults.pick(req.path, operation)
        if spec is not None:
            self.faults.delay(spec)
            record.update(fault=spec.kind, fault_when=spec.when)
            if spec.kind != "latency" and spec.when == "before":
                return self._journal(record, started, perform(spec, b""), outcome=f"injected:{spec.kind}")
        answer, record["backend_called"] = self.upstream.forward(req)
        if spec is not None and spec.kind != "latency":
            content_type = answer.headers.get("Content-Type", "text/xml; charset=utf-8")
            spoilt = perform(spec, answer.body, content_type=content_type)
            if isinstance(spoilt, WireFault) and spoilt.kind in ("truncated", "drip"):
                spoilt = dataclasses.replace(spoilt, status=answer.status)  # the target's status, cut short
            return self._journal(record, started, spoilt, outcome=f"injected:{spec.kind}")
        return self._journal(record, started, answer, outcome="ok" if answer.status < 400 else f"http:{answer.status}")

    def _journal(self, record: dict[str, Any], started: float, answer: Response | WireFault, *,
                 outcome: str) -> Response | WireFault:
        status = answer.status if isinstance(answer, Response) else None
        self.journal.record(**record, outcome=outcome, http_status=status,
                            duration_ms=round((time.monotonic() - started) * 1000, 3))
        return answer
