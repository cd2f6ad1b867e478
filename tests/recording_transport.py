"""A transport that records the request body and stops the call: for comparing what two ways of
building a signed request put on the wire, byte for byte."""

from __future__ import annotations

from typing import Any


class StopCall(Exception):
    """Raised by :class:`RecordingTransport` once it has the body."""


class RecordingTransport:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def post(self, url: str, body: bytes, **kwargs: Any) -> Any:
        self.bodies.append(body)
        raise StopCall

    def close(self) -> None:
        pass
