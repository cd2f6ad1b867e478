"""HTTP front of the test PKI: CRL and OCSP (RFC 6960, POST and GET), CA certificates, control API."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING
from urllib.parse import unquote

from cryptography.hazmat.primitives.serialization import Encoding

from adapters.core.errors import EgovError
from simulators.common.control_guard import ControlGuard
from simulators.common.httpserver import Request, Response, Router

if TYPE_CHECKING:
    from simulators.pki.testpki import TestPKI

OCSP_REQUEST = "application/ocsp-request"
OCSP_RESPONSE = "application/ocsp-response"
MAX_OCSP_REQUEST = 64 * 1024


def _der(body: bytes, content_type: str) -> Response:
    return Response(200, body, {"Content-Type": content_type, "Cache-Control": "no-cache"})


def build_router(pki: TestPKI, control: ControlGuard) -> Router:
    """CRL, OCSP and CA certificates for anyone; the control API (revoke, status) behind ``control``."""
    router = Router(control=control, system="pki")

    def crl(_: Request) -> Response:
        return _der(pki.crl_der(), "application/pkix-crl")

    def ocsp_post(req: Request) -> Response:
        ctype = req.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != OCSP_REQUEST:
            return Response.text(f"Content-Type must be {OCSP_REQUEST}", 415)
        if len(req.body) > MAX_OCSP_REQUEST:
            return Response.text("OCSP request too large", 413)
        return _der(pki.responder.respond(req.body), OCSP_RESPONSE)

    def ocsp_get(req: Request) -> Response:
        encoded = unquote(req.path[len("/ocsp/"):])
        try:
            der = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return Response.text("OCSP GET path is not base64", 400)
        return _der(pki.responder.respond(der), OCSP_RESPONSE)

    def cert(which: str) -> Response:
        c = pki.root_certificate if which == "root" else pki.issuing_certificate
        return _der(c.public_bytes(Encoding.DER), "application/pkix-cert")

    def control_revoke(req: Request) -> Response:
        data = req.json() or {}
        try:
            record = pki.revoke(str(data.get("serial", "")), reason=str(data.get("reason", "unspecified")))
        except EgovError as exc:
            return Response.json(exc.to_dict(), 404 if "not issued" in exc.message else 409)
        return Response.json({"serial": record.serial, "revoked_at": record.revoked_at,
                              "reason": record.reason.value if record.reason else None})

    def control_status(req: Request) -> Response:
        serial = req.path.rsplit("/", 1)[-1]
        return Response.json({"serial": serial.lower(), "status": pki.status(serial)})

    router.add("GET", "/crl/issuing.crl", crl)
    router.add("POST", "/ocsp", ocsp_post)
    router.add("GET", "/ocsp", ocsp_get)
    router.add("GET", "/certs/root.cer", lambda _: cert("root"))
    router.add("GET", "/certs/issuing.cer", lambda _: cert("issuing"))
    router.add("POST", "/_control/revoke", control_revoke)
    router.add("GET", "/_control/status", control_status)
    return router


__all__ = ["build_router"]
