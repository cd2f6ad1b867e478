"""Starting the payment gateway simulator in a landscape, and its config section (``payment_gateway``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from adapters.core.xmlsig import SigningService
from simulators.context import RunningSimulator, SimContext
from simulators.identities import PAYMENT_GATEWAY_BIN, SYSTEM_IIN
from simulators.payment_gateway.simulator import PaymentGatewaySimulator
from simulators.pki.trust import system_key, verification
from simulators.sections import FaultsConfig


class PaymentSenderConfig(BaseModel):
    """A further sender account of the payment gateway (another organisation's system)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender_id: str = Field(min_length=1)
    password: str = Field(min_length=1)
    bin: str = Field(pattern=r"^[0-9]{12}$")
    """BIN its transport-signing certificate carries."""


class PaymentGatewayConfig(FaultsConfig):
    auto_pay_delay_seconds: float | None = Field(None, ge=0)
    """An order still CREATED this long after its creation is paid ("the bank"); absent = never."""
    db_path: str = ":memory:"
    """SQLite file of the orders (``:memory:`` = gone when stopped)."""
    senders: list[PaymentSenderConfig] = Field(default_factory=list)
    """Further sender accounts (our own system's is always registered, from the landscape's identity)."""


def start_payment_gateway(ctx: SimContext) -> RunningSimulator:
    """The payment gateway (PShEP) serving our system's sender (id, password and BIN of the landscape's
    identity, the ones the gateway knows) and the config's others; "the bank" pays through its
    control API or after the auto-pay delay."""
    pki = ctx.needs("pki", "payment_gateway")
    options = ctx.options("payment_gateway", PaymentGatewayConfig)
    key = system_key(pki, SYSTEM_IIN, PAYMENT_GATEWAY_BIN, "PAYMENT GATEWAY (SIMULATOR)")
    auto_pay = (dt.timedelta(seconds=options.auto_pay_delay_seconds)
                if options.auto_pay_delay_seconds is not None else None)
    db_path = options.db_path if options.db_path == ":memory:" else str(ctx.path(Path(options.db_path)))
    sim = PaymentGatewaySimulator(signer=SigningService(key, clock=ctx.clock), verifier=verification(pki, ctx.clock),
                                  clock=ctx.clock, auto_pay_after=auto_pay, db_path=db_path,
                                  port=ctx.port("payment_gateway", options.port), host=options.host,
                                  control_token=ctx.control_token, public_url=options.public_url,
                                  limits=options.limits)
    me = ctx.identity()
    sim.add_sender(me.sender_id, me.sender_password, bin=me.bin)
    for extra in options.senders:
        sim.add_sender(extra.sender_id, extra.password, bin=extra.bin)
    if options.scenario is not None:
        sim.faults.load_scenario(ctx.path(options.scenario))
    sim.start()
    ctx.env["EGOV_PAYMENT_GATEWAY_URL"] = sim.endpoint_url
    return RunningSimulator("payment_gateway", {"soap": sim.endpoint_url, "control": f"{sim.url}/_control/"},
                            sim.stop, sim)
