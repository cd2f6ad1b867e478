"""The one HTTP/SOAP transport of every adapter.

A :class:`SoapTransport` owns one ``requests.Session`` with a pooled connection adapter. Every
call has a timeout (connect and read); there is no way to make an unbounded call. Library
exceptions are translated at this boundary:

- connection refused, reset, remote closed without an answer, garbage instead of HTTP, read
  timeout, truncated body → :class:`TransportError` (retryable; ``kind`` says which);
- an HTTP error status → :class:`HttpStatusError`, but only when the caller asks for it
  (:meth:`HttpResult.raise_for_status`): a SOAP 1.1 Fault arrives with HTTP 500, and the SOAP
  pipeline (``adapters.core.soap``) must see its body first.

zeep uses the same session through :meth:`SoapTransport.zeep_transport` (for loading WSDLs or
calling plain services), so pooling, timeouts and error translation are shared.

A body too large to hold in memory (an attachment upload) is posted as a :class:`StreamedBody`:
chunks produced on demand with their total length declared up front, so the request carries an
exact ``Content-Length`` (the simulators' server, like many SOAP stacks, does not read chunked
bodies) and only one chunk at a time is in memory. Same session, timeouts and error translation;
a source that fails or produces a different length raises :class:`StreamedBodyError` instead of
leaving the server waiting.

The session is an :class:`EnvironmentSession`: it reads the environment (``HTTP_PROXY``,
``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, a netrc
file) ONCE, when it is built, instead of on every request as a plain ``requests.Session`` does
(that scan of ``os.environ`` cost ≈ 15 ms of CPU per licensing flow). The settings are honoured
exactly as requests honours them; a change to the environment after the session is built is not
seen (build a new transport).

Per request, :class:`SoapTransport` does not go through ``Session.request`` (whose merging of the
session's headers, params, cookies, hooks and environment cost ≈ 40 % of the client's CPU per
call): :meth:`EnvironmentSession.plan` works out once per URL what ``Session.request`` would work
out every time (the prepared URL, the credentials from netrc or the URL, the proxies/verify/cert
to send with), the request is prepared from that plan with requests' own ``PreparedRequest``
methods and sent through the mounted adapter's ``send`` (so ``responses`` and any other adapter
still see every request). Whatever the fast path does not reproduce (session cookies, auth,
params or hooks set by a caller, a session that is no :class:`EnvironmentSession`) goes through
``Session.request`` as before.
"""

from __future__ import annotations

import http.client
import os
import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import requests.cookies
import requests.utils
import urllib3.exceptions
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

from adapters.core.errors import ConfigurationError, HttpStatusError, TransportError, ValidationError

SOAP11_CONTENT_TYPE = "text/xml; charset=utf-8"


