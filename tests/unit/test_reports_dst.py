"""Login and pause time across DST changes: seconds are elapsed seconds, not wall-clock ones.

America/New_York changes at 02:00 local: on 9 March 2025 the clock jumps from 02:00 EST (−05:00,
07:00 UTC) to 03:00 EDT (−04:00), a 23-hour day; on 2 November 2025 it goes back from 02:00 EDT
(06:00 UTC) to 01:00 EST, a 25-hour day whose 01:00–02:00 comes twice.

Australia/Lord_Howe shifts by half an hour: on 6 April 2025 from 02:00 +11:00 (15:00 UTC on the
5th) back to 01:30 +10:30, so the local hour 01:00 lasts 90 minutes (01:00–02:00 +11:00, then
01:30–02:00 +10:30); on 5 October 2025 from 02:00 +10:30 (15:30 UTC on the 4th) to 02:30 +11:00,
so the local hour 02:00 lasts 30 minutes (02:30–03:00 +11:00, labelled 02:00 +10:30 as
``Period.start_of`` labels it: the same instant).

Every cut is checked twice: ``buckets.split`` (period by period) and ``SlotPeriods.split`` (the
periods looked up, as the agent report does), which must agree.
"""

from __future__ import annotations

import functools
import itertools
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.events import DomainEvent
from hotline.reports.buckets import PERIODS, Period, SlotPeriods, clip, split
from hotline.reports.build import ReportRequest, agent_report
from hotline.storage import Database
from hotline.storage.record_ops import SLOT_S, slot_of
from hotline.storage.simulate import agent_shift, answered_call
from tests.fakes.event_log import store_events

NY = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
SPRING, AUTUMN = (2025, 3, 9), (2025, 11, 2)  # New York's changes in 2025
QUARTERS = (0, 15, 30, 45)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail rather than hang if the block runs longer (``split`` looping, as it did for Lord
    Howe by the hour). Per call, unlike pytest-timeout's alarm for the whole test, which
    Hypothesis would outlive by running the failing example again. Both use SIGALRM: the
    test's alarm is set again after."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    started = time.monotonic()
    handler = signal.signal(signal.SIGALRM, expire)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, handler)
        if outer:
            left = outer - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))


def split_within(start: datetime, end: datetime, period: Period) -> list[tuple[datetime, float]]:
    with time_limit(5):
        return split(start, end, period)


def cut(start: datetime, end: datetime, name: str, zone: ZoneInfo) -> list[tuple[str, float]]:
    """(period start as the report shows it, seconds) of [start, end), by both splits."""
    period = Period.parse(name, zone)
    pieces = [(b.isoformat(), seconds) for b, seconds in split_within(start, end, period)]
    last = slot_of(end.astimezone(UTC) - timedelta(microseconds=1))
    periods = SlotPeriods.of(period, slot_of(start), last, SLOT_S)
    with time_limit(5):
        looked_up = [(periods.starts[i].isoformat(), s) for i, s in periods.split(start, end)]
    assert looked_up == pieces
    return pieces


