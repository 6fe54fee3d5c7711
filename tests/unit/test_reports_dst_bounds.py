"""Report bounds in local time next to a DST change: the slots a report reads are those of its
instants (``queries.SlotRange``), not an hour more.

A bound without an offset is local time in the centre's zone (the CLI and API read it so). On
New York's spring-forward day, 03:00 EDT is 07:00 UTC, and 03:00 − 1 µs on the wall clock is
02:59:59.999999: a time of the skipped hour, read at −05:00, i.e. 07:59:59.999999 UTC. The last
slot was then 07:45 UTC, and the calls of 07:00–07:45 UTC counted, though after the report's end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hotline.reports.buckets import Period
from hotline.reports.build import ReportRequest, agent_report, queue_report
from hotline.reports.queries import SlotRange
from hotline.storage import Database
from hotline.storage.record_ops import slot_of
from hotline.storage.simulate import abandoned_call, answered_call
from tests.fakes.event_log import store_events

NY = ZoneInfo("America/New_York")
MIDNIGHT = datetime(2025, 3, 9, tzinfo=NY)
THREE = datetime(2025, 3, 9, 3, tzinfo=NY)  # 07:00 UTC, the first instant of EDT
FOUR = datetime(2025, 3, 9, 4, tzinfo=NY)


def test_slots_end_before_the_end() -> None:
    span = SlotRange.of(MIDNIGHT, THREE)
    assert span.last == slot_of(datetime(2025, 3, 9, 6, 45, tzinfo=UTC))
    assert span.edges(0, 0) is None  # both bounds on slot boundaries: no edge tests
    assert SlotRange.of(THREE, FOUR).first == slot_of(datetime(2025, 3, 9, 7, tzinfo=UTC))
    assert SlotRange.of(THREE, FOUR).edges(0, 0) is None


async def test_calls_after_the_end_are_left_out(db: Database) -> None:
    # Queued 03:09:50 EDT, abandoned a minute later; answered at 03:05 EDT by 1001.
    late = datetime(2025, 3, 9, 3, 9, 50, tzinfo=NY).astimezone(UTC)
    answered = datetime(2025, 3, 9, 3, 4, tzinfo=NY).astimezone(UTC)  # + 10 s IVR + 50 s wait
    await store_events(
        db,
        [
            *abandoned_call("late", late, ivr_s=0, wait_s=60),
            *answered_call("taken", answered, agent_id="1001", wait_s=50, talk_s=60),
        ],
    )
    now = FOUR + timedelta(days=1)
    before = ReportRequest(MIDNIGHT, THREE, Period("60m", NY))
    assert (await queue_report(db, before))["rows"] == []
    assert (await agent_report(db, before, now))["rows"] == []
    after = ReportRequest(MIDNIGHT, FOUR, Period("60m", NY))
    (row,) = (await queue_report(db, after))["rows"]
    assert (row["interval_start"], row["offered"], row["answered"], row["abandoned"]) == (
        "2025-03-09T03:00:00-04:00",
        2,
        1,
        1,
    )
    (row,) = (await agent_report(db, after, now))["rows"]
    assert (row["interval_start"], row["agent_id"], row["answered"], row["talk_s"]) == (
        "2025-03-09T03:00:00-04:00",
        "1001",
        1,
        60.0,
    )
