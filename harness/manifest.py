"""The landscape manifest: what a running simulator landscape tells other processes.

``egov sim up`` and :class:`harness.landscape.Landscape` write it; ``egov flow run --manifest`` and
``Landscape.attach`` read it. It is the procedure's :class:`~procedure.clients.Endpoints` (URLs,
keys, trust anchors, the control APIs' token) of the simulators the registry started. Its
passwords (the ministry keystore's, the sender's, the officers') are references to secret files
(0600) under ``<workdir>/secrets``, written here; the manifest itself is written 0600 (:meth:`Endpoints.write`).
"""

from __future__ import annotations

from pathlib import Path

from procedure.clients import Endpoints
from procedure.credentials import SecretRef
from simulators.identities import EMPLOYEE_PASSWORD_FILE, KEYSTORE_PASSWORD_FILE, SENDER_PASSWORD_FILE
from simulators.registry import (
    ALL_SIMULATORS,
    ELICENSE_BIN,
    EMPLOYEE_PASSWORD,
    GATEWAY_BIN,
    PAYMENT_GATEWAY_BIN,
    REGISTER_BIN,
    SimContext,
)

__all__ = ["manifest"]


def manifest(ctx: SimContext) -> Endpoints | None:
    """The landscape manifest of what ``ctx`` runs, so that ``egov flow run --manifest`` and
    ``Landscape.attach`` can drive the running simulators; None unless all five run. Writes the
    secret files its password references name (``ctx.secrets_dir``, 0600)."""
    if not set(ALL_SIMULATORS) <= set(ctx.running):
        return None
    pki, gateway = ctx.running["pki"].obj, ctx.running["gateway"].obj
    payment, elicense = ctx.running["payment_gateway"].obj, ctx.running["elicense"].obj
    pki_url = ctx.running["pki"].urls["crl/ocsp"]
    pki_dir = Path(pki.directory).resolve()
    me = ctx.identity()

    def secret(name: str, value: str) -> SecretRef:
        return SecretRef(file=str(ctx.write_secret(name, value)))

    return Endpoints(
        gateway_url=gateway.sync_url, gateway_async_url=gateway.async_url,
        payment_gateway_url=payment.endpoint_url, elicense_url=elicense.endpoint, pki_url=pki_url,
        pki_dir=str(pki_dir), trust_anchors=[str(pki_dir / "ca.pem")], intermediates=[str(pki_dir / "issuing.pem")],
        keystore_path=str(ctx.keystore_path.resolve()),
        keystore_password=secret(KEYSTORE_PASSWORD_FILE, me.keystore_password), sender_id=me.sender_id,
        sender_password=secret(SENDER_PASSWORD_FILE, me.sender_password), requestor_bin=me.bin,
        gateway_bin=GATEWAY_BIN, payment_gateway_bin=PAYMENT_GATEWAY_BIN, register_bin=REGISTER_BIN,
        elicense_bin=ELICENSE_BIN, employee_password=secret(EMPLOYEE_PASSWORD_FILE, EMPLOYEE_PASSWORD),
        gateway_control_url=f"{gateway.url}/_control/",
        payment_control_url=f"{payment.url}/_control/", elicense_control_url=f"{elicense.url}/_control/",
        pki_control_url=f"{pki_url}/_control/", control_token=ctx.control_token)
