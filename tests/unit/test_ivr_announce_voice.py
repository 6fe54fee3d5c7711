"""The IVR's voice for the ACD's hold announcements: the files a Chinese or an English caller
hears (driven through ``hotline.acd.announce``'s own handler), the prompts that back them in
the shipped configuration, and the fallbacks to Asterisk's sounds."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import hotline.acd.announce
from acd.call_record import Announcement
from acd.model import AcdConfig, AnnouncementPolicy, Queue
from cti.agi.environment import AgiEnvironment
from cti.agi.errors import AgiCommandFailed, AgiHangup, AgiReply
from cti.variables import HOTLINE_ANNOUNCE_EVERY, HOTLINE_LANGUAGE
from hotline.acd.announce import announce_handler
from hotline.acd.announce_voice import ANNOUNCEMENT_AUDIO, AnnounceVoice, count_tokens
from ivr.config import load_config
from ivr.prompts import wanted_audio
from ivr.say import VOCABULARY, text_of

CONFIG = Path(__file__).parent.parent.parent / "config"
PROMPTS = "/hotline/test/prompts"


@dataclass
class FakeChannel:
    language: str | None = "zh"
    missing: set[str] = field(default_factory=set)  # file names that "do not exist"
    hang_up_on: str | None = None
    env: AgiEnvironment = field(default_factory=lambda: AgiEnvironment(uniqueid="c-1"))
    log: list[tuple[str, str]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    async def stream_file(
        self, file: str, escape_digits: str = "", sample_offset: int | None = None
    ) -> tuple[str | None, int]:
        self.log.append(("stream", file))
        if file == self.hang_up_on:
            raise AgiHangup("hangup during STREAM")
        if any(file.endswith(name) for name in self.missing):
            raise AgiCommandFailed("STREAM FILE", AgiReply(200, "-1", raw="200 result=-1"))
        return None, 8000

    async def say_number(
        self, number: int, escape_digits: str = "", gender: str | None = None
    ) -> str | None:
        self.log.append(("say_number", str(number)))
        return None

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def get_variable(self, name: str) -> str | None:
        return self.language if name == HOTLINE_LANGUAGE else self.variables.get(name)


@dataclass
class FakeAcd:
    """What ``announce_handler`` reads of the ACD service: one caller's announcement."""

    position: int
    ewt_s: float
    config: AcdConfig = field(
        default_factory=lambda: AcdConfig(
            queues=(Queue(id="cards", announcements=AnnouncementPolicy(every_s=30)),), agents=()
        )
    )

    def announcement(self, call_id: str) -> Announcement:
        return Announcement(call_id, "cards", self.position, self.ewt_s, True, True)


async def visit(position: int, ewt_s: float, channel: FakeChannel) -> list[str]:
    voice = AnnounceVoice(PROMPTS + "/")
    handler = announce_handler(
        FakeAcd(position, ewt_s),
        say_number=voice.say_number,
        prompt=voice.prompt,
    )
    await handler(channel)
    assert channel.variables[HOTLINE_ANNOUNCE_EVERY] == "30"
    return [
        file.removeprefix(PROMPTS + "/") if kind == "stream" else f"SAY NUMBER {file}"
        for kind, file in channel.log
    ]


async def test_a_chinese_caller_hears_chinese_files_only() -> None:
    played = await visit(3, 150, FakeChannel("zh"))
    # 您前面还有 两 位客户在等候。预计等候时间 三 分钟。
    assert played == [
        "zh/hold-there-are", "zh/say/liang", "zh/hold-callers-ahead",
        "zh/hold-estimated-wait", "zh/say/n3", "zh/hold-minutes",
    ]  # fmt: skip


async def test_a_chinese_caller_next_in_line_with_a_short_wait() -> None:
    played = await visit(1, 20, FakeChannel("zh"))
    # 您是下一位。预计等候时间 不到 一 分钟。
    assert played == ["zh/hold-you-are-next", "zh/hold-estimated-wait", "zh/hold-less-than",
                      "zh/say/n1", "zh/hold-minute"]  # fmt: skip


