"""The production transport: HTTP/1.1 over pooled keep-alive connections, on the standard library.

- The wire format is :mod:`adapters.core.http.wire` (sockets, TLS, httptools' answer parser):
  urllib3 and http.client, whose header parsing goes through the ``email`` package, cost
  about 250 µs of CPU per request on top of the socket calls (``bench/transport_cost.py``).
- Connections are pooled per origin (scheme, host, port; through a proxy: per proxy for http
  targets, per proxy and target for an https tunnel), at most ``pools`` origins (the least recently
  routed is closed when another needs one) and ``maxsize`` idle connections per origin (concurrent
  calls beyond that open extra connections, closed after use). An idle connection the server
  closed (readable while idle) is dropped, not reused. A connection is reused only after an answer
  read to its end whose framing and ``Connection`` header allow it.
- A URL is worked out once (its route: the URL without credentials, their Basic authorization, the
  origin's pool, the request target and the Host header); URLs are normalised as urllib3's
  ``parse_url`` does (IDNA host names, spaces percent-encoded). A pool closed since (another origin
  took its place, or :meth:`NetworkTransport.close`) makes the call route the URL again.
- For https, one ``ssl.SSLContext`` per transport, built at the first https call (loading a CA
  store costs tens of milliseconds) from the CA file and directory fixed when the transport was
  built (or the system's default store), TLS 1.2 at least; certificates and host names are verified.
- Every call has a connect timeout (TCP connect, the proxy's ``CONNECT``, the TLS handshake) and a
  read timeout (each wait for the socket afterwards), and a wall-clock deadline
  (``Timeouts.total``) that no server behaviour stretches: the connection of an exchange still under
  way at its deadline is shut down (:mod:`adapters.core.http.deadline`) and the call fails with
  :class:`~adapters.core.errors.ExchangeTimeoutError` (``kind`` ``deadline``). Nothing is retried
  and no redirect followed (a 3xx is returned): whether to try again is the resilience layer's
  decision, which knows if a call is idempotent.
- The request carries ``Host``, ``Accept-Encoding: identity``, a ``Content-Length`` (a POST, PUT
  or PATCH without a body sends 0) and a ``User-Agent`` unless the caller gave them. A
  :class:`StreamedBody` is sent with its declared ``Content-Length``, one chunk at a time.
- An answer is read within a byte limit (``max_response_bytes``, or the call's ``max_bytes``):
  a ``Content-Length`` over it is refused before the body is read, a body that grows past it is
  cut off there (:mod:`adapters.core.http.reader`); either is a
  :class:`~adapters.core.errors.ResponseTooLargeError` and the connection is dropped, not drained.
- The environment (proxies, ``NO_PROXY``, the CA bundle: :mod:`adapters.core.http.environment`) is
  read once, when the transport is built. Through an http proxy: an http target is asked for in
  absolute form (with the proxy's Proxy-Authorization), an https target through a ``CONNECT``
  tunnel. An https proxy carries http targets; an https target through an https proxy (TLS inside
  TLS) is refused as a :class:`~adapters.core.errors.ConfigurationError`.
- ``user:password@`` in a URL is sent as Basic ``Authorization`` (never in the request line).
- Network failures raise :class:`~adapters.core.errors.TransportError` with a ``kind``
  (:mod:`adapters.core.http.failures`); a URL that cannot be sent to (no http/https scheme, no host,
  a proxy scheme other than http or https) is a :class:`~adapters.core.errors.ConfigurationError`;
  a :class:`StreamedBodyError` from a body's source passes through, and the half-sent connection is
  dropped, not reused.
"""

from __future__ import annotations

import base64
import ssl
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from urllib3.exceptions import LocationValueError
from urllib3.util import parse_url

