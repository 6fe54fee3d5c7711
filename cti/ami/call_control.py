"""``CallControl`` over AMI: the one place Hotline turns call control into AMI actions.

Actions that belong together are written at once on the one AMI connection (variables and
then the Redirect that needs them): Asterisk runs one session's actions in order, so they
are pipelined — one round trip, and the variables are set before the channel moves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, Protocol

from cti.ami.errors import AmiActionError, AmiError
from cti.ami.link import Headers, ListResult
from cti.ami.messages import Event, Response
from cti.call_control import CallControlError, ChannelInfo, Originate, RedirectTo
from cti.variables import HOTLINE_PLAY

PLAY_CONTEXT = "hotline-play"  # plays ${HOTLINE_PLAY} and hangs up (extensions.conf)
_REDIRECT_TRIES = 20
_GONE = ("no such channel", "does not exist", "not found")


class AmiActions(Protocol):
    """What this needs of ``cti.ami.client.AmiClient``."""

    async def action(
        self,
        name: str,
        headers: Headers | None = None,
        /,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors AmiClient.action
        check: bool = True,
        **fields: str | Sequence[str],
    ) -> Response: ...

    async def list_action(
        self,
        name: str,
        headers: Headers | None = None,
        /,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors AmiClient.list_action
        check: bool = True,
        **fields: str | Sequence[str],
    ) -> ListResult: ...


def _error(exc: AmiError) -> CallControlError:
    text = str(exc)
    gone = isinstance(exc, AmiActionError) and any(g in text.lower() for g in _GONE)
    return CallControlError(text, gone=gone)


class AmiCallControl:
    def __init__(self, ami: AmiActions) -> None:
        self._ami = ami

    async def originate(self, leg: Originate) -> None:
        fields: dict[str, str | Sequence[str]] = {"Channel": leg.channel, "Async": "true"}
        if leg.application is not None:
            fields |= {"Application": leg.application, "Data": leg.data}
        else:
            assert leg.context is not None
            fields |= {"Context": leg.context, "Exten": leg.exten, "Priority": str(leg.priority)}
        if leg.caller_id is not None:
            fields["CallerID"] = leg.caller_id
        if leg.channel_id is not None:
            fields["ChannelId"] = leg.channel_id
        if leg.other_channel_id is not None:
            fields["OtherChannelId"] = leg.other_channel_id
        if leg.ring_timeout_s is not None:
            fields["Timeout"] = str(round(leg.ring_timeout_s * 1000))
        if leg.variables:
            fields["Variable"] = [f"{name}={value}" for name, value in leg.variables.items()]
        await self._do(self._ami.action("Originate", fields))

    async def redirect(
        self,
        channel: str,
        to: RedirectTo,
        *,
        variables: Mapping[str, str] | None = None,
        also: tuple[str, RedirectTo] | None = None,
    ) -> None:
        setvars = [self._setvar(channel, name, value) for name, value in (variables or {}).items()]
        await self._all([*setvars, self._redirect(channel, to, also)])

    async def set_variables(self, channel: str, variables: Mapping[str, str]) -> None:
        await self._all([self._setvar(channel, name, value) for name, value in variables.items()])

    async def set_globals(self, variables: Mapping[str, str]) -> None:
        # Setvar without a Channel sets a global variable.
        await self._all(
            [self._ami.action("Setvar", Variable=k, Value=v) for k, v in variables.items()]
        )

    async def get_variables(self, channel: str, names: Sequence[str]) -> dict[str, str] | None:
        try:
            responses = await asyncio.gather(
                *(self._ami.action("Getvar", Channel=channel, Variable=name) for name in names)
            )
        except AmiActionError:
            return None  # hung up (or never was)
        except AmiError as exc:
            raise _error(exc) from exc
        return {
            name: response.get("Value") or ""
            for name, response in zip(names, responses, strict=True)
        }

    async def hangup(self, channel: str) -> None:
        # check=False: a channel already gone is what was asked for.
        await self._do(self._ami.action("Hangup", check=False, Channel=channel))

    async def bridge(self, channel: str, other: str) -> None:
        # Asterisk's Bridge action finds channels by *prefix* (seen on 22.10: a uniqueid "x"
        # picked the channel "x-2"), so it is given the full channel names.
        names = {c.uniqueid: c.channel for c in await self.channels()}
        first, second = names.get(channel, channel), names.get(other, other)
        await self._do(self._ami.action("Bridge", Channel1=first, Channel2=second, Tone="no"))

    async def play(self, channel: str, sounds: Sequence[str]) -> None:
        if not sounds or any(not s or "&" in s or "," in s for s in sounds):
            raise ValueError(f"sounds must be plain file names: {list(sounds)!r}")
        await self.redirect(
            channel, RedirectTo(PLAY_CONTEXT), variables={HOTLINE_PLAY: "&".join(sounds)}
        )

    async def channels(self) -> list[ChannelInfo]:
        try:
            listed = await self._ami.list_action("CoreShowChannels")
        except AmiError as exc:
            raise _error(exc) from exc
        return [_channel(event) for event in listed.events if event.get("Uniqueid")]

    async def exists(self, channel: str) -> bool:
        try:
            await self._ami.action("Getvar", Channel=channel, Variable="UNIQUEID")
        except AmiActionError:
            return False
        except AmiError as exc:
            raise _error(exc) from exc
        return True

    async def bridge_peer(self, channel: str, *, wait_s: float = 2.0) -> str | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            peer = _peer(await self.channels(), channel)
            if peer is not None or loop.time() >= deadline:
                return peer
            await asyncio.sleep(0.1)

    async def start_recording(self, channel: str, file: str) -> None:
        await self._do(self._ami.action("MixMonitor", Channel=channel, File=file))

    async def mute_recording(self, channel: str, muted: bool) -> None:
        await self._do(
            self._ami.action(
                "MixMonitorMute", Channel=channel, Direction="both", State="1" if muted else "0"
            )
        )

    # --- helpers ------------------------------------------------------------------------------

    def _setvar(self, channel: str, name: str, value: str) -> Coroutine[Any, Any, Response]:
        return self._ami.action("Setvar", Channel=channel, Variable=name, Value=value)

    async def _redirect(
        self, channel: str, to: RedirectTo, also: tuple[str, RedirectTo] | None
    ) -> Response:
        fields: dict[str, str | Sequence[str]] = {
            "Channel": channel, "Context": to.context, "Exten": to.exten,
            "Priority": str(to.priority),
        }  # fmt: skip
        if also is not None:
            other, where = also
            fields |= {"ExtraChannel": other, "ExtraContext": where.context,
                       "ExtraExten": where.exten, "ExtraPriority": str(where.priority)}  # fmt: skip
        # Just after a channel left a bridge (a hold), Asterisk refuses to move it again for a
        # moment ("not up" while the soft hang-up that kicked it is pending): retry briefly
        # rather than fail the agent's click.
        for attempt in range(_REDIRECT_TRIES):
            try:
                return await self._ami.action("Redirect", fields)
            except AmiActionError as exc:
                if "not up" not in str(exc) or attempt == _REDIRECT_TRIES - 1:
                    raise
                await asyncio.sleep(0.05)
        raise AssertionError("unreachable")

    @staticmethod
    async def _do(action: Coroutine[Any, Any, Response]) -> None:
        try:
            await action
        except AmiError as exc:
            raise _error(exc) from exc

    @staticmethod
    async def _all(actions: list[Coroutine[Any, Any, Response]]) -> None:
        results = await asyncio.gather(*actions, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if not errors:
            return
        for error in errors:
            if not isinstance(error, AmiError):
                raise error
        problems = [_error(e) for e in errors if isinstance(e, AmiError)]
        raise CallControlError(
            "; ".join(str(p) for p in problems), gone=any(p.gone for p in problems)
        )


def _channel(event: Event) -> ChannelInfo:
    return ChannelInfo(
        channel=event.get("Channel") or "",
        uniqueid=event.get("Uniqueid") or "",
        context=event.get("Context") or "",
        exten=event.get("Exten") or "",
        state=event.get("ChannelStateDesc") or "",
        bridge_id=event.get("BridgeId") or None,
        caller_number=event.get("CallerIDNum") or None,
    )


def _peer(channels: list[ChannelInfo], channel: str) -> str | None:
    """The name of the channel sharing ``channel``'s bridge (by uniqueid or name)."""
    mine = next((c for c in channels if channel in (c.uniqueid, c.channel)), None)
    if mine is None or mine.bridge_id is None:
        return None
    for other in channels:
        if other is not mine and other.bridge_id == mine.bridge_id and other.channel:
            return other.channel
    return None
