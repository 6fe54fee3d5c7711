"""Figures of a simulation run, per queue and in total (pure counting, no simulation logic).

Definitions (T = the queue's ``service_level.within_s``; only calls that arrived within the
measured window ``[warm-up, duration)`` count; short abandons are *not* set apart):
- offered: calls that arrived in the queue (figures stay with that queue after an overflow);
- service level: the scenario's ``sl_formula``, one of the formulas of live statistics and
  reports (``staffing.kpi``), named in every result; all three are reported too, and
  ``answered_within_t_over_offered`` (answered within T ÷ offered: Erlang A's definition,
  where an abandon counts against the queue);
- abandon rate: ``staffing.kpi.ABANDON_RATE_DEFINITION``, abandoned ÷ offered;
- ASA: mean wait of answered calls, arrival → agent answers (ring time included);
- occupancy: agent time on calls (offer → end of wrap-up, ring included) ÷ logged-in time,
  both clipped to the window. Per queue, the numerator is the time on that queue's calls and
  the denominator the logged-in time of agents holding the queue's own skills; agents shared
  by several queues are counted in each, so only the total is exact for a blended pool;
- EWT error: Hotline's estimate at arrival (``acd.ewt``; 0 for a call offered at once) against
  the actual wait of each answered call: mean absolute error and mean signed error (bias);
  Asterisk's announced hold time is scored the same way for comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from staffing.kpi import FORMULAS, SlCounts, abandon_rate, asa, occupancy, ratio


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"  # left the queue to voicemail or a closed message


@dataclass(slots=True)
class _QueueSums:
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_within: int = 0
    overflowed: int = 0
    overflowed_within: int = 0
    wait_answered: float = 0.0
    ewt_abs: float = 0.0
    ewt_signed: float = 0.0
    ewt_scored: int = 0
    asterisk_abs: float = 0.0
    asterisk_scored: int = 0
    work_s: float = 0.0
    staffed_s: float = 0.0


@dataclass(frozen=True, slots=True)
class QueueResult:
    queue_id: str
    offered: int
    answered: int
    abandoned: int
    overflowed: int
    still_waiting: int
    sl_threshold_s: float
    sl_formula: str
    service_level: float | None
    service_levels: dict[str, float | None]
    abandon_rate: float | None
    asa_s: float | None
    occupancy: float | None
    ewt_mae_s: float | None
    ewt_bias_s: float | None
    ewt_scored: int
    asterisk_ewt_mae_s: float | None


@dataclass(frozen=True, slots=True)
class SimulationResult:
    queues: tuple[QueueResult, ...]
    total: QueueResult
    window_s: tuple[float, float]

    def queue(self, queue_id: str) -> QueueResult:
        return next(q for q in self.queues if q.queue_id == queue_id)

    def as_dict(self) -> dict[str, object]:
        return {
            "window_s": list(self.window_s),
            "queues": [_row(q) for q in self.queues],
            "total": _row(self.total),
        }


@dataclass(slots=True)
class Tally:
    queues: list[str]
    thresholds: list[float]
    window: tuple[float, float]
    # Queues (indexes) whose own skills each agent holds: its logged-in time staffs them.
    staffs: dict[str, list[int]] = field(default_factory=dict)
    _sums: list[_QueueSums] = field(default_factory=list)
    _logged_in_s: float = 0.0

    def __post_init__(self) -> None:
        self._sums = [_QueueSums() for _ in self.queues]

    def _clip(self, start: float, end: float) -> float:
        low, high = self.window
        return max(0.0, min(end, high) - max(start, low))

    def worked(self, queue: int, start: float, end: float) -> None:
        self._sums[queue].work_s += self._clip(start, end)

    def logged_in(self, start: float, end: float, agent_id: str) -> None:
        span = self._clip(start, end)
        self._logged_in_s += span
        for queue in self.staffs.get(agent_id, ()):
            self._sums[queue].staffed_s += span

    def call(
        self,
        queue: int,
        outcome: CallOutcome,
        waited: float,
        predicted: float,
        asterisk_predicted: float,
        agent_id: str,
    ) -> None:
        sums = self._sums[queue]
        within = waited <= self.thresholds[queue]
        if outcome is CallOutcome.ANSWERED:
            sums.answered += 1
            sums.answered_within += within
            sums.wait_answered += waited
            if not math.isinf(predicted):
                sums.ewt_abs += abs(predicted - waited)
                sums.ewt_signed += predicted - waited
                sums.ewt_scored += 1
            if not math.isinf(asterisk_predicted):
                sums.asterisk_abs += abs(asterisk_predicted - waited)
                sums.asterisk_scored += 1
        elif outcome is CallOutcome.ABANDONED:
            sums.abandoned += 1
            sums.abandoned_within += within
        else:
            sums.overflowed += 1
            sums.overflowed_within += within

    def result(self, formula: str, still_waiting: list[int]) -> SimulationResult:
        rows = [
            _queue_result(qid, self.thresholds[i], formula, self._sums[i], still_waiting[i])
            for i, qid in enumerate(self.queues)
        ]
        total = _QueueSums()
        for sums in self._sums:
            for name in _QueueSums.__slots__:
                setattr(total, name, getattr(total, name) + getattr(sums, name))
        total.staffed_s = self._logged_in_s
        threshold = self.thresholds[0] if len(set(self.thresholds)) == 1 else math.nan
        return SimulationResult(
            tuple(rows),
            _queue_result("*", threshold, formula, total, sum(still_waiting)),
            self.window,
        )


def _queue_result(
    queue_id: str, threshold: float, formula: str, s: _QueueSums, still_waiting: int
) -> QueueResult:
    offered = s.answered + s.abandoned + s.overflowed + still_waiting
    counts = SlCounts(
        queued=offered,
        answered=s.answered,
        answered_within_t=s.answered_within,
        abandoned=s.abandoned,
        abandoned_within_t=s.abandoned_within,
        overflowed_within_t=s.overflowed_within,
    )
    levels = {name: rule(counts) for name, rule in FORMULAS.items()}
    levels["answered_within_t_over_offered"] = ratio(s.answered_within, offered)
    return QueueResult(
        queue_id=queue_id,
        offered=offered,
        answered=s.answered,
        abandoned=s.abandoned,
        overflowed=s.overflowed,
        still_waiting=still_waiting,
        sl_threshold_s=threshold,
        sl_formula=formula,
        service_level=levels[formula],
        service_levels=levels,
        abandon_rate=abandon_rate(s.abandoned, offered),
        asa_s=asa(s.wait_answered, s.answered),
        occupancy=occupancy(s.work_s, s.staffed_s, 0.0),  # agents never pause in a scenario
        ewt_mae_s=ratio(s.ewt_abs, s.ewt_scored),
        ewt_bias_s=ratio(s.ewt_signed, s.ewt_scored),
        ewt_scored=s.ewt_scored,
        asterisk_ewt_mae_s=ratio(s.asterisk_abs, s.asterisk_scored),
    )


def _row(q: QueueResult) -> dict[str, object]:
    row = {name: getattr(q, name) for name in QueueResult.__slots__}
    if isinstance(row["sl_threshold_s"], float) and math.isnan(row["sl_threshold_s"]):
        row["sl_threshold_s"] = None
    return row
