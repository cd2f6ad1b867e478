"""How every simulator is built and started: ONE place, used by ``egov sim up`` and by
:class:`harness.landscape.Landscape` (``egov demo``, ``egov flow run``, the procedure tests, the drills,
the benchmarks).

Each simulator has a factory beside it (``simulators/<name>/factory.py``) taking the shared
:class:`SimContext` (work directory, clock, the config file's section, default ports, our own
system's identity) and returning a :class:`RunningSimulator`. Factories run in registration order; a
later one finds earlier ones in ``ctx.running`` (the gateway uses the PKI; a backend registers itself
with ``ctx.running["gateway"].obj``). Each factory decides, once, which keys the test PKI issues to
its simulator, which validators (and revocation checks) it uses, which backends and sender accounts
it registers. To add a simulator, write its factory and its config section model beside it, and add
one ``registry.register(...)`` line in :func:`default_registry`.

The config file (YAML, one section per simulator) is described in ``docs/simulators.md``; each
section is validated by its simulator's model (an unknown section or key is an error, so that a typo
does not silently start the default).

The landscape's identities (``simulators.identities``) and the context types
(``simulators.context``) are re-exported here, for the landscape and ``egov sim up``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import ValidationError as PydanticValidationError

from adapters.core.errors import ConfigurationError
from simulators.common.control_guard import CONTROL_TOKEN_NAME, write_control_token

if TYPE_CHECKING:
    from adapters.core.settings import Settings
from simulators.context import RunningSimulator, SimContext, SimulatorFactory
from simulators.egov_gateway.factory import GatewayConfig, start_gateway
from simulators.elicense.factory import ElicenseConfig, start_elicense
from simulators.identities import (
    DEFAULT_SENDER_PASSWORD,
    ELICENSE_BIN,
    EMPLOYEE_PASSWORD,
    GATEWAY_BIN,
    GATEWAY_IIN,
    KEYSTORE_NAME,
    KEYSTORE_PASSWORD,
    MINISTRY_BIN,
    MINISTRY_IIN,
    PAYMENT_GATEWAY_BIN,
    REGISTER_BIN,
    SENDER_ID,
    SYSTEM_IIN,
    Ministry,
)
from simulators.legal_entities.factory import LegalEntitiesConfig, start_legal_entities
from simulators.payment_gateway.factory import PaymentGatewayConfig, start_payment_gateway
from simulators.pki.factory import start_pki
from simulators.sections import SectionConfig, ServedConfig

__all__ = [
    "ALL_SIMULATORS",
    "DEFAULT_SENDER_PASSWORD",
    "ELICENSE_BIN",
    "EMPLOYEE_PASSWORD",
    "GATEWAY_BIN",
    "GATEWAY_IIN",
    "KEYSTORE_NAME",
    "KEYSTORE_PASSWORD",
    "MANIFEST_NAME",
    "MINISTRY_BIN",
    "MINISTRY_IIN",
    "PAYMENT_GATEWAY_BIN",
    "REGISTER_BIN",
    "SENDER_ID",
    "SYSTEM_IIN",
    "Ministry",
    "RunningSimulator",
    "SimContext",
    "SimulatorFactory",
    "SimulatorRegistry",
    "default_registry",
    "settings_ports",
    "stop_all",
]

MANIFEST_NAME = "landscape.json"
ALL_SIMULATORS = ("pki", "gateway", "legal_entities", "payment_gateway", "elicense")
ALWAYS_STARTED = ("pki", "gateway")
"""What every simulator needs: started also when ``only`` leaves them out."""
NEEDED_BY = {"elicense": ("payment_gateway",)}
"""Further simulators one needs (E-licensing confirms payments with the payment gateway)."""


def settings_ports(settings: Settings | None = None) -> dict[str, int]:
    """Default ports of ``egov sim up``: those of the settings' URLs (``EGOV_GATEWAY_URL``, ...)."""
    from adapters.core.settings import get_settings

    s = settings or get_settings()
    urls = {"pki": s.pki_url, "gateway": s.gateway_url, "payment_gateway": s.payment_gateway_url,
            "elicense": s.elicense_url}
    return {name: urlsplit(url).port or 0 for name, url in urls.items()}


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
        """Start the simulators in order (all, or ``only`` those and what they need: pki, gateway
        and ``NEEDED_BY``'s); on a failure, stop what was started and re-raise.

        The control APIs' token (``ctx.control_token``) is written first to
        ``workdir/control-token`` (0600), named by ``EGOV_SIM_CONTROL_TOKEN_FILE`` in ``ctx.env``."""
        if only:
            unknown = sorted(only - set(self._factories))
            if unknown:
                raise ConfigurationError(f"unknown simulator(s) {', '.join(unknown)}; known: "
                                         f"{', '.join(self._factories)}", setting="only")
        sections = self.validate(ctx.config)
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        token_file = write_control_token(ctx.workdir / CONTROL_TOKEN_NAME, ctx.control_token)
        ctx.env["EGOV_SIM_CONTROL_TOKEN_FILE"] = str(token_file.resolve())
        started: list[RunningSimulator] = []
        try:
            for name, factory in self._factories.items():
                if only and name not in self._needed(only):
                    continue
                if not sections[name].enabled:
                    continue
                try:
                    running = factory(ctx)
                except OSError as exc:
                    section = getattr(sections[name], "port", None)
                    port = ctx.port(name, section if isinstance(section, int) else None)
                    reason = exc.strerror or exc
                    raise ConfigurationError(f"simulator {name}: cannot listen on 127.0.0.1:{port}: {reason} "
                                             "(another process holds the port? stop it, or give the simulator "
                                             "another port in --config or its EGOV_*_URL)", setting=name) from exc
                ctx.running[name] = running
                started.append(running)
        except BaseException:
            stop_all(started)
            raise
        return started

    @staticmethod
    def _needed(only: set[str]) -> set[str]:
        return {*only, *ALWAYS_STARTED, *(need for name in only for need in NEEDED_BY.get(name, ()))}


def stop_all(running: list[RunningSimulator]) -> None:
    for sim in reversed(running):
        with contextlib.suppress(Exception):  # stopping must go on for the others
            sim.stop()


def default_registry() -> SimulatorRegistry:
    """Every simulator, in start order. Add new ones here."""
    registry = SimulatorRegistry()
    registry.register("pki", start_pki, ServedConfig)
    registry.register("gateway", start_gateway, GatewayConfig)
    registry.register("legal_entities", start_legal_entities, LegalEntitiesConfig)
    registry.register("payment_gateway", start_payment_gateway, PaymentGatewayConfig)
    registry.register("elicense", start_elicense, ElicenseConfig)
    return registry
