"""What every transport offers: one request in, one completely read answer out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from adapters.core.http.body import StreamedBody
from adapters.core.http.result import HttpResult
from adapters.core.http.timeouts import Timeouts


class HttpTransport(Protocol):
    """Sends one HTTP request and returns the whole answer.

    Contract of every implementation:

    - ``timeout``: the call's :class:`Timeouts`, or a number of seconds (see
      :meth:`Timeouts.for_call`), or ``None`` for the transport's own; a call never waits unbounded,
      and never lasts past its deadline (``Timeouts.total``), whatever the server does: past it the
      call raises :class:`~adapters.core.errors.ExchangeTimeoutError` (``kind`` ``deadline``);
    - ``max_bytes``: the largest answer body the call takes (``None``: the transport's own limit);
      a larger one raises :class:`~adapters.core.errors.ResponseTooLargeError`, and no more than the
      limit of it is ever held in memory;
    - ``headers`` are sent as given (names case-insensitive); ``Content-Length`` is the body's;
    - a :class:`StreamedBody` is sent with its declared ``Content-Length``; a source that fails or
      lies about its length raises :class:`StreamedBodyError` (nothing is translated or retried);
    - no retry, no redirect followed: a 3xx is returned as it is;
    - a failure of the network raises :class:`~adapters.core.errors.TransportError` whose
      ``context["kind"]`` says what happened (``refused``, ``connect-timeout``, ``read-timeout``,
      ``deadline``, ``reset``, ``empty``, ``garbage``, ``truncated``, ``timeout``, ``connection``);
    - any status is returned; with ``raise_for_status`` a status of 400 or more raises
      :class:`~adapters.core.errors.HttpStatusError` instead.

    Implementations are safe for concurrent calls from several threads.
    """

    def request(self, method: str, url: str, *, body: bytes | StreamedBody | None = None,
                headers: Mapping[str, str] | None = None, timeout: Timeouts | float | None = None,
                raise_for_status: bool = False, max_bytes: int | None = None) -> HttpResult:
        """Send ``method url`` and read the whole answer."""
        ...

    def close(self) -> None:
        """Release pooled connections; the transport is not used afterwards."""
        ...
