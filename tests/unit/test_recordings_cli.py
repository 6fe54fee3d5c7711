"""``hotline recordings purge`` end to end on a SQLite file: the report, the file deleted, the
row marked; a broken ``recording.yaml`` is refused before anything is touched."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from cti.settings import DatabaseSettings
from hotline.cli import app
from hotline.storage import Database
from hotline.storage.migrate import upgrade_async
from hotline.storage.recording_store import SqlRecordingStore
from recordings.records import StoredRecording

OLD = datetime.now(UTC) - timedelta(days=40)


def setup(tmp_path: Path, retention_days: int = 30) -> tuple[dict[str, str], Path]:
    """A config folder and a database with one recording started 40 days ago, and its file."""
    config = tmp_path / "config"
    config.mkdir()
    host = tmp_path / "rec"
    (config / "recording.yaml").write_text(
        f"asterisk_dir: /ast/rec\nhost_dir: {host}\n"
        f"default: {{record: always, retention_days: {retention_days}}}\n",
        encoding="utf-8",
    )
    wav = host / "old" / "c1.wav"
    wav.parent.mkdir(parents=True)
    wav.write_bytes(b"RIFF")
    database = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/hotline.db")

    async def seed() -> None:
        await upgrade_async(database)
        async with Database(database) as db:
            await SqlRecordingStore(db).add_started(
                call_id="c1", agent_id="a1", queue="q", product="p", caller=None,
                path="old/c1.wav", started_at=OLD,
            )  # fmt: skip

    asyncio.run(seed())
    env = {"HOTLINE_DATABASE__URL": database.url, "HOTLINE_CONFIG_DIR": str(config)}
    return env, wav


def stored(env: dict[str, str]) -> StoredRecording | None:
    async def get() -> StoredRecording | None:
        async with Database(DatabaseSettings(url=env["HOTLINE_DATABASE__URL"])) as db:
            return await SqlRecordingStore(db).get("c1")

    return asyncio.run(get())


def test_purge_dry_run_then_for_real(tmp_path: Path) -> None:
    env, wav = setup(tmp_path)
    dry = CliRunner().invoke(app, ["recordings", "purge", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output) == {"dry_run": True, "selected": 1, "deleted": 0,
                                      "missing": 0, "failed": 0, "calls": ["c1"]}  # fmt: skip
    assert wav.exists()
    done = CliRunner().invoke(app, ["recordings", "purge"], env=env)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["deleted"] == 1
    assert not wav.exists()
    row = stored(env)
    assert row is not None and row.purged_at is not None


def test_a_broken_policy_is_refused(tmp_path: Path) -> None:
    env, wav = setup(tmp_path)
    (Path(env["HOTLINE_CONFIG_DIR"]) / "recording.yaml").write_text("host_dir: /x\n")
    result = CliRunner().invoke(app, ["recordings", "purge"], env=env)
    assert result.exit_code == 2 and "asterisk_dir" in result.output
    assert wav.exists()
