"""The sans-IO FastAGI codec, fed real and realistic transcripts in every chunking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.agi.codec import (
    MAX_COMMAND_BYTES,
    NEED_DATA,
    AgiConnection,
    ConnectionClosed,
    EnvironmentReceived,
    Event,
    HangupReceived,
    NeedData,
    ReplyReceived,
    State,
    format_command,
    parse_reply,
    quote_arg,
    split_args,
)
from cti.agi.environment import script_from_request, split_script
from cti.agi.errors import (
    AgiError,
    AgiInvalidArgument,
    AgiLocalProtocolError,
    AgiProtocolError,
    AgiReply,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "agi"
TRANSCRIPTS = sorted(FIXTURES.glob("*.json"))

MEMORY_FAILURE = "503 result=-2 Memory allocation failure"
ENV = b"agi_network_script: ivr\nagi_channel: Local/1@x;2\n\n"


def drive(stream: bytes, chunk: int) -> list[Event]:
    """Feed ``stream`` in ``chunk``-sized pieces, keeping one command in flight as a server does."""
    conn = AgiConnection()
    events: list[Event] = []
    pieces = [stream[i : i + chunk] for i in range(0, len(stream), chunk)] + [b""]
    for piece in pieces:
        conn.receive_data(piece)
        while True:
            if conn.state is State.IDLE:
                conn.send_command(["NOOP"])
            event = conn.next_event()
            if isinstance(event, NeedData):
                break
            events.append(event)
    return events


def state_of(conn: AgiConnection) -> State:
    return conn.state  # a call, so that mypy does not keep a narrowed state across events


def describe(event: Event) -> list[Any]:
    """Comparable form of an event, in the fixtures' vocabulary."""
    if isinstance(event, EnvironmentReceived):
        env = event.env
        return [
            "env",
            {
                "channel": env.channel,
                "uniqueid": env.uniqueid,
                "callerid": env.callerid,
                "calleridname": env.calleridname,
                "context": env.context,
                "extension": env.extension,
                "priority": env.priority,
                "language": env.language,
                "script": env.script,
                "query": env.query,
                "args": env.args,
            },
        ]
    if isinstance(event, ReplyReceived):
        reply = event.reply
        described: dict[str, Any] = {"code": reply.code}
        if reply.result is not None:
            described["result"] = reply.result
        if reply.data is not None:
            described["data"] = reply.data
        if reply.fields:
            described["fields"] = reply.fields
        if reply.text:
            described["text"] = reply.text
        return ["reply", described]
    if isinstance(event, HangupReceived):
        return ["hangup", {}]
    assert isinstance(event, ConnectionClosed)
    return ["closed", {}]


def load(path: Path) -> tuple[bytes, list[list[Any]]]:
    data = json.loads(path.read_text())
    return "".join(data["from_asterisk"]).encode(), data["expected"]


# ---------------------------------------------------------------------------- transcripts


def test_there_are_transcripts() -> None:
    assert any(p.name.startswith("synthetic") for p in TRANSCRIPTS)


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=lambda p: p.stem)
@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 1 << 20])
def test_transcript_in_any_chunking(path: Path, chunk: int) -> None:
    stream, expected = load(path)
    events = drive(stream, chunk)
    for got, want in zip(events, expected, strict=True):
        kind, fields = describe(got)
        assert kind == want[0]
        # A recorded transcript pins what it knows; extra keys in our description are fine.
        assert {k: v for k, v in fields.items() if k in want[1]} == want[1]


def test_environment_keeps_every_raw_line() -> None:
    stream, _ = load(FIXTURES / "synthetic_ivr_session.json")
    event = drive(stream, 1 << 20)[0]
    assert isinstance(event, EnvironmentReceived)
    assert event.env.raw["accountcode"] == ""
    assert event.env.raw["threadid"] == "140245623416512"
    assert event.env.request == "agi://127.0.0.1:14573/ivr?did=95555&lang=zh"


# ---------------------------------------------------------------------------- environment


