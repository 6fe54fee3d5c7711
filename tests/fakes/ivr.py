"""Fakes of the IVR's ports (``ivr.ports``): a scripted AGI channel and an event recorder,
shared by the runner and hot-reload tests; and an editable copy of the test bank's
configuration with its store."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cti.agi.environment import AgiEnvironment
from cti.agi.errors import AgiCommandFailed, AgiReply, AgiUsageError
from ivr.actions import demo_registry
from ivr.commands import Event, SessionEnded
from ivr.ports import CallInfo
from ivr.reload import ConfigStore

OPEN = datetime(2025, 9, 10, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai: open hours
TEST_BANK = Path(__file__).parents[1] / "fixtures" / "ivr" / "e2e"


def editable_test_bank(tmp_path: Path) -> Path:
    """A copy of the test bank's configuration that a test may edit."""
    target = tmp_path / "config"
    shutil.copytree(TEST_BANK, target)
    return target


def config_store(directory: Path) -> ConfigStore:
    return ConfigStore(directory, action_names=demo_registry().names())


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@dataclass
class FakeChannel:
    """Answers GET DATA from a script of key groups (or exceptions); records every command."""

    keys: list[str | BaseException] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)  # files that "do not exist"
    callerid: str = "13912345678"
    calleridname: str = "unknown"  # what Asterisk says when the network sent no name
    fail_on_variable: str | None = None
    env: AgiEnvironment = field(init=False)
    log: list[tuple[str, ...]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.env = AgiEnvironment(channel="Local/96001@hotline-entry-1;2", uniqueid="u-1",
                                  callerid=self.callerid, calleridname=self.calleridname,
                                  extension="96001")  # fmt: skip

    @property
    def args(self) -> dict[str, str]:
        return {"did": self.env.extension}

    def _fail(self, command: str) -> AgiCommandFailed:
        return AgiCommandFailed(command, AgiReply(200, "-1", raw="200 result=-1"))

    async def answer(self) -> None:
        self.log.append(("answer",))

    async def stream_file(
        self, file: str, escape_digits: str = "", sample_offset: int | None = None
    ) -> tuple[str | None, int]:
        self.log.append(("stream", file))
        if any(file.endswith(name) for name in self.missing):
            raise self._fail("STREAM FILE")
        return None, 100

    async def get_data(
        self, file: str, timeout_ms: int | None = None, max_digits: int | None = None
    ) -> tuple[str, bool]:
        self.log.append(("get_data", file, str(timeout_ms), str(max_digits)))
        if file and any(file.endswith(name) for name in self.missing):
            raise self._fail("GET DATA")
        if not self.keys:
            return "", True
        keys = self.keys.pop(0)
        if isinstance(keys, BaseException):
            raise keys
        return keys, False

    async def say_digits(self, digits: str, escape_digits: str = "") -> str | None:
        self.log.append(("say_digits", digits))
        return None

    async def say_number(
        self, number: int, escape_digits: str = "", gender: str | None = None
    ) -> str | None:
        self.log.append(("say_number", str(number)))
        return None

    async def set_variable(self, name: str, value: str) -> None:
        if name == self.fail_on_variable:
            raise AgiUsageError(AgiReply(520, text="usage"))
        self.log.append(("set", name, value))
        self.variables[name] = value

    async def get_variable(self, name: str) -> str | None:
        return self.variables.get(name)

    async def exec(self, application: str, *args: str) -> int:
        self.log.append(("exec", application, *args))
        return 0

    def played(self) -> list[str]:
        return [entry[1].rsplit("/", 1)[-1] for entry in self.log if entry[0] == "stream"]


@dataclass
class Recorder:
    events: list[tuple[CallInfo, Event]] = field(default_factory=list)
    mutes: list[bool] = field(default_factory=list)

    def __call__(self, call: CallInfo, event: Event) -> None:
        self.events.append((call, event))

    async def set_muted(self, call: CallInfo, muted: bool) -> None:
        self.mutes.append(muted)

    def outcome(self) -> str:
        ended = [event for _, event in self.events if isinstance(event, SessionEnded)]
        assert len(ended) == 1, self.events
        return ended[0].outcome


if TYPE_CHECKING:  # mypy: the fakes implement the IVR's ports
    from ivr.ports import AgiChannel, EventSink, RecordingControl

    def _fits_ports(channel: FakeChannel, recorder: Recorder) -> None:
        _: tuple[AgiChannel, EventSink, RecordingControl] = (channel, recorder, recorder)
