"""Table tests of the sans-IO menu session: menu + scripted outcomes → commands and events."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.commands import (
    ActionResult,
    CallAction,
    CallerHungUp,
    Closed,
    Collect,
    Command,
    CommandDone,
    Digits,
    DigitsEntered,
    Enqueue,
    Hangup,
    NodeEntered,
    Outcome,
    Play,
    PlaybackDone,
    SafetyStop,
    Say,
    SetVariable,
)
from ivr.config import IvrConfig, load_config
from ivr.engine import IllegalOutcome, MenuSession, State

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ivr"
SHANGHAI = ZoneInfo("Asia/Shanghai")
THURSDAY_10AM = datetime(2025, 10, 9, 10, 0, tzinfo=SHANGHAI)
NATIONAL_DAY = datetime(2025, 10, 1, 10, 0, tzinfo=SHANGHAI)
CARD = "4111111111111111"


def load(directory: Path = FIXTURES / "minimal") -> IvrConfig:
    config, problems = load_config(directory)
    assert config is not None, problems
    return config


@pytest.fixture(scope="module")
def config() -> IvrConfig:
    return load()


def session(config: IvrConfig, caller: str = "13912345678", now: datetime = THURSDAY_10AM,
            **kwargs: object) -> MenuSession:  # fmt: skip
    return MenuSession(config, config.hotline("demo"), caller, now, **kwargs)  # type: ignore[arg-type]


P, C, T = PlaybackDone(), CommandDone(), Digits(None)


def keys(value: str) -> Digits:
    return Digits(value)


def summary(command: Command) -> str:
    """A compact spelling of a command, so that a table row fits on a line."""
    match command:
        case Play():
            return f"play {command.prompt} {command.lang}"
        case Collect():
            secret = " sensitive" if command.sensitive else ""
            return f"collect {command.prompt} {command.min_digits}-{command.max_digits}{secret}"
        case SetVariable():
            return f"set {command.name}={command.value}"
        case Say():
            return f"say {command.value} as {command.say_as}"
        case CallAction():
            return f"action {command.name} {dict(command.params)}"
        case Enqueue():
            skills = ",".join(f"{k}:{v}" for k, v in sorted(command.skills.items()))
            return f"enqueue {command.queue} [{skills}] p{command.priority} {command.language}"
        case Hangup():
            return f"hangup ({command.reason})"
        case Closed():
            return f"closed {command.schedule}"
        case _:
            return repr(command)


def run(s: MenuSession, outcomes: list[Outcome]) -> list[str]:
    commands = [s.start()]
    for outcome in outcomes:
        commands.append(s.send(outcome))
    return [summary(command) for command in commands]


START = ["set CHANNEL(language)=zh", "play demo.welcome zh", "collect demo.language 1-1"]
START_OUTCOMES: list[Outcome] = [C, P]


TABLE: list[tuple[str, list[Outcome], list[str]]] = [
    (
        "chinese caller asks for an agent",
        [*START_OUTCOMES, keys("1"), C, keys("0")],
        [
            *START,
            "set CHANNEL(language)=zh",
            "collect demo.main 1-1",
            "enqueue general [general:2,language_zh:1] p0 zh",
        ],
    ),
    (
        "english caller asks for an agent",
        [*START_OUTCOMES, keys("2"), C, keys("0")],
        [
            *START,
            "set CHANNEL(language)=en",
            "collect demo.main 1-1",
            "enqueue general [general:2,language_en:1] p0 en",
        ],
    ),
    (
        "invalid key, then a valid one",
        [*START_OUTCOMES, keys("2"), C, keys("7"), P, keys("0")],
        [
            *START,
            "set CHANNEL(language)=en",
            "collect demo.main 1-1",
            "play demo.invalid en",
            "collect demo.main 1-1",
            "enqueue general [general:2,language_en:1] p0 en",
        ],
    ),
    (
        "silence until the retries run out goes to on_timeout",
        [*START_OUTCOMES, keys("1"), C, T, P, T, P, T, P],
        [
            *START,
            "set CHANNEL(language)=zh",
            "collect demo.main 1-1",
            "play demo.timeout zh",
            "collect demo.main 1-1",
            "play demo.timeout zh",
            "collect demo.main 1-1",
            "play demo.bye zh",
            "hangup (menu ended the call)",
        ],
    ),
    (
        "invalid keys until the retries run out go to on_invalid",
        [*START_OUTCOMES, keys("1"), C, keys("5"), P, keys("6"), P, keys("**")],
        [
            *START,
            "set CHANNEL(language)=zh",
            "collect demo.main 1-1",
            "play demo.invalid zh",
            "collect demo.main 1-1",
            "play demo.invalid zh",
            "collect demo.main 1-1",
            "enqueue general [general:2,language_zh:1] p0 zh",
        ],
    ),
    (
        "no language chosen keeps the default and goes on",
        [*START_OUTCOMES, T, T, keys("0")],
        [
            *START,
            "collect demo.language 1-1",
            "collect demo.main 1-1",
            "enqueue general [general:2,language_zh:1] p0 zh",
        ],
    ),
    (
        "lost card: card number, report, reference spoken",
        [
            *START_OUTCOMES,
            keys("1"),
            C,
            keys("1"),
            keys(CARD),
            ActionResult({"reference": "12345678"}),
            P,
            P,
            P,
        ],
        [
            *START,
            "set CHANNEL(language)=zh",
            "collect demo.main 1-1",
            "collect demo.card 13-19 sensitive",
            f"action report_lost_card {{'card_number': '{CARD}'}}",
            "play demo.reference zh",
            "say 12345678 as digits",
            "play demo.bye zh",
            "hangup (menu ended the call)",
        ],
    ),
    (
        "a card number failing Luhn twice goes to on_failure",
        [
            *START_OUTCOMES,
            keys("1"),
            C,
            keys("1"),
            keys("4111111111111112"),
            P,
            keys("4111111111111113"),
        ],
        [
            *START,
            "set CHANNEL(language)=zh",
            "collect demo.main 1-1",
            "collect demo.card 13-19 sensitive",
            "play demo.invalid zh",
            "collect demo.card 13-19 sensitive",
            "enqueue general [general:2,language_zh:1] p0 zh",
        ],
    ),
    (
        "an action error takes the error branch",
        [*START_OUTCOMES, keys("1"), C, keys("1"), keys(CARD), ActionResult(error="timeout")],
        [
            *START,
            "set CHANNEL(language)=zh",
            "collect demo.main 1-1",
            "collect demo.card 13-19 sensitive",
            f"action report_lost_card {{'card_number': '{CARD}'}}",
            "enqueue general [general:2,language_zh:1] p0 zh",
        ],
    ),
    (
        "an action returning garbage takes the error branch",
        [
            *START_OUTCOMES,
            keys("1"),
            C,
            keys("1"),
            keys(CARD),
            ActionResult({"reference": {"nested": ["x"]}}),
        ],
        [
            *START,
            "set CHANNEL(language)=zh",
            "collect demo.main 1-1",
            "collect demo.card 13-19 sensitive",
            f"action report_lost_card {{'card_number': '{CARD}'}}",
            "enqueue general [general:2,language_zh:1] p0 zh",
        ],
    ),
    (
        "a reference that cannot be spoken is skipped, not mumbled",
        [
            *START_OUTCOMES,
            keys("1"),
            C,
            keys("1"),
            keys(CARD),
            ActionResult({"reference": "n/a"}),
            P,
        ],
        [
            *START,
            "set CHANNEL(language)=zh",
            "collect demo.main 1-1",
            "collect demo.card 13-19 sensitive",
            f"action report_lost_card {{'card_number': '{CARD}'}}",
            "play demo.bye zh",
            "hangup (menu ended the call)",
        ],
    ),
    (
        "a non-VIP caller choosing the VIP option reaches the plain agent queue",
        [*START_OUTCOMES, keys("1"), C, keys("2")],
        [
            *START,
            "set CHANNEL(language)=zh",
            "collect demo.main 1-1",
            "enqueue general [general:2,language_zh:1] p0 zh",
        ],
    ),
]


@pytest.mark.parametrize(("name", "outcomes", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_table(config: IvrConfig, name: str, outcomes: list[Outcome], expected: list[str]) -> None:
    s = session(config)
    assert run(s, outcomes) == expected
    assert s.state is State.FINISHED


def test_vip_by_number_gets_priority_and_skill(config: IvrConfig) -> None:
    s = session(config, caller="13800000000")
    commands = run(s, [*START_OUTCOMES, keys("1"), C, keys("2")])
    assert commands[-1] == "enqueue general [general:2,language_zh:1,vip:1] p90 zh"
    plain = session(config, caller="13800000000")
    assert run(plain, [*START_OUTCOMES, keys("1"), C, keys("0")])[-1].endswith("p50 zh")


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        (THURSDAY_10AM, True),
        (datetime(2025, 10, 9, 2, 0, tzinfo=UTC), True),  # 10:00 in Shanghai
        (datetime(2025, 10, 9, 12, 30, tzinfo=UTC), False),  # 20:30 in Shanghai
        (NATIONAL_DAY, False),
        (datetime(2025, 10, 12, 10, 0, tzinfo=SHANGHAI), False),  # Sunday
        (datetime(2025, 10, 11, 10, 0, tzinfo=SHANGHAI), True),  # make-up day, 09-12
        (datetime(2025, 10, 11, 13, 0, tzinfo=SHANGHAI), False),
    ],
)
def test_business_hours_use_the_hotline_calendar(
    config: IvrConfig, now: datetime, open_: bool
) -> None:
    s = session(config, now=now)
    commands = run(s, [C, P])
    if open_:
        assert commands[1:] == ["play demo.welcome zh", "collect demo.language 1-1"]
    else:
        assert commands[1:] == ["play demo.closed zh", "closed office"]
        assert s.result is not None and s.result.outcome == "closed"


def test_caller_hanging_up_mid_collect_ends_the_session(config: IvrConfig) -> None:
    s = session(config)
    run(s, [*START_OUTCOMES, keys("1"), C, keys("1")])
    assert s.send(CallerHungUp()) == Hangup("caller hung up")
    assert s.result is not None
    assert s.result.outcome == "abandoned"
    assert s.result.path == ("demo.welcome", "demo.lang", "demo.main", "demo.card")
    with pytest.raises(IllegalOutcome):
        s.send(PlaybackDone())


def test_illegal_outcomes_are_errors_and_change_nothing(config: IvrConfig) -> None:
    s = session(config)
    with pytest.raises(IllegalOutcome):
        s.send(PlaybackDone())
    s.start()
    with pytest.raises(IllegalOutcome):
        s.send(Digits("1"))  # the outstanding command is SetVariable
    with pytest.raises(IllegalOutcome):
        s.start()
    assert summary(s.send(C)) == "play demo.welcome zh"
    with pytest.raises(IllegalOutcome):
        s.send(ActionResult({}))
    assert summary(s.send(P)) == "collect demo.language 1-1"


def test_no_command_after_a_terminal_one(config: IvrConfig) -> None:
    s = session(config, now=NATIONAL_DAY)
    run(s, [C, P])
    with pytest.raises(IllegalOutcome):
        s.send(PlaybackDone())


def test_sensitive_digits_are_masked_everywhere(config: IvrConfig) -> None:
    s = session(config)
    run(s, [*START_OUTCOMES, keys("1"), C, keys("1"), keys(CARD), ActionResult(error="down")])
    events = s.take_events()
    entered = [e for e in events if isinstance(e, DigitsEntered) and e.node == "demo.card"]
    assert [e.digits for e in entered] == ["************1111"]
    assert CARD not in repr(events)
    assert s.result is not None
    assert s.result.variables == {"card_number": "************1111"}
    assert s.take_events() == []


def test_every_node_visit_is_an_event(config: IvrConfig) -> None:
    s = session(config)
    run(s, [*START_OUTCOMES, keys("2"), C, keys("0")])
    events = s.take_events()
    visited = [(e.node, e.kind) for e in events if isinstance(e, NodeEntered)]
    assert visited == [("demo.welcome", "play"), ("demo.lang", "language"),
                       ("demo.main", "menu"), ("demo.agent", "queue")]  # fmt: skip
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


def test_a_thousand_digits_are_rejected_and_not_stored(config: IvrConfig) -> None:
    s = session(config)
    run(s, [*START_OUTCOMES, keys("1"), C, keys("1" * 1000), P, keys("1"), keys("4" * 1000)])
    events = s.take_events()
    assert all(len(repr(event)) < 300 for event in events)
    rejected = [e for e in events if isinstance(e, DigitsEntered) and not e.accepted]
    assert [e.reason for e in rejected] == ["too many digits", "too many digits"]
    assert rejected[0].digits == "*" * 32 + "…(1000 digits)"
    assert rejected[1].digits == "*" * 32 + "…(1000 digits)"


def test_naive_time_is_refused(config: IvrConfig) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        session(config, now=datetime(2025, 10, 9, 10, 0))


def auto_drive(s: MenuSession, answer: Digits = T, limit: int = 10_000) -> list[Command]:
    """Answer every command the dull way (silence, playback done) until the session ends."""
    command = s.start()
    commands = [command]
    while s.state is not State.FINISHED:
        assert len(commands) < limit, "the engine did not stop"
        match command:
            case Collect():
                outcome: Outcome = answer
            case CallAction():
                outcome = ActionResult(error="no")
            case SetVariable():
                outcome = C
            case _:
                outcome = P
        command = s.send(outcome)
        commands.append(command)
    return commands


def broken_copy(tmp_path: Path, old: str, new: str) -> IvrConfig:
    directory = tmp_path / "config"
    shutil.copytree(FIXTURES / "minimal", directory)
    flow = directory / "ivr" / "demo.yaml"
    assert old in flow.read_text()
    flow.write_text(flow.read_text().replace(old, new))
    return load(directory)


def test_a_loop_without_input_is_stopped_even_if_validation_was_skipped(tmp_path: Path) -> None:
    play = "  welcome:\n    kind: play\n    prompt: welcome\n    next: lang"
    config = broken_copy(tmp_path, play, "  welcome:\n    kind: goto\n    target: welcome")
    s = session(config)
    commands = auto_drive(s)
    assert summary(commands[-1]) == "enqueue general [language_zh:1] p0 zh"
    assert any(isinstance(e, SafetyStop) for e in s.take_events())


def test_a_silent_caller_in_a_self_repeating_menu_is_sent_to_an_agent(tmp_path: Path) -> None:
    config = broken_copy(tmp_path, "on_timeout: bye", "on_timeout: main")
    s = session(config)
    commands = auto_drive(s)
    assert summary(commands[-1]) == "enqueue general [language_zh:1] p0 zh"
    assert len(commands) < 200


def test_a_caller_looping_through_menus_is_capped(tmp_path: Path) -> None:
    config = broken_copy(tmp_path, '"9": bye', '"9": main')
    s = session(config)
    commands = auto_drive(s, answer=keys("9"))
    assert summary(commands[-1]).startswith("enqueue general")
    assert len(commands) < 2000


OUTCOME_STRATEGY = st.one_of(
    st.just(T),
    st.text(alphabet="0123456789*#", min_size=1, max_size=25).map(Digits),
    st.sampled_from([keys(CARD), keys("1"), keys("2"), keys("0")]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(OUTCOME_STRATEGY, max_size=40), st.booleans())
def test_any_caller_behaviour_ends_and_never_leaks_the_card(
    answers: list[Digits], english: bool
) -> None:
    config = load()
    s = session(config)
    command = s.start()
    script = iter(answers)
    for _ in range(500):
        if s.state is State.FINISHED:
            break
        match command:
            case Collect():
                outcome: Outcome = next(script, T)
            case CallAction():
                outcome = ActionResult({"reference": "12345678"})
            case SetVariable():
                outcome = C
            case _:
                outcome = P
        command = s.send(outcome)
    assert s.state is State.FINISHED
    assert s.result is not None
    assert CARD not in repr(s.take_events()) + repr(s.result)
