"""Hold announcements in the IVR's own voice on the real Asterisk: a Chinese and an English
caller wait in one queue while its only agent talks to a first caller; each is visited by
``acd-announce`` (``hotline.acd.announce`` over ``hotline.acd.announce_voice``) on a FastAGI
port of our own.

The shipped configuration's hold prompts and number vocabulary are synthesised into a tmp dir
and copied into a directory of this run inside the test PBX instance — not ``prompts/``, which
other suites mirror (and prune) while they run. Each STREAM FILE's reply is recorded: a file
Asterisk cannot find answers ``result=-1`` (an error here); a played one ends at its last
sample.
"""

from __future__ import annotations

import asyncio
import shutil
import wave
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from acd.agent_state import AgentState
from acd.model import AnnouncementPolicy, Queue
from acd.service import AcdService
from cti.agi.server import AgiServer
from cti.agi.session import AgiSession
from cti.ami.client import AmiClient
from cti.settings import AgiSettings, IvrSettings
from hotline.acd.announce import announce_handler
from hotline.acd.announce_voice import ANNOUNCEMENT_AUDIO, AnnounceVoice
from hotline.acd.build import ami_acd_pbx
from ivr.config import load_config
from ivr.prompts import EspeakSynthesizer, build_prompts, wanted_audio
from ivr.say import SAY_DIR
from tests.integration.acd_helpers import (
    CallWatch,
    agent_def,
    config,
    ensure_acd_dialplan,
    hang_up,
    place_call,
    run_tag,
    set_agent,
)
from tests.integration.pbx import PbxUnderTest

pytestmark = pytest.mark.pbx

CONFIG = Path(__file__).parent.parent.parent / "config"
AGENT = 9  # agents 1-6 belong to the ACD's own end-to-end tests
HANDLE_S = 45.0  # the queue's prior handle time: one agent → EWT = position × 45 s


@dataclass(frozen=True)
class PbxPrompts:
    host: Path  # the copy inside the PBX root, as we see it
    asterisk: str  # the same directory as Asterisk sees it


@pytest.fixture(scope="module")
def hold_prompts(
    pbx: PbxUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PbxPrompts]:
    loaded, problems = load_config(CONFIG)
    assert loaded is not None, problems
    hold = set(ANNOUNCEMENT_AUDIO.values())
    wanted = [a for a in wanted_audio(loaded) if a.name in hold or a.name.startswith(f"{SAY_DIR}/")]
    built = tmp_path_factory.mktemp("hold-prompts")
    synthesizer = EspeakSynthesizer(IvrSettings.model_validate({}).voices)
    build_prompts(wanted, built, synthesizer, synthesizer.fingerprint)
    name = f"announce-prompts-{run_tag()}"
    host = pbx.pbx.instance_dir / name
    shutil.copytree(built, host)
    try:
        yield PbxPrompts(host, f"{pbx.pbx.instance_path}/{name}")
    finally:
        shutil.rmtree(host, ignore_errors=True)


@dataclass
class Played:
    command: str  # "STREAM FILE <file>" or "SAY NUMBER <n>"
    endpos: int | None = None  # samples played; None when Asterisk answered with an error
    error: str = ""


@dataclass
class Recorder:
    """The AGI session as the handler sees it, recording what was played and Asterisk's reply."""

    session: AgiSession
    played: list[Played] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    async def stream_file(
        self, file: str, escape_digits: str = "", sample_offset: int | None = None
    ) -> tuple[str | None, int]:
        entry = Played(f"STREAM FILE {file}")
        self.played.append(entry)
        try:
            digit, entry.endpos = await self.session.stream_file(file, escape_digits)
        except Exception as exc:
            entry.error = repr(exc)
            raise
        return digit, entry.endpos

    async def say_number(
        self, number: int, escape_digits: str = "", gender: str | None = None
    ) -> str | None:
        self.played.append(Played(f"SAY NUMBER {number}"))
        return await self.session.say_number(number, escape_digits, gender)


@dataclass
class Visits:
    by_call: dict[str, Recorder] = field(default_factory=dict)
    done: dict[str, asyncio.Event] = field(default_factory=dict)

    def finished(self, call_id: str) -> asyncio.Event:
        return self.done.setdefault(call_id, asyncio.Event())


async def channel_variable(ami: AmiClient, channel: str, name: str) -> str | None:
    return (await ami.action("Getvar", Channel=channel, Variable=name)).get("Value")


@pytest.fixture
async def ami(pbx: PbxUnderTest) -> AsyncIterator[AmiClient]:
    async with AmiClient(pbx.ami_settings) as client:
        await ensure_acd_dialplan(client)
        yield client


