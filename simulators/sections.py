"""Section models of the simulators' config file shared by several simulators.

The config file (YAML, one section per simulator, ``docs/simulators.md``) is validated section by
section against pydantic models: an unknown section or key is an error, so that a typo does not
silently start the default. Each simulator's own section model lives beside its factory
(``simulators/<name>/factory.py``) and extends one of these.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class SectionConfig(BaseModel):
    """Keys every section accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    """false: do not start this simulator (``egov sim up`` only; a landscape needs all five)."""


class ServedConfig(SectionConfig):
    """A simulator served over HTTP (the PKI's section is exactly this)."""

    port: int | None = Field(None, ge=0, le=65535)
    """Port on 127.0.0.1; 0 = a free port; absent = the default (settings' URL for ``sim up``)."""


class FaultsConfig(ServedConfig):
    """A served simulator with fault injection."""

    scenario: Path | None = None
    """Fault scenario YAML loaded at start (format in docs/gateway.md)."""
