"""Fakes of the API's ports and a ready-made world (settings, live hub, ``ApiServices``) for
``create_app``, shared by API, WebSocket and web page tests. Each control fake records what it
was asked, in order."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI

from cti.events import DomainBus, Scalar
from cti.settings import Settings, load_settings
from hotline.api.ports import ApiServices, ControlRejected, PbxInfo, SpyMode, TransferKind
from hotline.live.hub import LiveHub
from hotline.live.model import QueueDefinition
from hotline.live.stats import LiveStats

ADMIN = "admin-token-0123456789"
SUPERVISOR = "super-token-0123456789"
AGENT_1001 = "agent-1001-token-0123456789"
AGENT_1002 = "agent-1002-token-0123456789"
WALLBOARD = "wallboard-token-0123456789"


@dataclass
class FakePbx:
    connected: bool = True
    fail: bool = False  # the PBX drops between the check and the action

    async def pbx_info(self) -> PbxInfo:
        if self.fail:
            raise ConnectionError("dropped")
        return PbxInfo(
            "Asterisk 22.10.1", "10.0.0", "2026-11-28 10:00:00", "2026-11-28 10:00:00", 42, 3
        )


@dataclass
class FakeDb:
    up: bool = True

    async def ping(self) -> bool:
        return self.up


@dataclass
class Recorder:
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    reject: bool = False

    def record(self, *call: Any) -> None:
        self.calls.append(call)
        if self.reject:
            raise ControlRejected("not now")


class FakeAgents(Recorder):
    async def login(self, agent_id: str, device: str | None) -> None:
        self.record("login", agent_id, device)

    async def logout(self, agent_id: str) -> None:
        self.record("logout", agent_id)

    async def pause(self, agent_id: str, reason: str) -> None:
        self.record("pause", agent_id, reason)

    async def unpause(self, agent_id: str) -> None:
        self.record("unpause", agent_id)

    async def set_disposition(
        self, agent_id: str, call_id: str, disposition: str, note: str
    ) -> None:
        self.record("disposition", agent_id, call_id, disposition, note)


class FakeCalls(Recorder):
    async def hangup(self, call_id: str) -> None:
        self.record("hangup", call_id)

    async def hold(self, call_id: str) -> None:
        self.record("hold", call_id)

    async def unhold(self, call_id: str) -> None:
        self.record("unhold", call_id)

    async def transfer(
        self, call_id: str, kind: TransferKind, target: str, *, attended: bool
    ) -> None:
        self.record("transfer", call_id, kind, target, attended)

    async def complete_transfer(self, call_id: str) -> None:
        self.record("complete", call_id)

    async def cancel_transfer(self, call_id: str) -> None:
        self.record("cancel", call_id)


class FakeSupervisor(Recorder):
    async def spy(self, agent_id: str, supervisor_device: str, mode: SpyMode) -> None:
        self.record(mode, agent_id, supervisor_device)


class FakeTraces:
    def routing_trace(self, call_id: str) -> Sequence[Mapping[str, Scalar]] | None:
        if call_id != "c1":
            return None
        return [{"at_s": 0.0, "decision": "offer", "agent": "1001", "score": 3}]


QUEUES = [
    QueueDefinition("cards", "信用卡 Cards", "cards", 0.8, 20),
    QueueDefinition("loans", "贷款 Loans", "loans", 0.9, 30),
]


class FakeDirectory:
    def queue_definitions(self) -> Sequence[QueueDefinition]:
        return QUEUES

    def agent_ids(self) -> Sequence[str]:
        return ["1001", "1002"]


def live_settings(**live: Any) -> Settings:
    return load_settings(
        api={
            "tokens": [
                {"name": "ops", "role": "admin", "token": ADMIN},
                {"name": "sup", "role": "supervisor", "token": SUPERVISOR},
                {"name": "a1", "role": "agent", "token": AGENT_1001, "agent_id": "1001"},
                {"name": "a2", "role": "agent", "token": AGENT_1002, "agent_id": "1002"},
                {"name": "tv", "role": "wallboard", "token": WALLBOARD},
            ]
        },
        live=live,
    )


@dataclass
class World:
    settings: Settings
    bus: DomainBus
    hub: LiveHub
    services: ApiServices
    agents: FakeAgents
    calls: FakeCalls
    supervisor: FakeSupervisor


def make_world(**live: Any) -> World:
    settings = live_settings(**live)
    directory = FakeDirectory()
    stats = LiveStats(
        settings.live, directory.queue_definitions(), queues_of_agent=lambda _: ["cards"]
    )
    hub = LiveHub(stats, client_buffer=settings.live.ws_buffer)
    agents, calls, supervisor = FakeAgents(), FakeCalls(), FakeSupervisor()
    services = ApiServices(
        FakePbx(),
        FakeDb(),
        live=hub,
        directory=directory,
        agents=agents,
        calls=calls,
        supervisor=supervisor,
        traces=FakeTraces(),
    )
    return World(settings, DomainBus(), hub, services, agents, calls, supervisor)


@contextlib.asynccontextmanager
async def serve_app(app: FastAPI) -> AsyncIterator[str]:
    """Run ``app`` on a free loopback port in this event loop; yields ``host:port``."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        ws="websockets-sansio",
        ws_per_message_deflate=False,  # as hotline serves it: one encoding for every client
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
