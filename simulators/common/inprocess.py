"""A simulator's router as the adapters' in-process app: the same handlers, no socket, no thread.

:func:`router_app` gives an :data:`~adapters.core.http.InProcessApp` for
:class:`~adapters.core.http.InProcessTransport`, so a client can be tested against a real simulator
in the calling thread:

- the :class:`~adapters.core.http.OutgoingRequest` becomes a :class:`Request` (path and query from
  the URL, a ``Host`` header from it when the client set none, as the network would add one);
- a method the socket server does not serve is answered 501 and a body over ``MAX_BODY_BYTES``
  413, as over the network;
- a :class:`Response` becomes an :class:`~adapters.core.transport.HttpResult` (its headers plus
  ``Content-Length``; no body for HEAD);
- a :class:`WireFault` becomes the :class:`~adapters.core.errors.TransportError` the network
  transport raises for it: ``reset``, ``empty``, ``garbage`` and ``truncated`` keep their names as
  the error's ``kind``; ``drip`` delivers the whole answer at once (nothing here measures the time
  between bytes).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from adapters.core.errors import TransportError
from adapters.core.http import HttpResult, InProcessApp, OutgoingRequest
from simulators.common.headers import Headers
from simulators.common.limits import MAX_BODY_BYTES, METHODS
from simulators.common.messages import Request, Response
from simulators.common.router import Router
from simulators.common.wire_fault import WireFault

CLIENT = "127.0.0.1"
"""The client address handlers see."""


def router_app(router: Router) -> InProcessApp:
    """``router``'s handlers answering :class:`OutgoingRequest` values directly."""

    def app(outgoing: OutgoingRequest) -> HttpResult:
        url = urlsplit(outgoing.url)
        headers = Headers(outgoing.headers)
        if "Host" not in headers and url.netloc:
            headers["Host"] = url.netloc
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        if outgoing.method not in METHODS:
            outcome: Response | WireFault = Response.text(f"Unsupported method ({outgoing.method!r})", 501)
        elif len(outgoing.body) > MAX_BODY_BYTES:
            outcome = Response.text("request body too large", 413)
        else:
            outcome = router.dispatch(Request.from_target(outgoing.method, target, headers, outgoing.body, CLIENT))
        if isinstance(outcome, WireFault):
            if outcome.kind != "drip":
                raise TransportError(f"{outcome.kind}: {outgoing.url}: injected {outcome.kind} (in process)",
                                     kind=outcome.kind, url=outgoing.url)
            outcome = Response(outcome.status, outcome.body, {"Content-Type": outcome.content_type})
        body = b"" if outgoing.method == "HEAD" else outcome.body
        return HttpResult(outcome.status, {**outcome.headers, "Content-Length": str(len(outcome.body))}, body,
                          outgoing.url)

    return app
