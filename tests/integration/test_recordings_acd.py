"""A call answered through the real ACD is recorded: the whole engine (``build_engine`` +
``serve``) on the test PBX, no event published by the test.

The caller dials the bank (``Local/96002@hotline-entry``), picks Chinese and "lost card", keys a
card number (a sensitive collect: the IVR asks the recording service for silence around it) and
is queued; agent1 (a Local test agent) rings ``RING_S`` s, talks ``TALK_S`` s and hangs up. The
recording service starts MixMonitor on the answer it hears on the bus and finalizes the file at
the end of the call. The configuration (``tests/fixtures/recordings_acd``) is the live e2e bank
with ``record: always``, writing into the test instance's spool.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from recordings.policy import RecordingConfig
from recordings.records import StoredRecording
from tests.integration.audio import soxi_duration
from tests.integration.engine_rig import (
    CALLER,
    CARD,
    DEVICE,
    QUEUE,
    Running,
    build_prompts_for,
    call_through_ivr,
    running_engine,
    until_stored,
)
from tests.integration.pbx import PbxUnderTest

FIXTURE = Path(__file__).parent.parent / "fixtures" / "recordings_acd"
RING_S, TALK_S = 1, 3


@pytest.fixture(scope="module")
def prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_prompts_for(FIXTURE, tmp_path_factory.mktemp("prompts"))


@pytest.fixture
async def running(pbx: PbxUnderTest, tmp_path: Path, prompts: Path) -> AsyncIterator[Running]:
    async with running_engine(pbx, tmp_path, FIXTURE, prompts) as running:
        ami = running.ami
        await ami.action("Setvar", Variable="AGENT1_RING", Value=str(RING_S))
        await ami.action("Setvar", Variable="AGENT1_TALK", Value=str(TALK_S))
        try:
            yield running
        finally:
            for name in ("AGENT1_RING", "AGENT1_TALK"):
                await ami.action("Setvar", Variable=name, Value="")


async def until_finished(running: Running, call_id: str, within_s: float = 15) -> StoredRecording:
    """The recording row once the service has hashed the closed file."""
    assert running.engine.recordings is not None
    store = running.engine.recordings.store
    async with asyncio.timeout(within_s):
        while True:
            row = await store.get(call_id)
            if row is not None and row.sha256 is not None:
                return row
            await asyncio.sleep(0.2)


async def test_a_call_answered_through_the_acd_is_recorded(
    running: Running, tmp_path: Path
) -> None:
    started = time.monotonic()
    engine = running.engine
    assert engine.acd is not None and engine.recordings is not None
    config: RecordingConfig = engine.recordings.service.config
    await engine.acd.login("agent1", DEVICE)

    # Chinese, lost card, card number
    call_id = await call_through_ivr(
        running.ami, f"1 1 {CARD}#", leg="rec-acd", name="Recordings ACD"
    )
    call = await until_stored(tmp_path / "hotline.db", call_id, "answered", 30)
    row = await until_finished(running, call_id)
    path = config.host_dir / row.path
    try:
        assert call["agent_id"] == "agent1" and call["queue"] == QUEUE
        assert (row.agent_id, row.queue, row.caller) == ("agent1", QUEUE, CALLER)
        # Filed under the hotline's product (call.started carries it from the IVR).
        assert row.product == "bank"
        assert row.path.endswith(f"/bank/{call_id}.wav")
        assert path.is_file()
        body = path.read_bytes()
        assert row.size_bytes == len(body) and row.sha256 == hashlib.sha256(body).hexdigest()
        # From the answer to agent1's hang-up: TALK_S, plus AMI and audiohook latency.
        duration = soxi_duration(path)
        assert TALK_S - 0.5 < duration < TALK_S + 3, duration
        assert row.duration_s is not None and abs(row.duration_s - duration) < 0.05
        # The card number was collected before the answer: the IVR's mute and unmute are
        # audited as intents (nothing was recording yet), and the recording starts unmuted.
        store = engine.recordings.store
        trail = [(a.action, a.actor) for a in await store.audit_trail(call_id)]
        assert trail == [("mute-intent", "ivr"), ("unmute-intent", "ivr")], trail
        assert time.monotonic() - started < 40
    finally:
        path.unlink(missing_ok=True)
