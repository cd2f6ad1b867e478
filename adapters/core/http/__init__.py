"""The HTTP seam of every adapter: one transport protocol, what it is given and what it returns.

:class:`HttpTransport` is the seam: ``request(...) -> HttpResult`` and ``close()``. The production
implementation, :class:`NetworkTransport`, sends over pooled keep-alive connections (the standard
library's sockets and TLS, httptools' answer parser) with the proxies and CA bundle of the
environment; :class:`InProcessTransport` hands each request to a function in
the same process (a simulator's router, for unit tests), as httpx's ``MockTransport`` does. Both
return an :class:`HttpResult` and raise the one error hierarchy. Every call is bounded in time (a
wall-clock deadline per attempt) and in memory (a byte limit on the answer). ``adapters.core.transport``'s
``SoapTransport`` (the adapters' entry point) sends through one of them.
"""

from __future__ import annotations

from adapters.core.http.body import StreamedBody, StreamedBodyError
from adapters.core.http.environment import NetworkEnvironment
from adapters.core.http.inprocess import InProcessApp, InProcessTransport
from adapters.core.http.network import NetworkTransport
from adapters.core.http.protocol import HttpTransport
from adapters.core.http.reader import DEFAULT_MAX_RESPONSE_BYTES
from adapters.core.http.request import OutgoingRequest
from adapters.core.http.result import HttpResult
from adapters.core.http.timeouts import Timeouts

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "HttpResult", "HttpTransport", "InProcessApp", "InProcessTransport",
           "NetworkEnvironment", "NetworkTransport", "OutgoingRequest", "StreamedBody", "StreamedBodyError",
           "Timeouts"]
