"""The web pages in headless Chromium (the system's /usr/bin/chromium, driven by Playwright)
against a real HTTP/WebSocket server over the fakes of ``tests.fakes.live``: the site, and the
agent desktop's helpers shared by the web tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Browser, Page, Route, async_playwright, expect

from cti.events import (
    AgentLoggedIn,
    CallAnswered,
    CallOffered,
    CallQueued,
    CallStarted,
    DomainEvent,
)
from hotline.api.app import create_app
from tests.fakes.live import AGENT_1001, World, serve_app

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RECORDING = "**/api/v1/calls/*/recording/*"


@dataclass
class Site:
    world: World
    base: str
    browser: Browser

    async def page(self, path: str, token: str | None = None) -> Page:
        context = await self.browser.new_context(viewport={"width": 1920, "height": 1080})
        if token is not None:
            await context.add_init_script(f"localStorage.setItem('hotline.token', '{token}')")
        page = await context.new_page()
        await page.goto(f"{self.base}{path}")
        return page

    def publish(self, event: DomainEvent) -> None:
        self.world.bus.publish(event)


@contextlib.asynccontextmanager
async def browser_site(world: World) -> AsyncIterator[Site]:
    """The API over ``world`` on a free port, its live hub fed by the world's bus, and a
    browser to look at it."""
    hub_task = asyncio.create_task(world.hub.run(world.bus))
    try:
        async with (
            serve_app(create_app(world.settings, world.services)) as address,
            async_playwright() as playwright,
        ):
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                yield Site(world, f"http://{address}", browser)
            finally:
                await browser.close()
    finally:
        hub_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await hub_task


@dataclass
class RecordingEndpoint:
    """Stands in for POST /calls/{id}/recording/{mute,unmute}; keeps what the page sent."""

    seen: list[dict[str, Any]] = field(default_factory=list)
    fail: tuple[int, str] | None = None

    async def handle(self, route: Route) -> None:
        request = route.request
        path = request.url.split("/api/v1", 1)[1]
        self.seen.append(
            {
                "method": request.method,
                "path": path,
                "authorization": await request.header_value("authorization"),
                "body": request.post_data_json,
            }
        )
        if self.fail is not None:
            status, detail = self.fail
            await route.fulfill(status=status, json={"detail": detail})
            return
        call_id = path.split("/")[2]
        muted = path.endswith("/mute")
        await route.fulfill(json={"call_id": call_id, "muted": muted, "outcome": "applied"})


async def agent_page(site: Site) -> tuple[Page, RecordingEndpoint]:
    """Agent 1001's desktop, logged in and idle; its recording calls go to the endpoint."""
    endpoint = RecordingEndpoint()
    page = await site.page("/agent", AGENT_1001)
    await page.route(RECORDING, endpoint.handle)
    site.publish(AgentLoggedIn(agent_id="1001", device="PJSIP/1001"))
    await expect(page.get_by_test_id("state")).to_have_text("空闲")
    return page, endpoint


def connect(site: Site, call_id: str, queue: str = "cards") -> None:
    """A caller reaches agent 1001 through ``queue``."""
    site.publish(CallStarted(call_id=call_id, caller="13800138000"))
    site.publish(CallQueued(call_id=call_id, queue=queue))
    site.publish(
        CallOffered(call_id=call_id, queue=queue, agent_id="1001", decision=1, device="PJSIP/1001",
                    ring_timeout_s=15)
    )  # fmt: skip
    site.publish(CallAnswered(call_id=call_id, queue=queue, agent_id="1001"))
