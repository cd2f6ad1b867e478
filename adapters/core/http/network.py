"""The production transport: HTTP/1.1 over pooled keep-alive connections, on urllib3's public API.

- Direct connections: one ``urllib3.HTTPConnectionPool`` per host, at most ``pools`` of them (the
  least recently routed is closed when another host needs one). Through a proxy of the
  environment: a ``urllib3.ProxyManager`` per proxy. Each is built when first needed; per host at
  most ``maxsize`` idle connections are kept (concurrent calls beyond that open extra connections,
  closed after use).
- A URL is worked out once (its route: credentials, and the host's pool with the request target,
  or the proxy's manager), so that a direct call goes straight to its pool's ``urlopen``: a
  ``PoolManager``'s per-call work (parsing the URL again, its pool key, the retry policy) was
  ≈ 10 % of the transport's CPU per request in a cProfile. A pool closed since (another host took
  its place, or :meth:`NetworkTransport.close`) refuses before sending anything; the URL is then
  routed again.
- For https, one ``ssl.SSLContext`` per transport, built at the first https call (loading a CA
  store costs tens of milliseconds) from the CA file and directory fixed when the transport was
  built; certificates and host names are verified.
- Every call has a connect and a read timeout (``urllib3.Timeout``), and a wall-clock deadline
  (``Timeouts.total``) that no server behaviour stretches: the connection of an exchange still under
  way at its deadline is shut down (:mod:`adapters.core.http.deadline`) and the call fails with
  :class:`~adapters.core.errors.ExchangeTimeoutError` (``kind`` ``deadline``). urllib3 retries nothing
  (``retries=False``) and follows no redirect (a 3xx is returned): whether to try again is the
  resilience layer's decision, which knows if a call is idempotent.
- A :class:`StreamedBody` is sent with its declared ``Content-Length``, one chunk at a time.
- An answer is read within a byte limit (``max_response_bytes``, or the call's ``max_bytes``):
  a ``Content-Length`` over it is refused before the body is read, a body that grows past it is
  cut off there (:mod:`adapters.core.http.reader`); either is a
  :class:`~adapters.core.errors.ResponseTooLargeError` and the connection is dropped, not drained.
- The environment (proxies, ``NO_PROXY``, the CA bundle: :mod:`adapters.core.http.environment`) is
  read once, when the transport is built.
- ``user:password@`` in a URL is sent as Basic ``Authorization`` (never in the request line).
- Network failures raise :class:`~adapters.core.errors.TransportError` with a ``kind``
  (:mod:`adapters.core.http.failures`); a URL that cannot be sent to (no http/https scheme, no host,
  a proxy scheme urllib3 does not speak) is a :class:`~adapters.core.errors.ConfigurationError`;
  a :class:`StreamedBodyError` from a body's source passes through, and the half-sent connection is
  dropped, not reused.
"""

from __future__ import annotations

import ssl
import threading
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ClosedPoolError, LocationValueError
from urllib3.util import create_urllib3_context, make_headers, parse_url

from adapters.core.errors import ConfigurationError, ExchangeTimeoutError
from adapters.core.http.body import StreamedBody
from adapters.core.http.deadline import Watch, Watchdog, attach_current, watching
from adapters.core.http.environment import NetworkEnvironment
from adapters.core.http.failures import NETWORK_ERRORS, translate_exception
from adapters.core.http.reader import DEFAULT_MAX_RESPONSE_BYTES, positive_limit, read_limited
from adapters.core.http.result import HttpResult
from adapters.core.http.timeouts import Timeouts

_MAX_ROUTES = 1024
"""URLs whose route is remembered (beyond that, a route is worked out per call)."""

WATCHDOG = Watchdog()
"""Cuts the connections of exchanges past their deadline: one thread for the process, started by
the first call."""


