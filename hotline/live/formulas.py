"""Service-level formulas, pure. Several definitions are in use in call centres; the one in force
is configuration (``LiveSettings.sl_formula``) and its name travels with every figure.

``T`` is the queue's threshold (e.g. 20 s). Short abandons (callers who hang up before
``short_abandon_s``) are already left out of every count given here.

- ``answered_within_t_over_answered``: answered within T ÷ answered. Abandons do not count at
  all (the most flattering one, and the most common on wallboards).
- ``asterisk_sl2``: (answered within T + abandoned within T) ÷ (answered + abandoned): Asterisk's
  ``ServicelevelPerf2``, where a caller who gave up quickly is not held against the queue.
- ``removed_within_t_over_queued``: calls removed from the queue within T (answered, abandoned or
  overflowed) ÷ calls queued. Calls still waiting are in the denominator, so a backlog shows at
  once.

Each returns ``None`` when its denominator is zero (no calls: no service level, not 100 %).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import get_args

from cti.settings import SlFormulaName


@dataclass(frozen=True, slots=True)
class SlCounts:
    queued: int  # entered the queue (short abandons excluded)
    answered: int
    answered_within_t: int
    abandoned: int  # short abandons excluded
    abandoned_within_t: int
    overflowed_within_t: int


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


def answered_within_t_over_answered(c: SlCounts) -> float | None:
    return _ratio(c.answered_within_t, c.answered)


def asterisk_sl2(c: SlCounts) -> float | None:
    return _ratio(c.answered_within_t + c.abandoned_within_t, c.answered + c.abandoned)


def removed_within_t_over_queued(c: SlCounts) -> float | None:
    removed = c.answered_within_t + c.abandoned_within_t + c.overflowed_within_t
    return _ratio(removed, c.queued)


FORMULAS: dict[str, Callable[[SlCounts], float | None]] = {
    "answered_within_t_over_answered": answered_within_t_over_answered,
    "asterisk_sl2": asterisk_sl2,
    "removed_within_t_over_queued": removed_within_t_over_queued,
}
assert set(FORMULAS) == set(get_args(SlFormulaName)), "settings and formulas must agree"


def service_level(formula: SlFormulaName, counts: SlCounts) -> float | None:
    return FORMULAS[formula](counts)
