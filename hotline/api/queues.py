"""``/api/v1/queues``: definitions and live statistics (every role may read them)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from hotline.api.deps import CurrentPrincipal, Live, Services
from hotline.live.model import QueueDefinition, QueueStats

router = APIRouter(prefix="/api/v1", tags=["queues"])


@router.get("/queues", response_model=list[QueueDefinition])
async def list_queues(_: CurrentPrincipal, services: Services, live: Live) -> list[QueueDefinition]:
    known = {q.id: q for q in live.stats.queue_definitions()}
    if services.directory is not None:
        known.update({q.id: q for q in services.directory.queue_definitions()})
    return [known[queue_id] for queue_id in sorted(known)]


@router.get("/queues/{queue_id}/stats", response_model=QueueStats)
async def queue_stats(queue_id: str, _: CurrentPrincipal, live: Live) -> QueueStats:
    figures = live.stats.queue_stats(queue_id)
    if figures is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such queue")
    return figures
