"""Wait estimates: Hotline's, Asterisk's app_queue formula, and the error accumulator."""

from __future__ import annotations

import math

from acd.effects import CallArrived
from acd.engine import AcdEngine
from acd.ewt import AsteriskHoldTime, HandleTimes, WaitAccuracy, estimate_wait
from acd.model import AcdConfig, Agent, Queue


def test_estimate_from_position_staffing_and_handle_time() -> None:
    assert estimate_wait(position=1, staffing=2, handle_s=120) == 60
    assert estimate_wait(position=6, staffing=3, handle_s=90) == 180
    assert estimate_wait(position=2, staffing=3, handle_s=90, available=2) == 0
    assert math.isinf(estimate_wait(position=1, staffing=0, handle_s=90))


def test_handle_times_blend_a_prior_and_roll() -> None:
    times = HandleTimes(prior_s=180, window=3, prior_weight=1)
    assert times.mean == 180
    times.record(60)
    assert times.mean == 120
    for value in (60, 60, 60, 60):
        times.record(value)
    assert len(times) == 3
    assert times.mean == (180 + 3 * 60) / 4


def test_asterisk_holdtime_is_a_quarter_weight_integer_average() -> None:
    hold = AsteriskHoldTime()
    hold.record_answered(100)  # (0*3 + 100) >> 2
    assert hold.holdtime == 25
    hold.record_answered(45.9)  # whole seconds: (75 + 45) >> 2
    assert hold.holdtime == 30


def test_asterisk_announcement_ignores_position_and_subtracts_the_wait() -> None:
    hold = AsteriskHoldTime(holdtime=150)
    assert hold.announced_wait(elapsed_s=0) == 180  # (150 + 30) / 60 = 3 minutes
    assert hold.announced_wait(elapsed_s=100) == 60  # 80 / 60 = 1 minute
    assert hold.announced_wait(elapsed_s=400) == 180  # labs(-220) / 60 = 3: past the mean
    assert hold.announced_wait(elapsed_s=0, rounding_seconds=15) == 180
    assert AsteriskHoldTime(holdtime=100).announced_wait(0, rounding_seconds=15) == 120 + 0
    assert AsteriskHoldTime(holdtime=110).announced_wait(0, rounding_seconds=15) == 120 + 15


def test_accuracy_accumulates_mae_per_queue() -> None:
    accuracy = WaitAccuracy()
    accuracy.record("a", predicted_s=10, actual_s=20)
    accuracy.record("a", predicted_s=30, actual_s=20)
    accuracy.record("b", predicted_s=5, actual_s=5)
    accuracy.record("b", predicted_s=math.inf, actual_s=5)  # unstaffed: not scored
    assert accuracy.mae("a") == 10
    assert accuracy.mae("b") == 0
    assert accuracy.mae() == 20 / 3
    assert accuracy.bias("a") == 0
    assert accuracy.count() == 3


def test_engine_records_predicted_against_actual_wait() -> None:
    queue = Queue(id="bank", skills={"bank": 1}, prior_handle_s=100)
    engine = AcdEngine(
        AcdConfig(queues=(queue,), agents=(Agent(id="a1", device="PJSIP/1", skills={"bank": 1}),))
    )
    engine.login("a1", now=0.0)
    engine.call_arrived(CallArrived("c0", "bank", 0.0), now=0.0)
    engine.offer_answered("c0", "a1", now=1.0)
    engine.call_arrived(CallArrived("c1", "bank", 2.0), now=2.0)
    announcement = engine.announcement("c1", now=2.0)
    assert announcement is not None and announcement.position == 1
    assert announcement.ewt_s == 100  # position 1 × prior 100 s ÷ 1 agent
    engine.call_ended("c0", now=72.0)  # wrap-up 10 s by default
    engine.wrap_up_done("a1", now=82.0)
    engine.offer_answered("c1", "a1", now=83.0)
    assert engine.accuracy.count("bank") == 2
    assert engine.accuracy.mae("bank") == (abs(0 - 1) + abs(100 - 81)) / 2
    assert engine.asterisk_accuracy.count("bank") == 2
