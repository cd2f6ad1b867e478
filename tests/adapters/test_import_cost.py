"""Start-up cost (bench d): what importing the gateway adapter and building its client must not do.

Each check runs in a fresh interpreter, because the zeep clients are cached per process.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.paths import ROOT


def _fresh(code: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    result: dict[str, object] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


def test_importing_the_gateway_adapter_does_not_import_zeep() -> None:
    seen = _fresh(
        "import json, sys\n"
        "import adapters.egov_gateway\n"
        "print(json.dumps({'zeep': 'zeep' in sys.modules}))\n")
    assert seen == {"zeep": False}


def test_client_construction_parses_only_the_sync_wsdl_and_async_follows_on_first_use() -> None:
    seen = _fresh(
        "import json\n"
        "from lxml import etree\n"
        "from adapters.contracts import ASYNC_WSDL, SYNC_WSDL\n"
        "from adapters.egov_gateway import GatewayClient\n"
        "from adapters.egov_gateway.client import _zeep_client\n"
        "client = GatewayClient('http://127.0.0.1:9/bip-sync-wss-gost/', signing=object(),\n"
        "                       verification=object(), sender_id='SENDER', sender_password='pw')\n"
        "after_init = _zeep_client.cache_info().currsize\n"
        "sync_is_shared = client._sync is _zeep_client(SYNC_WSDL)\n"
        "body = client._async_call_body('getMessageStatus', {'messageId': 'm-1'})\n"
        "text = body if isinstance(body, bytes) else etree.tostring(body)\n"
        "async_is_shared = client._async is client._async is _zeep_client(ASYNC_WSDL)\n"
        "print(json.dumps({'after_init': after_init, 'sync_is_shared': sync_is_shared,\n"
        "                  'async_is_shared': async_is_shared, 'body_has_id': b'm-1' in text,\n"
        "                  'body_has_sender': b'SENDER' in text}))\n")
    assert seen == {"after_init": 1, "sync_is_shared": True, "async_is_shared": True, "body_has_id": True,
                    "body_has_sender": True}