async def test_an_english_caller_hears_the_same_voice_in_english() -> None:
    played = await visit(13, 25 * 60, FakeChannel("en"))
    assert played == [
        "en/hold-there-are", "en/say/n12", "en/hold-callers-ahead",
        "en/hold-estimated-wait", "en/say/n20", "en/say/n5", "en/hold-minutes",
    ]  # fmt: skip


async def test_no_estimate_when_nobody_staffs_the_queue() -> None:
    assert await visit(1, math.inf, FakeChannel("en")) == ["en/hold-you-are-next"]


async def test_no_language_on_the_channel_is_english() -> None:
    assert await visit(1, math.inf, FakeChannel(None)) == ["en/hold-you-are-next"]


async def test_another_language_gets_asterisk_s_own_sounds() -> None:
    channel = FakeChannel("fr")
    played = await visit(2, 90, channel)
    assert played == ["queue-thereare", "SAY NUMBER 1", "queue-callswaiting",
                      "queue-holdtime", "SAY NUMBER 2", "queue-minutes"]  # fmt: skip


async def test_missing_files_fall_back_to_asterisk_s_sounds_and_the_visit_goes_on() -> None:
    channel = FakeChannel("zh", missing={"zh/hold-there-are", "zh/say/n3"})
    played = await visit(4, 60, channel)
    assert played == [
        "zh/hold-there-are", "queue-thereare",  # our prompt, then the core sound
        "zh/say/n3", "SAY NUMBER 3",  # our digit, then Asterisk's
        "zh/hold-callers-ahead", "zh/hold-estimated-wait", "zh/say/n1", "zh/hold-minute",
    ]  # fmt: skip


async def test_a_hangup_ends_the_visit() -> None:
    channel = FakeChannel("zh", hang_up_on=f"{PROMPTS}/zh/say/liang")
    played = await visit(3, 150, channel)
    assert played == ["zh/hold-there-are", "zh/say/liang"]


@pytest.mark.parametrize(
    ("number", "zh", "en"),
    [
        (1, "一", "one"),
        (2, "两", "two"),
        (10, "十", "ten"),
        (12, "十二", "twelve"),
        (22, "二十二", "twenty two"),
        (2000, "两千", "two thousand"),
        (105, "一百零五", "one hundred five"),
    ],
)
def test_counts(number: int, zh: str, en: str) -> None:
    assert text_of(count_tokens(number, "zh"), "zh") == zh
    assert text_of(count_tokens(number, "en"), "en") == en


def test_the_shipped_configuration_has_every_announcement_in_every_language() -> None:
    config, problems = load_config(CONFIG)
    assert config is not None, problems
    by_audio = {prompt.audio: prompt for prompt in config.prompts.values()}
    languages = {language for hotline in config.hotlines for language in hotline.languages}
    assert languages <= set(VOCABULARY)  # every caller's language has a number vocabulary
    for audio in ANNOUNCEMENT_AUDIO.values():
        assert audio in by_audio, f"no prompt with audio {audio!r} in config/ivr"
        assert set(by_audio[audio].text) >= languages, by_audio[audio].id
    built = {item.relative for item in wanted_audio(config)}
    for language in languages:  # `hotline prompts build` makes every file the voice plays
        assert {f"{language}/{audio}.wav" for audio in ANNOUNCEMENT_AUDIO.values()} <= built
        assert {f"{language}/say/{token}.wav" for token in VOCABULARY[language]} <= built


def test_every_sound_the_acd_names_has_an_announcement() -> None:
    source = Path(hotline.acd.announce.__file__).read_text(encoding="utf-8")
    named = set(re.findall(r'"(queue-[a-z-]+)"', source))
    assert named and named == set(ANNOUNCEMENT_AUDIO)
