"""Erlang A (Palm's M/M/N+M): Erlang C plus callers who hang up after an exponential patience.

Model and notation (Garnett, Mandelbaum & Reiman 2002; Mandelbaum & Zeltyn, "The Palm/Erlang-A
queue, with applications to call centers", 2007): arrival rate λ, service rate μ = 1/AHT,
abandonment rate θ = 1/mean patience, N agents; x = Nμ/θ, y = λ/θ.

Invariants:
- With k callers already queued, the stationary probabilities are π_{N+k} = π_N·t_k(y) where
  t_k(u) = Π_{j=1..k} u/(x + j). Every figure below is a closed form in B = Erlang B(N, λ/μ),
  S(u) = Σ t_k(u) (the "A(x, u)" of the papers) and m(u) = Σ k·t_k(u) / S(u):
    P(wait)              = S·B / (1 + (S − 1)·B)                     [PASTA]
    P(abandon)           = P(wait)·m(y)/y                            [θ·E(queue) = λ·P(ab)]
    P(V > T)             = P(wait)·e^{y(1−e^{−θT}) − NμT}·S(u)/S(y),  u = y·e^{−θT}
    P(abandon by T)      = P(abandon) − P(V > T)·m(u)/y
    service level        = 1 − e^{−θT}·P(V > T) − P(abandon by T)
  where V is the offered wait (the wait of an infinitely patient caller). The service level is
  the share of *all* offered calls answered within T: abandoned calls count against it, and
  it tends to Erlang C's as θ → 0.
- ASA is the mean wait of answered calls: a caller with k ahead is answered with probability
  x/(x+k+1) after a mean wait of Σ_{i=1..k+1} 1/(θ(x+i)) (competing exponentials); it is
  summed over k with the same series.
- The series are summed from k = 0 with ratios only (no powers, factorials or gamma
  functions), rescaled to avoid overflow, and cut where a geometric bound puts the tail
  below 1e-17 of the sum. Cost: O(max(0, y − x) + tail) terms, so a heavily overloaded queue
  with near-infinite patience is refused (use Erlang C there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from staffing.erlang import (
    _TOLERANCE,
    _check_agents,
    _check_fraction,
    _check_non_negative,
    _check_positive,
    _erlang_b_series,
    erlang_b,
    erlang_c_metrics,
)

_MAX_TERMS = 5_000_000
_RESCALE = 1e200
_EPSILON = 1e-17


@dataclass(frozen=True, slots=True)
class ErlangAMetrics:
    """What callers see with ``agents`` agents, ``traffic`` Erlangs and finite patience."""

    traffic: float
    agents: int
    p_wait: float
    p_abandon: float
    service_level: float
    asa_s: float  # mean wait of answered calls; inf when nobody is answered
    mean_wait_s: float  # mean wait of all calls, abandoned ones up to when they hang up
    occupancy: float


@dataclass(frozen=True, slots=True)
class _Series:
    log_sum: float  # log Σ t_k
    mean_k: float  # Σ k·t_k / Σ t_k
    answered_wait: float  # Σ t_k·x/(x+k+1)·H_k / Σ t_k, with H_k = Σ_{i=1..k+1} 1/(x+i)


def erlang_a_metrics(
    agents: int,
    traffic: float,
    answer_within_s: float,
    aht_s: float,
    patience_s: float,
) -> ErlangAMetrics:
    """All Erlang A figures for one staffing level; ``patience_s`` = inf gives Erlang C."""
    _check_agents(agents)
    _check_non_negative(traffic=traffic, answer_within_s=answer_within_s)
    _check_positive(aht_s=aht_s)
    return _metrics(agents, traffic, answer_within_s, aht_s, patience_s, erlang_b(agents, traffic))


def agents_needed_erlang_a(
    traffic: float,
    aht_s: float,
    answer_within_s: float,
    target_service_level: float,
    patience_s: float,
    *,
    target_asa_s: float | None = None,
    max_occupancy: float | None = None,
) -> int:
    """Smallest N whose Erlang A figures meet every target given.

    Answered calls are served at most at rate Nμ, so SL ≤ P(answered) ≤ N/A: the scan starts
    at ⌈target·A⌉ and walks up, carrying Erlang B along.
    """
    _check_positive(aht_s=aht_s)
    _check_non_negative(traffic=traffic, answer_within_s=answer_within_s)
    _check_fraction("target_service_level", target_service_level, upper_open=True)
    _check_patience(patience_s)
    if target_asa_s is not None:
        _check_positive(target_asa_s=target_asa_s)
    if max_occupancy is not None:
        _check_fraction("max_occupancy", max_occupancy, upper_open=False)
    if traffic == 0:
        return 0
    start = max(0, math.floor(target_service_level * traffic))
    for n, blocking in _erlang_b_series(traffic):
        if n < start:
            continue
        m = _metrics(n, traffic, answer_within_s, aht_s, patience_s, blocking)
        if m.service_level < target_service_level - _TOLERANCE:
            continue
        if target_asa_s is not None and m.asa_s > target_asa_s + _TOLERANCE:
            continue
        if max_occupancy is not None and m.occupancy > max_occupancy + _TOLERANCE:
            continue
        return n
    raise AssertionError("unreachable: the Erlang B series is infinite")


def _metrics(
    agents: int,
    traffic: float,
    answer_within_s: float,
    aht_s: float,
    patience_s: float,
    blocking: float,
) -> ErlangAMetrics:
    _check_patience(patience_s)
    if math.isinf(patience_s):
        c = erlang_c_metrics(agents, traffic, answer_within_s, aht_s)
        return ErlangAMetrics(
            traffic, agents, c.p_wait, 0.0, c.service_level, c.asa_s, c.asa_s, c.occupancy
        )
    if traffic == 0:
        return ErlangAMetrics(traffic, agents, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    theta = 1.0 / patience_s
    x = agents / aht_s / theta
    y = traffic / aht_s / theta
    at_y = _sum_series(x, y)
    p_wait = _p_wait(blocking, at_y.log_sum)
    p_abandon = min(1.0, p_wait * at_y.mean_k / y)

    u = y * math.exp(-theta * answer_within_s)
    at_u = _sum_series(x, u)
    # log of e^{y − u − NμT}·S(u)/S(y); y − u = y·(1 − e^{−θT}) via expm1 for small θT.
    log_ratio = (
        -y * math.expm1(-theta * answer_within_s)
        - agents * answer_within_s / aht_s
        + at_u.log_sum
        - at_y.log_sum
    )
    p_offered_wait_over = p_wait * math.exp(min(log_ratio, 0.0))
    p_abandon_by_t = max(0.0, p_abandon - p_offered_wait_over * at_u.mean_k / y)
    within = 1.0 - math.exp(-theta * answer_within_s) * p_offered_wait_over - p_abandon_by_t

    p_answered = 1.0 - p_abandon
    answered_wait = p_wait * at_y.answered_wait / theta  # E[W; answered]
    asa = answered_wait / p_answered if p_answered > 0 else math.inf
    return ErlangAMetrics(
        traffic=traffic,
        agents=agents,
        p_wait=p_wait,
        p_abandon=p_abandon,
        service_level=min(1.0, max(0.0, within)),
        asa_s=asa,
        mean_wait_s=p_abandon / theta,  # Little: E[queue] = λ·E[W], θ·E[queue] = λ·P(ab)
        # Agents are busy with the answered share of the load: λ·(1 − P(ab))/(Nμ).
        occupancy=min(1.0, traffic * p_answered / agents) if agents else 1.0,
    )


def _p_wait(blocking: float, log_sum: float) -> float:
    # S·B / (1 + (S − 1)·B) rewritten as 1 / (1 + (1 − B)/(B·S)) so a huge S cannot overflow.
    if blocking == 0.0:
        return 0.0
    log_rest = math.log1p(-blocking) - math.log(blocking) - log_sum if blocking < 1 else -math.inf
    return 1.0 / (1.0 + math.exp(min(log_rest, 700.0)))


def _sum_series(x: float, u: float) -> _Series:
    """Σ t_k, Σ k·t_k and the answered-wait sum for t_k = Π_{j≤k} u/(x+j), scaled."""
    term = 1.0
    total = 1.0
    weighted = 0.0
    harmonic = 1.0 / (x + 1)  # H_0
    answered = x / (x + 1) * harmonic
    log_scale = 0.0
    k = 0
    while True:
        ratio = u / (x + k + 1)
        if ratio < 1.0:
            # Later ratios are smaller still, so the tails are bounded geometrically.
            tail = term * ratio / (1.0 - ratio)
            tail_k = term * ratio * (k / (1.0 - ratio) + 1.0 / (1.0 - ratio) ** 2)
            if tail <= _EPSILON * total and tail_k <= _EPSILON * max(weighted, 1e-300):
                break
            if term == 0.0:
                break
        k += 1
        if k > _MAX_TERMS:
            raise ValueError(
                "Erlang A series too long: the queue is far overloaded and patience very "
                "long; use Erlang C or a shorter patience"
            )
        term *= ratio
        harmonic += 1.0 / (x + k + 1)
        total += term
        weighted += k * term
        answered += term * x / (x + k + 1) * harmonic
        if term > _RESCALE:
            term /= _RESCALE
            total /= _RESCALE
            weighted /= _RESCALE
            answered /= _RESCALE
            log_scale += math.log(_RESCALE)
    return _Series(
        log_sum=log_scale + math.log(total),
        mean_k=weighted / total,
        answered_wait=answered / total,
    )


def _check_patience(patience_s: float) -> None:
    if not patience_s > 0:  # inf is allowed: it means Erlang C
        raise ValueError(f"patience_s must be > 0, got {patience_s}")
