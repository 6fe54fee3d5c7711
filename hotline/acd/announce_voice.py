"""Position and wait announcements for callers on hold, in the IVR's own voice (zh and en).

Implements the two ports of ``hotline.acd.announce`` over what ``hotline prompts build``
makes, so a Chinese caller on hold hears Chinese in the same voice as the menus (the PBX root
has English core sounds only):

- ``prompt``: the ACD names Asterisk's core sounds (``queue-thereare``, ``queue-holdtime``...);
  each has a prompt in ``config/ivr/common.yaml`` (``hold_*``, zh and en text) whose audio name
  is pinned there and listed in ``ANNOUNCEMENT_AUDIO`` → ``STREAM FILE <prompts>/<lang>/<audio>``;
- ``say_number``: a count from the number vocabulary (``ivr.say``), one ``STREAM FILE
  <prompts>/<lang>/say/<token>`` per token, with 两 for a lone 2 in Chinese (两位, 两分钟).

Invariants: only ``zh`` and ``en`` (the languages with a vocabulary) reach a file path; any other
language, an unknown sound name, or a file Asterisk cannot play (prompts not built or not
synced) falls back to Asterisk's own core sound or SAY NUMBER — English words beat a silent
gap. A hangup is never swallowed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cti.agi.errors import AgiCommandFailed
from hotline.acd.announce import AnnounceChannel
from ivr.say import SAY_DIR, VOCABULARY, CannotSay, spoken_tokens

log = logging.getLogger("hotline.ivr.announce")

# The announce handler's sound name → the audio name of its ``common.hold_*`` prompt.
ANNOUNCEMENT_AUDIO: dict[str, str] = {
    "queue-thereare": "hold-there-are",
    "queue-callswaiting": "hold-callers-ahead",
    "queue-youarenext": "hold-you-are-next",
    "queue-holdtime": "hold-estimated-wait",
    "queue-less-than": "hold-less-than",
    "queue-minute": "hold-minute",
    "queue-minutes": "hold-minutes",
}


def count_tokens(number: int, language: str) -> list[str]:
    """Vocabulary tokens for a count of people or minutes: zh says 两, not 二, alone."""
    tokens = spoken_tokens(str(number), "number", language)
    return ["liang"] if language == "zh" and tokens == ["n2"] else tokens


class AnnounceVoice:
    """``announce_handler(acd, say_number=voice.say_number, prompt=voice.prompt)``.

    ``prompts_dir`` is the prompts directory as Asterisk sees it (``asterisk_prompts_dir``).
    """

    def __init__(self, prompts_dir: str) -> None:
        self._prompts = prompts_dir.rstrip("/")

    def file(self, language: str, audio: str) -> str:
        return f"{self._prompts}/{language}/{audio}"

    async def prompt(self, session: AnnounceChannel, name: str, language: str) -> None:
        audio = ANNOUNCEMENT_AUDIO.get(name)
        if audio is not None and language in VOCABULARY:
            try:
                await session.stream_file(self.file(language, audio))
                return
            except AgiCommandFailed:
                log.warning("announcement audio missing or unplayable: %s; using %s",
                            self.file(language, audio), name)  # fmt: skip
        await session.stream_file(name)  # Asterisk's core sound (English on the Debian root)

    async def say_number(self, session: AnnounceChannel, number: int, language: str) -> None:
        try:
            for token in count_tokens(number, language):
                await session.stream_file(self.file(language, f"{SAY_DIR}/{token}"))
            return
        except CannotSay:
            pass  # a language without vocabulary: Asterisk's own, in the channel's language
        except AgiCommandFailed:
            log.warning("number vocabulary missing or unplayable under %s/%s; using SAY NUMBER",
                        self._prompts, language)  # fmt: skip
        await session.say_number(number)


if TYPE_CHECKING:  # mypy: the voice fits the ACD's ports
    from hotline.acd.announce import Prompt, SayNumber

    def _fits_ports(voice: AnnounceVoice) -> tuple[SayNumber, Prompt]:
        return voice.say_number, voice.prompt
