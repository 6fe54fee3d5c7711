"""Position and wait announcements for callers on hold, over a short FastAGI visit.

The holding context (``extensions_acd.conf``) interrupts the music every
``HOTLINE_ANNOUNCE_EVERY`` seconds (first after ``HOTLINE_ANNOUNCE_FIRST``) and runs
``AGI(.../acd-announce)``. This handler asks the service for the caller's announcement, speaks
it, and writes the queue's pacing back on the channel (``0`` = no more visits when the queue's
policy announces nothing). Bounded: one short visit, at most ``MAX_VISIT_S``; if Hotline is
down the AGI fails at once and the music goes on.

Numbers are spoken by a ``SayNumber`` port. The default uses Asterisk's own SAY NUMBER and
``queue-*`` core sounds, which exist in English only on the Debian root; the composition root
can pass a speaker built on the IVR's per-language number vocabulary for Chinese callers
(``hotline.acd.announce_voice``). Of the ACD the handler reads only ``HoldAnnouncements``, of
the AGI session only ``AnnounceSession``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Protocol

from acd.call_record import Announcement
from acd.model import AcdConfig
from cti.agi.environment import AgiEnvironment
from cti.agi.errors import AgiError, AgiHangup
from cti.variables import HOTLINE_ANNOUNCE_EVERY, HOTLINE_LANGUAGE

log = logging.getLogger("acd.announce")  # its name from before the move: log queries use it

MAX_VISIT_S = 12.0


class AnnounceChannel(Protocol):
    """What a speaker (``SayNumber``, ``Prompt``) uses of the caller's AGI session."""

    async def stream_file(
        self, file: str, escape_digits: str = "", sample_offset: int | None = None
    ) -> tuple[str | None, int]: ...

    async def say_number(
        self, number: int, escape_digits: str = "", gender: str | None = None
    ) -> str | None: ...


class AnnounceSession(AnnounceChannel, Protocol):
    """What the handler uses of the caller's AGI session (``cti.agi.session.AgiSession``)."""

    @property
    def env(self) -> AgiEnvironment: ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def get_variable(self, name: str) -> str | None: ...


SayNumber = Callable[[AnnounceChannel, int, str], Awaitable[None]]
Prompt = Callable[[AnnounceChannel, str, str], Awaitable[None]]


class HoldAnnouncements(Protocol):
    """What the handler reads of the ACD (``acd.service.AcdService`` fits): a waiting
    caller's announcement, and its queue's announcement policy from the configuration."""

    @property
    def config(self) -> AcdConfig: ...

    def announcement(self, call_id: str) -> Announcement | None: ...


async def asterisk_say_number(session: AnnounceChannel, number: int, language: str) -> None:
    await session.say_number(number)


async def asterisk_prompt(session: AnnounceChannel, name: str, language: str) -> None:
    await session.stream_file(name)


def announce_handler(
    acd: HoldAnnouncements,
    *,
    say_number: SayNumber = asterisk_say_number,
    prompt: Prompt = asterisk_prompt,
) -> Callable[[AnnounceSession], Awaitable[None]]:
    """The FastAGI route ``acd-announce``."""

    async def acd_announce(session: AnnounceSession) -> None:
        announcement = acd.announcement(session.env.uniqueid)
        if announcement is None:
            return  # being connected, or unknown (Hotline restarted): keep the pacing
        policy = acd.config.queue(announcement.queue_id).announcements
        speaks = policy.position or policy.ewt
        await session.set_variable(HOTLINE_ANNOUNCE_EVERY, f"{policy.every_s:g}" if speaks else "0")
        if not speaks:
            return
        language = await session.get_variable(HOTLINE_LANGUAGE) or "en"
        with contextlib.suppress(TimeoutError, AgiHangup):
            async with asyncio.timeout(MAX_VISIT_S):
                if policy.position:
                    await _say_position(
                        session, announcement.position, language, say_number, prompt
                    )
                if policy.ewt and math.isfinite(announcement.ewt_s):
                    await _say_wait(session, announcement.ewt_s, language, say_number, prompt)

    return acd_announce


async def _say_position(
    session: AnnounceSession, position: int, language: str, say_number: SayNumber, prompt: Prompt
) -> None:
    if position <= 1:
        await _play(prompt, session, "queue-youarenext", language)
        return
    await _play(prompt, session, "queue-thereare", language)
    await say_number(session, position - 1, language)
    await _play(prompt, session, "queue-callswaiting", language)


async def _say_wait(
    session: AnnounceSession, ewt_s: float, language: str, say_number: SayNumber, prompt: Prompt
) -> None:
    minutes = max(1, math.ceil(ewt_s / 60))
    await _play(prompt, session, "queue-holdtime", language)
    if ewt_s < 60:
        await _play(prompt, session, "queue-less-than", language)
    await say_number(session, minutes, language)
    await _play(prompt, session, "queue-minute" if minutes == 1 else "queue-minutes", language)


async def _play(prompt: Prompt, session: AnnounceSession, name: str, language: str) -> None:
    try:
        await prompt(session, name, language)
    except AgiHangup:
        raise
    except AgiError as exc:
        # A missing sound must not cut the visit short: the rest still tells the caller.
        log.warning("announcement prompt failed", extra={"prompt": name, "error": str(exc)})
