"""How every simulator is built and started: ONE place, used by ``egov sim up`` and by
:class:`harness.landscape.Landscape` (``egov demo``, ``egov flow run``, the procedure tests, the drills,
the benchmarks).

Each simulator has a factory taking the shared :class:`SimContext` (work directory, clock, the config
file's section, default ports, our own system's identity) and returning a :class:`RunningSimulator`.
Factories run in registration order; a later one finds earlier ones in ``ctx.running`` (the gateway
uses the PKI; a backend registers itself with ``ctx.running["gateway"].obj``). Each factory decides,
once, which keys the test PKI issues to its simulator, which validators (and revocation checks) it
uses, which backends and sender accounts it registers. To add a simulator, write its factory and its
config section model, and add one ``registry.register(...)`` line in :func:`default_registry`.

The config file (YAML, one section per simulator) is described in ``docs/simulators.md``; its
sections are validated by the pydantic models below (an unknown section or key is an error, so that
a typo does not silently start the default).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError, IdentifierError
from adapters.core.identifiers import make_bin

if TYPE_CHECKING:
    from adapters.core.trust.keystore import KeyMaterial
    from adapters.core.xmlsig import VerificationService
    from simulators.elicense import catalogue as cat
    from simulators.pki import TestPKI

# --------------------------------------------------------------------------- identities

MINISTRY_IIN = "871008401427"
"""IIN on the ministry system's certificate (its PKCS#12 is written to the work directory)."""
MINISTRY_BIN = "940140000385"
"""Our BIN (RequestorBIN at the Legal Entities register; first entry of its fixtures)."""
SENDER_ID = "MINISTRY_EDU"
DEFAULT_SENDER_PASSWORD = "changeit"
KEYSTORE_PASSWORD = "changeit"
KEYSTORE_NAME = "ministry.p12"
EMPLOYEE_PASSWORD = "employee-pass"
GATEWAY_IIN = "760212350620"
GATEWAY_BIN = "950341000052"
SYSTEM_IIN = "760212350620"
MANIFEST_NAME = "landscape.json"

log = logging.getLogger(__name__)


def _valid_bin(year: int, month: int, serial: int) -> str:
    for s in range(serial, serial + 50):
        try:
            return make_bin(year, month, 4, 0, s)
        except IdentifierError:
            continue
    raise ConfigurationError(f"no valid BIN near serial {serial}")


PAYMENT_GATEWAY_BIN = _valid_bin(2005, 1, 7301)
REGISTER_BIN = _valid_bin(2004, 1, 7401)
ELICENSE_BIN = _valid_bin(2011, 5, 4242)

ALL_SIMULATORS = ("pki", "gateway", "legal_entities", "payment_gateway", "elicense")


@dataclass(frozen=True)
class Ministry:
    """Our licensing system as the simulators know it: its sender account at the gateway, its BIN
    (RequestorBIN at the register) and its key, issued by the test PKI and written as PKCS#12."""

    sender_id: str = SENDER_ID
    sender_password: str = DEFAULT_SENDER_PASSWORD
    bin: str = MINISTRY_BIN
    keystore_password: str = KEYSTORE_PASSWORD

    @classmethod
    def from_settings(cls, gateway_section: Mapping[str, Any] | None = None) -> Ministry:
        """The identity the client's settings name (``EGOV_GATEWAY_SENDER_ID``, ``EGOV_REQUESTOR_BIN``);
        the sender password from ``EGOV_GATEWAY_SENDER_PASSWORD``, else the config file's
        ``gateway.sender_password``, else ``changeit`` (the environment wins: it is what the client sends)."""
        from adapters.core.settings import get_settings

        settings = get_settings()
        configured = (gateway_section or {}).get("sender_password")
        password = (settings.gateway_sender_password.get_secret_value() if settings.gateway_sender_password
                    else str(configured) if configured else DEFAULT_SENDER_PASSWORD)
        return cls(sender_id=settings.gateway_sender_id, sender_password=password, bin=settings.requestor_bin)


def settings_ports() -> dict[str, int]:
    """Default ports of ``egov sim up``: those of the settings' URLs (``EGOV_GATEWAY_URL``, ...)."""
    from adapters.core.settings import get_settings

    s = get_settings()
    urls = {"pki": s.pki_url, "gateway": s.gateway_url, "payment_gateway": s.payment_gateway_url,
            "elicense": s.elicense_url}
    return {name: urlsplit(url).port or 0 for name, url in urls.items()}