def day_of(date: tuple[int, int, int], zone: ZoneInfo, utc: bool) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight: in the zone (as the CLI and API read a bare
    date) or the same instants in UTC."""
    start = datetime(*date, tzinfo=zone)
    following = start.date() + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=zone)
    return (start.astimezone(UTC), end.astimezone(UTC)) if utc else (start, end)


def rows(
    day: str, hours: range, offset: str, minutes: tuple[int, ...], seconds: float
) -> list[tuple[str, float]]:
    return [(f"{day}T{h:02d}:{m:02d}:00{offset}", seconds) for h in hours for m in minutes]


# Whole days by the quarter-hour, half-hour and hour, written out: 23 and 25 hours of periods of
# 900, 1800 and 3600 s each (the 01:45 quarter of the spring day used to show 4500 s, the autumn
# one −2700 s; the autumn day's first 01:00 hour 0 s).
BY_MINUTES = {
    (SPRING, 15): rows("2025-03-09", range(2), "-05:00", QUARTERS, 900.0)
    + rows("2025-03-09", range(3, 24), "-04:00", QUARTERS, 900.0),
    (SPRING, 30): rows("2025-03-09", range(2), "-05:00", (0, 30), 1800.0)
    + rows("2025-03-09", range(3, 24), "-04:00", (0, 30), 1800.0),
    (SPRING, 60): rows("2025-03-09", range(2), "-05:00", (0,), 3600.0)
    + rows("2025-03-09", range(3, 24), "-04:00", (0,), 3600.0),
    (AUTUMN, 15): rows("2025-11-02", range(2), "-04:00", QUARTERS, 900.0)
    + rows("2025-11-02", range(1, 24), "-05:00", QUARTERS, 900.0),
    (AUTUMN, 30): rows("2025-11-02", range(2), "-04:00", (0, 30), 1800.0)
    + rows("2025-11-02", range(1, 24), "-05:00", (0, 30), 1800.0),
    (AUTUMN, 60): rows("2025-11-02", range(2), "-04:00", (0,), 3600.0)
    + rows("2025-11-02", range(1, 24), "-05:00", (0,), 3600.0),
}


@pytest.mark.parametrize("utc", [False, True], ids=["local-bounds", "utc-bounds"])
@pytest.mark.parametrize(("date", "minutes"), list(BY_MINUTES), ids=str)
def test_new_york_days_by_minutes(date: tuple[int, int, int], minutes: int, utc: bool) -> None:
    expected = BY_MINUTES[date, minutes]
    assert len(expected) == (23 if date == SPRING else 25) * 60 // minutes
    pieces = cut(*day_of(date, NY, utc), f"{minutes}m", NY)
    assert pieces == expected
    assert sum(s for _, s in pieces) == (82_800.0 if date == SPRING else 90_000.0)


@pytest.mark.parametrize("utc", [False, True], ids=["local-bounds", "utc-bounds"])
def test_new_york_days_are_23_and_25_hours(utc: bool) -> None:
    assert cut(*day_of(SPRING, NY, utc), "day", NY) == [("2025-03-09T00:00:00-05:00", 82_800.0)]
    assert cut(*day_of(AUTUMN, NY, utc), "day", NY) == [("2025-11-02T00:00:00-04:00", 90_000.0)]
    # The week and month holding them: 7 × 24 h − 1 h, and March's 31 days − 1 h.
    week = cut(datetime(2025, 3, 3, tzinfo=NY), datetime(2025, 3, 10, tzinfo=NY), "week", NY)
    assert week == [("2025-03-03T00:00:00-05:00", 7 * 86_400.0 - 3600)]
    month = cut(datetime(2025, 3, 1, tzinfo=NY), datetime(2025, 4, 1, tzinfo=NY), "month", NY)
    assert month == [("2025-03-01T00:00:00-05:00", 31 * 86_400.0 - 3600)]


# Spans across the change, bounds in local time. Spring: 01:50 EST (06:50 UTC) to 03:10 EDT
# (07:10 UTC), 20 minutes. Autumn: 01:40 EDT (05:40 UTC) to 01:20 EST (06:20 UTC, the second
# 01:20), 40 minutes.
SPRING_SPAN = (datetime(2025, 3, 9, 1, 50, tzinfo=NY), datetime(2025, 3, 9, 3, 10, tzinfo=NY))
AUTUMN_SPAN = (
    datetime(2025, 11, 2, 1, 40, tzinfo=NY),
    datetime(2025, 11, 2, 1, 20, tzinfo=NY, fold=1),
)
SPANS = {
    ("spring", "15m"): [("2025-03-09T01:45:00-05:00", 600.0), ("2025-03-09T03:00:00-04:00", 600.0)],
    ("spring", "60m"): [("2025-03-09T01:00:00-05:00", 600.0), ("2025-03-09T03:00:00-04:00", 600.0)],
    ("spring", "day"): [("2025-03-09T00:00:00-05:00", 1200.0)],
    ("autumn", "15m"): [
        ("2025-11-02T01:30:00-04:00", 300.0),  # 01:40–01:45 EDT
        ("2025-11-02T01:45:00-04:00", 900.0),
        ("2025-11-02T01:00:00-05:00", 900.0),  # the second 01:00
        ("2025-11-02T01:15:00-05:00", 300.0),  # 01:15–01:20 EST
    ],
    ("autumn", "60m"): [
        ("2025-11-02T01:00:00-04:00", 1200.0),  # 01:40–02:00 EDT
        ("2025-11-02T01:00:00-05:00", 1200.0),  # 01:00–01:20 EST
    ],
    ("autumn", "day"): [("2025-11-02T00:00:00-04:00", 2400.0)],
}  # fmt: skip


@pytest.mark.parametrize(("change", "name"), list(SPANS), ids=str)
def test_new_york_spans_across_the_change(change: str, name: str) -> None:
    start, end = SPRING_SPAN if change == "spring" else AUTUMN_SPAN
    assert cut(start, end, name, NY) == SPANS[change, name]
    assert cut(start.astimezone(UTC), end.astimezone(UTC), name, NY) == SPANS[change, name]


def test_clip_counts_elapsed_seconds() -> None:
    start, end = AUTUMN_SPAN  # 40 minutes, though 20 minutes earlier on the wall clock
    assert clip(start, end, *day_of(AUTUMN, NY, utc=False)) == 2400.0
    assert clip(*day_of(SPRING, NY, utc=False), *SPRING_SPAN) == 1200.0


# Lord Howe by the hour: ``split`` used to loop forever on these (a local hour's ``next_start``
# is still in that hour by ``start_of``). ``time_limit`` (and the test's timeout) turn a
# regression into a failure.
LORD_HOWE_HOURS = {
    # 00:30 +11:00 (13:30 UTC) to 03:15 +10:30 (16:45 UTC): 3 h 15 min.
    (datetime(2025, 4, 5, 13, 30, tzinfo=UTC), datetime(2025, 4, 5, 16, 45, tzinfo=UTC)): [
        ("2025-04-06T00:00:00+11:00", 1800.0),  # 00:30–01:00
        ("2025-04-06T01:00:00+11:00", 5400.0),  # 01:00–02:00 +11:00, 01:30–02:00 +10:30
        ("2025-04-06T02:00:00+10:30", 3600.0),
        ("2025-04-06T03:00:00+10:30", 900.0),  # 03:00–03:15
    ],
    # 01:30 +10:30 (15:00 UTC) to 03:30 +11:00 (16:30 UTC): 1 h 30 min.
    (datetime(2025, 10, 4, 15, tzinfo=UTC), datetime(2025, 10, 4, 16, 30, tzinfo=UTC)): [
        ("2025-10-05T01:00:00+10:30", 1800.0),  # 01:30–02:00 +10:30
        ("2025-10-05T02:00:00+10:30", 1800.0),  # 02:30–03:00 +11:00
        ("2025-10-05T03:00:00+11:00", 1800.0),  # 03:00–03:30
    ],
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("bounds", list(LORD_HOWE_HOURS), ids=["autumn", "spring"])
def test_lord_howe_by_the_hour(bounds: tuple[datetime, datetime]) -> None:
    start, end = bounds
    assert cut(start, end, "60m", LORD_HOWE) == LORD_HOWE_HOURS[bounds]
    local = (start.astimezone(LORD_HOWE), end.astimezone(LORD_HOWE))
    assert cut(*local, "60m", LORD_HOWE) == LORD_HOWE_HOURS[bounds]
    period = Period.parse("60m", LORD_HOWE)
    # The local hour 01:00 of 6 April: 14:00 to 15:30 UTC; the hour 02:00 of 5 October: 15:30
    # to 16:00 UTC.
    assert period.end_of(datetime(2025, 4, 5, 14, 10, tzinfo=UTC)) == datetime(
        2025, 4, 5, 15, 30, tzinfo=UTC
    )
    assert period.end_of(datetime(2025, 10, 4, 15, 40, tzinfo=UTC)) == datetime(
        2025, 10, 4, 16, tzinfo=UTC
    )


@pytest.mark.timeout(10)
def test_lord_howe_days_and_whole_hours() -> None:
    autumn = cut(*day_of((2025, 4, 6), LORD_HOWE, utc=False), "day", LORD_HOWE)
    assert autumn == [("2025-04-06T00:00:00+11:00", 88_200.0)]  # 24 h 30 min
    spring = cut(*day_of((2025, 10, 5), LORD_HOWE, utc=True), "day", LORD_HOWE)
    assert spring == [("2025-10-05T00:00:00+10:30", 84_600.0)]  # 23 h 30 min
    hours = cut(*day_of((2025, 4, 6), LORD_HOWE, utc=False), "60m", LORD_HOWE)
    assert len(hours) == 24 and sum(s for _, s in hours) == 88_200.0
    assert [s for _, s in hours if s != 3600.0] == [5400.0]
    hours = cut(*day_of((2025, 10, 5), LORD_HOWE, utc=False), "60m", LORD_HOWE)
    assert len(hours) == 24 and sum(s for _, s in hours) == 84_600.0
    assert [s for _, s in hours if s != 3600.0] == [1800.0]


# Any span cut into any periods, across DST changes in zones that shift by an hour, half an hour
# (Lord Howe), at midnight (Santiago, Havana), with offsets of :30 and :45 (St John's, Chatham),
# or never (Kathmandu).
ZONES = (
    "America/New_York",
    "Australia/Lord_Howe",
    "Europe/London",
    "America/Santiago",
    "America/Havana",
    "America/St_Johns",
    "Pacific/Chatham",
    "Asia/Kathmandu",
)


# Chatham changes its clock at 02:45 (standard time), in the middle of a half hour or hour:
# ``Period.start_of`` then goes back to an earlier period for a quarter-hour (autumn) or gives
# a start after the instant (spring: the skipped 03:30 read at the old offset is 14:45 UTC, for
# 14:00 UTC). That is how the queue report buckets them, and ``SlotPeriods`` even merges some of
# those quarters (its check of the last slot of a period sees 03:30 +12:45 = 04:30 +13:45). By
# 30 and 60 minutes there, only the invariants of ``split`` are checked.
IRREGULAR = {("Pacific/Chatham", "30m"), ("Pacific/Chatham", "60m")}


@functools.cache
def changes(key: str) -> list[datetime]:
    """An instant within an hour of each change of the zone's offset in 2024–2026 (UTC)."""
    zone = ZoneInfo(key)
    at = datetime(2024, 1, 1, tzinfo=UTC)
    offset = at.astimezone(zone).utcoffset()
    found = []
    while at < datetime(2027, 1, 1, tzinfo=UTC):
        at += timedelta(hours=1)
        if at.astimezone(zone).utcoffset() != offset:
            offset = at.astimezone(zone).utcoffset()
            found.append(at)
    return found or [datetime(2025, 6, 1, tzinfo=UTC)]


