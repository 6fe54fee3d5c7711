"""The web pages in headless Chromium (``tests.integration.browser``), against a real
HTTP/WebSocket server fed domain events through the bus. The control ports are fakes here;
the end-to-end with Asterisk comes when the ACD is wired."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from cti.events import (
    AgentLoggedIn,
    AgentPaused,
    CallAnswered,
    CallCompleted,
    CallOffered,
    CallQueued,
    CallStarted,
)
from tests.fakes.live import AGENT_1001, WALLBOARD, make_world
from tests.integration.browser import Site, browser_site


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with browser_site(
        make_world(pause_reasons=["break", "lunch"], publish_interval_s=0.05)
    ) as site:
        yield site


async def test_wallboard_shows_a_call_waiting_then_answered(site: Site) -> None:
    page = await site.page("/wallboard")
    # The token is asked for once, then kept in localStorage.
    await page.locator("#token-form input").fill(WALLBOARD)
    await page.locator("#token-form button").click()
    await expect(page.get_by_test_id("tile-cards")).to_be_visible()
    await expect(page.get_by_test_id("waiting-cards")).to_have_text("0")

    site.publish(AgentLoggedIn(agent_id="1001"))
    site.publish(CallQueued(call_id="c1", queue="cards"))
    await expect(page.get_by_test_id("waiting-cards")).to_have_text("1")
    site.publish(CallAnswered(call_id="c1", queue="cards", agent_id="1001", wait_s=3))
    await expect(page.get_by_test_id("waiting-cards")).to_have_text("0")
    await expect(page.get_by_test_id("answered-cards")).to_have_text("1")
    await expect(page.get_by_test_id("sl-cards")).to_have_text("100%")
    await expect(page.get_by_test_id("sl-cards")).to_have_class("figure good")
    # Figures fit a 1080p TV without scrolling.
    height = await page.evaluate("document.documentElement.scrollHeight")
    assert height <= 1080
    await page.reload()  # the token was kept
    await expect(page.get_by_test_id("answered-cards")).to_have_text("1")


async def test_agent_page_pops_the_offered_call(site: Site) -> None:
    page = await site.page("/agent", AGENT_1001)
    await expect(page.get_by_test_id("state")).to_have_text("未签入")  # zh by default
    site.publish(AgentLoggedIn(agent_id="1001", device="PJSIP/1001"))
    await expect(page.get_by_test_id("state")).to_have_text("空闲")
    site.publish(
        CallStarted(call_id="c1", caller="13800138000", caller_name="李雷", hotline="95555")
    )
    site.publish(
        CallQueued(
            call_id="c1", queue="cards", language="zh", vip=True,
            path=("main", "cards", "lost"), fields={"card": "4111111111111111"},
        )
    )  # fmt: skip
    pop = page.get_by_test_id("screen-pop")
    await expect(pop).to_be_hidden()
    site.publish(
        CallOffered(
            call_id="c1", queue="cards", agent_id="1001", decision=1, device="PJSIP/1001",
            ring_timeout_s=15,
        )
    )  # fmt: skip
    await expect(pop).to_be_visible()
    await expect(page.get_by_test_id("pop-caller")).to_have_text("13800138000")
    await expect(page.get_by_test_id("pop-caller_name")).to_have_text("李雷")
    await expect(page.get_by_test_id("pop-vip")).to_have_text("yes")
    await expect(page.get_by_test_id("field-card")).to_have_text("************1111")
    # Answered, then completed: wrap-up asks for the disposition of that call.
    site.publish(CallAnswered(call_id="c1", queue="cards", agent_id="1001"))
    site.publish(CallCompleted(call_id="c1", queue="cards", agent_id="1001"))
    await expect(page.get_by_test_id("disposition")).to_be_visible()
    await page.get_by_test_id("disposition").fill("resolved")
    await page.locator("#save-disposition").click()
    await expect(page.locator("#message")).to_have_text("已发送")
    assert site.world.agents.calls[-1] == ("disposition", "1001", "c1", "resolved", "")


async def test_pause_from_the_page_reaches_agent_control(site: Site) -> None:
    page = await site.page("/agent", AGENT_1001)
    site.publish(AgentLoggedIn(agent_id="1001"))
    await expect(page.get_by_test_id("state")).to_have_text("空闲")
    await page.locator("[data-role=lang]").click()  # switch to English
    await expect(page.get_by_test_id("state")).to_have_text("Available")
    await expect(page.get_by_test_id("pause")).to_have_text("Pause")
    await page.get_by_test_id("pause-reason").select_option("lunch")
    await page.get_by_test_id("pause").click()
    await expect(page.locator("#message")).to_have_text("Sent")
    assert site.world.agents.calls == [("pause", "1001", "lunch")]
    # The ACD confirms through the bus; the page follows.
    site.publish(AgentPaused(agent_id="1001", reason="lunch"))
    await expect(page.get_by_test_id("state")).to_have_text("Paused")


async def test_wallboard_says_when_todays_figures_are_still_being_rebuilt(site: Site) -> None:
    """After a start-up, while today's event log is replayed, each tile says its figures are
    not complete yet; the note goes once the replay is over."""
    page = await site.page("/wallboard", WALLBOARD)
    site.world.hub.stats.rebuilding = True  # as the hub sets it around its warm-up
    site.publish(CallQueued(call_id="c1", queue="cards"))
    await expect(page.get_by_test_id("waiting-cards")).to_have_text("1")
    note = page.get_by_test_id("rebuilding-cards")
    await expect(note).to_have_text("正在重建今日数据…")
    site.world.hub.stats.rebuilding = False
    site.publish(CallQueued(call_id="c2", queue="cards"))
    await expect(page.get_by_test_id("waiting-cards")).to_have_text("2")
    await expect(note).to_have_count(0)
