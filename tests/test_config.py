"""Settings: every one documented, unsafe ones refused, sources in the right order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kith.config import DEFAULT_SECRET_KEY, Settings, SettingsError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \| `KITH_([A-Z_]+)` \|", text, re.MULTILINE))
    missing = {name for name in Settings.model_fields if (name, name.upper()) not in documented}
    assert not missing, f"settings missing from docs/configuration.md: {sorted(missing)}"
    stale = {name for name, _ in documented} - set(Settings.model_fields)
    assert not stale, f"docs/configuration.md documents settings that do not exist: {sorted(stale)}"


def test_default_secret_is_refused_outside_demo_mode() -> None:
    with pytest.raises(SettingsError, match="KITH_SECRET_KEY"):
        Settings(secret_key=DEFAULT_SECRET_KEY, demo=False).check_for_serving()
    with pytest.raises(SettingsError, match="16 characters"):
        Settings(secret_key="short", demo=False).check_for_serving()
    Settings(secret_key=DEFAULT_SECRET_KEY, demo=True).check_for_serving()
    Settings(secret_key="x" * 32, demo=False).check_for_serving()


def test_environment_and_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "kith.toml"
    toml.write_text('port = 9001\nhost = "10.1.2.3"\nlog_level = "warning"\n', encoding="utf-8")
    monkeypatch.setenv("KITH_CONFIG_FILE", str(toml))
    monkeypatch.setenv("KITH_PORT", "9002")
    settings = Settings()
    assert settings.port == 9002  # the environment wins over the file
    assert settings.host == "10.1.2.3"
    assert settings.log_level == "warning"


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITH_DATABASE_URL", "mysql://nope")
    with pytest.raises(ValueError, match="database_url"):
        Settings()


def test_redacted_hides_secrets() -> None:
    settings = Settings(
        secret_key="a-very-secret-value-123", database_url="postgresql://kith:hunter2@db/kith"
    )
    shown = settings.redacted()
    assert shown["secret_key"] == "***"
    assert "hunter2" not in shown["database_url"]