def by_quarter_hours(
    start: datetime, end: datetime, period: Period
) -> list[tuple[datetime, float]]:
    """The pieces ``split`` should give, period start in UTC: seconds of [start, end) in each UTC
    quarter-hour, in the period of its start; consecutive quarters of one period added up. Every
    change of ``start_of`` is at a quarter-hour in these zones (offsets of whole quarter-hours).
    """
    pieces: list[tuple[datetime, float]] = []
    slot = slot_of(start)
    while (low := datetime.fromtimestamp(slot * SLOT_S, UTC)) < end:
        bucket = period.start_of(low).astimezone(UTC)
        seconds = (min(end, low + timedelta(seconds=SLOT_S)) - max(start, low)).total_seconds()
        if pieces and pieces[-1][0] == bucket:
            seconds += pieces.pop()[1]
        pieces.append((bucket, seconds))
        slot += 1
    return pieces


@st.composite
def spans(draw: st.DrawFn) -> tuple[ZoneInfo, datetime, datetime, bool]:
    """A zone and a span of up to 4 days near one of its changes, in whole eighths of a second
    (sums of floats exact), and whether to give its bounds in the zone rather than UTC."""
    key = draw(st.sampled_from(ZONES))
    near = draw(st.sampled_from(changes(key)))
    start = near + timedelta(seconds=draw(st.integers(-3 * 86_400 * 8, 86_400 * 8)) / 8)
    end = start + timedelta(seconds=draw(st.integers(1, 4 * 86_400 * 8)) / 8)
    return ZoneInfo(key), start, end, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(spans(), st.sampled_from(PERIODS))
