"""``/api/v1/wallboard``: every queue's figures in one answer, for boards that poll."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter

from hotline.api.deps import CurrentPrincipal, Live, LiveConfig
from hotline.live.model import QueueStats

router = APIRouter(prefix="/api/v1", tags=["wallboard"])


@dataclass(frozen=True)
class WallboardTotals:
    waiting: int
    longest_wait_s: int
    logged_in: int  # an agent serving several queues counts in each (as boards show it)
    available: int
    on_call: int
    paused: int
    answered_today: int
    abandoned_today: int
    # Agents the next 30 minutes need, summed over the queues with a figure (each queue
    # staffed alone: agents shared between queues would need fewer).
    needed_next_30_min: int


@dataclass(frozen=True)
class WallboardOut:
    generated_at: str
    sl_formula: str
    queues: list[QueueStats]
    totals: WallboardTotals
    # True for the seconds after a start-up while today's figures are replayed from the event
    # log: a board may say "updating" rather than show a low count as if it were the day's.
    rebuilding: bool = False


@router.get("/wallboard", response_model=WallboardOut)
async def wallboard(_: CurrentPrincipal, live: Live, config: LiveConfig) -> WallboardOut:
    figures = [live.stats.queue_stats(queue_id) for queue_id in live.stats.queue_ids()]
    queues = [f for f in figures if f is not None]
    totals = WallboardTotals(
        waiting=sum(q.waiting for q in queues),
        longest_wait_s=max((q.longest_wait_s for q in queues), default=0),
        logged_in=sum(q.agents.logged_in for q in queues),
        available=sum(q.agents.available for q in queues),
        on_call=sum(q.agents.on_call for q in queues),
        paused=sum(q.agents.paused for q in queues),
        answered_today=sum(q.today.answered for q in queues),
        abandoned_today=sum(q.today.abandoned for q in queues),
        needed_next_30_min=sum(
            q.staffing.needed for q in queues if q.staffing and q.staffing.needed is not None
        ),
    )
    return WallboardOut(
        generated_at=datetime.now(UTC).isoformat(),
        sl_formula=config.sl_formula,
        queues=queues,
        totals=totals,
        rebuilding=live.rebuilding,
    )
