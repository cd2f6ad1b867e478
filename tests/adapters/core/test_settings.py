from pathlib import Path

from adapters.core.settings import Settings, load_settings
from tests.paths import README


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [f"EGOV_{name.upper()}" for name in Settings.model_fields if f"`EGOV_{name.upper()}`" not in text]
    assert missing == []


def test_environment_and_file_override_defaults(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "egov.env"
    cfg.write_text("EGOV_RETRY_MAX_ATTEMPTS=6\nEGOV_GATEWAY_SENDER_ID=FROM_FILE\n")
    monkeypatch.setenv("EGOV_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("EGOV_GATEWAY_SENDER_ID", "FROM_ENV")
    s = load_settings()
    assert s.retry_max_attempts == 6
    assert s.gateway_sender_id == "FROM_ENV"  # the environment wins over the file
    assert load_settings(retry_max_attempts=2).retry_max_attempts == 2
