"""Erlang B/C: the issue's vector, published tables, an exact oracle and properties."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staffing.erlang import (
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    occupancy,
    positions_after_shrinkage,
    service_level,
    traffic_intensity,
)


def exact_erlang_c(agents: int, traffic: Fraction) -> Fraction:
    """Textbook Erlang C with factorials and powers, in exact rationals (small N only)."""
    top = traffic**agents / math.factorial(agents) * Fraction(agents) / (agents - traffic)
    bottom = sum(traffic**k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


def log_space_erlang_c(agents: int, traffic: float) -> float:
    """The same formula summed in log space with lgamma: an oracle for thousands of agents."""
    logs = [k * math.log(traffic) - math.lgamma(k + 1) for k in range(agents)]
    log_top = (
        agents * math.log(traffic) - math.lgamma(agents + 1) + math.log(agents / (agents - traffic))
    )
    peak = max([*logs, log_top])
    below = sum(math.exp(v - peak) for v in logs)
    top = math.exp(log_top - peak)
    return top / (below + top)


# --- the issue's vector (issue 7; the Call Centre Helper worked example) -------------------


def test_issue_vector() -> None:
    traffic = traffic_intensity(calls=100, interval_s=30 * 60, aht_s=180)
    assert traffic == 10.0
    m = erlang_c_metrics(14, traffic, answer_within_s=20, aht_s=180)
    assert round(m.p_wait, 7) == 0.1741319
    assert round(m.service_level, 5) == 0.88835
    assert round(m.asa_s, 3) == 7.836
    assert round(m.occupancy, 7) == 0.7142857
    needed = agents_needed(traffic, aht_s=180, answer_within_s=20, target_service_level=0.8)
    assert needed == 14
    assert positions_after_shrinkage(needed, 0.3) == 20


def test_issue_vector_thirteen_agents_miss_the_target() -> None:
    assert service_level(13, 10.0, 20, 180) < 0.8 <= service_level(14, 10.0, 20, 180)


# --- further vectors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agents", "traffic", "expected_blocking"),
    [
        # Erlang B table, 1 % grade of service: 10, 20, 50, 100 circuits carry 4.46, 12.03,
        # 37.90, 84.06 Erlangs (any published Erlang B table, e.g. ITU-T E.501 era tables).
        (10, 4.46, 0.01),
        (20, 12.03, 0.01),
        (50, 37.90, 0.01),
        (100, 84.06, 0.01),
        # 30 lines at 25 Erlangs block about 5 % (Wolfram ErlangB documentation example).
        (30, 25.0, 0.05),
    ],
)
def test_erlang_b_table(agents: int, traffic: float, expected_blocking: float) -> None:
    # Tables round the load to two decimals, hence the loose relative tolerance.
    assert erlang_b(agents, traffic) == pytest.approx(expected_blocking, rel=0.06)


@pytest.mark.parametrize(
    ("agents", "traffic", "within_s", "aht_s", "p_wait", "sl", "asa_s"),
    [
        # Westbay "The Erlang-C formula" walk-through inputs: 360 calls per half hour, 4 min
        # calls, 55 agents, 15 s target (A = 48); figures from the exact oracle below.
        (55, 48.0, 15, 240, 0.2387009, 0.84588, 8.184),
        # Textbook exercise (a call a minute, 3 min handling, 5 agents), by hand:
        # C = (3⁵/5!·5/2) / (16.375 + 5.0625) = 5.0625 / 21.4375.
        (5, 3.0, 60, 180, 0.2361516, 0.87876, 21.254),
        # 1 Erlang on 2 agents, by hand: B = 0.2, C = 2·0.2 / (2 − 0.8) = 1/3, ASA = AHT/3.
        (2, 1.0, 0, 60, 1 / 3, 2 / 3, 20.0),
    ],
)
def test_published_erlang_c_vectors(
    agents: int,
    traffic: float,
    within_s: float,
    aht_s: float,
    p_wait: float,
    sl: float,
    asa_s: float,
) -> None:
    m = erlang_c_metrics(agents, traffic, within_s, aht_s)
    assert m.p_wait == pytest.approx(p_wait, abs=5e-8)
    assert m.service_level == pytest.approx(sl, abs=5e-6)
    assert m.asa_s == pytest.approx(asa_s, abs=5e-4)
    exact = exact_erlang_c(agents, Fraction(traffic))
    assert m.p_wait == pytest.approx(float(exact), rel=1e-12)


def test_large_centre_matches_log_space_oracle() -> None:
    # 3,000 agents on 2,950 Erlangs: A^N and N! overflow floats; the recurrence must not.
    ours = erlang_c(3000, 2950.0)
    assert 0 < ours < 1
    assert ours == pytest.approx(log_space_erlang_c(3000, 2950.0), rel=1e-9)


def test_large_centre_staffing_is_near_square_root_rule() -> None:
    needed = agents_needed(1000.0, aht_s=300, answer_within_s=20, target_service_level=0.8)
    # Square-root staffing: N ≈ A + β√A with β of order 1 for 80/20 at this scale.
    assert 1000 < needed < 1000 + 2 * math.sqrt(1000)
    assert (
        service_level(needed, 1000.0, 20, 300) >= 0.8 > service_level(needed - 1, 1000.0, 20, 300)
    )


# --- staffing targets and shrinkage --------------------------------------------------------


def test_asa_target_can_dominate() -> None:
    by_sl = agents_needed(10.0, 180, 20, 0.8)
    by_asa = agents_needed(10.0, 180, 20, 0.8, target_asa_s=2.0)
    assert by_asa > by_sl
    assert average_speed_of_answer(by_asa, 10.0, 180) <= 2.0
    assert average_speed_of_answer(by_asa - 1, 10.0, 180) > 2.0


def test_max_occupancy_can_dominate() -> None:
    needed = agents_needed(10.0, 180, 20, 0.5, max_occupancy=0.6)
    assert needed == 17  # 10/17 = 0.588 ≤ 0.6 < 10/16
    assert occupancy(needed, 10.0) <= 0.6


@pytest.mark.parametrize(
    ("agents", "shrinkage", "positions"),
    [(14, 0.3, 20), (14, 0.0, 14), (10, 0.5, 20), (7, 0.3, 10), (15, 0.3, 22), (0, 0.9, 0)],
)
def test_positions_after_shrinkage(agents: int, shrinkage: float, positions: int) -> None:
    assert positions_after_shrinkage(agents, shrinkage) == positions


# --- degenerate inputs and errors ----------------------------------------------------------


def test_unstable_queue() -> None:
    m = erlang_c_metrics(10, 10.0, 20, 180)
    assert (m.p_wait, m.service_level, m.asa_s, m.occupancy) == (1.0, 0.0, math.inf, 1.0)


def test_no_traffic() -> None:
    m = erlang_c_metrics(3, 0.0, 20, 180)
    assert (m.p_wait, m.service_level, m.asa_s, m.occupancy) == (0.0, 1.0, 0.0, 0.0)
    assert agents_needed(0.0, 180, 20, 0.8) == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: traffic_intensity(-1, 1800, 180),
        lambda: traffic_intensity(100, 0, 180),
        lambda: traffic_intensity(100, 1800, math.nan),
        lambda: erlang_c(-1, 1.0),
        lambda: service_level(3, 1.0, -1, 180),
        lambda: agents_needed(10.0, 180, 20, 1.0),
        lambda: agents_needed(10.0, 180, 20, 0.8, max_occupancy=0.0),
        lambda: agents_needed(10.0, 180, 20, 0.8, target_asa_s=0.0),
        lambda: positions_after_shrinkage(14, 1.0),
        lambda: positions_after_shrinkage(14, -0.1),
    ],
)
def test_bad_input_is_refused(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]


# --- properties -----------------------------------------------------------------------------

traffics = st.floats(min_value=0.01, max_value=400.0, allow_nan=False)
agent_counts = st.integers(min_value=0, max_value=600)
waits = st.floats(min_value=0.0, max_value=600.0, allow_nan=False)
ahts = st.floats(min_value=1.0, max_value=1200.0, allow_nan=False)


@given(agent_counts, traffics, waits, ahts)
def test_figures_are_probabilities(agents: int, traffic: float, within: float, aht: float) -> None:
    m = erlang_c_metrics(agents, traffic, within, aht)
    assert 0.0 <= erlang_b(agents, traffic) <= m.p_wait <= 1.0
    assert 0.0 <= m.service_level <= 1.0
    assert m.asa_s >= 0.0
    assert 0.0 <= m.occupancy <= 1.0


@given(agent_counts, traffics, waits, ahts)
def test_more_agents_never_hurt(agents: int, traffic: float, within: float, aht: float) -> None:
    now = erlang_c_metrics(agents, traffic, within, aht)
    more = erlang_c_metrics(agents + 1, traffic, within, aht)
    assert more.service_level >= now.service_level - 1e-12
    assert more.p_wait <= now.p_wait + 1e-12
    assert more.asa_s <= now.asa_s


@given(traffics, st.integers(min_value=0, max_value=600))
def test_unstable_when_agents_do_not_exceed_traffic(traffic: float, agents: int) -> None:
    agents = min(agents, math.floor(traffic))
    m = erlang_c_metrics(agents, traffic, 20, 180)
    assert (m.p_wait, m.service_level, m.asa_s) == (1.0, 0.0, math.inf)


@given(
    st.integers(min_value=1, max_value=40),
    st.fractions(min_value=Fraction(1, 100), max_value=Fraction(40)),
)
def test_recurrence_matches_exact_factorial_formula(agents: int, traffic: Fraction) -> None:
    if agents <= traffic:
        return
    ours = erlang_c(agents, float(traffic))
    assert ours == pytest.approx(float(exact_erlang_c(agents, traffic)), rel=1e-9, abs=1e-300)


@given(
    st.floats(min_value=0.1, max_value=300.0),
    st.floats(min_value=0.05, max_value=0.99),
    waits,
    ahts,
)
def test_agents_needed_is_the_smallest_meeting_the_target(
    traffic: float, target: float, within: float, aht: float
) -> None:
    needed = agents_needed(traffic, aht, within, target)
    assert service_level(needed, traffic, within, aht) >= target - 1e-12
    assert service_level(needed - 1, traffic, within, aht) < target


@given(st.integers(min_value=0, max_value=10_000), st.floats(min_value=0.0, max_value=0.95))
def test_positions_cover_the_agents(agents: int, shrinkage: float) -> None:
    positions = positions_after_shrinkage(agents, shrinkage)
    assert positions >= agents
    # One position fewer would leave fewer than the agents needed after shrinkage.
    assert (positions - 1) * (1 - Fraction(repr(shrinkage))) < agents or positions == 0
