"""Issue 5 end to end on the real Asterisk: the whole engine (``build_engine`` + ``serve``) in
this process against the test PBX, driven from headless Chromium like a person would.

An agent logs in from the agent page (token, then device); a caller dials the bank through the
IVR (``Local/96002@hotline-entry``, keys sent by the caller's own leg as in the IVR e2e tests)
and leaves it for a queue agent1 serves; the desktop pops the call (caller, hotline, language,
IVR path, the card number masked); the wallboard shows it waiting, then answered (agent1 rings
``RING_S`` seconds first, so "waiting 1" is on screen long enough to be seen). Then the event
log's ``calls`` row and the queue's retained statistics on the local Mosquitto.

The configuration (``tests/fixtures/live_e2e``) is the IVR e2e bank with queues of its own
(``live-*``), so calls of other suites on the shared PBX never reach this engine's agent.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from acd.agent_state import AgentState
from acd.service import AcdService
from cti.ami.client import AmiClient
from hotline.demo import Demo, DemoOptions
from hotline.service import Engine
from tests.integration.acd_helpers import (
    clear_agents,
    hang_up,
    place_call,
    set_agent,
)
from tests.integration.browser import ARGS, CHROMIUM
from tests.integration.engine_rig import (
    ADMIN_TOKEN,
    AGENT_TOKEN,
    CALLER,
    CARD,
    DEVICE,
    QUEUE,
    WALLBOARD_TOKEN,
    Running,
    build_prompts_for,
    call_through_ivr,
    running_engine,
    until_stored,
)
from tests.integration.pbx import PbxUnderTest

FIXTURE = Path(__file__).parent.parent / "fixtures" / "live_e2e"
RING_S, TALK_S = 2, 3
SAMPLE_CONFIG = Path(__file__).parents[2] / "config"


@pytest.fixture(scope="module")
def built_prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_prompts_for(FIXTURE, tmp_path_factory.mktemp("prompts"))


@pytest.fixture(scope="module")
def sample_prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_prompts_for(SAMPLE_CONFIG, tmp_path_factory.mktemp("sample-prompts"))


@dataclass
class Rig:
    running: Running
    browser: Browser
    db: Path

    @property
    def engine(self) -> Engine:
        return self.running.engine

    async def page(self, path: str) -> Page:
        context = await self.browser.new_context(viewport={"width": 1920, "height": 1080})
        page = await context.new_page()
        await page.goto(f"{self.running.base}{path}")
        return page

    async def call_through_ivr(self, keys: str) -> str:
        return await call_through_ivr(self.running.ami, keys)


@pytest.fixture
async def rig(pbx: PbxUnderTest, tmp_path: Path, built_prompts: Path) -> AsyncIterator[Rig]:
    async with running_engine(pbx, tmp_path, FIXTURE, built_prompts) as running:
        ami = running.ami
        await ami.action("Setvar", Variable="AGENT1_RING", Value=str(RING_S))
        await ami.action("Setvar", Variable="AGENT1_TALK", Value=str(TALK_S))
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                try:
                    yield Rig(running, browser, tmp_path / "hotline.db")
                finally:
                    await browser.close()
        finally:
            for name in ("AGENT1_RING", "AGENT1_TALK"):
                await ami.action("Setvar", Variable=name, Value="")


async def retained_stats(topic: str, queue: str, answered: int) -> dict[str, Any]:
    """The queue's retained statistics as a board connecting now reads them."""
    async with aiomqtt.Client("127.0.0.1", 1883, identifier=f"{topic}-board") as client:
        await client.subscribe(f"{topic}/queues/{queue}/stats", qos=1)
        async with asyncio.timeout(10):
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                stats: dict[str, Any] = orjson.loads(message.payload)
                if message.retain and stats["today"]["answered"] >= answered:
                    return stats
    raise AssertionError("no retained statistics")