# --------------------------------------------------------------------------- config file sections


class SectionConfig(BaseModel):
    """Keys every section accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    """false: do not start this simulator (``egov sim up`` only; a landscape needs all five)."""


class ServedConfig(SectionConfig):
    port: int | None = Field(None, ge=0, le=65535)
    """Port on 127.0.0.1; 0 = a free port; absent = the default (settings' URL for ``sim up``)."""


class FaultsConfig(ServedConfig):
    scenario: Path | None = None
    """Fault scenario YAML loaded at start (format in docs/gateway.md)."""


class SenderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sender_id: str
    password: str | None = None
    bin: str | None = None
    services: list[str] | None = None
    """Services this sender may call; absent = all."""


class GatewayConfig(FaultsConfig):
    sender_password: str | None = None
    """Password of our own sender (``EGOV_GATEWAY_SENDER_PASSWORD`` wins when set)."""
    senders: list[SenderConfig] = Field(default_factory=list)
    """Further sender accounts."""


class LegalEntitiesConfig(SectionConfig):
    fixtures: Path | None = None
    """JSON fixtures file replacing the packaged one (``simulators/legal_entities/fixtures``)."""


class PaymentGatewayConfig(FaultsConfig):
    auto_pay_delay_seconds: float | None = Field(None, ge=0)
    """An order still CREATED this long after its creation is paid ("the bank"); absent = never."""
    db_path: str = ":memory:"
    """SQLite file of the orders (``:memory:`` = gone when stopped)."""


class ElicenseConfig(FaultsConfig):
    database_url: str = "sqlite://"
    """SQLAlchemy URL of E-licensing's database (``sqlite:///elicense.db`` keeps it across runs)."""


# --------------------------------------------------------------------------- context and registry


@dataclass
class RunningSimulator:
    name: str
    urls: dict[str, str]
    stop: Callable[[], None]
    obj: Any = None
    """The simulator object (``TestPKI``, ``GatewaySimulator``, backend, ...)."""
    server: Any = None
    """Its HTTP server, when ``obj`` is not one itself (the PKI's CRL/OCSP server)."""


@dataclass
class SimContext:
    """What factories share.

    ``workdir``: state (PKI, keys); ``config``: the config file, one section per simulator;
    ``clock``: every simulator's and validator's clock; ``ports``: default port per simulator when
    its section names none (missing = a free port); ``base_dir``: where relative paths of the config
    file are resolved (the config file's directory); ``ministry``: our own system's identity (None:
    from the settings, see :meth:`Ministry.from_settings`). Factories fill ``running`` and ``env``
    (variables a client of the simulators needs, printed by ``egov sim up``).
    """

    workdir: Path
    config: dict[str, Any] = field(default_factory=dict)
    clock: Clock = SYSTEM_CLOCK
    ports: dict[str, int] = field(default_factory=dict)
    base_dir: Path | None = None
    ministry: Ministry | None = None
    running: dict[str, RunningSimulator] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigurationError(f"config section {name!r} must be a mapping", setting=name)
        return value

    def identity(self) -> Ministry:
        if self.ministry is None:
            self.ministry = Ministry.from_settings(self.section("gateway"))
        return self.ministry

    def path(self, value: Path) -> Path:
        """A path of the config file, relative to the config file's directory."""
        return value if value.is_absolute() or self.base_dir is None else self.base_dir / value

    def port(self, name: str, configured: int | None) -> int:
        return configured if configured is not None else int(self.ports.get(name, 0))

    def needs(self, name: str, who: str) -> Any:
        running = self.running.get(name)
        if running is None:
            raise ConfigurationError(f"the {who} simulator needs the {name} simulator", setting=who)
        return running.obj

    @property
    def keystore_path(self) -> Path:
        """PKCS#12 of our own system's key (written by the gateway's factory)."""
        return self.workdir / KEYSTORE_NAME


SimulatorFactory = Callable[[SimContext], RunningSimulator]
_M = TypeVar("_M", bound=SectionConfig)


class SimulatorRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, SimulatorFactory] = {}
        self._models: dict[str, type[SectionConfig]] = {}

    def register(self, name: str, factory: SimulatorFactory,
                 config_model: type[SectionConfig] = SectionConfig) -> None:
        if name in self._factories:
            raise ConfigurationError(f"simulator {name!r} is registered twice", setting="name")
        self._factories[name] = factory
        self._models[name] = config_model

    def names(self) -> list[str]:
        return list(self._factories)

    def validate(self, config: Mapping[str, Any]) -> dict[str, SectionConfig]:
        """Every section of ``config``, checked against its simulator's model."""
        unknown = sorted(set(config) - set(self._factories))
        if unknown:
            raise ConfigurationError(f"config: unknown section(s) {', '.join(map(repr, unknown))}; "
                                     f"known: {', '.join(self._factories)}", setting=unknown[0])
        sections: dict[str, SectionConfig] = {}
        for name, model in self._models.items():
            raw = config.get(name) or {}
            if not isinstance(raw, dict):
                raise ConfigurationError(f"config section {name!r} must be a mapping", setting=name)
            try:
                sections[name] = model.model_validate(raw)
            except PydanticValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in (name, *first["loc"]))
                raise ConfigurationError(f"config {where}: {first['msg']}", setting=where) from exc
        return sections

    def start_all(self, ctx: SimContext, only: set[str] | None = None) -> list[RunningSimulator]:
        """Start the simulators in order (all, or ``only`` those and what they need first: pki,
        gateway); on a failure, stop what was started and re-raise."""
        if only:
            unknown = sorted(only - set(self._factories))
            if unknown:
                raise ConfigurationError(f"unknown simulator(s) {', '.join(unknown)}; known: "
                                         f"{', '.join(self._factories)}", setting="only")
        sections = self.validate(ctx.config)
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        started: list[RunningSimulator] = []
        try:
            for name, factory in self._factories.items():
                if only and name not in only and name not in ("pki", "gateway"):
                    continue
                if not sections[name].enabled:
                    continue
                running = factory(ctx)
                ctx.running[name] = running
                started.append(running)
        except BaseException:
            stop_all(started)
            raise
        return started


