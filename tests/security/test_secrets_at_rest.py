"""Secrets at rest (issue 11, item 13): what another user of the machine could read is not there.

Each test plays the exposure on real files, as the commands and the landscape write them: keys and
PKCS#12 files, databases and the manifest are created readable by their owner only (0600), and a
world-readable one left by an earlier run is tightened (a file we write) or refused (a file we only
read); the manifest names where the passwords are, never their values; key passwords reach the
commands through a file, a variable or a prompt instead of the command line (visible in ``ps``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.core.errors import ConfigurationError, KeystoreError
from adapters.core.settings import load_settings
from adapters.core.trust.keystore import KeyMaterial
from cli.main import cli
from harness.landscape import Landscape
from procedure.clients import Endpoints
from procedure.credentials import SecretRef
from procedure.store import FlowStore
from simulators.payment_gateway.state import PaymentStore
from simulators.pki import TestPKI
from simulators.registry import SimContext, default_registry, stop_all
from tests.paths import ROOT

EGOV = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
IIN = "871008401427"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def value(secret: object) -> str:
    """The password a manifest's field stands for (a reference resolved; a value as it is)."""
    if isinstance(secret, SecretRef):
        return secret.resolve()
    return secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)


def egov(*args: str | Path, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``egov ARGS`` in a real process of this checkout (its argv is what ``ps`` shows)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("EGOV_")}
    environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + environ["PYTHONPATH"] if environ.get("PYTHONPATH") else "")
    environ.update(env or {})
    return subprocess.run([*EGOV, *map(str, args)], capture_output=True, text=True, timeout=120, env=environ,
                          cwd=cwd, check=False)


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki") / "pki"
    TestPKI.create(directory)
    return directory


# --------------------------------------------------------------------------- keys and their passwords


