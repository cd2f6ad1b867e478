"""Start-up cost (bench d): what importing the gateway adapter and using its client must not do.

Each check runs in a fresh interpreter, so that nothing another test imported is counted.
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


def test_building_the_client_and_every_request_never_imports_zeep() -> None:
    """zeep is the WSDL's interpreter in the tests only: the adapter builds and reads with lxml."""
    seen = _fresh(
        "import json, sys\n"
        "import datetime as dt\n"
        "from lxml import etree\n"
        "from adapters.egov_gateway import GatewayClient, messages\n"
        "client = GatewayClient('http://127.0.0.1:9/bip-sync-wss-gost/', signing=object(),\n"
        "                       verification=object(), sender_id='SENDER', sender_password='pw')\n"
        "sender = messages.Sender('SENDER', 'pw')\n"
        "now = dt.datetime.now(dt.UTC)\n"
        "built = [messages.send_message(sender=sender, message_id='m-1', service_id='S', message_date=now),\n"
        "         messages.send_async_message(sender=sender, message_id='m-1', service_id='S',\n"
        "                                     message_type='REQUEST', message_date=now),\n"
        "         messages.get_messages(sender=sender, max_count=1),\n"
        "         messages.about_message('getMessageStatus', sender=sender, message_id='m-1')]\n"
        "texts = [etree.tostring(envelope) for envelope in built]\n"
        "print(json.dumps({'zeep': 'zeep' in sys.modules, 'requests_built': len(texts),\n"
        "                  'sender_in_each': all(b'SENDER' in text for text in texts),\n"
        "                  'status_has_id': b'm-1' in texts[3]}))\n")
    assert seen == {"zeep": False, "requests_built": 4, "sender_in_each": True, "status_has_id": True}
