"""The ACD's verbs on Asterisk (``acd.ports.AcdPbx``) as call control in the contexts of
``asterisk/etc/extensions_acd.conf``, over the one call-control port; no AMI here.

Each verb is one step of the dialplan's design: the caller waits on hold in
``hotline-acd-hold``; an offer sets the agent's device and ring timeout on the caller's
channel and redirects it into ``hotline-acd-connect`` (which dials); a hold moves the caller
and the agent's channel out of their bridge in one redirect; and so on. What a resync reads
back (callers on hold, connected calls) comes from the channels' own variables.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine, Mapping
from typing import Any

from acd.pbx_events import (
    AGENT_ONHOLD_CONTEXT,
    CONNECT_CONTEXT,
    CONNECTED_CONTEXTS,
    CONSULT_CONTEXT,
    HOLD_CONTEXT,
    ONHOLD_CONTEXT,
    OVERFLOW_CONTEXT,
    RESUME_CONTEXT,
    TRANSFERRED_CONTEXT,
    ConnectingCall,
    HoldEntered,
    PbxEvent,
    PbxSnapshot,
    SavedAgent,
    float_or_none,
    int_or,
    parse_skills,
)
from acd.ports import PbxFeed
from cti.call_control import CallControl, CallControlError, ChannelInfo, RedirectTo
from cti.variables import (
    HOTLINE_ACD_AGENT,
    HOTLINE_ACD_AGENT_CHANNEL,
    HOTLINE_ACD_ANSWERED,
    HOTLINE_ACD_CALL,
    HOTLINE_ACD_DECISION,
    HOTLINE_ACD_ENQUEUED,
    HOTLINE_AGENT_DEVICE,
    HOTLINE_CONSULT_CHANNEL,
    HOTLINE_CONSULT_DIAL,
    HOTLINE_IVR_DATA,
    HOTLINE_IVR_PATH,
    HOTLINE_LANGUAGE,
    HOTLINE_OVERFLOW_TARGET,
    HOTLINE_PRIORITY,
    HOTLINE_QUEUE,
    HOTLINE_RING_TIMEOUT,
    HOTLINE_SKILLS,
)

log = logging.getLogger("acd.dialplan")

_HELD_VARIABLES = (
    HOTLINE_QUEUE, HOTLINE_PRIORITY, HOTLINE_LANGUAGE, HOTLINE_SKILLS, HOTLINE_ACD_ENQUEUED,
    HOTLINE_IVR_DATA, HOTLINE_IVR_PATH,
)  # fmt: skip
_CONNECTED_VARIABLES = (
    HOTLINE_ACD_AGENT, HOTLINE_QUEUE, HOTLINE_PRIORITY, HOTLINE_ACD_ENQUEUED,
    HOTLINE_ACD_AGENT_CHANNEL, HOTLINE_ACD_ANSWERED,
)  # fmt: skip


class DialplanPbx:
    """``AcdPbx`` over a ``CallControl`` (actions) and a ``PbxFeed`` (events, saved agents,
    device states)."""

    def __init__(self, control: CallControl, feed: PbxFeed, *, bridge_wait_s: float = 2.0) -> None:
        self._control = control
        self._feed = feed
        self._bridge_wait_s = bridge_wait_s  # a bridge forms a moment after a dial answers

    def events(self) -> AsyncIterator[PbxEvent]:
        return self._feed.events()

    def close(self) -> None:
        self._feed.close()

    async def save_agent(self, agent_id: str, saved: SavedAgent | None) -> None:
        await self._feed.save_agent(agent_id, saved)

    # --- routing ------------------------------------------------------------------------------

    async def connect(
        self, call_id: str, device: str, ring_timeout_s: float, agent_id: str, decision_id: int
    ) -> None:
        variables = {
            HOTLINE_AGENT_DEVICE: device,
            HOTLINE_RING_TIMEOUT: f"{ring_timeout_s:g}",
            HOTLINE_ACD_AGENT: agent_id,
            HOTLINE_ACD_DECISION: str(decision_id),
        }
        await self._control.redirect(call_id, RedirectTo(CONNECT_CONTEXT), variables=variables)

    async def overflow(self, call_id: str, kind: str, target: str) -> None:
        await self._control.redirect(
            call_id, RedirectTo(OVERFLOW_CONTEXT, kind), variables={HOTLINE_OVERFLOW_TARGET: target}
        )

    async def channel_exists(self, call_id: str) -> bool:
        return await self._control.exists(call_id)

    # --- during a connected call --------------------------------------------------------------

    async def mark_answered(self, call_id: str, epoch: float) -> None:
        """Keep the answer time on the caller's channel: a restarted Hotline reads it back."""
        await self._control.set_variables(call_id, {HOTLINE_ACD_ANSWERED: f"{epoch:.3f}"})

    async def bridge_peer(self, call_id: str) -> str | None:
        """The other channel in the caller's bridge (its agent's, while they talk)."""
        return await self._control.bridge_peer(call_id, wait_s=self._bridge_wait_s)

    async def hold(self, call_id: str, agent_channel: str) -> None:
        # One Redirect moves both out of their bridge at once: neither side is left alone in it
        # (Dial would hang the agent up). Each side learns the other first.
        await asyncio.gather(
            self._control.set_variables(agent_channel, {HOTLINE_ACD_CALL: call_id}),
            self._control.redirect(
                call_id, RedirectTo(ONHOLD_CONTEXT),
                variables={HOTLINE_ACD_AGENT_CHANNEL: agent_channel},
                also=(agent_channel, RedirectTo(AGENT_ONHOLD_CONTEXT)),
            ),
        )  # fmt: skip

    async def resume(self, call_id: str, agent_channel: str) -> None:
        """Off hold (or back from a consultation): the agent's channel joins the caller."""
        await self._control.redirect(
            agent_channel, RedirectTo(RESUME_CONTEXT), variables={HOTLINE_ACD_CALL: call_id}
        )

    async def requeue(self, call_id: str, variables: Mapping[str, str]) -> None:
        """Back on hold for the ACD with new queue variables (a blind transfer)."""
        await self._control.redirect(call_id, RedirectTo(HOLD_CONTEXT), variables=variables)

    async def send_to_number(self, call_id: str, context: str, number: str) -> None:
        await self._control.redirect(call_id, RedirectTo(context, number))

    async def consult(self, call_id: str, agent_channel: str, dial: str) -> None:
        await self._control.redirect(
            agent_channel, RedirectTo(CONSULT_CONTEXT),
            variables={HOTLINE_CONSULT_DIAL: dial, HOTLINE_ACD_CALL: call_id},
        )  # fmt: skip

    async def hand_over(self, call_id: str, agent_channel: str) -> None:
        """Complete an attended transfer: the held caller joins whom the agent consulted."""
        consulted = await self._control.bridge_peer(agent_channel, wait_s=self._bridge_wait_s)
        if consulted is None:
            raise CallControlError("the consulted party has not answered")
        await self._control.redirect(
            call_id, RedirectTo(TRANSFERRED_CONTEXT), variables={HOTLINE_CONSULT_CHANNEL: consulted}
        )
        # Only once the caller has the consulted party: hanging the agent up earlier would
        # end the consultation's Dial, and the consulted party with it.
        if await self._control.bridge_peer(call_id, wait_s=self._bridge_wait_s) != consulted:
            log.warning("acd hand-over: the caller did not join the consulted party")
        await self._control.hangup(agent_channel)

    async def hangup(self, channel: str) -> None:
        await self._control.hangup(channel)

    # --- what a resync finds ------------------------------------------------------------------

    async def snapshot(self) -> PbxSnapshot:
        channels, agents, states = await asyncio.gather(
            self._control.channels(), self._feed.saved_agents(), self._feed.device_states()
        )
        reads: list[Coroutine[Any, Any, HoldEntered | ConnectingCall | None]] = []
        for channel in channels:
            if channel.context == HOLD_CONTEXT:
                reads.append(self._read_held(channel))
            elif channel.context in CONNECTED_CONTEXTS:
                reads.append(self._read_connecting(channel))
        snapshot = PbxSnapshot(agents=agents, device_states=states)
        for found in await asyncio.gather(*reads):
            if isinstance(found, HoldEntered):
                snapshot.held.append(found)
            elif isinstance(found, ConnectingCall):
                snapshot.connecting.append(found)
        return snapshot

    async def _read_held(self, channel: ChannelInfo) -> HoldEntered | None:
        values = await self._control.get_variables(channel.uniqueid, _HELD_VARIABLES)
        if values is None:
            return None  # hung up since the channel list was taken
        return HoldEntered(
            channel.uniqueid,
            channel.channel or channel.uniqueid,
            values[HOTLINE_QUEUE],
            int_or(values[HOTLINE_PRIORITY]),
            values[HOTLINE_LANGUAGE] or None,
            parse_skills(values[HOTLINE_SKILLS]),
            float_or_none(values[HOTLINE_ACD_ENQUEUED]),
            values[HOTLINE_IVR_DATA] or None,
            values[HOTLINE_IVR_PATH] or None,
        )

    async def _read_connecting(self, channel: ChannelInfo) -> ConnectingCall | None:
        values = await self._control.get_variables(channel.uniqueid, _CONNECTED_VARIABLES)
        if values is None or not values[HOTLINE_ACD_AGENT]:
            return None
        bridged = channel.bridge_id is not None or channel.context != CONNECT_CONTEXT
        on_hold = channel.context == ONHOLD_CONTEXT and channel.bridge_id is None
        return ConnectingCall(
            channel.uniqueid,
            values[HOTLINE_ACD_AGENT],
            bridged,
            values[HOTLINE_QUEUE],
            int_or(values[HOTLINE_PRIORITY]),
            float_or_none(values[HOTLINE_ACD_ENQUEUED]),
            (values[HOTLINE_ACD_AGENT_CHANNEL] or None) if on_hold else None,
            float_or_none(values[HOTLINE_ACD_ANSWERED]),
        )
