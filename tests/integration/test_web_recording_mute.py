"""The agent desktop's "pause recording (card capture)" toggle, in headless Chromium over the
fakes. The recording endpoints are intercepted in the browser: their rules (who may mute,
auditing, MixMonitorMute) are the recordings API's, tested there; here we check what the page
sends, for which call and with whose token, and what it shows."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from cti.events import AgentStateChanged, CallCompleted
from tests.fakes.live import AGENT_1001
from tests.integration.browser import Site, agent_page, connect


async def test_pause_and_resume_recording_of_the_current_call(desk_site: Site) -> None:
    site = desk_site
    page, endpoint = await agent_page(site)
    toggle = page.get_by_test_id("recording-toggle")
    badge = page.get_by_test_id("recording-paused")
    # No call: no toggle, no badge.
    await expect(toggle).to_be_hidden()
    await expect(badge).to_be_hidden()

    connect(site, "c7")
    await expect(page.get_by_test_id("state")).to_have_text("通话中")
    await expect(toggle).to_be_visible()
    await expect(toggle).to_have_text("暂停录音（卡号采集）")
    await expect(badge).to_be_hidden()

    await toggle.click()
    await expect(badge).to_be_visible()
    await expect(badge).to_have_text("● 录音已暂停")
    await expect(toggle).to_have_text("恢复录音")
    await expect(toggle).to_have_attribute("aria-pressed", "true")
    assert endpoint.seen == [
        {
            "method": "POST",
            "path": "/calls/c7/recording/mute",
            "authorization": f"Bearer {AGENT_1001}",
            "body": {"reason": "card capture"},
        }
    ]
    # The labels follow the language switch, the state stays.
    await page.locator("[data-role=lang]").click()
    await expect(toggle).to_have_text("Resume recording")
    await expect(badge).to_have_text("● Recording paused")

    await toggle.click()
    await expect(badge).to_be_hidden()
    await expect(toggle).to_have_text("Pause recording (card capture)")
    assert [(s["method"], s["path"], s["authorization"]) for s in endpoint.seen[1:]] == [
        ("POST", "/calls/c7/recording/unmute", f"Bearer {AGENT_1001}")
    ]

    # Paused again, then the call ends: the toggle goes away and the next call starts clean.
    await toggle.click()
    await expect(badge).to_be_visible()
    site.publish(CallCompleted(call_id="c7", queue="cards", agent_id="1001"))
    await expect(page.get_by_test_id("disposition")).to_be_visible()
    await expect(toggle).to_be_hidden()
    await expect(badge).to_be_hidden()
    await page.get_by_test_id("disposition").fill("resolved")
    await page.locator("#save-disposition").click()
    site.publish(AgentStateChanged(agent_id="1001", state="available"))
    await expect(page.get_by_test_id("state")).to_have_text("Available")
    connect(site, "c8")
    await expect(toggle).to_be_visible()
    await expect(toggle).to_have_text("Pause recording (card capture)")
    await expect(badge).to_be_hidden()
    await toggle.click()
    await expect(badge).to_be_visible()
    assert endpoint.seen[-1]["path"] == "/calls/c8/recording/mute"
    assert len(endpoint.seen) == 4


@pytest.mark.parametrize(
    ("status", "detail", "shown"),
    [
        (403, "not your call", "无权操作此通话 (403): not your call"),
        (404, "no such call", "找不到该通话或录音 (404): no such call"),
        (409, "call not connected", "通话当前状态不允许此操作 (409): call not connected"),
    ],
)
async def test_a_refused_pause_is_reported_and_the_badge_stays_off(
    desk_site: Site, status: int, detail: str, shown: str
) -> None:
    site = desk_site
    page, endpoint = await agent_page(site)
    endpoint.fail = (status, detail)
    connect(site, "c9")
    toggle = page.get_by_test_id("recording-toggle")
    await toggle.click()
    await expect(page.get_by_test_id("recording-error")).to_have_text(shown)
    await expect(page.get_by_test_id("recording-paused")).to_be_hidden()
    await expect(toggle).to_have_text("暂停录音（卡号采集）")
    await expect(toggle).to_be_enabled()
    assert [s["path"] for s in endpoint.seen] == ["/calls/c9/recording/mute"]
    # A later success clears the error.
    endpoint.fail = None
    await toggle.click()
    await expect(page.get_by_test_id("recording-paused")).to_be_visible()
    await expect(page.get_by_test_id("recording-error")).to_have_text("")
