"""A request as a transport sends it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class OutgoingRequest:
    """What goes on the wire: method, absolute URL, headers and the whole body.

    An in-process app receives exactly this (a streamed body arrives joined).
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes = b""
