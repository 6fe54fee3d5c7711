"""Everything recordings need, built from the config directory, for the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cti.events import DomainEvent
from hotline.storage.db import Database
from recordings.policy import RecordingConfig
from recordings.scoring import ScoringForm, load_forms
from recordings.service import AmiPort, RecordingService
from recordings.store import RecordingStore
from recordings.yamlconf import load_model

CONFIG_FILE = "recording.yaml"
FORMS_DIR = "qa"


def load_recording_config(config_dir: Path) -> RecordingConfig:
    """``<config_dir>/recording.yaml``; raises ConfigError naming file, line and column."""
    return load_model(RecordingConfig, config_dir / CONFIG_FILE)


@dataclass
class RecordingParts:
    config: RecordingConfig
    store: RecordingStore
    service: RecordingService
    forms: dict[str, ScoringForm]


def build_recordings(
    config_dir: Path,
    database: Database,
    ami: AmiPort,
    publish: Callable[[DomainEvent], None],
) -> RecordingParts:
    config = load_recording_config(config_dir)
    forms_dir = config_dir / FORMS_DIR
    forms = load_forms(forms_dir) if forms_dir.is_dir() else {}
    store = RecordingStore(database)
    return RecordingParts(config, store, RecordingService(config, ami, store, publish), forms)
