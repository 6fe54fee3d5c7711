"""Condition tests: time of day, weekdays, holidays, VIP, language and variables."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.conditions import ConditionContext, condition_holds
from ivr.config import load_config
from ivr.digits import luhn_valid, mask
from ivr.model import Condition

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ivr"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def context(now: datetime, **overrides: object) -> ConditionContext:
    config, problems = load_config(FIXTURES / "minimal")
    assert config is not None, problems
    fields: dict[str, object] = {"vip": False, "language": "zh", "variables": {"tier": "gold"}}
    fields.update(overrides)
    return ConditionContext(config.hotlines_file, "office", now, **fields)  # type: ignore[arg-type]


THURSDAY_NOON = datetime(2025, 10, 9, 12, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("when", "now", "holds"),
    [
        ({"between": "11:30-13:30"}, THURSDAY_NOON, True),
        ({"between": "13:30-14:00"}, THURSDAY_NOON, False),
        ({"weekdays": ["thu", "fri"]}, THURSDAY_NOON, True),
        ({"weekdays": ["sat"]}, THURSDAY_NOON, False),
        ({"open": True}, THURSDAY_NOON, True),
        ({"open": False}, datetime(2025, 10, 1, 12, 0, tzinfo=SHANGHAI), True),
        ({"holiday": True}, datetime(2025, 10, 1, 12, 0, tzinfo=SHANGHAI), True),
        ({"holiday": True}, THURSDAY_NOON, False),
        ({"vip": True}, THURSDAY_NOON, False),
        ({"language": "zh"}, THURSDAY_NOON, True),
        ({"variable": "tier", "equals": "gold"}, THURSDAY_NOON, True),
        ({"variable": "tier", "one_of": ["silver", "bronze"]}, THURSDAY_NOON, False),
        ({"variable": "missing"}, THURSDAY_NOON, False),
        ({"between": "11:00-13:00", "weekdays": ["sat"]}, THURSDAY_NOON, False),  # all must hold
    ],
)
def test_condition(when: dict[str, object], now: datetime, holds: bool) -> None:
    assert condition_holds(Condition.model_validate(when), context(now)) is holds


def test_time_is_read_in_the_schedule_timezone() -> None:
    utc_4am = datetime(2025, 10, 9, 4, 0, tzinfo=ZoneInfo("UTC"))  # 12:00 in Shanghai
    assert condition_holds(Condition(between="11:30-13:30"), context(utc_4am))


def test_condition_needs_a_test() -> None:
    with pytest.raises(ValueError, match="at least one test"):
        Condition.model_validate({})


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True), ("", False)],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("value", "shown"),
    [("4111111111111111", "************1111"), ("123456", "******"), ("", "")],
)
def test_mask(value: str, shown: str) -> None:
    assert mask(value) == shown