async def test_chinese_and_english_callers_hear_their_own_language(
    pbx: PbxUnderTest, ami: AmiClient, hold_prompts: PbxPrompts
) -> None:
    tag = run_tag()
    family = f"hotline-acd-test-{tag}"
    queue = Queue(
        id=f"announce-{tag}",
        skills={"credit_card": 1},
        prior_handle_s=HANDLE_S,
        announcements=AnnouncementPolicy(every_s=30, first_after_s=1),
    )
    changed = asyncio.Event()  # the ACD published something
    acd = AcdService(
        config([queue], [agent_def(AGENT, {"credit_card": 5, "language_zh": 5, "language_en": 5})]),
        ami_acd_pbx(ami, agent_family=family),
        publish=lambda event: changed.set(),
    )
    await acd.start()
    voice = AnnounceVoice(hold_prompts.asterisk)
    handler = announce_handler(acd, say_number=voice.say_number, prompt=voice.prompt)
    visits = Visits()

    async def acd_announce(session: AgiSession) -> None:
        recorder = visits.by_call.setdefault(session.env.uniqueid, Recorder(session))
        try:
            await handler(recorder)
        finally:
            visits.finished(session.env.uniqueid).set()

    server = AgiServer(
        AgiSettings.model_validate({"port": 0, "idle_timeout_s": 10}),
        {"acd-announce": acd_announce},
    )
    await server.start()
    agent = f"agent{AGENT}"
    first, english, chinese = (f"{who}-{tag}" for who in ("first", "en", "zh"))
    try:
        async with CallWatch(ami) as watch:
            # The agent talks to a first caller: the next two wait, with a finite estimate.
            await set_agent(ami, AGENT, ring=0, talk=40)
            await acd.login(agent)
            await place_call(ami, first, queue.id, language="zh")
            await watch.wait_offers(1)
            async with asyncio.timeout(10):  # the ACD learns of the answer from its events
                while acd.agent(agent).state is not AgentState.ON_CALL:
                    changed.clear()
                    await changed.wait()
            agi = f"agi://127.0.0.1:{server.port}"
            await place_call(ami, english, queue.id, language="en", announce_agi=agi)
            await watch.wait_held(english)
            await place_call(ami, chinese, queue.id, language="zh", announce_agi=agi)
            await watch.wait_held(chinese)
            en_id, zh_id = watch.call_ids[english], watch.call_ids[chinese]
            async with asyncio.timeout(20):
                await visits.finished(en_id).wait()
                await visits.finished(zh_id).wait()
            # Read back on the live channels, back on hold after the visit.
            statuses = {
                (call_id, name): await channel_variable(ami, call_id, name)
                for call_id in (en_id, zh_id)
                for name in ("AGISTATUS", "HOTLINE_ANNOUNCE_EVERY")
            }
    finally:
        await hang_up(ami, f"-{tag}@hotline-acd-test")
        await ami.action("Setvar", Variable=f"AGENT{AGENT}_RING", Value="")
        await ami.action("Setvar", Variable=f"AGENT{AGENT}_TALK", Value="")
        await ami.action("DBDelTree", check=False, Family=family)
        await server.stop()
        await acd.stop()

    def heard(call_id: str) -> list[str]:
        prefix = f"STREAM FILE {hold_prompts.asterisk}/"
        return [p.command.removeprefix(prefix) for p in visits.by_call[call_id].played]

    # English caller, next in line: 45 s → "You are next. Your estimated wait is less than one
    # minute."
    assert heard(en_id) == ["en/hold-you-are-next", "en/hold-estimated-wait", "en/hold-less-than",
                            "en/say/n1", "en/hold-minute"]  # fmt: skip
    # Chinese caller, second: 90 s → "您前面还有一位客户在等候。预计等候时间两分钟。"
    assert heard(zh_id) == [
        "zh/hold-there-are", "zh/say/n1", "zh/hold-callers-ahead",
        "zh/hold-estimated-wait", "zh/say/liang", "zh/hold-minutes",
    ]  # fmt: skip
    # Every file exists inside the PBX root, and Asterisk played each to its end (no -1).
    for call_id in (en_id, zh_id):
        for played in visits.by_call[call_id].played:
            file = played.command.removeprefix(f"STREAM FILE {hold_prompts.asterisk}/")
            assert (hold_prompts.host / f"{file}.wav").is_file(), file
            assert played.error == "" and played.endpos is not None, played
            with wave.open(str(hold_prompts.host / f"{file}.wav")) as audio:
                assert played.endpos >= 0.9 * audio.getnframes(), played  # played to the end
        assert statuses[(call_id, "AGISTATUS")] == "SUCCESS", statuses
        assert statuses[(call_id, "HOTLINE_ANNOUNCE_EVERY")] == "30", statuses
    assert server.stats.failed == 0, server.stats
