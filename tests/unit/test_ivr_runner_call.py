"""``hotline call`` without a PBX: key scripts for SendDTMF, clear errors, the report's shape."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hotline.cli import app
from hotline.ivr.call import CallError, CallReport, dtmf_script


def test_key_groups_become_one_senddtmf_script_with_pauses() -> None:
    assert dtmf_script("1 4111# 2", 3.0) == "1WWW4111#WWW2"
    assert dtmf_script("1 2", 1.5) == "1Ww2"
    assert dtmf_script("", 2.0) == ""
    with pytest.raises(CallError, match="DTMF characters"):
        dtmf_script("1;Hangup()", 1.0)


def test_call_without_a_pbx_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AMI__PORT", "9")
    result = CliRunner().invoke(app, ["call", "--did", "95555", "--keys", "1"])
    assert result.exit_code == 1
    assert "no AMI at 127.0.0.1:9" in result.output


def test_report_lines() -> None:
    report = CallReport(did="95555", uniqueid="u", channel="Local/95555@hotline-entry-1;2",
                        outcome="queue", route="hold", queue="general", skills="language_zh:1",
                        priority="0", language="zh", path=["a.welcome", "a.agent"],
                        config_version="abc", route_event="HotlineHold")  # fmt: skip
    lines = report.lines()
    assert lines[1] == "path: a.welcome → a.agent"
    assert "queue: general skills [language_zh:1]" in lines[3]
    assert CallReport(did="1", problem="x").lines() == ["call to 1: no IVR result (x)"]
    assert report.as_json()["outcome"] == "queue"
