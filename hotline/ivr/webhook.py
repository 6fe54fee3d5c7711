"""HTTP webhooks for ``action`` nodes (the IVR's ``WebhookPort``, over httpx): a caller is
waiting, so every failure is an error value.

Contract: ``POST <url>`` with the JSON body ``{"action": ..., "params": {...}}`` (``GET``: the
params as the query string); the answer must be ``2xx`` with a JSON object of scalars, which the
engine checks again before trusting (``ivr.answers.checked_values``). A deadline covers the whole
exchange (connect, headers, a server that trickles bytes), bodies are capped, redirects are not
followed. Params may hold sensitive values (a card number for a lost-card service): they are sent,
never logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx
import orjson

from ivr.actions import ActionError, ActionValues
from ivr.model import Webhook


class WebhookCaller:
    def __init__(self, *, max_bytes: int = 65536, client: httpx.AsyncClient | None = None) -> None:
        self._max_bytes = max_bytes
        self._client = client or httpx.AsyncClient(follow_redirects=False, trust_env=False)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def call(
        self, webhook: Webhook, action: str, params: Mapping[str, str], timeout_s: float
    ) -> ActionValues:
        """The answer as a mapping; ``ActionError`` (with a reason, no params) otherwise."""
        try:
            async with asyncio.timeout(timeout_s):
                body = await self._exchange(webhook, action, params, timeout_s)
        except TimeoutError as exc:
            raise ActionError(f"webhook timed out after {timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise ActionError(f"webhook unreachable: {type(exc).__name__}") from exc
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ActionError("webhook answered something that is not JSON") from exc
        if not isinstance(data, dict):
            raise ActionError("webhook answered JSON that is not an object")
        return data

    async def _exchange(
        self, webhook: Webhook, action: str, params: Mapping[str, str], timeout_s: float
    ) -> bytes:
        if webhook.method == "GET":
            request = self._client.build_request(
                "GET", webhook.url, params=dict(params), timeout=timeout_s
            )
        else:
            payload = orjson.dumps({"action": action, "params": dict(params)})
            request = self._client.build_request(
                "POST", webhook.url, content=payload, timeout=timeout_s,
                headers={"content-type": "application/json", "accept": "application/json"},
            )  # fmt: skip
        response = await self._client.send(request, stream=True)
        try:
            if not 200 <= response.status_code < 300:
                raise ActionError(f"webhook answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self._max_bytes:
                    raise ActionError(f"webhook answer larger than {self._max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            await response.aclose()
