"""Figure assembly: a queue's counters and its agents turned into the ``QueueStats`` that
wallboards, the API and MQTT show. Pure: reads, never changes what it is given.

Every ratio is rounded to 4 places and is None until there is something to divide. The
service level is the configured formula, the abandon rate the one definition live statistics
and reports share (``staffing.kpi``: ``abandoned_over_queued``, abandoned ÷ queued, short
abandons left out of both, the counts the service level uses).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from acd.agent_state import AgentState
from cti.settings import LiveSettings
from hotline.live.agents import BUSY, STAFFED, LiveAgent
from hotline.live.model import AgentCounts, PeriodStats, QueueStats, StaffingNow
from hotline.live.periods import Counters
from hotline.live.queues import QueueCounters
from hotline.live.staffing_now import staffing_now
from staffing.kpi import abandon_rate, service_level


def queue_stats(
    queue: QueueCounters,
    members: Sequence[LiveAgent],
    settings: LiveSettings,
    *,
    now: float,
    observed_s: float,
    ewt_s: float | None,
    rebuilding: bool,
) -> QueueStats:
    """The queue's figures at ``now`` (monotonic); ``members`` are its agents, whose time in
    their current state counts too though not accrued yet; ``observed_s`` is how long the
    recent pace has been observed."""
    definition = queue.definition
    pending_busy = pending_staffed = 0.0
    for agent in members:
        if agent.state in STAFFED:
            elapsed = max(now - agent.accrued_mono, 0.0)
            pending_staffed += elapsed
            pending_busy += elapsed if agent.state in BUSY else 0.0
    oldest = next(iter(queue.waiting.values()), None)
    threshold, target = queue.threshold(settings), queue.target(settings)
    agents = agent_counts(members)
    today = period_stats(queue.today, settings, pending_busy, pending_staffed)
    return QueueStats(
        queue=definition.id,
        name=definition.name or definition.id,
        sl_formula=settings.sl_formula,
        sl_threshold_s=threshold,
        sl_target=target,
        short_abandon_s=settings.short_abandon_s,
        waiting=len(queue.waiting),
        longest_wait_s=int(now - oldest) if oldest is not None else 0,
        ewt_s=round(ewt_s) if ewt_s is not None else None,
        agents=agents,
        interval=period_stats(queue.interval, settings, pending_busy, pending_staffed),
        today=today,
        staffing=staffing(queue, observed_s, agents.logged_in, today.aht_s, target, threshold),
        rebuilding=rebuilding,
    )


def staffing(
    queue: QueueCounters,
    observed_s: float,
    logged_in: int,
    today_aht_s: float | None,
    sl_target: float,
    sl_threshold_s: float,
) -> StaffingNow:
    """Agents needed next at the recent pace (the queue's recent windows, already pruned)."""
    completed = queue.recent_completed.count()
    handle = queue.recent_handle_s.total() / completed if completed else today_aht_s
    return staffing_now(
        offered=queue.recent_offered.count(),
        observed_s=observed_s,
        handle_s=handle,
        logged_in=logged_in,
        sl_target=sl_target,
        sl_threshold_s=sl_threshold_s,
    )


def period_stats(
    c: Counters, settings: LiveSettings, pending_busy: float, pending_staffed: float
) -> PeriodStats:
    counts = c.sl_counts()
    return PeriodStats(
        start=c.start.isoformat(),
        offered=c.queued,
        answered=c.answered,
        answered_within_t=c.answered_within_t,
        abandoned=c.abandoned,
        abandoned_within_t=c.abandoned_within_t,
        short_abandoned=c.short_abandoned,
        overflowed=c.overflowed,
        service_level=_rounded(service_level(settings.sl_formula, counts)),
        asa_s=_ratio(c.answered_wait_s, c.answered),
        aht_s=_ratio(c.talk_s + c.hold_s + c.wrap_s, c.completed),
        abandon_rate=_rounded(abandon_rate(counts.abandoned, counts.queued)),
        occupancy=_ratio(c.busy_s + pending_busy, c.staffed_s + pending_staffed),
    )


def agent_counts(agents: Iterable[LiveAgent]) -> AgentCounts:
    """Agents logged in, by state; the paused ones by reason too."""
    by_state: Counter[AgentState] = Counter()
    reasons: Counter[str] = Counter()
    for agent in agents:
        if agent.state is AgentState.LOGGED_OUT:
            continue
        by_state[agent.state] += 1
        if agent.state is AgentState.PAUSED:
            reasons[agent.reason or "break"] += 1
    return AgentCounts(
        logged_in=by_state.total(),
        available=by_state[AgentState.AVAILABLE],
        ringing=by_state[AgentState.RESERVED],
        on_call=by_state[AgentState.ON_CALL],
        wrap_up=by_state[AgentState.WRAP_UP],
        paused=by_state[AgentState.PAUSED],
        paused_by_reason=dict(sorted(reasons.items())),
    )


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 4) if denominator > 0 else None


def _rounded(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
