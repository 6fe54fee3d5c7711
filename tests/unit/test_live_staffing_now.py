"""Agents needed in the next 30 minutes at the recent pace vs logged in, figures by hand.

Erlang C, A = λ·AHT, T = 20 s, target 80 %: C(N, A) = N·B / (N − A·(1 − B)) with Erlang B by
B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)); SL = 1 − C·e^(−(N − A)·T / AHT).

- A = 10 (100 calls in 30 min, AHT 180 s): C(13) = 0.2853, SL = 1 − 0.2853·e^(−1/3) = 0.7956
  < 0.8; C(14) = 0.1741, SL = 1 − 0.1741·e^(−4/9) = 0.8884 → 14 agents.
- A = 5 (50 calls in 30 min, AHT 180 s): C(7) = 0.3241, SL = 1 − 0.3241·e^(−2/9) = 0.7404;
  C(8) = 0.1673, SL = 1 − 0.1673·e^(−1/3) = 0.8801 → 8 agents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from cti.events import AgentLoggedIn, AgentStateChanged, CallAnswered, CallCompleted, CallQueued
from cti.settings import LiveSettings
from hotline.live.model import QueueDefinition
from hotline.live.staffing_now import RecentWindow, staffing_now
from hotline.live.stats import LiveStats
from tests.fakes.clock import DAY, Stamp, stamped


def test_a_hundred_calls_in_half_an_hour_at_180_s_need_14_agents() -> None:
    need = staffing_now(100, 1800, 180, 10, sl_target=0.8, sl_threshold_s=20)
    assert (need.calls_per_hour, need.traffic, need.needed) == (200.0, 10.0, 14)
    assert (need.logged_in, need.shortfall, need.horizon_s) == (10, 4, 1800)


def test_spare_agents_show_as_a_negative_shortfall() -> None:
    need = staffing_now(50, 1800, 180, 10, sl_target=0.8, sl_threshold_s=20)
    assert (need.traffic, need.needed, need.shortfall) == (5.0, 8, -2)


def test_no_calls_need_no_agents_even_without_a_handle_time() -> None:
    need = staffing_now(0, 1800, None, 3, sl_target=0.8, sl_threshold_s=20)
    assert (need.needed, need.traffic, need.shortfall) == (0, 0.0, -3)


def test_calls_without_a_known_handle_time_give_no_figure() -> None:
    need = staffing_now(5, 1800, None, 3, sl_target=0.8, sl_threshold_s=20)
    assert (need.needed, need.traffic, need.shortfall, need.aht_s) == (None, None, None, None)


def test_a_target_of_100_percent_has_no_finite_answer() -> None:
    assert staffing_now(5, 1800, 120, 3, sl_target=1.0, sl_threshold_s=20).needed is None


@pytest.mark.parametrize(
    ("observed_s", "per_hour"),
    [(10, 36.0), (300, 36.0), (900, 12.0), (1800, 6.0), (7200, 6.0)],
)
def test_the_pace_is_over_the_time_observed_within_5_to_30_minutes(
    observed_s: float, per_hour: float
) -> None:
    assert staffing_now(3, observed_s, 120, 0, 0.8, 20).calls_per_hour == per_hour


def test_recent_window_forgets_what_is_older_than_the_window() -> None:
    window = RecentWindow(60)
    for mono, amount in ((0, 10.0), (30, 20.0), (59, 30.0)):
        window.add(mono, amount)
    assert not window.prune(59)
    assert window.prune(60)  # the entry at 0 is exactly a window old: gone
    assert (window.count(), window.total()) == (2, 50.0)
    assert window.prune(1000)
    assert (window.count(), window.total()) == (0, 0.0)


# --- fed through LiveStats -----------------------------------------------------------------


@dataclass
class FakeClock:
    seconds: float = 9 * 3600  # since midnight; 09:00:00

    def wall(self) -> datetime:
        return DAY + timedelta(seconds=self.seconds)

    def mono(self) -> float:
        return self.seconds


def t(seconds: float) -> Stamp:
    """``seconds`` after midnight, on both clocks."""
    return stamped(DAY + timedelta(seconds=seconds))


def busy_half_hour(clock: FakeClock) -> LiveStats:
    """From 09:00: agents A and B log in; a call every 18 s (100 by 09:30:00); 10 calls
    are handled by A at 09:29:50, each 170 s of talk then 10 s of wrap-up (AHT 180 s)."""
    stats = LiveStats(LiveSettings(), [QueueDefinition("cards")], clock=clock)
    start = clock.seconds
    for agent in ("A", "B"):
        stats.apply(AgentLoggedIn(agent_id=agent, queues=("cards",), **t(start)))
    for k in range(1, 101):
        stats.apply(CallQueued(call_id=f"c{k}", queue="cards", **t(start + 18 * k)))
    done = start + 1790
    for k in range(1, 11):
        stats.apply(CallAnswered(call_id=f"c{k}", queue="cards", agent_id="A", **t(done)))
        stats.apply(
            CallCompleted(call_id=f"c{k}", queue="cards", agent_id="A", talk_s=170, **t(done))
        )
        stats.apply(AgentStateChanged(agent_id="A", state="available", **t(done + 10)))
    return stats


def test_live_pace_of_a_busy_half_hour_needs_14_against_2_logged_in() -> None:
    clock = FakeClock()
    stats = busy_half_hour(clock)
    clock.seconds += 1800  # 09:30:00
    figures = stats.queue_stats("cards")
    assert figures is not None and figures.staffing is not None
    need = figures.staffing
    assert (need.offered, need.calls_per_hour, need.aht_s) == (100, 200.0, 180.0)
    assert (need.traffic, need.needed, need.logged_in, need.shortfall) == (10.0, 14, 2, 12)


def test_calls_older_than_half_an_hour_drop_out_of_the_pace() -> None:
    clock = FakeClock()
    stats = busy_half_hour(clock)
    clock.seconds += 2700  # 09:45:00: the 50 calls up to 09:15:00 are out of the window
    stats.dirty_queues.clear()
    stats.tick()
    assert stats.dirty_queues == {"cards"}  # the hub republishes the smaller figure
    figures = stats.queue_stats("cards")
    assert figures is not None and figures.staffing is not None
    need = figures.staffing
    assert (need.offered, need.calls_per_hour, need.aht_s) == (50, 100.0, 180.0)
    assert (need.traffic, need.needed) == (5.0, 8)


def test_without_recent_completions_today_s_handle_time_is_used() -> None:
    clock = FakeClock()
    stats = busy_half_hour(clock)
    ten = clock.seconds + 3600
    for k in range(1, 21):  # 20 more calls, 10:00:18 .. 10:06:00, none completed
        stats.apply(CallQueued(call_id=f"d{k}", queue="cards", **t(ten + 18 * k)))
    clock.seconds = ten + 600  # 10:10:00: the window from 09:40:00 holds those 20 calls only
    figures = stats.queue_stats("cards")
    assert figures is not None and figures.staffing is not None
    # Today's AHT: (10·170 + 10·10) / 10 = 180 s; λ = 20 / 1800 s, A = 2 Erlang.
    need = figures.staffing
    assert (need.offered, need.calls_per_hour, need.aht_s, need.traffic) == (20, 40.0, 180.0, 2.0)