@pytest.mark.parametrize(
    ("network_script", "script", "query"),
    [
        ("ivr", "ivr", {}),
        ("ivr?did=95555&lang=zh", "ivr", {"did": "95555", "lang": "zh"}),
        ("ivr/main?x=a%20b&y=%E4%B8%AD&empty=", "ivr/main", {"x": "a b", "y": "中", "empty": ""}),
        ("/ivr/?a=1&a=2", "ivr", {"a": "2"}),
        ("my%20script", "my script", {}),
        ("", "", {}),
    ],
)
def test_split_script(network_script: str, script: str, query: dict[str, str]) -> None:
    assert split_script(network_script) == (script, query)


def test_script_from_request() -> None:
    assert script_from_request("agi://127.0.0.1:4573/ivr?x=1") == ("ivr", {"x": "1"})
    assert script_from_request("agi://h/hold") == ("hold", {})


def test_request_used_when_network_script_missing() -> None:
    conn = AgiConnection()
    conn.receive_data(b"agi_request: agi://127.0.0.1:4573/queue?pos=3\n\n")
    event = conn.next_event()
    assert isinstance(event, EnvironmentReceived)
    assert (event.env.script, event.env.query) == ("queue", {"pos": "3"})


def test_args_are_ordered_numerically() -> None:
    lines = "".join(f"agi_arg_{i}: a{i}\n" for i in (10, 2, 1, 3, 4, 5, 6, 7, 8, 9, 11))
    conn = AgiConnection()
    conn.receive_data(lines.encode() + b"\n")
    event = conn.next_event()
    assert isinstance(event, EnvironmentReceived)
    assert event.env.args == [f"a{i}" for i in range(1, 12)]


def test_crlf_environment_is_tolerated() -> None:
    conn = AgiConnection()
    conn.receive_data(b"agi_network_script: ivr\r\nagi_channel: SIP/1\r\n\r\n")
    event = conn.next_event()
    assert isinstance(event, EnvironmentReceived)
    assert (event.env.script, event.env.channel) == ("ivr", "SIP/1")


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\n",
        b"agi_network_script ivr\n\n",
        b"\x00\xff\xfe garbage\n",
    ],
)
def test_garbage_environment_is_a_protocol_error(garbage: bytes) -> None:
    conn = AgiConnection()
    conn.receive_data(garbage)
    with pytest.raises(AgiProtocolError):
        conn.next_event()


def test_too_many_environment_lines() -> None:
    conn = AgiConnection(max_env_lines=10)
    conn.receive_data(b"".join(b"agi_x%d: y\n" % i for i in range(11)) + b"\n")
    with pytest.raises(AgiProtocolError):
        conn.next_event()


def test_eof_before_anything_is_a_clean_close() -> None:
    conn = AgiConnection()
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)
    assert conn.next_event() is NEED_DATA


def test_eof_inside_the_environment_is_a_protocol_error() -> None:
    conn = AgiConnection()
    conn.receive_data(b"agi_channel: x\n")
    conn.receive_data(b"")
    with pytest.raises(AgiProtocolError):
        conn.next_event()


# ---------------------------------------------------------------------------- replies


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("200 result=0", AgiReply(200, "0", raw="200 result=0")),
        ("200 result=-1", AgiReply(200, "-1", raw="200 result=-1")),
        ("200 result= (timeout)", AgiReply(200, "", "timeout", raw="200 result= (timeout)")),
        ("200 result=12 (timeout)", AgiReply(200, "12", "timeout", raw="200 result=12 (timeout)")),
        ("200 result=*9#", AgiReply(200, "*9#", raw="200 result=*9#")),
        (
            "200 result=1 (dtmf) endpos=8000",
            AgiReply(200, "1", "dtmf", {"endpos": "8000"}, raw="200 result=1 (dtmf) endpos=8000"),
        ),
        (
            "200 result=-1 (hangup) endpos=0",
            AgiReply(200, "-1", "hangup", {"endpos": "0"}, raw="200 result=-1 (hangup) endpos=0"),
        ),
        (
            "200 result=1 (a (b) c)",
            AgiReply(200, "1", "a (b) c", raw="200 result=1 (a (b) c)"),
        ),
        ("200 result=1 ()", AgiReply(200, "1", "", raw="200 result=1 ()")),
        (
            "200 result=0 Gosub complete",
            AgiReply(200, "0", text="Gosub complete", raw="200 result=0 Gosub complete"),
        ),
        (
            "100 result=0 Trying...",
            AgiReply(100, "0", text="Trying...", raw="100 result=0 Trying..."),
        ),
        (
            "510 Invalid or unknown command",
            AgiReply(510, text="Invalid or unknown command", raw="510 Invalid or unknown command"),
        ),
        (
            MEMORY_FAILURE,
            AgiReply(503, "-2", text="Memory allocation failure", raw=MEMORY_FAILURE),
        ),
    ],
)
def test_parse_reply(line: str, expected: AgiReply) -> None:
    assert parse_reply(line) == expected