def stop_all(running: list[RunningSimulator]) -> None:
    for sim in reversed(running):
        with contextlib.suppress(Exception):  # stopping must go on for the others
            sim.stop()


def _options(ctx: SimContext, name: str, model: type[_M]) -> _M:
    return model.model_validate(ctx.section(name))


def _verification(pki: TestPKI, ctx: SimContext, *, revocation: bool = False) -> VerificationService:
    """Chain to the test PKI's root; with ``revocation``, OCSP then CRL at the PKI's responder."""
    from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import VerificationService

    checker = RevocationChecker(RevocationPolicy.OCSP_THEN_CRL, timeout=5.0, clock=ctx.clock) if revocation else None
    return VerificationService(CertificateValidator([pki.root_certificate], [pki.issuing_certificate],
                                                    clock=ctx.clock, revocation=checker))


def _system_key(pki: TestPKI, iin: str, bin_: str, org: str) -> KeyMaterial:
    key: KeyMaterial = pki.issue(iin=iin, bin=bin_, org=org).key_material
    return key


class HeadKeys:
    """Keys of the licensors' first heads (sign licences and refusal letters).

    A key is issued on first use, or ahead of it by :meth:`preissue` (a background thread started
    with the landscape: an RSA-2048 key costs ~50 ms of CPU, and the first ``Decide`` of each of the
    20 licensors used to pay for it inside the flow). Each licensor has its own lock, so a caller
    waits only while its own licensor's key is being issued, never for the others'.
    """

    def __init__(self, pki: TestPKI) -> None:
        self._pki = pki
        self._keys: dict[str, KeyMaterial] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, licensor: cat.Licensor) -> KeyMaterial:
        key = self._keys.get(licensor.code)
        if key is not None:
            return key
        with self._guard:
            lock = self._locks.setdefault(licensor.code, threading.Lock())
        with lock:
            key = self._keys.get(licensor.code)
            if key is None:
                surname = licensor.head_name.partition(" ")[0]
                key = self._pki.issue(iin=licensor.head_iin, bin=licensor.bin, org=licensor.name_ru,
                                      surname=surname, common_name=licensor.head_name,
                                      roles=["legal-entity", "first-head"]).key_material
                self._keys[licensor.code] = key
            return key

    def issued(self) -> set[str]:
        """Codes of the licensors whose head key exists."""
        return set(self._keys)

    def preissue(self, licensors: Sequence[cat.Licensor]) -> None:
        """Issue the keys of ``licensors`` in a daemon thread, in order, until done or :meth:`stop`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._preissue, args=(tuple(licensors),),
                                        name="head-keys", daemon=True)
        self._thread.start()

    def _preissue(self, licensors: tuple[cat.Licensor, ...]) -> None:
        for licensor in licensors:
            if self._stopping.is_set():
                return
            try:
                self(licensor)
            except Exception as exc:  # a Decide issues the key itself (and reports the failure)
                log.warning("head key of licensor %s not pre-issued: %s", licensor.code, exc)
                return

    def stop(self, timeout: float = 5.0) -> None:
        """Stop pre-issuing (the key being issued is finished first)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)


