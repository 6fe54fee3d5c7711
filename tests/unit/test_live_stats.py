"""Live statistics over a scripted morning, with every figure computed by hand below."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cti.events import (
    EVENT_CLASSES,
    AgentLoggedIn,
    AgentPaused,
    AgentStateChanged,
    AgentUnpaused,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallHeld,
    CallOffered,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
    CallStarted,
    CallTransferred,
    CallUnheld,
    DomainEvent,
)
from cti.settings import LiveSettings, SlFormulaName
from hotline.live.handlers import HANDLERS, IGNORED
from hotline.live.model import QueueDefinition
from hotline.live.stats import LiveStats
from staffing.kpi import SlCounts, service_level
from tests.fakes.clock import DAY, FakeClock, at, since_midnight, when


def mono(hms: str) -> float:
    return since_midnight(at(hms))


def offer(call_id: str, agent: str, hms: str, queue: str = "cards") -> CallOffered:
    return CallOffered(
        call_id=call_id, queue=queue, agent_id=agent, decision=1, device=f"PJSIP/{agent}",
        ring_timeout_s=15, **when(hms),
    )  # fmt: skip


# The morning of queue "cards" (T = 20 s, short abandons < 5 s), agents A and B.
MORNING: list[DomainEvent] = [
    AgentLoggedIn(agent_id="A", queues=("cards",), device="PJSIP/a", **when("09:00:00")),
    AgentLoggedIn(agent_id="B", queues=("cards",), **when("09:00:00")),
    # c1: waits 10 s (within T), A talks 180 s, wraps up 10 s
    CallStarted(call_id="c1", caller="13800000001", hotline="95555", **when("09:00:05")),
    CallQueued(call_id="c1", queue="cards", ewt_s=12.4, **when("09:00:10")),
    CallAnswered(call_id="c1", queue="cards", agent_id="A", wait_s=10, **when("09:00:20")),
    # c2: hangs up after 3 s: a short abandon
    CallQueued(call_id="c2", queue="cards", **when("09:01:00")),
    CallAbandoned(call_id="c2", queue="cards", **when("09:01:03")),
    # c3: abandons after 15 s (within T)
    CallQueued(call_id="c3", queue="cards", **when("09:02:00")),
    CallAbandoned(call_id="c3", queue="cards", wait_s=15, **when("09:02:15")),
    # c4: rings B at 09:02:50, answered after 30 s (not within T), talks 120 s, wraps 20 s
    CallQueued(call_id="c4", queue="cards", **when("09:02:30")),
    offer("c4", "B", "09:02:50"),
    CallAnswered(call_id="c4", queue="cards", agent_id="B", **when("09:03:00")),  # wait: 30 s
    CallCompleted(call_id="c1", queue="cards", agent_id="A", talk_s=180, **when("09:03:20")),
    AgentStateChanged(agent_id="A", state="available", **when("09:03:30")),
    # c5: abandons after 12 s (within T)
    CallQueued(call_id="c5", queue="cards", **when("09:04:00")),
    CallAbandoned(call_id="c5", queue="cards", wait_s=12, **when("09:04:12")),
    CallCompleted(call_id="c4", queue="cards", agent_id="B", **when("09:05:00")),  # talk: 120 s
    CallQueued(call_id="c6", queue="cards", **when("09:05:00")),
    # c6: overflows after 10 s (within T)
    CallOverflowed(call_id="c6", queue="cards", target="voicemail", target_kind="voicemail",
                   reason="max_wait", **when("09:05:10")),
    AgentUnpaused(agent_id="B", **when("09:05:20")),  # B's wrap-up ends: 20 s
    AgentPaused(agent_id="B", reason="lunch", **when("09:06:00")),
    # c7: still waiting at 09:07:00
    CallQueued(call_id="c7", queue="cards", ewt_s=95.6, **when("09:06:00")),
]  # fmt: skip


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
    assert period.abandon_rate == 0.3333  # 2 / (7 offered − 1 short): the short one apart
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
    stats.apply(CallAnswered(call_id="c7", queue="cards", agent_id="A", **when("09:16:00")))
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
    stats.apply(CallAnswered(call_id="c7", queue="cards", agent_id="A", **when("09:16:00")))
    clock.now = "09:16:00"
    figures = stats.queue_stats("cards")
    assert figures is not None
    assert figures.interval.service_level is None  # nothing queued in 09:15–09:30
    assert figures.today.service_level == 0.6667  # still 4 / 6: c7 was removed after 600 s


def test_a_new_day_starts_from_zero() -> None:
    stats, clock = run()
    stats.apply(CallQueued(call_id="c8", queue="cards", **when("23:59:59")))
    next_day = DAY + timedelta(days=1, seconds=5)
    stats.apply(CallAbandoned(call_id="c8", queue="cards", ts=next_day, mono=mono("23:59:59") + 6))
    clock.days, clock.now = 1, "00:00:05"
    figures = stats.queue_stats("cards")
    assert figures is not None
    assert figures.today.start == "2026-03-03T00:00:00+00:00"
    assert (figures.today.offered, figures.today.abandoned) == (0, 1)
    view = stats.agent_view("A")
    assert view is not None and view.answered_today == 0


def test_a_call_that_ends_while_waiting_counts_as_abandoned() -> None:
    stats, _ = run()
    stats.apply(CallEnded(call_id="c7", **when("09:06:30")))  # no CallAbandoned came
    figures = stats.queue_stats("cards")
    assert figures is not None
    assert figures.waiting == 0
    assert figures.interval.abandoned == 3  # c3, c5 and c7 (30 s)


def test_agent_and_call_views() -> None:
    stats, _ = run()
    stats.apply(
        CallQueued(
            call_id="c9",
            queue="cards",
            language="zh",
            vip=True,
            fields={"card": "4111111111111111", "intent": "lost card"},
            path=("main", "cards", "lost"),
            **when("09:06:10"),
        )
    )
    stats.apply(offer("c9", "A", "09:06:20"))
    agent = stats.agent_view("A")
    assert agent is not None
    assert (agent.state, agent.call_id, agent.device) == ("reserved", "c9", "PJSIP/a")
    call = stats.call_view("c9")
    assert call is not None
    assert call.fields == {"card": "************1111", "intent": "lost card"}
    assert (call.language, call.vip, call.ivr_path, call.state) == (
        "zh",
        "yes",
        "main>cards>lost",
        "ringing",
    )
    assert stats.agent_of_call("c9") == "A"
    stats.apply(
        CallRingNoAnswer(
            call_id="c9", queue="cards", agent_id="A", reason="noanswer", **when("09:06:35")
        )
    )
    agent = stats.agent_view("A")
    assert agent is not None and (agent.state, agent.call_id) == ("available", None)


def test_formulas_without_calls_give_no_figure() -> None:
    empty = SlCounts(0, 0, 0, 0, 0, 0)
    for name in ("answered_within_t_over_answered", "asterisk_sl2", "removed_within_t_over_queued"):
        assert service_level(name, empty) is None


def test_the_ivr_boolean_vip_flag_reads_well() -> None:
    stats, _ = run()
    stats.apply(CallStarted(call_id="v1", vip=True, caller="1", **when("09:06:40")))
    stats.apply(CallStarted(call_id="v2", vip=False, caller="2", **when("09:06:41")))
    first, second = stats.call_view("v1"), stats.call_view("v2")
    assert first is not None and first.vip == "yes"
    assert second is not None and second.vip is None


def test_a_screen_pop_names_the_queues_product_when_no_publisher_did() -> None:
    # Neither the IVR's call.started nor the ACD's call.queued carries a product on the real
    # PBX (seen end to end): the pop showed hotline and language but no product.
    stats = LiveStats(LiveSettings(), [QueueDefinition("lost", product="credit_card")])
    stats.apply(CallStarted(call_id="c1", hotline="bank", **when("09:00:00")))
    stats.apply(CallQueued(call_id="c1", queue="lost", **when("09:00:05")))
    view = stats.call_view("c1")
    assert view is not None and view.product == "credit_card"
    # A product a publisher stated is kept.
    stats.apply(CallStarted(call_id="c2", product="cards", **when("09:01:00")))
    stats.apply(CallQueued(call_id="c2", queue="lost", **when("09:01:05")))
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
    events: list[DomainEvent] = [
        CallQueued(call_id="h", queue="cards", **when("09:00:00")),
        CallAnswered(call_id="h", queue="cards", agent_id="A", wait_s=5, **when("09:00:05")),
        CallHeld(call_id="h", queue="cards", agent_id="A", **when("09:01:00")),
        CallUnheld(call_id="h", queue="cards", agent_id="A", hold_s=30.0, **when("09:01:30")),
        CallHeld(call_id="h", queue="cards", agent_id="A", **when("09:02:00")),
        CallUnheld(call_id="h", queue="cards", agent_id="A", **when("09:02:10")),  # measured: 10 s
        # talk measured without the holds: 09:00:05 → 09:03:05 is 180 s, 140 s of it talk
        CallCompleted(call_id="h", queue="cards", agent_id="A", **when("09:03:05")),
    ]
    for event in events:
        stats.apply(event)
    clock.now = "09:05:00"
    assert interval(stats, "cards").aht_s == 180.0  # (140 talk + 40 hold) / 1


def test_requeue_and_resync_count_like_the_event_log() -> None:
    stats, clock = fresh()
    events: list[DomainEvent] = [
        # r1 is queued in loans while still waiting in cards: it left cards (overflowed there)
        CallQueued(call_id="r1", queue="cards", **when("09:00:00")),
        CallQueued(call_id="r1", queue="loans", **when("09:00:30")),
        # the ACD rebuilds r1 after an AMI reconnect: not offered again
        CallQueued(call_id="r1", queue="loans", resync=True, wait_s=30.0, **when("09:01:00")),
        CallAnswered(call_id="r1", queue="loans", agent_id="C", wait_s=40.0, **when("09:01:10")),
        # its agent transfers it into cards; the talk ends at CallCompleted, once
        CallTransferred(call_id="r1", queue="loans", agent_id="C", target_kind="queue",
                        target="cards", **when("09:02:10")),
        CallQueued(call_id="r1", queue="cards", **when("09:02:10")),
        CallCompleted(call_id="r1", queue="loans", agent_id="C", talk_s=60.0, **when("09:02:10")),
    ]  # fmt: skip
    for event in events:
        stats.apply(event)
    clock.now = "09:05:00"
    cards, loans = interval(stats, "cards"), interval(stats, "loans")
    assert (cards.offered, cards.overflowed, cards.answered) == (2, 1, 0)
    assert (loans.offered, loans.answered, loans.overflowed) == (1, 1, 0)
    # Requeued before call.completed came: the talk ended there (measured, 60 s), once.
    assert loans.aht_s == 60.0
    view = stats.queue_stats("cards")
    assert view is not None and view.waiting == 1


def test_every_event_class_is_handled_or_ignored() -> None:
    # A new kind of event must be filed in one of the two, never silently dropped.
    assert HANDLERS.keys() | IGNORED == set(EVENT_CLASSES.values())
    assert not HANDLERS.keys() & IGNORED
