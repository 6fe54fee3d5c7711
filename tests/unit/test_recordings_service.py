"""RecordingService over a fake PBX and a real SQLite file: start on answer, PCI mute (applied,
intent before start, audited every time; a refused one audited as failed), finalize with
size/sha256/duration, purge; API roles."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import wave
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cti.call_control import CallControlError
from cti.events import (
    CallAnswered,
    CallEnded,
    CallQueued,
    CallStarted,
    DomainBus,
    DomainEvent,
    IvrNode,
    RecordingMuted,
    RecordingStarted,
    RecordingStopped,
    RecordingUnmuted,
)
from cti.settings import ApiSettings, ApiToken, Settings
from hotline.api.app import create_app
from hotline.api.ports import ApiServices, RecordingsApi
from hotline.storage import Database
from hotline.storage.recording_store import SqlRecordingStore
from recordings.policy import RecordingConfig
from recordings.retention import purge
from recordings.scoring import load_forms
from recordings.service import RecordingError, RecordingService
from tests.fakes.live import FakeDb, FakePbx
from tests.fakes.recordings import FakeClock, FakeRecordingPbx

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
FILE = "/ast/rec/2025-03-01/credit_card/1700.1.wav"


@dataclass
class Rig:
    service: RecordingService
    store: SqlRecordingStore
    pbx: FakeRecordingPbx
    events: list[DomainEvent]
    host: Path
    clock: FakeClock


@pytest.fixture
def rig(db: Database, tmp_path: Path) -> Rig:
    host = tmp_path / "rec"
    config = RecordingConfig.model_validate(
        {"asterisk_dir": "/ast/rec", "host_dir": str(host), "settle_timeout_s": 1,
         "queues": {"cards": {"product": "credit_card"}},
         "products": {"credit_card": {"retention_days": 30}}}
    )  # fmt: skip
    pbx, store, clock = FakeRecordingPbx(), SqlRecordingStore(db), FakeClock(T0)
    events: list[DomainEvent] = []
    service = RecordingService(config, pbx, store, events.append, clock=clock)
    return Rig(service, store, pbx, events, host, clock)


def write_wav(path: Path, seconds: float) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x10\x00" * int(8000 * seconds))
    return path.read_bytes()


async def answer(rig: Rig, call_id: str = "1700.1") -> None:
    await rig.service.handle(CallStarted(call_id=call_id, caller="13800001111"))
    await rig.service.handle(CallQueued(call_id=call_id, queue="cards"))
    await rig.service.handle(CallAnswered(call_id=call_id, agent_id="a1", queue="cards"))


@dataclass
class Caller:
    uniqueid: str


async def test_ivr_mute_before_start_is_an_intent_honoured_at_start(rig: Rig) -> None:
    await rig.service.set_muted(Caller("1700.1"), True)  # inside the sensitive collect
    assert rig.pbx.calls == []
    await answer(rig)
    assert rig.pbx.calls == [("start", "1700.1", FILE), ("mute", "1700.1", True)]
    trail = [(a.action, a.actor) for a in await rig.store.audit_trail("1700.1")]
    assert trail == [("mute-intent", "ivr"), ("mute", "system")]


async def test_ivr_span_closed_before_start_records_unmuted(rig: Rig) -> None:
    await rig.service.set_muted(Caller("1700.1"), True)
    await rig.service.set_muted(Caller("1700.1"), False)
    await answer(rig)
    assert rig.pbx.calls == [("start", "1700.1", FILE)]
    assert [type(e) for e in rig.events] == [RecordingMuted, RecordingUnmuted, RecordingStarted]
    intent, _, started = rig.events
    assert isinstance(intent, RecordingMuted) and isinstance(started, RecordingStarted)
    assert (intent.actor, intent.outcome, intent.agent_id) == ("ivr", "intent", None)
    assert (started.call_id, started.agent_id, started.queue, started.ts) == (
        "1700.1", "a1", "cards", T0
    )  # fmt: skip
    assert (started.path, started.product) == ("2025-03-01/credit_card/1700.1.wav", "credit_card")


async def test_agent_mute_unmute_and_finalize(rig: Rig) -> None:
    await answer(rig)
    assert await rig.service.mute("1700.1", True, actor="alice", reason="card") == "applied"
    assert await rig.service.mute("1700.1", False, actor="alice", reason="card") == "applied"
    body = write_wav(rig.host / "2025-03-01/credit_card/1700.1.wav", 2.5)
    await rig.service.handle(CallEnded(call_id="1700.1", queue="cards"))
    await rig.service.drain()
    row = await rig.store.get("1700.1")
    assert row is not None
    assert (row.agent_id, row.queue, row.product, row.caller) == (
        "a1", "cards", "credit_card", "13800001111"
    )  # fmt: skip
    assert row.size_bytes == len(body) and row.sha256 == hashlib.sha256(body).hexdigest()
    assert row.duration_s == 2.5
    stopped = rig.events[-1]
    assert isinstance(stopped, RecordingStopped)
    assert (stopped.duration_s, stopped.size_bytes, stopped.sha256) == (
        2.5, row.size_bytes, row.sha256
    )  # fmt: skip
    assert rig.clock.slept == [0.1]  # one look at the size, which had settled
    assert [a.action for a in await rig.store.audit_trail("1700.1")] == ["mute", "unmute"]
    # after the call: nothing to mute, still audited
    assert await rig.service.mute("1700.1", True, actor="bob", reason="late") == "intent"


async def test_a_file_that_never_appears_is_waited_for_on_the_clock_then_noted(rig: Rig) -> None:
    await answer(rig)
    rig.clock.wall = T0 + timedelta(seconds=4)
    await rig.service.handle(CallEnded(call_id="1700.1"))
    await rig.service.drain()
    row = await rig.store.get("1700.1")
    assert row is not None and (row.size_bytes, row.sha256) == (None, None)
    assert row.duration_s == 4.0  # from the answer to the end, by the wall clock
    assert sum(rig.clock.slept) == pytest.approx(1.0, abs=0.11)  # settle_timeout_s


async def test_product_comes_from_call_started_unless_the_queue_names_one(rig: Rig) -> None:
    await rig.service.handle(CallStarted(call_id="c1", product="bank"))
    await rig.service.handle(CallQueued(call_id="c1", queue="general"))
    await rig.service.handle(CallAnswered(call_id="c1", agent_id="a1", queue="general"))
    await rig.service.handle(CallStarted(call_id="c2", product="bank"))
    await rig.service.handle(CallQueued(call_id="c2", queue="cards"))
    await rig.service.handle(CallAnswered(call_id="c2", agent_id="a1", queue="cards"))
    assert [call[2] for call in rig.pbx.calls] == [
        "/ast/rec/2025-03-01/bank/c1.wav", "/ast/rec/2025-03-01/credit_card/c2.wav"
    ]  # fmt: skip


async def test_a_refused_start_records_nothing_and_a_refused_mute_is_audited(rig: Rig) -> None:
    rig.pbx.refuse = CallControlError("No such channel", gone=True)
    await answer(rig, "gone.1")
    assert await rig.store.get("gone.1") is None and rig.events == []
    rig.pbx.refuse = None
    await answer(rig)
    rig.pbx.refuse = CallControlError("AMI link down")
    with pytest.raises(RecordingError, match="could not mute: AMI link down"):
        await rig.service.mute("1700.1", True, actor="alice", reason="card")
    trail = [(a.action, a.actor, a.reason) for a in await rig.store.audit_trail("1700.1")]
    assert trail == [("mute-failed", "alice", "card (failed: AMI link down)")]
    failed = rig.events[-1]
    assert isinstance(failed, RecordingMuted) and failed.outcome == "failed"
    async with client_for(rig) as http:
        refused = await http.post("/api/v1/calls/1700.1/recording/unmute",
                                  headers=auth("supervisor"))  # fmt: skip
    assert refused.status_code == 502 and "AMI link down" in refused.json()["detail"]


async def test_it_consumes_the_call_events_from_the_bus(rig: Rig) -> None:
    bus = DomainBus()
    task = asyncio.create_task(rig.service.run(bus))
    await asyncio.sleep(0)  # subscribed
    bus.publish(IvrNode(call_id="1700.1", node="menu"))  # not consumed
    bus.publish(CallStarted(call_id="1700.1", caller="13800001111"))
    bus.publish(CallQueued(call_id="1700.1", queue="cards"))
    bus.publish(CallAnswered(call_id="1700.1", agent_id="a1", queue="cards"))
    for _ in range(20):
        if rig.pbx.calls:
            break
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert rig.pbx.calls == [("start", "1700.1", FILE)]


async def test_purge_respects_retention_and_legal_hold(rig: Rig) -> None:
    await answer(rig, "old.1")
    await answer(rig, "old.2")
    for call in ("old.1", "old.2"):
        write_wav(rig.host / f"2025-03-01/credit_card/{call}.wav", 0.1)
    await rig.store.set_legal_hold("old.2", True)
    later = T0 + timedelta(days=31)
    dry = await purge(rig.service.config, rig.store, now=later, dry_run=True)
    assert [item.call_id for item in dry.selected] == ["old.1"] and dry.deleted == 0
    report = await purge(rig.service.config, rig.store, now=later)
    assert report.deleted == 1
    assert not (rig.host / "2025-03-01/credit_card/old.1.wav").exists()
    assert (rig.host / "2025-03-01/credit_card/old.2.wav").exists()
    row = await rig.store.get("old.1")
    assert row is not None and row.purged_at == later


TOKENS = {
    "agent": ("agent1", "agent-token-000001"),
    "other-agent": ("agent2", "agent-token-000002"),
    "supervisor": (None, "super-token-000001"),
    "qa": (None, "qa-token-000000001"),
    "wallboard": (None, "wall-token-0000001"),
    "admin": (None, "admin-token-000001"),
}


def client_for(rig: Rig) -> httpx.AsyncClient:
    tokens = [
        ApiToken.model_validate(
            {"name": name, "role": name.replace("other-", ""), "token": token, "agent_id": agent}
        )
        for name, (agent, token) in TOKENS.items()
    ]
    recordings = RecordingsApi(rig.service, rig.store, load_forms(CONFIG_DIR / "qa"))
    services = ApiServices(FakePbx(), FakeDb(), recordings=recordings)
    app = create_app(Settings(api=ApiSettings(tokens=tokens)), services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who][1]}"}


async def test_api_access_control_and_range(rig: Rig) -> None:
    await answer(rig)
    body = write_wav(rig.host / "2025-03-01/credit_card/1700.1.wav", 1.0)
    await rig.service.handle(CallEnded(call_id="1700.1"))
    await rig.service.drain()
    async with client_for(rig) as http:
        audio = "/api/v1/recordings/1700.1/audio"
        for who in ("agent", "wallboard", "admin"):
            assert (await http.get(audio, headers=auth(who))).status_code == 403, who
        assert (await http.get(audio)).status_code == 401
        for who in ("agent", "wallboard"):
            assert (await http.get("/api/v1/recordings", headers=auth(who))).status_code == 403
        full = await http.get(audio, headers=auth("qa"))
        assert full.status_code == 200 and full.content == body
        part = await http.get(audio, headers={**auth("supervisor"), "Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == body[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(body)}"
        bad = await http.get(audio, headers={**auth("qa"), "Range": f"bytes={len(body)}-"})
        assert bad.status_code == 416
        found = await http.get("/api/v1/recordings?caller=13800001111", headers=auth("qa"))
        assert [r["call_id"] for r in found.json()] == ["1700.1"]
        assert "path" not in found.json()[0]

        # mute: the agent on the call, a supervisor; not another agent, not QA
        mute = "/api/v1/calls/1700.1/recording/mute"
        assert (await http.post(mute, headers=auth("other-agent"))).status_code == 403
        assert (await http.post(mute, headers=auth("qa"))).status_code == 403

        # legal hold: supervisor/admin only; scoring: supervisor/qa
        hold = "/api/v1/recordings/1700.1/legal-hold"
        assert (await http.put(hold, json={"reason": "x"}, headers=auth("qa"))).status_code == 403
        held = await http.put(hold, json={"reason": "dispute 42"}, headers=auth("admin"))
        assert held.status_code == 200 and held.json()["legal_hold"] is True
        score = {"form_id": "complaints", "items": {"acknowledge": 4, "reference": 1,
                                                     "timeline": 4}}  # fmt: skip
        assert (await http.post("/api/v1/recordings/1700.1/scores", json=score,
                                headers=auth("agent"))).status_code == 403  # fmt: skip
        made = await http.post("/api/v1/recordings/1700.1/scores", json=score, headers=auth("qa"))
        assert made.status_code == 201 and made.json()["total"] == 75.0
        wrong = {"form_id": "complaints", "items": {"acknowledge": 9}}
        rejected = await http.post("/api/v1/recordings/1700.1/scores", json=wrong,
                                   headers=auth("supervisor"))  # fmt: skip
        assert rejected.status_code == 422 and "outside 1..4" in rejected.json()["detail"]
        averages = await http.get(
            "/api/v1/qa/agents",
            params={"since": "2020-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"},
            headers=auth("supervisor"),
        )
        assert averages.json()[0]["agent_id"] == "a1" and averages.json()[0]["average"] == 75.0
        detail = await http.get("/api/v1/recordings/1700.1", headers=auth("supervisor"))
        actions = [entry["action"] for entry in detail.json()["audit"]]
        assert actions == ["listen", "legal-hold"]  # ranged chunks are not each audited


async def test_api_mute_by_agent_on_the_call(rig: Rig) -> None:
    await rig.service.handle(CallAnswered(call_id="1700.9", agent_id="agent1", queue="q"))
    async with client_for(rig) as http:
        done = await http.post("/api/v1/calls/1700.9/recording/mute",
                               json={"reason": "card number"}, headers=auth("agent"))  # fmt: skip
        assert done.status_code == 200 and done.json()["outcome"] == "applied"
        undone = await http.post("/api/v1/calls/1700.9/recording/unmute",
                                 headers=auth("supervisor"))  # fmt: skip
        assert undone.json() == {"call_id": "1700.9", "muted": False, "outcome": "applied"}
    trail = [(a.action, a.actor, a.reason) for a in await rig.store.audit_trail("1700.9")]
    assert trail == [("mute", "agent", "card number"), ("unmute", "supervisor", "card capture")]
