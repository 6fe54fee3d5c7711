"""Live statistics over a scripted morning, with every figure computed by hand below."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cti.events import DomainEvent, EventKind, make_event
from cti.settings import LiveSettings, SlFormulaName
from hotline.live.model import QueueDefinition
from hotline.live.stats import LiveStats
from staffing.kpi import SlCounts, service_level

K = EventKind
DAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(hms: str) -> datetime:
    hours, minutes, seconds = (int(part) for part in hms.split(":"))
    return DAY + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def mono(hms: str) -> float:
    # The monotonic clock is "seconds since midnight" in this script: durations read easily.
    return (at(hms) - DAY).total_seconds()


@dataclass
class FakeClock:
    now: str = "09:00:00"

    def wall(self) -> datetime:
        return at(self.now)

    def mono(self) -> float:
        return mono(self.now)


def ev(kind: EventKind, hms: str, **fields: Any) -> DomainEvent:
    data = fields.pop("data", {})
    return make_event(kind, ts=at(hms), mono=mono(hms), data=data, **fields)


# The morning of queue "cards" (T = 20 s, short abandons < 5 s), agents A and B.
MORNING = [
    ev(K.AGENT_LOGGED_IN, "09:00:00", agent_id="A", data={"queues": "cards", "device": "PJSIP/a"}),
    ev(K.AGENT_LOGGED_IN, "09:00:00", agent_id="B", data={"queues": "cards"}),
    # c1: waits 10 s (within T), A talks 180 s, wraps up 10 s
    ev(
        K.CALL_STARTED, "09:00:05", call_id="c1", data={"caller": "13800000001", "hotline": "95555"}
    ),
    ev(K.CALL_QUEUED, "09:00:10", call_id="c1", queue="cards", data={"ewt_s": 12.4}),
    ev(K.CALL_ANSWERED, "09:00:20", call_id="c1", agent_id="A", data={"wait_s": 10}),
    # c2: hangs up after 3 s: a short abandon
    ev(K.CALL_QUEUED, "09:01:00", call_id="c2", queue="cards"),
    ev(K.CALL_ABANDONED, "09:01:03", call_id="c2"),
    # c3: abandons after 15 s (within T)
    ev(K.CALL_QUEUED, "09:02:00", call_id="c3", queue="cards"),
    ev(K.CALL_ABANDONED, "09:02:15", call_id="c3", data={"wait_s": 15}),
    # c4: rings B at 09:02:50, answered after 30 s (not within T), talks 120 s, wraps 20 s
    ev(K.CALL_QUEUED, "09:02:30", call_id="c4", queue="cards"),
    ev(K.CALL_OFFERED, "09:02:50", call_id="c4", agent_id="B"),
    ev(K.CALL_ANSWERED, "09:03:00", call_id="c4", agent_id="B"),  # wait measured: 30 s
    ev(K.CALL_COMPLETED, "09:03:20", call_id="c1", agent_id="A", data={"talk_s": 180}),
    ev(K.AGENT_STATE, "09:03:30", agent_id="A", data={"state": "available"}),
    # c5: abandons after 12 s (within T)
    ev(K.CALL_QUEUED, "09:04:00", call_id="c5", queue="cards"),
    ev(K.CALL_ABANDONED, "09:04:12", call_id="c5", data={"wait_s": 12}),
    ev(K.CALL_COMPLETED, "09:05:00", call_id="c4", agent_id="B"),  # talk measured: 120 s
    ev(K.CALL_QUEUED, "09:05:00", call_id="c6", queue="cards"),
    # c6: overflows after 10 s (within T)
    ev(K.CALL_OVERFLOWED, "09:05:10", call_id="c6", data={"target": "voicemail"}),
    ev(K.AGENT_UNPAUSED, "09:05:20", agent_id="B"),  # B's wrap-up ends: 20 s
    ev(K.AGENT_PAUSED, "09:06:00", agent_id="B", data={"reason": "lunch"}),
    # c7: still waiting at 09:07:00
    ev(K.CALL_QUEUED, "09:06:00", call_id="c7", queue="cards", data={"ewt_s": 95.6}),
]


def run(formula: SlFormulaName = "answered_within_t_over_answered") -> tuple[LiveStats, FakeClock]:
    clock = FakeClock("09:00:00")
    settings = LiveSettings(sl_formula=formula, short_abandon_s=5, sl_threshold_s=20)
    stats = LiveStats(settings, [QueueDefinition("cards", "Credit cards")], clock=clock)
    for event in MORNING:
        stats.apply(event)
    clock.now = "09:07:00"
    return stats, clock


# Interval 09:00–09:15 at 09:07:00:
#   offered 7 (c1..c7); answered 2 (c1 in 10 s: within; c4 in 30 s: not) → within 1
#   short abandons 1 (c2, 3 s); abandoned 2 (c3 15 s, c5 12 s: both within T)
#   overflowed 1 (c6 after 10 s: within T); c7 still waiting
#   answered_within_t_over_answered = 1 / 2                 = 0.5
#   asterisk_sl2 = (1 answered + 2 abandoned within) / (2 + 2) = 3/4 = 0.75
#   removed_within_t_over_queued = (1 + 2 + 1) / (7 - 1 short) = 4/6 = 0.6667
@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("answered_within_t_over_answered", 0.5),
        ("asterisk_sl2", 0.75),
        ("removed_within_t_over_queued", 0.6667),
    ],
)
def test_service_level_by_formula(formula: SlFormulaName, expected: float) -> None:
    stats, _ = run(formula)
    figures = stats.queue_stats("cards")
    assert figures is not None
    assert figures.sl_formula == formula  # the name travels with the figure
    assert figures.interval.service_level == expected
    assert figures.today.service_level == expected


def test_interval_figures() -> None:
    stats, _ = run()
    figures = stats.queue_stats("cards")
    assert figures is not None
    assert figures.name == "Credit cards"
    period = figures.interval
    assert period.start == "2026-03-02T09:00:00+00:00"
    assert (period.offered, period.answered, period.answered_within_t) == (7, 2, 1)
    assert (period.abandoned, period.abandoned_within_t, period.short_abandoned) == (2, 2, 1)
    assert period.overflowed == 1
    assert period.asa_s == 20.0  # (10 + 30) / 2
    assert period.aht_s == 165.0  # (180 + 120 talk + 10 + 20 wrap-up) / 2 completed
    assert period.abandon_rate == 0.5  # 2 / (2 answered + 2 abandoned); the short one apart
    # Occupancy = busy / staffed over A and B up to 09:07:00:
    #   A: available 20 + on call 180 + wrap 10 + available 210 → staffed 420, busy 190
    #   B: available 170 + ringing 10 + on call 120 + wrap 20 + available 40 (+ lunch 60,
    #      not staffed) → staffed 360, busy 140
    #   (190 + 140) / (420 + 360) = 330 / 780 = 0.4231
    assert period.occupancy == 0.4231
    assert figures.waiting == 1
    assert figures.longest_wait_s == 60  # c7 since 09:06:00
    assert figures.ewt_s == 96  # the last estimate a queued call carried
    agents = figures.agents
    assert (agents.logged_in, agents.available, agents.paused) == (2, 1, 1)
    assert agents.paused_by_reason == {"lunch": 1}


def test_next_interval_and_today() -> None:
    stats, clock = run("asterisk_sl2")
    # c7 is answered at 09:16:00 by A after 600 s: the 09:15 interval sees only that answer.
    stats.apply(ev(K.CALL_ANSWERED, "09:16:00", call_id="c7", agent_id="A"))
    clock.now = "09:16:00"
    figures = stats.queue_stats("cards")
    assert figures is not None
    interval, today = figures.interval, figures.today
    assert interval.start == "2026-03-02T09:15:00+00:00"
    assert (interval.offered, interval.answered, interval.answered_within_t) == (0, 1, 0)
    assert interval.service_level == 0.0  # SL2: (0 + 0) / (1 + 0)
    # A was available 09:15:00–09:16:00 (staffed 60, busy 0); B is at lunch.
    assert interval.occupancy == 0.0
    # Today: answered 3 (within 1), abandoned 2 (within 2): SL2 = (1 + 2) / (3 + 2) = 0.6
    assert (today.answered, today.service_level) == (3, 0.6)
    assert today.asa_s == 213.3333  # (10 + 30 + 600) / 3
    # Today's occupancy adds A's 540 s available 09:07–09:16: 330 / (780 + 540) = 0.25
    assert today.occupancy == 0.25
    assert figures.waiting == 0
    assert figures.ewt_s is None  # nobody waits: the last estimate no longer means anything


def test_removed_within_t_keeps_waiting_calls_in_the_denominator() -> None:
    stats, clock = run("removed_within_t_over_queued")
    stats.apply(ev(K.CALL_ANSWERED, "09:16:00", call_id="c7", agent_id="A"))
    clock.now = "09:16:00"
    figures = stats.queue_stats("cards")
    assert figures is not None
    assert figures.interval.service_level is None  # nothing queued in 09:15–09:30
    assert figures.today.service_level == 0.6667  # still 4 / 6: c7 was removed after 600 s


def test_a_new_day_starts_from_zero() -> None:
    stats, clock = run()
    stats.apply(ev(K.CALL_QUEUED, "23:59:59", call_id="c8", queue="cards"))
    next_day = DAY + timedelta(days=1, seconds=5)
    stats.apply(make_event(K.CALL_ABANDONED, call_id="c8", ts=next_day, mono=mono("23:59:59") + 6))
    clock.now = "09:07:00"  # unused from here: the clock below is the next day's
    clock.wall = lambda: next_day  # type: ignore[method-assign]
    clock.mono = lambda: mono("23:59:59") + 6  # type: ignore[method-assign]
    figures = stats.queue_stats("cards")
    assert figures is not None
    assert figures.today.start == "2026-03-03T00:00:00+00:00"
    assert (figures.today.offered, figures.today.abandoned) == (0, 1)
    view = stats.agent_view("A")
    assert view is not None and view.answered_today == 0


def test_a_call_that_ends_while_waiting_counts_as_abandoned() -> None:
    stats, _ = run()
    stats.apply(ev(K.CALL_ENDED, "09:06:30", call_id="c7"))  # no call.abandoned came
    figures = stats.queue_stats("cards")
    assert figures is not None
    assert figures.waiting == 0
    assert figures.interval.abandoned == 3  # c3, c5 and c7 (30 s)


def test_agent_and_call_views() -> None:
    stats, _ = run()
    stats.apply(
        ev(
            K.CALL_QUEUED,
            "09:06:10",
            call_id="c9",
            queue="cards",
            data={
                "language": "zh",
                "vip": "gold",
                "field.card": "4111111111111111",
                "field.intent": "lost card",
                "path": "main>cards>lost",
            },
        )
    )
    stats.apply(ev(K.CALL_OFFERED, "09:06:20", call_id="c9", agent_id="A"))
    agent = stats.agent_view("A")
    assert agent is not None
    assert (agent.state, agent.call_id, agent.device) == ("reserved", "c9", "PJSIP/a")
    call = stats.call_view("c9")
    assert call is not None
    assert call.fields == {"card": "************1111", "intent": "lost card"}
    assert (call.language, call.vip, call.ivr_path, call.state) == (
        "zh",
        "gold",
        "main>cards>lost",
        "ringing",
    )
    assert stats.agent_of_call("c9") == "A"
    stats.apply(ev(K.CALL_RING_NO_ANSWER, "09:06:35", call_id="c9", agent_id="A"))
    agent = stats.agent_view("A")
    assert agent is not None and (agent.state, agent.call_id) == ("available", None)


def test_formulas_without_calls_give_no_figure() -> None:
    empty = SlCounts(0, 0, 0, 0, 0, 0)
    for name in ("answered_within_t_over_answered", "asterisk_sl2", "removed_within_t_over_queued"):
        assert service_level(name, empty) is None  # type: ignore[arg-type]


def test_the_ivr_boolean_vip_flag_reads_well() -> None:
    stats, _ = run()
    stats.apply(ev(K.CALL_STARTED, "09:06:40", call_id="v1", data={"vip": True, "caller": "1"}))
    stats.apply(ev(K.CALL_STARTED, "09:06:41", call_id="v2", data={"vip": False, "caller": "2"}))
    first, second = stats.call_view("v1"), stats.call_view("v2")
    assert first is not None and first.vip == "yes"
    assert second is not None and second.vip is None


def test_a_screen_pop_names_the_queues_product_when_no_publisher_did() -> None:
    # Neither the IVR's call.started nor the ACD's call.queued carries a product on the real
    # PBX (seen end to end): the pop showed hotline and language but no product.
    stats = LiveStats(LiveSettings(), [QueueDefinition("lost", product="credit_card")])
    stats.apply(ev(K.CALL_STARTED, "09:00:00", call_id="c1", data={"hotline": "bank"}))
    stats.apply(ev(K.CALL_QUEUED, "09:00:05", call_id="c1", queue="lost"))
    view = stats.call_view("c1")
    assert view is not None and view.product == "credit_card"
    # A product a publisher stated is kept.
    stats.apply(ev(K.CALL_STARTED, "09:01:00", call_id="c2", data={"product": "cards"}))
    stats.apply(ev(K.CALL_QUEUED, "09:01:05", call_id="c2", queue="lost"))
    view = stats.call_view("c2")
    assert view is not None and view.product == "cards"


def fresh() -> tuple[LiveStats, FakeClock]:
    clock = FakeClock("09:00:00")
    settings = LiveSettings(short_abandon_s=5, sl_threshold_s=20)
    queues = [QueueDefinition("cards"), QueueDefinition("loans")]
    return LiveStats(settings, queues, clock=clock), clock


def interval(stats: LiveStats, queue: str) -> Any:
    view = stats.queue_stats(queue)
    assert view is not None
    return view.interval


def test_hold_counts_in_handle_time() -> None:
    stats, clock = fresh()
    for event in [
        ev(K.CALL_QUEUED, "09:00:00", call_id="h", queue="cards"),
        ev(K.CALL_ANSWERED, "09:00:05", call_id="h", agent_id="A", data={"wait_s": 5}),
        ev(K.CALL_HELD, "09:01:00", call_id="h", agent_id="A"),
        ev(K.CALL_UNHELD, "09:01:30", call_id="h", agent_id="A", data={"hold_s": 30.0}),
        ev(K.CALL_HELD, "09:02:00", call_id="h", agent_id="A"),
        ev(K.CALL_UNHELD, "09:02:10", call_id="h", agent_id="A"),  # measured: 10 s
        # talk measured without the holds: 09:00:05 → 09:03:05 is 180 s, 140 s of it talk
        ev(K.CALL_COMPLETED, "09:03:05", call_id="h", agent_id="A"),
    ]:
        stats.apply(event)
    clock.now = "09:05:00"
    assert interval(stats, "cards").aht_s == 180.0  # (140 talk + 40 hold) / 1


def test_requeue_and_resync_count_like_the_event_log() -> None:
    stats, clock = fresh()
    for event in [
        # r1 is queued in loans while still waiting in cards: it left cards (overflowed there)
        ev(K.CALL_QUEUED, "09:00:00", call_id="r1", queue="cards"),
        ev(K.CALL_QUEUED, "09:00:30", call_id="r1", queue="loans"),
        # the ACD rebuilds r1 after an AMI reconnect: not offered again
        ev(K.CALL_QUEUED, "09:01:00", call_id="r1", queue="loans",
           data={"resync": True, "wait_s": 30.0}),
        ev(K.CALL_ANSWERED, "09:01:10", call_id="r1", agent_id="C", data={"wait_s": 40.0}),
        # its agent transfers it into cards; the talk ends at call.completed, once
        ev(K.CALL_TRANSFERRED, "09:02:10", call_id="r1", agent_id="C",
           data={"target_kind": "queue", "target": "cards"}),
        ev(K.CALL_QUEUED, "09:02:10", call_id="r1", queue="cards"),
        ev(K.CALL_COMPLETED, "09:02:10", call_id="r1", agent_id="C", data={"talk_s": 60.0}),
    ]:  # fmt: skip
        stats.apply(event)
    clock.now = "09:05:00"
    cards, loans = interval(stats, "cards"), interval(stats, "loans")
    assert (cards.offered, cards.overflowed, cards.answered) == (2, 1, 0)
    assert (loans.offered, loans.answered, loans.overflowed) == (1, 1, 0)
    # Requeued before call.completed came: the talk ended there (measured, 60 s), once.
    assert loans.aht_s == 60.0
    view = stats.queue_stats("cards")
    assert view is not None and view.waiting == 1
