"""Forwarding one request to the proxy's target, and its answer back, as faithfully as HTTP/1.1 allows.

Hop-by-hop headers (RFC 9110 section 7.6.1) and the framing headers are not copied: the runner frames
the answer again (``Content-Length``). ``Host`` is the target's. A target that cannot be reached is
a ``502 Bad Gateway`` naming why, as a reverse proxy answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from adapters.core.errors import ConfigurationError, EgovError
from adapters.core.http import HttpResult, NetworkTransport, Timeouts
from simulators.common.messages import Request, Response

__all__ = ["HOP_BY_HOP", "Upstream"]

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"})

MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""Largest answer forwarded (the gateway's answers may carry 30 MB of attachments, base64)."""


def _copied(headers: Mapping[str, str]) -> dict[str, str]:
    connection = {h.strip().lower() for h in str(headers.get("Connection", headers.get("connection", ""))).split(",")}
    return {k: str(v) for k, v in headers.items() if k.lower() not in HOP_BY_HOP and k.lower() not in connection}


class Upstream:
    """The target behind the proxy: a base URL (``http://host:port[/prefix]``) and a pooled transport."""

    def __init__(self, target: str, *, timeout: float = 120.0, transport: NetworkTransport | None = None) -> None:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"proxy target {target!r}: expected http(s)://host[:port][/path]",
                                     setting="target")
        if timeout <= 0:
            raise ConfigurationError(f"proxy target timeout must be positive, got {timeout}", setting="timeout")
        self.base = target.rstrip("/")
        self.timeout = timeout
        self._transport = transport or NetworkTransport(timeouts=Timeouts(read=timeout, total=timeout),
                                                        max_response_bytes=MAX_ANSWER_BYTES)

    def url_for(self, request: Request) -> str:
        query = urlencode(request.query, doseq=True)
        return f"{self.base}{request.path}{'?' + query if query else ''}"

    def forward(self, request: Request) -> tuple[Response, bool]:
        """The target's answer to ``request`` and True; a 502 and False when the target did not answer."""
        url = self.url_for(request)
        try:
            result: HttpResult = self._transport.request(
                request.method, url, body=request.body if request.body or request.method not in ("GET", "HEAD")
                else None, headers=_copied(request.headers), timeout=self.timeout)
        except EgovError as exc:
            return Response.text(f"fault proxy: the target {self.base} did not answer: {exc}", 502), False
        return Response(result.status, result.body, _copied(result.headers)), True

    def close(self) -> None:
        self._transport.close()
