"""``/api/v1/recordings`` and the recording controls of a call.

Who may do what:
- search and metadata: supervisor, qa, admin; listening (download or ranged stream): supervisor
  and qa only; agents and wallboards never (403);
- legal hold on/off: supervisor, admin; scoring: supervisor, qa;
- mute/unmute the recording of a call: the agent on that call, a supervisor or an admin.
Every mute, unmute, legal hold change and audio access is written to ``recording_audit``.
Files are served only from inside the recordings directory (stored paths are relative and are
resolved and checked again on every read).

Everything here goes through ``ApiServices.recordings`` (503 while it is not wired).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from hotline.api.auth import Principal
from hotline.api.deps import Services, require_roles
from hotline.api.ports import RecordingsApi
from recordings.policy import PathOutsideBase
from recordings.quality import UnknownRecording, agent_averages, score_recording
from recordings.records import (
    AgentAverage,
    AuditEntry,
    SearchFilter,
    StoredRecording,
    StoredScore,
)
from recordings.scoring import ScoreError, ScoringForm
from recordings.service import RecordingError

router = APIRouter(prefix="/api/v1", tags=["recordings"])


def _api(services: Services) -> RecordingsApi:
    api = services.recordings
    if api is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "recordings are not available")
    return api


Api = Annotated[RecordingsApi, Depends(_api)]
Searcher = Annotated[Principal, require_roles("supervisor", "qa", "admin")]
Listener = Annotated[Principal, require_roles("supervisor", "qa")]
HoldKeeper = Annotated[Principal, require_roles("supervisor", "admin")]
Scorer = Annotated[Principal, require_roles("supervisor", "qa")]
Muter = Annotated[Principal, require_roles("agent", "supervisor", "admin")]


class RecordingOut(BaseModel):
    call_id: str
    agent_id: str | None
    queue: str | None
    product: str | None
    caller: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    size_bytes: int | None
    sha256: str | None
    legal_hold: bool
    purged_at: datetime | None

    @classmethod
    def of(cls, row: StoredRecording) -> RecordingOut:
        # The path is deliberately left out: clients fetch audio through /audio only.
        return cls(
            call_id=row.call_id, agent_id=row.agent_id, queue=row.queue, product=row.product,
            caller=row.caller, started_at=row.started_at, ended_at=row.ended_at,
            duration_s=row.duration_s, size_bytes=row.size_bytes, sha256=row.sha256,
            legal_hold=row.legal_hold, purged_at=row.purged_at,
        )  # fmt: skip


class AuditOut(BaseModel):
    action: str
    actor: str
    reason: str | None
    at: datetime

    @classmethod
    def of(cls, row: AuditEntry) -> AuditOut:
        return cls(action=row.action, actor=row.actor, reason=row.reason, at=row.at)


class RecordingDetail(RecordingOut):
    audit: list[AuditOut]


class MuteIn(BaseModel):
    reason: str = Field("card capture", min_length=1, max_length=200)


class MuteOut(BaseModel):
    call_id: str
    muted: bool
    outcome: Literal["applied", "intent", "nothing-to-mute"]


class HoldIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class ScoreIn(BaseModel):
    form_id: str
    items: dict[str, float | None]


class ScoreOut(BaseModel):
    id: int
    call_id: str
    agent_id: str | None
    form_id: str
    scorer: str
    items: dict[str, float | None]
    total: float
    at: datetime

    @classmethod
    def of(cls, row: StoredScore) -> ScoreOut:
        return cls(
            id=row.id, call_id=row.call_id, agent_id=row.agent_id, form_id=row.form_id,
            scorer=row.scorer, items=row.items, total=row.total, at=row.at,
        )  # fmt: skip


class AverageOut(BaseModel):
    agent_id: str
    scores: int
    average: float
    first_at: datetime
    last_at: datetime

    @classmethod
    def of(cls, row: AgentAverage) -> AverageOut:
        return cls(agent_id=row.agent_id, scores=row.scores, average=row.average,
                   first_at=row.first_at, last_at=row.last_at)  # fmt: skip


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


async def _recording(api: RecordingsApi, call_id: str) -> StoredRecording:
    row = await api.store.get(call_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no recording for this call")
    return row


@router.get("/recordings", response_model=list[RecordingOut])
async def search_recordings(
    api: Api,
    _: Searcher,
    since: datetime | None = None,
    until: datetime | None = None,
    agent: str | None = None,
    queue: str | None = None,
    caller: str | None = None,
    call_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[RecordingOut]:
    where = SearchFilter(_aware(since), _aware(until), agent, queue, caller, call_id,
                         limit=limit, offset=offset)  # fmt: skip
    return [RecordingOut.of(row) for row in await api.store.search(where)]


@router.get("/recordings/{call_id}", response_model=RecordingDetail)
async def get_recording(call_id: str, api: Api, _: Searcher) -> RecordingDetail:
    row = await _recording(api, call_id)
    trail = [AuditOut.of(entry) for entry in await api.store.audit_trail(call_id)]
    return RecordingDetail(**RecordingOut.of(row).model_dump(), audit=trail)


@router.get("/recordings/{call_id}/audio", response_class=FileResponse)
async def recording_audio(call_id: str, api: Api, who: Listener, request: Request) -> FileResponse:
    row = await _recording(api, call_id)
    if row.purged_at is not None:
        raise HTTPException(status.HTTP_410_GONE, "purged by the retention policy")
    try:
        path = api.service.host_path(row.path)
    except PathOutsideBase:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "recording file not found") from None
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, "recording file not found")
    # One audit row per request that starts at the beginning, not per ranged chunk of a player.
    ranged = request.headers.get("range", "")
    if not ranged or ranged.replace(" ", "").startswith("bytes=0-"):
        await api.store.audit(call_id, "listen", who.name, None, datetime.now(UTC))
    return FileResponse(path, media_type="audio/wav", filename=f"{call_id}.wav",
                        headers={"Cache-Control": "private, no-store"})  # fmt: skip


async def _set_muted(
    call_id: str, muted: bool, body: MuteIn | None, api: RecordingsApi, who: Principal
) -> MuteOut:
    if who.role == "agent" and (
        who.agent_id is None or api.service.agent_of(call_id) != who.agent_id
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not your call")
    reason = body.reason if body is not None else "card capture"
    try:
        outcome = await api.service.mute(call_id, muted, actor=who.name, reason=reason)
    except RecordingError as exc:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(exc)) from exc
    return MuteOut(call_id=call_id, muted=muted, outcome=outcome)


@router.post("/calls/{call_id}/recording/mute", response_model=MuteOut)
async def mute_recording(call_id: str, api: Api, who: Muter, body: MuteIn | None = None) -> MuteOut:
    return await _set_muted(call_id, True, body, api, who)


@router.post("/calls/{call_id}/recording/unmute", response_model=MuteOut)
async def unmute_recording(
    call_id: str, api: Api, who: Muter, body: MuteIn | None = None
) -> MuteOut:
    return await _set_muted(call_id, False, body, api, who)


async def _legal_hold(call_id: str, hold: bool, reason: str, api: RecordingsApi,
                      who: Principal) -> RecordingOut:  # fmt: skip
    if not await api.store.set_legal_hold(call_id, hold):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no recording for this call")
    action = "legal-hold" if hold else "legal-hold-cleared"
    await api.store.audit(call_id, action, who.name, reason, datetime.now(UTC))
    return RecordingOut.of(await _recording(api, call_id))


@router.put("/recordings/{call_id}/legal-hold", response_model=RecordingOut)
async def set_legal_hold(call_id: str, body: HoldIn, api: Api, who: HoldKeeper) -> RecordingOut:
    return await _legal_hold(call_id, True, body.reason, api, who)


@router.delete("/recordings/{call_id}/legal-hold", response_model=RecordingOut)
async def clear_legal_hold(
    call_id: str, api: Api, who: HoldKeeper, reason: str = "cleared"
) -> RecordingOut:
    return await _legal_hold(call_id, False, reason, api, who)


@router.get("/qa/forms", response_model=list[ScoringForm])
async def list_forms(api: Api, _: Scorer) -> list[ScoringForm]:
    return [api.forms[key] for key in sorted(api.forms)]


@router.post(
    "/recordings/{call_id}/scores", response_model=ScoreOut, status_code=status.HTTP_201_CREATED
)
async def add_score(call_id: str, body: ScoreIn, api: Api, who: Scorer) -> ScoreOut:
    try:
        row = await score_recording(api.store, api.forms, call_id=call_id, form_id=body.form_id,
                                    scorer=who.name, values=body.items)  # fmt: skip
    except ScoreError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    except UnknownRecording:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no recording for this call") from None
    return ScoreOut.of(row)


@router.get("/recordings/{call_id}/scores", response_model=list[ScoreOut])
async def list_scores(call_id: str, api: Api, _: Searcher) -> list[ScoreOut]:
    return [ScoreOut.of(row) for row in await api.store.scores_of_call(call_id)]


@router.get("/qa/agents", response_model=list[AverageOut])
async def qa_agent_averages(
    api: Api,
    _: Searcher,
    since: datetime,
    until: datetime,
    agent: Annotated[list[str] | None, Query()] = None,
    form_id: str | None = None,
) -> list[AverageOut]:
    begin, end = _aware(since), _aware(until)
    assert begin is not None and end is not None
    rows = await agent_averages(api.store, begin, end, agent or (), form_id)
    return [AverageOut.of(row) for row in rows]
