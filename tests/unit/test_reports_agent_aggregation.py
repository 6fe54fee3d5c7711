"""The agent report (SQL sums per report period and agent, on SQLite and PostgreSQL) against a
straightforward per-leg computation, on random legs and agent spans, for random bounds,
periods and zones.

Each data set covers a few days around a DST change (New York's spring and autumn ones, Lord
Howe's half-hour one). Every leg answered in [from, to) counts for its agent in the period
holding ``answered_at``; talk, hold and wrap-up add up over the legs with a talk time; login and
pause time are ``buckets.split`` of each span (elapsed seconds: see test_reports_dst.py).
Durations are multiples of 1/8 s so that sums do not depend on the order of addition.
"""

from __future__ import annotations

import gc
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from hotline.reports.buckets import PERIODS, Period, SlotPeriods, split
from hotline.reports.build import ReportRequest, agent_report, agent_rows
from hotline.reports.queries import SlotRange, Span, _PeriodArrays
from hotline.storage import Database
from hotline.storage.models import AgentInterval, CallLeg
from hotline.storage.record_ops import SLOT_S, slot_of
from staffing import kpi

# Upper and lower case and a non-ASCII letter: Python's order, and the database's, are checked.
AGENTS = ("1001", "1002", "1010", "B", "a", "b", "é")
ZONES = ("UTC", "Asia/Shanghai", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe")
WINDOWS = {  # a few days around a DST change
    "new-york-spring": datetime(2025, 3, 7, tzinfo=UTC),
    "new-york-autumn": datetime(2025, 10, 31, tzinfo=UTC),
    "lord-howe-autumn": datetime(2025, 4, 3, tzinfo=UTC),
}
DAYS = 5


@dataclass(frozen=True)
class Leg:
    agent_id: str | None
    answered_at: datetime | None
    talk_s: float | None
    hold_s: float | None
    wrap_up_s: float | None


def eighths(rng: random.Random, high: int) -> float:
    return rng.randrange(high * 8) / 8


def instant(rng: random.Random, start: datetime, days: float, whole: bool = False) -> datetime:
    """Anywhere in the range, now and then exactly on a slot boundary."""
    at = start + timedelta(seconds=rng.uniform(0, days * 86_400))
    if rng.random() < 0.1:
        return datetime.fromtimestamp(slot_of(at) * SLOT_S, UTC)
    if whole:  # spans: whole eighths of a second (exact sums of seconds)
        return at.replace(microsecond=at.microsecond // 125_000 * 125_000)
    return at


def random_legs(rng: random.Random, start: datetime) -> list[Leg]:
    legs = []
    for _ in range(400):
        if rng.random() < 0.15:  # abandoned or overflowed: no agent
            legs.append(Leg(None, None, None, None, None))
            continue
        answered = instant(rng, start, DAYS)
        if rng.random() < 0.1:  # answered, not handled yet (no talk time)
            legs.append(Leg(rng.choice(AGENTS), answered, None, None, None))
            continue
        hold = rng.choice((0.0, 0.0, None, eighths(rng, 60)))
        wrap = rng.choice((15.0, 0.0, None, eighths(rng, 90)))
        legs.append(Leg(rng.choice(AGENTS), answered, eighths(rng, 900), hold, wrap))
    return legs


def random_spans(rng: random.Random, start: datetime) -> list[Span]:
    spans = []
    for agent in AGENTS:
        for _ in range(rng.randrange(6)):
            began = instant(rng, start - timedelta(hours=6), DAYS, whole=True)
            length = timedelta(seconds=rng.randrange(60 * 8, 10 * 3600 * 8) / 8)
            ended = None if rng.random() < 0.1 else began + length
            spans.append(Span(agent, "session", None, began, ended))
            for _ in range(rng.randrange(4)):
                paused = began + timedelta(seconds=rng.randrange(3 * 3600 * 8) / 8)
                reason = rng.choice((None, "lunch", "break", "training"))
                done = paused + timedelta(seconds=rng.randrange(8, 3600 * 8) / 8)
                spans.append(Span(agent, "pause", reason, paused, done))
            spans.append(Span(agent, "state", None, began, ended))  # not a report's business
    return spans


async def store(db: Database, legs: list[Leg], spans: list[Span]) -> None:
    leg_rows = []
    for n, leg in enumerate(legs):
        enqueued = (leg.answered_at or datetime(2025, 1, 1, tzinfo=UTC)) - timedelta(seconds=9)
        leg_rows.append(
            {
                "leg_id": f"leg{n}",
                "call_id": f"call{n}",
                "queue": "cards",
                "enqueued_at": enqueued,
                "answered_at": leg.answered_at,
                "left_queue_at": leg.answered_at or enqueued + timedelta(seconds=30),
                "wait_s": 9.0,
                "agent_id": leg.agent_id,
                "talk_s": leg.talk_s,
                "hold_s": leg.hold_s,
                "wrap_up_s": leg.wrap_up_s,
                "outcome": "answered" if leg.agent_id else "abandoned",
                "enter_slot": slot_of(enqueued),
                "answer_slot": None if leg.answered_at is None else slot_of(leg.answered_at),
                "leave_slot": slot_of(leg.answered_at or enqueued + timedelta(seconds=30)),
            }
        )
    span_rows = [
        {
            "uid": f"span{n}",
            "agent_id": s.agent_id,
            "category": s.category,
            "state": "paused" if s.category == "pause" else "available",
            "reason": s.reason,
            "started_at": s.started_at,
            "ended_at": s.ended_at,
        }
        for n, s in enumerate(spans)
    ]
    async with db.engine.begin() as conn:
        await conn.execute(insert(CallLeg), leg_rows)
        await conn.execute(insert(AgentInterval), span_rows)


def expected_rows(
    legs: list[Leg], spans: list[Span], req: ReportRequest, now: datetime
) -> list[dict[str, Any]]:
    """The report computed leg by leg and span by span (periods keyed by their UTC start)."""
    starts: dict[datetime, datetime] = {}  # UTC start → local start

    def key(local_start: datetime, agent_id: str) -> tuple[datetime, str]:
        utc = local_start.astimezone(UTC)
        starts[utc] = local_start
        return utc, agent_id

    keep = set(req.only)
    calls: dict[tuple[datetime, str], list[Any]] = {}
    for leg in legs:
        if leg.agent_id is None or leg.answered_at is None or (keep and leg.agent_id not in keep):
            continue
        if not req.start <= leg.answered_at < req.end:
            continue
        sums = calls.setdefault(key(req.period.start_of(leg.answered_at), leg.agent_id),
                                [0, 0, 0.0, 0.0, 0.0])  # fmt: skip
        sums[0] += 1
        if leg.talk_s is not None:
            sums[1] += 1
            sums[2] += leg.talk_s
            sums[3] += leg.hold_s or 0.0
            sums[4] += leg.wrap_up_s or 0.0
    login: dict[tuple[datetime, str], float] = defaultdict(float)
    pause: dict[tuple[datetime, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for span in spans:
        if span.category not in ("session", "pause") or (keep and span.agent_id not in keep):
            continue
        if span.started_at >= req.end or (span.ended_at is not None and span.ended_at <= req.start):
            continue
        begin = max(span.started_at, req.start)
        finish = min(span.ended_at or min(req.end, now), req.end)
        for local_start, seconds in split(begin, finish, req.period):
            k = key(local_start, span.agent_id)
            if span.category == "session":
                login[k] += seconds
            else:
                pause[k][span.reason or "unspecified"] += seconds
    rows = []
    for k in sorted(calls.keys() | login.keys() | pause.keys()):
        answered, handled, talk, hold, wrap = calls.get(k, (0, 0, 0.0, 0.0, 0.0))
        pauses = pause.get(k, {})
        pause_s = sum(pauses.values())
        login_s = login.get(k, 0.0)
        occupancy = kpi.occupancy(talk + hold + wrap, login_s, pause_s)
        aht = kpi.aht(talk, hold, wrap, handled)
        rows.append(
            {
                "interval_start": starts[k[0]].isoformat(),
                "agent_id": k[1],
                "answered": answered,
                "talk_s": round(talk, 4),
                "hold_s": round(hold, 4),
                "wrap_up_s": round(wrap, 4),
                "aht_s": None if aht is None else round(aht, 4),
                "login_s": round(login_s, 4),
                "pause_s": round(pause_s, 4),
                "pause_by_reason": {r: round(s, 4) for r, s in sorted(pauses.items())},
                "occupancy": None if occupancy is None else round(occupancy, 4),
            }
        )
    return rows


def random_request(rng: random.Random, window: datetime) -> tuple[ReportRequest, datetime]:
    start = instant(rng, window, DAYS - 0.5)
    if rng.random() < 0.5:  # the usual report: from a local midnight or quarter-hour
        start = datetime.fromtimestamp(slot_of(start) * SLOT_S, UTC)
    end = start + timedelta(seconds=rng.uniform(600, 4 * 86_400))
    if rng.random() < 0.3:
        end = datetime.fromtimestamp(slot_of(end) * SLOT_S, UTC)
    zone = ZoneInfo(rng.choice(ZONES))
    only = tuple(rng.sample([*AGENTS, "nobody"], 3)) if rng.random() < 0.2 else ()
    period = Period.parse(rng.choice(PERIODS), zone)
    now = rng.choice((start + (end - start) / 2, end + timedelta(days=1)))  # open spans cut
    return ReportRequest(start, end, period, "asterisk_sl2", only=only), now


@pytest.fixture(params=sorted(WINDOWS))
async def scenario(
    request: pytest.FixtureRequest, db: Database
) -> tuple[Database, list[Leg], list[Span], random.Random, datetime]:
    """A window's random legs and spans, stored (SQLite, then PostgreSQL: ``db``)."""
    window = WINDOWS[request.param]
    rng = random.Random(f"agents {request.param}")
    legs, spans = random_legs(rng, window), random_spans(rng, window)
    await store(db, legs, spans)
    return db, legs, spans, rng, window


async def test_agent_report_matches_a_per_leg_computation(
    scenario: tuple[Database, list[Leg], list[Span], random.Random, datetime],
) -> None:
    db, legs, spans, rng, window = scenario
    for _ in range(40):
        req, now = random_request(rng, window)
        rows = (await agent_report(db, req, now=now))["rows"]
        expected = expected_rows(legs, spans, req, now)
        assert rows == expected, (req, now)
        assert json.dumps(rows) == json.dumps(expected)  # ints stay ints, 0.0 stays 0.0


async def test_every_zone_and_period_across_the_change(
    scenario: tuple[Database, list[Leg], list[Span], random.Random, datetime],
) -> None:
    # The whole window, across its DST change, for every zone and period (Lord Howe by the hour
    # included), bounds in local time as the CLI and API read them.
    db, legs, spans, _, window = scenario
    now = window + timedelta(days=DAYS + 1)
    for zone in map(ZoneInfo, ZONES):
        start, end = window.astimezone(zone), (window + timedelta(days=DAYS)).astimezone(zone)
        for name in PERIODS:
            req = ReportRequest(start, end, Period.parse(name, zone), "asterisk_sl2")
            rows = (await agent_report(db, req, now=now))["rows"]
            assert rows == expected_rows(legs, spans, req, now), (zone, name)


def test_rows_in_another_order_are_sorted() -> None:
    # As a database collation may sort agent ids ("B" after "a", say): the same rows result.
    zone = ZoneInfo("America/New_York")
    start = datetime(2025, 3, 9, 5, tzinfo=UTC)
    req = ReportRequest(start, start + timedelta(hours=4), Period.parse("60m", zone))
    span = SlotRange.of(req.start, req.end)
    periods = SlotPeriods.of(req.period, span.first, span.last, SLOT_S)
    hours = periods.slots[:-1]
    calls = [
        (hour, agent, 1, 1, 60.25, 0.0, 15.0) for hour in hours for agent in ("B", "a", "1001")
    ]
    spans = [Span("a", "session", None, start, None), Span("B", "pause", "lunch", start, None)]
    now = start + timedelta(hours=2)
    in_order = agent_rows(req, periods, sorted(calls), spans, now)
    assert agent_rows(req, periods, calls, spans, now) == in_order
    assert agent_rows(req, periods, list(reversed(calls)), spans, now) == in_order
    assert [(r["interval_start"][11:16], r["agent_id"]) for r in in_order[:3]] == [
        ("00:00", "1001"),
        ("00:00", "B"),
        ("00:00", "a"),
    ]


def test_postgresql_period_arrays_are_the_rows() -> None:
    packed = _PeriodArrays([(7, ["a", "b"], [1, 2], [1, 1]), (9, ["a"], [3], [0])])
    rows = [(7, "a", 1, 1), (7, "b", 2, 1), (9, "a", 3, 0)]
    assert list(packed) == rows
    assert list(packed) == rows  # again: a report may need to sort them


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("name", PERIODS)
def test_slot_periods_are_the_periods_of_slots(zone: str, name: str) -> None:
    period = Period.parse(name, ZoneInfo(zone))
    rng = random.Random(f"{zone} {name}")
    for window in WINDOWS.values():
        first = slot_of(instant(rng, window, 1))
        last = first + rng.randrange(1, 4 * 96)
        periods = SlotPeriods.of(period, first, last, SLOT_S)
        index, runs = periods.index(), periods.runs()
        for slot in range(first, last + 1):  # the period of each slot, as SQL finds it
            run, width = next((b, w) for b, w in reversed(runs) if b <= slot)
            local = periods.starts[index[run + (slot - run) // width * width]]
            expected = period.start_of(datetime.fromtimestamp(slot * SLOT_S, UTC))
            assert (local.isoformat(), local.astimezone(UTC)) == (
                expected.isoformat(),
                expected.astimezone(UTC),
            )
        for _ in range(20):  # spans cut as ``split`` cuts them (isoformat: UTC offset too)
            start = instant(rng, datetime.fromtimestamp(first * SLOT_S, UTC), 0.5)
            stop = datetime.fromtimestamp((last + 1) * SLOT_S, UTC)
            end = min(stop, start + timedelta(seconds=rng.uniform(0, 2 * 86_400)))
            pieces = [(periods.starts[i].isoformat(), s) for i, s in periods.split(start, end)]
            assert pieces == [(b.isoformat(), s) for b, s in split(start, end, period)]


async def test_the_collector_is_paused_while_building_only(
    scenario: tuple[Database, list[Leg], list[Span], random.Random, datetime],
) -> None:
    db, _, _, _, window = scenario
    req = ReportRequest(window, window + timedelta(days=2), Period.parse("15m", ZoneInfo("UTC")))
    assert gc.isenabled()
    await agent_report(db, req)
    assert gc.isenabled()
    gc.disable()
    try:
        await agent_report(db, req)
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
