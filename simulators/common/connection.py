"""One client connection of the socket server: HTTP/1.1 parsed by httptools, answers written in one piece.

One ``httptools.HttpRequestParser`` (llhttp, the C parser of Node.js; also uvicorn's for ``egov
serve`` and the adapters' answer parser) parses every request of the connection (keep-alive,
pipelining: bytes after one request are the next one's, ``Expect: 100-continue``, Content-Length
and chunked bodies); its callbacks keep the limits of :mod:`simulators.common.limits` as the head
arrives, and a request beyond them is refused with a clear status, then the connection closed
(requests before it in the same write are answered first):

- a head the parser cannot parse → 400 (a missing or repeated ``Host`` in HTTP/1.1 included, RFC
  9112 3.2, checked here: llhttp does not); a transfer coding other than chunked → 501;
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

HTTP/1.0 clients are answered and the connection closed after each answer (no HTTP/1.0
keep-alive). A request asking for a protocol ``Upgrade`` is answered as HTTP, and the connection
closed: the parser gives the bytes after it to the other protocol.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import struct
import time
from collections import deque
from email.utils import formatdate
from http import HTTPStatus

import httptools

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
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
"""An RFC 9110 token: what a method may be."""


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


class _Message:
    """One request as the parser completed it, waiting for its answer (pipelined ones in turn)."""

    __slots__ = ("body", "headers", "keep_alive", "method", "target")

    def __init__(self, method: str, target: str, headers: Headers, body: bytes, keep_alive: bool) -> None:
        self.method, self.target, self.headers, self.body, self.keep_alive = method, target, headers, body, keep_alive


class _Parse:
    """httptools' callbacks for the requests on one connection, one parser for all of them: the
    limits checked as the head arrives, the requests completed in order (bytes after one request are
    the next one's), and the refusal that ends the connection once those before it are answered."""

    __slots__ = ("begun", "body_size", "chunks", "close", "continue_sent", "done", "error", "expect", "head_bytes",
                 "head_done", "head_fed", "hosts", "length", "lines", "pairs", "parser", "transfer", "upgraded",
                 "url", "url_bytes")

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.done: deque[_Message] = deque()
        self.error: _Refusal | None = None
        """Why the connection ends after the requests in ``done`` (raised in a callback or the parser's)."""
        self.upgraded = False
        """The parser stopped at an ``Upgrade``: the request before it is the connection's last."""
        self.begun = self.head_done = False
        self._reset()

    def _reset(self) -> None:
        self.url: list[bytes] = []
        self.pairs: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.url_bytes = self.head_bytes = self.head_fed = self.lines = self.hosts = self.length = 0
        self.body_size = 0
        self.transfer: bytes | None = None
        self.close = self.expect = self.continue_sent = False

    def _refuse(self, status: int, message: str) -> None:
        self.error = _Refusal(status, message)
        raise self.error

    def on_message_begin(self) -> None:
        self._reset()
        self.begun, self.head_done = True, False

    def on_url(self, url: bytes) -> None:
        self.url.append(url)
        self.url_bytes += len(url)
        # "METHOD SP target SP HTTP/x.y": checked as the target arrives, before the head is whole
        if len(self.parser.get_method()) + self.url_bytes + 10 > MAX_LINE_BYTES:
            self._refuse(414, "Request-URI Too Long")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.lines += 1
        if self.lines > MAX_HEADERS:
            self._refuse(431, "Too many headers")
        line_bytes = len(name) + len(value) + 2  # "name: value"
        if line_bytes > MAX_LINE_BYTES:
            self._refuse(431, "Line too long")
        self.head_bytes += line_bytes
        value = value.rstrip(b" \t")
        if len(name) in (4, 6, 10, 14, 17):  # the names the exchange itself depends on
            key = name.lower()
            if key == b"host":
                self.hosts += 1
            elif key == b"content-length":  # one number: the parser refused any other
                self.length = int(value)
            elif key == b"transfer-encoding":
                self.transfer = value if self.transfer is None else self.transfer + b"," + value
            elif key == b"connection":
                self.close = self.close or b"close" in value.lower()
            elif key == b"expect":
                self.expect = value.lower() == b"100-continue"
        self.pairs.append((name.decode("ascii"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        parser = self.parser
        version = parser.get_http_version()
        if not version.startswith("1."):
            if version.startswith("0."):
                self._refuse(400, "HTTP/0.9 requests are not supported")
            self._refuse(505, f"Invalid HTTP version ({version})")
        method = parser.get_method().decode("ascii")
        if len(method) + self.url_bytes + 10 + self.head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, "Request header fields too large")
        if method not in METHODS:
            self._refuse(501, f"Unsupported method ({method!r})")
        if self.hosts > 1 or (self.hosts == 0 and version == "1.1"):  # RFC 9112 section 3.2
            self._refuse(400, "Missing mandatory Host: header" if not self.hosts else "Found multiple Host: headers")
        if self.transfer is not None and [part.strip().lower() for part in self.transfer.split(b",")] != [b"chunked"]:
            self._refuse(501, "Only Transfer-Encoding: chunked is supported")
        if self.length > MAX_BODY_BYTES:
            self._refuse(413, "request body too large")
        self.head_done = True
        self.close = self.close or version != "1.1"  # HTTP/1.0: closed after each answer

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size > MAX_BODY_BYTES:  # a chunked body, whose size was not announced
            self._refuse(413, "request body too large")
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        chunks = self.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self.done.append(_Message(self.parser.get_method().decode("ascii"), b"".join(self.url).decode("latin-1"),
                                  Headers.from_pairs(self.pairs), body, not self.close))
        self.begun = self.head_done = False

    def waits_for_continue(self) -> bool:
        """The request being read asked for ``100 Continue`` before its body, and has had none."""
        return self.head_done and self.expect and not self.continue_sent and not self.body_size

    def feed(self, data: bytes) -> None:
        """``data`` to the parser; a refusal is kept in ``error`` (the parser is done with then)."""
        began = self.begun
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            assert self.error is not None
        except httptools.HttpParserUpgrade:  # the bytes after it would be another protocol's
            self.upgraded = True
            if self.done:
                self.done[-1].keep_alive = False
            else:
                self.error = _Refusal(400, "the request asks for a protocol upgrade")
        except httptools.HttpParserInvalidMethodError as exc:
            # a method llhttp does not know: a token is a method not served (501), anything else 400
            start = data.lstrip(b"\r\n").split(b" ", 1)
            known = len(start) == 2 and not began and not self.done and _TOKEN(start[0]) is not None
            self.error = _Refusal(501, f"Unsupported method ({start[0].decode('latin-1')!r})") if known else \
                _Refusal(400, str(exc))
        except httptools.HttpParserError as exc:
            self.error = _Refusal(400, str(exc))
        else:
            if self.begun and not self.head_done:  # the head's bytes so far, at most one read more
                self.head_fed += len(data)
                if self.head_fed > MAX_HEAD_BYTES + RECV_BYTES:
                    self.error = _Refusal(431, "Request header fields too large")


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
        self._parse = _Parse()
        # reused by every read: recv(RECV_BYTES) would allocate (and page in) that much per read
        self._view = memoryview(bytearray(RECV_BYTES))

    def serve(self) -> None:
        try:
            first = True
            while self._serve_one(first):
                first = False
                self._release()
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
        message = self._next_request(first)
        if message is None:  # the client closed between requests: it is done
            return False
        outcome = self._router.dispatch(Request.from_target(message.method, message.target, message.headers,
                                                            message.body, self._client))
        self._sock.settimeout(self._limits.send_timeout_seconds)
        if isinstance(outcome, WireFault):
            play(self._sock, outcome)
            return False
        return self._answer(outcome, message.method, message.target, keep_alive=message.keep_alive)

    def _next_request(self, first: bool) -> _Message | None:
        """The next complete request: one already parsed (pipelined), else read until one is whole
        (``None``: the client closed before its first byte). The head's clock runs from the accept
        or from the head's first byte, the body's from the head's end."""
        parse = self._parse
        if parse.done:
            return parse.done.popleft()
        if parse.error is not None:
            raise parse.error
        if parse.upgraded:
            return None
        now = time.monotonic()
        body_clock = parse.head_done
        if body_clock:
            self._idle, self._deadline = False, now + self._limits.body_timeout_seconds
        elif first or parse.begun:
            self._idle, self._deadline = False, now + self._limits.header_timeout_seconds
        else:
            self._idle, self._deadline = True, now + self._limits.idle_timeout_seconds
        while not parse.done:
            if parse.error is not None:
                raise parse.error
            if parse.head_done and not body_clock:
                body_clock, self._deadline = True, time.monotonic() + self._limits.body_timeout_seconds
            if parse.waits_for_continue():
                parse.continue_sent = True
                self._sock.settimeout(self._limits.send_timeout_seconds)
                self._sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            data = self._receive()
            if not data:
                if parse.begun:  # a request cut short by the client's close
                    raise _PeerGone
                return None
            parse.feed(data)
        return parse.done.popleft()

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
        if received:
            if self._idle:  # the next request has begun: its head has header_timeout_seconds
                self._idle = False
                self._deadline = time.monotonic() + self._limits.header_timeout_seconds
            if not self._budget.take(received):
                raise _Refusal(503, "server busy: too many request bytes held; retry later")
            self._held += received
        return bytes(self._view[:received])

    # ------------------------------------------------------------------ answers

    def _answer(self, resp: Response, method: str, target: str, *, keep_alive: bool) -> bool:
        """Head and (small) body in one write: one syscall, one TCP segment. Framed here (status
        line, headers, ``Content-Length``); a header that HTTP cannot carry (a CR, LF or NUL in it)
        is refused. Returns
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
