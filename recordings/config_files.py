"""Where recordings' configuration lives in the config directory: ``recording.yaml`` (the
policy) and ``qa/*.yaml`` (the scoring forms). Errors name file, line and column."""

from __future__ import annotations

from pathlib import Path

from recordings.policy import RecordingConfig
from recordings.scoring import ScoringForm, load_forms
from recordings.yamlconf import load_model

CONFIG_FILE = "recording.yaml"
FORMS_DIR = "qa"


def load_recording_config(config_dir: Path) -> RecordingConfig:
    """``<config_dir>/recording.yaml``; raises ConfigError naming file, line and column."""
    return load_model(RecordingConfig, config_dir / CONFIG_FILE)


def load_qa_forms(config_dir: Path) -> dict[str, ScoringForm]:
    """``<config_dir>/qa/*.yaml``; none when the folder is absent."""
    forms_dir = config_dir / FORMS_DIR
    return load_forms(forms_dir) if forms_dir.is_dir() else {}
