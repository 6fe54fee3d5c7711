"""The call-control port over AMI against the real Asterisk 22 test instance."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from cti.ami import AmiClient, Event
from cti.ami.call_control import AmiCallControl
from cti.call_control import CallControlError, Originate, RedirectTo
from tests.integration.pbx import PbxUnderTest

pytestmark = pytest.mark.pbx


@pytest.fixture
async def ami(pbx: PbxUnderTest) -> AsyncIterator[AmiClient]:
    settings = pbx.ami_settings.model_copy(update={"ignore_events": []})
    async with AmiClient(settings) as client:
        yield client


async def gone(control: AmiCallControl, call: str) -> None:
    async with asyncio.timeout(5):
        while await control.exists(call):  # noqa: ASYNC110 - polling the PBX, not a flag
            await asyncio.sleep(0.05)


async def leg(control: AmiCallControl, **variables: str) -> str:
    """A Local channel that answers and waits (its other half beeps in test-recording)."""
    name = f"cc-{uuid.uuid4().hex[:12]}"
    await control.originate(
        Originate(
            channel="Local/tone@test-recording", application="Wait", data="30",
            caller_id='"Caller" <13800138000>', channel_id=name, other_channel_id=f"other-{name}",
            variables={"TALK": "30", **variables},
        )
    )  # fmt: skip
    async with asyncio.timeout(10):
        while not await control.exists(name):  # noqa: ASYNC110 - polling the PBX
            await asyncio.sleep(0.05)
    return name


async def test_variables_channels_and_hangup(ami: AmiClient) -> None:
    control = AmiCallControl(ami)
    call = await leg(control)
    try:
        listed = {c.uniqueid: c for c in await control.channels()}
        assert call in listed and listed[call].channel.startswith("Local/tone@test-recording")
        await control.set_variables(call, {"HOTLINE_QUEUE": "cards", "HOTLINE_PRIORITY": "50"})
        values = await control.get_variables(call, ["HOTLINE_QUEUE", "HOTLINE_PRIORITY", "NOPE"])
        assert values == {"HOTLINE_QUEUE": "cards", "HOTLINE_PRIORITY": "50", "NOPE": ""}
    finally:
        await control.hangup(call)
    await gone(control, call)
    assert await control.get_variables(call, ["HOTLINE_QUEUE"]) is None
    await control.hangup(call)  # gone already: not an error
    with pytest.raises(CallControlError) as refused:
        await control.redirect(call, RedirectTo("hotline-play"), variables={"X": "1"})
    assert refused.value.gone


async def test_bridge_two_legs_then_find_the_peer(ami: AmiClient) -> None:
    control = AmiCallControl(ami)
    first, second = await leg(control), await leg(control)
    try:
        await control.bridge(first, second)
        peer = await control.bridge_peer(first, wait_s=5)
        names = {c.uniqueid: c.channel for c in await control.channels()}
        assert peer == names[second]
    finally:
        await control.hangup(first)
        await control.hangup(second)


async def test_play_redirects_plays_then_hangs_up(ami: AmiClient) -> None:
    control = AmiCallControl(ami)
    call = await leg(control)
    async with ami.subscribe({"UserEvent", "Hangup"}) as events:
        await control.play(call, ["beep", "vm-goodbye"])
        played: Event | None = None
        async with asyncio.timeout(15):
            async for event in events:
                if event.get("Uniqueid") != call:
                    continue
                if event.name == "UserEvent" and event.get("UserEvent") == "HotlinePlay":
                    played = event
                if event.name == "Hangup":
                    break
    assert played is not None and played.get("Sounds") == "beep&vm-goodbye"
    with pytest.raises(ValueError, match="plain file names"):
        await control.play(call, ["beep&Dial(PJSIP/evil)"])


async def test_globals_and_recording_actions(ami: AmiClient, tmp_path: object) -> None:
    control = AmiCallControl(ami)
    await control.set_globals({"HOTLINE_TEST_GLOBAL": "epoch-7"})
    reply = await ami.action("Getvar", Variable="HOTLINE_TEST_GLOBAL")
    assert reply.get("Value") == "epoch-7"
    await control.set_globals({"HOTLINE_TEST_GLOBAL": ""})
    call = await leg(control)
    try:
        await control.start_recording(call, f"/tmp/hotline-cc-{call}.wav")
        await control.mute_recording(call, True)
        await control.mute_recording(call, False)
    finally:
        await control.hangup(call)
    await gone(control, call)
    with pytest.raises(CallControlError) as refused:
        await control.mute_recording(call, True)
    assert refused.value.gone
