"""The call-control port: everything Hotline does to calls on the PBX, in one interface.

The ACD (connect, hold, transfer, overflow), call actions, recordings, the demo and
``hotline call`` use it; callbacks, surveys and outbound dialing are built on it. There is
one implementation over AMI (``cti.ami.call_control.AmiCallControl``) and fakes in tests.
A domain package that needs only part of it declares a narrower Protocol of its own, which
this one satisfies.

A *channel* is named by its Asterisk uniqueid or its channel name (AMI accepts either
wherever it takes a channel); Hotline calls a call by its caller channel's uniqueid.

Errors: every method raises ``CallControlError`` when the PBX cannot do it; ``gone`` is
True when the PBX refused because the channel does not exist (any more), False when the
link is down or the PBX failed otherwise. Hanging up a channel that is gone is not an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol


class CallControlError(Exception):
    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A channel as the PBX lists it now."""

    channel: str  # its name, e.g. Local/agent1@test-agents-00000012;1
    uniqueid: str
    context: str
    exten: str
    state: str  # Up, Ring, Ringing ...
    bridge_id: str | None = None  # the bridge it is in, if any
    caller_number: str | None = None


@dataclass(frozen=True, slots=True)
class Originate:
    """A new call leg. ``channel`` (a dial string: ``PJSIP/1001``, ``Local/x@ctx``) rings;
    once it answers it runs ``application(data)`` or the dialplan at ``context``/``exten``.
    ``channel_id`` names the new channel's uniqueid in advance (and ``other_channel_id`` the
    second half of a Local channel), so its events can be followed from the first one."""

    channel: str
    context: str | None = None
    exten: str = "s"
    priority: int = 1
    application: str | None = None
    data: str = ""
    caller_id: str | None = None
    variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    channel_id: str | None = None
    other_channel_id: str | None = None
    ring_timeout_s: float | None = None

    def __post_init__(self) -> None:
        if (self.context is None) == (self.application is None):
            raise ValueError("an originated leg runs either a context or an application")


@dataclass(frozen=True, slots=True)
class RedirectTo:
    """Where a channel goes: a dialplan context, extension and priority."""

    context: str
    exten: str = "s"
    priority: int = 1


class CallControl(Protocol):
    async def originate(self, leg: Originate) -> None:
        """Start the leg; returns once the PBX accepted it (not when it answers)."""

    async def redirect(
        self,
        channel: str,
        to: RedirectTo,
        *,
        variables: Mapping[str, str] | None = None,
        also: tuple[str, RedirectTo] | None = None,
    ) -> None:
        """Move a channel to another place in the dialplan, its ``variables`` set first;
        ``also`` moves a second channel in the same action (both leave their bridge at once,
        so neither is left alone in it)."""

    async def set_variables(self, channel: str, variables: Mapping[str, str]) -> None: ...

    async def set_globals(self, variables: Mapping[str, str]) -> None:
        """Global dialplan variables (``${GLOBAL(NAME)}``); an empty value clears one."""

    async def get_variables(self, channel: str, names: Sequence[str]) -> dict[str, str] | None:
        """The values (empty when unset) or None when the channel is gone."""

    async def hangup(self, channel: str) -> None: ...

    async def bridge(self, channel: str, other: str) -> None:
        """Put two channels in one bridge (both leave where they were)."""

    async def play(self, channel: str, sounds: Sequence[str]) -> None:
        """Play sound files to the channel, then hang it up: the last words to a caller
        that Hotline lets go (the ``hotline-play`` context)."""

    async def channels(self) -> list[ChannelInfo]: ...

    async def exists(self, channel: str) -> bool: ...

    async def bridge_peer(self, channel: str, *, wait_s: float = 2.0) -> str | None:
        """The name of the other channel in ``channel``'s bridge. A bridge forms a moment
        after a dial is answered: look again for up to ``wait_s``."""

    # The call's recording (MixMonitor): both directions, to a file the PBX writes.
    async def start_recording(self, channel: str, file: str) -> None: ...

    async def mute_recording(self, channel: str, muted: bool) -> None: ...
