"""Which endpoints a run checks and with which of the organisation's keys.

The base is the deployment's :class:`~procedure.clients.Endpoints`: a landscape manifest (``--manifest``
or ``EGOV_LANDSCAPE_MANIFEST``) or the ``EGOV_*`` settings (keystore, sender, trust anchors); the
command's URLs and key options replace its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.core.errors import ConfigurationError
from adapters.core.settings import Settings
from procedure.clients import Endpoints
from procedure.credentials import SecretRef
from procedure.deployment import endpoints_from

__all__ = ["KeyOptions", "Targets", "endpoints_for"]


@dataclass(frozen=True)
class KeyOptions:
    """The organisation's keys and identity, when given on the command line (None: from the base)."""

    keystore: Path | None = None
    keystore_password_file: Path | None = None
    sender_id: str | None = None
    sender_password_file: Path | None = None
    trust_anchors: tuple[Path, ...] = ()
    intermediates: tuple[Path, ...] = ()
    requestor_bin: str | None = None
    gateway_bin: str | None = None


@dataclass(frozen=True)
class Targets:
    """The URLs under test; ``gateway`` is required, the others are checked when given."""

    gateway: str
    gateway_async: str | None = None
    elicense: str | None = None
    payment: str | None = None

    def systems(self) -> list[str]:
        return ["gateway", *(["payment"] if self.payment else []), *(["elicense"] if self.elicense else [])]


def endpoints_for(targets: Targets, keys: KeyOptions, *, settings: Settings,
                  manifest: Path | None = None) -> Endpoints:
    """The base endpoints with the targets' URLs and the key options in place."""
    for name, url in (("gateway", targets.gateway), ("gateway-async", targets.gateway_async),
                      ("elicense", targets.elicense), ("payment", targets.payment)):
        if url is not None and not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"--{name} {url!r}: expected an http(s) URL", setting=name)
    base = Endpoints.read(manifest) if manifest is not None else endpoints_from(settings)
    update: dict[str, Any] = {"gateway_url": targets.gateway, "gateway_async_url": targets.gateway_async}
    if targets.elicense:
        update["elicense_url"] = targets.elicense
    if targets.payment:
        update["payment_gateway_url"] = targets.payment
    if keys.keystore is not None:
        update["keystore_path"] = str(keys.keystore)
    if keys.keystore_password_file is not None:
        update["keystore_password"] = SecretRef(file=str(keys.keystore_password_file))
    if keys.sender_password_file is not None:
        update["sender_password"] = SecretRef(file=str(keys.sender_password_file))
    if keys.trust_anchors:
        update["trust_anchors"] = [str(p) for p in keys.trust_anchors]
    if keys.intermediates:
        update["intermediates"] = [str(p) for p in keys.intermediates]
    for name in ("sender_id", "requestor_bin", "gateway_bin"):
        value = getattr(keys, name)
        if value is not None:
            update[name] = value
    return base.model_copy(update=update)
