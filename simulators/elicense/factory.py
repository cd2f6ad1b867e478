"""Starting E-licensing in a landscape, and its config section (``elicense``)."""

from __future__ import annotations

from simulators.context import RunningSimulator, SimContext
from simulators.elicense import catalogue as cat
from simulators.elicense.head_keys import HeadKeys
from simulators.elicense.payments import NO_PAYMENT_GATEWAY, GatewayLedger
from simulators.elicense.server import ElicenseSimulator
from simulators.identities import ELICENSE_BIN, SYSTEM_IIN
from simulators.pki.trust import system_key, verification
from simulators.sections import FaultsConfig


class ElicenseConfig(FaultsConfig):
    database_url: str = "sqlite://"
    """SQLAlchemy URL of E-licensing's database (``sqlite:///elicense.db`` keeps it across runs)."""


def start_elicense(ctx: SimContext) -> RunningSimulator:
    """E-licensing, verifying applicants' signatures with OCSP then CRL, notifying through the gateway,
    confirming payments (Condition 2) in-process with the payment gateway of the landscape (none
    started: no payment is confirmed; ``simulators.elicense.payments`` says why in-process); the
    licensors' head keys are issued ahead of the first decision (:class:`HeadKeys`)."""
    pki = ctx.needs("pki", "elicense")
    gateway = ctx.needs("gateway", "elicense")
    payment_gateway = ctx.running.get("payment_gateway")
    payments = GatewayLedger(payment_gateway.obj.store) if payment_gateway is not None else NO_PAYMENT_GATEWAY
    options = ctx.options("elicense", ElicenseConfig)
    head_keys = HeadKeys(pki)
    sim = ElicenseSimulator(verifier=verification(pki, ctx.clock, revocation=True), head_key=head_keys,
                            system_key=system_key(pki, SYSTEM_IIN, ELICENSE_BIN, "E-LICENSING (SIMULATOR)"),
                            payments=payments, gateway=gateway, database_url=options.database_url, clock=ctx.clock,
                            port=ctx.port("elicense", options.port), host=options.host,
                            control_token=ctx.control_token, public_url=options.public_url, limits=options.limits)
    if options.scenario is not None:
        sim.injector.load_scenario(ctx.path(options.scenario))
    sim.start()
    head_keys.preissue(cat.licensors())

    def stop() -> None:
        head_keys.stop()
        sim.stop()

    ctx.env["EGOV_ELICENSE_URL"] = sim.endpoint
    return RunningSimulator("elicense", {"soap": sim.endpoint, "control": f"{sim.url}/_control/"}, stop, sim)
