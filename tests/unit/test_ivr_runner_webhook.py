"""Webhooks against a real local HTTP server: answers, garbage, hangs, errors, floods."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from hotline.ivr.webhook import WebhookCaller
from ivr.actions import ActionError
from ivr.model import Webhook

Reply = Callable[[asyncio.StreamWriter], Awaitable[None]]


def _http(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n"
    return (head + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode() + body


REPLIES: dict[str, bytes | None] = {
    "/ok": _http("200 OK", b'{"balance": "1234.50", "currency": "CNY"}'),
    "/garbage": _http("200 OK", b"\x00\xffnot json at all", "text/plain"),
    "/array": _http("200 OK", b"[1, 2, 3]"),
    "/error": _http("500 Internal Server Error", b'{"error": "down"}'),
    "/huge": _http("200 OK", b'{"x": "' + b"9" * 200_000 + b'"}'),
    "/hang": None,  # reads the request, never answers
}


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[bytes]]]:
    requests: list[bytes] = []
    release = asyncio.Event()  # a hanging request hangs until the test is over

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        requests.append(head + await reader.readexactly(length))
        path = head.split(b" ")[1].decode().split("?")[0]
        reply = REPLIES[path]
        if reply is None:
            await release.wait()
        else:
            writer.write(reply)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", requests
        release.set()
        server.close()


async def test_answer_is_a_mapping_and_params_are_posted(
    server: tuple[str, list[bytes]],
) -> None:
    base, requests = server
    caller = WebhookCaller()
    values = await caller.call(Webhook(url=f"{base}/ok"), "balance", {"account": "123"}, 2.0)
    assert values == {"balance": "1234.50", "currency": "CNY"}
    assert b'"params":{"account":"123"}' in requests[0]
    values = await caller.call(Webhook(url=f"{base}/ok", method="GET"), "b", {"a": "1"}, 2.0)
    assert values["currency"] == "CNY"
    assert requests[1].startswith(b"GET /ok?a=1 ")
    await caller.aclose()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/garbage", "not JSON"),
        ("/array", "not an object"),
        ("/error", "HTTP 500"),
        ("/huge", "larger than"),
        ("/hang", "timed out after 0.05 s"),
    ],
)
async def test_bad_answers_become_action_errors(
    server: tuple[str, list[bytes]], path: str, reason: str
) -> None:
    base, _ = server
    caller = WebhookCaller(max_bytes=65536)
    started = asyncio.get_running_loop().time()
    with pytest.raises(ActionError, match=reason):
        await caller.call(
            Webhook(url=f"{base}{path}"), "balance", {"card": "4111111111111111"},
            0.05 if path == "/hang" else 2.0,  # only the hanging server meets the deadline
        )  # fmt: skip
    assert asyncio.get_running_loop().time() - started < 2
    await caller.aclose()


async def test_unreachable_server_is_an_action_error() -> None:
    caller = WebhookCaller()
    with pytest.raises(ActionError, match="unreachable"):
        await caller.call(Webhook(url="http://127.0.0.1:9/x"), "balance", {}, 1.0)
    await caller.aclose()
