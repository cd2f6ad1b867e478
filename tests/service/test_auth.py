"""Callers: API keys stored as SHA-256 digests in a 0600 file, allow-lists with wildcards, 401/403 as JSON."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.core.errors import ConfigurationError, ValidationError
from cli.main import cli
from harness.landscape import MINISTRY_BIN
from service.callers import Caller, CallersRegistry, add_caller, key_digest, read_callers, remove_caller
from tests.service.conftest import Running, error_of

LOOKUP = f"/api/v1/legal-entities/{MINISTRY_BIN}"


def test_no_key_and_an_unknown_key_are_401(service: Running) -> None:
    missing = service.get(LOOKUP, caller=None)
    assert error_of(missing, 401, "EGOV601")["message"].startswith("no API key")
    assert missing.headers["WWW-Authenticate"] == 'ApiKey header="X-API-Key"'
    error_of(service.get(LOOKUP, caller=None, headers={"X-API-Key": "egk_not-a-key"}), 401, "EGOV601")


def test_a_caller_without_the_permission_is_403(service: Running) -> None:
    assert service.get(LOOKUP, caller="lookup").status_code == 200
    error = error_of(service.get("/api/v1/licences?number=X", caller="lookup"), 403, "EGOV602")
    assert "'elicense:search'" in error["message"] and "'lookup'" in error["message"]
    error_of(service.post("/api/v1/trust/verify", data=b"<a/>", caller="echo"), 403, "EGOV602")


def test_a_caller_added_while_running_is_known_at_once_and_a_removed_one_refused(service: Running) -> None:
    key = add_caller(service.callers_file, "late", ["legal_entities:*"])
    assert service.get(LOOKUP, caller=None, headers={"X-API-Key": key}).status_code == 200
    assert remove_caller(service.callers_file, "late")
    error_of(service.get(LOOKUP, caller=None, headers={"X-API-Key": key}), 401, "EGOV601")


@pytest.mark.parametrize(("allow", "permission", "allowed"), [
    (("*",), "payments:create", True),
    (("payments:*",), "payments:cancel", True),
    (("payments:*",), "paymentsX:create", False),
    (("shep:Gbdul*",), "shep:GbdulInfoByBin_v2", True),
    (("shep:Gbdul*",), "shep:ECHO", False),
    (("shep:ECHO",), "shep:echo", False),  # case-sensitive, as serviceIds are
    (("legal_entities:lookup", "trust:verify"), "trust:verify", True),
])
def test_permissions_match_with_wildcards(allow: tuple[str, ...], permission: str, allowed: bool) -> None:
    caller = Caller(name="c", key_sha256="0" * 64, allow=allow)
    assert caller.allows(permission) is allowed


def test_the_callers_file_keeps_only_digests_and_is_0600(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "callers.json"
    key = add_caller(path, "crm", ["payments:*"])
    assert key.startswith("egk_") and len(key) > 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert key not in text and key_digest(key) in text
    assert json.loads(text)["callers"][0]["allow"] == ["payments:*"]
    registry = CallersRegistry(path)
    assert registry.authenticate(key) is not None and registry.authenticate(key + "x") is None
    rotated = add_caller(path, "crm", ["payments:status"])  # the same name again: a new key
    assert registry.authenticate(key) is None and registry.authenticate(rotated) is not None
    assert [c.name for c in read_callers(path).callers] == ["crm"]


def test_a_callers_file_others_may_write_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "callers.json"
    add_caller(path, "crm", ["*"])
    os.chmod(path, 0o622)
    with pytest.raises(ConfigurationError, match="may be written by others"):
        CallersRegistry(path)


def test_bad_names_and_permissions_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="name"):
        add_caller(tmp_path / "c.json", "../evil", ["*"])
    with pytest.raises(ValidationError, match="allow"):
        add_caller(tmp_path / "c.json", "ok", [])
    with pytest.raises(ValidationError, match="allow"):
        add_caller(tmp_path / "c.json", "ok", ["has space:x"])
    with pytest.raises(ValidationError, match="allows nothing the service offers") as typo:
        add_caller(tmp_path / "c.json", "ok", ["payments:craete"])  # a typo would have allowed nothing
    assert typo.value.context.get("value") == "payments:craete" or "payments:craete" in str(typo.value)
    assert not (tmp_path / "c.json").exists()
    # what the service offers is accepted, wildcards and any gateway serviceId included
    add_caller(tmp_path / "c.json", "ok", ["payments:*", "flows:start", "shep:AnyServiceId", "*:read", "*"])


def test_the_cli_adds_lists_and_removes_callers(tmp_path: Path) -> None:
    path = tmp_path / "callers.json"
    added = CliRunner().invoke(cli, ["serve", "add-caller", "crm", "--allow", "legal_entities:lookup",
                                     "--allow", "shep:Gbdul*", "--callers-file", str(path)])
    assert added.exit_code == 0, added.output
    key = added.output.strip().splitlines()[-1]
    assert key.startswith("egk_") and key not in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = CliRunner().invoke(cli, ["serve", "callers", "--callers-file", str(path)])
    assert "crm" in listed.output and "shep:Gbdul*" in listed.output and key not in listed.output
    removed = CliRunner().invoke(cli, ["serve", "remove-caller", "crm", "--callers-file", str(path)])
    assert removed.exit_code == 0 and read_callers(path).callers == []
    again = CliRunner().invoke(cli, ["serve", "remove-caller", "crm", "--callers-file", str(path)])
    assert again.exit_code == 1 and "no caller named crm" in again.output
    bad = CliRunner().invoke(cli, ["serve", "add-caller", "x y", "--allow", "*", "--callers-file", str(path)])
    assert bad.exit_code == 1 and "EGOV100" in bad.output and "Traceback" not in bad.output