class EnvironmentSession(requests.Session):
    """A ``requests.Session`` whose environment settings are read once, at construction.

    ``trust_env`` is ``False`` (requests then reads nothing from the environment per request);
    what it would have read is captured here and merged the way requests merges it: the
    environment's proxies unless ``NO_PROXY`` (or the request's ``no_proxy``) bypasses the host
    (decided once per scheme and host), the CA bundle when the request does not name one, netrc
    credentials when a netrc file existed and the request has no auth.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.env_proxies: dict[str, str] = dict(urllib.request.getproxies())
        self.env_no_proxy: str | None = os.environ.get("no_proxy") or os.environ.get("NO_PROXY")
        self.env_ca_bundle: str | None = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self.env_netrc = any(os.path.exists(os.path.expanduser(p))
                             for p in (os.environ.get("NETRC") or "~/.netrc", "~/_netrc"))
        self._bypass: dict[tuple[str, str, str | None], bool] = {}
        self._plans: dict[tuple[str, str], SendPlan] = {}
        self._plans_for: tuple[Any, ...] | None = None
        self._base_snapshot: tuple[Any, ...] | None = None
        self._base_headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()

    def _proxies_for(self, scheme: str, netloc: str, no_proxy: str | None) -> dict[str, str]:
        key = (scheme, netloc, no_proxy)
        bypass = self._bypass.get(key)
        if bypass is None:
            bypass = bool(requests.utils.should_bypass_proxies(f"{scheme}://{netloc}/", no_proxy=no_proxy))
            if len(self._bypass) < 1024:
                self._bypass[key] = bypass
        return {} if bypass else self.env_proxies

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> Any:
        if self.env_proxies:
            parts = urllib.parse.urlsplit(url.decode() if isinstance(url, bytes) else str(url))
            no_proxy = (proxies or {}).get("no_proxy") or self.env_no_proxy
            if proxies is not None:
                for key, value in self._proxies_for(parts.scheme, parts.netloc, no_proxy).items():
                    proxies.setdefault(key, value)
        if self.env_ca_bundle and (verify is True or verify is None):
            verify = self.env_ca_bundle
        return super().merge_environment_settings(url, proxies, stream, verify, cert)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        if self.env_netrc and not request.auth and not self.auth:
            request.auth = requests.utils.get_netrc_auth(request.url)
        return super().prepare_request(request)


    # ------------------------------------------------------------------ the per-URL plan

    def fast_path_applies(self) -> bool:
        """Whether :meth:`plan` and :meth:`merged_headers` reproduce ``Session.request`` for this
        session now: no cookies, auth, params or response hooks were given to the session (the
        plan leaves them out; a cookie a server sets moves later calls back to the full path)."""
        return (self.auth is None and not self.params and not any(self.hooks.values())
                and len(self.cookies) == 0)

    def plan(self, method: str, url: str) -> SendPlan:
        """What ``Session.request`` would work out for ``url`` (see :class:`SendPlan`), once per
        method and URL while the session's proxies/verify/cert/stream stay as they are.

        Raises what ``Session.request`` raises for the URL (``MissingSchema``, ``InvalidURL``...).
        """
        settings = (tuple(self.proxies.items()), self.verify, self.cert, self.stream)
        if settings != self._plans_for:  # a caller changed the session: plan again
            self._plans = {}
            self._plans_for = settings
        key = (method, url)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._make_plan(method, url)
            if len(self._plans) < 1024:
                self._plans[key] = plan
        return plan

    def _make_plan(self, method: str, url: str) -> SendPlan:
        prep = requests.PreparedRequest()
        prep.prepare_method(method)
        prep.prepare_url(url, None)
        prepared_url = str(prep.url)
        # EnvironmentSession.prepare_request's netrc credentials, else those in the URL
        # (PreparedRequest.prepare_auth), as Session.request resolves them
        auth: Any = None
        if self.env_netrc:
            auth = requests.utils.get_netrc_auth(url)
        if not auth:
            url_auth = requests.utils.get_auth_from_url(prepared_url)
            auth = url_auth if any(url_auth) else None
        settings = self.merge_environment_settings(prepared_url, {}, None, None, None)
        return SendPlan(str(prep.method), prepared_url, auth, dict(settings))

    def merged_headers(self, headers: Mapping[str, str] | None) -> CaseInsensitiveDict[str]:
        """The session's headers overlaid with the request's, a ``None`` value removing one
        (``requests.sessions.merge_setting``), validated and prepared (``prepare_headers``).

        The session's own headers are validated once while they stay the same (a snapshot of
        them is compared on every call: zeep, for one, sets its User-Agent on the session).
        """
        snapshot = tuple(self.headers.items())
        if snapshot != self._base_snapshot:
            prep = requests.PreparedRequest()
            prep.prepare_headers({k: v for k, v in snapshot if v is not None})
            self._base_headers, self._base_snapshot = prep.headers, snapshot
        merged = self._base_headers.copy()
        for name, value in (headers or {}).items():
            if value is None:
                merged.pop(name, None)
            else:
                requests.utils.check_header_validity((name, value))
                merged[requests.utils.to_native_string(name)] = value  # type: ignore[no-untyped-call]
        return merged


@dataclass(frozen=True)
class SendPlan:
    """What ``Session.request`` works out for one method and URL before sending: the prepared
    method and URL (IDNA host, re-quoted path), the credentials (netrc, or user:password in the
    URL; ``None`` when there are none) and the keyword arguments of ``adapter.send`` (proxies,
    verify, cert, stream, merged from the session and the environment)."""

    method: str
    url: str
    auth: Any
    send_kwargs: dict[str, Any]


def new_session() -> requests.Session:
    """The session every adapter uses (see :class:`EnvironmentSession`)."""
    return EnvironmentSession()


@dataclass(frozen=True)
class Timeouts:
    """Per-call timeouts in seconds. Both are always set: requests has no default (issue 3070)."""

    connect: float = 5.0
    """TCP connect timeout."""
    read: float = 90.0
    """Time allowed between bytes of the answer (the regulation's 1.5 min step norm by default)."""

    def __post_init__(self) -> None:
        if self.connect <= 0 or self.read <= 0:
            raise ConfigurationError(f"timeouts must be positive, got connect={self.connect} read={self.read}")

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class HttpResult:
    """An HTTP answer whose body was read completely."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    elapsed: float = 0.0
    """Seconds from sending the request to the end of the headers (requests' ``elapsed``)."""

    @property
    def content_type(self) -> str:
        return str(self.headers.get("Content-Type", ""))

    def raise_for_status(self) -> HttpResult:
        if self.status >= 400:
            snippet = self.body[:200].decode("utf-8", "replace")
            raise HttpStatusError(self.status, f"HTTP {self.status} from {self.url}: {snippet}",
                                  url=self.url)
        return self


class StreamedBodyError(ValidationError):
    """A streamed request body could not be produced as declared (its source failed, or yielded more
    or fewer bytes than the declared length). Local, not a network failure: not retryable.

    ``field`` names the body (e.g. the attachment's file name).
    """

    retryable = False


@dataclass(frozen=True)
class StreamedBody:
    """A request body produced in chunks, with its exact length known before sending.

    ``source`` is called once per send (so a retry re-reads the data from the start) and yields
    ``bytes``-like chunks whose lengths add up to ``length``. requests sees ``__len__`` and sends
    ``Content-Length`` instead of chunked transfer encoding.
    """

    length: int
    """Total bytes the source yields."""
    source: Callable[[], Iterable[bytes]]
    name: str = "body"
    """What the body is (named in :class:`StreamedBodyError`)."""

    def __post_init__(self) -> None:
        if self.length < 0:
            raise ConfigurationError(f"streamed body {self.name!r}: negative length {self.length}")

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        try:
            for chunk in self.source():
                sent += len(chunk)
                if sent > self.length:
                    raise StreamedBodyError(self.name, f"the source yielded more than the declared "
                                                       f"{self.length} bytes")
                if chunk:
                    yield chunk
        except StreamedBodyError:
            raise
        except Exception as exc:  # the source's own failure (e.g. a file read), not the network's
            raise StreamedBodyError(self.name, f"the source failed after {sent} of {self.length} bytes: "
                                               f"{exc.__class__.__name__}: {exc}") from exc
        if sent != self.length:
            raise StreamedBodyError(self.name, f"the source yielded {sent} bytes, {self.length} were declared")


@dataclass(frozen=True)
class PoolConfig:
    """Connection pooling of the shared session."""

    connections: int = 10
    """Number of per-host pools kept."""
    maxsize: int = 20
    """Connections kept per host (concurrent calls to one host beyond this open and close)."""
    user_agent: str = "egov-adapters/0.1"
    extra_headers: Mapping[str, str] = field(default_factory=dict)


class PlannedAdapter(HTTPAdapter):
    """requests' ``HTTPAdapter`` remembering, per URL and send settings, the pool key and the
    request target it works out on every send (``select_proxy``, ``urlparse``, the TLS pool key
    attributes: pure functions of the URL, the proxies, ``verify`` and ``cert``). ``send`` itself
    is requests' own, so ``responses`` (which patches ``HTTPAdapter.send``) still intercepts it,
    and the pool is still looked up in urllib3's pool manager on every send."""

    _MAX_CACHED = 1024

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._targets: dict[tuple[Any, ...], str] = {}
        self._pool_keys: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    def request_url(self, request: requests.PreparedRequest, proxies: Mapping[str, str] | None) -> str:
        key = (request.url, tuple(proxies.items()) if proxies else ())
        target = self._targets.get(key)
        if target is None:
            target = super().request_url(request, proxies)
            if len(self._targets) < self._MAX_CACHED:
                self._targets[key] = target
        return target

    def get_connection_with_tls_context(self, request: requests.PreparedRequest, verify: Any,
                                        proxies: Mapping[str, str] | None = None, cert: Any = None) -> Any:
        try:
            key = (request.url, verify, cert, tuple(proxies.items()) if proxies else ())
            hash(key)
        except TypeError:  # an unhashable cert/verify: nothing to remember
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        cached = self._pool_keys.get(key)
        if cached is None:
            if requests.utils.select_proxy(str(request.url), proxies):
                # through a proxy manager: requests' own path, every time
                return super().get_connection_with_tls_context(request, verify, proxies, cert)
            try:
                cached = self.build_connection_pool_key_attributes(request, verify, cert)
            except ValueError as exc:
                raise requests.exceptions.InvalidURL(exc, request=request) from exc
            if len(self._pool_keys) < self._MAX_CACHED:
                self._pool_keys[key] = cached
        host_params, pool_kwargs = cached
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)


class SoapTransport:
    """Pooled HTTP with mandatory timeouts and exception translation. Thread-safe for calls."""

    def __init__(self, *, timeouts: Timeouts | None = None, pool: PoolConfig | None = None,
                 session: requests.Session | None = None) -> None:
        self.timeouts = timeouts or Timeouts()
        self._pool = pool or PoolConfig()
        self.session = session or new_session()
        adapter = PlannedAdapter(pool_connections=self._pool.connections, pool_maxsize=self._pool.maxsize,
                              max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = self._pool.user_agent
        self.session.headers.update(dict(self._pool.extra_headers))

    # ------------------------------------------------------------------ calls

    def post(self, url: str, body: bytes | StreamedBody, *, soap_action: str | None = None,
             headers: Mapping[str, str] | None = None, timeout: Timeouts | float | None = None,
             raise_for_status: bool = False) -> HttpResult:
        """POST a SOAP 1.1 envelope (or any body; a :class:`StreamedBody` is sent chunk by chunk)
        and read the whole answer."""
        hdrs = {"Content-Type": SOAP11_CONTENT_TYPE}
        if soap_action is not None:
            hdrs["SOAPAction"] = f'"{soap_action}"'
        if headers:
            hdrs.update(headers)
        return self.request("POST", url, body=body, headers=hdrs, timeout=timeout,
                            raise_for_status=raise_for_status)

    def get(self, url: str, *, headers: Mapping[str, str] | None = None,
            timeout: Timeouts | float | None = None, raise_for_status: bool = True) -> HttpResult:
        return self.request("GET", url, headers=headers, timeout=timeout, raise_for_status=raise_for_status)

    def request(self, method: str, url: str, *, body: bytes | StreamedBody | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeouts | float | None = None,
                raise_for_status: bool = False) -> HttpResult:
        to = self._timeout(timeout)
        data: bytes | StreamedBody | None = body
        if isinstance(body, StreamedBody) and body.length == 0:
            data = b"".join(body)  # requests would send an empty iterable chunked; checks the source too
        session = self.session
        try:
            # StreamedBodyError (a source failure) is no requests/urllib3/OS exception: it passes
            # through untranslated, and urllib3 drops the half-written connection
            if isinstance(session, EnvironmentSession) and session.fast_path_applies():
                resp, elapsed = self._send_planned(session, method, url, data, headers, to)
            else:
                resp = session.request(method, url, data=data, headers=dict(headers or {}), timeout=to,
                                       allow_redirects=False)
                elapsed = resp.elapsed.total_seconds()
            content = resp.content  # reads the whole body; truncation surfaces here
        except requests.exceptions.RequestException as exc:
            raise translate_exception(exc, url) from exc
        except (http.client.HTTPException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise translate_exception(exc, url) from exc
        result = HttpResult(resp.status_code, dict(resp.headers), content, url, elapsed)
        return result.raise_for_status() if raise_for_status else result

    @staticmethod
    def _send_planned(session: EnvironmentSession, method: str, url: str, data: bytes | StreamedBody | None,
                      headers: Mapping[str, str] | None,
                      timeout: tuple[float, float]) -> tuple[requests.Response, float]:
        """``Session.request(..., allow_redirects=False)`` from the session's cached plan: the same
        ``PreparedRequest`` (built with requests' own ``prepare_*`` methods, in ``prepare``'s order),
        sent through the mounted adapter's ``send`` with the same arguments; a cookie in the answer
        is stored in the session's jar as ``Session.send`` stores it."""
        plan = session.plan(method, url)
        prep = requests.PreparedRequest()
        prep.method = plan.method
        prep.url = plan.url
        prep.headers = session.merged_headers(headers)
        prep.prepare_body(data or None, None)
        if plan.auth is not None:
            prep.prepare_auth(plan.auth, plan.url)
        adapter: BaseAdapter = session.get_adapter(plan.url)
        start = time.perf_counter()
        resp = adapter.send(prep, timeout=timeout, **plan.send_kwargs)
        elapsed = time.perf_counter() - start
        if "set-cookie" in resp.headers or "set-cookie2" in resp.headers:
            requests.cookies.extract_cookies_to_jar(session.cookies, prep, resp.raw)  # type: ignore[no-untyped-call]
        return resp, elapsed

    # ------------------------------------------------------------------ zeep

    def zeep_transport(self, *, timeout: Timeouts | None = None) -> Any:
        """A zeep ``Transport`` on the same session (pool, headers), with our timeouts.

        zeep's own ``load`` only reads local files when given a path; for URLs it uses this
        session, so a WSDL fetched over HTTP gets the same timeouts.
        """
        from zeep.transports import Transport

        to = timeout or self.timeouts
        return Transport(session=self.session, timeout=to.connect + to.read,  # type: ignore[no-untyped-call]
                         operation_timeout=to.read)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SoapTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _timeout(self, timeout: Timeouts | float | None) -> tuple[float, float]:
        if timeout is None:
            return self.timeouts.as_tuple()
        if isinstance(timeout, Timeouts):
            return timeout.as_tuple()
        if timeout <= 0:
            raise ConfigurationError(f"timeout must be positive, got {timeout}")
        return (min(self.timeouts.connect, timeout), float(timeout))


def _root_cause(exc: BaseException) -> BaseException:
    """Walk ``__context__``/wrapped reasons to the innermost socket or protocol error."""
    seen: set[int] = set()
    cur: BaseException = exc
    while id(cur) not in seen:
        seen.add(id(cur))
        nxt: BaseException | None = None
        args = getattr(cur, "args", ())
        for a in args:
            if isinstance(a, BaseException):
                nxt = a
                break
        if nxt is None:
            reason = getattr(cur, "reason", None)
            nxt = reason if isinstance(reason, BaseException) else cur.__context__
        if nxt is None:
            break
        cur = nxt
    return cur


def translate_exception(exc: BaseException, url: str) -> TransportError:
    """Map a requests/urllib3/socket exception to a :class:`TransportError` with a ``kind``."""
    root = _root_cause(exc)
    kind = "connection"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        kind = "connect-timeout"
    elif isinstance(exc, requests.exceptions.ReadTimeout | socket.timeout | TimeoutError):
        kind = "read-timeout"
    elif isinstance(exc, requests.exceptions.ChunkedEncodingError) or isinstance(
            root, http.client.IncompleteRead | urllib3.exceptions.IncompleteRead):
        kind = "truncated"
    elif isinstance(root, ConnectionRefusedError):
        kind = "refused"
    elif isinstance(root, ConnectionResetError | BrokenPipeError):
        kind = "reset"
    elif isinstance(root, http.client.RemoteDisconnected):
        kind = "empty"
    elif isinstance(root, http.client.BadStatusLine | http.client.LineTooLong):
        kind = "garbage"
    elif isinstance(exc, requests.exceptions.Timeout):
        kind = "timeout"
    return TransportError(f"{kind}: {url}: {root.__class__.__name__}: {root}", kind=kind, url=url)
