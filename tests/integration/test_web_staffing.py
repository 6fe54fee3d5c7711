"""Staffing on the web pages, in headless Chromium over the fakes: the wallboard's "needed in
the next 30 minutes vs logged in", and the supervisor's staffing-plan chart (the plan endpoint
is intercepted: its figures are the staffing module's, tested there)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.async_api import Route, expect

from cti.events import AgentLoggedIn, CallAnswered, CallCompleted, CallQueued
from tests.fakes.live import SUPERVISOR, WALLBOARD, make_world
from tests.integration.browser import Site, browser_site


@pytest.fixture
async def staffing_site() -> AsyncIterator[Site]:
    async with browser_site(make_world(publish_interval_s=0.05)) as site:
        yield site


async def test_wallboard_shows_agents_needed_next_vs_logged_in(staffing_site: Site) -> None:
    site = staffing_site
    page = await site.page("/wallboard", WALLBOARD)
    await expect(page.get_by_test_id("needed-cards")).to_have_text("0")
    site.publish(AgentLoggedIn(agent_id="1001"))
    for call_id in ("c1", "c2", "c3"):
        site.publish(CallQueued(call_id=call_id, queue="cards"))
    # Calls but no handle time yet: no figure rather than a guess.
    await expect(page.get_by_test_id("needed-cards")).to_have_text("–")
    site.publish(CallAnswered(call_id="c1", queue="cards", agent_id="1001"))
    site.publish(CallCompleted(call_id="c1", queue="cards", agent_id="1001", talk_s=120))
    # 3 calls over the 5-minute floor with AHT 120 s: A = 1.2 Erlang; T = 20 s, 80 %:
    # SL(2) = 0.61, SL(3) = 0.90 → 3 needed, against the 1 agent logged in.
    await expect(page.get_by_test_id("needed-cards")).to_have_text("3")
    await expect(page.get_by_test_id("needed-cards")).to_have_class("figure bad")
    await expect(page.get_by_test_id("logged-in-cards")).to_have_text("1")
    await expect(page.get_by_test_id("tile-cards")).to_contain_text("未来30分钟需坐席 / 已签入")
    await page.locator("[data-role=lang]").click()
    await expect(page.get_by_test_id("tile-cards")).to_contain_text("Needed next 30 min")
    assert await page.evaluate("document.documentElement.scrollHeight") <= 1080


PLAN_ROWS = [
    {"start": f"2026-03-02T{hour}:00", "agents": agents, "positions": positions, "calls": calls}
    for hour, agents, positions, calls in (
        ("09:00", 4, 6, 30.0),
        ("09:30", 7, 10, 61.5),
        ("10:00", 9, 13, 80.2),
        ("10:30", 5, 8, 40.0),
    )
]


async def test_supervisor_draws_the_staffing_plan(staffing_site: Site) -> None:
    site = staffing_site
    asked: list[dict[str, list[str]]] = []

    async def fake_plan(route: Route) -> None:
        asked.append(parse_qs(urlparse(route.request.url).query))
        body = {"queue": "loans", "model": "erlang_c", "rows": PLAN_ROWS}
        await route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    page = await site.page("/supervisor", SUPERVISOR)
    await page.route("**/api/v1/staffing/plan?*", fake_plan)
    await expect(page.locator("#plan-queue option[value=loans]")).to_have_count(1)
    await page.locator("#plan-queue").select_option("loans")
    await page.locator("#plan-date").fill("2026-03-02")
    await page.locator("#plan-form button").click()
    bars = page.get_by_test_id("plan-bar")
    await expect(bars).to_have_count(4)
    assert asked == [{"queue": ["loans"], "date": ["2026-03-02"], "shrinkage": ["0.3"]}]
    # Bars scale with agents needed on an axis topped by the most positions (13): the plot
    # is 220 px high, so 9 agents at 10:00 stand 220·9/13 px, 4 at 09:00 220·4/13 px.
    heights = [float(await bars.nth(i).get_attribute("height") or 0) for i in range(4)]
    assert heights == pytest.approx([220 * n / 13 for n in (4, 7, 9, 5)], rel=1e-6)
    points = await page.get_by_test_id("plan-positions").get_attribute("points")
    assert points is not None and len(points.split()) == 4
    await expect(page.get_by_test_id("plan-chart")).to_contain_text("09:00")
    await expect(page.locator("#plan-form")).to_contain_text("所需坐席")
