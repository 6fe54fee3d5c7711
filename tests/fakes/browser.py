"""The web pages in headless Chromium (the system's /usr/bin/chromium, driven by Playwright),
against a real HTTP/WebSocket server over the live fakes (``tests.live_fakes``): events are
published on the fake world's bus, control ports are fakes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from playwright.async_api import Browser, Page, async_playwright

from cti.events import DomainEvent
from hotline.api.app import create_app
from tests.live_fakes import World, serve_app

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
async def open_site(world: World) -> AsyncIterator[Site]:
    """The app served over ``world`` (its hub running) and a browser to visit it."""
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
