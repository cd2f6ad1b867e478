"""The control guard is the router's: no control route without one, a token long enough, and the same
refusals in process as over the socket (the socket runner: ``tests/security/test_control_api_access.py``)."""

from __future__ import annotations

import pytest

from adapters.core.errors import ConfigurationError
from adapters.core.http import InProcessTransport
from simulators.common.control_guard import ControlGuard, control_headers, new_control_token
from simulators.common.httpserver import Request, Response, Router
from simulators.common.inprocess import router_app
from simulators.common.limits import ConnectionLimits


def _ok(req: Request) -> Response:
    return Response.json({"ok": True})


def test_a_control_route_needs_a_guard() -> None:
    router = Router()
    router.add("GET", "/controlled", _ok)  # not under /_control: no guard needed
    for prefix in ("/_control", "/_control/reset"):
        with pytest.raises(ConfigurationError, match="control guard"):
            router.add("POST", prefix, _ok)


def test_a_short_token_is_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError) as caught:
        ControlGuard("short")
    assert caught.value.context["setting"] == "control_token"
    assert len(new_control_token()) >= 43 and new_control_token() != new_control_token()


@pytest.mark.parametrize("limits", [{"header_timeout_seconds": 0}, {"body_timeout_seconds": float("inf")},
                                    {"max_connections": 0}, {"max_buffered_bytes": 1024}])
def test_unbounded_connection_limits_are_refused_at_construction(limits: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ConnectionLimits(**limits)  # type: ignore[arg-type]
    assert caught.value.context["setting"] == next(iter(limits))


def test_in_process_the_control_routes_are_guarded_alike() -> None:
    token = new_control_token()
    router = Router(control=ControlGuard(token))
    router.add("POST", "/_control/reset", _ok)
    transport = InProcessTransport(router_app(router))
    url = "http://sim.test/_control/reset"
    assert transport.request("POST", url, body=b"{}").status == 401
    json_headers = {**control_headers(token), "Content-Type": "application/json"}
    assert transport.request("POST", url, body=b"{}", headers={**json_headers, "Origin": "http://x"}).status == 403
    assert transport.request("POST", url, body=b"{}", headers={**control_headers(token),
                                                               "Content-Type": "text/plain"}).status == 415
    assert transport.request("POST", "http://sim.test/_control/elsewhere").status == 401
    assert transport.request("POST", url, body=b"{}", headers=json_headers).status == 200