from adapters.core.errors import ConfigurationError, ExchangeTimeoutError
from adapters.core.http.body import StreamedBody
from adapters.core.http.deadline import Watch, Watchdog
from adapters.core.http.environment import NetworkEnvironment
from adapters.core.http.failures import NETWORK_ERRORS, ConnectFailed, ConnectTimedOut, translate_exception
from adapters.core.http.reader import DEFAULT_MAX_RESPONSE_BYTES, positive_limit, read_limited
from adapters.core.http.result import HttpResult
from adapters.core.http.timeouts import Timeouts
from adapters.core.http.wire import Answer, Connection, Endpoint, request_head

_MAX_ROUTES = 1024
"""URLs whose route is remembered (beyond that, a route is worked out per call)."""

USER_AGENT = "egov-adapters"
"""The User-Agent of a request that names none (the SOAP transport names its own)."""

_SEND_AT_ONCE = 64 * 1024
"""A body up to this size goes out with its head in one write."""

_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))
"""Methods that send ``Content-Length: 0`` when they have no body (as http.client does)."""

WATCHDOG = Watchdog()
"""Cuts the connections of exchanges past their deadline: one thread for the process, started by
the first call."""


def _deadline_error(url: str, watch: Watch) -> ExchangeTimeoutError:
    return ExchangeTimeoutError(f"deadline: {url}: the exchange did not finish within {watch.seconds:g} s",
                                kind="deadline", url=url, deadline_seconds=watch.seconds)


class _Pool:
    """The idle connections of one origin (last used, first reused). Thread-safe."""

    __slots__ = ("_idle", "_lock", "closed", "endpoint", "maxsize")

    def __init__(self, endpoint: Endpoint, maxsize: int) -> None:
        self.endpoint = endpoint
        self.maxsize = maxsize
        self.closed = False
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def take(self) -> Connection | None:
        """An idle connection still open, or ``None``."""
        while True:
            with self._lock:
                if not self._idle:
                    return None
                connection = self._idle.pop()
            if not connection.dropped():
                return connection
            connection.close()

    def give(self, connection: Connection) -> None:
        """Keep ``connection`` for another call (closed instead when the pool is full or closed)."""
        with self._lock:
            if not self.closed and len(self._idle) < self.maxsize:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


@dataclass(frozen=True, slots=True)
class _Route:
    """How to send to one URL: the URL without credentials, the pool of its origin, the request
    target (path and query, or the absolute URL for a proxy) and the headers every call to it adds."""

    url: str
    pool: _Pool
    target: str
    headers: tuple[tuple[str, str], ...]
    """Host, and Authorization / Proxy-Authorization when the URL or the proxy carries credentials."""


def _basic(userinfo: str) -> str:
    user, _, password = userinfo.partition(":")
    credentials = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
    return "Basic " + base64.b64encode(credentials.encode("latin-1")).decode("ascii")


def _host_header(host: str, port: int, scheme: str) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return shown if port == (443 if scheme == "https" else 80) else f"{shown}:{port}"


