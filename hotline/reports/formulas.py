"""Report figures, pure. Service level is *the same code* as live statistics
(``hotline.live.formulas``): one definition per formula name, so live and historical figures
agree to the call. The rest (ASA, AHT, occupancy, rates) is defined here.

Conventions: every function returns ``None`` when its denominator is zero (no calls: no
figure, not 0 % or 100 %). Durations are seconds.
"""

from __future__ import annotations

from typing import get_args

from cti.settings import SlFormulaName
from hotline.live.formulas import FORMULAS, SlCounts, service_level

FORMULA_NAMES: tuple[str, ...] = get_args(SlFormulaName)

__all__ = [
    "FORMULAS",
    "FORMULA_NAMES",
    "SlCounts",
    "abandon_rate",
    "aht",
    "asa",
    "occupancy",
    "ratio",
    "service_level",
]


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def asa(answered_wait_s: float, answered: int) -> float | None:
    """Average speed of answer: total wait of answered calls ÷ answered calls."""
    return ratio(answered_wait_s, answered)


def aht(talk_s: float, hold_s: float, wrap_up_s: float, handled: int) -> float | None:
    """Average handle time: (talk + hold + wrap-up) ÷ calls handled."""
    return ratio(talk_s + hold_s + wrap_up_s, handled)


def abandon_rate(abandoned: int, queued: int) -> float | None:
    """Abandoned ÷ queued, both without short abandons (as the service level counts them)."""
    return ratio(abandoned, queued)


def occupancy(handle_s: float, login_s: float, pause_s: float) -> float | None:
    """Share of available time spent handling calls: handle ÷ (logged in − paused)."""
    return ratio(handle_s, login_s - pause_s)
