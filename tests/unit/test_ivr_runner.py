"""The AGI runner over a scripted fake channel: what it asks Asterisk, what it writes for the
dialplan and the ACD, and how it survives hangups, missing audio, floods and its own bugs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cti.agi.environment import AgiEnvironment
from cti.agi.errors import AgiHangup
from cti.variables import (
    HOTLINE_IVR_DATA,
    HOTLINE_IVR_OUTCOME,
    HOTLINE_LANGUAGE,
    HOTLINE_PRIORITY,
    HOTLINE_QUEUE,
    HOTLINE_ROUTE,
    HOTLINE_SKILLS,
)
from ivr.actions import ActionError, ActionValues, demo_registry
from ivr.commands import ActionFinished, DigitsEntered, Event
from ivr.model import Webhook
from ivr.ports import CallInfo
from ivr.reload import ConfigStore
from ivr.runner import IvrRunner, redact_digits
from tests.fakes.ivr import OPEN, FakeChannel, Recorder

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ivr" / "e2e"
CARD = "4111111111111111"
NIGHT = datetime(2025, 9, 10, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai


class FakeWebhooks:
    def __init__(self, answer: ActionValues | ActionError) -> None:
        self.answer = answer
        self.calls: list[Mapping[str, str]] = []

    async def call(
        self, webhook: Webhook, action: str, params: Mapping[str, str], timeout_s: float
    ) -> ActionValues:
        self.calls.append(params)
        if isinstance(self.answer, ActionError):
            raise self.answer
        return self.answer


@pytest.fixture(scope="module")
def store() -> ConfigStore:
    store = ConfigStore(FIXTURE, action_names=demo_registry().names())
    assert store.load(), store.config_status().last_error
    return store


def runner(store: ConfigStore, recorder: Recorder, now: datetime = OPEN, **kw: Any) -> IvrRunner:
    return IvrRunner(store.current, demo_registry(), prompts_dir="/hotline/test/prompts/",
                     events=recorder, recording=recorder, clock=lambda: now, **kw)  # fmt: skip


async def test_english_path_leaves_to_the_queue_with_variables_for_the_acd(
    store: ConfigStore,
) -> None:
    recorder = Recorder()
    channel = FakeChannel(keys=["2", "0"])
    await runner(store, recorder)(channel)
    assert recorder.outcome() == "queue"
    assert channel.variables[HOTLINE_QUEUE] == "general"
    assert channel.variables[HOTLINE_SKILLS] == "language_en:1,general:1"
    assert channel.variables[HOTLINE_LANGUAGE] == "en"
    assert channel.variables[HOTLINE_PRIORITY] == "0"
    assert channel.variables["CHANNEL(language)"] == "en"
    # The route is written last but one: the user event tells observers it is all there.
    assert channel.log[-2] == ("set", HOTLINE_ROUTE, "hold")
    assert channel.log[-1][:3] == ("exec", "UserEvent", "HotlineIvr")
    assert "IvrSkills: language_en:1 general:1" in channel.log[-1]
    assert "IvrPriority: 0" in channel.log[-1]
    assert channel.played()[0] == "bank-welcome"
    assert ("stream", "/hotline/test/prompts/zh/bank-welcome") in channel.log
    get_data = [entry for entry in channel.log if entry[0] == "get_data"]
    assert get_data[0] == ("get_data", "/hotline/test/prompts/zh/bank-language", "4000", "1")
    assert get_data[1] == ("get_data", "/hotline/test/prompts/en/bank-main", "2500", "1")


async def test_lost_card_is_masked_everywhere_and_recording_muted(
    store: ConfigStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder = Recorder()
    channel = FakeChannel(keys=["1", "1", CARD])
    await IvrRunner(
        store.current, demo_registry(), prompts_dir="/p", recording=recorder, clock=lambda: OPEN
    )(channel)  # the default sink: the log
    assert channel.variables[HOTLINE_QUEUE] == "lost-card"
    assert channel.variables[HOTLINE_SKILLS] == "language_zh:1,lost_card:2"
    assert channel.variables[HOTLINE_PRIORITY] == "70"
    assert CARD not in channel.variables[HOTLINE_IVR_DATA]
    assert (
        "card_number=%2A%2A%2A%2A%2A%2A%2A%2A%2A%2A%2A%2A1111"
        in channel.variables[HOTLINE_IVR_DATA]
    )
    assert recorder.mutes == [True, False]
    # The reference number is spoken from the built vocabulary, digit by digit.
    said = [name for name in channel.played() if name.startswith("n")]
    assert len(said) == 8
    assert any("ivr DigitsEntered" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert CARD not in record.getMessage()
        assert CARD not in repr(record.__dict__)


async def test_timeouts_and_invalid_keys_retry_then_leave(store: ConfigStore) -> None:
    recorder = Recorder()
    channel = FakeChannel(keys=["1", "7"])  # then silence
    await runner(store, recorder)(channel)
    assert recorder.outcome() == "hangup"
    assert channel.variables[HOTLINE_ROUTE] == "hangup"
    # One retry in all: the invalid key used it, so the timeout leaves (no timeout prompt).
    assert channel.played() == ["bank-welcome", "bank-invalid", "bank-bye"]
    names = [type(event).__name__ for _, event in recorder.events]
    assert names.count("InputTimedOut") == 1
    assert "RetriesExhausted" in names


async def test_closed_out_of_hours(store: ConfigStore) -> None:
    recorder = Recorder()
    channel = FakeChannel()
    await runner(store, recorder, now=NIGHT)(channel)
    assert recorder.outcome() == "closed"
    assert channel.played() == ["bank-closed"]
    assert channel.variables[HOTLINE_ROUTE] == "hangup"
    assert channel.variables[HOTLINE_IVR_OUTCOME] == "closed"


async def test_caller_hanging_up_mid_node_ends_cleanly(store: ConfigStore) -> None:
    recorder = Recorder()
    channel = FakeChannel(keys=["1", "1", AgiHangup("HANGUP received")])
    await runner(store, recorder)(channel)  # no exception
    assert recorder.outcome() == "abandoned"
    assert HOTLINE_ROUTE not in channel.variables
    assert recorder.mutes == [True, False]  # unmuted even though the caller left


async def test_a_flood_of_digits_is_rejected_gracefully(store: ConfigStore) -> None:
    recorder = Recorder()
    flood = "7" * 1000
    channel = FakeChannel(keys=[flood, flood, flood, flood])
    await runner(store, recorder)(channel)
    assert recorder.outcome() == "queue"
    assert channel.variables[HOTLINE_QUEUE] == "general"
    shown = [e.digits for _, e in recorder.events if isinstance(e, DigitsEntered)]
    assert shown and all(len(digits) < 60 for digits in shown)


async def test_missing_audio_is_skipped_not_fatal(store: ConfigStore) -> None:
    recorder = Recorder()
    channel = FakeChannel(keys=["2", "0"], missing={"bank-welcome", "bank-language"})
    await runner(store, recorder)(channel)
    assert recorder.outcome() == "queue"
    # The language menu still reads keys, without its prompt.
    assert ("get_data", "", "4000", "1") in channel.log


async def test_number_vocabulary_missing_falls_back_to_asterisk_sounds(store: ConfigStore) -> None:
    recorder = Recorder()
    channel = FakeChannel(keys=["2", "2"], missing={"/say/n1"})
    webhooks = FakeWebhooks({"balance": "1234.50"})
    await runner(store, recorder, webhooks=webhooks)(channel)
    assert recorder.outcome() == "queue"
    assert ("say_number", "1234") in channel.log
    assert ("say_digits", "50") in channel.log
    assert webhooks.calls == [{"caller": "13912345678"}]


async def test_money_is_spoken_from_the_vocabulary(store: ConfigStore) -> None:
    recorder = Recorder()
    channel = FakeChannel(keys=["1", "2"])
    await runner(store, recorder, webhooks=FakeWebhooks({"balance": "12.05"}))(channel)
    said = [entry[1].split("/say/")[1] for entry in channel.log if "/say/" in entry[-1]]
    assert said == ["shi", "n2", "yuan", "n0", "n5", "fen"]  # 十二元零五分


async def test_webhook_error_takes_the_error_branch(store: ConfigStore) -> None:
    recorder = Recorder()
    channel = FakeChannel(keys=["2", "2"])
    error = ActionError("webhook answered something that is not JSON")
    await runner(store, recorder, webhooks=FakeWebhooks(error))(channel)
    assert "bank-sorry" in channel.played()
    assert channel.variables[HOTLINE_QUEUE] == "general"


async def test_without_webhooks_configured_the_error_branch_runs(store: ConfigStore) -> None:
    recorder = Recorder()
    channel = FakeChannel(keys=["2", "2"])
    await runner(store, recorder)(channel)
    finished = [e for _, e in recorder.events if isinstance(e, ActionFinished)]
    assert finished and not finished[0].ok


async def test_unknown_did_and_missing_config_fall_back_to_the_native_queue(
    store: ConfigStore,
) -> None:
    channel = FakeChannel()
    channel.env = AgiEnvironment(uniqueid="u-2", extension="12345")
    recorder = Recorder()
    await runner(store, recorder)(channel)
    assert channel.variables == {HOTLINE_ROUTE: "fallback"}
    empty = IvrRunner(lambda: None, demo_registry(), prompts_dir="/p", events=recorder)
    channel = FakeChannel()
    await empty(channel)
    assert channel.variables == {HOTLINE_ROUTE: "fallback"}
    assert recorder.events == []


async def test_a_runner_failure_sends_the_caller_to_the_native_queue(
    store: ConfigStore, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    channel = FakeChannel(keys=["2", "0"], fail_on_variable=HOTLINE_QUEUE)
    await runner(store, recorder)(channel)
    assert channel.variables[HOTLINE_ROUTE] == "fallback"
    assert any("caller goes to the native queue" in r.getMessage() for r in caplog.records)


async def test_a_broken_event_sink_does_not_end_the_call(store: ConfigStore) -> None:
    def broken(call: CallInfo, event: Event) -> None:
        raise RuntimeError("storage down")

    channel = FakeChannel(keys=["2", "0"])
    await IvrRunner(store.current, demo_registry(), prompts_dir="/p", events=broken,
                    clock=lambda: OPEN)(channel)  # fmt: skip
    assert channel.variables[HOTLINE_ROUTE] == "hold"


async def test_preset_language_from_the_channel(store: ConfigStore) -> None:
    recorder = Recorder()
    channel = FakeChannel(keys=["2", "0"])
    channel.variables["HOTLINE_CALLER_LANGUAGE"] = "en"
    await runner(store, recorder)(channel)
    started = recorder.events[0][1]
    assert asdict(started)["language"] == "en"


async def test_the_caller_id_name_reaches_the_events_when_the_network_sent_one(
    store: ConfigStore,
) -> None:
    named, nameless = Recorder(), Recorder()
    await runner(store, named)(FakeChannel(keys=["2", "0"], calleridname="ZHANG SAN"))
    await runner(store, nameless)(FakeChannel(keys=["2", "0"]))
    assert {call.caller_name for call, _ in named.events} == {"ZHANG SAN"}
    assert {call.caller_name for call, _ in nameless.events} == {""}


def test_redact_digits_masks_long_numbers_in_free_text() -> None:
    assert redact_digits(f"bad card {CARD} at 12:30") == "bad card ************1111 at 12:30"
    assert redact_digits("account 1234567 missing") == "account ******* missing"
