"""Supervisor listen / whisper / barge on the real Asterisk: the supervisor's device is called
and runs ChanSpy on the agent's channel, with the mode's options."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from acd.agent_state import AgentState, AgentStatus
from cti.ami.call_control import AmiCallControl
from cti.ami.client import AmiClient
from hotline.api.ports import SpyMode, UnknownTarget
from hotline.controls import SpyControl
from tests.integration.pbx import PbxUnderTest

AGENT_DEVICE = "Local/agent7@test-agents/n"
SUPERVISOR_DEVICE = "Local/agent8@test-agents/n"


@dataclass
class OneAgent:
    """The part of the ACD the control reads: the agent's logged-in device."""

    device: str | None

    def agent(self, agent_id: str) -> AgentStatus:
        return AgentStatus(agent_id, AgentState.ON_CALL, self.device)


async def _channels(pbx: PbxUnderTest, pattern: str) -> str:
    return await pbx.cli_until("core show channels concise", pattern)


@pytest.mark.parametrize(
    ("mode", "options"), [("listen", "qE"), ("whisper", "qwE"), ("barge", "qBE")]
)
async def test_spy_calls_the_supervisor_into_chanspy(
    pbx: PbxUnderTest, mode: SpyMode, options: str
) -> None:
    async with AmiClient(pbx.ami_settings) as ami:
        # The agent is on a call (talks 15 s) …
        for agent, talk in (("AGENT7", "15"), ("AGENT8", "15")):
            await ami.action("Setvar", Variable=f"{agent}_TALK", Value=talk)
        await ami.action(
            "Originate", Channel=AGENT_DEVICE, Application="Wait", Data="15", Async="true"
        )
        await _channels(pbx, r"agent7@test-agents")
        try:
            # … and the supervisor's phone (auto-answering here) is called into ChanSpy.
            control = SpyControl(AmiCallControl(ami), OneAgent(AGENT_DEVICE))  # type: ignore[arg-type]
            await control.spy("agent7", SUPERVISOR_DEVICE, mode)
            out = await _channels(pbx, r"ChanSpy!Local/agent7,")
            assert f"ChanSpy!Local/agent7,{options}" in out, out
        finally:
            await asyncio.to_thread(pbx.cli, "channel request hangup all")
            for agent in ("AGENT7", "AGENT8"):
                await ami.action("Setvar", Variable=f"{agent}_TALK", Value="")


async def test_spy_on_an_agent_who_is_not_logged_in_is_a_404(pbx: PbxUnderTest) -> None:
    async with AmiClient(pbx.ami_settings) as ami:
        control = SpyControl(AmiCallControl(ami), OneAgent(None))  # type: ignore[arg-type]
        with pytest.raises(UnknownTarget):
            await control.spy("agent7", SUPERVISOR_DEVICE, "listen")
