"""Settings: validated once at start-up from the environment, .env and an optional YAML file,
with loopback defaults and every problem named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from cti.settings import load_settings


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A developer's .env or HOTLINE_* variables must not leak into these tests.
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("HOTLINE_"):
            monkeypatch.delenv(name)


def test_defaults_bind_to_loopback() -> None:
    settings = load_settings()
    assert settings.ami.host == settings.agi.host == settings.http.host == "127.0.0.1"
    assert (settings.ami.port, settings.agi.port, settings.http.port) == (5038, 4573, 8000)
    assert settings.database.url.startswith("sqlite+aiosqlite://")


def test_environment_nested_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HOTLINE_AMI__SECRET=from-dotenv\nHOTLINE_AGI__PORT=4999\n")
    monkeypatch.setenv("HOTLINE_AGI__PORT", "4600")  # the environment wins over .env
    settings = load_settings()
    assert settings.ami.secret.get_secret_value() == "from-dotenv"
    assert settings.agi.port == 4600
    assert "from-dotenv" not in repr(settings)  # secrets never print


def test_optional_yaml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text("http:\n  port: 8100\nlog_level: DEBUG\n")
    monkeypatch.setenv("HOTLINE_SETTINGS_FILE", str(path))
    settings = load_settings()
    assert settings.http.port == 8100
    assert settings.log_level == "DEBUG"


def test_every_problem_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AMI__PORT", "99999")
    monkeypatch.setenv("HOTLINE_DATABASE__URL", "mysql://x")
    with pytest.raises(ValidationError) as caught:
        load_settings()
    text = str(caught.value)
    assert "ami.port" in text
    assert "database.url" in text
