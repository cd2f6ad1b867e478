"""``egov call gateway`` retries what is worth retrying, as the flows do (``EGOV_RETRY_*``), with the
same messageId on every attempt."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tests.fixtures.gateway import ECHO_SERVICE, GATEWAY_BIN, SENDER_ID, SENDER_PASSWORD, GatewayEnv, GatewayKeys

FIRST, SECOND = str(uuid.uuid4()), str(uuid.uuid4())


def test_call_gateway_retries_as_the_settings_say(gateway_env: GatewayEnv, gateway_keys: GatewayKeys, pki: Any,
                                                  tmp_path: Path) -> None:
    from cli.main import cli

    keystore = gateway_keys.client.write_pkcs12(tmp_path / "ministry.p12", "changeit")
    data = tmp_path / "data.xml"
    data.write_text('<q xmlns="urn:cli">again</q>', encoding="utf-8")
    env = {"EGOV_CONFIG_FILE": str(tmp_path / "none.env"), "EGOV_KEYSTORE_PATH": str(keystore),
           "EGOV_KEYSTORE_PASSWORD": "changeit", "EGOV_TRUST_ANCHORS": json.dumps([str(pki.directory / "ca.pem")]),
           "EGOV_INTERMEDIATES": json.dumps([str(pki.directory / "issuing.pem")]),
           "EGOV_GATEWAY_SENDER_ID": SENDER_ID, "EGOV_GATEWAY_SENDER_PASSWORD": SENDER_PASSWORD,
           "EGOV_GATEWAY_BIN": GATEWAY_BIN, "EGOV_RETRY_MAX_ATTEMPTS": "3"}
    args = ["call", "gateway", "--service", ECHO_SERVICE, "--data", str(data), "--url", gateway_env.sim.sync_url,
            "--message-id", FIRST]
    gateway_env.faults.add("http_status", http_status=503, times=2)  # two failures, then the answer
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert "SCSS001" in result.output and "again" in result.output
    seen = [e for e in gateway_env.journal.entries() if e.message_id == FIRST]
    assert len(seen) == 3  # the same message, three times

    gateway_env.faults.add("http_status", http_status=503)  # never answers
    result = CliRunner().invoke(cli, [*args[:-1], SECOND], env={**env, "EGOV_RETRY_MAX_ATTEMPTS": "2"})
    assert result.exit_code != 0 and "gave up after 2 attempt(s)" in result.output
    assert len([e for e in gateway_env.journal.entries() if e.message_id == SECOND]) == 2
