"""REST over live state and the control ports, with every authorisation rule tested: an agent
acts only on itself and its own calls, wallboards only read, supervisors run the floor."""

from __future__ import annotations

import httpx
import pytest

from cti.events import (
    AgentLoggedIn,
    CallAnswered,
    CallCompleted,
    CallOffered,
    CallQueued,
    CallStarted,
)
from hotline.api.app import create_app
from hotline.api.ports import ApiServices
from tests.fakes.live import (
    ADMIN,
    AGENT_1001,
    AGENT_1002,
    SUPERVISOR,
    WALLBOARD,
    FakeDb,
    FakePbx,
    World,
    make_world,
)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client(world: World) -> httpx.AsyncClient:
    app = create_app(world.settings, world.services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def offer_call_to_1001(world: World) -> None:
    hub = world.hub
    hub.process(AgentLoggedIn(agent_id="1001", device="PJSIP/1001"))
    hub.process(AgentLoggedIn(agent_id="1002"))
    hub.process(CallStarted(call_id="c1", caller="13800138000"))
    hub.process(CallQueued(call_id="c1", queue="cards", fields={"card": "4111111111111111"}))
    hub.process(
        CallOffered(
            call_id="c1", queue="cards", agent_id="1001", decision=1, device="PJSIP/1001",
            ring_timeout_s=15,
        )
    )  # fmt: skip
    hub.process(CallAnswered(call_id="c1", queue="cards", agent_id="1001"))


async def test_an_agent_cannot_pause_another_agent() -> None:
    world = make_world()
    async with client(world) as http:
        other = await http.post(
            "/api/v1/agents/1002/pause", json={"reason": "lunch"}, headers=auth(AGENT_1001)
        )
        own = await http.post(
            "/api/v1/agents/1001/pause", json={"reason": "lunch"}, headers=auth(AGENT_1001)
        )
    assert other.status_code == 403
    assert own.status_code == 202
    assert world.agents.calls == [("pause", "1001", "lunch")]


async def test_pause_reason_comes_from_the_configured_list() -> None:
    world = make_world(pause_reasons=["break", "lunch"])
    async with client(world) as http:
        bad = await http.post(
            "/api/v1/agents/1001/pause", json={"reason": "nap"}, headers=auth(AGENT_1001)
        )
        reasons = await http.get("/api/v1/pause-reasons", headers=auth(AGENT_1001))
    assert bad.status_code == 422
    assert "break, lunch" in bad.json()["detail"]
    assert reasons.json()["pause_reasons"] == ["break", "lunch"]
    assert world.agents.calls == []


@pytest.mark.parametrize("action", ["login", "logout", "unpause"])
async def test_agent_requests_on_others_are_forbidden(action: str) -> None:
    world = make_world()
    async with client(world) as http:
        agent = await http.post(f"/api/v1/agents/1002/{action}", json={}, headers=auth(AGENT_1001))
        board = await http.post(f"/api/v1/agents/1002/{action}", json={}, headers=auth(WALLBOARD))
        boss = await http.post(f"/api/v1/agents/1002/{action}", json={}, headers=auth(SUPERVISOR))
        self_ = await http.post(f"/api/v1/agents/1001/{action}", json={}, headers=auth(AGENT_1001))
    assert (agent.status_code, board.status_code) == (403, 403)
    assert (boss.status_code, self_.status_code) == (202, 202)
    assert [c[1] for c in world.agents.calls] == ["1002", "1001"]


async def test_a_rejected_request_is_a_conflict() -> None:
    world = make_world()
    world.agents.reject = True
    async with client(world) as http:
        response = await http.post("/api/v1/agents/1001/unpause", headers=auth(AGENT_1001))
    assert response.status_code == 409


async def test_agents_list_and_one_agent() -> None:
    world = make_world()
    offer_call_to_1001(world)
    async with client(world) as http:
        listed = await http.get("/api/v1/agents", headers=auth(SUPERVISOR))
        as_agent = await http.get("/api/v1/agents", headers=auth(AGENT_1001))
        me = await http.get("/api/v1/agents/1001", headers=auth(AGENT_1001))
        them = await http.get("/api/v1/agents/1002", headers=auth(AGENT_1001))
        unauthenticated = await http.get("/api/v1/agents/1001")
    assert listed.status_code == 200
    states = {a["agent_id"]: a["state"] for a in listed.json()}
    assert states == {"1001": "on_call", "1002": "available"}
    assert as_agent.status_code == 403
    assert me.json()["call_id"] == "c1"
    assert them.status_code == 403
    assert unauthenticated.status_code == 401


async def test_disposition_only_on_the_agents_own_call() -> None:
    world = make_world()
    offer_call_to_1001(world)
    world.hub.process(CallCompleted(call_id="c1", queue="cards", agent_id="1001"))
    body = {"call_id": "c1", "disposition": "resolved", "note": "card blocked"}
    async with client(world) as http:
        own = await http.post(
            "/api/v1/agents/1001/disposition", json=body, headers=auth(AGENT_1001)
        )
        wrong = await http.post(
            "/api/v1/agents/1001/disposition",
            json={**body, "call_id": "c9"},
            headers=auth(AGENT_1001),
        )
    assert own.status_code == 202
    assert wrong.status_code == 403
    assert world.agents.calls == [("disposition", "1001", "c1", "resolved", "card blocked")]


async def test_call_actions_only_on_the_agents_own_call() -> None:
    world = make_world()
    offer_call_to_1001(world)
    transfer = {"kind": "queue", "target": "loans", "attended": False}
    async with client(world) as http:
        mine = await http.post("/api/v1/calls/c1/hold", headers=auth(AGENT_1001))
        theirs = await http.post("/api/v1/calls/c1/hangup", headers=auth(AGENT_1002))
        board = await http.post("/api/v1/calls/c1/hangup", headers=auth(WALLBOARD))
        moved = await http.post(
            "/api/v1/calls/c1/transfer", json=transfer, headers=auth(AGENT_1001)
        )
        bad = await http.post(
            "/api/v1/calls/c1/transfer",
            json={"kind": "moon", "target": "x"},
            headers=auth(AGENT_1001),
        )
        boss = await http.post("/api/v1/calls/c1/unhold", headers=auth(SUPERVISOR))
        done = await http.post("/api/v1/calls/c1/transfer/complete", headers=auth(AGENT_1001))
        not_theirs = await http.post("/api/v1/calls/c1/transfer/cancel", headers=auth(AGENT_1002))
        dropped = await http.post("/api/v1/calls/c1/transfer/cancel", headers=auth(AGENT_1001))
    assert (mine.status_code, theirs.status_code, board.status_code) == (202, 403, 403)
    assert (moved.status_code, bad.status_code, boss.status_code) == (202, 422, 202)
    assert (done.status_code, not_theirs.status_code, dropped.status_code) == (202, 403, 202)
    assert world.calls.calls == [
        ("hold", "c1"),
        ("transfer", "c1", "queue", "loans", False),
        ("unhold", "c1"),
        ("complete", "c1"),
        ("cancel", "c1"),
    ]


async def test_active_calls_are_masked_and_filtered_by_role() -> None:
    world = make_world()
    offer_call_to_1001(world)
    async with client(world) as http:
        boss = await http.get("/api/v1/calls", headers=auth(SUPERVISOR))
        mine = await http.get("/api/v1/calls", headers=auth(AGENT_1001))
        others = await http.get("/api/v1/calls", headers=auth(AGENT_1002))
        board = await http.get("/api/v1/calls", headers=auth(WALLBOARD))
        one = await http.get("/api/v1/calls/c1", headers=auth(AGENT_1002))
    [call] = boss.json()
    assert call["fields"] == {"card": "************1111"}
    assert call["caller"] == "13800138000"
    assert [c["call_id"] for c in mine.json()] == ["c1"]
    assert others.json() == []
    assert (board.status_code, one.status_code) == (403, 403)


async def test_supervisor_spy_force_state_and_trace() -> None:
    world = make_world()
    offer_call_to_1001(world)
    async with client(world) as http:
        listen = await http.post(
            "/api/v1/supervisor/agents/1001/listen",
            json={"device": "PJSIP/sup1"},
            headers=auth(SUPERVISOR),
        )
        barge = await http.post(
            "/api/v1/supervisor/agents/1001/barge",
            json={"device": "PJSIP/sup1"},
            headers=auth(ADMIN),
        )
        agent = await http.post(
            "/api/v1/supervisor/agents/1002/whisper",
            json={"device": "PJSIP/1001"},
            headers=auth(AGENT_1001),
        )
        board = await http.post(
            "/api/v1/supervisor/agents/1001/listen",
            json={"device": "PJSIP/tv"},
            headers=auth(WALLBOARD),
        )
        bad_mode = await http.post(
            "/api/v1/supervisor/agents/1001/eavesdrop",
            json={"device": "PJSIP/sup1"},
            headers=auth(SUPERVISOR),
        )
        forced = await http.put(
            "/api/v1/supervisor/agents/1002/state",
            json={"state": "paused", "reason": "coaching"},
            headers=auth(SUPERVISOR),
        )
        trace = await http.get("/api/v1/supervisor/calls/c1/trace", headers=auth(SUPERVISOR))
        no_trace = await http.get("/api/v1/supervisor/calls/zz/trace", headers=auth(SUPERVISOR))
    assert (listen.status_code, barge.status_code) == (202, 202)
    assert (agent.status_code, board.status_code, bad_mode.status_code) == (403, 403, 422)
    assert world.supervisor.calls == [
        ("listen", "1001", "PJSIP/sup1"),
        ("barge", "1001", "PJSIP/sup1"),
    ]
    assert forced.status_code == 202
    assert world.agents.calls == [("pause", "1002", "coaching")]
    assert trace.json()["decisions"][0]["decision"] == "offer"
    assert no_trace.status_code == 404


async def test_queues_stats_and_wallboard_for_every_role() -> None:
    world = make_world()
    offer_call_to_1001(world)
    world.hub.process(CallQueued(call_id="c2", queue="loans"))
    async with client(world) as http:
        queues = await http.get("/api/v1/queues", headers=auth(AGENT_1001))
        stats = await http.get("/api/v1/queues/loans/stats", headers=auth(WALLBOARD))
        missing = await http.get("/api/v1/queues/nope/stats", headers=auth(WALLBOARD))
        board = await http.get("/api/v1/wallboard", headers=auth(WALLBOARD))
        world.hub.stats.rebuilding = True  # a start-up replaying today's event log
        updating = await http.get("/api/v1/wallboard", headers=auth(WALLBOARD))
    assert updating.json()["rebuilding"] is True
    assert [q["id"] for q in queues.json()] == ["cards", "loans"]
    assert stats.json()["waiting"] == 1
    assert stats.json()["sl_threshold_s"] == 30
    assert missing.status_code == 404
    body = board.json()
    assert body["sl_formula"] == "answered_within_t_over_answered"
    assert body["totals"]["waiting"] == 1 and body["rebuilding"] is False
    assert {q["queue"]: q["today"]["answered"] for q in body["queues"]} == {"cards": 1, "loans": 0}


async def test_metrics_for_prometheus() -> None:
    world = make_world(sl_formula="asterisk_sl2")
    offer_call_to_1001(world)
    async with client(world) as http:
        anonymous = await http.get("/metrics")
        agent = await http.get("/metrics", headers=auth(AGENT_1001))
        scrape = await http.get("/metrics", headers=auth(WALLBOARD))
    assert (anonymous.status_code, agent.status_code, scrape.status_code) == (401, 403, 200)
    text = scrape.text
    assert 'hotline_queue_calls{outcome="answered",period="today",queue="cards"} 1.0' in text
    assert (
        'hotline_queue_service_level{formula="asterisk_sl2",period="today",queue="cards"} 1.0'
        in text
    )
    assert 'hotline_queue_agents{queue="cards",state="on_call"} 1.0' in text
    assert "hotline_ws_clients 0.0" in text
    assert "hotline_live_rebuilding 0.0" in text


async def test_unwired_ports_answer_503_and_openapi_lists_the_routes() -> None:
    world = make_world()
    bare = ApiServices(FakePbx(), FakeDb())
    app = create_app(world.settings, bare)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        pause = await http.post(
            "/api/v1/agents/1001/pause", json={"reason": "lunch"}, headers=auth(AGENT_1001)
        )
        stats = await http.get("/api/v1/queues/cards/stats", headers=auth(ADMIN))
        schema = (await http.get("/api/v1/openapi.json")).json()
    assert (pause.status_code, stats.status_code) == (503, 503)
    for path in (
        "/api/v1/agents/{agent_id}/pause",
        "/api/v1/queues/{queue_id}/stats",
        "/api/v1/calls/{call_id}/transfer",
        "/api/v1/calls/{call_id}/transfer/complete",
        "/api/v1/calls/{call_id}/transfer/cancel",
        "/api/v1/wallboard",
        "/api/v1/supervisor/agents/{agent_id}/{mode}",
    ):
        assert path in schema["paths"]


async def test_pages_are_served() -> None:
    world = make_world()
    async with client(world) as http:
        pages = [await http.get(f"/{page}") for page in ("agent", "supervisor", "wallboard")]
        root = await http.get("/")
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert all("text/html" in p.headers["content-type"] for p in pages)
    assert root.status_code in (302, 307)
