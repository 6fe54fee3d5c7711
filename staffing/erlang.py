"""Erlang B and Erlang C (M/M/N, infinite patience): pure functions for staffing.

Invariants:
- Times are seconds; ``traffic`` is offered load in Erlangs (arrival rate × AHT).
- Erlang B comes from the recurrence B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)), which stays
  in (0, 1] and never forms A^N or N! (it only underflows towards 0 when N ≫ A, which is
  the right limit); Erlang C is derived from B. Cost O(N), fine for thousands of agents.
- A queue with N ≤ A agents (and A > 0) is unstable: P(wait) = 1, service level 0,
  ASA = inf, occupancy 1. No traffic means nobody waits: P(wait) 0, service level 1, ASA 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

# Targets are compared with this slack so that a target met up to rounding counts as met.
_TOLERANCE = 1e-12


@dataclass(frozen=True, slots=True)
class ErlangCMetrics:
    """What a caller sees with ``agents`` agents on ``traffic`` Erlangs (Erlang C)."""

    traffic: float
    agents: int
    p_wait: float
    service_level: float
    asa_s: float
    occupancy: float


def traffic_intensity(calls: float, interval_s: float, aht_s: float) -> float:
    """Offered load in Erlangs: calls per second × average handle time."""
    _check_non_negative(calls=calls, aht_s=aht_s)
    _check_positive(interval_s=interval_s)
    return calls * aht_s / interval_s


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of M/M/N/N (Erlang B), by the stable recurrence."""
    _check_agents(agents)
    _check_non_negative(traffic=traffic)
    for n, blocking in _erlang_b_series(traffic):
        if n == agents:
            return blocking
    raise AssertionError("unreachable: the Erlang B series is infinite")


def erlang_c(agents: int, traffic: float) -> float:
    """P(wait): probability an arriving call finds every agent busy (Erlang C)."""
    _check_agents(agents)
    _check_non_negative(traffic=traffic)
    return _p_wait_from_b(agents, traffic, erlang_b(agents, traffic))


def service_level(agents: int, traffic: float, answer_within_s: float, aht_s: float) -> float:
    """Share of calls answered within ``answer_within_s``: 1 − C·exp(−(N − A)·T / AHT)."""
    _check_non_negative(answer_within_s=answer_within_s)
    _check_positive(aht_s=aht_s)
    return _service_level(agents, traffic, erlang_c(agents, traffic), answer_within_s, aht_s)


def average_speed_of_answer(agents: int, traffic: float, aht_s: float) -> float:
    """ASA, mean wait over all calls: C·AHT / (N − A); inf when unstable."""
    _check_positive(aht_s=aht_s)
    return _asa(agents, traffic, erlang_c(agents, traffic), aht_s)


def occupancy(agents: int, traffic: float) -> float:
    """Share of agent time on calls: A / N, at most 1 (an overloaded queue keeps all busy)."""
    _check_agents(agents)
    _check_non_negative(traffic=traffic)
    if traffic == 0:
        return 0.0
    return 1.0 if agents <= traffic else traffic / agents


def erlang_c_metrics(
    agents: int, traffic: float, answer_within_s: float, aht_s: float
) -> ErlangCMetrics:
    """All Erlang C figures for one staffing level."""
    _check_non_negative(answer_within_s=answer_within_s)
    _check_positive(aht_s=aht_s)
    p_wait = erlang_c(agents, traffic)
    return ErlangCMetrics(
        traffic=traffic,
        agents=agents,
        p_wait=p_wait,
        service_level=_service_level(agents, traffic, p_wait, answer_within_s, aht_s),
        asa_s=_asa(agents, traffic, p_wait, aht_s),
        occupancy=occupancy(agents, traffic),
    )


def agents_needed(
    traffic: float,
    aht_s: float,
    answer_within_s: float,
    target_service_level: float,
    *,
    target_asa_s: float | None = None,
    max_occupancy: float | None = None,
) -> int:
    """Smallest N meeting the service-level target (and the ASA and occupancy caps if given).

    SL and ASA improve and occupancy falls as N grows, so the first N that meets every
    target is the answer; B(n) is carried along the scan, so the whole search is O(N).
    """
    _check_positive(aht_s=aht_s)
    _check_non_negative(traffic=traffic, answer_within_s=answer_within_s)
    _check_fraction("target_service_level", target_service_level, upper_open=True)
    if target_asa_s is not None:
        _check_positive(target_asa_s=target_asa_s)
    if max_occupancy is not None:
        _check_fraction("max_occupancy", max_occupancy, upper_open=False)
    if traffic == 0:
        return 0
    for n, blocking in _erlang_b_series(traffic):
        if n <= traffic:
            continue  # unstable: no target can be met
        p_wait = _p_wait_from_b(n, traffic, blocking)
        if _service_level(n, traffic, p_wait, answer_within_s, aht_s) < (
            target_service_level - _TOLERANCE
        ):
            continue
        if target_asa_s is not None and _asa(n, traffic, p_wait, aht_s) > (
            target_asa_s + _TOLERANCE
        ):
            continue
        if max_occupancy is not None and traffic / n > max_occupancy + _TOLERANCE:
            continue
        return n
    raise AssertionError("unreachable: the Erlang B series is infinite")


def positions_after_shrinkage(agents: int, shrinkage: float) -> int:
    """Scheduled positions so that ``agents`` remain after shrinkage: ceil(N / (1 − s)).

    The rate is taken as written in decimal (0.3, not 0.29999…) so that 14 agents at 30 %
    give exactly 20 positions rather than 21 by binary rounding.
    """
    _check_agents(agents)
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be in [0, 1), got {shrinkage}")
    return math.ceil(Fraction(agents) / (1 - Fraction(repr(shrinkage))))


def _erlang_b_series(traffic: float) -> Iterator[tuple[int, float]]:
    """Yield (n, B(n)) for n = 0, 1, 2, … by the recurrence (Erlang B, e.g. Cooper 1981)."""
    blocking = 1.0
    n = 0
    yield n, blocking
    while True:
        n += 1
        load = traffic * blocking
        blocking = load / (n + load)
        yield n, blocking


def _p_wait_from_b(agents: int, traffic: float, blocking: float) -> float:
    # C = N·B / (N − A·(1 − B)), the standard B → C identity; valid for N > A.
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    return min(1.0, agents * blocking / (agents - traffic * (1 - blocking)))


def _service_level(
    agents: int, traffic: float, p_wait: float, answer_within_s: float, aht_s: float
) -> float:
    # The wait of a queued call is exponential with rate (N − A)/AHT (FCFS M/M/N).
    if traffic == 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1.0 - p_wait * math.exp(-(agents - traffic) * answer_within_s / aht_s)


def _asa(agents: int, traffic: float, p_wait: float, aht_s: float) -> float:
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return p_wait * aht_s / (agents - traffic)


def _check_agents(agents: int) -> None:
    if agents < 0:
        raise ValueError(f"agents must be >= 0, got {agents}")


def _check_non_negative(**values: float) -> None:
    for name, value in values.items():
        if not value >= 0 or math.isinf(value):  # also rejects NaN
            raise ValueError(f"{name} must be a finite number >= 0, got {value}")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0 or math.isinf(value):
            raise ValueError(f"{name} must be a finite number > 0, got {value}")


def _check_fraction(name: str, value: float, *, upper_open: bool) -> None:
    ok = 0 < value < 1 if upper_open else 0 < value <= 1
    if not ok:
        interval = "(0, 1)" if upper_open else "(0, 1]"
        raise ValueError(f"{name} must be in {interval}, got {value}")
