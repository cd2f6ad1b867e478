"""The simulators' control APIs answer the landscape's own tools only (issue 11, item 4).

Over real HTTP, on each simulator (gateway, Legal Entities register, payment gateway, E-licensing,
PKI), one read of what the control API hands out and one change of the simulated world:

- a stranger without the landscape's token, or with another token, gets 401 and nothing else;
- a web page (a foreign ``Origin``, a cross-site ``Sec-Fetch-Site``) gets 403, even with the token,
  and the classic cross-site form post (``text/plain``, no token) changes nothing;
- a body that is not JSON gets 415, even with the token;
- a control route that does not exist answers a stranger 401, not 404;
- with the token and JSON, the same change goes through (so that the refusals above are refusals).

And around them: the simulators listen on 127.0.0.1 unless configured otherwise; a landscape's
token is written to a file readable by its owner only, named by ``EGOV_SIM_CONTROL_TOKEN_FILE``;
``egov sim`` refuses to call a control API without it.
"""

from __future__ import annotations

import json
import socket
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from adapters.core.xmlsig import SigningService, VerificationService
from simulators.common.control_guard import CONTROL_TOKEN_NAME, control_headers
from simulators.elicense.errors import ElicenseFault
from simulators.payment_gateway import PaymentGatewaySimulator
from tests.fixtures.backends import BackendKeys

MINISTRY_BIN = "940140000385"
"""In the register's fixtures; its record names its leader's IIN."""
EVIL = "http://evil.example"
WRONG_TOKEN = "w" * 43


@dataclass
class Target:
    """One simulator's control API: where it is, its token, a read and a change, and what the
    change would change."""

    base: str
    token: str
    read: str
    """A GET path whose answer holds data a stranger must not see."""
    secret: str
    """A string of that answer."""
    change: tuple[str, str, Any]
    """(method, path, JSON body) of a change."""
    state: Callable[[], object]
    """The part of the simulator's state the change would change."""

    def url(self, path: str) -> str:
        return self.base + path


def _gateway(request: pytest.FixtureRequest) -> Target:
    env = request.getfixturevalue("gateway_env")
    sim = env.sim
    return Target(sim.url, sim.control_token, "/_control/senders", "MINISTRY_EDU",
                  ("POST", "/_control/senders", {"sender_id": "INTRUDER", "password": "pw"}),
                  lambda: sorted(a.sender_id for a in sim.senders.all()))


def _register(request: pytest.FixtureRequest) -> Target:
    gateway = request.getfixturevalue("legal_entities_gateway")
    backend = request.getfixturevalue("legal_entities_backend")
    leader_iin = backend.state.get(MINISTRY_BIN).leader.iin
    return Target(gateway.url, gateway.control_token, f"/_control/legal-entities/{MINISTRY_BIN}", leader_iin,
                  ("DELETE", f"/_control/legal-entities/{MINISTRY_BIN}", None),
                  lambda: backend.state.get(MINISTRY_BIN) is not None)


def _payment(request: pytest.FixtureRequest) -> Target:
    sim = request.getfixturevalue("payment_gateway_sim")
    return Target(sim.url, sim.control_token, "/_control/auto-pay", "delay_seconds",
                  ("PUT", "/_control/auto-pay", {"delay_seconds": 0}), lambda: sim.store.auto_pay_after)


def _elicense(request: pytest.FixtureRequest) -> Target:
    env = request.getfixturevalue("elicense_env")
    sim = env.sim

    def intruder_can_log_in() -> bool:
        try:
            sim.backend.authorize_employee("intruder", "pw")
        except ElicenseFault:
            return False
        return True

    return Target(sim.url, sim.control_token, "/_control/catalogue", "employee_login",
                  ("POST", "/_control/seed", {"employees": [{"login": "intruder", "password": "pw",
                                                             "licensor_code": "DKSO71"}]}),
                  intruder_can_log_in)


def _pki(request: pytest.FixtureRequest) -> Target:
    pki = request.getfixturevalue("pki")
    key = pki.issue(iin="871008401427")
    assert pki.control_token is not None
    return Target(pki.base_url, pki.control_token, f"/_control/status/{key.serial}", "good",
                  ("POST", "/_control/revoke", {"serial": key.serial, "reason": "keyCompromise"}),
                  lambda: pki.status(key))


TARGETS = {"gateway": _gateway, "legal_entities": _register, "payment_gateway": _payment,
           "elicense": _elicense, "pki": _pki}


@pytest.fixture(params=list(TARGETS))
def target(request: pytest.FixtureRequest) -> Target:
    return TARGETS[request.param](request)


def _send(target: Target, headers: dict[str, str], *, body: bytes | None = None,
          content_type: str = "application/json") -> requests.Response:
    method, path, data = target.change
    if body is None and data is not None:
        body = json.dumps(data).encode()
    if body is not None:
        headers = {"Content-Type": content_type, **headers}
    return requests.request(method, target.url(path), data=body, headers=headers, timeout=10)


def _refused(answer: requests.Response, status: int, rule: str, target: Target) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["rule"] == rule
    assert target.secret not in answer.text
    assert target.token not in answer.text