def test_issue_takes_the_password_from_a_variable_and_writes_the_keystore_0600(tmp_path: Path, pki_dir: Path) -> None:
    out = tmp_path / "RSA256_holder.p12"
    out.write_bytes(b"an older keystore, world-readable")
    out.chmod(0o644)
    done = egov("pki", "issue", pki_dir, "--iin", IIN, "--out", out, "--password-env", "HOLDER_P12_PASSWORD",
                env={"HOLDER_P12_PASSWORD": "holder-s3cret"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert mode(out) == 0o600  # replaced by a file only its owner may read
    assert KeyMaterial.from_pkcs12(out, "holder-s3cret").certificate is not None
    assert "holder-s3cret" not in done.stdout + done.stderr


def test_issue_refuses_a_password_file_others_may_read_and_writes_nothing(tmp_path: Path, pki_dir: Path) -> None:
    password = tmp_path / "p12.password"
    password.write_text("holder-s3cret\n")
    password.chmod(0o644)
    out = tmp_path / "RSA256_holder.p12"
    done = egov("pki", "issue", pki_dir, "--iin", IIN, "--out", out, "--password-file", password, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith(f"egov: secret file {password} may be read by other users (mode 0644); refused")
    assert "Traceback" not in done.stderr and "holder-s3cret" not in done.stderr
    assert not out.exists()
    assert mode(password) == 0o644  # a file we only read is not changed behind its owner's back
    password.chmod(0o600)
    done = egov("pki", "issue", pki_dir, "--iin", IIN, "--out", out, "--password-file", password, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert KeyMaterial.from_pkcs12(out, "holder-s3cret").certificate is not None  # the line break is not in it


def test_sign_refuses_a_world_readable_keystore_and_signs_with_a_prompted_password(
        tmp_path: Path, pki_dir: Path) -> None:
    p12 = TestPKI.load(pki_dir).issue(iin=IIN).write_pkcs12(tmp_path / "key.p12", "prompted-pw")
    document = tmp_path / "document.xml"
    document.write_bytes(b'<doc Id="d1"><v>1</v></doc>')
    signed = tmp_path / "signed.xml"
    p12.chmod(0o644)
    before = p12.read_bytes()
    refused = CliRunner().invoke(cli, ["sign", "--p12", str(p12), "--enveloped", str(document), str(signed)],
                                 input="prompted-pw\n")
    assert refused.exit_code == 1
    assert f"egov: PKCS#12 keystore {p12} may be read by other users (mode 0644); refused" in refused.output
    assert not signed.exists() and p12.read_bytes() == before and mode(p12) == 0o644
    p12.chmod(0o600)
    done = CliRunner().invoke(cli, ["sign", "--p12", str(p12), "--enveloped", str(document), str(signed)],
                              input="prompted-pw\n")
    assert done.exit_code == 0, done.output
    assert "prompted-pw" not in done.output  # asked without echo
    assert b"SignatureValue" in signed.read_bytes()


def test_a_password_given_two_ways_is_a_usage_error(tmp_path: Path, pki_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["pki", "issue", str(pki_dir), "--iin", IIN, "--out", str(tmp_path / "k.p12"),
                                      "--password", "a", "--password-env", "B"])
    assert result.exit_code == 2 and "give the password one way" in result.output
    assert not (tmp_path / "k.p12").exists()


# --------------------------------------------------------------------------- settings


def test_a_keystore_password_file_is_the_settings_one_way_and_others_may_not_read_it(tmp_path: Path) -> None:
    secret = tmp_path / "keystore.password"
    secret.write_text("from-the-file\n")
    secret.chmod(0o640)  # a service group may read it; other users may not
    assert load_settings(keystore_password_file=secret).keystore_password.get_secret_value() == "from-the-file"
    secret.chmod(0o604)
    with pytest.raises(ConfigurationError, match="may be read by other users") as refused:
        load_settings(keystore_password_file=secret)
    assert "from-the-file" not in str(refused.value)
    secret.chmod(0o600)
    with pytest.raises(ConfigurationError, match="both set"):
        load_settings(keystore_password_file=secret, keystore_password="inline")


# --------------------------------------------------------------------------- databases


def _world_readable_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS left_over (x)")
        db.execute("INSERT INTO left_over VALUES ('kept')")
    for name in (path, path.with_name(path.name + "-wal")):
        if not name.exists():
            name.write_bytes(b"")
        name.chmod(0o644)


def test_databases_are_created_0600_and_a_world_readable_one_is_tightened(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh" / "egov.db"
    store = FlowStore.from_url(f"sqlite:///{fresh}")
    store.create_flow(flow_id="f-1", service="school", operation="issue", diagram="portal", start_step="1",
                      data={"bin": "940140000385"}, now=dt.datetime.now(dt.UTC))
    written = list(fresh.parent.iterdir())
    assert {p.name for p in written} >= {"egov.db", "egov.db-wal", "egov.db-shm"}
    assert {p.name: mode(p) for p in written} == {p.name: 0o600 for p in written}
    store.engine.dispose()

    old = tmp_path / "old.db"
    _world_readable_sqlite(old)
    store = FlowStore.from_url(f"sqlite:///{old}")
    assert (mode(old), mode(old.with_name("old.db-wal"))) == (0o600, 0o600)
    with store.engine.connect() as conn:  # the data is still there: only the mode changed
        assert conn.exec_driver_sql("SELECT x FROM left_over").scalar() == "kept"
    store.engine.dispose()


def test_the_simulators_databases_and_ca_keys_are_0600(tmp_path: Path, pki_dir: Path) -> None:
    assert mode(pki_dir / "root-key.pem") == mode(pki_dir / "issuing-key.pem") == 0o600
    assert mode(pki_dir / "index.sqlite") == 0o600
    orders = tmp_path / "orders.db"
    _world_readable_sqlite(orders)
    PaymentStore(str(orders))
    assert mode(orders) == 0o600
    (pki_dir / "root-key.pem").chmod(0o644)
    try:
        with pytest.raises(ConfigurationError, match=r"root-key\.pem may be read by other users"):
            TestPKI.load(pki_dir)
    finally:
        (pki_dir / "root-key.pem").chmod(0o600)


def test_a_world_readable_keystore_is_refused_when_loaded(tmp_path: Path, pki_dir: Path) -> None:
    p12 = TestPKI.load(pki_dir).issue(iin=IIN).write_pkcs12(tmp_path / "key.p12", "pw")
    p12.chmod(0o604)
    with pytest.raises(KeystoreError, match=r"key.p12 may be read by other users \(mode 0604\)"):
        KeyMaterial.from_pkcs12(p12, "pw")
    p12.chmod(0o640)
    assert KeyMaterial.from_pkcs12(p12, "pw").certificate is not None


# --------------------------------------------------------------------------- the manifest and `egov sim up`


@pytest.fixture(scope="module")
def landscape(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landscape]:
    with Landscape.start(tmp_path_factory.mktemp("secrets-landscape")) as land:
        yield land


def test_the_manifest_names_where_passwords_are_and_only_its_owner_reads_it(
        landscape: Landscape, tmp_path: Path) -> None:
    path = landscape.write_manifest(tmp_path / "landscape.json")
    assert mode(path) == 0o600
    text = path.read_text(encoding="utf-8")
    e = landscape.endpoints
    secrets = [e.keystore_password, e.sender_password, e.employee_password]
    for secret in secrets:
        assert isinstance(secret, SecretRef) and secret.file is not None
        assert mode(Path(secret.file)) == 0o600
        assert value(secret) not in text  # the manifest holds the reference, not the value
    raw = json.loads(text)
    assert raw["keystore_password"] == {"file": e.keystore_password.file, "env": None}
    # another process attaches and builds its clients through the references
    attached = Landscape.attach(path)
    assert KeyMaterial.from_pkcs12(attached.endpoints.keystore_path, value(attached.endpoints.keystore_password))


def test_a_manifest_holding_a_password_in_clear_is_refused(landscape: Landscape, tmp_path: Path) -> None:
    raw = json.loads(landscape.write_manifest(tmp_path / "good.json").read_text(encoding="utf-8"))
    raw["keystore_password"] = "changeit"
    clear = tmp_path / "clear.json"
    clear.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="keystore_password is a password in clear") as refused:
        Endpoints.read(clear)
    assert "changeit" not in str(refused.value)
    ran = CliRunner().invoke(cli, ["flow", "run", "--service", "school", "--manifest", str(clear),
                                   "--db", f"sqlite:///{tmp_path / 'flows.db'}", "--out", str(tmp_path / "out")])
    assert ran.exit_code == 1 and "egov: landscape manifest" in ran.output and "Traceback" not in ran.output
    assert not (tmp_path / "flows.db").exists()  # refused before anything was written


def test_the_landscape_exports_password_files_not_passwords(tmp_path: Path) -> None:
    """What ``egov sim up`` prints for ``egov call gateway``: ``EGOV_*_PASSWORD_FILE`` (0600), no value."""
    ctx = SimContext(workdir=tmp_path / "sims")
    running = default_registry().start_all(ctx, {"pki", "gateway"})
    try:
        assert "EGOV_KEYSTORE_PASSWORD" not in ctx.env and "EGOV_GATEWAY_SENDER_PASSWORD" not in ctx.env
        files = {name: Path(ctx.env[f"{name}_FILE"]) for name in ("EGOV_KEYSTORE_PASSWORD",
                                                                   "EGOV_GATEWAY_SENDER_PASSWORD")}
        assert {mode(path) for path in files.values()} == {0o600}
        identity = ctx.identity()
        assert all(value not in "\n".join(ctx.env.values())
                   for value in (identity.keystore_password, identity.sender_password))
        settings = load_settings(keystore_path=ctx.env["EGOV_KEYSTORE_PATH"],
                                 keystore_password_file=files["EGOV_KEYSTORE_PASSWORD"],
                                 gateway_sender_password_file=files["EGOV_GATEWAY_SENDER_PASSWORD"])
        assert settings.gateway_sender_password is not None and settings.keystore_password is not None
        assert settings.gateway_sender_password.get_secret_value() == identity.sender_password
        assert mode(ctx.keystore_path) == 0o600
        KeyMaterial.from_pkcs12(ctx.keystore_path, settings.keystore_password.get_secret_value())
    finally:
        stop_all(running)
