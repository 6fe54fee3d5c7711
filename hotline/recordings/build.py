"""Everything recordings need, built from the config directory, for the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cti.events import DomainEvent
from hotline.storage.db import Database
from hotline.storage.recording_store import SqlRecordingStore
from recordings.config_files import load_qa_forms, load_recording_config
from recordings.policy import RecordingConfig
from recordings.ports import RecordingPbx, RecordingStore
from recordings.scoring import ScoringForm
from recordings.service import RecordingService


@dataclass
class RecordingParts:
    config: RecordingConfig
    store: RecordingStore
    service: RecordingService
    forms: dict[str, ScoringForm]


def build_recordings(
    config_dir: Path,
    database: Database,
    call_control: RecordingPbx,
    publish: Callable[[DomainEvent], None],
) -> RecordingParts:
    config = load_recording_config(config_dir)
    store = SqlRecordingStore(database)
    service = RecordingService(config, call_control, store, publish)
    return RecordingParts(config, store, service, load_qa_forms(config_dir))
