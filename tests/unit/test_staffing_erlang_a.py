"""Erlang A against a direct solution of the birth–death chain, and its Erlang C limit."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffing.erlang import erlang_c_metrics
from staffing.erlang_a import ErlangAMetrics, agents_needed_erlang_a, erlang_a_metrics


@dataclass(frozen=True)
class Oracle:
    p_wait: float
    p_abandon: float
    service_level: float
    asa_s: float
    mean_wait_s: float


def chain_oracle(
    agents: int, traffic: float, within_s: float, aht_s: float, patience_s: float
) -> Oracle:
    """Solve M/M/N+M by brute force, by methods other than the implementation's.

    Stationary law: the birth–death chain (birth λ, death min(n, N)·μ + max(0, n − N)·θ)
    truncated where probabilities fall below e⁻⁶⁰ of the peak. A tagged arrival who finds k
    queued is then followed through its own small chain: first-step analysis for P(answered)
    and the answered wait, uniformization for P(answered within T).
    """
    lam, mu, theta = traffic / aht_s, 1 / aht_s, 1 / patience_s
    logs = [0.0]
    n = 0
    while n <= agents + 10 or logs[-1] > max(logs) - 60:
        n += 1
        death = min(n, agents) * mu + max(0, n - agents) * theta
        logs.append(logs[-1] + math.log(lam / death))
    peak = max(logs)
    weights = [math.exp(v - peak) for v in logs]
    total = sum(weights)
    queued = [w / total for w in weights[agents:]]  # π_{N+k}: the arrival finds k ahead
    p_wait = sum(queued)

    answered_prob: list[float] = []  # P(answered | k ahead)
    answered_wait: list[float] = []  # E[wait · 1{answered} | k ahead]
    for k in range(len(queued)):
        leave = agents * mu + k * theta  # the queue ahead moves on at this rate
        g_prev = answered_prob[-1] if k else 1.0
        h_prev = answered_wait[-1] if k else 0.0
        g = leave / (leave + theta) * g_prev
        answered_prob.append(g)
        answered_wait.append(g / (leave + theta) + leave / (leave + theta) * h_prev)
    p_abandon = sum(q * (1 - g) for q, g in zip(queued, answered_prob, strict=True))
    asa = sum(q * h for q, h in zip(queued, answered_wait, strict=True)) / (1 - p_abandon)
    mean_queue = sum(k * q for k, q in enumerate(queued))

    # Uniformization of the tagged caller's chain (states: k ahead; answered; abandoned).
    size = len(queued)
    uniform = agents * mu + size * theta + theta
    mass = list(queued)
    answered_by_step = 0.0
    within = 0.0
    rate_t = uniform * within_s
    steps = int(rate_t + 12 * math.sqrt(rate_t) + 40)
    for m in range(steps + 1):
        log_poisson = -rate_t + (m * math.log(rate_t) - math.lgamma(m + 1) if rate_t else 0.0)
        if rate_t == 0 and m > 0:
            break
        within += math.exp(log_poisson) * answered_by_step
        moved = [0.0] * size
        for j, p in enumerate(mass):
            leave = agents * mu + j * theta
            if j == 0:
                answered_by_step += p * leave / uniform
            else:
                moved[j - 1] += p * leave / uniform
            moved[j] += p * (1 - (leave + theta) / uniform)
        mass = moved
    return Oracle(
        p_wait=p_wait,
        p_abandon=p_abandon,
        service_level=(1 - p_wait) + within,
        asa_s=asa,
        mean_wait_s=mean_queue / lam,
    )


LOADS = [
    # agents, Erlangs, answer within (s), AHT (s), mean patience (s)
    (14, 10.0, 20, 180, 60),  # the issue's centre with impatient callers
    (14, 10.0, 20, 180, 600),
    (8, 10.0, 20, 180, 60),  # overloaded: only abandonment keeps it stable
    (55, 48.0, 15, 240, 120),
    (3, 2.5, 30, 300, 30),
    (120, 130.0, 20, 200, 300),  # overloaded, long queue
    (1, 0.5, 5, 60, 10),
    (20, 5.0, 10, 300, 3),  # patience much shorter than the target, overstaffed
    (11, 10.0, 60, 180, 5),  # patience much shorter than the target, tight
    (0, 4.0, 20, 180, 60),  # nobody answers
]


@pytest.mark.parametrize(("agents", "traffic", "within_s", "aht_s", "patience_s"), LOADS)
def test_matches_birth_death_chain(
    agents: int, traffic: float, within_s: float, aht_s: float, patience_s: float
) -> None:
    ours = erlang_a_metrics(agents, traffic, within_s, aht_s, patience_s)
    truth = chain_oracle(agents, traffic, within_s, aht_s, patience_s)
    assert ours.p_wait == pytest.approx(truth.p_wait, rel=1e-9, abs=1e-12)
    assert ours.p_abandon == pytest.approx(truth.p_abandon, rel=1e-9, abs=1e-12)
    assert ours.service_level == pytest.approx(truth.service_level, rel=1e-8, abs=1e-10)
    assert ours.mean_wait_s == pytest.approx(truth.mean_wait_s, rel=1e-9, abs=1e-12)
    if agents:
        assert ours.asa_s == pytest.approx(truth.asa_s, rel=1e-9, abs=1e-12)
    else:
        assert ours.asa_s == math.inf


def test_issue_centre_with_one_minute_patience() -> None:
    # Regression values for the issue's centre (10 Erlangs, 14 agents, 20 s) with 60 s mean
    # patience, confirmed by the chain oracle above.
    m = erlang_a_metrics(14, 10.0, 20, 180, 60)
    assert round(m.p_wait, 6) == 0.111527
    assert round(m.p_abandon, 6) == 0.030322
    assert round(m.service_level, 5) == 0.94378
    assert round(m.asa_s, 3) == 1.408


@pytest.mark.parametrize(
    ("agents", "traffic", "within_s", "aht_s"),
    [(14, 10.0, 20, 180), (55, 48.0, 15, 240), (1, 0.5, 5, 60)],
)
def test_infinite_patience_limit_is_erlang_c(
    agents: int, traffic: float, within_s: float, aht_s: float
) -> None:
    c = erlang_c_metrics(agents, traffic, within_s, aht_s)
    gaps = []
    for patience_s in (1e3, 1e5, 1e7, 1e9):
        a = erlang_a_metrics(agents, traffic, within_s, aht_s, patience_s)
        gaps.append(abs(a.service_level - c.service_level))
        assert a.p_abandon < 10 * c.asa_s / patience_s + 1e-15  # P(ab) ≈ E[W]·θ
    assert gaps == sorted(gaps, reverse=True)
    far = erlang_a_metrics(agents, traffic, within_s, aht_s, 1e9)
    assert far.p_wait == pytest.approx(c.p_wait, rel=1e-6)
    assert far.service_level == pytest.approx(c.service_level, rel=1e-6)
    assert far.asa_s == pytest.approx(c.asa_s, rel=1e-6)
    assert far.occupancy == pytest.approx(c.occupancy, rel=1e-6)
    exact = erlang_a_metrics(agents, traffic, within_s, aht_s, math.inf)
    assert (exact.p_wait, exact.service_level, exact.asa_s, exact.p_abandon) == (
        c.p_wait,
        c.service_level,
        c.asa_s,
        0.0,
    )


def test_large_centre_is_fast_and_finite() -> None:
    # 3,000 Erlangs: π_N underflows and the queue series would overflow without scaling.
    m = erlang_a_metrics(2900, 3000.0, 20, 180, 120)
    assert all(math.isfinite(v) for v in (m.p_wait, m.p_abandon, m.service_level, m.asa_s))
    assert m.p_abandon >= 1 - 2900 / 3000  # at most Nμ answered per unit time
    needed = agents_needed_erlang_a(3000.0, 180, 20, 0.8, 120)
    assert 0.8 * 3000 <= needed < 3000


def test_agents_needed_with_abandonment() -> None:
    needed = agents_needed_erlang_a(10.0, 180, 20, 0.8, 120)
    assert erlang_a_metrics(needed, 10.0, 20, 180, 120).service_level >= 0.8
    assert erlang_a_metrics(needed - 1, 10.0, 20, 180, 120).service_level < 0.8
    # Infinite patience gives back the Erlang C answer (14, the issue's vector).
    assert agents_needed_erlang_a(10.0, 180, 20, 0.8, math.inf) == 14
    with_cap = agents_needed_erlang_a(10.0, 180, 20, 0.8, 120, max_occupancy=0.6)
    assert erlang_a_metrics(with_cap, 10.0, 20, 180, 120).occupancy <= 0.6


def test_refuses_bad_patience() -> None:
    with pytest.raises(ValueError):
        erlang_a_metrics(3, 1.0, 20, 180, 0.0)
    with pytest.raises(ValueError):
        erlang_a_metrics(3, 1.0, 20, 180, -5.0)


# --- properties -----------------------------------------------------------------------------

agent_counts = st.integers(min_value=0, max_value=60)
traffics = st.floats(min_value=0.01, max_value=60.0)
waits = st.floats(min_value=0.0, max_value=120.0)
ahts = st.floats(min_value=30.0, max_value=600.0)
patiences = st.floats(min_value=2.0, max_value=600.0)


def _sane(m: ErlangAMetrics) -> None:
    assert 0.0 <= m.p_abandon <= m.p_wait <= 1.0
    assert 0.0 <= m.service_level <= 1.0 - m.p_abandon + 1e-12
    assert 0.0 <= m.occupancy <= 1.0
    assert m.asa_s >= 0.0
    assert m.mean_wait_s >= 0.0


@given(agent_counts, traffics, waits, ahts, patiences)
def test_figures_are_probabilities(
    agents: int, traffic: float, within: float, aht: float, patience: float
) -> None:
    _sane(erlang_a_metrics(agents, traffic, within, aht, patience))


@given(agent_counts, traffics, waits, ahts, patiences)
def test_more_agents_never_hurt(
    agents: int, traffic: float, within: float, aht: float, patience: float
) -> None:
    now = erlang_a_metrics(agents, traffic, within, aht, patience)
    more = erlang_a_metrics(agents + 1, traffic, within, aht, patience)
    assert more.service_level >= now.service_level - 1e-9
    assert more.p_wait <= now.p_wait + 1e-9
    assert more.p_abandon <= now.p_abandon + 1e-9


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=1, max_value=25),  # N = 0 (nobody answers) is a fixed case above
    st.floats(min_value=0.05, max_value=30.0),
    waits,
    ahts,
    st.floats(min_value=5.0, max_value=400.0),
)
def test_random_loads_match_birth_death_chain(
    agents: int, traffic: float, within: float, aht: float, patience: float
) -> None:
    ours = erlang_a_metrics(agents, traffic, within, aht, patience)
    truth = chain_oracle(agents, traffic, within, aht, patience)
    assert ours.p_wait == pytest.approx(truth.p_wait, rel=1e-8, abs=1e-12)
    assert ours.p_abandon == pytest.approx(truth.p_abandon, rel=1e-8, abs=1e-12)
    assert ours.service_level == pytest.approx(truth.service_level, rel=1e-7, abs=1e-9)
