"""``/api/v1/wallboard`` and the queue stats carry "agents needed in the next 30 minutes vs
logged in" per queue.

Queue "loans" (T = 30 s, target 90 %), just started: the pace is taken over the 5-minute
floor, 3 calls / 300 s = 36 an hour; one completed with 120 s of talk, so A = 0.01·120 = 1.2.
Erlang C: B(2) = 0.72 / 2.92 = 0.2466, C(2) = 0.4932 / 1.0959 = 0.4500,
SL(2) = 1 − 0.45·e^(−0.8·30/120) = 0.632; B(3) = 0.0898, C(3) = 0.2693 / 1.9077 = 0.1412,
SL(3) = 1 − 0.1412·e^(−1.8·30/120) = 0.910 ≥ 0.9 → 3 agents, none logged in to loans.
"""

from __future__ import annotations

import httpx

from cti.events import AgentLoggedIn, CallAnswered, CallCompleted, CallQueued
from hotline.api.app import create_app
from tests.fakes.live import WALLBOARD, make_world


async def test_wallboard_shows_agents_needed_next_vs_logged_in() -> None:
    world = make_world()
    hub = world.hub
    hub.process(AgentLoggedIn(agent_id="1001"))  # serves cards only
    for call_id in ("c1", "c2", "c3"):
        hub.process(CallQueued(call_id=call_id, queue="loans"))
    hub.process(CallAnswered(call_id="c1", queue="loans", agent_id="1001"))
    hub.process(CallCompleted(call_id="c1", queue="loans", agent_id="1001", talk_s=120))
    app = create_app(world.settings, world.services)
    headers = {"Authorization": f"Bearer {WALLBOARD}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as h:
        board = (await h.get("/api/v1/wallboard", headers=headers)).json()
        loans = (await h.get("/api/v1/queues/loans/stats", headers=headers)).json()
    by_queue = {q["queue"]: q["staffing"] for q in board["queues"]}
    assert (
        by_queue["loans"]
        == loans["staffing"]
        == {
            "window_s": 1800.0,
            "horizon_s": 1800.0,
            "offered": 3,
            "calls_per_hour": 36.0,
            "aht_s": 120.0,
            "traffic": 1.2,
            "needed": 3,
            "logged_in": 0,
            "shortfall": 3,
        }
    )
    # Cards: nothing offered, nobody needed; 1001 is logged in there.
    assert (by_queue["cards"]["needed"], by_queue["cards"]["shortfall"]) == (0, -1)
    assert board["totals"]["needed_next_30_min"] == 3