def test_pieces_add_up_to_the_span(
    span: tuple[ZoneInfo, datetime, datetime, bool], name: str
) -> None:
    zone, start, end, local = span
    period = Period.parse(name, zone)
    bounds = (start.astimezone(zone), end.astimezone(zone)) if local else (start, end)
    pieces = split_within(*bounds, period)
    assert sum(s for _, s in pieces) == (end - start).total_seconds()  # exactly: eighths
    assert all(s > 0 for _, s in pieces)
    instants = [b.astimezone(UTC) for b, _ in pieces]
    assert all(a != b for a, b in itertools.pairwise(instants))  # a new period each time
    if (zone.key, name) in IRREGULAR:
        return
    assert list(zip(instants, (s for _, s in pieces), strict=True)) == by_quarter_hours(
        start, end, period
    )
    # Each piece from where the one before it ends (``end_of``) to its own end, or the span's.
    at = start
    for bucket, seconds in pieces:
        assert period.start_of(at).isoformat() == bucket.isoformat()
        with time_limit(5):
            following = period.end_of(at)
        assert seconds == (min(end, following) - at).total_seconds()
        at = following
    assert cut(*bounds, name, zone) == [(b.isoformat(), s) for b, s in pieces]


# The report end to end (SQLite, PostgreSQL), bounds in local time as the CLI and API read them.
def shift_events(day: tuple[int, int, int]) -> list[DomainEvent]:
    """Agent 1001 logged in from local midnight to the next; lunch from 01:30 for an hour (of
    elapsed time); one call answered at 01:50 local (the first 01:50 on the autumn day)."""
    start, end = day_of(day, NY, utc=False)
    lunch = datetime(*day, 1, 30, tzinfo=NY).astimezone(UTC)  # + 1 h: elapsed, in UTC
    call = datetime(*day, 1, 49, tzinfo=NY).astimezone(UTC)  # answered 01:50 (10 s IVR, 50 s wait)
    return [
        *agent_shift("1001", start.astimezone(UTC), end.astimezone(UTC), [(lunch, 3600, "lunch")]),
        *answered_call("A", call, agent_id="1001", wait_s=50, talk_s=120, wrap_up_s=30),
    ]


