"""Cross-site request forgery: every request that changes state carries the session's token.

SameSite=Lax cookies already keep other sites' forms from posting with the session; the token is the
second guard (an older browser, a sub-domain, a GET turned POST by a proxy). A form carries it as the
hidden field ``csrf_token``; the page's scripts send it in the ``X-CSRF-Token`` header (their bodies
are JSON or a file). The comparison takes the same time whatever the guess.
"""

from __future__ import annotations

import secrets

from simulators.common.messages import Request
from simulators.portal.sessions import BrowserSession
from simulators.portal.web import field, form

FIELD = "csrf_token"
HEADER = "x-csrf-token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def presented(req: Request) -> str:
    """The token the request carries: the header, else the form field of a form-encoded body."""
    header = req.headers.get(HEADER)
    if header:
        return header.strip()
    if req.headers.get("content-type", "").split(";")[0].strip() == "application/x-www-form-urlencoded":
        return field(form(req), FIELD)
    return ""


def refused(req: Request, bs: BrowserSession) -> bool:
    """True when ``req`` would change state without the token of the session ``bs``."""
    if req.method.upper() not in STATE_CHANGING:
        return False
    return not secrets.compare_digest(presented(req).encode(), bs.csrf.encode())
