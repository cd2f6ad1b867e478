"""An answer larger than its limit is refused without being held in memory (issue 11, item 5).

A hostile gateway (:class:`tests.fixtures.hostile.HostileServer`, a raw socket) answers a signed
``SendMessage`` with 200 MB: announced in ``Content-Length``, or chunked without an end in sight,
or sent until the connection closes. Against a limit of 8 MB (``EGOV_ATTACHMENT_RESPONSE_MAX_BYTES``):

- ``egov call gateway`` (in a child process, so that its memory is its own) refuses with
  ``ResponseTooLargeError`` [EGOV409]; the memory it allocates meanwhile (``tracemalloc``'s peak)
  stays within the limit plus 2 MiB, and an announced answer is refused before its body is read;
- through the flows' clients (retries, journal) the refusal is final (one attempt) and journalled
  under its own code, not as a ``MemoryError``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.core.errors import ResponseTooLargeError
from adapters.core.http import NetworkEnvironment, NetworkTransport
from adapters.core.journal import ExchangeJournal
from adapters.core.resilience import ResilientCaller, RetryPolicy
from adapters.core.settings import load_settings
from adapters.egov_gateway import GatewayClient
from tests.fixtures.gateway import ECHO_SERVICE, GATEWAY_BIN, SENDER_ID, SENDER_PASSWORD, GatewayEnv
from tests.fixtures.hostile import MIB, HostileServer, Play, announced, chunked, until_close
from tests.paths import ROOT

LIMIT = 8 * MIB
ATTACK = 200 * MIB
SLACK = 2 * MIB
"""What the client may allocate beyond the limit: one read chunk, buffers, the error."""

_MEASURE = r"""
import json, sys, tracemalloc
import click
import adapters.egov_gateway, adapters.core.xmlsig, adapters.core.trust.keystore, procedure.clients  # noqa
import adapters.core.settings, cli.settings  # noqa: imported before the measure, as the modules above
from cli.main import cli

tracemalloc.start()
try:
    cli.main(sys.argv[1:], standalone_mode=False)
    outcome = "accepted"
except click.ClickException as exc:
    outcome = exc.format_message()
except BaseException as exc:
    outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({"peak": tracemalloc.get_traced_memory()[1], "outcome": outcome}))
"""


@pytest.fixture
def client_env(gateway_env: GatewayEnv, tmp_path: Path, pki: object) -> dict[str, str]:
    """``EGOV_*`` for ``egov call gateway`` as our system (its key and the test PKI's anchors)."""
    keystore = gateway_env.keys.client.write_pkcs12(tmp_path / "ministry.p12", "changeit")
    directory = pki.directory  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_") and not k.lower().endswith("_proxy")}
    env.update({"EGOV_CONFIG_FILE": str(tmp_path / "none.env"), "EGOV_KEYSTORE_PATH": str(keystore),
                "EGOV_KEYSTORE_PASSWORD": "changeit", "EGOV_TRUST_ANCHORS": json.dumps([str(directory / "ca.pem")]),
                "EGOV_INTERMEDIATES": json.dumps([str(directory / "issuing.pem")]),
                "EGOV_GATEWAY_SENDER_ID": SENDER_ID, "EGOV_GATEWAY_SENDER_PASSWORD": SENDER_PASSWORD,
                "EGOV_ATTACHMENT_RESPONSE_MAX_BYTES": str(LIMIT), "PYTHONPATH": str(ROOT)})
    return env


def _call_gateway(env: dict[str, str], url: str, tmp_path: Path) -> dict[str, object]:
    data = tmp_path / "data.xml"
    data.write_text('<q xmlns="urn:test">size</q>', encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _MEASURE, "call", "gateway", "--service", ECHO_SERVICE,
                           "--data", str(data), "--url", url], env={**env, "EGOV_GATEWAY_URL": url}, cwd=ROOT,
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_an_announced_answer_over_the_limit_is_refused_before_it_is_read(client_env: dict[str, str],
                                                                         tmp_path: Path) -> None:
    with HostileServer(announced(ATTACK)) as server:
        result = _call_gateway(client_env, server.url, tmp_path)
    assert "ResponseTooLargeError [EGOV409]" in str(result["outcome"]) and "final" in str(result["outcome"])
    assert f"announces {ATTACK} bytes" in str(result["outcome"])
    assert int(str(result["peak"])) <= SLACK  # nothing of the body was held
    assert server.sent < 64 * MIB  # the client hung up: the rest was never read


def test_an_endless_chunked_answer_is_cut_at_the_limit(client_env: dict[str, str], tmp_path: Path) -> None:
    with HostileServer(chunked(ATTACK)) as server:
        result = _call_gateway(client_env, server.url, tmp_path)
    assert "ResponseTooLargeError [EGOV409]" in str(result["outcome"])
    assert f"more than the limit of {LIMIT} bytes" in str(result["outcome"])
    assert int(str(result["peak"])) <= LIMIT + SLACK
    assert server.sent < 64 * MIB


@pytest.mark.parametrize("play", [chunked(64 * MIB), until_close(64 * MIB)], ids=["chunked", "until-close"])
def test_the_transport_cuts_an_unannounced_body_at_the_limit(play: Play) -> None:
    transport = NetworkTransport(environment=NetworkEnvironment(), max_response_bytes=MIB)
    with HostileServer(play) as server, pytest.raises(ResponseTooLargeError) as exc:
        transport.request("POST", server.url, body=b"<e/>")
    transport.close()
    assert exc.value.context["limit"] == MIB and exc.value.context["received"] == MIB + 1
    assert not exc.value.retryable and exc.value.code == "EGOV409"


def test_the_refusal_is_final_and_journalled_as_such(gateway_env: GatewayEnv, tmp_path: Path) -> None:
    journal = ExchangeJournal.open(f"sqlite:///{tmp_path / 'journal.db'}")
    settings = load_settings(attachment_response_max_bytes=MIB, gateway_bin=GATEWAY_BIN,
                             gateway_sender_id=SENDER_ID, gateway_sender_password=SENDER_PASSWORD)
    caller = ResilientCaller(RetryPolicy(max_attempts=3, initial_backoff=0.0, jitter=0.0), journal=journal,
                             sleep=lambda seconds: None)
    with HostileServer(chunked(64 * MIB)) as server:
        client = GatewayClient.from_settings(signing=gateway_env.signing(), verification=gateway_env.verification(),
                                             caller=caller, settings=settings.model_copy(update={"gateway_url":
                                                                                                  server.url}))
        with client, pytest.raises(ResponseTooLargeError):
            client.send_message(ECHO_SERVICE, None, message_id="m-too-large")
        assert len(server.requests) == 1  # final: not asked again
    rows = journal.for_message("m-too-large")
    journal.close()
    assert [(r.attempt, r.outcome, r.error_code) for r in rows] == [(1, "failed", "EGOV409")]
    assert "MemoryError" not in (rows[0].error_message or "")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The hostile servers are on 127.0.0.1: no proxy of the machine's environment in between."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    yield
