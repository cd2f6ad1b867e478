"""Fault injection shared by every SOAP simulator.

A :class:`FaultSpec` says *what* goes wrong (``kind``), *where* (service and operation, ``None``
matching any), *how often* (``times``: the next N matching calls, then the spec is spent — "fail N
times, then succeed"; ``probability``), and *when*: ``before`` the backend runs (the request never
reaches it) or ``after`` (the backend has processed the message and its answer is stored for
deduplication, then the answer is lost on the way back).

A :class:`FaultInjector` holds the active specs and the maintenance flag; simulators ask it
:meth:`~FaultInjector.pick` per request. Transport-level kinds become an answer here
(:func:`perform`): a :class:`Response`, or a :class:`WireFault` that the runner plays on the wire;
protocol kinds (SOAP Fault, a gateway status code, signature faults) need the simulator's wire
format and are applied by the simulator itself.

Set faults through :func:`install_fault_control` (JSON over HTTP), a scenario file (YAML, see
``docs/gateway.md``), the ``egov sim`` CLI, or the pytest fixture.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from adapters.core.errors import ConfigurationError
from simulators.common.fault_kinds import FaultKind
from simulators.common.messages import Request, Response
from simulators.common.router import Router
from simulators.common.wire_fault import WireFault

TRANSPORT_KINDS: frozenset[str] = frozenset({
    "latency", "drip", "http_status", "reset", "empty", "empty_body", "garbage", "truncated", "malformed_xml",
})
"""Kinds :func:`perform` turns into an answer or a wire fault, whatever the protocol."""

SIGNATURE_KINDS: frozenset[str] = frozenset({"invalid_signature", "missing_signature", "expired_timestamp"})
"""Kinds that spoil the answer's signature: always applied to a processed answer ("after")."""

ANSWER_KINDS: frozenset[str] = SIGNATURE_KINDS | {"drip"}
"""Kinds that need the real answer, so they always apply "after" the backend."""


