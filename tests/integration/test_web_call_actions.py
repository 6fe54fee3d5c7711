"""The agent desktop's call buttons in headless Chromium over the fakes: hold, unhold, a blind
transfer and an attended one completed and one cancelled reach the call-control API for the
right call, with the agent's token (what the ACD then does on Asterisk is tested in
test_call_actions_e2e.py)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.integration.browser import Site, agent_page, connect


async def test_hold_transfer_and_attended_transfer_buttons(desk_site: Site) -> None:
    site = desk_site
    page, _ = await agent_page(site)
    connect(site, "c5")
    await expect(page.get_by_test_id("state")).to_have_text("通话中")
    calls = site.world.calls

    async def click(selector: str, count: int) -> None:
        await page.locator(selector).click()
        for _ in range(50):
            if len(calls.calls) >= count:
                return
            await page.wait_for_timeout(50)
        raise AssertionError(calls.calls)

    await click("#hold", 1)
    await click("#unhold", 2)
    await page.locator("#transfer-kind").select_option("agent")
    await page.locator("#transfer-target").fill("1002")
    await page.locator("#attended").check()
    await click("#transfer", 3)
    await click("#complete-transfer", 4)
    await page.locator("#transfer-kind").select_option("number")
    await page.locator("#transfer-target").fill("95555")
    await click("#transfer", 5)
    await click("#cancel-transfer", 6)
    await page.locator("#attended").uncheck()
    await page.locator("#transfer-kind").select_option("queue")
    await page.locator("#transfer-target").fill("loans")
    await click("#transfer", 7)
    assert calls.calls == [
        ("hold", "c5"),
        ("unhold", "c5"),
        ("transfer", "c5", "agent", "1002", True),
        ("complete", "c5"),
        ("transfer", "c5", "number", "95555", True),
        ("cancel", "c5"),
        ("transfer", "c5", "queue", "loans", False),
    ]
    # Labels in both languages.
    await expect(page.locator("#complete-transfer")).to_have_text("完成转接")
    await page.locator("[data-role=lang]").click()
    await expect(page.locator("#cancel-transfer")).to_have_text("Back to caller")
