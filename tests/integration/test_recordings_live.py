"""Recordings on the real Asterisk: MixMonitor started by the service on the caller channel,
an IVR-style mute span, metadata from the finished file, and the muted span silent in it.

The caller leg (``[test-recording]``) plays a beep in a loop towards a Local test agent, so
every unmuted second of the mix is loud; sox measures the RMS amplitude per span.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cti.ami.call_control import AmiCallControl
from cti.ami.client import AmiClient
from cti.events import (
    CallAnswered,
    CallEnded,
    CallQueued,
    CallStarted,
    DomainEvent,
    RecordingMuted,
    RecordingStarted,
    RecordingStopped,
    RecordingUnmuted,
)
from cti.settings import DatabaseSettings
from hotline.storage import Database
from hotline.storage.migrate import upgrade_async
from hotline.storage.recording_store import SqlRecordingStore
from recordings.policy import RecordingConfig
from recordings.service import RecordingService
from tests.integration.audio import rms, soxi_duration
from tests.integration.pbx import PbxUnderTest

LOUD = 0.02  # the beep loop measures ~0.08-0.11
SILENT = 0.001


@dataclass
class Caller:
    uniqueid: str


async def ensure_dialplan(ami: AmiClient, pbx: PbxUnderTest) -> None:
    # The shared test PBX may run a dialplan older than the rendered files.
    if "test-recording" not in await ami.command("dialplan show tone@test-recording"):
        pbx.pbx.render_config()
        await ami.command("dialplan reload")


async def wait_up(ami: AmiClient, call_id: str, within_s: float = 10.0) -> None:
    # Newexten is filtered out by the AMI client's settings: ask the channel itself.
    async with asyncio.timeout(within_s):
        while True:
            reply = await ami.action(
                "Getvar", Channel=call_id, Variable="CHANNEL(state)", check=False
            )
            if reply.get("Value") == "Up":
                return
            await asyncio.sleep(0.1)


async def test_recording_with_a_silent_muted_span(pbx: PbxUnderTest, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    host_dir = pbx.pbx.instance_dir / "spool" / "recordings" / f"test-{run}"
    config = RecordingConfig.model_validate(
        {"asterisk_dir": f"{pbx.pbx.instance_path}/spool/recordings/test-{run}",
         "host_dir": str(host_dir), "queues": {"cards": {"product": "credit_card"}}}
    )  # fmt: skip
    db_settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/rec.db")
    await upgrade_async(db_settings)
    published: list[DomainEvent] = []
    call_id = f"rec-{run}"
    try:
        async with AmiClient(pbx.ami_settings) as ami, Database(db_settings) as db:
            await ensure_dialplan(ami, pbx)
            store = SqlRecordingStore(db)
            service = RecordingService(config, AmiCallControl(ami), store, published.append)
            await ami.action(
                "Originate", Channel="Local/agent1@test-agents/n", Context="test-recording",
                Exten="tone", Priority="1", Variable=["TALK=30"], ChannelId=call_id,
                OtherChannelId=f"{call_id}-agent", Async="true",
            )  # fmt: skip
            await wait_up(ami, call_id)
            await service.handle(CallStarted(call_id=call_id, caller="95555"))
            await service.handle(CallQueued(call_id=call_id, queue="cards"))
            await service.handle(CallAnswered(call_id=call_id, agent_id="agent1", queue="cards"))
            started = time.monotonic()
            await asyncio.sleep(2.0)
            await service.set_muted(Caller(call_id), True)  # the IVR's port
            muted_at = time.monotonic() - started
            await asyncio.sleep(3.0)
            await service.set_muted(Caller(call_id), False)
            unmuted_at = time.monotonic() - started
            await asyncio.sleep(2.0)
            await ami.action("Hangup", Channel=call_id)
            total = time.monotonic() - started
            await service.handle(CallEnded(call_id=call_id, queue="cards"))
            await service.drain()
            row = await store.get(call_id)
            trail = [(a.action, a.actor) for a in await store.audit_trail(call_id)]

        assert row is not None and row.path.endswith(f"credit_card/{call_id}.wav")
        path = host_dir / row.path
        assert path.is_file()
        body = path.read_bytes()
        assert row.size_bytes == len(body) and row.sha256 == hashlib.sha256(body).hexdigest()
        duration = soxi_duration(path)
        assert abs(duration - total) < 0.6, (duration, total)
        assert row.duration_s is not None and abs(row.duration_s - duration) < 0.05
        assert (row.agent_id, row.queue, row.product, row.caller) == (
            "agent1", "cards", "credit_card", "95555"
        )  # fmt: skip
        assert trail == [("mute", "ivr"), ("unmute", "ivr")]
        kinds = [type(event) for event in published]
        assert kinds == [RecordingStarted, RecordingMuted, RecordingUnmuted, RecordingStopped]
        # Margins of 0.4 s on each side of the span absorb AMI and audiohook latency.
        assert rms(path, 0.3, muted_at - 0.7) > LOUD
        assert rms(path, muted_at + 0.4, unmuted_at - muted_at - 0.8) < SILENT
        assert rms(path, unmuted_at + 0.4, total - unmuted_at - 0.8) > LOUD
    finally:
        shutil.rmtree(host_dir, ignore_errors=True)
