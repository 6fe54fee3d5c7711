"""A node kind the code does not know is an error, never a silent no-op.

Every ``match`` over ``ivr.model.Node`` (``ivr.config.node_targets``, the engine's visit and
input handling) ends with ``case _: assert_never(node)``. Adding a class to the ``Node`` union
without handling it there is a mypy error at each of those lines ("Argument 1 to
"assert_never" has incompatible type "SurveyNode"; expected "Never""); at run time, a node
that slips past the types raises ``AssertionError`` instead of doing nothing. The same holds
for ``Command`` in the runner and the simulator (``Step`` | ``Terminal``).
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pytest

from ivr.commands import (
    EXPECTED_OUTCOME,
    ActionResult,
    CommandDone,
    Digits,
    Outcome,
    PlaybackDone,
)
from ivr.config import IvrConfig, load_config, node_targets
from ivr.engine import MenuSession
from ivr.model import Node, Strict

MINIMAL = Path(__file__).resolve().parents[1] / "fixtures" / "ivr" / "minimal"
THURSDAY_10AM = datetime(2025, 10, 9, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
UNREACHABLE = "Expected code to be unreachable"  # typing.assert_never's message
ANSWERS: dict[type, Outcome] = {
    PlaybackDone: PlaybackDone(),
    CommandDone: CommandDone(),
    ActionResult: ActionResult(values={}),
    Digits: Digits(None),
}


class SurveyNode(Strict):
    """A kind added to the YAML schema but handled nowhere."""

    kind: Literal["survey"]
    next: str


def minimal() -> IvrConfig:
    config, problems = load_config(MINIMAL)
    assert config is not None, problems
    return config


def test_the_node_union_is_what_the_matches_cover() -> None:
    (union, *_) = typing.get_args(Node)  # Annotated[Union, discriminator]
    kinds = {
        typing.get_args(cls.model_fields["kind"].annotation)[0] for cls in typing.get_args(union)
    }
    assert kinds == {"menu", "collect", "language", "action", "condition", "play", "say", "set",
                     "goto", "transfer", "queue", "hangup"}  # fmt: skip
    for node in minimal().nodes.values():  # every kind the fixture uses is handled
        list(node_targets(node))


def test_an_unknown_kind_in_node_targets_fails_loudly() -> None:
    with pytest.raises(AssertionError, match=UNREACHABLE):
        list(node_targets(SurveyNode(kind="survey", next="x")))  # type: ignore[arg-type]


def test_an_unknown_kind_in_the_engine_fails_loudly() -> None:
    config = minimal()
    hotline = config.hotline("demo")
    survey: Any = SurveyNode(kind="survey", next="x")  # past the types: mypy would refuse it
    config = dataclasses.replace(config, nodes={**config.nodes, hotline.entry: survey})
    session = MenuSession(config, hotline, "13912345678", THURSDAY_10AM)
    command = session.start()
    with pytest.raises(AssertionError, match=UNREACHABLE):
        for _ in range(50):  # the preamble (language, VIP lookup) up to the entry node
            expected = EXPECTED_OUTCOME[type(command)]
            assert expected is not None, f"the session ended at {command!r}"
            command = session.send(ANSWERS[expected])