def test_reply_accessors() -> None:
    assert parse_reply("200 result=0 endpos=123").endpos == 123
    assert parse_reply("200 result=0").endpos == 0
    assert parse_reply("200 result=-1").result_int == -1
    with pytest.raises(AgiProtocolError):
        _ = parse_reply("200 result= (timeout)").result_int
    with pytest.raises(AgiProtocolError):
        _ = parse_reply("200 result=0 endpos=x").endpos


@pytest.mark.parametrize("line", ["", "20", "abc result=0", "2000 result=0", "200result=0"])
def test_malformed_reply(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        parse_reply(line)


def _awaiting() -> AgiConnection:
    conn = AgiConnection()
    conn.receive_data(ENV)
    assert isinstance(conn.next_event(), EnvironmentReceived)
    conn.send_command(["GET", "DATA", "x"])
    return conn


def test_hangup_before_the_reply() -> None:
    conn = _awaiting()
    conn.receive_data(b"HANGUP\n200 result=-1\n")
    assert isinstance(conn.next_event(), HangupReceived)
    assert state_of(conn) is State.AWAITING_REPLY
    event = conn.next_event()
    assert isinstance(event, ReplyReceived) and event.reply.result == "-1"
    assert state_of(conn) is State.IDLE


def test_hangup_between_commands() -> None:
    conn = _awaiting()
    conn.receive_data(b"200 result=0\nHANGUP\n")
    assert isinstance(conn.next_event(), ReplyReceived)
    assert isinstance(conn.next_event(), HangupReceived)
    assert conn.state is State.IDLE


def test_usage_end_glued_to_the_last_usage_line() -> None:
    conn = _awaiting()
    conn.receive_data(
        b"520-Invalid command syntax.  Proper usage follows:\n"
        b"Usage: GET DATA <file>\nReturns digits.520 End of proper usage.\n"
    )
    event = conn.next_event()
    assert isinstance(event, ReplyReceived)
    assert event.reply.code == 520
    assert event.reply.text == "Usage: GET DATA <file>\nReturns digits."


def test_single_line_520() -> None:
    conn = _awaiting()
    conn.receive_data(b"520 Invalid command syntax.  Proper usage not available.\n")
    event = conn.next_event()
    assert isinstance(event, ReplyReceived) and event.reply.code == 520


def test_trying_is_skipped() -> None:
    conn = _awaiting()
    conn.receive_data(b"100 result=0 Trying...\n200 result=0\n")
    event = conn.next_event()
    assert isinstance(event, ReplyReceived) and event.reply.code == 200


def test_unsolicited_reply_is_a_protocol_error() -> None:
    conn = AgiConnection()
    conn.receive_data(ENV + b"200 result=0\n")
    assert isinstance(conn.next_event(), EnvironmentReceived)
    with pytest.raises(AgiProtocolError):
        conn.next_event()


def test_line_length_is_bounded_even_without_newline() -> None:
    conn = AgiConnection(max_line_bytes=100)
    conn.receive_data(b"agi_x: " + b"y" * 200)
    with pytest.raises(AgiProtocolError):
        conn.next_event()
    conn = AgiConnection(max_line_bytes=100)
    conn.receive_data(ENV)
    conn.next_event()
    conn.send_command(["NOOP"])
    conn.receive_data(b"200 result=1 (" + b"v" * 200 + b")\n")
    with pytest.raises(AgiProtocolError):
        conn.next_event()


def test_eof_in_the_middle_of_a_reply_line() -> None:
    conn = _awaiting()
    conn.receive_data(b"200 resu")
    conn.receive_data(b"")
    with pytest.raises(AgiProtocolError):
        conn.next_event()


def test_eof_while_awaiting_a_reply_is_a_close() -> None:
    conn = _awaiting()
    conn.receive_data(b"")
    assert isinstance(conn.next_event(), ConnectionClosed)


# ---------------------------------------------------------------------------- commands


def test_one_command_at_a_time() -> None:
    conn = _awaiting()
    with pytest.raises(AgiLocalProtocolError):
        conn.send_command(["NOOP"])
    fresh = AgiConnection()
    with pytest.raises(AgiLocalProtocolError):
        fresh.send_command(["NOOP"])  # before the environment


@pytest.mark.parametrize(
    ("words", "line"),
    [
        (["ANSWER"], b"ANSWER\n"),
        (["STREAM", "FILE", "beep", ""], b'STREAM FILE beep ""\n'),
        (["SET", "VARIABLE", "X", "a b"], b'SET VARIABLE X "a b"\n'),
        (["VERBOSE", 'say "hi"', "1"], b'VERBOSE "say \\"hi\\"" 1\n'),
        (["SET", "VARIABLE", "P", "C:\\dir"], b'SET VARIABLE P "C:\\\\dir"\n'),
        (["SET", "VARIABLE", "N", "中文"], "SET VARIABLE N 中文\n".encode()),
    ],
)
def test_format_command(words: list[str], line: bytes) -> None:
    assert format_command(words) == line
    assert split_args(line.decode()[:-1]) == words


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x00b", "\n"])
def test_cr_lf_nul_are_rejected(bad: str) -> None:
    with pytest.raises(AgiInvalidArgument):
        format_command(["VERBOSE", bad])
    with pytest.raises(ValueError):  # also a ValueError, for callers that think in those
        quote_arg(bad)


def test_command_size_limits() -> None:
    with pytest.raises(AgiInvalidArgument):
        format_command(["VERBOSE", "x" * MAX_COMMAND_BYTES])
    with pytest.raises(AgiInvalidArgument):
        format_command(["NOOP"] * 200)
    with pytest.raises(AgiInvalidArgument):
        format_command([])


def test_split_args_matches_res_agi_corner_cases() -> None:
    # Transcribed behaviour of parse_args: quotes may start mid-word, backslash drops itself.
    assert split_args('ab"c d"e') == ["abc de"]
    assert split_args("a\\ b") == ["a b"]
    assert split_args("  a \t b  ") == ["a", "b"]
    assert split_args('""') == [""]
    assert split_args('"" ""') == ["", ""]
    assert split_args("\\q") == ["q"]


# ---------------------------------------------------------------------------- properties

_arg = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"),
    max_size=40,
)


