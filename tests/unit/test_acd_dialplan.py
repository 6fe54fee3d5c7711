"""The ACD's dialplan verbs over the call-control port (AMI scripted), and what a resync reads
back from the channels. The real Asterisk runs the same in tests/integration/test_acd_e2e.py
and test_call_actions_e2e.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest

from acd.dialplan import DialplanPbx
from acd.pbx_events import ConnectingCall, HoldEntered, PbxEvent, SavedAgent
from acd.ports import PbxFeed
from cti.ami.call_control import AmiCallControl
from cti.ami.messages import Response
from cti.call_control import CallControlError
from tests.fakes.ami import Answer, ScriptedAmi, channel, error, ok


class Feed:
    def __init__(self) -> None:
        self.saved: list[tuple[str, SavedAgent | None]] = []

    async def events(self) -> AsyncIterator[PbxEvent]:
        return
        yield  # an empty feed

    async def saved_agents(self) -> list[SavedAgent]:
        return [SavedAgent("a1", "PJSIP/1001", "lunch")]

    async def save_agent(self, agent_id: str, saved: SavedAgent | None) -> None:
        self.saved.append((agent_id, saved))

    async def device_states(self) -> dict[str, str]:
        return {"PJSIP/1001": "NOT_INUSE"}

    def close(self) -> None:
        pass


_feed: type[PbxFeed] = Feed


def sent(ami: ScriptedAmi) -> list[tuple[str, dict[str, str | Sequence[str]]]]:
    return ami.actions


def pbx(ami: ScriptedAmi) -> DialplanPbx:
    return DialplanPbx(AmiCallControl(ami), Feed())


async def test_connect_sets_the_offer_on_the_caller_then_redirects() -> None:
    ami = ScriptedAmi()
    await pbx(ami).connect("c1", "PJSIP/1001", 15, "a1", 42)
    assert sent(ami) == [
        ("Setvar", {"Channel": "c1", "Variable": "HOTLINE_AGENT_DEVICE", "Value": "PJSIP/1001"}),
        ("Setvar", {"Channel": "c1", "Variable": "HOTLINE_RING_TIMEOUT", "Value": "15"}),
        ("Setvar", {"Channel": "c1", "Variable": "HOTLINE_ACD_AGENT", "Value": "a1"}),
        ("Setvar", {"Channel": "c1", "Variable": "HOTLINE_ACD_DECISION", "Value": "42"}),
        ("Redirect", {"Channel": "c1", "Context": "hotline-acd-connect", "Exten": "s",
                      "Priority": "1"}),
    ]  # fmt: skip


async def test_hold_moves_both_sides_in_one_redirect_after_their_variables() -> None:
    ami = ScriptedAmi()
    await pbx(ami).hold("c1", "PJSIP/1001-01")
    names = [name for name, _ in sent(ami)]
    assert names[-1] == "Redirect" and names.count("Setvar") == 2
    assert sent(ami)[-1][1]["ExtraChannel"] == "PJSIP/1001-01"
    assert sent(ami)[-1][1]["ExtraContext"] == "hotline-acd-agent-onhold"


async def test_overflow_and_transfers_go_to_their_contexts() -> None:
    ami = ScriptedAmi()
    dialplan = pbx(ami)
    await dialplan.overflow("c1", "voicemail", "1001")
    await dialplan.send_to_number("c1", "hotline-transfer", "95555")
    await dialplan.requeue("c1", {"HOTLINE_QUEUE": "loans"})
    redirects = [(f["Context"], f["Exten"]) for name, f in sent(ami) if name == "Redirect"]
    assert redirects == [
        ("hotline-acd-overflow", "voicemail"),
        ("hotline-transfer", "95555"),
        ("hotline-acd-hold", "s"),
    ]


async def test_a_hand_over_needs_the_consulted_party_to_have_answered() -> None:
    ami = ScriptedAmi()
    ami.channels = [channel("agent-1", "PJSIP/1001-01")]  # in no bridge: nobody answered
    with pytest.raises(CallControlError, match="has not answered"):
        await DialplanPbx(AmiCallControl(ami), Feed(), bridge_wait_s=0).hand_over(
            "c1", "PJSIP/1001-01"
        )


def _getvar(values: dict[str, dict[str, str]]) -> Answer:
    def answer(name: str, fields: dict[str, str | Sequence[str]]) -> Response | None:
        if name != "Getvar":
            return None
        found = values.get(str(fields["Channel"]))
        if found is None:
            return error("No such channel")
        return ok(Value=found.get(str(fields["Variable"]), ""))

    return answer


async def test_a_snapshot_reads_callers_on_hold_and_connected_calls_from_their_channels() -> None:
    ami = ScriptedAmi(
        _getvar(
            {
                "h1": {
                    "HOTLINE_QUEUE": "cards",
                    "HOTLINE_PRIORITY": "50",
                    "HOTLINE_SKILLS": "credit_card:4",
                    "HOTLINE_ACD_ENQUEUED": "1700000000.5",
                    "HOTLINE_IVR_PATH": "welcome menu",
                },
                "k1": {
                    "HOTLINE_ACD_AGENT": "a1",
                    "HOTLINE_QUEUE": "cards",
                    "HOTLINE_ACD_ANSWERED": "1700000100.0",
                },
                "k2": {"HOTLINE_ACD_AGENT": "a2", "HOTLINE_ACD_AGENT_CHANNEL": "PJSIP/1002-9"},
                "k3": {},  # in the connect context with no agent: not an ACD call
            }
        )
    )
    ami.channels = [
        channel("h1", "Local/x;2", context="hotline-acd-hold"),
        channel("gone", "Local/y;2", context="hotline-acd-hold"),  # hung up meanwhile
        channel("k1", "Local/z;2", context="hotline-acd-connect", bridge="b1"),
        channel("k2", "Local/w;2", context="hotline-acd-onhold"),
        channel("k3", "Local/v;2", context="hotline-acd-connect"),
        channel("other", "PJSIP/9", context="default"),
    ]
    snapshot = await pbx(ami).snapshot()
    assert snapshot.held == [
        HoldEntered("h1", "Local/x;2", "cards", 50, None, {"credit_card": 4}, 1700000000.5,
                    None, "welcome menu"),
    ]  # fmt: skip
    assert snapshot.connecting == [
        ConnectingCall("k1", "a1", True, "cards", 0, None, None, 1700000100.0),
        ConnectingCall("k2", "a2", True, "", 0, None, "PJSIP/1002-9", None),
    ]
    assert snapshot.agents == [SavedAgent("a1", "PJSIP/1001", "lunch")]
    assert snapshot.device_states == {"PJSIP/1001": "NOT_INUSE"}


async def test_agents_are_saved_through_the_feed() -> None:
    feed = Feed()
    dialplan = DialplanPbx(AmiCallControl(ScriptedAmi()), feed)
    await dialplan.save_agent("a1", SavedAgent("a1", "PJSIP/1001"))
    await dialplan.save_agent("a1", None)
    assert feed.saved == [("a1", SavedAgent("a1", "PJSIP/1001")), ("a1", None)]
