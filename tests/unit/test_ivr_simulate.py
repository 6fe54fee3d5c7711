"""The simulator and the ``hotline ivr`` commands, on the sample bank configuration."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.ivr.cli import ivr_app

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / "config")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ivr"
OPEN = "2025-10-09T10:00:00+08:00"  # a Thursday
HOLIDAY = "2025-10-01T10:00:00+08:00"


def simulate(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(ivr_app, ["simulate", "--config", CONFIG, "--json", *args])
    assert result.exit_code == 0, result.output
    last: dict[str, object] = json.loads(result.output.strip().splitlines()[-1])
    return last


def test_chinese_caller_checks_the_balance_and_leaves() -> None:
    out = simulate("--did", "95555", "--at", OPEN, "--keys", "1 1 6222020200112233445# 9")
    assert out["outcome"] == "hangup"
    assert out["language"] == "zh"
    assert out["path"] == [
        "basic-banking.welcome",
        "basic-banking.choose_language",
        "basic-banking.main",
        "basic-banking.account_number",
        "basic-banking.balance_inquiry",
        "basic-banking.say_balance",
        "basic-banking.anything_else",
        "common.goodbye",
    ]
    variables = out["variables"]
    assert isinstance(variables, dict)
    assert variables["account"] == "***************3445"
    assert variables["balance"] == "9762868.15"


def test_english_lost_card_is_masked_and_queued_with_skills() -> None:
    result = CliRunner().invoke(
        ivr_app,
        ["simulate", "--config", CONFIG, "--did", "95556", "--lang", "en", "--at", OPEN,
         "--keys", "1 4111111111111111# 0", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4111111111111111" not in result.output
    out = json.loads(result.output.splitlines()[-1])
    assert out["outcome"] == "queue"
    assert out["queue"] == "lost-card"
    assert out["skills"] == {"language_en": 1, "lost_card": 1}
    assert out["priority"] == 70
    assert out["variables"]["card_number"] == "************1111"


def test_out_of_hours_is_closed() -> None:
    out = simulate("--did", "95557", "--at", HOLIDAY)
    assert (out["outcome"], out["path"]) == ("closed", [])


def test_out_of_hours_can_lead_to_a_24_hour_line() -> None:
    out = simulate("--did", "95559", "--at", "2025-10-09T22:00:00+08:00", "--keys", "1")
    assert (out["outcome"], out["path"]) == (
        "transfer",
        ["insurance.after_hours", "insurance.claims_line"],
    )


def test_vip_caller_goes_to_private_banking() -> None:
    out = simulate("--did", "95558", "--caller", "13800138000", "--at", OPEN, "--lang", "zh")
    assert (out["queue"], out["priority"]) == ("private-banking", 90)
    assert out["skills"] == {"language_zh": 1, "private_banking": 1}


def test_silence_everywhere_still_ends_in_a_queue() -> None:
    out = simulate("--did", "95556", "--at", OPEN)
    assert (out["outcome"], out["queue"]) == ("queue", "credit-card")


def test_explicit_timeout_token_and_invalid_key() -> None:
    out = simulate("--did", "95560", "--at", "2025-10-09T11:45:00+08:00", "--keys", "2 _ 7 1")
    assert out["language"] == "en"
    assert out["path"] == [
        "complaints.welcome",
        "complaints.choose_language",
        "complaints.main",
        "complaints.cards",
        "complaints.lunch_check",
        "complaints.lunch_notice",
        "complaints.agent",
    ]
    assert out["queue"] == "complaints"
    assert out["skills"] == {"language_en": 1, "basic_banking": 1, "complaints": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--did", "12345"], "no hotline answers DID 12345"),
        (["--did", "95555", "--at", "yesterday"], "is not an ISO time"),
    ],
)
def test_simulate_refuses_bad_arguments(args: list[str], message: str) -> None:
    result = CliRunner().invoke(ivr_app, ["simulate", "--config", CONFIG, *args])
    assert result.exit_code != 0
    assert message in result.output


def test_validate_command_on_the_sample_is_clean() -> None:
    result = CliRunner().invoke(ivr_app, ["validate", CONFIG])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: 6 hotlines, 7 flows")


def test_validate_command_prints_problems_and_exits_1(tmp_path: Path) -> None:
    directory = tmp_path / "config"
    shutil.copytree(FIXTURES / "minimal", directory)
    shutil.copy(FIXTURES / "broken" / "schema.yaml", directory / "ivr" / "broken.yaml")
    result = CliRunner().invoke(ivr_app, ["validate", str(directory)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{directory}/ivr/broken.yaml:13:5: nodes.start.retries: unknown field" in lines


@pytest.mark.parametrize(("fmt", "first"), [("mermaid", "flowchart TD"), ("dot", "digraph ivr {")])
def test_graph(fmt: str, first: str) -> None:
    result = CliRunner().invoke(ivr_app, ["graph", "--config", CONFIG, "--format", fmt])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == first
    assert "common_lost_card" in result.output


def test_graph_of_one_hotline_shows_only_what_it_reaches() -> None:
    result = CliRunner().invoke(ivr_app, ["graph", "--config", CONFIG, "--hotline", "mortgage"])
    assert result.exit_code == 0, result.output
    assert "n_mortgage_main -- key 1 --> n_mortgage_repayments" in result.output
    assert "credit_card" not in result.output


def test_webhook_actions_take_their_error_branch_in_the_simulator(tmp_path: Path) -> None:
    directory = tmp_path / "config"
    shutil.copytree(FIXTURES / "minimal", directory)
    flow = directory / "ivr" / "demo.yaml"
    flow.write_text(
        flow.read_text().replace(
            "    action: report_lost_card\n",
            "    webhook: {url: 'https://cards.example/lost', method: POST}\n",
        )
    )
    result = CliRunner().invoke(
        ivr_app,
        ["simulate", "--config", str(directory), "--did", "10000", "--at", OPEN,
         "--keys", "1 1 4111111111111111", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "webhook https://cards.example/lost is not called by the simulator" in result.output
    out = json.loads(result.output.splitlines()[-1])
    assert (out["outcome"], out["path"][-1]) == ("queue", "demo.agent")
