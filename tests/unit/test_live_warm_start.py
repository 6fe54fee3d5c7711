"""Today's live statistics rebuilt from the event log at start-up (``hotline.live.warm_start``).

The scripted morning of ``tests.fakes.live_morning`` (hold, a blind transfer back into a queue, an
overflow into another queue) goes through the real ``EventLogWriter`` into SQLite while one
``LiveStats`` watches the bus; a fresh ``LiveStats`` rebuilt from the log at the same moment
must show the same figures, agents and calls. Then what the rebuild cannot know: calls that
ended while Hotline was down (dropped at the ACD's ``acd.resynced``), IVR sessions of the old
process, yesterday's events, rows this version cannot read, and a database failing half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cti.events import AcdResynced, CallStarted, DomainBus, DomainEvent
from cti.settings import EventLogSettings, LiveSettings
from hotline.live.hub import LiveHub
from hotline.live.model import QueueDefinition
from hotline.live.stats import LiveStats
from hotline.live.warm_start import replay_today, warm_up
from hotline.storage import Database
from hotline.storage.event_log import EventLogWriter, to_stored
from hotline.storage.event_store import EventStore, StoredEvent
from tests.fakes import loop
from tests.fakes.clock import FakeClock, at, when
from tests.fakes.databases import broken_engine
from tests.fakes.live_morning import (
    QUEUES,
    SHORT_ABANDON_S,
    THRESHOLD_S,
    hold_and_transfer,
    morning,
    queued,
)

SETTINGS = LiveSettings.model_validate(
    {"short_abandon_s": SHORT_ABANDON_S, "sl_threshold_s": THRESHOLD_S, "timezone": "UTC"}
)


def fresh(clock: FakeClock) -> LiveStats:
    return LiveStats(SETTINGS, [QueueDefinition(q) for q in QUEUES], clock=clock)


def running_all_day(events: list[DomainEvent], clock: FakeClock) -> LiveStats:
    """Live statistics that saw ``events`` as they happened, started at midnight as a
    process running all day would be."""
    now, clock.now = clock.now, "00:00:00"
    live = fresh(clock)
    clock.now = now
    for event in events:
        live.apply(event)
    return live


async def logged(
    db: Database, tmp_path: Path, events: list[DomainEvent], clock: FakeClock
) -> LiveStats:
    """``events`` through the bus into the event log; the statistics that saw them."""
    log_settings = EventLogSettings.model_validate(
        {"spool_dir": tmp_path / "spool", "batch_size": 7, "flush_interval_ms": 10}
    )
    bus = DomainBus()
    async with EventLogWriter(bus, db, log_settings) as writer:
        for event in events:
            bus.publish(event)
        await writer.flush()
    assert writer.counters.written == len(events)
    return running_all_day(events, clock)


def figures(stats: LiveStats) -> dict[str, Any]:
    """Everything a wallboard, a supervisor and a desktop read."""
    queues = {}
    for queue in QUEUES:
        view = stats.queue_stats(queue)
        assert view is not None
        queues[queue] = dataclasses.asdict(view)
    agents = {a: dataclasses.asdict(v) for a in "ABC" if (v := stats.agent_view(a)) is not None}
    calls = {view.call_id: dataclasses.asdict(view) for view in stats.call_views()}
    return {"queues": queues, "agents": agents, "calls": calls}


def offered_today(stats: LiveStats, queue: str) -> int:
    view = stats.queue_stats(queue)
    assert view is not None
    return view.today.offered


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


@pytest.mark.parametrize("cut", ["09:03:50", "09:21:01", "09:41:20", "09:46:20", "10:30:00"])
async def test_a_rebuilt_day_shows_what_the_running_one_showed(
    db: Database, tmp_path: Path, cut: str
) -> None:
    """Cut the morning at ``cut`` (a call talking, one ringing, one on hold, one requeued by
    its agent's transfer, all done) and rebuild: the same figures, agents and calls."""
    script = sorted(morning(requeue=True) + hold_and_transfer(), key=lambda e: e.ts)
    events = [e for e in script if e.ts <= at(cut)]
    clock = FakeClock(cut)
    running = await logged(db, tmp_path, events, clock)
    running.tick()

    rebuilt = fresh(clock)
    done = await replay_today(rebuilt, EventStore(db), page=5)  # several pages
    assert (done.events, done.skipped) == (len(events), 0)
    expected = figures(running)
    assert rounded(figures(rebuilt)) == rounded(expected)
    assert expected["queues"]["cards"]["today"]["offered"] > 0


async def test_calls_and_agents_the_acd_no_longer_has_are_dropped_uncounted(
    db: Database, tmp_path: Path
) -> None:
    """Hotline stops at 09:21:01 with c10 waiting in cards, "gone" waiting in loans and a
    caller in the IVR; it is back at 09:25:00. "gone" hung up meanwhile, C logged out."""
    events = [e for e in morning(requeue=True) if e.ts <= at("09:21:01")]
    events += [
        CallStarted(call_id="ivr1", hotline="95555", caller="9", **when("09:21:00")),
        queued("09:21:00", "gone", "loans"),
    ]
    clock = FakeClock("09:21:01")
    await logged(db, tmp_path, sorted(events, key=lambda e: e.ts), clock)
    clock.now = "09:25:00"
    stats = fresh(clock)
    await replay_today(stats, EventStore(db))
    # The IVR session died with the old process: not a call of ours any more.
    assert stats.call_view("ivr1") is None
    cards, loans = stats.queue_stats("cards"), stats.queue_stats("loans")
    assert cards is not None and loans is not None
    assert (cards.waiting, loans.waiting) == (1, 1)  # until the ACD says what it holds
    before = {"cards": cards.today, "loans": loans.today}

    # The ACD's resync: it rebuilt c10 from Asterisk, and A and B are logged in.
    stats.apply(dataclasses.replace(queued("09:25:00", "c10", "cards"), resync=True, wait_s=240.0))
    stats.apply(AcdResynced(calls=("c10",), agents=("A", "B"), **when("09:25:00")))
    cards, loans = stats.queue_stats("cards"), stats.queue_stats("loans")
    assert cards is not None and loans is not None
    assert (cards.waiting, loans.waiting) == (1, 0)
    assert cards.longest_wait_s == pytest.approx(240.0)
    # c10 is not offered twice; "gone"'s outcome is unknown (its leg stays open in the event
    # log), so it is counted as nothing more than offered.
    assert {"cards": cards.today, "loans": loans.today} == before
    assert stats.call_view("gone") is None and stats.call_view("c10") is not None
    states = {a: view.state for a in "ABC" if (view := stats.agent_view(a)) is not None}
    assert states["C"] == "logged_out" and states["A"] != "logged_out"


async def test_only_today_is_replayed_and_unreadable_rows_are_skipped(
    db: Database, tmp_path: Path
) -> None:
    store = EventStore(db)
    yesterday = at("09:00:00") - timedelta(days=1)
    await store.append_many(
        [
            StoredEvent("call.queued", yesterday, {"position": 1}, "old", queue="cards"),
            StoredEvent("call.queued", at("09:00:00"), {"position": 1}, "new", queue="cards"),
            StoredEvent("call.teleported", at("09:00:01"), {}, "new"),  # a newer version's
            StoredEvent("call.queued", at("09:00:02"), {"position": "1st"}, "bad", queue="cards"),
        ]
    )
    stats = fresh(FakeClock("09:01:00"))
    done = await replay_today(stats, store)
    assert (done.events, done.skipped) == (1, 2)
    cards = stats.queue_stats("cards")
    assert cards is not None and (cards.waiting, cards.today.offered) == (1, 1)
    assert cards.longest_wait_s == pytest.approx(60.0)


class FailingStore(EventStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.pages = 0

    async def since(
        self,
        start: datetime,
        after: tuple[datetime, int] | None = None,
        limit: int = 10_000,
        *,
        until: datetime | None = None,
    ) -> list[StoredEvent]:
        self.pages += 1
        if self.pages > 1:
            raise ConnectionError("database went away")
        return await super().since(start, after, limit, until=until)


async def test_a_replay_failing_half_way_leaves_empty_figures_not_half_a_day(
    db: Database, tmp_path: Path
) -> None:
    clock = FakeClock("09:30:00")
    await logged(db, tmp_path, [e for e in morning() if e.ts <= at("09:30:00")], clock)
    stats = fresh(clock)
    with pytest.raises(ConnectionError):
        await replay_today(stats, FailingStore(db), page=5)
    cards = stats.queue_stats("cards")
    assert cards is not None and cards.today.offered == 0 and cards.waiting == 0
    assert stats.agent_ids() == [] and stats.call_ids() == []


async def test_the_hub_applies_what_arrives_during_the_replay_after_it(
    db: Database, tmp_path: Path
) -> None:
    """``hotline serve`` replays while it already serves: events published meanwhile wait in
    the hub's subscription, and the replay reads only what was stamped before it subscribed."""
    clock = FakeClock("09:01:00")
    await logged(db, tmp_path, [queued("09:00:00", "early", "cards")], clock)
    stats = fresh(clock)
    hub = LiveHub(stats)
    bus = DomainBus()
    replaying, go_on = asyncio.Event(), asyncio.Event()

    async def warm_up(until: datetime) -> None:
        assert until == at("09:01:00")
        # Stored (by this process's event log) after the hub subscribed: not replayed.
        await EventStore(db).append_many([to_stored(queued("09:01:00", "late", "cards"))])
        await replay_today(stats, EventStore(db), until=until)
        replaying.set()
        await go_on.wait()

    task = asyncio.create_task(hub.run(bus, warm_up))
    await asyncio.sleep(0)  # subscribed
    bus.publish(queued("09:01:00", "late", "cards"))
    await replaying.wait()
    cards = stats.queue_stats("cards")
    assert cards is not None and cards.today.offered == 1  # "early" only, so far
    assert hub.rebuilding  # /metrics says the figures are not complete yet
    go_on.set()
    await loop.until(lambda: offered_today(stats, "cards") == 2)
    cards = stats.queue_stats("cards")
    assert cards is not None
    assert cards.waiting == 2 and cards.today.offered == 2  # "late" once, from the bus
    assert not hub.rebuilding
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_failed_replay_does_not_stop_the_hub(caplog: pytest.LogCaptureFixture) -> None:
    stats = fresh(FakeClock("09:01:00"))
    hub = LiveHub(stats)
    bus = DomainBus()

    async def warm_up(until: datetime) -> None:
        raise ConnectionError("database went away")

    task = asyncio.create_task(hub.run(bus, warm_up))
    await loop.until(hub.subscribed.is_set)
    bus.publish(queued("09:01:00", "c1", "cards"))
    await loop.until(lambda: stats.queues_with_waiting_calls() == ["cards"])
    cards = stats.queue_stats("cards")
    assert cards is not None and cards.waiting == 1
    assert "could not be rebuilt" in caplog.text
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_events_the_last_run_spooled_are_written_then_replayed(
    db: Database, tmp_path: Path
) -> None:
    """The last run stopped with its database away: its morning is in the disk spool. The
    new run's warm-up waits for the event log to write it, then replays the whole morning."""
    events = [e for e in morning(requeue=True) if e.ts <= at("09:30:00")]
    settings = EventLogSettings.model_validate(
        {"spool_dir": tmp_path / "spool", "flush_interval_ms": 10, "retry_min_s": 0.01}
    )
    good_engine = db.engine
    db.engine = broken_engine(tmp_path)
    bus = DomainBus()
    async with EventLogWriter(bus, db, settings) as old_run:
        for event in events:
            bus.publish(event)
    assert old_run.counters.spooled == len(events) and old_run.counters.written == 0
    db.engine = good_engine

    clock = FakeClock("09:30:00")
    expected = running_all_day(events, clock)
    expected.tick()
    stats = fresh(clock)
    bus = DomainBus()
    async with EventLogWriter(bus, db, settings) as new_run:
        await warm_up(stats, EventStore(db), written=new_run.flush)(clock.wall())
    assert new_run.counters.replayed == len(events)
    assert rounded(figures(stats)) == rounded(figures(expected))
