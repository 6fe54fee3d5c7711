"""Fakes of recordings' ports (``recordings.ports``): the PBX's recording actions
(``RecordingPbx``) and a clock that never sleeps (``Clock``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from cti.call_control import CallControlError
from recordings.ports import Clock, RecordingPbx


@dataclass
class FakeRecordingPbx:
    """Keeps what was asked: ``("start", channel, file)`` and ``("mute", channel, muted)``;
    ``refuse`` makes every later action fail as the PBX would."""

    calls: list[tuple[str, str, str | bool]] = field(default_factory=list)
    refuse: CallControlError | None = None

    async def start_recording(self, channel: str, file: str) -> None:
        self._check()
        self.calls.append(("start", channel, file))

    async def mute_recording(self, channel: str, muted: bool) -> None:
        self._check()
        self.calls.append(("mute", channel, muted))

    def _check(self) -> None:
        if self.refuse is not None:
            raise self.refuse


@dataclass
class FakeClock:
    """Wall time stands at ``wall``; ``sleep`` moves the monotonic time on at once."""

    wall: datetime
    mono: float = 0.0
    slept: list[float] = field(default_factory=list)

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.mono += seconds
        await asyncio.sleep(0)  # still a suspension point, as the real one


# Checked by mypy: each fake has every method of its port.
_: tuple[type[RecordingPbx], type[Clock]] = (FakeRecordingPbx, FakeClock)