@pytest.mark.parametrize("day", [SPRING, AUTUMN], ids=["spring", "autumn"])
async def test_agent_report_across_a_change(db: Database, day: tuple[int, int, int]) -> None:
    await store_events(db, shift_events(day))
    start, end = day_of(day, NY, utc=False)
    now = end + timedelta(days=1)
    date = "2025-03-09" if day == SPRING else "2025-11-02"
    first = "-05:00" if day == SPRING else "-04:00"  # the zone's offset at 01:00 (first one)
    after = "-04:00" if day == SPRING else "-05:00"  # … and after the change

    (row,) = (await agent_report(db, ReportRequest(start, end, Period("day", NY)), now))["rows"]
    assert (row["interval_start"], row["answered"]) == (f"{date}T00:00:00{first}", 1)
    assert (row["talk_s"], row["wrap_up_s"]) == (120.0, 30.0)  # call figures as they were
    assert row["login_s"] == (82_800.0 if day == SPRING else 90_000.0)
    assert row["pause_by_reason"] == {"lunch": 3600.0}
    assert row["occupancy"] == round(150 / (row["login_s"] - 3600), 4)

    hours = (await agent_report(db, ReportRequest(start, end, Period("60m", NY)), now))["rows"]
    assert len(hours) == (23 if day == SPRING else 25)
    assert all(r["login_s"] == 3600.0 for r in hours)
    lunch = {r["interval_start"]: r["pause_s"] for r in hours if r["pause_s"]}
    # Spring: 01:30–02:00 EST, then 03:00–03:30 EDT. Autumn: 01:30–02:00 EDT, 01:00–01:30 EST.
    nxt = f"{date}T03:00:00{after}" if day == SPRING else f"{date}T01:00:00{after}"
    assert lunch == {f"{date}T01:00:00{first}": 1800.0, nxt: 1800.0}

    quarters = (await agent_report(db, ReportRequest(start, end, Period("15m", NY)), now))["rows"]
    assert len(quarters) == (92 if day == SPRING else 100)
    by_start = {r["interval_start"]: r for r in quarters}
    quarter = by_start[f"{date}T01:45:00{first}"]  # was 4500 s (spring), −2700 s (autumn)
    assert (quarter["login_s"], quarter["pause_s"], quarter["answered"]) == (900.0, 900.0, 1)
    assert sum(r["login_s"] for r in quarters) == row["login_s"]
    assert sum(r["pause_s"] for r in quarters) == 3600.0


def test_bounds_compare_as_instants() -> None:
    # From 01:40 EDT to the second 01:20 (EST): 40 minutes later, though earlier on the clock.
    req = ReportRequest(*AUTUMN_SPAN, Period("15m", NY))
    assert req.end - req.start == timedelta(minutes=-20)  # wall-clock: the same zone
    assert req.end.astimezone(UTC) - req.start.astimezone(UTC) == timedelta(minutes=40)
    with pytest.raises(ValueError, match="after 'from'"):
        ReportRequest(AUTUMN_SPAN[1], AUTUMN_SPAN[0], Period("15m", NY))
