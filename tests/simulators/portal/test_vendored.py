"""The page's NCALayer client is the npm package ``ncalayer-js-client`` unchanged
(``scripts/vendor-ncalayer-client.sh`` fetched it), and it speaks what the simulator answers."""

from __future__ import annotations

import hashlib
from pathlib import Path

STATIC = Path(__file__).resolve().parents[3] / "simulators" / "portal" / "static"
VERSION = "1.5.6"
SHA256 = "b84d1425a63d163280df60315437f309e4822345acce61fb73a725321f723833"


def test_the_client_is_the_packages_file_unchanged() -> None:
    client = (STATIC / "ncalayer-client.js").read_bytes()
    assert hashlib.sha256(client).hexdigest() == SHA256, f"not ncalayer-js-client {VERSION}'s file: re-vendor it"
    assert "MIT License" in (STATIC / "ncalayer-client.LICENSE").read_text(encoding="utf-8")


def test_the_client_uses_the_requests_the_simulator_answers() -> None:
    client = (STATIC / "ncalayer-client.js").read_text(encoding="utf-8")
    for fact in ("'kz.gov.pki.knca.commonUtils'", "method: 'signXml'", "method: 'getKeyInfo'",
                 "response.result.version", "response.code !== '200'", "response.responseObject"):
        assert fact in client, fact
