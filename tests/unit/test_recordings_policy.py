"""Recording policy, path safety, retention selection and scoring forms (all sans IO)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from recordings.config_files import load_recording_config
from recordings.policy import (
    PathOutsideBase,
    RecordingConfig,
    decide,
    relative_path,
    resolve_inside,
    retention_days,
)
from recordings.records import StoredRecording
from recordings.retention import select_expired
from recordings.scoring import ScoreError, load_forms, score_total
from recordings.yamlconf import ConfigError, load_model

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def config(**extra: Any) -> RecordingConfig:
    return RecordingConfig.model_validate(
        {"asterisk_dir": "/ast/rec", "host_dir": "/host/rec", **extra}
    )


def test_shipped_config_and_forms_load() -> None:
    shipped = load_recording_config(CONFIG_DIR)
    assert retention_days(shipped, "credit_card") == 2555
    assert set(load_forms(CONFIG_DIR / "qa")) == {"standard-call", "complaints"}


def test_precedence_queue_product_default() -> None:
    cfg = config(
        products={"vip": {"record": "never"}},
        queues={"q-vip": {"product": "vip"}, "q-train": {"record": "always", "product": "vip"}},
    )
    assert decide(cfg, "c1", "q-vip", None).record is False
    assert decide(cfg, "c1", "q-train", None).record is True  # the queue rule wins
    assert decide(cfg, "c1", "other", "cards") == decide(cfg, "c1", "other", "cards")
    assert decide(cfg, "c1", None, None).product == "unknown"


def test_percent_sampling_is_stable_and_roughly_right() -> None:
    cfg = config(default={"record": "percent", "percent": 25})
    picked = [decide(cfg, f"call-{n}", None, None).record for n in range(4000)]
    assert 800 < sum(picked) < 1200
    assert picked == [decide(cfg, f"call-{n}", None, None).record for n in range(4000)]


def test_paths_are_safe_and_stay_inside(tmp_path: Path) -> None:
    cfg = config()
    rel = relative_path(cfg, call_id="../../etc/passwd", product="a/b", started=T0)
    assert rel == "2025-03-01/a_b/.._.._etc_passwd.wav"
    (tmp_path / "inside.wav").write_bytes(b"x")
    assert resolve_inside(tmp_path, "inside.wav") == tmp_path / "inside.wav"
    for bad in ("../outside.wav", "/etc/passwd", "a/../../x.wav", "."):
        with pytest.raises(PathOutsideBase):
            resolve_inside(tmp_path, bad)
    (tmp_path / "link.wav").symlink_to("/etc/hostname")
    with pytest.raises(PathOutsideBase):
        resolve_inside(tmp_path, "link.wav")


def test_config_errors_name_file_line_column(tmp_path: Path) -> None:
    path = tmp_path / "recording.yaml"
    path.write_text(
        "asterisk_dir: relative/dir\nhost_dir: /x\npath_template: '{date}/{nope}.wav'\n"
        "queues:\n  q1: {retention_days: 3}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_model(RecordingConfig, path)
    text = str(caught.value)
    assert f"{path}:1:1: asterisk_dir: Value error, asterisk_dir must be an absolute" in text
    assert f"{path}:3:1: path_template: Value error, path_template may use only" in text
    path.write_text("asterisk_dir: /a\nasterisk_dir: /b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r":2:1: duplicate key"):
        load_model(RecordingConfig, path)


def row(call_id: str, product: str, age_days: float, **kw: Any) -> StoredRecording:
    return StoredRecording(
        id=0, call_id=call_id, agent_id=None, queue=None, product=product, caller=None,
        path=f"{call_id}.wav", started_at=T0 - timedelta(days=age_days), **kw,
    )  # fmt: skip


def test_retention_selection() -> None:
    cfg = config(default={"record": "always", "retention_days": 30},
                 products={"cards": {"retention_days": 90}})  # fmt: skip
    rows = [
        row("old", "other", 31),
        row("young", "other", 29),
        row("card-young", "cards", 60),
        row("card-old", "cards", 91),
        row("held", "other", 400, legal_hold=True),
        row("gone", "other", 400, purged_at=T0),
    ]
    assert [item.call_id for item in select_expired(cfg, rows, T0)] == ["old", "card-old"]


def test_scoring_form_validation_and_totals(tmp_path: Path) -> None:
    forms = load_forms(CONFIG_DIR / "qa")
    form = forms["standard-call"]
    full = {"greeting": 5, "verification": 1, "pci": 1, "resolution": 5, "courtesy": 5}
    assert score_total(form, full) == 100.0
    assert score_total(form, {**full, "pci": None, "resolution": 4}) == 93.75
    with pytest.raises(ScoreError, match="'greeting' needs a value"):
        score_total(form, {**full, "greeting": None})
    with pytest.raises(ScoreError, match=r"'verification': 3 is outside 0..1"):
        score_total(form, {**full, "verification": 3})
    with pytest.raises(ScoreError, match="unknown item 'smile'"):
        score_total(form, {**full, "smile": 1})
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: Bad Id\nname: x\nscale: {min: 5, max: 1}\nitems:\n  - {id: a, label: A, weight: 0}\n"
        "  - {id: a, label: B, weight: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_forms(tmp_path)
    problems = "\n".join(caught.value.problems)
    assert f"{bad}:1:1: id: String should match pattern" in problems
    assert f"{bad}:3:1: scale:" in problems and "greater than min" in problems
    assert f"{bad}:5:23: items.0.weight: Input should be greater than 0" in problems
