"""One client connection of the socket server: HTTP/1.1 spoken by h11, answers written in one piece.

A per-connection ``h11.Connection`` parses every request (keep-alive, pipelining, ``Expect:
100-continue``, Content-Length and chunked bodies) and frames every answer. Around it this module
keeps the limits of :mod:`simulators.common.limits` and refuses with a clear status, then closes:

- a head h11 cannot parse → 400 (a missing or repeated ``Host`` in HTTP/1.1 included, RFC 9112 3.2);
  a transfer coding other than chunked → 501;
- a request line over ``MAX_LINE_BYTES`` → 414; a header line over it, more than ``MAX_HEADERS``
  headers, or a head over ``MAX_HEAD_BYTES`` → 431;
- HTTP/2 or later → 505; a method not in ``METHODS`` → 501;
- a body over ``MAX_BODY_BYTES`` → 413, announced (before any ``100 Continue``) or received.

Time and memory are bounded by the server's :class:`~simulators.common.limits.ConnectionLimits`:
a head not whole within ``header_timeout_seconds`` or a body not whole within
``body_timeout_seconds`` → 408, then close; a kept-alive connection silent for
``idle_timeout_seconds`` is closed without a word; an answer the client does not take within
``send_timeout_seconds`` is abandoned. Every byte received for a request is held against the
server's :class:`~simulators.common.byte_budget.ByteBudget` until the request is answered: bytes
past ``max_buffered_bytes`` → 503, then close.

A request whose body never arrives whole (the client closed) gets no answer. A small answer (head
and body up to 256 KB) goes out in one ``sendall``. A handler's :class:`WireFault` is played on the
socket exactly (see :mod:`simulators.common.wire_fault`), and the connection ends with it.

HTTP/1.0 clients are answered and the connection closed after each answer: h11 does not implement
HTTP/1.0 keep-alive.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import struct
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

import h11

from simulators.common.byte_budget import ByteBudget
from simulators.common.headers import Headers
from simulators.common.limits import (
    DEFAULT_LIMITS,
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    MAX_HEADERS,
    MAX_LINE_BYTES,
    METHODS,
    ConnectionLimits,
)
from simulators.common.messages import Request, Response
from simulators.common.router import Router
from simulators.common.wire_fault import WireFault

log = logging.getLogger(__name__)

RECV_BYTES = 64 * 1024
"""Most bytes taken from the socket per read."""
_COALESCE_BYTES = 256 * 1024
"""Bodies up to this size are sent in the same write as the head (larger ones are not copied)."""
_REASONS = {int(status): status.phrase for status in HTTPStatus}
_UNSAFE = re.compile(r"[\r\n\x00]")
"""What no header name or value may hold (response splitting)."""
_LINGER_SECONDS = 1.0
_LINGER_BYTES = 1024 * 1024


class _Refusal(Exception):
    """A request answered with an error status, after which the connection closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _PeerGone(Exception):
    """The client closed in the middle of a request: nobody to answer."""


class _TimedOut(Exception):
    """The client took longer than its limit: 408 when it had started a request, then close."""

    def __init__(self, answer: bool) -> None:
        super().__init__("request timeout")
        self.answer = answer


_date_cache: tuple[int, bytes] = (0, b"")


def _http_date() -> bytes:
    """The ``Date`` header value, formatted once per second rather than once per response."""
    global _date_cache
    second = int(time.time())
    cached = _date_cache
    if cached[0] != second:
        cached = _date_cache = (second, formatdate(second, usegmt=True).encode("ascii"))
    return cached[1]


