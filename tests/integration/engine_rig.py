"""The whole engine (``build_engine`` + ``serve``) in the test's event loop on the test PBX,
as ``hotline serve`` runs it, with prompts of its own; and a caller through the IVR of the test
bank (``tests/fixtures/live_e2e`` and the configurations built on it): it dials
``Local/96002@hotline-entry`` and sends its keys from its own leg."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from acd.agent_state import AgentState
from cti.ami.client import AmiClient
from cti.settings import IvrSettings, Settings, load_settings
from hotline.ivr.call import dtmf_script
from hotline.service import Engine, build_engine, serve
from ivr.config import load_config
from ivr.prompts import EspeakSynthesizer, build_prompts, wanted_audio
from tests.integration.acd_helpers import ensure_acd_dialplan
from tests.integration.pbx import TEST_AGI_PORT, PbxUnderTest

DID = "96002"
CALLER = "13800000000"  # a VIP number of the bank hotline
CARD = "4111111111111111"
QUEUE = "live-lost-card"
DEVICE = "Local/agent1@test-agents/n"
AGENT_TOKEN = "live-e2e-agent-token-0123456789"
SUPERVISOR_TOKEN = "live-e2e-supervisor-token-0123456789"
WALLBOARD_TOKEN = "live-e2e-wallboard-token-0123456789"
ADMIN_TOKEN = "live-e2e-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def build_prompts_for(config_dir: Path, out: Path) -> Path:
    config, problems = load_config(config_dir)
    assert config is not None, problems
    synthesizer = EspeakSynthesizer(IvrSettings.model_validate({}).voices)
    build_prompts(wanted_audio(config), out, synthesizer, synthesizer.fingerprint)
    return out


def private_prompts(pbx: PbxUnderTest, built: Path, tag: str) -> tuple[Path, str]:
    """A copy of the prompts for this run only, inside the PBX's root: the instance's shared
    ``prompts`` folder is mirrored by whichever suite synced last (other prompts, ours gone).
    Returns the folder as we see it and as Asterisk sees it."""
    host = pbx.pbx.instance_dir / "live-e2e" / tag
    shutil.copytree(built, host)
    return host, f"{pbx.pbx.instance_path}/live-e2e/{tag}"


def live_settings(
    pbx: PbxUnderTest, tmp_path: Path, config_dir: Path, prompts: tuple[Path, str], topic: str
) -> Settings:
    tokens = [
        {"name": "agent1", "role": "agent", "token": AGENT_TOKEN, "agent_id": "agent1"},
        {"name": "sup", "role": "supervisor", "token": SUPERVISOR_TOKEN},
        {"name": "board", "role": "wallboard", "token": WALLBOARD_TOKEN},
        {"name": "admin", "role": "admin", "token": ADMIN_TOKEN},
    ]
    ami = pbx.ami_settings
    return load_settings(
        ami={"port": ami.port, "secret": ami.secret, "reconnect_min_s": 0.2},
        agi={"port": TEST_AGI_PORT, "idle_timeout_s": 10.0},
        http={"port": free_port()},
        database={"url": f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"},
        pbx={"instance": pbx.settings.pbx.instance},
        config_dir=config_dir,
        ivr={"prompts_dir": prompts[0], "asterisk_prompts_dir": prompts[1]},
        event_log={"spool_dir": tmp_path / "spool", "flush_interval_ms": 50},
        api={"tokens": tokens},
        live={
            "publish_interval_s": 0.1,
            "mqtt": {
                "url": "mqtt://127.0.0.1:1883",
                "topic_prefix": topic,
                "client_id": f"hotline-{topic}",
            },
        },
    )


@dataclass
class Running:
    engine: Engine
    settings: Settings
    ami: AmiClient  # the test's own: globals, the caller, clean-up
    base: str
    topic: str


@contextlib.asynccontextmanager
async def running_engine(
    pbx: PbxUnderTest, tmp_path: Path, config_dir: Path, built: Path
) -> AsyncIterator[Running]:
    """``hotline serve`` in this event loop on the test PBX, with prompts of its own; on the
    way out every agent is logged out (the ACD would restore them from AstDB next time) and
    every call that entered a hotline is hung up."""
    tag = uuid.uuid4().hex[:8]
    topic = f"hotline-live-e2e-{tag}"
    prompts = await asyncio.to_thread(private_prompts, pbx, built, tag)
    settings = live_settings(pbx, tmp_path, config_dir, prompts, topic)
    engine = build_engine(settings)
    assert engine.acd is not None
    stop = asyncio.Event()
    base = f"http://127.0.0.1:{settings.http.port}"
    try:
        async with AmiClient(pbx.ami_settings) as ami:
            await ensure_acd_dialplan(ami)
            task = asyncio.create_task(serve(engine, stop), name="hotline-serve")
            try:
                await _ready(base, task)
                yield Running(engine, settings, ami, base, topic)
            finally:
                for agent in engine.acd.config.agents:
                    if engine.acd.agent(agent.id).state is not AgentState.LOGGED_OUT:
                        with contextlib.suppress(Exception):
                            await engine.acd.logout(agent.id)
                await ami.action("Hangup", check=False, Channel="/^Local/[0-9]+@hotline-entry-/")
                stop.set()
                await task
    finally:
        shutil.rmtree(prompts[0], ignore_errors=True)


async def _ready(base: str, task: asyncio.Task[None]) -> None:
    async with httpx.AsyncClient(base_url=base) as client, asyncio.timeout(15):
        while True:
            if task.done():
                task.result()
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)


def stored_call(db: Path, call_id: str) -> dict[str, Any] | None:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute("SELECT * FROM calls WHERE call_id = ?", (call_id,)).fetchone()
        return dict(row) if row is not None else None


async def until_stored(
    db: Path, call_id: str, outcome: str, within_s: float = 15
) -> dict[str, Any]:
    async with asyncio.timeout(within_s):
        while True:
            row = await asyncio.to_thread(stored_call, db, call_id)
            if row is not None and row["outcome"] == outcome and row["ended_at"] is not None:
                return row
            await asyncio.sleep(0.2)


async def call_through_ivr(
    ami: AmiClient, keys: str, *, leg: str = "live-e2e", name: str = "Live e2e"
) -> str:
    """The caller's leg answers, waits 2 s, sends the key groups 1.5 s apart, then stays
    on the line; returns the IVR leg's uniqueid (the call id everywhere)."""
    caller_leg = f"{leg}-{uuid.uuid4().hex[:12]}"
    await ami.action(
        "Originate",
        Channel=f"Local/{DID}@hotline-entry",
        CallerID=f'"{name}" <{CALLER}>',
        ChannelId=caller_leg,
        OtherChannelId=f"{caller_leg}-ivr",
        Context="test-caller",
        Exten="dtmf",
        Priority="1",
        Async="true",
        Variable=[f"KEYS={dtmf_script(keys, 1.5)}", "DELAY=2", "HOLD=40"],
    )
    return f"{caller_leg}-ivr"
