"""The agent desktop's "pause recording (card capture)" toggle, in headless Chromium over the
fakes. The recording endpoints are intercepted in the browser: their rules (who may mute,
auditing, MixMonitorMute) are the recordings API's, tested there; here we check what the page
sends, for which call and with whose token, and what it shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import Page, Route, expect

from cti.events import EventKind, make_event
from tests.fakes.browser import Site, open_site
from tests.live_fakes import AGENT_1001, make_world

K = EventKind
RECORDING = "**/api/v1/calls/*/recording/*"


@pytest.fixture
async def mute_site() -> AsyncIterator[Site]:
    async with open_site(make_world(pause_reasons=["break"], publish_interval_s=0.05)) as site:
        yield site


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
    endpoint = RecordingEndpoint()
    page = await site.page("/agent", AGENT_1001)
    await page.route(RECORDING, endpoint.handle)
    site.publish(make_event(K.AGENT_LOGGED_IN, agent_id="1001", data={"device": "PJSIP/1001"}))
    await expect(page.get_by_test_id("state")).to_have_text("空闲")
    return page, endpoint


def connect(site: Site, call_id: str) -> None:
    site.publish(make_event(K.CALL_STARTED, call_id=call_id, data={"caller": "13800138000"}))
    site.publish(make_event(K.CALL_QUEUED, call_id=call_id, queue="cards"))
    site.publish(make_event(K.CALL_OFFERED, call_id=call_id, agent_id="1001"))
    site.publish(make_event(K.CALL_ANSWERED, call_id=call_id, agent_id="1001"))


async def test_pause_and_resume_recording_of_the_current_call(mute_site: Site) -> None:
    site = mute_site
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
    site.publish(make_event(K.CALL_COMPLETED, call_id="c7", agent_id="1001"))
    await expect(page.get_by_test_id("disposition")).to_be_visible()
    await expect(toggle).to_be_hidden()
    await expect(badge).to_be_hidden()
    await page.get_by_test_id("disposition").fill("resolved")
    await page.locator("#save-disposition").click()
    site.publish(make_event(K.AGENT_STATE, agent_id="1001", data={"state": "available"}))
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
    mute_site: Site, status: int, detail: str, shown: str
) -> None:
    site = mute_site
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
