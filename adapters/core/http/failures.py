"""Translation of network failures into :class:`~adapters.core.errors.TransportError`, at the
boundary of the network transport.

``kind`` (in the error's context) says what happened, from the innermost cause outwards:

============== ==========================================================================
kind           meaning
============== ==========================================================================
refused        no one listens there: nothing was sent
connect-timeout no TCP connection (or TLS handshake, or proxy tunnel) in time: nothing was sent
read-timeout   the answer (or its next bytes) did not come in time
truncated      the answer began but ended before its declared end (or broke off)
empty          the server closed the connection without answering
reset          the connection was reset while sending or waiting
garbage        the server answered something that is not HTTP (or a body that does not decode)
connection     anything else (name resolution, TLS verification, an unreachable network)
============== ==========================================================================
"""

from __future__ import annotations

import http.client

from adapters.core.errors import TransportError
from adapters.core.http.reader import BodyDecodeError
from adapters.core.http.wire import MalformedAnswer

NETWORK_ERRORS: tuple[type[BaseException], ...] = (http.client.HTTPException, OSError)
"""What the wire format (http.client's exception types), sockets and TLS raise for a failure of the network."""


class ConnectFailed(OSError):
    """No connection was made (TCP, the proxy's tunnel, or TLS): nothing was sent. Wraps the cause."""


class ConnectTimedOut(ConnectFailed, TimeoutError):
    """No connection within the connect timeout: nothing was sent."""


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (an exception among its arguments, ``reason``, ``__context__``),
    outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        wrapped = next((arg for arg in current.args if isinstance(arg, BaseException)), None)
        if wrapped is None:
            reason = getattr(current, "reason", None)
            wrapped = reason if isinstance(reason, BaseException) else current.__context__
        current = wrapped
    return chain


def failure_kind(exc: BaseException, *, answer_started: bool = False) -> str:
    """The ``kind`` of a network failure; ``answer_started``: it happened while reading the body."""
    chain = causes(exc)

    def among(*types: type[BaseException]) -> bool:
        return any(isinstance(link, types) for link in chain)

    if among(ConnectionRefusedError):
        return "refused"
    if among(ConnectTimedOut):
        return "connect-timeout"
    if among(ConnectFailed):
        return "connection"
    if among(TimeoutError):
        return "read-timeout"
    if among(BodyDecodeError, MalformedAnswer):  # a body that does not decode, a framing that cannot be read
        return "garbage"
    if answer_started or among(http.client.IncompleteRead):
        return "truncated"
    if among(http.client.RemoteDisconnected):  # before ConnectionResetError, its base class
        return "empty"
    if among(ConnectionResetError, BrokenPipeError):
        return "reset"
    if among(http.client.BadStatusLine, http.client.LineTooLong):
        return "garbage"
    return "connection"


def translate_exception(exc: BaseException, url: str, *, answer_started: bool = False) -> TransportError:
    """The :class:`TransportError` for a network failure of a call to ``url`` (give it without
    credentials: it is part of the message)."""
    kind = failure_kind(exc, answer_started=answer_started)
    root = causes(exc)[-1]
    return TransportError(f"{kind}: {url}: {root.__class__.__name__}: {root}", kind=kind, url=url)
