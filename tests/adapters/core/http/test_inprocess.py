"""InProcessTransport: the app sees the request as sent, its answer comes back as the transport's result."""

from __future__ import annotations

import pytest

from adapters.core.errors import HttpStatusError
from adapters.core.http import HttpResult, InProcessTransport, OutgoingRequest, StreamedBody


def test_the_app_gets_the_request_and_its_answer_is_returned() -> None:
    seen: list[OutgoingRequest] = []

    def app(request: OutgoingRequest) -> HttpResult:
        seen.append(request)
        return HttpResult(200, {"Content-Type": "text/plain"}, b"pong", request.url)

    transport = InProcessTransport(app)
    chunks = StreamedBody(4, lambda: iter([b"pi", b"ng"]), name="ping")
    result = transport.request("post", "http://sim/echo", body=chunks, headers={"X-Id": "1"})
    assert (result.status, result.body, result.url) == (200, b"pong", "http://sim/echo")
    assert result.elapsed >= 0
    assert seen == [OutgoingRequest("POST", "http://sim/echo", {"X-Id": "1"}, b"ping")]


def test_an_error_status_is_raised_only_when_asked() -> None:
    transport = InProcessTransport(lambda r: HttpResult(503, {}, b"busy", r.url))
    assert transport.request("GET", "http://sim/").status == 503
    with pytest.raises(HttpStatusError, match="HTTP 503"):
        transport.request("GET", "http://sim/", raise_for_status=True)
