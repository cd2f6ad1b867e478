"""Who may call a simulator's control API (every route under ``/_control``): the guard the router
puts in front of each of them.

A control API changes the simulated world (pays orders, revokes certificates, removes organisations)
and shows its data (registered organisations, applications, journals). :class:`ControlGuard` lets
a request through only when all three hold, checked in this order:

1. **no foreign origin**: a request carrying an ``Origin`` header, or a ``Sec-Fetch-Site`` other
   than ``same-origin`` / ``none``, was sent by a web page; the simulators serve no web page, so
   every such origin is foreign → 403 (rule ``origin``);
2. **the landscape's token**: ``Authorization: Bearer <token>``, compared in constant time → 401
   with ``WWW-Authenticate: Bearer`` (rule ``token``);
3. **JSON only**: a request with a body declares ``Content-Type: application/json`` → 415 (rule
   ``content-type``); a web page cannot send that across origins without a preflight, which the
   simulators never answer.

A refusal names its rule and the header at fault, never the token or what the route would have
answered. The token is made once per landscape (:func:`new_control_token`), written to the
landscape's manifest and to a file readable by its owner only (:func:`write_control_token`), and
sent by every client of the control APIs with :func:`control_headers`.
"""

from __future__ import annotations

import enum
import hmac
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from adapters.core.errors import ConfigurationError
from simulators.common.messages import Request, Response

__all__ = ["CONTROL_PREFIX", "CONTROL_TOKEN_NAME", "ControlGuard", "ControlRule", "control_headers",
           "is_control_path", "new_control_token", "write_control_token"]

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_control"
"""Every route at or under this path is a control route."""
CONTROL_TOKEN_NAME = "control-token"
"""File name of the token in a landscape's work directory."""
MIN_TOKEN_CHARS = 32
"""Shortest token a guard accepts (:func:`new_control_token` makes 43 characters, 256 bits)."""
_REALM = 'Bearer realm="egov-simulator-control"'
_SAME_SITE = frozenset({"same-origin", "none"})


class ControlRule(enum.StrEnum):
    """The rule a refused control request broke (the ``rule`` of the refusal's JSON)."""

    ORIGIN = "origin"
    """Sent by a web page (``Origin`` or a cross-site ``Sec-Fetch-Site``): 403."""
    TOKEN = "token"
    """Without the landscape's token, or with another one: 401."""
    CONTENT_TYPE = "content-type"
    """A body that is not declared ``application/json``: 415."""


def new_control_token() -> str:
    """A fresh random token (256 bits, URL-safe), one per landscape."""
    return secrets.token_urlsafe(32)


def control_headers(token: str) -> dict[str, str]:
    """The header a client of the control APIs sends with every request."""
    return {"Authorization": f"Bearer {token}"}


def write_control_token(path: Path, token: str) -> Path:
    """Write ``token`` to ``path``, readable and writable by its owner only (0600, also when the
    file existed with wider permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, token.encode("ascii") + b"\n")
    finally:
        os.close(fd)
    return path


def is_control_path(prefix: str) -> bool:
    """Whether a route at ``prefix`` belongs to a control API."""
    return prefix == CONTROL_PREFIX or prefix.startswith(CONTROL_PREFIX + "/")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()  # a plain dict (a Request built by hand): look the name up in any case
    return next((v for k, v in headers.items() if k.lower() == lower), None)


class ControlGuard:
    """Checks every request to a control route (see the module's docstring); built with the
    landscape's token, which must be at least :data:`MIN_TOKEN_CHARS` characters."""

    __slots__ = ("_expected",)

    def __init__(self, token: str) -> None:
        if len(token) < MIN_TOKEN_CHARS:
            raise ConfigurationError(f"a control token has at least {MIN_TOKEN_CHARS} characters",
                                     setting="control_token")
        self._expected = f"Bearer {token}".encode()

    def refusal(self, request: Request) -> Response | None:
        """The answer refusing ``request``, or None when it may reach the control route."""
        headers = request.headers
        origin = _header(headers, "Origin")
        fetch_site = _header(headers, "Sec-Fetch-Site")
        if origin is not None or (fetch_site is not None and fetch_site.strip().lower() not in _SAME_SITE):
            return self._refuse(request, ControlRule.ORIGIN, "Origin" if origin is not None else "Sec-Fetch-Site",
                                403, "control APIs do not answer web pages")
        sent = (_header(headers, "Authorization") or "").strip().encode("utf-8", "replace")
        if not hmac.compare_digest(sent, self._expected):
            refused = self._refuse(request, ControlRule.TOKEN, "Authorization", 401,
                                   "control APIs need the landscape's token (Authorization: Bearer ...)")
            refused.headers["WWW-Authenticate"] = _REALM
            return refused
        if request.body:
            media = (_header(headers, "Content-Type") or "").split(";", 1)[0].strip().lower()
            if media != "application/json":
                return self._refuse(request, ControlRule.CONTENT_TYPE, "Content-Type", 415,
                                    "a control request's body is JSON (Content-Type: application/json)")
        return None

    @staticmethod
    def _refuse(request: Request, rule: ControlRule, field: str, status: int, message: str) -> Response:
        log.warning("control request %s %s from %s refused: rule %s", request.method, request.path,
                    request.client, rule.value)
        return Response.json({"error": "control-refused", "rule": rule.value, "field": field,
                              "message": message}, status)
