"""What the simulators' factories share: the :class:`SimContext` they are given and the
:class:`RunningSimulator` each returns.

A factory (``simulators/<name>/factory.py``) takes the context (work directory, clock, the config
file's sections, default ports, our own system's identity, the simulators started before it) and
returns the simulator it started. :mod:`simulators.registry` runs the factories in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError
from adapters.core.private_files import write_private
from simulators.common.control_guard import new_control_token
from simulators.identities import KEYSTORE_NAME, Ministry
from simulators.sections import SectionConfig

_M = TypeVar("_M", bound=SectionConfig)


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
    from the settings, see :meth:`Ministry.from_settings`); ``control_token``: the token every
    simulator's control API asks for (one per landscape, a new random one unless given). Factories
    fill ``running`` and ``env`` (variables a client of the simulators needs, printed by ``egov sim
    up``).
    """

    workdir: Path
    config: dict[str, Any] = field(default_factory=dict)
    clock: Clock = SYSTEM_CLOCK
    ports: dict[str, int] = field(default_factory=dict)
    base_dir: Path | None = None
    ministry: Ministry | None = None
    control_token: str = field(default_factory=new_control_token, repr=False)
    running: dict[str, RunningSimulator] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigurationError(f"config section {name!r} must be a mapping", setting=name)
        return value

    def options(self, name: str, model: type[_M]) -> _M:
        """The section ``name`` of the config file, validated by ``model``."""
        return model.model_validate(self.section(name))

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

    @property
    def secrets_dir(self) -> Path:
        """Where the landscape's secret files are written (``<workdir>/secrets``)."""
        return self.workdir / "secrets"

    def write_secret(self, name: str, value: str) -> Path:
        """``value`` written to ``secrets_dir/name``, readable by its owner only (0600); its absolute path."""
        return write_private(self.secrets_dir / name, value).resolve()


SimulatorFactory = Callable[[SimContext], RunningSimulator]
"""Starts one simulator in the context; registered with :class:`simulators.registry.SimulatorRegistry`."""
