"""The landscape's bank pays and declines through the payment simulator's control API, on one pooled
connection."""

from __future__ import annotations

import json

import pytest

from adapters.core.errors import ConfigurationError
from harness.landscape import HttpBank
from tests.fixtures.loopback import RecordingServer

TOKEN = "t" * 43


def test_the_bank_reuses_one_connection(clean_env: pytest.MonkeyPatch) -> None:
    with RecordingServer() as server:
        bank = HttpBank(server.url + "/_control", token=TOKEN)
        bank.pay("o-1")
        bank.decline("o-2", "insufficient funds")
        bank.pay("o-3")
        with pytest.raises(ConfigurationError, match="HTTP 404"):
            HttpBank(server.url + "/status/404", token=TOKEN).pay("o-4")
        seen = server.received
    assert [r.target for r in seen[:3]] == ["/_control/payments/o-1/pay", "/_control/payments/o-2/reject",
                                            "/_control/payments/o-3/pay"]
    assert json.loads(seen[1].body) == {"reason": "insufficient funds"}
    assert seen[1].header("Content-Type") == "application/json"
    assert all(r.header("Authorization") == f"Bearer {TOKEN}" for r in seen[:3])
    assert len({r.client_port for r in seen[:3]}) == 1
