"""The portal assembled: the applicant's pages, the licensor's desk, the language switch and the
static files (the vendored ``ncalayer-client.js`` among them) on one HTTP server."""

from __future__ import annotations

from adapters.core.errors import ValidationError
from simulators.common.httpserver import SimServer
from simulators.common.messages import Request, Response
from simulators.common.router import Router
from simulators.portal import i18n
from simulators.portal.applicant import ApplicantPages
from simulators.portal.backends import PortalBackends
from simulators.portal.desk import DeskPages
from simulators.portal.pages import STATIC, Pages
from simulators.portal.sessions import BrowserSession
from simulators.portal.web import field, form, redirect, same_site_path, static_file

DEFAULT_NCALAYER_URL = "ws://127.0.0.1:13579"


class PortalServer:
    """The E-licensing portal on ``http://host:port`` (a free port when 0), its pages signing through
    the NCALayer at ``ncalayer_url``."""

    def __init__(self, backends: PortalBackends, *, ncalayer_url: str = DEFAULT_NCALAYER_URL,
                 host: str = "127.0.0.1", port: int = 0, close_backends: bool = False) -> None:
        self.backends = backends
        self._close_backends = close_backends
        """Whether :meth:`stop` closes the backends too (the portal made them)."""
        self.pages = Pages(ncalayer_url=ncalayer_url)
        self.router = Router()
        p = self.pages.page
        self.router.add("GET", "/", p(self._home))
        self.router.add("POST", "/lang", p(self._lang))
        self.router.add("POST", "/logout", p(self._logout))
        self.router.add("GET", "/static", self._static)
        ApplicantPages(self.pages, backends).install(self.router)
        DeskPages(self.pages, backends).install(self.router)
        self._host = host
        self._port = port
        self._server: SimServer | None = None

    def _home(self, req: Request, bs: BrowserSession) -> Response:
        if req.path != "/":
            return Response.text(f"no page {req.path}", 404)
        return self.pages.render(bs, "home.html")

    def _lang(self, req: Request, bs: BrowserSession) -> Response:
        """The language switch: a form posted with the session's CSRF token (it changes the
        session), back to the page it came from on this site."""
        lang = field(form(req), "lang")
        if lang not in i18n.LANGS:
            raise ValidationError("lang", f"not a language of the portal (one of {', '.join(i18n.LANGS)})",
                                  value=lang)
        bs.lang = lang
        return redirect(same_site_path(req.headers.get("referer")))

    def _logout(self, req: Request, bs: BrowserSession) -> Response:
        bs.applicant = bs.employee = bs.draft = None
        bs.pending.clear()
        return redirect("/")

    def _static(self, req: Request) -> Response:
        return static_file(STATIC, req.path[len("/static/"):])

    @property
    def url(self) -> str:
        return self._server.url if self._server is not None else ""

    def start(self) -> PortalServer:
        self._server = SimServer(self.router, name="portal", host=self._host, port=self._port).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._close_backends:
            self.backends.close()

    def __enter__(self) -> PortalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
