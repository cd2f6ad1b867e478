"""The simulators ``egov sim up`` starts, registered explicitly here and nowhere else.

Each entry is a factory taking a :class:`SimContext` and returning a :class:`RunningSimulator`.
Factories run in registration order; a later one finds earlier ones in ``ctx.running`` (the
gateway uses the PKI; a backend registers itself with ``ctx.running["gateway"].obj``).
To add a simulator, write its factory and add one ``registry.register(...)`` line in
:func:`default_registry`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from adapters.core.errors import ConfigurationError


@dataclass
class RunningSimulator:
    name: str
    urls: dict[str, str]
    stop: Callable[[], None]
    obj: Any = None


@dataclass
class SimContext:
    """What factories share: a work directory for state (PKI, keys), the config file's
    section per simulator, the simulators already running, and env vars to print for clients."""

    workdir: Path
    config: dict[str, Any] = field(default_factory=dict)
    running: dict[str, RunningSimulator] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigurationError(f"config section {name!r} must be a mapping", setting=name)
        return value


SimulatorFactory = Callable[[SimContext], RunningSimulator]


class SimulatorRegistry:
    def __init__(self) -> None:
        self._factories: dict[str, SimulatorFactory] = {}

    def register(self, name: str, factory: SimulatorFactory) -> None:
        if name in self._factories:
            raise ConfigurationError(f"simulator {name!r} is registered twice", setting="name")
        self._factories[name] = factory

    def names(self) -> list[str]:
        return list(self._factories)

    def start_all(self, ctx: SimContext, only: set[str] | None = None) -> list[RunningSimulator]:
        """Start the simulators in order (all, or ``only`` those and what they need first);
        on a failure, stop what was started and re-raise."""
        started: list[RunningSimulator] = []
        try:
            for name, factory in self._factories.items():
                if only and name not in only and name not in ("pki", "gateway"):
                    continue
                if ctx.section(name).get("enabled", True) is False:
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


def _port(ctx: SimContext, name: str, url: str) -> int:
    configured = ctx.section(name).get("port")
    if configured is not None:
        return int(configured)
    return urlsplit(url).port or 0


# --------------------------------------------------------------------------- factories


def start_pki(ctx: SimContext) -> RunningSimulator:
    from adapters.core.settings import get_settings
    from simulators.pki import TestPKI

    directory = ctx.workdir / "pki"
    pki = TestPKI.load(directory) if (directory / "ca.pem").exists() else TestPKI.create(directory)
    server = pki.serve(_port(ctx, "pki", get_settings().pki_url))
    ctx.env["EGOV_TRUST_ANCHORS"] = json.dumps([str(directory / "ca.pem")])
    ctx.env["EGOV_INTERMEDIATES"] = json.dumps([str(directory / "issuing.pem")])
    ctx.env["EGOV_PKI_URL"] = server.url
    return RunningSimulator("pki", {"crl/ocsp": server.url}, server.stop, pki)


GATEWAY_IIN = "760212350620"
GATEWAY_BIN = "950341000052"
CLIENT_IIN = "871008401427"


def start_gateway(ctx: SimContext) -> RunningSimulator:
    """The gateway, signing with a PKI-issued key, an echo backend on ``ECHO``, our sender
    registered (from settings), and a client keystore written for ``egov call gateway``."""
    from adapters.core.settings import get_settings
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import VerificationService
    from simulators.egov_gateway import EchoBackend, GatewaySimulator

    pki_sim = ctx.running.get("pki")
    if pki_sim is None:
        raise ConfigurationError("the gateway simulator needs the pki simulator", setting="gateway")
    pki = pki_sim.obj
    settings = get_settings()
    section = ctx.section("gateway")
    gateway_key = pki.issue(iin=GATEWAY_IIN, bin=GATEWAY_BIN, org="E-GOVERNMENT GATEWAY (SIMULATOR)")
    validator = CertificateValidator([pki.root_certificate], [pki.issuing_certificate])
    sim = GatewaySimulator(key=gateway_key.key_material, verification=VerificationService(validator))
    password = (settings.gateway_sender_password.get_secret_value()
                if settings.gateway_sender_password else str(section.get("sender_password", "changeit")))
    sim.add_sender(settings.gateway_sender_id, password, bin=settings.requestor_bin)
    for extra in section.get("senders", []) or []:
        sim.add_sender(str(extra["sender_id"]), extra.get("password"), bin=extra.get("bin"),
                       services=extra.get("services"))
    sim.register_backend("ECHO", EchoBackend())
    if section.get("scenario"):
        sim.injector.load_scenario(Path(section["scenario"]))
    client_key = pki.issue(iin=CLIENT_IIN, bin=settings.requestor_bin, org="MINISTRY OF EDUCATION (CLIENT)")
    keystore = client_key.write_pkcs12(ctx.workdir / "client.p12", "changeit")
    sim.start(_port(ctx, "gateway", settings.gateway_url))
    ctx.env.update({"EGOV_GATEWAY_URL": sim.sync_url, "EGOV_GATEWAY_SENDER_ID": settings.gateway_sender_id,
                    "EGOV_GATEWAY_SENDER_PASSWORD": password, "EGOV_KEYSTORE_PATH": str(keystore),
                    "EGOV_KEYSTORE_PASSWORD": "changeit"})
    return RunningSimulator("gateway", {"sync": sim.sync_url, "async": sim.async_url,
                                        "control": f"{sim.url}/_control/"}, sim.stop, sim)


def _needs(ctx: SimContext, name: str, who: str) -> Any:
    running = ctx.running.get(name)
    if running is None:
        raise ConfigurationError(f"the {who} simulator needs the {name} simulator", setting=who)
    return running.obj


def start_legal_entities(ctx: SimContext) -> RunningSimulator:
    """The Legal Entities register behind the gateway (``GbdulInfoByBin_v2``, ``GbdulInfoByIin_v2``)."""
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import SigningService, VerificationService
    from simulators.landscape import REGISTER_BIN, SYSTEM_IIN
    from simulators.legal_entities import LegalEntitiesBackend, LegalEntitiesState

    pki = _needs(ctx, "pki", "legal_entities")
    gateway = _needs(ctx, "gateway", "legal_entities")
    section = ctx.section("legal_entities")
    key = pki.issue(iin=SYSTEM_IIN, bin=REGISTER_BIN, org="LEGAL ENTITIES REGISTER (SIMULATOR)").key_material
    state = LegalEntitiesState(section["fixtures"]) if section.get("fixtures") else LegalEntitiesState()
    backend = LegalEntitiesBackend(state, signer=SigningService(key),
                                   verifier=VerificationService(CertificateValidator([pki.root_certificate],
                                                                                     [pki.issuing_certificate])),
                                   expect_requestor_bin=True)
    backend.register(gateway)
    return RunningSimulator("legal_entities", {"control": f"{gateway.url}/_control/legal-entities"},
                            lambda: None, backend)


def start_payment_gateway(ctx: SimContext) -> RunningSimulator:
    from adapters.core.settings import get_settings
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import SigningService, VerificationService
    from simulators.landscape import PAYMENT_GATEWAY_BIN, SYSTEM_IIN
    from simulators.payment_gateway import PaymentGatewaySimulator

    pki = _needs(ctx, "pki", "payment_gateway")
    key = pki.issue(iin=SYSTEM_IIN, bin=PAYMENT_GATEWAY_BIN, org="PAYMENT GATEWAY (SIMULATOR)").key_material
    sim = PaymentGatewaySimulator(
        signer=SigningService(key),
        verifier=VerificationService(CertificateValidator([pki.root_certificate], [pki.issuing_certificate])),
        port=_port(ctx, "payment_gateway", get_settings().payment_gateway_url))
    sim.start()
    ctx.env["EGOV_PAYMENT_GATEWAY_URL"] = sim.endpoint_url
    return RunningSimulator("payment_gateway", {"soap": sim.endpoint_url, "control": f"{sim.url}/_control/"},
                            sim.stop, sim)


def start_elicense(ctx: SimContext) -> RunningSimulator:
    """E-licensing, verifying applicants' signatures with OCSP then CRL, notifying through the gateway."""
    from adapters.core.settings import get_settings
    from adapters.core.trust.revocation import RevocationChecker, RevocationPolicy
    from adapters.core.trust.validator import CertificateValidator
    from adapters.core.xmlsig import VerificationService
    from simulators.elicense import ElicenseSimulator
    from simulators.landscape import ELICENSE_BIN, SYSTEM_IIN, HeadKeys

    pki = _needs(ctx, "pki", "elicense")
    gateway = _needs(ctx, "gateway", "elicense")
    validator = CertificateValidator([pki.root_certificate], [pki.issuing_certificate],
                                     revocation=RevocationChecker(RevocationPolicy.OCSP_THEN_CRL, timeout=5.0))
    system = pki.issue(iin=SYSTEM_IIN, bin=ELICENSE_BIN, org="E-LICENSING (SIMULATOR)").key_material
    sim = ElicenseSimulator(verifier=VerificationService(validator), head_key=HeadKeys(pki), system_key=system,
                            gateway=gateway, port=_port(ctx, "elicense", get_settings().elicense_url))
    sim.start()
    ctx.env["EGOV_ELICENSE_URL"] = sim.endpoint
    return RunningSimulator("elicense", {"soap": sim.endpoint, "control": f"{sim.url}/_control/"}, sim.stop, sim)