async def test_login_from_the_page_call_pops_and_the_wallboard_follows(rig: Rig) -> None:
    started = asyncio.get_running_loop().time()
    board = await rig.page("/wallboard")
    await board.locator("#token-form input").fill(WALLBOARD_TOKEN)
    await board.locator("#token-form button").click()
    await expect(board.get_by_test_id(f"waiting-{QUEUE}")).to_have_text("0")

    desk = await rig.page("/agent")
    await desk.locator("#token-form input").fill(AGENT_TOKEN)
    await desk.locator("#token-form button").click()
    await expect(desk.locator("#me")).to_have_text("agent1")
    await expect(desk.get_by_test_id("state")).to_have_text("未签入")
    await desk.locator("#device").fill(DEVICE)
    await desk.locator("#login").click()
    await expect(desk.get_by_test_id("state")).to_have_text("空闲")  # the ACD confirmed
    assert rig.engine.acd is not None
    assert rig.engine.acd.agent("agent1").device == DEVICE

    call_id = await rig.call_through_ivr(f"1 1 {CARD}#")  # Chinese, lost card, card number
    waiting = board.get_by_test_id(f"waiting-{QUEUE}")
    await expect(waiting).to_have_text("1", timeout=20_000)  # through the IVR, now on hold

    pop = desk.get_by_test_id("screen-pop")
    await expect(pop).to_be_visible(timeout=5_000)  # offered: agent1 rings for RING_S
    await expect(desk.get_by_test_id("state")).to_have_text("振铃")
    await expect(desk.get_by_test_id("pop-caller")).to_have_text(CALLER)
    await expect(desk.get_by_test_id("pop-hotline")).to_have_text("bank")
    await expect(desk.get_by_test_id("pop-language")).to_have_text("zh")
    await expect(desk.get_by_test_id("pop-product")).to_have_text("bank")
    await expect(desk.get_by_test_id("pop-vip")).to_have_text("yes")
    await expect(desk.get_by_test_id("pop-ivr_path")).to_have_text(
        "bank.welcome>bank.language>bank.main>bank.card>bank.report>bank.say_reference>"
        "bank.lost_card_agent"
    )
    await expect(desk.get_by_test_id("field-card_number")).to_have_text("************1111")
    assert CARD not in await desk.content()

    # agent1 answers: the wallboard counts it, the desktop shows the call connected.
    await expect(waiting).to_have_text("0", timeout=RING_S * 1000 + 5_000)
    await expect(board.get_by_test_id(f"answered-{QUEUE}")).to_have_text("1")
    await expect(board.get_by_test_id(f"sl-{QUEUE}")).to_have_text("100%")
    await expect(desk.get_by_test_id("state")).to_have_text("通话中")
    await expect(pop).to_be_visible()
    # agent1 hangs up after TALK_S: wrap-up asks for the disposition of that call.
    await expect(desk.get_by_test_id("disposition")).to_be_visible(timeout=TALK_S * 1000 + 5_000)

    row = await until_stored(rig.db, call_id, "answered")
    assert (row["agent_id"], row["queue"], row["caller"]) == ("agent1", QUEUE, CALLER)
    assert row["hotline"] == "bank" and row["language"] == "zh"
    assert 0 < row["wait_s"] < 15 and row["talk_s"] >= TALK_S - 1

    stats = await retained_stats(rig.running.topic, QUEUE, answered=1)
    assert stats["queue"] == QUEUE and stats["waiting"] == 0
    assert stats["today"]["offered"] == 1 and stats["today"]["answered"] == 1
    assert asyncio.get_running_loop().time() - started < 40


async def test_demo_traffic_is_answered_by_demo_agents(
    pbx: PbxUnderTest, tmp_path: Path, sample_prompts: Path
) -> None:
    """``hotline demo`` for 20 s against the engine serving the sample configuration."""
    config_dir = tmp_path / "config"
    shutil.copytree(SAMPLE_CONFIG, config_dir)
    shutil.copy(FIXTURE / "recording.yaml", config_dir / "recording.yaml")  # record nothing
    async with running_engine(pbx, tmp_path, config_dir, sample_prompts) as running:
        lines: list[str] = []
        options = DemoOptions(
            rate_per_min=20, duration_s=20, ring_s=(0.5, 1), talk_s=(2, 4), seed=5
        )
        summary = await Demo(running.settings, options, say=lines.append).run(asyncio.Event())
        report = "\n".join(lines)
        assert summary.placed >= 4, report
        assert sum(summary.answered_by_agent.values()) >= 2, report
        assert set(summary.answered_by_agent) == {"agent1", "agent2", "agent3", "agent4"}
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=running.base, headers=headers) as http:
            answered = 0
            for queue in ("basic-banking", "credit-card"):
                stats = (await http.get(f"/api/v1/queues/{queue}/stats")).json()
                answered += stats["today"]["answered"]
            assert answered == sum(summary.answered_by_agent.values()), report
            agents = (await http.get("/api/v1/agents")).json()
        # The demo logged its agents out on the way out, and said what it did.
        assert {a["agent_id"]: a["state"] for a in agents if a["agent_id"].startswith("agent")} == {
            f"agent{n}": "logged_out" for n in range(1, 5)
        }
        assert "agent agent1 (Test agent 1) logged in" in report
        assert "dials 9555" in report


