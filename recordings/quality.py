"""Scoring a recording (validate against its form, store) and agents' averages over time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from recordings.ports import RecordingStore
from recordings.records import AgentAverage, StoredScore
from recordings.scoring import ScoreError, ScoringForm, score_total


class UnknownRecording(LookupError):
    pass


async def score_recording(
    store: RecordingStore,
    forms: Mapping[str, ScoringForm],
    *,
    call_id: str,
    form_id: str,
    scorer: str,
    values: Mapping[str, int | float | None],
    at: datetime | None = None,
) -> StoredScore:
    form = forms.get(form_id)
    if form is None:
        raise ScoreError(f"unknown form {form_id!r} (known: {', '.join(sorted(forms))})")
    total = score_total(form, values)  # raises ScoreError before anything is stored
    recording = await store.get(call_id)
    if recording is None:
        raise UnknownRecording(call_id)
    return await store.add_score(
        recording=recording, form_id=form_id, scorer=scorer, items=dict(values), total=total,
        at=at or datetime.now(UTC),
    )  # fmt: skip


async def agent_averages(
    store: RecordingStore,
    since: datetime,
    until: datetime,
    agents: Sequence[str] = (),
    form_id: str | None = None,
) -> list[AgentAverage]:
    """Mean score per agent for scores given in [since, until)."""
    return await store.agent_averages(since, until, agents, form_id)
