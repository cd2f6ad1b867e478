"""A deliberate failure on the wire, returned by a handler in place of a :class:`Response`.

A :class:`WireFault` is a value: it says what the client should experience, and the runner that
carries the exchange plays it as exactly as it can. Over a socket
(:mod:`simulators.common.httpserver`) every kind is exact:

- ``reset``: the connection is closed with an RST (``SO_LINGER`` 0), nothing sent;
- ``empty``: the connection is closed (FIN) without a byte of answer;
- ``garbage``: ``body`` (bytes that are not HTTP) is sent, then the connection is closed;
- ``truncated``: the head of a ``status`` answer announcing ``len(body)`` bytes, half the body,
  then the connection is closed;
- ``drip``: the head of a ``status`` answer, then the body ``chunk`` bytes at a time with
  ``interval`` seconds between chunks, then the connection is closed.

Under ASGI (:mod:`simulators.common.asgi`) and in process (:mod:`simulators.common.inprocess`)
there is no socket to break; those modules say what each kind becomes there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

WireFaultKind = Literal["reset", "empty", "garbage", "truncated", "drip"]

GARBAGE = b"\x00\x17\xffTHIS IS NOT HTTP\r\n\x00\x00garbage"
"""What ``garbage`` sends unless told otherwise."""

XML = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class WireFault:
    """One deliberate wire failure; build it with the constructor of its kind."""

    kind: WireFaultKind
    body: bytes = b""
    """The answer cut short (truncated), dripped (drip), or the bytes sent (garbage)."""
    content_type: str = XML
    """Content-Type of the announced answer (truncated, drip)."""
    status: int = 200
    """Status of the announced answer (truncated, drip)."""
    chunk: int = 64
    """Bytes per write (drip)."""
    interval: float = 0.0
    """Seconds between two writes (drip)."""

    def __post_init__(self) -> None:
        if self.kind not in get_args(WireFaultKind):
            raise ValueError(f"unknown wire fault kind {self.kind!r}")
        if self.chunk < 1 or self.interval < 0:
            raise ValueError(f"drip needs chunk >= 1 and interval >= 0, got {self.chunk}, {self.interval}")

    @classmethod
    def reset(cls) -> WireFault:
        return cls("reset")

    @classmethod
    def empty(cls) -> WireFault:
        return cls("empty")

    @classmethod
    def garbage(cls, data: bytes = GARBAGE) -> WireFault:
        return cls("garbage", data)

    @classmethod
    def truncated(cls, body: bytes, *, content_type: str = XML, status: int = 200) -> WireFault:
        return cls("truncated", body, content_type, status)

    @classmethod
    def drip(cls, body: bytes, *, chunk: int, interval: float, content_type: str = XML,
             status: int = 200) -> WireFault:
        return cls("drip", body, content_type, status, chunk, interval)

    @property
    def sent_body(self) -> bytes:
        """The part of ``body`` a truncated answer sends (half of it)."""
        return self.body[: len(self.body) // 2] if self.kind == "truncated" else self.body

    def chunks(self) -> list[bytes]:
        """The body in the pieces a drip writes."""
        return [self.body[i:i + self.chunk] for i in range(0, len(self.body), self.chunk)]
