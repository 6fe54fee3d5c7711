"""``hotline staffing`` through Typer's runner on the sub-app itself."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from hotline.staffing.cli import staffing_app

runner = CliRunner()

ISSUE = [
    "--calls", "100", "--interval-min", "30", "--aht", "180", "--answer-within", "20",
    "--target-sl", "0.8",
]  # fmt: skip


def _json(args: list[str]) -> dict[str, object]:
    result = runner.invoke(staffing_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    parsed = orjson.loads(last)
    assert isinstance(parsed, dict)
    return parsed


def test_erlang_c_text_shows_the_issue_vector() -> None:
    result = runner.invoke(
        staffing_app, ["erlang-c", *ISSUE, "--agents", "14", "--shrinkage", "0.3"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in ("10.000 Erlang", "0.1741319", "0.88835", "7.836 s", "0.7142857"):
        assert expected in out
    assert "agents needed         14" in out
    assert "positions             20" in out


def test_erlang_c_json_without_agents_reports_the_required_number() -> None:
    report = _json(["erlang-c", *ISSUE, "--shrinkage", "0.3"])
    assert report["agents"] == report["agents_needed"] == 14
    assert report["positions"] == 20
    assert report["traffic_erlangs"] == 10.0
    assert report["p_wait"] == pytest.approx(0.1741319, abs=5e-8)
    assert report["service_level"] == pytest.approx(0.88835, abs=5e-6)
    assert report["asa_s"] == pytest.approx(7.836, abs=5e-4)
    assert report["occupancy"] == pytest.approx(0.7142857, abs=5e-8)


def test_erlang_c_unstable_agents_give_null_asa() -> None:
    report = _json(["erlang-c", *ISSUE, "--agents", "9"])
    assert report["asa_s"] is None
    assert report["service_level"] == 0.0
    assert report["agents_needed"] == 14


def test_erlang_c_occupancy_cap() -> None:
    report = _json(["erlang-c", *ISSUE, "--max-occupancy", "0.6"])
    assert report["agents_needed"] == 17


def test_erlang_a_json() -> None:
    report = _json(["erlang-a", *ISSUE, "--patience", "60", "--agents", "14"])
    assert report["p_abandon"] == pytest.approx(0.030322, abs=5e-7)
    assert report["service_level"] == pytest.approx(0.94378, abs=5e-6)
    assert isinstance(report["agents_needed"], int)
    assert report["agents_needed"] <= 14


def test_erlang_a_infinite_patience_is_erlang_c() -> None:
    report = _json(["erlang-a", *ISSUE, "--patience", "inf"])
    assert report["agents_needed"] == 14
    assert report["p_abandon"] == 0.0


def test_erlang_a_text() -> None:
    result = runner.invoke(staffing_app, ["erlang-a", *ISSUE, "--patience", "60"])
    assert result.exit_code == 0, result.output
    assert "P(abandon)" in result.output
    assert "mean patience         60.0 s" in result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["erlang-c", "--calls", "-5", "--aht", "180"], "--calls"),
        (["erlang-c", "--calls", "100", "--aht", "-180"], "--aht"),
        (["erlang-c", "--calls", "100", "--aht", "180", "--interval-min", "0"], "--interval-min"),
        (["erlang-c", "--calls", "100", "--aht", "180", "--shrinkage", "1"], "--shrinkage"),
        (["erlang-c", "--calls", "100", "--aht", "180", "--shrinkage", "1.5"], "--shrinkage"),
        (["erlang-c", "--calls", "100", "--aht", "180", "--target-sl", "1"], "--target-sl"),
        (
            ["erlang-c", "--calls", "100", "--aht", "180", "--answer-within", "-1"],
            "--answer-within",
        ),
        (["erlang-c", "--calls", "nan", "--aht", "180"], "--calls"),
        (["erlang-c", "--calls", "100", "--aht", "180", "--agents", "-1"], "--agents"),
        (["erlang-a", "--calls", "100", "--aht", "180", "--patience", "0"], "--patience"),
    ],
)
def test_bad_input_exits_2_naming_the_option(args: list[str], option: str) -> None:
    result = runner.invoke(staffing_app, args)
    assert result.exit_code == 2
    assert option in result.output
    assert "Invalid value" in result.output


def test_library_refusal_is_a_clean_exit_2() -> None:
    # 10⁶ Erlangs on 1,000 agents with a year of patience: the series would be far too long.
    args = ["erlang-a", "--calls", "1e7", "--aht", "180", "--patience", "3e7", "--agents", "1000"]
    result = runner.invoke(staffing_app, args)
    assert result.exit_code == 2
    assert "error:" in result.output
