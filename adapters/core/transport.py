"""The one HTTP/SOAP transport of every adapter.

A :class:`SoapTransport` is what an adapter client is given: it adds the SOAP 1.1 headers
(``Content-Type``, ``SOAPAction``), the User-Agent and any extra headers of its :class:`PoolConfig`,
and sends through an :class:`~adapters.core.http.HttpTransport`: by default a
:class:`~adapters.core.http.NetworkTransport` (pooled keep-alive connections, connect and read
timeouts on every call, no retries or redirects inside, the environment's proxies and CA bundle
read once); in unit tests an :class:`~adapters.core.http.InProcessTransport`, so any client can run
against a simulator's router without a socket.

Failures come out as the seam's contract says (:class:`~adapters.core.http.HttpTransport`):

- connection refused, reset, remote closed without an answer, garbage instead of HTTP, timeouts,
  truncated body → :class:`TransportError` (retryable; ``kind`` says which);
- an HTTP error status → :class:`HttpStatusError`, but only when the caller asks for it
  (``raise_for_status``): a SOAP 1.1 Fault arrives with HTTP 500, and the SOAP pipeline
  (``adapters.core.soap``) must see its body first.

A body too large to hold in memory (an attachment upload) is posted as a :class:`StreamedBody`.

Bounds of every call: the :class:`Timeouts` (connect, read, and the wall-clock deadline of the
attempt, past which :class:`ExchangeTimeoutError` is raised whatever the server does) and a byte
limit on the answer (``max_response_bytes``, or a call's own ``max_bytes`` for an operation whose
answers carry attachments; over it, :class:`ResponseTooLargeError`, with at most the limit read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from adapters.core.http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    HttpResult,
    HttpTransport,
    NetworkTransport,
    StreamedBody,
    Timeouts,
)

SOAP11_CONTENT_TYPE = "text/xml; charset=utf-8"

__all__ = ["SOAP11_CONTENT_TYPE", "PoolConfig", "SoapTransport"]


@dataclass(frozen=True)
class PoolConfig:
    """Connection pooling of the default network transport, and the headers sent on every call."""

    connections: int = 10
    """Number of per-host pools kept."""
    maxsize: int = 20
    """Connections kept per host (concurrent calls to one host beyond this open and close)."""
    user_agent: str = "egov-adapters/0.1"
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    """Sent on every call (a call's own headers win, names compared case-insensitively)."""


def _merge_headers(base: Mapping[str, str], extra: Mapping[str, str] | None) -> dict[str, str]:
    """``base`` overlaid with ``extra``; a name of ``extra`` replaces the same name of ``base`` in any
    case, and is sent as ``extra`` spells it."""
    merged = dict(base)
    if extra:
        for name, value in extra.items():
            if name not in merged:
                lower = name.lower()
                for other in [k for k in merged if k.lower() == lower]:
                    del merged[other]
            merged[name] = value
    return merged


class SoapTransport:
    """The adapters' transport: SOAP headers on top of an :class:`HttpTransport`. Thread-safe for calls.

    ``timeouts`` apply when a call gives none, ``max_response_bytes`` when a call gives no
    ``max_bytes``. ``http`` is the transport to send through; without one, a
    :class:`NetworkTransport` is built from ``pool`` (and closed by :meth:`close`); a given one is
    the caller's to close.
    """

    def __init__(self, *, timeouts: Timeouts | None = None, pool: PoolConfig | None = None,
                 http: HttpTransport | None = None, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> None:
        self.timeouts = timeouts or Timeouts()
        self.max_response_bytes = max_response_bytes
        self._pool = pool or PoolConfig()
        self._own_http = http is None
        self.http: HttpTransport = http or NetworkTransport(timeouts=self.timeouts, pools=self._pool.connections,
                                                            maxsize=self._pool.maxsize,
                                                            max_response_bytes=max_response_bytes)
        self._headers = _merge_headers({"User-Agent": self._pool.user_agent}, self._pool.extra_headers)

    # ------------------------------------------------------------------ calls

    def post(self, url: str, body: bytes | StreamedBody, *, soap_action: str | None = None,
             headers: Mapping[str, str] | None = None, timeout: Timeouts | float | None = None,
             raise_for_status: bool = False, max_bytes: int | None = None) -> HttpResult:
        """POST a SOAP 1.1 envelope (or any body; a :class:`StreamedBody` is sent chunk by chunk)
        and read the whole answer."""
        hdrs = {"Content-Type": SOAP11_CONTENT_TYPE}
        if soap_action is not None:
            hdrs["SOAPAction"] = f'"{soap_action}"'
        return self.request("POST", url, body=body, headers=_merge_headers(hdrs, headers), timeout=timeout,
                            raise_for_status=raise_for_status, max_bytes=max_bytes)

    def get(self, url: str, *, headers: Mapping[str, str] | None = None,
            timeout: Timeouts | float | None = None, raise_for_status: bool = True,
            max_bytes: int | None = None) -> HttpResult:
        return self.request("GET", url, headers=headers, timeout=timeout, raise_for_status=raise_for_status,
                            max_bytes=max_bytes)

    def request(self, method: str, url: str, *, body: bytes | StreamedBody | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeouts | float | None = None,
                raise_for_status: bool = False, max_bytes: int | None = None) -> HttpResult:
        """Send through the HTTP transport with this transport's headers, timeouts and byte limit."""
        return self.http.request(method, url, body=body, headers=_merge_headers(self._headers, headers),
                                 timeout=self.timeouts.for_call(timeout), raise_for_status=raise_for_status,
                                 max_bytes=self.max_response_bytes if max_bytes is None else max_bytes)

    def close(self) -> None:
        """Close the network transport this transport built (a given one stays open)."""
        if self._own_http:
            self.http.close()

    def __enter__(self) -> SoapTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
