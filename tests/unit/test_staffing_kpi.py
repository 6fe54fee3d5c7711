"""The shared figures (``staffing.kpi``): names agree with the settings, zero denominators give
no figure, and the one abandon-rate definition."""

from __future__ import annotations

from typing import get_args

import pytest

from cti.settings import SlFormulaName
from staffing import kpi


def test_formula_names_are_those_the_settings_accept() -> None:
    # Settings validate ``sl_formula`` against the Literal; figures are computed by name.
    assert get_args(SlFormulaName) == kpi.FORMULA_NAMES == tuple(kpi.FORMULAS)


def test_service_level_by_name() -> None:
    counts = kpi.SlCounts(
        queued=10,
        answered=6,
        answered_within_t=4,
        abandoned=2,
        abandoned_within_t=1,
        overflowed_within_t=1,
    )
    assert kpi.service_level("answered_within_t_over_answered", counts) == pytest.approx(4 / 6)
    assert kpi.service_level("asterisk_sl2", counts) == pytest.approx(5 / 8)
    assert kpi.service_level("removed_within_t_over_queued", counts) == pytest.approx(6 / 10)


def test_no_calls_no_figure() -> None:
    empty = kpi.SlCounts(0, 0, 0, 0, 0, 0)
    assert all(formula(empty) is None for formula in kpi.FORMULAS.values())
    assert kpi.abandon_rate(0, 0) is None
    assert kpi.asa(0.0, 0) is None
    assert kpi.aht(0.0, 0.0, 0.0, 0) is None
    assert kpi.occupancy(0.0, 600.0, 600.0) is None  # paused all the time logged in


def test_abandon_rate_is_abandoned_over_queued() -> None:
    assert kpi.ABANDON_RATE_DEFINITION == "abandoned_over_queued"
    # 2 of the 10 queued gave up; answered, overflowed and waiting calls are all queued.
    assert kpi.abandon_rate(2, 10) == pytest.approx(0.2)


def test_handle_time_and_occupancy() -> None:
    assert kpi.aht(300.0, 60.0, 90.0, 3) == pytest.approx(150.0)
    assert kpi.asa(45.0, 3) == pytest.approx(15.0)
    assert kpi.occupancy(1800.0, 3600.0, 600.0) == pytest.approx(0.6)
