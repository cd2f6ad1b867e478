"""Section models of the simulators' config file shared by several simulators.

The config file (YAML, one section per simulator, ``docs/simulators.md``) is validated section by
section against pydantic models: an unknown section or key is an error, so that a typo does not
silently start the default. Each simulator's own section model lives beside its factory
(``simulators/<name>/factory.py``) and extends one of these.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.core.errors import ConfigurationError
from simulators.common.httpserver import base_url
from simulators.common.limits import DEFAULT_LIMITS, MAX_HEAD_BYTES, ConnectionLimits


class SectionConfig(BaseModel):
    """Keys every section accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    """false: do not start this simulator (``egov sim up`` only; a landscape needs all five)."""


class ConnectionsConfig(BaseModel):
    """The ``connections`` key of a served section: :class:`ConnectionLimits` (same names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header_timeout_seconds: float = Field(default=DEFAULT_LIMITS.header_timeout_seconds, gt=0, allow_inf_nan=False)
    """A request head must arrive whole within this."""
    idle_timeout_seconds: float = Field(default=DEFAULT_LIMITS.idle_timeout_seconds, gt=0, allow_inf_nan=False)
    """A kept-alive connection waits this long for its next request."""
    body_timeout_seconds: float = Field(default=DEFAULT_LIMITS.body_timeout_seconds, gt=0, allow_inf_nan=False)
    """A request body must arrive whole within this after its head."""
    send_timeout_seconds: float = Field(default=DEFAULT_LIMITS.send_timeout_seconds, gt=0, allow_inf_nan=False)
    """Longest wait for the client to take an answer."""
    max_connections: int = Field(default=DEFAULT_LIMITS.max_connections, ge=1)
    """Connections served at once; the next is answered 503."""
    max_buffered_bytes: int = Field(default=DEFAULT_LIMITS.max_buffered_bytes, ge=MAX_HEAD_BYTES)
    """Request bytes all connections together may hold until answered."""

    def limits(self) -> ConnectionLimits:
        return ConnectionLimits(**self.model_dump())


class ServedConfig(SectionConfig):
    """A simulator served over HTTP (the PKI's section is exactly this)."""

    port: int | None = Field(None, ge=0, le=65535)
    """Port to listen on; 0 = a free port; absent = the default (settings' URL for ``sim up``)."""
    host: str = "127.0.0.1"
    """Address to listen on: 127.0.0.1 (this machine only) unless another is wanted."""
    public_url: str | None = None
    """Base URL clients use (``http[s]://host[:port]``), written wherever the simulator names its own
    address (the WSDL's service address, the manifest, certificates' CRL/OCSP URLs); absent = the
    URL it listens on."""
    connections: ConnectionsConfig = Field(default_factory=ConnectionsConfig)
    """Time and memory bounds of the server's connections."""

    @field_validator("public_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return base_url(value)
        except ConfigurationError as exc:
            raise ValueError(exc.message) from exc

    @property
    def limits(self) -> ConnectionLimits:
        return self.connections.limits()


class FaultsConfig(ServedConfig):
    """A served simulator with fault injection."""

    scenario: Path | None = None
    """Fault scenario YAML loaded at start (format in docs/gateway.md)."""