class NetworkTransport:
    """Pooled HTTP over the network (see the module docstring). Safe for concurrent calls.

    ``pools``: origins whose connections are kept; ``maxsize``: idle connections kept per origin;
    ``environment``: the proxy and CA settings (default: read from the process environment now);
    ``max_response_bytes``: the byte limit of an answer when a call gives none.
    """

    def __init__(self, *, timeouts: Timeouts | None = None, pools: int = 10, maxsize: int = 20,
                 environment: NetworkEnvironment | None = None,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> None:
        self.timeouts = timeouts or Timeouts()
        self.max_response_bytes = positive_limit(max_response_bytes)
        self.environment = environment if environment is not None else NetworkEnvironment.from_environ()
        self._num_pools = pools
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self._pools: OrderedDict[tuple[object, ...], _Pool] = OrderedDict()
        self._tls: ssl.SSLContext | None = None
        self._routes: dict[str, _Route] = {}

    def request(self, method: str, url: str, *, body: bytes | StreamedBody | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeouts | float | None = None,
                raise_for_status: bool = False, max_bytes: int | None = None) -> HttpResult:
        """Send and read the whole answer (the contract of :class:`~adapters.core.http.HttpTransport`)."""
        route = self._route(url)
        if route.pool.closed:  # another origin took its place, or the transport was closed
            route = self._route(url, fresh=True)
        call = self.timeouts.for_call(timeout)
        limit = self.max_response_bytes if max_bytes is None else positive_limit(max_bytes)
        head = request_head(method, route.target, self._headers(method, route, body, headers))
        watch = WATCHDOG.start(call.total)
        connection: Connection | None = None
        answer: Answer | None = None
        try:
            start = time.perf_counter()
            connection = self._connection(route.pool, watch, call)
            if isinstance(body, StreamedBody):
                connection.send(head)
                for chunk in body:
                    connection.send(chunk)
            elif body and len(body) > _SEND_AT_ONCE:
                connection.send(head)
                connection.send(body)
            else:
                connection.send(head + body if body else head)
            answer = connection.read_answer(method)
            elapsed = time.perf_counter() - start
            content = read_limited(connection, answer, limit=limit, url=route.url)
        except BaseException as exc:
            fired = WATCHDOG.finished(watch)
            if connection is not None:
                connection.close()
            if isinstance(exc, Exception) and (fired or not watch.remaining()):
                raise _deadline_error(route.url, watch) from exc
            if isinstance(exc, NETWORK_ERRORS):
                raise translate_exception(exc, route.url, answer_started=answer is not None) from exc
            raise
        if WATCHDOG.finished(watch):  # cut at the deadline: what was read may be only part of the answer
            connection.close()
            raise _deadline_error(route.url, watch)
        if answer.keep_alive:
            route.pool.give(connection)
        else:
            connection.close()
        result = HttpResult(answer.status, answer.headers, content, url, elapsed)
        return result.raise_for_status() if raise_for_status else result

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
            self._routes.clear()
        for pool in pools:
            pool.close()

    @staticmethod
    def _headers(method: str, route: _Route, body: bytes | StreamedBody | None,
                 given: Mapping[str, str] | None) -> dict[str, str]:
        """The request's headers: the route's and the defaults, unless the caller gave them."""
        headers = dict(route.headers)
        named = {name.lower() for name in given} if given else set()
        if "host" in named:
            headers.pop("Host", None)
        if "accept-encoding" not in named:
            headers["Accept-Encoding"] = "identity"
        if "content-length" not in named:
            if body is not None:
                headers["Content-Length"] = str(len(body))
            elif method in _BODY_METHODS:
                headers["Content-Length"] = "0"
        if "user-agent" not in named:
            headers["User-Agent"] = USER_AGENT
        if given:
            headers.update(given)
        return headers

    def _connection(self, pool: _Pool, watch: Watch, call: Timeouts) -> Connection:
        """An idle connection of ``pool``, or a new one; attached to the exchange's deadline."""
        connection = pool.take()
        if connection is not None:
            watch.attach(connection)
            connection.sock.settimeout(call.read)  # type: ignore[union-attr]
            return connection
        connection = Connection()
        watch.attach(connection)
        try:
            connection.connect(pool.endpoint, min(call.connect, call.total), call.read)
        except TimeoutError as exc:
            raise ConnectTimedOut(f"no connection within {min(call.connect, call.total):g} s") from exc
        except ConnectionRefusedError:
            raise
        except OSError as exc:
            raise ConnectFailed(str(exc)) from exc
        watch.attach(connection)  # now with its socket: cut at once if the deadline passed meanwhile
        return connection

    def _route(self, url: str, *, fresh: bool = False) -> _Route:
        route = None if fresh else self._routes.get(url)
        if route is None:
            route = self._make_route(url)
            if url in self._routes or len(self._routes) < _MAX_ROUTES:
                self._routes[url] = route
        return route

    def _make_route(self, url: str) -> _Route:
        try:
            parts = parse_url(url)
        except LocationValueError as exc:
            raise ConfigurationError(f"not a URL to send to: {url!r} ({exc})", setting="url") from exc
        scheme = (parts.scheme or "").lower()
        if scheme not in ("http", "https") or not parts.host:
            raise ConfigurationError(f"not an http(s) URL with a host: {url!r}", setting="url")
        clean = parts._replace(auth=None)
        target_url = clean.url
        if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in target_url):
            raise ConfigurationError(f"not a URL to send to: {url!r} (control characters)", setting="url")
        host = parts.host.lower().strip("[]")
        port = parts.port or (443 if scheme == "https" else 80)
        headers: list[tuple[str, str]] = [("Host", _host_header(host, port, scheme))]
        if parts.auth is not None:
            headers.append(("Authorization", _basic(parts.auth)))
        proxy = self.environment.proxy_for(scheme, parts.host, parts.port)
        if proxy is None:
            endpoint = Endpoint(host, port, *((self._tls_context(), host) if scheme == "https" else (None, None)))
            return _Route(target_url, self._pool((scheme, host, port), endpoint), clean.request_uri, tuple(headers))
        proxy_parts = parse_url(proxy if "://" in proxy else "http://" + proxy)
        proxy_scheme = (proxy_parts.scheme or "").lower()
        source = self.environment.proxy_sources.get(scheme) or self.environment.proxy_sources.get("all", "")
        if proxy_scheme not in ("http", "https") or not proxy_parts.host:
            raise ConfigurationError(f"proxy {proxy!r} (from {source}) for {target_url!r}: only http and https "
                                     "proxies are supported", setting=source)
        proxy_host = proxy_parts.host.lower().strip("[]")
        proxy_port = proxy_parts.port or (443 if proxy_scheme == "https" else 80)
        authorization = _basic(proxy_parts.auth) if proxy_parts.auth is not None else None
        proxy_tls = (self._tls_context(), proxy_host) if proxy_scheme == "https" else (None, None)
        if scheme == "http":  # asked of the proxy in absolute form, over one pool of proxy connections
            if authorization is not None:
                headers.append(("Proxy-Authorization", authorization))
            endpoint = Endpoint(proxy_host, proxy_port, *proxy_tls)
            return _Route(target_url, self._pool(("proxy", proxy_scheme, proxy_host, proxy_port), endpoint),
                          target_url, tuple(headers))
        if proxy_scheme == "https":
            raise ConfigurationError(f"proxy {proxy!r} (from {source}) for {target_url!r}: an https target through "
                                     "an https proxy (TLS inside TLS) is not supported; use an http proxy",
                                     setting=source)
        extra = f"Proxy-Authorization: {authorization}\r\n".encode("latin-1") if authorization else b""
        endpoint = Endpoint(proxy_host, proxy_port, tunnel=(host, port, self._tls_context(), extra))
        return _Route(target_url, self._pool(("tunnel", proxy_host, proxy_port, host, port), endpoint),
                      clean.request_uri, tuple(headers))

    def _pool(self, key: tuple[object, ...], endpoint: Endpoint) -> _Pool:
        """The connection pool of an origin, built once; the least recently routed origin's pool is
        closed when more than ``pools`` are kept."""
        evicted: list[_Pool] = []
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = _Pool(endpoint, self._maxsize)
                self._pools[key] = pool
                while len(self._pools) > self._num_pools:
                    evicted.append(self._pools.popitem(last=False)[1])
            else:
                self._pools.move_to_end(key)
        for old in evicted:  # a call under way on it finishes; its connection is closed, not pooled
            old.close()
        return pool

    def _tls_context(self) -> ssl.SSLContext:
        """The transport's one TLS context: certificates and host names verified, TLS 1.2 at least,
        the environment's CA store (or the system's)."""
        with self._lock:
            if self._tls is None:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.options |= ssl.OP_NO_COMPRESSION
                env = self.environment
                if env.ca_file or env.ca_dir:
                    context.load_verify_locations(cafile=env.ca_file, capath=env.ca_dir)
                else:
                    context.load_default_certs()
                self._tls = context
            return self._tls
