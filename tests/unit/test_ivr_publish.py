"""IVR engine events reach the domain bus as typed events: the call's id and channel, masked
digits, the path walked at the end, every other step as an ``IvrNode`` with its detail."""

from __future__ import annotations

from typing import Any

from cti.events import CallStarted, DomainBus, IvrEnded, IvrInput, IvrNode, decode, encode
from ivr import commands
from ivr.ports import CallInfo
from ivr.publish import publishing_sink, to_domain_event

CALL = CallInfo("1700000000.1", "Local/95555-1;2", "95555", "13800138000", "basic-banking", "v1",
                product="bank", caller_name="ZHANG SAN")  # fmt: skip
ENVELOPE: dict[str, Any] = {"call_id": "1700000000.1", "hotline": "basic-banking",
                            "config_version": "v1"}  # fmt: skip


def test_each_engine_event_becomes_its_typed_domain_event() -> None:
    started = to_domain_event(
        CALL, commands.CallStarted(1, "", "basic-banking", "95555", "13800138000", "zh", False)
    )
    assert started == CallStarted(
        **ENVELOPE, seq=1, node="", did="95555", caller="13800138000", caller_name="ZHANG SAN",
        product="bank", channel="Local/95555-1;2", language="zh", vip=False,
        ts=started.ts, mono=started.mono,
    )  # fmt: skip
    node = to_domain_event(CALL, commands.NodeEntered(2, "basic-banking.lost_card", "collect"))
    assert node == IvrNode(
        **ENVELOPE, seq=2, node="basic-banking.lost_card", event="NodeEntered",
        node_kind="collect", ts=node.ts, mono=node.mono,
    )  # fmt: skip
    keys = to_domain_event(
        CALL, commands.DigitsEntered(3, "basic-banking.lost_card", "************1111", True)
    )
    assert keys == IvrInput(**ENVELOPE, seq=3, node="basic-banking.lost_card",
                            digits="************1111", accepted=True, reason="",
                            ts=keys.ts, mono=keys.mono)  # fmt: skip


def test_the_end_carries_the_path_walked_and_the_language() -> None:
    path = ("basic-banking.welcome", "basic-banking.lost_card", "basic-banking.to_queue")
    ended = to_domain_event(
        CALL, commands.SessionEnded(4, "basic-banking.to_queue", "queue", path, "en")
    )
    assert ended == IvrEnded(**ENVELOPE, seq=4, node="basic-banking.to_queue", outcome="queue",
                             path=path, language="en", ts=ended.ts, mono=ended.mono)  # fmt: skip
    # Stored as a list, read back as the same tuple.
    stored = encode(ended)
    assert stored.data["path"] == list(path)
    read = decode(stored.kind, stored.data, ts=stored.ts, mono=stored.mono, call_id=stored.call_id)
    assert read == ended


def test_other_steps_are_nodes_named_after_the_engine_event_with_their_detail() -> None:
    language = to_domain_event(CALL, commands.LanguageChosen(5, "bank.language", "en"))
    assert isinstance(language, IvrNode)
    assert (language.event, language.node) == ("LanguageChosen", "bank.language")
    assert language.node_kind is None
    assert dict(language.detail) == {"language": "en"}
    action = to_domain_event(CALL, commands.ActionFinished(6, "bank.balance", "balance", False,
                                                           "timed out"))  # fmt: skip
    assert isinstance(action, IvrNode)
    assert dict(action.detail) == {"action": "balance", "ok": False, "error": "timed out"}
    left = to_domain_event(CALL, commands.CallerLeft(7, "bank.main"))
    assert isinstance(left, IvrNode) and left.event == "CallerLeft" and not left.detail


def test_a_caller_without_a_name_has_none() -> None:
    nameless = CallInfo("c", "Local/x", "95555", "")
    started = to_domain_event(nameless, commands.CallStarted(1, "", "h", "95555", "", "zh", True))
    assert isinstance(started, CallStarted) and started.caller_name is None and started.vip


def test_the_sink_publishes_in_order_without_blocking() -> None:
    bus = DomainBus()
    seen = bus.subscribe()
    sink = publishing_sink(bus, also_log=False)
    sink(CALL, commands.CallStarted(1, "", "basic-banking", "95555", "13800138000", "zh", False))
    sink(CALL, commands.NodeEntered(2, "basic-banking.lost_card", "collect"))
    sink(CALL, commands.SessionEnded(3, "basic-banking.to_queue", "queue"))
    events = [seen.get_nowait() for _ in range(3)]
    assert [type(e) for e in events] == [CallStarted, IvrNode, IvrEnded]
    assert all(e is not None and e.call_id == "1700000000.1" for e in events)
