"""``egov call gateway`` trusts an answer only from the gateway (issue 11, item 8).

A gateway simulator signs its answers with a certificate of the same PKI that is not the gateway's:
another organisation's (another BIN), or the gateway's own once revoked. ``egov call gateway``, set
up as ``egov sim up`` prints it, refuses both answers as the flows' clients do (the BIN of
``EGOV_GATEWAY_BIN``, revocation under ``EGOV_REVOCATION_POLICY``) and prints nothing of them; the
gateway's valid certificate is accepted, and the one documented exception,
``EGOV_CHECK_TRANSPORT_REVOCATION=false``, accepts the revoked one again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from adapters.core.errors import IdentifierError
from adapters.core.identifiers import make_bin
from adapters.core.settings import get_settings
from adapters.core.xmlsig import VerificationService
from simulators.egov_gateway import EchoBackend, GatewaySimulator
from tests.fixtures.gateway import (
    ECHO_SERVICE,
    GATEWAY_BIN,
    GATEWAY_IIN,
    SENDER_BIN,
    SENDER_ID,
    SENDER_PASSWORD,
    GatewayKeys,
)


def _other_bin() -> str:
    for serial in range(7600, 7640):
        try:
            return make_bin(2001, 1, 4, 0, serial)
        except (ValueError, IdentifierError):
            continue
    raise AssertionError("no valid BIN")


@pytest.fixture
def call_env(gateway_keys: GatewayKeys, pki: Any, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The ``EGOV_*`` of ``egov sim up`` for our system; the data file to send."""
    keystore = gateway_keys.client.write_pkcs12(tmp_path / "ministry.p12", "changeit")
    for name, value in {"EGOV_CONFIG_FILE": str(tmp_path / "none.env"), "EGOV_KEYSTORE_PATH": str(keystore),
                        "EGOV_KEYSTORE_PASSWORD": "changeit",
                        "EGOV_TRUST_ANCHORS": json.dumps([str(pki.directory / "ca.pem")]),
                        "EGOV_INTERMEDIATES": json.dumps([str(pki.directory / "issuing.pem")]),
                        "EGOV_GATEWAY_SENDER_ID": SENDER_ID, "EGOV_GATEWAY_SENDER_PASSWORD": SENDER_PASSWORD,
                        "EGOV_GATEWAY_BIN": GATEWAY_BIN, "EGOV_REVOCATION_POLICY": "ocsp-then-crl"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("EGOV_CHECK_TRANSPORT_REVOCATION", raising=False)
    data = tmp_path / "data.xml"
    data.write_text('<q xmlns="urn:cli">secret answer</q>', encoding="utf-8")
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def _gateway(key: Any, gateway_keys: GatewayKeys) -> GatewaySimulator:
    sim = GatewaySimulator(key=key.key_material, verification=VerificationService(gateway_keys.validator))
    sim.add_sender(SENDER_ID, SENDER_PASSWORD, bin=SENDER_BIN)
    sim.register_backend(ECHO_SERVICE, EchoBackend())
    sim.start()
    return sim


def _call(sim: GatewaySimulator, data: Path) -> Result:
    from cli.main import cli

    get_settings.cache_clear()
    return CliRunner().invoke(cli, ["call", "gateway", "--service", ECHO_SERVICE, "--data", str(data),
                                    "--url", sim.sync_url])


def _refused(result: Result, reason: str) -> None:
    assert result.exit_code != 0, result.output
    assert "ResponseRefusedError [EGOV408] (final)" in result.output and reason in result.output
    assert "SCSS001" not in result.output and "secret answer" not in result.output  # nothing of it printed


def test_an_answer_signed_by_another_organisation_is_refused(call_env: Path, gateway_keys: GatewayKeys,
                                                             pki: Any) -> None:
    sim = _gateway(pki.issue(iin=GATEWAY_IIN, bin=_other_bin(), org="Not the gateway"), gateway_keys)
    try:
        result = _call(sim, call_env)
    finally:
        sim.stop()
    _refused(result, "bin-mismatch")


def test_an_answer_signed_with_a_revoked_certificate_is_refused(call_env: Path, gateway_keys: GatewayKeys,
                                                                pki: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    revoked = pki.issue(iin=GATEWAY_IIN, bin=GATEWAY_BIN, org="Gateway operator (revoked)")
    pki.revoke(revoked, reason="keyCompromise")
    sim = _gateway(revoked, gateway_keys)
    try:
        result = _call(sim, call_env)
        _refused(result, "certificate-revoked")
        # the one exception to revocation checking is a documented setting
        monkeypatch.setenv("EGOV_CHECK_TRANSPORT_REVOCATION", "false")
        excepted = _call(sim, call_env)
    finally:
        sim.stop()
    assert excepted.exit_code == 0, excepted.output
    assert "SCSS001" in excepted.output and f"BIN {GATEWAY_BIN}" in excepted.output


def test_the_gateways_own_certificate_is_accepted(call_env: Path, gateway_keys: GatewayKeys) -> None:
    sim = _gateway(gateway_keys.gateway, gateway_keys)
    try:
        result = _call(sim, call_env)
    finally:
        sim.stop()
    assert result.exit_code == 0, result.output
    assert "SCSS001" in result.output and "secret answer" in result.output
