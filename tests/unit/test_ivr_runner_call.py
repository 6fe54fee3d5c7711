"""``hotline call`` without a PBX: key scripts for SendDTMF, clear errors, the report's shape,
and the report read from a scripted call's AMI events over a fake call-control port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest
from typer.testing import CliRunner

from cti.ami.messages import Event
from cti.call_control import Originate
from hotline.cli import app
from hotline.ivr.call import CallError, CallPbx, CallReport, CallScript, dtmf_script, run_test_call


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


class FakePbx:
    """The call-control port as ``hotline call`` uses it (``CallPbx``)."""

    def __init__(self) -> None:
        self.legs: list[Originate] = []
        self.hung_up: list[str] = []

    async def originate(self, leg: Originate) -> None:
        self.legs.append(leg)

    async def get_variables(self, channel: str, names: Sequence[str]) -> dict[str, str] | None:
        return {name: f"{name.lower()}@{channel}" for name in names}

    async def hangup(self, channel: str) -> None:
        self.hung_up.append(channel)


def event(name: str, **headers: str) -> Event:
    return Event.from_pairs([("Event", name), *headers.items()])


async def script(*events: Event) -> AsyncIterator[Event]:
    for item in events:
        yield item


async def test_a_call_to_the_queue_is_reported_from_the_pbx_s_events() -> None:
    pbx = FakePbx()
    ivr_channel = "Local/95555@hotline-entry-00000001;2"
    events = script(
        event("Newchannel", Uniqueid="leg-1-ivr"),
        event("UserEvent", UserEvent="HotlineIvr", Uniqueid="leg-1-ivr", Channel=ivr_channel,
              IvrOutcome="queue", IvrRoute="hold", IvrQueue="general",
              IvrSkills="language_zh:1 general:1", IvrPriority="0", IvrLanguage="zh",
              IvrPath="a.welcome a.agent", IvrVersion="v1"),
        event("UserEvent", UserEvent="HotlineHold", Uniqueid="leg-1-ivr", Channel=ivr_channel),
    )  # fmt: skip
    call = CallScript("95555", "1 0", language="zh", delay_s=2, gap_s=1.5, timeout_s=10)
    report = await run_test_call(pbx, events, call, "leg-1")
    (leg,) = pbx.legs
    assert (leg.channel, leg.context, leg.exten) == ("Local/95555@hotline-entry", "test-caller",
                                                     "dtmf")  # fmt: skip
    assert (leg.channel_id, leg.other_channel_id) == ("leg-1", "leg-1-ivr")
    assert dict(leg.variables) == {"HOTLINE_CALLER_LANGUAGE": "zh", "KEYS": "1Ww0", "DELAY": "2",
                                   "HOLD": "10"}  # fmt: skip
    assert (report.outcome, report.route, report.route_event) == ("queue", "hold", "HotlineHold")
    assert (report.skills, report.path) == ("language_zh:1,general:1", ["a.welcome", "a.agent"])
    assert report.channel_variables["HOTLINE_QUEUE"] == f"hotline_queue@{ivr_channel}"
    assert pbx.hung_up == [ivr_channel]


async def test_a_call_that_ends_before_the_ivr_is_done_says_so() -> None:
    pbx = FakePbx()
    events = script(event("Hangup", Uniqueid="leg-2-ivr", **{"Cause-txt": "Normal Clearing"}))
    report = await run_test_call(pbx, events, CallScript("95555", tone_ms=40), "leg-2")
    assert pbx.legs[0].application == "SendDTMF" and pbx.legs[0].data.endswith(",40,40")
    assert report.problem == "the call ended before the IVR finished (Normal Clearing)"
    assert not report.outcome and pbx.hung_up == []


def test_the_fake_fits_the_port() -> None:
    pbx: CallPbx = FakePbx()
    assert pbx is not None
