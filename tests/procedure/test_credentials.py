"""Secret references: resolved when asked, from a file (0600) or a variable; never holding the value."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pydantic
import pytest

from adapters.core.errors import ConfigurationError, KeystoreError
from procedure.credentials import KeyRef, SecretRef, write_secret
from simulators.pki import IssuedKey


def test_a_secret_file_is_written_0600_and_read_back(tmp_path: Path) -> None:
    ref = write_secret(tmp_path / "deep" / "portal.password", "s3cret-ü")
    path = Path(str(ref.file))
    assert path == (tmp_path / "deep" / "portal.password").resolve()
    assert path.stat().st_mode & 0o777 == 0o600
    assert ref.resolve() == "s3cret-ü"
    assert "s3cret" not in ref.model_dump_json() and "s3cret" not in repr(ref)  # the reference only
    assert ref.describe() == f"file {path}"


def test_rewriting_a_secret_keeps_it_0600_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "typed"
    target.write_text("old")
    target.chmod(0o644)
    ref = write_secret(target, "new")
    assert ref.resolve() == "new"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["typed"]


def test_one_trailing_line_break_is_not_part_of_the_secret(tmp_path: Path) -> None:
    (tmp_path / "unix").write_text("pw\n")
    (tmp_path / "dos").write_bytes(b"pw\r\n")
    (tmp_path / "two").write_text("pw\n\n")
    for name in ("unix", "dos", "two"):
        (tmp_path / name).chmod(0o600)  # a secret file others may read is refused
    assert SecretRef(file=str(tmp_path / "unix")).resolve() == "pw"
    assert SecretRef(file=str(tmp_path / "dos")).resolve() == "pw"
    assert SecretRef(file=str(tmp_path / "two")).resolve() == "pw\n"


def test_a_secret_from_an_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = SecretRef(env="EGOV_TEST_OFFICER_PASSWORD")
    monkeypatch.setenv("EGOV_TEST_OFFICER_PASSWORD", "from-env")
    assert ref.resolve() == "from-env"
    monkeypatch.delenv("EGOV_TEST_OFFICER_PASSWORD")
    with pytest.raises(ConfigurationError, match="env EGOV_TEST_OFFICER_PASSWORD: the variable is not set"):
        ref.resolve()


def test_a_missing_file_is_a_configuration_error_naming_the_reference(tmp_path: Path) -> None:
    ref = SecretRef(file=str(tmp_path / "absent"))
    with pytest.raises(ConfigurationError, match=f"secret file {tmp_path / 'absent'}: cannot read") as caught:
        ref.resolve()
    assert caught.value.code == "EGOV110"


@pytest.mark.parametrize("fields", [{}, {"file": "/a", "env": "B"}, {"file": ""}, {"env": ""}, {"value": "pw"}])
def test_a_reference_names_exactly_one_source(fields: dict[str, str]) -> None:
    with pytest.raises(pydantic.ValidationError):
        SecretRef.model_validate(fields)


def test_a_key_reference_loads_the_pkcs12_with_its_referenced_password(
        tmp_path: Path, issue_key: Callable[..., IssuedKey]) -> None:
    issued = issue_key(iin="871008401427", bin="940140000385", org="Key holder")
    path = issued.write_pkcs12(tmp_path / "key.p12", "p12-password")
    key = KeyRef(path=str(path), password=write_secret(tmp_path / "key.password", "p12-password")).load()
    assert key.certificate.serial_number == issued.certificate.serial_number
    wrong = KeyRef(path=str(path), password=write_secret(tmp_path / "wrong.password", "not-it"))
    with pytest.raises(KeystoreError, match="cannot open PKCS#12 keystore"):
        wrong.load()
