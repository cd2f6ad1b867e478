"""A transport that calls a function instead of the network (unit tests of the client side).

The function (an :data:`InProcessApp`) gets the :class:`OutgoingRequest` and returns the answer as an
:class:`~adapters.core.http.result.HttpResult`, or raises a :class:`~adapters.core.errors.TransportError`
for what a socket would do (reset, timeout). ``simulators.common.inprocess.router_app`` turns a
simulator's router into one, so a client can be tested against a real simulator without a socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from adapters.core.http.body import StreamedBody
from adapters.core.http.reader import DEFAULT_MAX_RESPONSE_BYTES, positive_limit, too_large
from adapters.core.http.request import OutgoingRequest
from adapters.core.http.result import HttpResult
from adapters.core.http.timeouts import Timeouts

InProcessApp = Callable[[OutgoingRequest], HttpResult]
"""Answers one request, in the calling thread."""


class InProcessTransport:
    """Sends every request to ``app``; records nothing, shares nothing between calls.

    The byte limit of answers is kept as over the network (an answer over it is a
    :class:`~adapters.core.errors.ResponseTooLargeError`); the deadline is not: the app runs in the
    calling thread, and nothing can cut it short.
    """

    def __init__(self, app: InProcessApp, *, timeouts: Timeouts | None = None,
                 max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES) -> None:
        self.app = app
        self.timeouts = timeouts or Timeouts()
        self.max_response_bytes = positive_limit(max_response_bytes)

    def request(self, method: str, url: str, *, body: bytes | StreamedBody | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeouts | float | None = None,
                raise_for_status: bool = False, max_bytes: int | None = None) -> HttpResult:
        self.timeouts.for_call(timeout)  # refused as the network transport refuses it
        limit = self.max_response_bytes if max_bytes is None else positive_limit(max_bytes)
        data = b"".join(body) if isinstance(body, StreamedBody) else (body or b"")
        start = time.perf_counter()
        result = self.app(OutgoingRequest(method.upper(), url, dict(headers or {}), data))
        if len(result.body) > limit:
            raise too_large(result.url or url, limit, received=len(result.body))
        if not result.elapsed:
            result = HttpResult(result.status, result.headers, result.body, result.url or url,
                                time.perf_counter() - start)
        return result.raise_for_status() if raise_for_status else result

    def close(self) -> None:
        """Nothing to release."""