class HttpConnection:
    """Serves one accepted socket until either side closes it; the caller closes the socket after.

    ``server`` is the ``Server`` header of every answer; ``client`` the peer's address; ``limits``
    the time bounds (and the cap of ``budget``); ``budget`` the request bytes of the whole server
    (a connection alone: its own budget of ``limits.max_buffered_bytes``).
    """

    def __init__(self, sock: socket.socket, client: str, router: Router, *, server: str,
                 limits: ConnectionLimits = DEFAULT_LIMITS, budget: ByteBudget | None = None) -> None:
        self._sock = sock
        self._client = client
        self._router = router
        self._server = server
        self._server_bytes = server.encode("latin-1")
        self._limits = limits
        self._budget = budget if budget is not None else ByteBudget(limits.max_buffered_bytes)
        self._held = 0
        """Bytes of the current request held against the budget."""
        self._deadline = 0.0
        """When the head or body being read must be whole (``time.monotonic()``)."""
        self._idle = False
        """Waiting for the first byte of a request on a kept-alive connection."""
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._eof = False
        # reused by every read: recv(RECV_BYTES) would allocate (and page in) that much per read
        self._view = memoryview(bytearray(RECV_BYTES))

    def serve(self) -> None:
        try:
            first = True
            while self._serve_one(first):
                first = False
                self._release()
                self._next_cycle()
        except _Refusal as refusal:
            self._refuse(refusal)
        except _TimedOut as timed_out:
            if timed_out.answer:
                self._refuse(_Refusal(408, "Request Timeout"), linger=False)
        except _PeerGone:
            pass
        except (ConnectionError, TimeoutError) as exc:  # the client went away: nobody to answer
            log.debug("connection from %s lost: %r", self._client, exc)
        finally:
            self._release()

    def _release(self) -> None:
        """Give the bytes of the request just answered (or abandoned) back to the budget."""
        if self._held:
            self._budget.give(self._held)
            self._held = 0

    # ------------------------------------------------------------------ one request

    def _serve_one(self, first: bool) -> bool:
        """Read, dispatch and answer one request; whether the connection stays open for the next."""
        now = time.monotonic()
        if first or self._h11.trailing_data[0]:  # the head's clock runs from the accept, or it has begun
            self._idle, self._deadline = False, now + self._limits.header_timeout_seconds
        else:
            self._idle, self._deadline = True, now + self._limits.idle_timeout_seconds
        event = self._next_event()
        if type(event) is not h11.Request:  # ConnectionClosed: the client is done
            return False
        method, target, headers = self._accept_head(event)
        self._deadline = time.monotonic() + self._limits.body_timeout_seconds
        body = self._read_body()
        outcome = self._router.dispatch(Request.from_target(method, target, headers, body, self._client))
        self._sock.settimeout(self._limits.send_timeout_seconds)
        if isinstance(outcome, WireFault):
            play(self._sock, outcome)
            return False
        return self._answer(outcome, method, target, keep_alive=_keeps_alive(event, headers))

    def _next_cycle(self) -> None:
        """A fresh parser for the next request on this connection, fed what the client already sent
        (pipelined requests): the answer was framed here, not by h11, so h11 cannot cycle itself."""
        trailing, closed = self._h11.trailing_data
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        if trailing:
            self._h11.receive_data(bytes(trailing))
        if closed:
            self._h11.receive_data(b"")

    def _next_event(self) -> Any:
        conn = self._h11
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                if self._eof:  # a request cut short by the client's close
                    raise _PeerGone from exc
                raise self._refusal_for(exc) from exc
            if event is not h11.NEED_DATA:
                return event
            conn.receive_data(self._receive())

    def _receive(self) -> bytes:
        """The next bytes from the client, before the deadline and within the budget."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _TimedOut(answer=not self._idle)
        self._sock.settimeout(remaining)
        try:
            received = self._sock.recv_into(self._view)
        except TimeoutError:
            raise _TimedOut(answer=not self._idle) from None
        self._eof = not received
        if received:
            if self._idle:  # the next request has begun: its head has header_timeout_seconds
                self._idle = False
                self._deadline = time.monotonic() + self._limits.header_timeout_seconds
            if not self._budget.take(received):
                raise _Refusal(503, "server busy: too many request bytes held; retry later")
            self._held += received
        return bytes(self._view[:received])

    def _refusal_for(self, exc: h11.RemoteProtocolError) -> _Refusal:
        status = exc.error_status_hint
        if status == 431:  # the head outgrew MAX_HEAD_BYTES: was it the request line alone?
            buffered = self._h11.trailing_data[0]
            if b"\n" not in buffered[:MAX_LINE_BYTES + 2]:
                return _Refusal(414, "Request-URI Too Long")
            return _Refusal(431, "Request header fields too large")
        return _Refusal(status, str(exc))

    def _accept_head(self, event: h11.Request) -> tuple[str, str, Headers]:
        """Method, target and headers, once the head is within every limit (``100 Continue`` sent
        when the client waits for it)."""
        version = event.http_version
        if not version.startswith((b"0.", b"1.")):
            raise _Refusal(505, f"Invalid HTTP version ({version.decode()})")
        head_bytes = len(event.method) + len(event.target) + len(version) + 7  # "M T HTTP/v"
        if head_bytes > MAX_LINE_BYTES:
            raise _Refusal(414, "Request-URI Too Long")
        raw = event.headers.raw_items()
        if len(raw) > MAX_HEADERS:
            raise _Refusal(431, "Too many headers")
        pairs: list[tuple[str, str]] = []
        length = 0
        for name, value in raw:
            line_bytes = len(name) + len(value) + 2  # "name: value"
            if line_bytes > MAX_LINE_BYTES:
                raise _Refusal(431, "Line too long")
            head_bytes += line_bytes
            if len(name) == 14 and name.lower() == b"content-length":
                length = int(value)
            pairs.append((name.decode("ascii"), value.decode("latin-1")))
        if head_bytes > MAX_HEAD_BYTES:  # h11 bounds only a head that arrives in several reads
            raise _Refusal(431, "Request header fields too large")
        method = event.method.decode("ascii")
        if method not in METHODS:
            raise _Refusal(501, f"Unsupported method ({method!r})")
        if length > MAX_BODY_BYTES:
            raise _Refusal(413, "request body too large")
        if self._h11.they_are_waiting_for_100_continue:
            self._sock.settimeout(self._limits.send_timeout_seconds)
            self._sock.sendall(self._h11.send(h11.InformationalResponse(status_code=100, headers=[],
                                                                        reason=b"Continue")))
        return method, event.target.decode("latin-1"), Headers.from_pairs(pairs)

    def _read_body(self) -> bytes:
        chunks: list[bytes | bytearray] = []
        size = 0
        while True:
            event = self._next_event()
            kind = type(event)
            if kind is h11.Data:
                size += len(event.data)
                if size > MAX_BODY_BYTES:  # a chunked body, whose size was not announced
                    raise _Refusal(413, "request body too large")
                chunks.append(event.data)
            elif kind is h11.EndOfMessage:
                break
            else:
                raise _PeerGone
        if len(chunks) == 1:
            return bytes(chunks[0])
        return b"".join(chunks)

    # ------------------------------------------------------------------ answers

    def _answer(self, resp: Response, method: str, target: str, *, keep_alive: bool) -> bool:
        """Head and (small) body in one write: one syscall, one TCP segment. Framed here (status
        line, headers, ``Content-Length``), which costs a fraction of h11's validating writer; a
        header that HTTP cannot carry (a CR, LF or NUL in it) is refused as h11 would. Returns
        whether the connection stays open for the next request."""
        status = resp.status
        if log.isEnabledFor(logging.DEBUG):
            log.debug('%s "%s %s" %s %s', self._server, method, target, status, len(resp.body))
        lines = [b"HTTP/1.1 %d %s\r\nServer: %s\r\nDate: %s\r\n" % (
            status, _REASONS.get(status, "").encode("ascii"), self._server_bytes, _http_date())]
        for name, value in resp.headers.items():
            if _UNSAFE.search(name) or _UNSAFE.search(value) or not name:
                log.error("%s: answer to %s %s has a header HTTP cannot carry: %r", self._server, method,
                          target, name)
                raise _Refusal(500, f"internal simulator error: illegal header {name!r}")
            if name.lower() == "connection" and "close" in value.lower():
                keep_alive = False
            lines.append(b"%s: %s\r\n" % (name.encode("latin-1"), value.encode("latin-1")))
        if not keep_alive and "connection" not in resp.headers:
            lines.append(b"Connection: close\r\n")
        lines.append(b"Content-Length: %d\r\n\r\n" % len(resp.body))
        head = b"".join(lines)
        body = resp.body if method != "HEAD" else b""
        if len(body) <= _COALESCE_BYTES:
            self._sock.sendall(head + body)
        else:  # not copied into one buffer
            self._sock.sendall(head)
            self._sock.sendall(body)
        return keep_alive

    def _refuse(self, refusal: _Refusal, *, linger: bool = True) -> None:
        """Send the refusal, then close without losing it (see :func:`_linger`; not for a client
        out of time, which has had its time)."""
        message = refusal.message.encode("utf-8", "replace")
        head = (f"HTTP/1.1 {refusal.status} {_REASONS.get(refusal.status, '')}\r\nServer: {self._server}\r\n"
                f"Date: {_http_date().decode()}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                f"Content-Length: {len(message)}\r\nConnection: close\r\n\r\n")
        with contextlib.suppress(OSError):
            self._sock.settimeout(self._limits.send_timeout_seconds)
            self._sock.sendall(head.encode("latin-1") + message)
            if linger:
                _linger(self._sock)


def _keeps_alive(event: h11.Request, headers: Headers) -> bool:
    """Whether the client lets the connection live past this exchange: HTTP/1.1 without
    ``Connection: close`` (HTTP/1.0 connections close after each answer, as h11 would have it)."""
    if event.http_version != b"1.1":
        return False
    connection = headers.get("Connection")
    return connection is None or "close" not in connection.lower()


def _linger(sock: socket.socket) -> None:
    """Half-close, then read and drop what the client still sends (a refused head's or body's
    rest), for at most ``_LINGER_SECONDS`` and ``_LINGER_BYTES``: closing with unread data would
    reset the connection, and the client could lose the refusal before reading it."""
    sock.shutdown(socket.SHUT_WR)
    sock.settimeout(_LINGER_SECONDS)
    deadline = time.monotonic() + _LINGER_SECONDS
    dropped = 0
    while dropped < _LINGER_BYTES and time.monotonic() < deadline:
        data = sock.recv(RECV_BYTES)
        if not data:
            return
        dropped += len(data)


# --------------------------------------------------------------------------- wire faults

def _announced_head(fault: WireFault) -> bytes:
    """The head of the answer a truncated or dripped fault announces (its whole length)."""
    reason = {200: "OK", 500: "Internal Server Error", 503: "Service Unavailable"}.get(fault.status, "Status")
    return (f"HTTP/1.1 {fault.status} {reason}\r\nContent-Type: {fault.content_type}\r\n"
            f"Content-Length: {len(fault.body)}\r\nConnection: close\r\n\r\n").encode()


def play(sock: socket.socket, fault: WireFault) -> None:
    """Carry ``fault`` out on ``sock``, which is closed after."""
    if fault.kind == "reset":  # RST instead of FIN: the client sees 'connection reset'
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        return
    try:
        if fault.kind == "garbage":
            sock.sendall(fault.body)
        elif fault.kind == "truncated":
            sock.sendall(_announced_head(fault) + fault.sent_body)
        elif fault.kind == "drip":
            sock.sendall(_announced_head(fault))
            for index, chunk in enumerate(fault.chunks()):
                if index and fault.interval:
                    time.sleep(fault.interval)
                sock.sendall(chunk)
    except OSError:  # the client left early; the fault has done its work
        pass
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
