"""The call-control port over AMI, against a scripted AMI link (the real PBX: integration)."""

from __future__ import annotations

import pytest

from cti.ami.call_control import AmiCallControl
from cti.call_control import CallControl, CallControlError, Originate, RedirectTo
from tests.fakes.ami import ScriptedAmi, channel, error, ok


def test_it_implements_the_port() -> None:
    port: CallControl = AmiCallControl(ScriptedAmi())
    assert port is not None


async def test_originate_maps_every_field() -> None:
    ami = ScriptedAmi()
    await AmiCallControl(ami).originate(
        Originate(
            channel="PJSIP/1001", context="hotline-callback", exten="dial",
            caller_id="Bank <95555>", variables={"A": "1", "B": "x=y"}, channel_id="cb-1",
            other_channel_id="cb-1b", ring_timeout_s=25,
        )
    )  # fmt: skip
    assert ami.actions == [
        ("Originate", {
            "Channel": "PJSIP/1001", "Async": "true", "Context": "hotline-callback",
            "Exten": "dial", "Priority": "1", "CallerID": "Bank <95555>", "ChannelId": "cb-1",
            "OtherChannelId": "cb-1b", "Timeout": "25000", "Variable": ["A=1", "B=x=y"],
        })
    ]  # fmt: skip
    with pytest.raises(ValueError, match="either a context or an application"):
        Originate(channel="PJSIP/1001")


async def test_redirect_sets_variables_first_and_can_move_two_channels() -> None:
    ami = ScriptedAmi()
    await AmiCallControl(ami).redirect(
        "c1", RedirectTo("hotline-acd-onhold"), variables={"V": "1"},
        also=("agent-chan", RedirectTo("hotline-acd-agent-onhold")),
    )  # fmt: skip
    assert [name for name, _ in ami.actions] == ["Setvar", "Redirect"]
    assert ami.actions[1][1] == {
        "Channel": "c1", "Context": "hotline-acd-onhold", "Exten": "s", "Priority": "1",
        "ExtraChannel": "agent-chan", "ExtraContext": "hotline-acd-agent-onhold",
        "ExtraExten": "s", "ExtraPriority": "1",
    }  # fmt: skip


async def test_a_redirect_refused_while_the_channel_settles_is_tried_again() -> None:
    refusals = iter([error("Redirect failed, channel not up."), None])
    ami = ScriptedAmi(lambda name, _: next(refusals) if name == "Redirect" else None)
    await AmiCallControl(ami).redirect("c1", RedirectTo("ctx"))
    assert [name for name, _ in ami.actions] == ["Redirect", "Redirect"]


async def test_errors_say_whether_the_channel_is_gone() -> None:
    gone = ScriptedAmi(lambda name, _: error("No such channel"))
    with pytest.raises(CallControlError) as refused:
        await AmiCallControl(gone).set_variables("c1", {"A": "1"})
    assert refused.value.gone
    failing = ScriptedAmi(lambda name, _: error("Permission denied"))
    with pytest.raises(CallControlError) as other:
        await AmiCallControl(failing).start_recording("c1", "/r/c1.wav")
    assert not other.value.gone
    assert await AmiCallControl(gone).get_variables("c1", ["A"]) is None
    assert not await AmiCallControl(gone).exists("c1")
    await AmiCallControl(gone).hangup("c1")  # gone already: fine


async def test_get_variables_reads_each_value() -> None:
    ami = ScriptedAmi(
        lambda name, f: ok(Value="v-" + str(f["Variable"])) if name == "Getvar" else None
    )
    values = await AmiCallControl(ami).get_variables("c1", ["A", "B"])
    assert values == {"A": "v-A", "B": "v-B"}


async def test_bridge_names_full_channels_and_the_peer_is_found_by_bridge() -> None:
    ami = ScriptedAmi()
    ami.channels = [
        channel("u1", "Local/a@x-00000001;1", bridge="b1"),
        channel("u2", "PJSIP/1001-00000002", bridge="b1"),
        channel("u3", "PJSIP/1002-00000003"),
    ]
    control = AmiCallControl(ami)
    await control.bridge("u1", "u3")
    assert ami.actions[-1] == (
        "Bridge", {"Channel1": "Local/a@x-00000001;1", "Channel2": "PJSIP/1002-00000003",
                   "Tone": "no"},
    )  # fmt: skip
    assert await control.bridge_peer("u1", wait_s=0) == "PJSIP/1001-00000002"
    assert await control.bridge_peer("u3", wait_s=0) is None


async def test_play_refuses_anything_but_file_names() -> None:
    ami = ScriptedAmi()
    await AmiCallControl(ami).play("c1", ["im-sorry", "vm-goodbye"])
    assert ami.actions[0][1]["Value"] == "im-sorry&vm-goodbye"
    assert ami.actions[1][1]["Context"] == "hotline-play"
    for bad in ([], ["a&b"], ["a,Dial(x)"], [""]):
        with pytest.raises(ValueError):
            await AmiCallControl(ami).play("c1", bad)
