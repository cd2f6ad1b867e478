"""Starting the test PKI in a landscape (registered by :func:`simulators.registry.default_registry`)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from simulators.context import RunningSimulator, SimContext
from simulators.pki.testpki import TestPKI
from simulators.sections import ServedConfig


def start_pki(ctx: SimContext) -> RunningSimulator:
    """The test PKI (created in ``workdir/pki``, or loaded if there) and its CRL/OCSP server. A PKI
    that already names its server's URL in its certificates keeps that port unless the config sets one
    (or a public URL)."""
    options = ctx.options("pki", ServedConfig)
    directory = ctx.workdir / "pki"
    pki = TestPKI.load(directory, clock=ctx.clock) if (directory / "pki.json").exists() \
        else TestPKI.create(directory, clock=ctx.clock)
    port = options.port
    if port is None and pki.base_url_bound and options.public_url is None:
        port = urlsplit(pki.base_url).port
    server = pki.serve(ctx.port("pki", port), host=options.host, control_token=ctx.control_token,
                       public_url=options.public_url, limits=options.limits)
    ctx.env["EGOV_TRUST_ANCHORS"] = json.dumps([str((directory / "ca.pem").resolve())])
    ctx.env["EGOV_INTERMEDIATES"] = json.dumps([str((directory / "issuing.pem").resolve())])
    ctx.env["EGOV_PKI_URL"] = server.url
    return RunningSimulator("pki", {"crl/ocsp": server.url, "control": f"{server.url}/_control/"}, server.stop,
                            pki, server)