# --------------------------------------------------------------------------- factories


def start_pki(ctx: SimContext) -> RunningSimulator:
    """The test PKI (created in ``workdir/pki``, or loaded if there) and its CRL/OCSP server. A PKI
    that already names its server's URL in its certificates keeps that port unless the config sets one."""
    from simulators.pki import TestPKI

    options = _options(ctx, "pki", ServedConfig)
    directory = ctx.workdir / "pki"
    pki = TestPKI.load(directory, clock=ctx.clock) if (directory / "pki.json").exists() \
        else TestPKI.create(directory, clock=ctx.clock)
    port = options.port
    if port is None and pki.base_url_bound:
        port = urlsplit(pki.base_url).port
    server = pki.serve(ctx.port("pki", port))
    ctx.env["EGOV_TRUST_ANCHORS"] = json.dumps([str((directory / "ca.pem").resolve())])
    ctx.env["EGOV_INTERMEDIATES"] = json.dumps([str((directory / "issuing.pem").resolve())])
    ctx.env["EGOV_PKI_URL"] = server.url
    return RunningSimulator("pki", {"crl/ocsp": server.url}, server.stop, pki, server)


def start_gateway(ctx: SimContext) -> RunningSimulator:
    """The gateway, signing with a PKI-issued key; our sender account (and the config's others); an
    echo backend on ``ECHO``; our system's key written to ``workdir/ministry.p12`` for the clients."""
    from simulators.egov_gateway import EchoBackend, GatewaySimulator

    pki = ctx.needs("pki", "gateway")
    options = _options(ctx, "gateway", GatewayConfig)
    me = ctx.identity()
    sim = GatewaySimulator(key=_system_key(pki, GATEWAY_IIN, GATEWAY_BIN, "E-GOVERNMENT GATEWAY (SIMULATOR)"),
                           verification=_verification(pki, ctx), clock=ctx.clock)
    sim.add_sender(me.sender_id, me.sender_password, bin=me.bin)
    for extra in options.senders:
        sim.add_sender(extra.sender_id, extra.password, bin=extra.bin, services=extra.services)
    sim.register_backend("ECHO", EchoBackend())
    if options.scenario is not None:
        sim.injector.load_scenario(ctx.path(options.scenario))
    ministry = pki.issue(iin=MINISTRY_IIN, bin=me.bin, org="MINISTRY OF EDUCATION (LICENSING SYSTEM)")
    keystore = ministry.write_pkcs12(ctx.keystore_path, me.keystore_password)
    sim.start(ctx.port("gateway", options.port))
    ctx.env.update({"EGOV_GATEWAY_URL": sim.sync_url, "EGOV_GATEWAY_SENDER_ID": me.sender_id,
                    "EGOV_GATEWAY_SENDER_PASSWORD": me.sender_password,
                    "EGOV_KEYSTORE_PATH": str(Path(keystore).resolve()),
                    "EGOV_KEYSTORE_PASSWORD": me.keystore_password})
    return RunningSimulator("gateway", {"sync": sim.sync_url, "async": sim.async_url,
                                        "control": f"{sim.url}/_control/"}, sim.stop, sim)


