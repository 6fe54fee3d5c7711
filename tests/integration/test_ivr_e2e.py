"""The IVR end to end on the real Asterisk: Local-channel callers press keys with SendDTMF
(``hotline call``'s own code places them), our FastAGI server runs the routes of
``hotline.routes`` over the test bank (``tests/fixtures/ivr/e2e``), prompts are synthesised and
copied into the test PBX. What each test checks comes from the PBX (AMI user events, channel
variables read with Getvar while the caller holds) and from the engine's events and logs.

Timing: keys pressed while a prompt that cannot be interrupted plays are lost, as for a person;
the test bank's prompts are about a second long, keys start 2 s after the answer and groups are
1.5 s apart, which lands each group inside the menu that waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from cti.agi.server import AgiServer
from cti.settings import IvrSettings
from hotline.ivr.call import CallReport, CallScript, place_test_call
from hotline.routes import build_ivr
from ivr.commands import ActionFinished, DigitsEntered, Event, RetriesExhausted, SessionEnded
from ivr.config import load_config
from ivr.ports import CallInfo
from ivr.prompts import EspeakSynthesizer, build_prompts, wanted_audio
from ivr.runner import log_event
from tests.integration.pbx import PbxUnderTest

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ivr" / "e2e"
DID = "96001"
CARD = "4111111111111111"
OPEN = datetime(2025, 9, 10, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai
NIGHT = datetime(2025, 9, 10, 15, 0, tzinfo=UTC)  # Wednesday 23:00 in Shanghai
HOLIDAY = datetime(2025, 10, 1, 2, 0, tzinfo=UTC)  # National Day, 10:00 in Shanghai
# The webhook answers by caller number.
WEBHOOK_OK, WEBHOOK_GARBAGE, WEBHOOK_HANGS = "13900000001", "13900000002", "13900000003"


@pytest.fixture(scope="module")
def built_prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config, problems = load_config(FIXTURE)
    assert config is not None, problems
    out = tmp_path_factory.mktemp("prompts")
    synthesizer = EspeakSynthesizer(IvrSettings.model_validate({}).voices)
    build_prompts(wanted_audio(config), out, synthesizer, synthesizer.fingerprint)
    return out


@dataclass
class Ivr:
    pbx: PbxUnderTest
    server: AgiServer
    now: datetime = OPEN
    events: list[tuple[CallInfo, Event]] = field(default_factory=list)

    def sink(self, call: CallInfo, event: Event) -> None:
        self.events.append((call, event))
        log_event(call, event)  # the production sink too: its lines are checked for secrets

    def of(self, report: CallReport) -> list[Event]:
        return [event for call, event in self.events if call.uniqueid == report.uniqueid]

    async def ended(self, report: CallReport, within_s: float = 5.0) -> str:
        deadline = asyncio.get_running_loop().time() + within_s
        while asyncio.get_running_loop().time() < deadline:
            for event in self.of(report):
                if isinstance(event, SessionEnded):
                    return event.outcome
            await asyncio.sleep(0.05)
        raise AssertionError(f"no SessionEnded for {report}")

    async def call(self, keys: str, **kw: Any) -> CallReport:
        call = CallScript(DID, keys, delay_s=2.0, gap_s=1.5, timeout_s=40.0)
        return await place_test_call(self.pbx.ami_settings, replace(call, **kw))


async def _webhook(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))  # fmt: skip
    caller = orjson.loads(await reader.readexactly(length))["params"]["caller"]
    if caller == WEBHOOK_HANGS:
        await asyncio.sleep(20)
    body = b"<html>oops" if caller == WEBHOOK_GARBAGE else b'{"balance": "1234.50"}'
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
    await writer.drain()
    writer.close()


@pytest.fixture
async def ivr(pbx: PbxUnderTest, tmp_path: Path, built_prompts: Path) -> AsyncIterator[Ivr]:
    await asyncio.to_thread(pbx.cli, "channel request hangup all")
    webhook = await asyncio.start_server(_webhook, "127.0.0.1", 0)
    config_dir = tmp_path / "config"
    shutil.copytree(FIXTURE, config_dir)
    flow = config_dir / "ivr" / "bank.yaml"
    port = webhook.sockets[0].getsockname()[1]
    flow.write_text(flow.read_text().replace("@@WEBHOOK@@", f"127.0.0.1:{port}"))
    await asyncio.to_thread(pbx.pbx.sync_prompts, built_prompts)
    settings = pbx.settings.model_copy(update={"config_dir": config_dir})
    holder: list[Ivr] = []
    parts = build_ivr(settings, events=lambda c, e: holder[0].sink(c, e),
                      clock=lambda: holder[0].now)  # fmt: skip
    assert parts.store.current() is not None, parts.store.config_status().last_error
    server = AgiServer(settings.agi, parts.routes)
    holder.append(Ivr(pbx, server))
    async with webhook, server:
        yield holder[0]
        webhook.close()
    await parts.webhooks.aclose()
    assert server.stats.failed == 0, server.stats


async def test_a_chinese_and_an_english_caller_at_once(
    ivr: Ivr, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    zh, en = await asyncio.gather(ivr.call(f"1 1 {CARD}#"), ivr.call("2 0"))
    # Chinese caller: lost card, number masked, reference read out, lost-card queue.
    assert zh.outcome == "queue", zh.lines()
    assert zh.route_event == "HotlineHold"
    assert zh.path == ["bank.welcome", "bank.language", "bank.main", "bank.card", "bank.report",
                       "bank.say_reference", "bank.lost_card_agent"]  # fmt: skip
    variables = zh.channel_variables  # read from the live channel while the caller holds
    assert variables["HOTLINE_QUEUE"] == "lost-card"
    assert variables["HOTLINE_SKILLS"] == "language_zh:1,lost_card:2"
    assert variables["HOTLINE_PRIORITY"] == "70"
    assert (zh.priority, zh.language, zh.queue) == ("70", "zh", "lost-card")  # the IVR's event
    assert variables["HOTLINE_LANGUAGE"] == "zh"
    assert "card_number=" in variables["HOTLINE_IVR_DATA"] and CARD not in str(variables)
    entered = [e for e in ivr.of(zh) if isinstance(e, DigitsEntered)]
    assert [e.digits for e in entered] == ["1", "1", "************1111"]
    # English caller: language skill en, general queue.
    assert en.outcome == "queue", en.lines()
    assert en.channel_variables["HOTLINE_SKILLS"] == "language_en:1,general:1"
    assert en.language == "en" and en.queue == "general"
    # The card number is nowhere in clear: not in events, not in any log record.
    assert CARD not in repr(ivr.events)
    assert any("DigitsEntered" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        assert CARD not in record.getMessage()
        assert CARD not in repr(record.__dict__)


async def test_invalid_key_then_timeout_leaves_for_the_destination(ivr: Ivr) -> None:
    report = await ivr.call("1 7")
    assert report.outcome == "hangup", report.lines()
    assert report.path == ["bank.welcome", "bank.language", "bank.main", "bank.bye"]
    names = [type(event).__name__ for event in ivr.of(report)]
    assert names.count("DigitsEntered") == 2
    assert "InputTimedOut" in names
    retries = [e for e in ivr.of(report) if isinstance(e, RetriesExhausted)]
    assert [(e.cause, e.destination) for e in retries] == [("timeout", "bank.bye")]


@pytest.mark.parametrize("now", [NIGHT, HOLIDAY], ids=["night", "holiday"])
async def test_closed_message_out_of_hours(ivr: Ivr, now: datetime) -> None:
    ivr.now = now
    report = await ivr.call("")
    assert report.outcome == "closed", report.lines()
    assert report.route == "hangup"
    assert report.path == []
    names = [type(event).__name__ for event in ivr.of(report)]
    assert names == ["CallStarted", "OutOfHours", "PlaybackFinished", "SessionEnded"]


async def test_webhook_answer_garbage_and_hang(ivr: Ivr) -> None:
    started = asyncio.get_running_loop().time()
    ok, garbage, hangs = await asyncio.gather(
        *(ivr.call("1 2", caller=caller) for caller in (WEBHOOK_OK, WEBHOOK_GARBAGE, WEBHOOK_HANGS))
    )
    for report in (ok, garbage, hangs):
        assert report.outcome == "queue" and report.queue == "general", report.lines()
    assert "bank.say_balance" in ok.path and "bank.sorry" not in ok.path
    assert "bank.sorry" in garbage.path and "bank.sorry" in hangs.path
    results = {
        report.uniqueid: next(e for e in ivr.of(report) if isinstance(e, ActionFinished))
        for report in (ok, garbage, hangs)
    }
    assert results[ok.uniqueid].ok
    assert "not JSON" in results[garbage.uniqueid].error
    assert "timed out after 1.5 s" in results[hangs.uniqueid].error
    # The hanging webhook cost its caller 1.5 s, not the others a thing.
    assert asyncio.get_running_loop().time() - started < 30


async def test_hangup_mid_node_and_a_dtmf_flood_do_not_disturb_another_call(ivr: Ivr) -> None:
    flood = "1234567890" * 10  # 100 keys: about 13 s at Asterisk's shortest tones
    leaver, flooder, normal = await asyncio.gather(
        ivr.call("1 1 4111", hold_s=0.5),  # hangs up while typing the card number
        ivr.call(f"1 1 {flood}", tone_ms=40, gap_s=2.0),
        ivr.call("2 0"),
    )
    assert not leaver.outcome and "ended before the IVR finished" in leaver.problem
    assert await ivr.ended(leaver) == "abandoned"
    assert "CallerLeft" in [type(event).__name__ for event in ivr.of(leaver)]
    assert flooder.outcome == "queue", flooder.lines()
    digits = [e.digits for e in ivr.of(flooder) if isinstance(e, DigitsEntered)]
    assert len(digits) >= 3 and all(len(shown) <= 19 for shown in digits)
    assert normal.outcome == "queue" and normal.queue == "general", normal.lines()