class _WatchedHTTPConnection(HTTPConnection):
    """urllib3's connection, attached to the deadline of the exchange using it (connect and every request)."""

    def connect(self) -> None:
        attach_current(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        attach_current(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    """As :class:`_WatchedHTTPConnection`, over TLS (the TLS handshake is cut at the deadline too)."""

    def connect(self) -> None:
        attach_current(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        attach_current(self)
        super().request(*args, **kwargs)


class _WatchedHTTPConnectionPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_NO_RETRIES = urllib3.Retry(total=False, redirect=False)
"""What ``retries=False`` means to urllib3, made once (a ``Retry`` is immutable)."""

_POOL_CLASSES: dict[str, type[urllib3.HTTPConnectionPool]] = {
    "http": _WatchedHTTPConnectionPool, "https": _WatchedHTTPSConnectionPool}
"""The pools of the transport: its own, per host, and those its proxy managers build (urllib3's
``pool_classes_by_scheme``)."""


def _deadline_error(url: str, watch: Watch) -> ExchangeTimeoutError:
    return ExchangeTimeoutError(f"deadline: {url}: the exchange did not finish within {watch.seconds:g} s",
                                kind="deadline", url=url, deadline_seconds=watch.seconds)


@dataclass(frozen=True, slots=True)
class _Route:
    """How to send to one URL: the URL without credentials, the credentials, and either the host's
    pool with the request target (path and query) or the proxy's manager."""

    url: str
    authorization: str | None
    sender: urllib3.HTTPConnectionPool | urllib3.ProxyManager
    target: str

    def open(self, method: str, body: bytes | StreamedBody | None, headers: dict[str, str],
             timeout: urllib3.Timeout) -> urllib3.BaseHTTPResponse:
        """Send the request and read the answer's head (the body is left to read)."""
        if isinstance(self.sender, urllib3.HTTPConnectionPool):
            return self.sender.urlopen(method, self.target, body=body, headers=headers, timeout=timeout,
                                       retries=_NO_RETRIES, redirect=False, assert_same_host=False,
                                       preload_content=False, release_conn=False)
        return self.sender.urlopen(method, self.url, body=body, headers=headers, timeout=timeout,
                                   retries=_NO_RETRIES, redirect=False, preload_content=False)


def _without_credentials(url: str) -> tuple[str, str | None]:
    """``url`` without ``user:password@``, and the Basic authorization they make (or ``None``)."""
    parts = parse_url(url)
    if parts.auth is None:
        return url, None
    user, _, password = parts.auth.partition(":")
    credentials = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
    return parts._replace(auth=None).url, make_headers(basic_auth=credentials)["authorization"]


class NetworkTransport:
    """Pooled HTTP over the network (see the module docstring). Safe for concurrent calls.

    ``pools``: hosts whose connections are kept; ``maxsize``: idle connections kept per host;
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
        self._options: dict[str, Any] = {"maxsize": maxsize, "block": False, "retries": False,
                                         "timeout": urllib3.Timeout(connect=self.timeouts.connect,
                                                                    read=self.timeouts.read)}
        self._lock = threading.Lock()
        self._pools: OrderedDict[tuple[str, str, int], urllib3.HTTPConnectionPool] = OrderedDict()
        self._managers: dict[tuple[str, bool], urllib3.ProxyManager] = {}
        self._tls: ssl.SSLContext | None = None
        self._routes: dict[str, _Route] = {}
        self._timeouts: dict[Timeouts, urllib3.Timeout] = {}

    def request(self, method: str, url: str, *, body: bytes | StreamedBody | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeouts | float | None = None,
                raise_for_status: bool = False, max_bytes: int | None = None) -> HttpResult:
        """Send and read the whole answer (the contract of :class:`~adapters.core.http.HttpTransport`)."""
        route = self._route(url)
        call = self.timeouts.for_call(timeout)
        limit = self.max_response_bytes if max_bytes is None else positive_limit(max_bytes)
        sent_headers = dict(headers) if headers else {}
        if route.authorization is not None:
            sent_headers["Authorization"] = route.authorization
        if isinstance(body, StreamedBody):
            sent_headers["Content-Length"] = str(body.length)
        watch = WATCHDOG.start(call.total)
        response: urllib3.BaseHTTPResponse | None = None
        try:
            with watching(watch):
                start = time.perf_counter()
                try:
                    response = route.open(method, body, sent_headers, self._timeout(call))
                except ClosedPoolError:  # refused before sending: the host's pool was closed since
                    route = self._route(url, fresh=True)
                    response = route.open(method, body, sent_headers, self._timeout(call))
                elapsed = time.perf_counter() - start
                content = read_limited(response, limit=limit, url=route.url)
        except BaseException as exc:
            fired = WATCHDOG.finished(watch)
            _drop(response)
            if isinstance(exc, Exception) and (fired or not watch.remaining()):
                raise _deadline_error(route.url, watch) from exc
            if isinstance(exc, NETWORK_ERRORS):
                raise translate_exception(exc, route.url, answer_started=response is not None) from exc
            raise
        if WATCHDOG.finished(watch):  # cut at the deadline: what was read may be only part of the answer
            _drop(response)
            raise _deadline_error(route.url, watch)
        response.release_conn()
        result = HttpResult(response.status, response.headers, content, url, elapsed)
        return result.raise_for_status() if raise_for_status else result

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            managers = list(self._managers.values())
            pools = list(self._pools.values())
            self._pools.clear()
            self._routes.clear()
        for manager in managers:
            manager.clear()
        for pool in pools:
            pool.close()

    def _timeout(self, call: Timeouts) -> urllib3.Timeout:
        found = self._timeouts.get(call)
        if found is None:
            found = urllib3.Timeout(connect=min(call.connect, call.total), read=call.read)
            if len(self._timeouts) < _MAX_ROUTES:
                self._timeouts[call] = found
        return found

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
        target, authorization = _without_credentials(url)
        proxy = self.environment.proxy_for(scheme, parts.host, parts.port)
        proxy_scheme = parse_url(proxy).scheme if proxy is not None else None
        if proxy_scheme not in (None, "http", "https"):
            source = self.environment.proxy_sources.get(scheme) or self.environment.proxy_sources.get("all", "")
            raise ConfigurationError(f"proxy {proxy!r} (from {source}) for {target!r}: only http and https "
                                     "proxies are supported", setting=source)
        if proxy is not None:
            return _Route(target, authorization, self._manager(proxy, "https" in (scheme, proxy_scheme)), target)
        port = parts.port or (443 if scheme == "https" else 80)
        return _Route(target, authorization, self._pool(scheme, parts.host.lower(), port),
                      parse_url(target).request_uri)

    def _pool(self, scheme: str, host: str, port: int) -> urllib3.HTTPConnectionPool:
        """The connection pool of a host for direct connections, built once; the least recently
        routed host's pool is closed when more than ``pools`` are kept."""
        key = (scheme, host, port)
        evicted: list[urllib3.HTTPConnectionPool] = []
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                options = dict(self._options)
                if scheme == "https":
                    options["ssl_context"] = self._tls_context()
                pool = _POOL_CLASSES[scheme](host, port, **options)
                self._pools[key] = pool
                while len(self._pools) > self._num_pools:
                    evicted.append(self._pools.popitem(last=False)[1])
            else:
                self._pools.move_to_end(key)
        for old in evicted:  # a call under way on it finishes; its connection is closed, not pooled
            old.close()
        return pool

    def _manager(self, proxy: str, tls: bool) -> urllib3.ProxyManager:
        """The pool manager for connections through ``proxy``, with the TLS context when a connection
        of it uses TLS; built once."""
        key = (proxy, tls)
        with self._lock:
            manager = self._managers.get(key)
            if manager is None:
                options = dict(self._options, num_pools=self._num_pools)
                if tls:
                    options["ssl_context"] = self._tls_context()
                proxy_url, authorization = _without_credentials(proxy)
                headers = {"Proxy-Authorization": authorization} if authorization else None
                manager = urllib3.ProxyManager(proxy_url, proxy_headers=headers,
                                               proxy_ssl_context=options.get("ssl_context"), **options)
                manager.pool_classes_by_scheme = _POOL_CLASSES
                self._managers[key] = manager
            return manager

    def _tls_context(self) -> ssl.SSLContext:
        """The transport's one TLS context: certificates required, the environment's CA store (under
        ``self._lock``)."""
        if self._tls is None:
            context = create_urllib3_context()
            env = self.environment
            if env.ca_file or env.ca_dir:
                context.load_verify_locations(cafile=env.ca_file, capath=env.ca_dir)
            self._tls = context
        return self._tls


def _drop(response: urllib3.BaseHTTPResponse | None) -> None:
    """Close the connection of an answer not read to its end (never drained), and free its pool slot."""
    if response is not None:
        response.close()
        response.release_conn()