class FaultSpec(BaseModel):
    """One injected fault. JSON/YAML friendly; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    service: str | None = Field(None, description="serviceId (or simulator-specific service name); None = any")
    operation: str | None = Field(None, description="SOAP operation, e.g. SendMessage; None = any")
    times: int | None = Field(None, ge=1, description="apply to the next N matching calls only; None = always")
    probability: float = Field(1.0, ge=0.0, le=1.0, description="chance of applying to a matching call")
    when: Literal["before", "after"] = Field("before", description="before or after the backend runs")
    latency_ms: int = Field(0, ge=0, description="fixed delay before answering (any kind)")
    jitter_ms: int = Field(0, ge=0, description="extra random delay 0..jitter_ms (any kind)")
    http_status: int = Field(500, ge=400, le=599, description="status of kind http_status")
    code: str | None = Field(None, description="error/status code of kinds soap_fault and status_code")
    message: str | None = Field(None, description="message of kinds soap_fault and status_code")
    drip_chunk: int = Field(64, ge=1, description="bytes per chunk of kind drip")
    drip_interval_ms: int = Field(50, ge=0, description="pause between chunks of kind drip")
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12], description="assigned when set")
    hits: int = Field(0, ge=0, description="how many calls it has been applied to")

    @model_validator(mode="after")
    def _check(self) -> FaultSpec:
        if self.kind in ANSWER_KINDS:
            self.when = "after"
        return self

    def matches(self, service: str | None, operation: str | None) -> bool:
        return ((self.service is None or self.service == service)
                and (self.operation is None or self.operation == operation))

    @property
    def spent(self) -> bool:
        return self.times is not None and self.hits >= self.times


class Scenario(BaseModel):
    """A scenario file: the maintenance flag and a list of faults."""

    model_config = ConfigDict(extra="forbid")

    maintenance: bool = False
    faults: list[FaultSpec] = Field(default_factory=list)


class FaultInjector:
    """Thread-safe holder of active faults. ``pick`` is atomic: a ``times=1`` fault hits one call."""

    def __init__(self, *, rng: random.Random | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._lock = threading.Lock()
        self._specs: list[FaultSpec] = []
        self._maintenance = False
        self._rng = rng or random.Random()
        self.sleep = sleep

    # ------------------------------------------------------------------ configuration

    def set(self, spec: FaultSpec | dict[str, Any]) -> FaultSpec:
        """Add a fault (checked first-added, first-matched) and return it with its id."""
        parsed = spec if isinstance(spec, FaultSpec) else parse_spec(spec)
        with self._lock:
            self._specs.append(parsed)
        return parsed

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._specs)
            self._specs = [s for s in self._specs if s.id != fault_id]
            return len(self._specs) != before

    def clear(self, *, service: str | None = None) -> None:
        """Remove every fault (or only those of ``service``); maintenance is left as is."""
        with self._lock:
            self._specs = [] if service is None else [s for s in self._specs if s.service != service]

    def reset(self) -> None:
        """Back to a healthy simulator: no faults, no maintenance."""
        with self._lock:
            self._specs = []
            self._maintenance = False

    def list(self) -> list[FaultSpec]:
        with self._lock:
            return [s.model_copy() for s in self._specs]

    @property
    def maintenance(self) -> bool:
        return self._maintenance

    @maintenance.setter
    def maintenance(self, value: bool) -> None:
        self._maintenance = bool(value)

    def load_scenario(self, source: str | Path | dict[str, Any]) -> Scenario:
        """Replace the active faults with a scenario (a YAML file path, YAML text or a dict)."""
        scenario = parse_scenario(source)
        with self._lock:
            self._specs = list(scenario.faults)
            self._maintenance = scenario.maintenance
        return scenario

    # ------------------------------------------------------------------ per request

    def pick(self, service: str | None, operation: str | None) -> FaultSpec | None:
        """The fault to apply to this call, if any (counts the hit; spent faults are dropped)."""
        with self._lock:
            for spec in self._specs:
                if spec.spent or not spec.matches(service, operation):
                    continue
                if spec.probability < 1.0 and self._rng.random() >= spec.probability:
                    continue
                spec.hits += 1
                applied = spec.model_copy()
                self._specs = [s for s in self._specs if not s.spent]
                return applied
        return None

    def delay(self, spec: FaultSpec) -> float:
        """Sleep the spec's latency (fixed plus jitter); return the seconds slept."""
        seconds = spec.latency_ms / 1000.0
        if spec.jitter_ms:
            with self._lock:
                seconds += self._rng.uniform(0, spec.jitter_ms) / 1000.0
        if seconds > 0:
            self.sleep(seconds)
        return seconds


def parse_spec(data: dict[str, Any]) -> FaultSpec:
    try:
        return FaultSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid fault spec: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}",
                                 setting="fault") from exc


def parse_scenario(source: str | Path | dict[str, Any]) -> Scenario:
    """A scenario from a dict, YAML text, or the path of a YAML file."""
    data: Any
    if isinstance(source, dict):
        data = source
    else:
        text = source
        if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                        and Path(source).suffix in (".yaml", ".yml", ".json")):
            path = Path(source)
            if not path.is_file():
                raise ConfigurationError(f"scenario file not found: {path}", path=str(path))
            text = path.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(str(text)) or {}
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"scenario is not valid YAML: {exc}") from exc
    if isinstance(data, list):
        data = {"faults": data}
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ConfigurationError(f"invalid scenario: {'.'.join(map(str, err['loc']))}: {err['msg']}",
                                 setting="scenario") from exc


# --------------------------------------------------------------------------- performing