async def queue_figures(base: str, queue: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers) as http:
        response = await http.get(f"/api/v1/queues/{queue}/stats")
        response.raise_for_status()
        figures: dict[str, Any] = response.json()
        return figures


async def until_figures(
    base: str, queue: str, wanted: dict[str, Any], within_s: float = 15
) -> dict[str, Any]:
    """The queue's statistics once ``wanted`` ("waiting", "today.answered") all hold."""

    def value(figures: dict[str, Any], key: str) -> Any:
        for part in key.split("."):
            figures = figures[part]
        return figures

    figures: dict[str, Any] = {}
    try:
        async with asyncio.timeout(within_s):
            while True:
                figures = await queue_figures(base, queue)
                if all(value(figures, key) == want for key, want in wanted.items()):
                    return figures
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"not {wanted}: {figures}") from None


async def until_available(acd: AcdService, agent_id: str) -> None:
    for _ in range(100):  # the test agent talks 1 s, wraps up 2 s
        if acd.agent(agent_id).state is AgentState.AVAILABLE:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{agent_id} still {acd.agent(agent_id).state}")


TODAY_KEYS = ("offered", "answered", "abandoned", "short_abandoned", "asa_s", "service_level")


async def test_a_restart_keeps_todays_figures_and_drops_what_ended_meanwhile(
    pbx: PbxUnderTest, tmp_path: Path, built_prompts: Path
) -> None:
    """Hotline answers one call, then stops with two callers on hold (no agent logged in). One
    hangs up while it is down. The restarted Hotline shows the same figures for today (from
    the event log), one caller waiting (the other's outcome is unknown: counted as nothing),
    and the caller still waiting is not offered twice when agent1 answers it."""
    tag = uuid.uuid4().hex[:6]
    answered, stays, leaves = (f"rs-{tag}-{n}" for n in ("a", "s", "l"))
    async with AmiClient(pbx.ami_settings) as ami:
        await set_agent(ami, 1, ring=0.5, talk=1)
        try:
            async with running_engine(pbx, tmp_path, FIXTURE, built_prompts) as first:
                acd = first.engine.acd
                assert acd is not None
                await acd.login("agent1", DEVICE)
                await place_call(ami, answered, QUEUE, stay_s=30)
                await until_figures(first.base, QUEUE, {"today.answered": 1})
                await until_available(acd, "agent1")
                await acd.logout("agent1")  # nobody answers the next two
                await place_call(ami, stays, QUEUE, stay_s=60)
                await place_call(ami, leaves, QUEUE, stay_s=60)
                before = await until_figures(first.base, QUEUE, {"waiting": 2})
                assert before["today"]["offered"] == 3
            await hang_up(ami, f"^Local/{leaves}@hotline-acd-test-")  # while Hotline is down

            async with running_engine(pbx, tmp_path, FIXTURE, built_prompts) as second:
                after = await until_figures(second.base, QUEUE, {"waiting": 1})
                for key in TODAY_KEYS:
                    assert after["today"][key] == before["today"][key], (key, after, before)
                assert after["longest_wait_s"] >= before["longest_wait_s"]
                acd = second.engine.acd
                assert acd is not None
                await acd.login("agent1", DEVICE)
                done = await until_figures(second.base, QUEUE, {"today.answered": 2, "waiting": 0})
                assert done["today"]["offered"] == 3  # the caller on hold was offered once
                await until_available(acd, "agent1")  # logged out on the way out, not on call
        finally:
            await hang_up(ami, f"^Local/rs-{tag}-")
            await clear_agents(ami, [1])