def start_legal_entities(ctx: SimContext) -> RunningSimulator:
    """The Legal Entities register behind the gateway (``GbdulInfoByBin_v2``, ``GbdulInfoByIin_v2``)."""
    from adapters.core.xmlsig import SigningService
    from simulators.legal_entities import LegalEntitiesBackend, LegalEntitiesState

    pki = ctx.needs("pki", "legal_entities")
    gateway = ctx.needs("gateway", "legal_entities")
    options = _options(ctx, "legal_entities", LegalEntitiesConfig)
    if options.fixtures is not None:
        fixtures = ctx.path(options.fixtures)
        if not fixtures.is_file():
            raise ConfigurationError(f"Legal Entities fixtures file not found: {fixtures}",
                                     setting="legal_entities.fixtures")
        state = LegalEntitiesState(fixtures)
    else:
        state = LegalEntitiesState()
    key = _system_key(pki, SYSTEM_IIN, REGISTER_BIN, "LEGAL ENTITIES REGISTER (SIMULATOR)")
    backend = LegalEntitiesBackend(state, signer=SigningService(key, clock=ctx.clock),
                                   verifier=_verification(pki, ctx), expect_requestor_bin=True)
    backend.register(gateway)
    return RunningSimulator("legal_entities", {"control": f"{gateway.url}/_control/legal-entities"},
                            lambda: None, backend)


def start_payment_gateway(ctx: SimContext) -> RunningSimulator:
    """The payment gateway (PShEP); "the bank" pays through its control API or after the auto-pay delay."""
    from adapters.core.xmlsig import SigningService
    from simulators.payment_gateway import PaymentGatewaySimulator

    pki = ctx.needs("pki", "payment_gateway")
    options = _options(ctx, "payment_gateway", PaymentGatewayConfig)
    key = _system_key(pki, SYSTEM_IIN, PAYMENT_GATEWAY_BIN, "PAYMENT GATEWAY (SIMULATOR)")
    auto_pay = (dt.timedelta(seconds=options.auto_pay_delay_seconds)
                if options.auto_pay_delay_seconds is not None else None)
    db_path = options.db_path if options.db_path == ":memory:" else str(ctx.path(Path(options.db_path)))
    sim = PaymentGatewaySimulator(signer=SigningService(key, clock=ctx.clock), verifier=_verification(pki, ctx),
                                  clock=ctx.clock, auto_pay_after=auto_pay, db_path=db_path,
                                  port=ctx.port("payment_gateway", options.port))
    if options.scenario is not None:
        sim.faults.load_scenario(ctx.path(options.scenario))
    sim.start()
    ctx.env["EGOV_PAYMENT_GATEWAY_URL"] = sim.endpoint_url
    return RunningSimulator("payment_gateway", {"soap": sim.endpoint_url, "control": f"{sim.url}/_control/"},
                            sim.stop, sim)


def start_elicense(ctx: SimContext) -> RunningSimulator:
    """E-licensing, verifying applicants' signatures with OCSP then CRL, notifying through the gateway."""
    from simulators.elicense import ElicenseSimulator
    from simulators.elicense import catalogue as cat

    pki = ctx.needs("pki", "elicense")
    gateway = ctx.needs("gateway", "elicense")
    options = _options(ctx, "elicense", ElicenseConfig)
    head_keys = HeadKeys(pki)
    sim = ElicenseSimulator(verifier=_verification(pki, ctx, revocation=True), head_key=head_keys,
                            system_key=_system_key(pki, SYSTEM_IIN, ELICENSE_BIN, "E-LICENSING (SIMULATOR)"),
                            gateway=gateway, database_url=options.database_url, clock=ctx.clock,
                            port=ctx.port("elicense", options.port))
    if options.scenario is not None:
        sim.injector.load_scenario(ctx.path(options.scenario))
    sim.start()
    head_keys.preissue(cat.licensors())

    def stop() -> None:
        head_keys.stop()
        sim.stop()

    ctx.env["EGOV_ELICENSE_URL"] = sim.endpoint
    return RunningSimulator("elicense", {"soap": sim.endpoint, "control": f"{sim.url}/_control/"}, stop, sim)


def default_registry() -> SimulatorRegistry:
    """Every simulator, in start order. Add new ones here."""
    registry = SimulatorRegistry()
    registry.register("pki", start_pki, ServedConfig)
    registry.register("gateway", start_gateway, GatewayConfig)
    registry.register("legal_entities", start_legal_entities, LegalEntitiesConfig)
    registry.register("payment_gateway", start_payment_gateway, PaymentGatewayConfig)
    registry.register("elicense", start_elicense, ElicenseConfig)
    return registry