def perform(spec: FaultSpec, body: bytes, *,
            content_type: str = "text/xml; charset=utf-8") -> Response | WireFault:
    """The answer a transport-level fault gives instead of the good answer ``body``.

    A :class:`Response` for the kinds HTTP can carry (latency, http_status, empty_body,
    malformed_xml); a :class:`WireFault` for the kinds that break the wire (reset, empty, garbage,
    truncated, drip), which the runner plays. Touches no socket and does not sleep: the latency is
    the caller's (``injector.delay``), outside any CPU gate. A protocol kind is refused
    (:class:`ConfigurationError`): the simulator applies it in its own wire format.
    """
    kind = spec.kind
    if kind == "latency":
        return Response(200, body, {"Content-Type": content_type})
    if kind == "http_status":
        return Response.text(spec.message or f"injected HTTP {spec.http_status}", spec.http_status)
    if kind == "empty_body":
        return Response(200, b"", {"Content-Type": content_type})
    if kind == "malformed_xml":
        cut = body[: max(len(body) // 2, 1)] if body else b"<soap:Envelope"
        return Response(200, cut + b"<<not-xml", {"Content-Type": content_type})
    if kind == "reset":
        return WireFault.reset()
    if kind == "empty":
        return WireFault.empty()
    if kind == "garbage":
        return WireFault.garbage()
    if kind == "truncated":
        return WireFault.truncated(body, content_type=content_type)
    if kind == "drip":
        return WireFault.drip(body, chunk=spec.drip_chunk, interval=spec.drip_interval_ms / 1000.0,
                              content_type=content_type)
    raise ConfigurationError(f"fault kind {kind!r} is protocol-specific; the simulator applies it",
                             setting="kind")


# --------------------------------------------------------------------------- control API

def install_fault_control(router: Router, injector: FaultInjector, prefix: str = "/_control/faults") -> None:
    """Mount the JSON control API of ``injector`` on ``router``.

    - ``GET    {prefix}``              → ``{"maintenance": bool, "faults": [...]}``
    - ``POST   {prefix}``              → add one fault (a FaultSpec object) or several (a list)
    - ``DELETE {prefix}[?service=ID]`` → remove all faults (of one service)
    - ``DELETE {prefix}/{id}``         → remove one fault
    - ``PUT    {prefix}/maintenance``  → ``{"enabled": true|false}``
    - ``POST   {prefix}/scenario``     → load a scenario (YAML or JSON body), replacing the faults
    """
    prefix = prefix.rstrip("/")

    def state() -> dict[str, Any]:
        return {"maintenance": injector.maintenance, "faults": [s.model_dump() for s in injector.list()]}

    def get(req: Request) -> Response:
        return Response.json(state())

    def post(req: Request) -> Response:
        if req.path.rstrip("/") != prefix:
            return Response.json({"error": f"no such resource {req.path}"}, 404)
        try:
            data = req.json()
            items = data if isinstance(data, list) else [data]
            added = [injector.set(item) for item in items]
        except (ValueError, ConfigurationError) as exc:
            return Response.json({"error": str(exc)}, 400)
        return Response.json({"added": [s.model_dump() for s in added], **state()}, 201)

    def delete(req: Request) -> Response:
        rest = req.path[len(prefix):].strip("/")
        if rest:
            if not injector.remove(rest):
                return Response.json({"error": f"no fault with id {rest}"}, 404)
        else:
            injector.clear(service=req.param("service"))
        return Response.json(state())

    def maintenance(req: Request) -> Response:
        try:
            data = req.json() or {}
            injector.maintenance = bool(data.get("enabled", True))
        except (ValueError, AttributeError) as exc:
            return Response.json({"error": f"expected {{\"enabled\": bool}}: {exc}"}, 400)
        return Response.json(state())

    def scenario(req: Request) -> Response:
        try:
            text = req.body.decode("utf-8")
            injector.load_scenario(text if "\n" in text or not text.strip().startswith("{") else req.json())
        except (ValueError, ConfigurationError) as exc:
            return Response.json({"error": str(exc)}, 400)
        return Response.json(state())

    router.add("GET", prefix, get)
    router.add("POST", prefix, post)
    router.add("DELETE", prefix, delete)
    router.add("PUT", f"{prefix}/maintenance", maintenance)
    router.add("POST", f"{prefix}/maintenance", maintenance)
    router.add("POST", f"{prefix}/scenario", scenario)
    router.add("PUT", f"{prefix}/scenario", scenario)
