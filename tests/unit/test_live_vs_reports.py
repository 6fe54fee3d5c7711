"""Live statistics and historical reports agree to the call (issue 6).

One scripted morning of ACD-shaped domain events is published on a ``DomainBus``; live
statistics (one ``LiveStats`` per service-level formula) and the real ``EventLogWriter`` (into
a tmp SQLite database) consume the same bus. For every queue, every 15-minute interval (live
figures read just before the interval closes) and the day, the figures must be equal:
offered, answered, abandoned, short abandons, service level by each formula, ASA and AHT.

The morning (T = 20 s, short abandons < 5 s), waits in seconds:

    call queue  queued    left      outcome                          wait talk wrap agent
    c1   cards  09:00:10  09:00:20  answered (within T)                10  180   10  A
    c2   cards  09:01:00  09:01:03  short abandon                       3
    c3   cards  09:02:00  09:02:15  abandoned within T                 15
    c4   cards  09:03:00  09:03:40  answered after T (B rang, no ans.)  40  120   20  A
    c5   cards  09:05:00  09:05:50  abandoned after T                  50
    c6   cards  09:06:00  09:06:30  overflowed → loans (after T)       30
         loans  09:06:30  09:06:45  answered (within T)                15   90   10  C
    c7   loans  09:10:00  09:10:30  answered after T                   30   60    5  C
    c8   cards  09:16:00  09:16:20  answered (= T: within)             20   45    5  B
    c9   loans  09:20:00  09:20:12  hung up waiting (no abandon event) 12
    c10  cards  09:21:00  09:21:04  short abandon while B's phone rang  4
    c11  cards  09:22:00  09:22:25  overflowed → voicemail             25
    c12  loans  09:31:00  09:31:08  answered (within T)                 8   30    0  C

Then, for the hold and the agent's blind transfer (``hold_and_transfer``), in the order the ACD
publishes them (talk_s leaves the hold out; call.unheld carries it):

    c13  cards  09:40:00  09:40:08  answered, on hold 09:41:00–09:41:40   8  140 (+40 hold) 20 A
    c14  cards  09:45:00  09:45:10  answered, B blind-transfers to loans 10   60   10  B
         loans  09:46:10  09:46:40  answered (the same call, a new leg)  30   50    5  C

c6 is one call with two legs (``call_legs``): offered and overflowed in cards, offered and
answered in loans, in reports as in live statistics. The first test overflows c6 to voicemail
instead (and loans answers another caller, c6b, the same way): the same figures, one leg each.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cti.events import DomainBus, DomainEvent, EventKind, Scalar, make_event
from cti.fanout import Subscription
from cti.settings import EventLogSettings, LiveSettings, SlFormulaName
from hotline.live.model import PeriodStats, QueueDefinition
from hotline.live.stats import LiveStats
from hotline.reports.buckets import Period
from hotline.reports.build import ReportRequest, queue_report
from hotline.storage import Database
from hotline.storage.event_log import EventLogWriter
from staffing.kpi import FORMULA_NAMES

K = EventKind
DAY = datetime(2026, 3, 2, tzinfo=UTC)
ZONE = ZoneInfo("UTC")
THRESHOLD_S = 20.0
SHORT_ABANDON_S = 5.0
QUEUES = ("cards", "loans")
FORMULAS: tuple[SlFormulaName, ...] = FORMULA_NAMES  # type: ignore[assignment]


def at(hms: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in hms.split(":"))
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def mono(ts: datetime) -> float:
    return (ts - DAY).total_seconds()  # seconds since midnight: durations read easily


def ev(
    kind: EventKind,
    hms: str,
    call_id: str | None = None,
    *,
    agent: str | None = None,
    queue: str | None = None,
    **data: Scalar,
) -> DomainEvent:
    """``agent`` is the envelope's agent id, and the ``agent`` data key of call events (as
    the ACD publishes both)."""
    ts = at(hms)
    if agent is not None and call_id is not None:
        data = {"agent": agent, **data}
    return make_event(kind, call_id, agent, queue, data, ts, mono(ts))


def state(hms: str, agent: str, name: str) -> DomainEvent:
    return ev(K.AGENT_STATE, hms, agent=agent, state=name)


def queued(hms: str, call_id: str, queue: str, ewt_s: float = 10.0) -> DomainEvent:
    return ev(
        K.CALL_QUEUED, hms, call_id, queue=queue, skills="", priority=0, language="en",
        vip=False, ewt_s=ewt_s, position=1,
    )  # fmt: skip


def offered(hms: str, call_id: str, queue: str, agent: str) -> list[DomainEvent]:
    return [
        ev(
            K.CALL_OFFERED, hms, call_id, agent=agent, queue=queue,
            decision="d", device=f"PJSIP/{agent}", ring_timeout_s=15,
        ),
        state(hms, agent, "reserved"),
    ]  # fmt: skip


def answered(
    call_id: str, queue: str, agent: str, hms: str, wait_s: float, talk_s: float, wrap_s: float
) -> list[DomainEvent]:
    """Answered at ``hms`` after ``wait_s``; talk, completion, wrap-up, available again."""
    start = at(hms)
    done = start + timedelta(seconds=talk_s)
    free = done + timedelta(seconds=wrap_s)
    hhmmss = "%H:%M:%S"
    events = [
        ev(K.CALL_ANSWERED, hms, call_id, agent=agent, queue=queue, wait_s=wait_s,
           predicted_wait_s=10.0),
        state(hms, agent, "on_call"),
        ev(K.CALL_COMPLETED, done.strftime(hhmmss), call_id, agent=agent, queue=queue,
           by="caller", talk_s=talk_s),
        ev(K.CALL_ENDED, done.strftime(hhmmss), call_id, queue=queue),
        state(done.strftime(hhmmss), agent, "wrap_up"),
    ]  # fmt: skip
    if wrap_s:
        events.append(state(free.strftime(hhmmss), agent, "available"))
    else:
        events[-1] = state(done.strftime(hhmmss), agent, "available")
    return events


def morning(*, requeue: bool = True) -> list[DomainEvent]:
    events = [
        ev(K.AGENT_LOGGED_IN, "08:55:00", agent=a, device=f"PJSIP/{a}", queues=qs)
        for a, qs in (("A", "cards"), ("B", "cards"), ("C", "loans"))
    ] + [state("08:55:00", a, "available") for a in "ABC"]
    events += [ev(K.CALL_STARTED, "09:00:05", "c1", hotline="95555", caller="1")]
    events += [queued("09:00:10", "c1", "cards"), *offered("09:00:12", "c1", "cards", "A")]
    events += answered("c1", "cards", "A", "09:00:20", 10, 180, 10)
    events += [
        queued("09:01:00", "c2", "cards"),
        ev(K.CALL_ABANDONED, "09:01:03", "c2", queue="cards", wait_s=3.0),
        ev(K.CALL_ENDED, "09:01:03", "c2", queue="cards"),
        queued("09:02:00", "c3", "cards"),
        ev(K.CALL_ABANDONED, "09:02:15", "c3", queue="cards", wait_s=15.0),
        ev(K.CALL_ENDED, "09:02:15", "c3", queue="cards"),
        queued("09:03:00", "c4", "cards"),
        *offered("09:03:05", "c4", "cards", "B"),
        ev(K.CALL_RING_NO_ANSWER, "09:03:20", "c4", agent="B", queue="cards", ring_s=15.0,
           reason="NOANSWER"),
        state("09:03:20", "B", "available"),
    ]  # fmt: skip
    # A is in wrap-up until 09:03:30: the re-offer goes to A afterwards.
    events = sorted(events, key=lambda e: e.ts)
    tail: list[DomainEvent] = []
    tail += [*offered("09:03:35", "c4", "cards", "A")]
    tail += answered("c4", "cards", "A", "09:03:40", 40, 120, 20)
    tail += [
        queued("09:05:00", "c5", "cards"),
        ev(K.CALL_ABANDONED, "09:05:50", "c5", queue="cards", wait_s=50.0),
        ev(K.CALL_ENDED, "09:05:50", "c5", queue="cards"),
        queued("09:06:00", "c6", "cards"),
    ]
    if requeue:  # the ACD's overflow into a queue: the same call id waits in loans
        tail += [
            ev(K.CALL_OVERFLOWED, "09:06:30", "c6", queue="cards", target="loans",
               target_kind="queue", reason="max_wait", wait_s=30.0),
            queued("09:06:30", "c6", "loans"),
            *offered("09:06:40", "c6", "loans", "C"),
        ]  # fmt: skip
        tail += answered("c6", "loans", "C", "09:06:45", 15, 90, 10)
    else:  # overflow to voicemail; loans gets another caller at the same time
        tail += [
            ev(K.CALL_OVERFLOWED, "09:06:30", "c6", queue="cards", target="vm",
               target_kind="voicemail", reason="max_wait", wait_s=30.0),
            ev(K.CALL_ENDED, "09:07:30", "c6", queue="cards"),
            queued("09:06:30", "c6b", "loans"),
            *offered("09:06:40", "c6b", "loans", "C"),
        ]  # fmt: skip
        tail += answered("c6b", "loans", "C", "09:06:45", 15, 90, 10)
    tail += [queued("09:10:00", "c7", "loans"), *offered("09:10:25", "c7", "loans", "C")]
    tail += answered("c7", "loans", "C", "09:10:30", 30, 60, 5)
    tail += [queued("09:16:00", "c8", "cards"), *offered("09:16:10", "c8", "cards", "B")]
    tail += answered("c8", "cards", "B", "09:16:20", 20, 45, 5)
    tail += [
        queued("09:20:00", "c9", "loans"),
        ev(K.CALL_ENDED, "09:20:12", "c9", queue="loans"),
        queued("09:21:00", "c10", "cards"),
        *offered("09:21:02", "c10", "cards", "B"),
        ev(K.CALL_ABANDONED, "09:21:04", "c10", agent="B", queue="cards", wait_s=4.0),
        state("09:21:04", "B", "available"),
        ev(K.CALL_ENDED, "09:21:04", "c10", queue="cards"),
        queued("09:22:00", "c11", "cards"),
        ev(K.CALL_OVERFLOWED, "09:22:25", "c11", queue="cards", target="vm",
           target_kind="voicemail", reason="max_wait", wait_s=25.0),
        ev(K.CALL_ENDED, "09:23:30", "c11", queue="cards"),
        queued("09:31:00", "c12", "loans"),
        *offered("09:31:05", "c12", "loans", "C"),
    ]  # fmt: skip
    tail += answered("c12", "loans", "C", "09:31:08", 8, 30, 0)
    # Stable sort by time: events at the same instant keep the ACD's order.
    return sorted(events + tail, key=lambda e: e.ts)


def hold_and_transfer() -> list[DomainEvent]:
    events = [
        queued("09:40:00", "c13", "cards"),
        *offered("09:40:05", "c13", "cards", "A"),
        ev(K.CALL_ANSWERED, "09:40:08", "c13", agent="A", queue="cards", wait_s=8.0),
        state("09:40:08", "A", "on_call"),
        ev(K.CALL_HELD, "09:41:00", "c13", agent="A", queue="cards"),
        ev(K.CALL_UNHELD, "09:41:40", "c13", agent="A", queue="cards", hold_s=40.0),
        ev(K.CALL_COMPLETED, "09:43:08", "c13", agent="A", queue="cards", by="caller",
           talk_s=140.0),
        ev(K.CALL_ENDED, "09:43:08", "c13", queue="cards"),
        state("09:43:08", "A", "wrap_up"),
        state("09:43:28", "A", "available"),
        queued("09:45:00", "c14", "cards"),
        *offered("09:45:05", "c14", "cards", "B"),
        ev(K.CALL_ANSWERED, "09:45:10", "c14", agent="B", queue="cards", wait_s=10.0),
        state("09:45:10", "B", "on_call"),
        # The blind transfer: the agent's part ends, then the call waits in loans again.
        ev(K.CALL_TRANSFERRED, "09:46:10", "c14", agent="B", queue="cards",
           target_kind="queue", target="loans", attended=False),
        ev(K.CALL_COMPLETED, "09:46:10", "c14", agent="B", queue="cards", by="transfer",
           talk_s=60.0),
        state("09:46:10", "B", "wrap_up"),
        queued("09:46:10", "c14", "loans"),
        state("09:46:20", "B", "available"),
        *offered("09:46:35", "c14", "loans", "C"),
    ]  # fmt: skip
    return events + answered("c14", "loans", "C", "09:46:40", 30, 50, 5)


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: at("08:50:00"))

    def wall(self) -> datetime:
        return self.now

    def mono(self) -> float:
        return mono(self.now)


def drain(sub: Subscription[DomainEvent]) -> Iterator[DomainEvent]:
    while (event := sub.get_nowait()) is not None:
        yield event


LiveFigures = dict[tuple[str, str], dict[str, Any]]  # (period start, queue) → figures


def live_figures(stats: dict[SlFormulaName, LiveStats], queue: str, period: str) -> dict[str, Any]:
    periods: dict[SlFormulaName, PeriodStats] = {}
    for formula, live in stats.items():
        view = live.queue_stats(queue)
        assert view is not None
        periods[formula] = view.interval if period == "interval" else view.today
    first = next(iter(periods.values()))
    return {
        "offered": first.offered,
        "answered": first.answered,
        "answered_within_t": first.answered_within_t,
        "abandoned": first.abandoned,
        "short_abandoned": first.short_abandoned,
        "overflowed": first.overflowed,
        "asa_s": first.asa_s,
        "aht_s": first.aht_s,
        **{f"sl:{formula}": p.service_level for formula, p in periods.items()},
    }


async def report_figures(
    db: Database, start: datetime, end: datetime, interval: str
) -> LiveFigures:
    out: LiveFigures = {}
    for formula in FORMULAS:
        req = ReportRequest(
            start, end, Period.parse(interval, ZONE), formula, THRESHOLD_S, SHORT_ABANDON_S
        )
        for row in (await queue_report(db, req))["rows"]:
            figures = out.setdefault((row["interval_start"], row["queue"]), {})
            figures.update({k: row[k] for k in (
                "offered", "answered", "answered_within_t", "abandoned", "short_abandoned",
                "overflowed", "asa_s", "aht_s",
            )})  # fmt: skip
            figures[f"sl:{formula}"] = row["service_level"]
    return out


def close(live: dict[str, Any], report: dict[str, Any]) -> bool:
    if live.keys() != report.keys():
        return False
    for key, value in live.items():
        other = report[key]
        if isinstance(value, float) and isinstance(other, float):
            if abs(value - other) > 1e-3:
                return False
        elif value != other:
            return False
    return True


def empty(figures: dict[str, Any]) -> bool:
    return not any(figures[k] for k in ("offered", "answered", "abandoned", "short_abandoned"))


async def agree(db: Database, tmp_path: Path, events: list[DomainEvent]) -> None:
    clock = Clock()
    base = {"short_abandon_s": SHORT_ABANDON_S, "sl_threshold_s": THRESHOLD_S, "timezone": "UTC"}
    definitions = [QueueDefinition(q) for q in QUEUES]
    stats = {
        formula: LiveStats(
            LiveSettings.model_validate(base | {"sl_formula": formula}), definitions, clock=clock
        )
        for formula in FORMULAS
    }
    log_settings = EventLogSettings.model_validate(
        {"spool_dir": tmp_path / "spool", "batch_size": 7, "flush_interval_ms": 10,
         "short_abandon_s": SHORT_ABANDON_S}
    )  # fmt: skip
    bus = DomainBus()
    live_sub = bus.subscribe()
    live_intervals: LiveFigures = {}

    def snapshot(period_start: datetime) -> None:
        # Read the live interval just before it closes.
        clock.now = period_start + timedelta(minutes=15) - timedelta(seconds=1)
        for queue in QUEUES:
            live_intervals[(period_start.isoformat(), queue)] = live_figures(
                stats, queue, "interval"
            )

    async with EventLogWriter(bus, db, log_settings) as writer:
        current = at("08:45:00")
        for event in events:
            start = event.ts.replace(minute=event.ts.minute - event.ts.minute % 15, second=0)
            while start > current:
                snapshot(current)
                current += timedelta(minutes=15)
            bus.publish(event)
            for got in drain(live_sub):
                for live in stats.values():
                    live.apply(got)
        snapshot(current)
        live_today = {q: live_figures(stats, q, "today") for q in QUEUES}
        await writer.flush()
    assert writer.counters.written == len(events) and writer.counters.dropped_bus == 0

    reported = await report_figures(
        db, at("00:00:00"), at("23:59:59") + timedelta(seconds=1), "15m"
    )
    live_nonempty = {key: f for key, f in live_intervals.items() if not empty(f)}
    assert len(live_nonempty) >= 5  # cards and loans in 09:00, 09:15; loans in 09:30
    assert sorted(live_nonempty) == sorted(k for k, f in reported.items() if not empty(f))
    mismatches = {
        key: (live_nonempty[key], reported[key])
        for key in live_nonempty
        if not close(live_nonempty[key], reported[key])
    }
    assert not mismatches, mismatches

    daily = await report_figures(db, DAY, DAY + timedelta(days=1), "day")
    for queue in QUEUES:
        assert close(live_today[queue], daily[(DAY.isoformat(), queue)]), (
            queue, live_today[queue], daily[(DAY.isoformat(), queue)],
        )  # fmt: skip


async def test_live_and_reports_agree_to_the_call(db: Database, tmp_path: Path) -> None:
    await agree(db, tmp_path, morning(requeue=False))


async def test_overflow_into_another_queue_counts_in_both_queues(
    db: Database, tmp_path: Path
) -> None:
    await agree(db, tmp_path, morning(requeue=True))


async def test_hold_and_a_blind_transfer_back_into_a_queue(db: Database, tmp_path: Path) -> None:
    events = sorted(morning(requeue=True) + hold_and_transfer(), key=lambda e: e.ts)
    await agree(db, tmp_path, events)
    reported = await report_figures(db, at("09:30:00"), at("10:00:00"), "15m")
    cards = reported[(at("09:30:00").isoformat(), "cards")]
    assert (cards["offered"], cards["answered"]) == (1, 1)
    assert cards["aht_s"] == 200.0  # c13: 140 talk + 40 hold + 20 wrap-up
    cards, loans = (reported[(at("09:45:00").isoformat(), q)] for q in QUEUES)
    assert (cards["offered"], cards["answered"], cards["aht_s"]) == (1, 1, 70.0)  # 60 + 10
    assert (loans["offered"], loans["answered"], loans["aht_s"]) == (1, 1, 55.0)  # 50 + 5
