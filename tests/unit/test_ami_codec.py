"""AMI codec: real Asterisk 22 captures in any chunking, property tests, hostile input."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.ami import (
    AmiCodec,
    AmiFrameTooLarge,
    AmiHeaderError,
    AmiProtocolError,
    Event,
    Greeting,
    Message,
    Response,
    encode_action,
)

CAPTURE = Path(__file__).parent.parent / "fixtures" / "ami" / "login_and_call.raw"
RAW = CAPTURE.read_bytes()


def feed(data: bytes, chunk: int, codec: AmiCodec | None = None) -> list[Message]:
    codec = codec or AmiCodec()
    out: list[Message] = []
    for start in range(0, len(data), chunk):
        codec.receive_data(data[start : start + chunk])
        while (message := codec.next_message()) is not None:
            out.append(message)
    codec.receive_data(b"")
    while (message := codec.next_message()) is not None:
        out.append(message)
    assert codec.eof
    return out


def feed_chunks(chunks: list[bytes], **kwargs: object) -> list[Message]:
    codec = AmiCodec(**kwargs)  # type: ignore[arg-type]
    out: list[Message] = []
    for chunk in chunks:
        codec.receive_data(chunk)
        while (message := codec.next_message()) is not None:
            out.append(message)
    return out


def frame(*lines: str, end: str = "\r\n") -> bytes:
    return (end.join(lines) + end + end).encode()


# -- the real capture ------------------------------------------------------------------------

WHOLE = feed(RAW, len(RAW))


def test_capture_parses_completely() -> None:
    assert WHOLE[0] == Greeting("Asterisk Call Manager", "11.0.0")
    events = [m for m in WHOLE if isinstance(m, Event)]
    assert len(events) == RAW.count(b"\r\nEvent: ") + RAW.startswith(b"Event: ")
    assert {"Newchannel", "Hangup", "QueueCallerJoin", "VarSet", "Newexten"} <= {
        e.name for e in events
    }
    codec = AmiCodec()
    feed(RAW, 4096, codec)
    assert codec.malformed_lines == 0 and codec.decode_errors == 0


@pytest.mark.parametrize("chunk", [1, 2, 7, 113, 4096])
def test_capture_same_messages_in_any_chunk_size(chunk: int) -> None:
    assert feed(RAW, chunk) == WHOLE


def test_capture_login_command_and_lists() -> None:
    responses = [m for m in WHOLE if isinstance(m, Response)]
    challenge, login = responses[0], responses[1]
    assert challenge.get("challenge") and challenge.action_id == "rec-1"
    assert login.message == "Authentication accepted"
    version = next(r for r in responses if r.action_id == "rec-3")
    assert version.output[0].startswith("Asterisk 22.")
    queue_status = next(r for r in responses if r.action_id == "rec-5")
    assert queue_status.event_list == "start"
    complete = [m for m in WHOLE if isinstance(m, Event) and m.event_list == "Complete"]
    assert {e.name for e in complete} >= {"QueueStatusComplete", "CoreShowChannelsComplete"}


def test_capture_chinese_caller_name_intact() -> None:
    names = {m.get("CallerIDName") for m in WHOLE if isinstance(m, Event)}
    assert "张伟" in names


def test_ignore_events_drops_by_name() -> None:
    codec = AmiCodec(ignore_events={"VarSet", "Newexten"})
    kept = feed(RAW, 113, codec)
    dropped = [m for m in WHOLE if isinstance(m, Event) and m.name in {"VarSet", "Newexten"}]
    assert codec.events_ignored == len(dropped) > 0
    assert kept == [m for m in WHOLE if not (isinstance(m, Event) and m in dropped)]


# -- headers -----------------------------------------------------------------------------------


def test_duplicate_headers_and_case_insensitive_lookup() -> None:
    data = b"Asterisk Call Manager/11.0.0\r\n" + frame(
        "Event: Status",
        "Channel: Local/1@x-0001;1",
        "Variable: A=1",
        "ChanVariable: B=2",
        "Variable: C=3",
        "ActionID: 42",
    )
    (_greeting, event) = feed(data, 3)
    assert isinstance(event, Event)
    assert event.name == "Status" and event.action_id == "42"
    assert event.get("variable") == "A=1" and event["VARIABLE"] == "A=1"
    assert event.get_all("Variable") == ["A=1", "C=3"]
    assert "chanvariable" in event and "Missing" not in event
    assert event.pairs[2] == ("Variable", "A=1")
    with pytest.raises(KeyError):
        event["Missing"]


def test_bare_lf_frames_and_no_space_after_colon() -> None:
    data = b"Asterisk Call Manager/2.10.0\n" + frame("Event: A", "X:1", "Y: 2", end="\n")
    data += frame("Response: Success", "ActionID: 7")
    messages = feed(data, 1)
    assert messages[1] == Event.from_pairs([("Event", "A"), ("X", "1"), ("Y", "2")])
    assert isinstance(messages[2], Response) and messages[2].action_id == "7"


def test_legacy_follows_body_with_blank_lines() -> None:
    body = "Name   Status\n\nsip/1  OK\n--END COMMAND--"
    data = (
        b"Asterisk Call Manager/1.1\r\n"
        + (
            "Response: Follows\r\nPrivilege: Command\r\nActionID: 9\r\n" + body + "\r\n\r\n"
        ).encode()
    )
    data += frame("Event: After", "K: v")
    for chunk in (1, 5, len(data)):
        _, response, after = feed(data, chunk)
        assert isinstance(response, Response)
        assert response.response == "Follows" and response.action_id == "9"
        assert response.output == ("Name   Status", "", "sip/1  OK")
        assert isinstance(after, Event) and after.name == "After"


def test_asterisk_22_command_output_lines() -> None:
    data = frame(
        "Response: Success",
        "ActionID: 1",
        "Message: Command output follows",
        "Output: line one",
        "Output: ",
        "Output: line: three",
    )
    (response,) = feed_chunks([data], expect_greeting=False)
    assert isinstance(response, Response)
    assert response.output == ("line one", "", "line: three")


# -- hostile input ----------------------------------------------------------------------------


def test_garbage_lines_are_counted_not_fatal() -> None:
    codec = AmiCodec(expect_greeting=False)
    data = frame("Event: Hangup", "this is garbage", "Cause: 16") + frame("just noise")
    messages = feed(data, 4, codec)
    assert messages == [Event.from_pairs([("Event", "Hangup"), ("Cause", "16")])]
    assert codec.malformed_lines == 2
    assert codec.last_malformed_line == "just noise"


def test_invalid_utf8_is_replaced_and_counted() -> None:
    codec = AmiCodec(expect_greeting=False)
    data = b"Event: X\r\nName: \xff\xfeabc\r\n\r\n" + frame("Event: Y")
    first, second = feed(data, 3, codec)
    assert isinstance(first, Event) and first.get("Name") == "\ufffd\ufffdabc"
    assert isinstance(second, Event) and second.name == "Y"
    assert codec.decode_errors == 1


def test_multibyte_character_split_between_reads() -> None:
    data = frame("Event: Newchannel", "CallerIDName: 张伟")
    cut = data.index("张".encode()) + 1  # inside the 3-byte sequence
    (event,) = feed_chunks(
        [data[:cut], data[cut : cut + 2], data[cut + 2 :]], expect_greeting=False
    )
    assert isinstance(event, Event) and event.get("CallerIDName") == "张伟"


def test_endless_frame_raises_frame_too_large_and_stays_broken() -> None:
    codec = AmiCodec(max_frame_bytes=1024, expect_greeting=False)
    codec.receive_data(frame("Event: Ok"))
    codec.receive_data(b"Event: Huge\r\nData: " + b"x" * 2000)
    first = codec.next_message()
    assert isinstance(first, Event) and first.name == "Ok"  # what came before is delivered
    with pytest.raises(AmiFrameTooLarge):
        codec.next_message()
    with pytest.raises(AmiFrameTooLarge):
        codec.next_message()


@pytest.mark.parametrize("chunk", [1, 100, 5000])
def test_oversized_complete_frame_same_verdict_in_any_chunking(chunk: int) -> None:
    data = frame("Event: Huge", "Data: " + "x" * 1100) + frame("Event: Next")
    codec = AmiCodec(max_frame_bytes=1024, expect_greeting=False)
    with pytest.raises(AmiFrameTooLarge):
        feed(data, chunk, codec)


def test_bad_greeting_is_a_protocol_error() -> None:
    codec = AmiCodec()
    codec.receive_data(b"HTTP/1.1 400 Bad Request\r\n")
    codec.receive_data(b"Event: x\r\n")
    with pytest.raises(AmiProtocolError):
        codec.next_message()
    other = AmiCodec()
    other.receive_data(b"Event: Hello\r\n\r\n")
    with pytest.raises(AmiProtocolError):
        other.next_message()


def test_data_after_eof_is_an_error() -> None:
    codec = AmiCodec()
    codec.receive_data(b"")
    with pytest.raises(AmiProtocolError):
        codec.receive_data(b"x")


# -- encoding ---------------------------------------------------------------------------------


def test_encode_action_repeats_sequence_headers() -> None:
    data = encode_action("Originate", "a-1", {"Channel": "Local/1@x", "Variable": ["A=1", "B=张"]})
    assert (
        data
        == (
            "Action: Originate\r\nActionID: a-1\r\nChannel: Local/1@x\r\n"
            "Variable: A=1\r\nVariable: B=张\r\n\r\n"
        ).encode()
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Channel": "x\r\nAction: Hangup"},
        {"Channel": "x\n"},
        {"Bad\rName": "x"},
        {"Bad: Name": "x"},
        {"": "x"},
        {"ActionID": "mine"},
        {"Variable": ["ok", "bad\r\n"]},
    ],
)
def test_encode_action_rejects_injection(headers: dict[str, str | list[str]]) -> None:
    with pytest.raises(AmiHeaderError):
        encode_action("Ping", "1", headers)
    with pytest.raises(AmiHeaderError):
        encode_action("Ping\r\n", "1")


# -- properties -------------------------------------------------------------------------------

KEY = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
    min_size=1,
    max_size=12,
)
VALUE = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"),
    max_size=30,
).map(str.strip)
HEADERS = st.lists(st.tuples(KEY, VALUE), max_size=8)


def encode_event(name: str, pairs: list[tuple[str, str]]) -> bytes:
    """An encoder for tests: what Asterisk writes for an event."""
    lines = [f"Event: {name}", *(f"{key}: {value}" for key, value in pairs)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(st.tuples(KEY, HEADERS), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_round_trip_in_arbitrary_chunks(
    events: list[tuple[str, list[tuple[str, str]]]], cuts: list[int]
) -> None:
    data = b"".join(encode_event(name, pairs) for name, pairs in events)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    messages = feed_chunks(chunks, expect_greeting=False)
    assert messages == feed_chunks([data], expect_greeting=False)
    assert [(m.name, m.pairs[1:]) for m in messages if isinstance(m, Event)] == [
        (name, pairs) for name, pairs in events
    ]


@settings(max_examples=300)
@given(
    data=st.binary(max_size=3000),
    chunk=st.integers(min_value=1, max_value=400),
    greeting=st.booleans(),
)
def test_arbitrary_bytes_raise_only_typed_errors(data: bytes, chunk: int, greeting: bool) -> None:
    codec = AmiCodec(max_frame_bytes=1024, expect_greeting=greeting)
    with contextlib.suppress(AmiProtocolError):  # the only exception allowed out
        feed(data, chunk, codec)


@settings(max_examples=200)
@given(
    data=st.lists(
        st.sampled_from(
            [b"Event: A\r\n", b"K: v\r\n", b"\r\n", b"\n", b"x", b"\xe5\xbc", b"\xa0", b":"]
        ),
        max_size=60,
    ).map(b"".join),
    chunk=st.integers(min_value=1, max_value=50),
)
def test_ami_like_noise_gives_same_messages_in_any_chunking(data: bytes, chunk: int) -> None:
    whole = AmiCodec(expect_greeting=False)
    pieces = AmiCodec(expect_greeting=False)
    assert feed(data, chunk, pieces) == feed(data, max(1, len(data)), whole)
    assert whole.malformed_lines == pieces.malformed_lines
