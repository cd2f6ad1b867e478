"""A simulator's router as an ASGI 3 application, to run any simulator under uvicorn (or any ASGI
server) instead of :class:`~simulators.common.httpserver.SimServer`.

``asgi_app(router)`` answers three scope types:

- ``http``: the body is read whole (``Content-Length`` over ``MAX_BODY_BYTES`` → 413 before the
  server's ``100 Continue``; a body that grows past it → 413; a method not in ``METHODS`` → 501),
  the handler runs in the event loop's default executor (handlers block: CPU-bound work, fault
  delays; the executor's size bounds how many run at once), and its :class:`Response` is sent
  with a ``Content-Length``. ``Server`` and ``Date`` are the server's.
  A client that disconnects before its body is read gets no answer.
- ``lifespan``: startup and shutdown are acknowledged; there is nothing to set up.
- ``websocket``: refused (closed before the handshake is accepted); no simulator speaks it yet.

Wire faults. ASGI gives an application no socket, and a server that sees an application end
without starting an answer sends a 500 of its own (uvicorn does, and logs "ASGI callable returned
without starting response"). Each :class:`WireFault` kind therefore becomes the closest thing an
application can do, checked with uvicorn's h11 protocol:

- ``truncated``: as on a socket: the head announcing the whole body, half the body, then the
  application ends without finishing the answer and the server closes the connection (uvicorn logs
  "ASGI callable returned without completing response"). The client sees a truncated answer.
- ``drip``: as on a socket: the head, then the body ``chunk`` bytes at a time with ``interval``
  seconds between chunks (the event loop sleeps, no thread waits), ``Connection: close``.
- ``reset``, ``empty``, ``garbage``: not playable (no RST, no silent close, no bytes outside
  HTTP). Each becomes the head of an answer whose announced body never comes, then the close: the
  client sees a broken exchange (a truncated answer, a retryable transport error), never an HTTP
  status, which is what the three kinds have in common for a client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from simulators.common.headers import Headers
from simulators.common.limits import MAX_BODY_BYTES, METHODS
from simulators.common.messages import Request, Response
from simulators.common.router import Router
from simulators.common.wire_fault import WireFault

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def asgi_app(router: Router) -> ASGIApp:
    """An ASGI 3 application serving ``router``'s handlers."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await _http(router, scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)
        elif kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1000})
        else:
            raise ValueError(f"unsupported ASGI scope type {kind!r}")

    return app


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _http(router: Router, scope: Scope, receive: Receive, send: Send) -> None:
    headers = Headers.from_pairs([(name.decode("latin-1"), value.decode("latin-1"))
                                  for name, value in scope["headers"]])
    method: str = scope["method"]
    if method not in METHODS:
        await _answer(send, Response.text(f"Unsupported method ({method!r})", 501))
        return
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        await _answer(send, Response.text("request body too large", 413))  # before any 100 Continue
        return
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            await _answer(send, Response.text("request body too large", 413))
            return
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    target = raw_path.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")
    client = scope.get("client")
    request = Request.from_target(method, target, headers, b"".join(chunks), str(client[0]) if client else "")
    outcome = await asyncio.to_thread(router.dispatch, request)
    if isinstance(outcome, WireFault):
        await _play(send, outcome)
    else:
        await _answer(send, outcome)


async def _answer(send: Send, response: Response) -> None:
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.headers.items()]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


async def _play(send: Send, fault: WireFault) -> None:
    """The closest an ASGI application comes to ``fault`` (see the module's docstring)."""
    # what truncated and drip announce is their body; the others announce a byte that never comes
    announced = len(fault.body) if fault.kind in ("truncated", "drip") else max(len(fault.body), 1)
    await send({"type": "http.response.start", "status": fault.status, "headers": [
        (b"content-type", fault.content_type.encode("latin-1")),
        (b"content-length", str(announced).encode()),
        (b"connection", b"close"),
    ]})
    if fault.kind == "truncated":
        await send({"type": "http.response.body", "body": fault.sent_body, "more_body": True})
    elif fault.kind == "drip":
        chunks = fault.chunks()
        for index, chunk in enumerate(chunks):
            if index and fault.interval:
                await asyncio.sleep(fault.interval)
            await send({"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1})
        if not chunks:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    # reset, empty, garbage, truncated: return with the answer unfinished; the server closes