def manifest(ctx: SimContext) -> Any:
    """The landscape manifest (``adapters.procedure.clients.Endpoints``) of what ``ctx`` runs, so that
    ``egov flow run --manifest`` can drive the running simulators; None unless all of them run."""
    from simulators.landscape import ELICENSE_BIN, PAYMENT_GATEWAY_BIN, REGISTER_BIN, landscape_endpoints

    if not {"pki", "gateway", "legal_entities", "payment_gateway", "elicense"} <= set(ctx.running):
        return None
    pki, gateway = ctx.running["pki"].obj, ctx.running["gateway"].obj
    return landscape_endpoints(
        pki=pki, pki_url=ctx.running["pki"].urls["crl/ocsp"], gateway=gateway,
        payment=ctx.running["payment_gateway"].obj, elicense=ctx.running["elicense"].obj,
        keystore=Path(ctx.env["EGOV_KEYSTORE_PATH"]), keystore_password=ctx.env["EGOV_KEYSTORE_PASSWORD"],
        sender_id=ctx.env["EGOV_GATEWAY_SENDER_ID"], sender_password=ctx.env["EGOV_GATEWAY_SENDER_PASSWORD"],
        requestor_bin=_requestor_bin(), gateway_bin=GATEWAY_BIN, payment_gateway_bin=PAYMENT_GATEWAY_BIN,
        register_bin=REGISTER_BIN, elicense_bin=ELICENSE_BIN)


def _requestor_bin() -> str:
    from adapters.core.settings import get_settings

    return get_settings().requestor_bin


def default_registry() -> SimulatorRegistry:
    """Every simulator ``egov sim up`` knows, in start order. Add new ones here."""
    registry = SimulatorRegistry()
    registry.register("pki", start_pki)
    registry.register("gateway", start_gateway)
    registry.register("legal_entities", start_legal_entities)
    registry.register("payment_gateway", start_payment_gateway)
    registry.register("elicense", start_elicense)
    return registry
