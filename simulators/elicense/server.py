"""The E-licensing simulator assembled: backend + SOAP front + control API on one SimServer."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.db import make_engine
from adapters.core.trust.keystore import KeyMaterial
from simulators.common.contract import install_contract
from simulators.common.control_guard import ControlGuard, new_control_token
from simulators.common.faults import FaultInjector
from simulators.common.httpserver import Request, Response, Router, SimServer, base_url
from simulators.common.limits import DEFAULT_LIMITS, ConnectionLimits
from simulators.common.request_journal import RequestJournal
from simulators.elicense import catalogue as cat
from simulators.elicense.backend import DocumentVerifier, ElicenseBackend
from simulators.elicense.control import install_control
from simulators.elicense.errors import ElicenseFault
from simulators.elicense.models import BackendConfig
from simulators.elicense.notices import Publisher
from simulators.elicense.payments import PaymentConfirmation
from simulators.elicense.soap import ElicenseSoapFront

SOAP_PATH = "/elicense/"
SEARCH_PATH = "/elicense/universal-license/"
LICENCE_PATH = "/elicense/licences/"


class ElicenseSimulator:
    """E-licensing on 127.0.0.1: SOAP at ``/elicense/`` (and ``/elicense/universal-license/``),
    signed licences at ``/elicense/licences/<number>``, control API at ``/_control/``.

    ``verifier`` checks applicants' signatures (a ``VerificationService`` with the trust layer);
    ``head_key`` gives the key of a licensor's first head (signs licences and refusal letters);
    ``system_key`` signs status notices; ``gateway`` (``GatewaySimulator``) receives them.
    ``control_token``: the control API's token (a new random one when absent: :attr:`control_token`);
    ``host``, ``port``: where to listen (127.0.0.1, a free port); ``public_url``: the base URL
    clients use, also in the licences' document URLs (the listening one when absent); ``limits``:
    what clients may take of the server.
    ``payments`` is the payment gateway Condition 2 asks about the applications' receipts
    (``payments.GatewayLedger``, or ``payments.NO_PAYMENT_GATEWAY``: no payment is ever confirmed).
    """

    def __init__(self, *, verifier: DocumentVerifier, head_key: Callable[[cat.Licensor], KeyMaterial],
                 system_key: KeyMaterial, payments: PaymentConfirmation, gateway: Publisher | None = None,
                 engine: Engine | None = None,
                 database_url: str = "sqlite://", config: BackendConfig | None = None,
                 clock: Clock = SYSTEM_CLOCK, port: int = 0, host: str = "127.0.0.1",
                 control_token: str | None = None, public_url: str | None = None,
                 limits: ConnectionLimits = DEFAULT_LIMITS) -> None:
        self.control_token = control_token or new_control_token()
        self._host = host
        self._public_url = base_url(public_url) if public_url else None
        self._limits = limits
        self.injector = FaultInjector()
        self.journal = RequestJournal(clock=clock)
        self.backend = ElicenseBackend(engine or make_engine(database_url), verifier=verifier, head_key=head_key,
                                       system_key=system_key, payments=payments, publisher=gateway,
                                       config=config or BackendConfig(), clock=clock)
        self.router = Router(control=ControlGuard(self.control_token), system="elicense")
        self._server: SimServer | None = None
        self._port = port
        self.front = ElicenseSoapFront(self.backend, injector=self.injector, journal=self.journal, clock=clock,
                                       base_url=lambda: self.url)
        self.router.add("POST", SOAP_PATH, self.front.handle)
        self.router.add("POST", SEARCH_PATH, self.front.handle)
        self.router.add("GET", LICENCE_PATH, self._licence_document)
        install_contract(self.router, (SOAP_PATH, SEARCH_PATH), "wsdl/elicense/elicense.wsdl", "schemas/elicense",
                         lambda: self.url)
        install_control(self.router, self.backend, self.injector, self.journal)

    def _licence_document(self, req: Request) -> Response:
        number = req.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            return Response.xml(self.backend.licence(number).document)
        except ElicenseFault as exc:
            return Response.text(str(exc), 404)

    @property
    def url(self) -> str:
        """Base URL clients use (``public_url``, else ``http://127.0.0.1:<port>``); empty before start."""
        return self._server.url if self._server else ""

    @property
    def endpoint(self) -> str:
        return f"{self.url}{SOAP_PATH}"

    @property
    def search_endpoint(self) -> str:
        return f"{self.url}{SEARCH_PATH}"

    def start(self) -> ElicenseSimulator:
        self._server = SimServer(self.router, name="elicense", host=self._host, port=self._port,
                                 limits=self._limits, public_url=self._public_url).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        self.backend.reset()
        self.injector.reset()
        self.journal.reset()

    def __enter__(self) -> ElicenseSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
