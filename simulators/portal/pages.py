"""What every page handler shares: the browser session from the cookie, the templates, rendering
in the session's language, the CSRF check of every state-changing request (:mod:`portal.csrf`), and
an E-licensing refusal shown on the page instead of a crash."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from adapters.core.errors import EgovError
from simulators.common.messages import Request, Response
from simulators.portal import csrf, i18n
from simulators.portal.sessions import COOKIE, BrowserSession, SessionBook
from simulators.portal.web import cookie, html, set_cookie

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

PageHandler = Callable[[Request, BrowserSession], Response]

log = logging.getLogger(__name__)


class Pages:
    """Templates and sessions of the portal."""

    def __init__(self, *, ncalayer_url: str) -> None:
        self.ncalayer_url = ncalayer_url
        self.sessions = SessionBook()
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                                      autoescape=jinja2.select_autoescape(default=True),
                                      undefined=jinja2.StrictUndefined)
        self.env.filters["path_part"] = lambda value: quote(str(value), safe="")
        """One segment of a URL path (a file name with ``/`` or ``?`` in it stays one segment)."""

    def render(self, bs: BrowserSession, template: str, status: int = 200, **context: Any) -> Response:
        lang = bs.lang

        def t(key: str) -> str:
            return i18n.text(lang, key)

        def status_name(code: str) -> str:
            return i18n.status_name(lang, code)

        page = self.env.get_template(template).render(
            t=t, status_name=status_name, lang=lang, session=bs, flash=bs.take_flash(),
            ncalayer_url=self.ncalayer_url, csrf_field=csrf.FIELD,
            texts={k: t(k) for k in ("ncalayer_unreachable", "signing", "key_read", "too_large", "passwords_differ")},
            **context)
        return html(page, status)

    def page(self, handler: PageHandler) -> Callable[[Request], Response]:
        """``handler`` with its browser session (made, and its cookie set, on the first visit); a
        state-changing request without the session's CSRF token is refused (403) before ``handler``
        runs; an :class:`EgovError` it lets through is shown on an error page naming the reason."""
        def handle(req: Request) -> Response:
            bs, new = self.sessions.get_or_new(cookie(req, COOKIE))
            sid = bs.sid
            try:
                if csrf.refused(req, bs):
                    log.warning("page %s %s refused: no CSRF token of the session", req.method, req.path)
                    resp = self.render(bs, "error.html", 403, error=i18n.text(bs.lang, "csrf_refused"))
                else:
                    resp = handler(req, bs)
            except EgovError as exc:
                log.info("page %s %s refused: %s", req.method, req.path, exc)
                resp = self.render(bs, "error.html", 422, error=exc)
            return set_cookie(resp, COOKIE, bs.sid) if new or bs.sid != sid else resp  # made, or rotated
        return handle
