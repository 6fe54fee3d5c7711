"""Call-centre figures, pure: one definition of each, used by live statistics, reports and the
simulator alike, so their figures agree to the call.

Conventions: every function returns ``None`` when its denominator is zero (no calls: no
figure, not 0 % or 100 %). Durations are seconds. Short abandons (callers who hang up before
``short_abandon_s``) are already left out of every count given here.

Service level has several definitions in use; the one in force is configuration
(``LiveSettings.sl_formula``, whose names are the keys of ``FORMULAS``) and its name travels
with every figure. ``T`` is the queue's threshold (e.g. 20 s).

- ``answered_within_t_over_answered``: answered within T ÷ answered. Abandons do not count at
  all (the most flattering one, and the most common on wallboards).
- ``asterisk_sl2``: (answered within T + abandoned within T) ÷ (answered + abandoned): Asterisk's
  ``ServicelevelPerf2``, where a caller who gave up quickly is not held against the queue.
- ``removed_within_t_over_queued``: calls removed from the queue within T (answered, abandoned or
  overflowed) ÷ calls queued. Calls still waiting are in the denominator, so a backlog shows at
  once.

Abandon rate has one definition, ``ABANDON_RATE_DEFINITION`` (see ``abandon_rate``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class SlCounts:
    queued: int  # entered the queue (short abandons excluded)
    answered: int
    answered_within_t: int
    abandoned: int  # short abandons excluded
    abandoned_within_t: int
    overflowed_within_t: int


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


# --- service level ------------------------------------------------------------------------


def answered_within_t_over_answered(c: SlCounts) -> float | None:
    return ratio(c.answered_within_t, c.answered)


def asterisk_sl2(c: SlCounts) -> float | None:
    return ratio(c.answered_within_t + c.abandoned_within_t, c.answered + c.abandoned)


def removed_within_t_over_queued(c: SlCounts) -> float | None:
    removed = c.answered_within_t + c.abandoned_within_t + c.overflowed_within_t
    return ratio(removed, c.queued)


# The names are those of ``cti.settings.SlFormulaName`` (a test keeps them equal).
FORMULAS: dict[str, Callable[[SlCounts], float | None]] = {
    "answered_within_t_over_answered": answered_within_t_over_answered,
    "asterisk_sl2": asterisk_sl2,
    "removed_within_t_over_queued": removed_within_t_over_queued,
}
FORMULA_NAMES: tuple[str, ...] = tuple(FORMULAS)


def service_level(formula: str, counts: SlCounts) -> float | None:
    return FORMULAS[formula](counts)


# --- the other figures --------------------------------------------------------------------

ABANDON_RATE_DEFINITION: Final = "abandoned_over_queued"


def abandon_rate(abandoned: int, queued: int) -> float | None:
    """``abandoned_over_queued``: abandoned ÷ queued, short abandons left out of both (as the
    service level counts them). Calls answered, overflowed or still waiting are all in the
    denominator: every caller who entered the queue could have given up."""
    return ratio(abandoned, queued)


def asa(answered_wait_s: float, answered: int) -> float | None:
    """Average speed of answer: total wait of answered calls ÷ answered calls."""
    return ratio(answered_wait_s, answered)


def aht(talk_s: float, hold_s: float, wrap_up_s: float, handled: int) -> float | None:
    """Average handle time: (talk + hold + wrap-up) ÷ calls handled."""
    return ratio(talk_s + hold_s + wrap_up_s, handled)


def occupancy(handle_s: float, login_s: float, pause_s: float) -> float | None:
    """Share of available time spent handling calls: handle ÷ (logged in − paused)."""
    return ratio(handle_s, login_s - pause_s)
