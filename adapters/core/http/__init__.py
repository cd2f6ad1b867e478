"""The HTTP seam of every adapter: what a transport is given and what it returns.

One production transport sends over the network; :class:`InProcessTransport` hands each request to a
function in the same process (a simulator's router, for unit tests), as httpx's ``MockTransport``
does. Both return a :class:`~adapters.core.transport.HttpResult` and raise the one error hierarchy.
"""

from __future__ import annotations

from adapters.core.http.inprocess import InProcessApp, InProcessTransport
from adapters.core.http.request import OutgoingRequest

__all__ = ["InProcessApp", "InProcessTransport", "OutgoingRequest"]