def test_a_stranger_gets_nothing_and_changes_nothing(target: Target) -> None:
    before = target.state()
    for headers in ({}, control_headers(WRONG_TOKEN), {"Authorization": target.token},
                    {"Authorization": f"Basic {target.token}"}):
        read = requests.get(target.url(target.read), headers=headers, timeout=10)
        _refused(read, 401, "token", target)
        assert read.headers["WWW-Authenticate"].startswith("Bearer")
        _refused(_send(target, headers), 401, "token", target)
    assert target.state() == before
    # a control route that does not exist tells a stranger no more than one that does
    _refused(requests.get(target.url("/_control/no-such-route"), timeout=10), 401, "token", target)


def test_a_web_page_is_refused_even_in_a_browser_that_has_the_token(target: Target) -> None:
    before = target.state()
    # the cross-site form post: text/plain (no preflight), no token
    _refused(_send(target, {"Origin": EVIL}, body=b'{"x": 1}', content_type="text/plain"), 403, "origin", target)
    for page in ({"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
                 {"Sec-Fetch-Site": "same-site"}):
        headers = {**control_headers(target.token), **page}
        _refused(requests.get(target.url(target.read), headers=headers, timeout=10), 403, "origin", target)
        _refused(_send(target, headers), 403, "origin", target)
    assert target.state() == before


def test_a_body_that_is_not_json_is_refused_even_with_the_token(target: Target) -> None:
    before = target.state()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        answer = _send(target, control_headers(target.token), body=b'{"serial": "1"}', content_type=content_type)
        _refused(answer, 415, "content-type", target)
    assert target.state() == before


def test_the_landscape_tools_with_the_token_are_served(target: Target) -> None:
    before = target.state()
    read = requests.get(target.url(target.read), headers={**control_headers(target.token),
                                                          "Sec-Fetch-Site": "none"}, timeout=10)
    assert read.status_code == 200 and target.secret in read.text
    assert _send(target, control_headers(target.token)).status_code < 300
    assert target.state() != before


# --------------------------------------------------------------------------- where they listen


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def payment_gateway_on(backend_keys: BackendKeys,
                       backend_verifier: VerificationService) -> Iterator[Callable[..., PaymentGatewaySimulator]]:
    started: list[PaymentGatewaySimulator] = []

    def start(**options: Any) -> PaymentGatewaySimulator:
        sim = PaymentGatewaySimulator(signer=SigningService(backend_keys.payment_gateway),
                                      verifier=backend_verifier, **options)
        started.append(sim.start())
        return sim

    yield start
    for sim in started:
        sim.stop()


def test_simulators_listen_on_loopback_unless_configured(payment_gateway_on: Callable[..., PaymentGatewaySimulator]
                                                         ) -> None:
    default = payment_gateway_on()
    assert default.url.startswith("http://127.0.0.1:")
    other = payment_gateway_on(host="127.0.0.2")
    port = int(other.url.rsplit(":", 1)[1])
    assert other.url == f"http://127.0.0.2:{port}"
    assert _reachable("127.0.0.2", port) and not _reachable("127.0.0.1", port)


# --------------------------------------------------------------------------- the token's way to the tools


def test_the_landscape_token_is_a_private_file_and_the_cli_needs_it(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.core.settings import get_settings
    from cli.main import cli
    from harness.manifest import manifest
    from simulators.registry import SimContext, default_registry, stop_all

    monkeypatch.delenv("EGOV_SIM_CONTROL_TOKEN_FILE", raising=False)
    get_settings.cache_clear()
    ctx = SimContext(workdir=tmp_path, config={"pki": {"port": 0}, "gateway": {"port": 0}})
    running = default_registry().start_all(ctx, {"gateway"})
    try:
        token_file = tmp_path / CONTROL_TOKEN_NAME
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert token_file.read_text().strip() == ctx.control_token
        assert ctx.env["EGOV_SIM_CONTROL_TOKEN_FILE"] == str(token_file.resolve())
        assert manifest(ctx) is None  # two of five: no manifest; with five it carries the token
        url = ctx.running["gateway"].obj.sync_url
        refused = CliRunner().invoke(cli, ["sim", "fault", "add", "--url", url, "--kind", "reset"])
        assert refused.exit_code == 1 and "EGOV_SIM_CONTROL_TOKEN_FILE" in refused.output
        assert ctx.running["gateway"].obj.injector.list() == []
        other = tmp_path / "other-token"
        other.write_text(WRONG_TOKEN)
        refused = CliRunner().invoke(cli, ["sim", "fault", "add", "--url", url, "--kind", "reset",
                                           "--token-file", str(other)])
        assert refused.exit_code == 1 and "HTTP 401" in refused.output
        assert ctx.running["gateway"].obj.injector.list() == []
        monkeypatch.setenv("EGOV_SIM_CONTROL_TOKEN_FILE", str(token_file))
        get_settings.cache_clear()
        added = CliRunner().invoke(cli, ["sim", "fault", "add", "--url", url, "--kind", "reset"])
        assert added.exit_code == 0, added.output
        assert [f.kind for f in ctx.running["gateway"].obj.injector.list()] == ["reset"]
    finally:
        stop_all(running)
        get_settings.cache_clear()
