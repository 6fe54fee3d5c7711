"""A scripted AMI link: records every action and answers from a table (``AmiActions``); its
events are what the test publishes on ``hub`` (``AmiFeedSource``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cti.ami.errors import AmiActionError
from cti.ami.link import Headers, ListResult
from cti.ami.messages import Event, Response
from cti.ami.subscriptions import EventFilter, EventHub, Overflow, Subscription
from hotline.acd.ami_feed import AmiFeedSource

Answer = Callable[[str, dict[str, str | Sequence[str]]], Response | None]


def ok(**headers: str) -> Response:
    return Response.from_pairs([("Response", "Success"), *headers.items()])


def error(message: str) -> Response:
    return Response.from_pairs([("Response", "Error"), ("Message", message)])


def channel(uniqueid: str, name: str, context: str = "", bridge: str = "") -> Event:
    """A CoreShowChannel list entry."""
    return Event.from_pairs(
        [("Event", "CoreShowChannel"), ("Channel", name), ("Uniqueid", uniqueid),
         ("Context", context), ("Exten", "s"), ("ChannelStateDesc", "Up"), ("BridgeId", bridge)]
    )  # fmt: skip


class ScriptedAmi:
    """``answer(name, fields)`` returns the Response (None: Success); ``channels`` is what
    CoreShowChannels lists."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.actions: list[tuple[str, dict[str, str | Sequence[str]]]] = []
        self.channels: list[Event] = []
        self.hub = EventHub()
        self._answer = answer or (lambda name, fields: None)

    def subscribe(
        self,
        selector: EventFilter = None,
        *,
        maxsize: int = 1000,
        overflow: Overflow = "drop_oldest",
    ) -> Subscription:
        return self.hub.subscribe(selector, maxsize=maxsize, overflow=overflow)

    async def action(
        self,
        name: str,
        headers: Headers | None = None,
        /,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors AmiClient.action
        check: bool = True,
        **fields: str | Sequence[str],
    ) -> Response:
        sent = {**(headers or {}), **fields}
        self.actions.append((name, sent))
        response = self._answer(name, sent) or ok()
        if check and response.response == "Error":
            raise AmiActionError(response)
        return response

    async def list_action(
        self,
        name: str,
        headers: Headers | None = None,
        /,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - mirrors AmiClient.list_action
        check: bool = True,
        **fields: str | Sequence[str],
    ) -> ListResult:
        self.actions.append((name, {**(headers or {}), **fields}))
        return ListResult(ok(), list(self.channels) if name == "CoreShowChannels" else [], None)


# Checked by mypy: the fake has what the call-control port (``AmiActions``) and the ACD's feed
# use of the AMI client.
_: type[AmiFeedSource] = ScriptedAmi
