"""The e-Government gateway (ShEP) simulator: wiring of state, SOAP front and control API."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from lxml import etree

from adapters.contracts import ASYNC_WSDL, SYNC_WSDL
from adapters.core.clock import SYSTEM_CLOCK, Clock
from adapters.core.errors import ConfigurationError
from adapters.core.trust.keystore import KeyMaterial
from simulators.common.contract import install_contract
from simulators.common.control_guard import ControlGuard, new_control_token
from simulators.common.faults import FaultInjector
from simulators.common.httpserver import Router, SimServer, base_url
from simulators.common.limits import DEFAULT_LIMITS, ConnectionLimits
from simulators.common.request_journal import RequestJournal
from simulators.egov_gateway.backend import GatewayBackend
from simulators.egov_gateway.control import install_control
from simulators.egov_gateway.front import GatewayFront
from simulators.egov_gateway.state import (
    DEDUP_MAX_BYTES,
    DEDUP_RETENTION_SECONDS,
    AsyncRecord,
    AsyncStore,
    DedupStore,
    RoutingTable,
    SenderAccount,
    SenderRegistry,
)

MESSAGE_TYPES = ("REQUEST", "RESPONSE", "NOTIFICATION", "UPDATE")


class _ShiftedClock:
    def __init__(self, base: Clock, delta: dt.timedelta) -> None:
        self._base = base
        self._delta = delta

    def now(self) -> dt.datetime:
        return self._base.now() + self._delta


class GatewaySimulator:
    """A real, concurrent ShEP gateway on 127.0.0.1.

    ``key`` signs the answers (a certificate from the test PKI); ``verification`` checks the
    requests' transport signatures (``None`` accepts unsigned requests: tools only).
    ``control_token``: the token of the control API (``/_control/``, :mod:`control_guard
    <simulators.common.control_guard>`); a new random one when absent (:attr:`control_token`).
    ``public_url``: the base URL clients use, written into the served WSDL; the listening URL when
    absent. ``limits``: what clients may take of the server (:class:`ConnectionLimits`).
    """

    SYNC_PATH = "/bip-sync-wss-gost/"
    ASYNC_PATH = "/bip-async-wss-gost/"

    def __init__(self, *, key: KeyMaterial, verification: Any | None, clock: Clock = SYSTEM_CLOCK,
                 signature_config: Any | None = None, senders: Iterable[SenderAccount] = (),
                 injector: FaultInjector | None = None, journal: RequestJournal | None = None,
                 async_workers: int = 2, name: str = "gateway",
                 dedup_retention_seconds: float = DEDUP_RETENTION_SECONDS,
                 dedup_max_bytes: int = DEDUP_MAX_BYTES, control_token: str | None = None,
                 public_url: str | None = None, limits: ConnectionLimits = DEFAULT_LIMITS) -> None:
        from adapters.core.xmlsig import SignatureConfig, SigningService

        self.control_token = control_token or new_control_token()
        self._public_url = base_url(public_url) if public_url else None
        self._limits = limits
        config = signature_config or SignatureConfig()
        self.name = name
        self.clock = clock
        self._signing = SigningService(key, config, clock=clock)
        stale = dt.timedelta(seconds=config.timestamp_ttl + config.clock_skew + 3600)
        self._expired_signing = SigningService(key, config, clock=_ShiftedClock(clock, -stale))
        self.certificate = key.certificate
        self.senders = SenderRegistry()
        for account in senders:
            self.senders.add(account)
        self.routes = RoutingTable()
        self.dedup = DedupStore(retention_seconds=dedup_retention_seconds, max_bytes=dedup_max_bytes)
        self.async_store = AsyncStore()
        self.injector = injector or FaultInjector()
        self.journal = journal or RequestJournal(clock=clock)
        self._async_workers = async_workers
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        self.front = GatewayFront(
            signer=self._signing.sign_envelope, expired_signer=self._expired_signing.sign_envelope,
            verifier=verification, clock=clock, senders=self.senders, routes=self.routes, dedup=self.dedup,
            async_store=self.async_store, injector=self.injector, journal=self.journal,
            executor=self._get_executor, base_url=self._base_url)
        self.router = Router(control=ControlGuard(self.control_token), system="egov_gateway")
        for path, wsdl in ((self.SYNC_PATH, SYNC_WSDL), (self.ASYNC_PATH, ASYNC_WSDL)):
            self.router.add("POST", path, self.front.handle_post)
            install_contract(self.router, (path,), wsdl, "schemas/shep", self._base_url)
        install_control(self.router, self)
        self._server: SimServer | None = None

    def _base_url(self) -> str:
        """The public base URL (before start, in process: the configured one or 127.0.0.1)."""
        if self._server is not None:
            return self._server.url
        return self._public_url or "http://127.0.0.1"

    def _get_executor(self) -> Executor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._async_workers, thread_name_prefix=f"{self.name}-async")
            return self._executor

    # ------------------------------------------------------------------ registration

    def register_backend(self, service_id: str, backend: GatewayBackend) -> None:
        """Route ``service_id`` to ``backend`` (explicit registration; replaces an earlier one)."""
        self.routes.register(service_id, backend)

    def unregister_backend(self, service_id: str) -> None:
        self.routes.unregister(service_id)

    def add_sender(self, sender_id: str, password: str | None = None, *, bin: str | None = None,
                   services: Iterable[str] | None = None) -> SenderAccount:
        account = SenderAccount(sender_id, password, bin, frozenset(services) if services is not None else None)
        self.senders.add(account)
        return account

    def publish(self, recipient_id: str, service_id: str, message_type: str, data: etree._Element,
                correlation_id: str | None = None) -> str:
        """Queue an async message (e.g. a NOTIFICATION) for ``recipient_id`` to pull with
        ``getMessages`` and acknowledge with ``sendDeliveryNotification``; returns its messageId."""
        if message_type not in MESSAGE_TYPES:
            raise ConfigurationError(f"message_type must be one of {', '.join(MESSAGE_TYPES)}",
                                     setting="message_type")
        if message_type != "REQUEST" and not correlation_id and message_type != "NOTIFICATION":
            raise ConfigurationError(f"a {message_type} message needs a correlation_id", setting="correlation_id")
        now = self.clock.now()
        record = AsyncRecord(message_id=self.async_store.new_id(), correlation_id=correlation_id,
                             service_id=service_id, message_type=message_type, sender_id=service_id,
                             recipient_id=recipient_id, data=etree.tostring(data), created=now, status_date=now)
        self.async_store.add(record)
        return record.message_id

    # ------------------------------------------------------------------ lifecycle

    def reset(self) -> None:
        """Forget dedup answers, async queues, the journal and faults (backends and senders stay)."""
        self.dedup.reset()
        self.async_store.reset()
        self.journal.reset()
        self.injector.reset()

    def start(self, port: int = 0, host: str = "127.0.0.1", *,
              listen_socket: socket.socket | None = None) -> GatewaySimulator:
        """Listen on ``host:port`` (0: a free port), or on ``listen_socket``, a listening socket
        shared by several simulator processes (load tests only: each process keeps its own dedup
        and async state; see :class:`SimServer`)."""
        self._server = SimServer(self.router, name=self.name, host=host, port=port, listen_socket=listen_socket,
                                 limits=self._limits, public_url=self._public_url).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        with self._executor_lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None

    def __enter__(self) -> GatewaySimulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def server(self) -> SimServer | None:
        """Its HTTP server while started (limits, buffered bytes), else None."""
        return self._server

    @property
    def url(self) -> str:
        if self._server is None:
            raise ConfigurationError("gateway simulator is not started")
        return self._server.url

    @property
    def sync_url(self) -> str:
        return f"{self.url}{self.SYNC_PATH}"

    @property
    def async_url(self) -> str:
        return f"{self.url}{self.ASYNC_PATH}"
