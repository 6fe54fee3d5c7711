"""What the IVR needs from outside, as Protocols; ``hotline`` implements them.

- ``AgiChannel``: the caller's FastAGI session (``cti.agi.AgiSession`` fits it);
- ``EventSink``: where engine events go (the bus, the log);
- ``RecordingControl``: mutes the call recording around sensitive digits;
- ``WebhookPort``: HTTP webhooks of ``action`` nodes (``hotline.ivr.webhook``).

``CallInfo`` is the call these ports are told about. The IVR never imports the concrete
session, server, HTTP client or settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from cti.agi.environment import AgiEnvironment
from ivr.actions import ActionValues
from ivr.commands import Event
from ivr.model import Webhook


@dataclass(frozen=True)
class CallInfo:
    uniqueid: str
    channel: str
    did: str
    caller: str
    hotline: str = ""
    config_version: str = ""
    product: str = ""
    caller_name: str = ""  # the caller id name, when the network sent one


class AgiChannel(Protocol):
    """What the runner uses of ``cti.agi.AgiSession`` (a fake implements it in unit tests)."""

    env: AgiEnvironment

    @property
    def args(self) -> dict[str, str]: ...

    async def answer(self) -> None: ...

    async def stream_file(
        self, file: str, escape_digits: str = "", sample_offset: int | None = None
    ) -> tuple[str | None, int]: ...

    async def get_data(
        self, file: str, timeout_ms: int | None = None, max_digits: int | None = None
    ) -> tuple[str, bool]: ...

    async def say_digits(self, digits: str, escape_digits: str = "") -> str | None: ...

    async def say_number(
        self, number: int, escape_digits: str = "", gender: str | None = None
    ) -> str | None: ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def get_variable(self, name: str) -> str | None: ...

    async def exec(self, application: str, *args: str) -> int: ...


class EventSink(Protocol):
    """Receives every engine event of every call. Must not block: queue, store elsewhere."""

    def __call__(self, call: CallInfo, event: Event) -> None: ...


class RecordingControl(Protocol):
    """Mutes the call recording while sensitive digits are typed (MixMonitorMute)."""

    async def set_muted(self, call: CallInfo, muted: bool) -> None: ...


class WebhookPort(Protocol):
    """Calls an action node's webhook; every failure is ``ivr.actions.ActionError``."""

    async def call(
        self, webhook: Webhook, action: str, params: Mapping[str, str], timeout_s: float
    ) -> ActionValues: ...
