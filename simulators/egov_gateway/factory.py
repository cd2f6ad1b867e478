"""Starting the gateway simulator in a landscape, and its config section (``gateway``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from simulators.context import RunningSimulator, SimContext
from simulators.egov_gateway.backend import EchoBackend
from simulators.egov_gateway.simulator import GatewaySimulator
from simulators.egov_gateway.state import DEDUP_MAX_BYTES, DEDUP_RETENTION_SECONDS
from simulators.identities import (
    GATEWAY_BIN,
    GATEWAY_IIN,
    KEYSTORE_PASSWORD_FILE,
    MINISTRY_IIN,
    SENDER_PASSWORD_FILE,
)
from simulators.pki.trust import system_key, verification
from simulators.sections import FaultsConfig


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
    dedup_retention_seconds: float = Field(DEDUP_RETENTION_SECONDS, gt=0)
    """How long the answer to a messageId is kept for a repeated request."""
    dedup_max_bytes: int = Field(DEDUP_MAX_BYTES, gt=0)
    """Most bytes of stored answers; the oldest are dropped first."""


def start_gateway(ctx: SimContext) -> RunningSimulator:
    """The gateway, signing with a PKI-issued key; our sender account (and the config's others); an
    echo backend on ``ECHO``; our system's key written to ``workdir/ministry.p12`` (0600) for the
    clients, its password and the sender's password to secret files (0600) that the printed
    ``EGOV_*_FILE`` variables name (no password is printed)."""
    pki = ctx.needs("pki", "gateway")
    options = ctx.options("gateway", GatewayConfig)
    me = ctx.identity()
    sim = GatewaySimulator(key=system_key(pki, GATEWAY_IIN, GATEWAY_BIN, "E-GOVERNMENT GATEWAY (SIMULATOR)"),
                           verification=verification(pki, ctx.clock), clock=ctx.clock,
                           dedup_retention_seconds=options.dedup_retention_seconds,
                           dedup_max_bytes=options.dedup_max_bytes, control_token=ctx.control_token,
                           public_url=options.public_url, limits=options.limits)
    sim.add_sender(me.sender_id, me.sender_password, bin=me.bin)
    for extra in options.senders:
        sim.add_sender(extra.sender_id, extra.password, bin=extra.bin, services=extra.services)
    sim.register_backend("ECHO", EchoBackend())
    if options.scenario is not None:
        sim.injector.load_scenario(ctx.path(options.scenario))
    ministry = pki.issue(iin=MINISTRY_IIN, bin=me.bin, org="MINISTRY OF EDUCATION (LICENSING SYSTEM)")
    keystore = ministry.write_pkcs12(ctx.keystore_path, me.keystore_password)
    sender_password = ctx.write_secret(SENDER_PASSWORD_FILE, me.sender_password)
    keystore_password = ctx.write_secret(KEYSTORE_PASSWORD_FILE, me.keystore_password)
    sim.start(ctx.port("gateway", options.port), options.host)
    ctx.env.update({"EGOV_GATEWAY_URL": sim.sync_url, "EGOV_GATEWAY_SENDER_ID": me.sender_id,
                    "EGOV_GATEWAY_SENDER_PASSWORD_FILE": str(sender_password),
                    "EGOV_KEYSTORE_PATH": str(Path(keystore).resolve()),
                    "EGOV_KEYSTORE_PASSWORD_FILE": str(keystore_password)})
    return RunningSimulator("gateway", {"sync": sim.sync_url, "async": sim.async_url,
                                        "control": f"{sim.url}/_control/"}, sim.stop, sim)