@given(st.lists(_arg, min_size=1, max_size=20))
def test_quoting_round_trips_through_parse_args(words: list[str]) -> None:
    line = format_command(words)
    assert split_args(line.decode("utf-8")[:-1]) == words


@settings(max_examples=300)
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=50))
def test_arbitrary_bytes_raise_only_typed_errors(data: bytes, chunk: int) -> None:
    for prefix in (b"", ENV):  # both as an environment and as replies
        conn = AgiConnection(max_line_bytes=256)
        try:
            for i in range(0, len(prefix + data), chunk):
                conn.receive_data((prefix + data)[i : i + chunk])
                while True:
                    if conn.state is State.IDLE:
                        conn.send_command(["NOOP"])
                    if conn.next_event() is NEED_DATA:
                        break
            conn.receive_data(b"")
            while conn.next_event() is not NEED_DATA:
                pass
        except AgiError:
            pass


@given(st.lists(st.sampled_from(["200 result=0", "HANGUP", "200 result=1 (x)"]), max_size=8))
def test_replies_survive_any_split(lines: list[str]) -> None:
    stream = ENV + "".join(line + "\n" for line in lines).encode()
    whole = [describe(e) for e in drive(stream, 1 << 20)]
    for chunk in (1, 3):
        assert [describe(e) for e in drive(stream, chunk)] == whole
