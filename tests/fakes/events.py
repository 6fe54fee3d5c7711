"""Small helpers for writing typed domain events in tests."""

from __future__ import annotations

from typing import TypedDict


class Leg(TypedDict):
    """The envelope of an event about a call with an agent in a queue, to unpack into the
    event: ``CallAnswered(**leg("c1", "cards", "1001"), wait_s=3.0, ts=...)``."""

    call_id: str
    queue: str
    agent_id: str


def leg(call_id: str, queue: str, agent_id: str) -> Leg:
    return Leg(call_id=call_id, queue=queue, agent_id=agent_id)
