"""What live statistics do with each domain event: one handler per event class, in one table
(``HANDLERS``); the classes they do not need are listed in ``IGNORED``. Every class of
``cti.events.EVENT_CLASSES`` is in exactly one of the two (checked at import), so a new kind
is noticed here.

Invariants (the whole of them is in ``hotline.live.stats``):
- an event about an unknown call or agent creates what it needs (the bus may drop events,
  the engine may restart);
- a call is *waiting* in one queue at most, from ``CallQueued`` until it is answered,
  abandoned, overflowed, falls back or ends; a call that ends while waiting without
  ``CallAbandoned`` counts as abandoned (never a ghost that inflates the longest wait);
- an agent's state follows its own events and is also inferred from call events (offered →
  reserved, answered → on_call, completed or ended while talking → wrap_up), so statistics
  hold when a publisher emits only one of the two;
- a call counts once per queue visit (the event log's legs): one that leaves a queue before
  an answer for another target (overflow, transfer, or queued elsewhere without either
  event) is overflowed there; an answered call's talk ends once, at ``CallCompleted`` or,
  failing that, when its agent's transfer queues it again; a ``resync`` ``CallQueued`` of a
  call already waiting there is not offered again;
- handle time is talk + hold + wrap-up: ``talk_s`` leaves the holds out, which are summed
  from ``CallUnheld`` (its ``hold_s``, else measured from ``CallHeld``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from acd.agent_state import AgentState
from cti.events import (
    EVENT_CLASSES,
    AcdResynced,
    AgentDisposition,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPaused,
    AgentSkillsChanged,
    AgentStateChanged,
    AgentUnpaused,
    CallAbandoned,
    CallAnswered,
    CallCompleted,
    CallEnded,
    CallFallback,
    CallHeld,
    CallOffered,
    CallOverflowed,
    CallQueued,
    CallRingNoAnswer,
    CallStarted,
    CallTransferred,
    CallUnheld,
    Event,
    IvrEnded,
    IvrInput,
    IvrNode,
    RecordingMuted,
    RecordingStarted,
    RecordingStopped,
    RecordingUnmuted,
)
from cti.settings import LiveSettings
from hotline.live.agents import Agents
from hotline.live.calls import TALKING, Calls, CallStage, LiveCall
from hotline.live.queues import Queues

S, Stage = AgentState, CallStage


@dataclass(frozen=True, slots=True)
class LiveState:
    """What the handlers change: the queue counters, the agents and the calls."""

    settings: LiveSettings
    queues: Queues
    agents: Agents
    calls: Calls


# --- the caller's side --------------------------------------------------------------------


def on_call_started(live: LiveState, event: CallStarted) -> None:
    live.calls.call(event.call_id, event.ts).learn(
        caller=event.caller,
        caller_name=event.caller_name,
        hotline=event.hotline,
        product=event.product,
        language=event.language,
        vip=event.vip,
    )


def on_ivr_ended(live: LiveState, event: IvrEnded) -> None:
    call = live.calls.call(event.call_id, event.ts)
    call.learn(hotline=event.hotline, language=event.language, path=event.path)


def on_queued(live: LiveState, event: CallQueued) -> None:
    call = live.calls.call(event.call_id, event.ts)
    call.learn(event.fields, language=event.language, vip=event.vip, path=event.path)
    queue = live.queues.queue(event.queue)
    if event.resync and call.queue == event.queue and call.call_id in queue.waiting:
        return  # the ACD rebuilt a call it had already queued: offered once
    if call.stage in TALKING and not call.talk_ended:
        _end_talk(live, call, event.mono)  # requeued by its agent's transfer, not completed
    _exit(live, call, event.mono, event.wait_s)  # queued elsewhere with no exit event
    if "product" not in call.info and queue.definition.product:
        # Publishers do not name the product today: the queue's is what the agent needs.
        call.info["product"] = queue.definition.product
    call.queue, call.stage, call.agent_id = event.queue, Stage.WAITING, None
    call.queued_ts = event.ts
    call.queued_mono = event.mono - (event.wait_s or 0.0) if event.resync else event.mono
    queue.waiting[call.call_id] = call.queued_mono
    if event.ewt_s is not None:
        queue.ewt_s = event.ewt_s
    queue.count_queued(event.mono)


def on_abandoned(live: LiveState, event: CallAbandoned) -> None:
    call = live.calls.call(event.call_id, event.ts)
    _abandon(live, call, event.mono, event.wait_s)
    live.calls.forget(call)


def on_overflowed(live: LiveState, event: CallOverflowed) -> None:
    call = live.calls.call(event.call_id, event.ts)
    _exit(live, call, event.mono, event.wait_s)
    call.stage, call.queue = Stage.OVERFLOWED, None


def on_transferred(live: LiveState, event: CallTransferred) -> None:
    call = live.calls.call(event.call_id, event.ts)
    if call.queue is not None and call.call_id in live.queues.queue(call.queue).waiting:
        _exit(live, call, event.mono, None)  # sent elsewhere before an answer
        call.stage, call.queue = Stage.TRANSFERRED, None
    # After an answer (the agent's blind transfer) the talk ends at the CallCompleted that
    # follows, or when the call is queued again.


def on_fallback(live: LiveState, event: CallFallback) -> None:
    call = live.calls.call(event.call_id, event.ts)
    live.queues.leave(call.call_id, call.queue)  # Asterisk's native queue has it: not ours
    call.stage, call.queue = Stage.FALLBACK, None


def on_ended(live: LiveState, event: CallEnded) -> None:
    call = live.calls.call(event.call_id, event.ts)
    if live.queues.is_waiting(call.call_id, call.queue):
        _abandon(live, call, event.mono, None)
    if call.agent_id is not None and call.stage in TALKING:
        agent = live.agents.agent(call.agent_id, event)
        if agent.state is S.ON_CALL:
            live.agents.set_state(agent, S.WRAP_UP, event)
    live.calls.forget(call)


def on_resynced(live: LiveState, event: AcdResynced) -> None:
    """What the ACD holds after rebuilding from Asterisk: calls it no longer has ended while
    nobody watched (Hotline down, or their events dropped), and agents it has not logged in
    are logged out. Calls still in the IVR are not the ACD's to name."""
    calls, agents = frozenset(event.calls), frozenset(event.agents)
    for call in [c for c in live.calls if c.stage is not Stage.IVR]:
        if call.call_id not in calls:
            drop(live, call)
    for agent in live.agents:
        if agent.state is not S.LOGGED_OUT and agent.agent_id not in agents:
            live.agents.set_state(agent, S.LOGGED_OUT, event)


def drop(live: LiveState, call: LiveCall) -> None:
    """Out of our view with no outcome: the event log has none either (its leg stays open),
    so it is counted as nothing, the way reports count it."""
    live.queues.leave(call.call_id, call.queue)
    live.calls.forget(call)
    live.calls.dirty.add(call.call_id)


# --- between the call and its agent -------------------------------------------------------


def on_offered(live: LiveState, event: CallOffered) -> None:
    call = live.calls.call(event.call_id, event.ts)
    call.stage, call.agent_id = Stage.RINGING, event.agent_id
    agent = live.agents.agent(event.agent_id, event)
    agent.call_id = call.call_id
    live.agents.set_state(agent, S.RESERVED, event)


def on_ring_no_answer(live: LiveState, event: CallRingNoAnswer) -> None:
    call = live.calls.call(event.call_id, event.ts)
    agent_id = event.agent_id or call.agent_id
    call.stage, call.agent_id = Stage.WAITING, None
    if agent_id is not None:
        agent = live.agents.agent(agent_id, event)
        if agent.state is S.RESERVED and agent.call_id == call.call_id:
            agent.call_id = None
            live.agents.set_state(agent, S.AVAILABLE, event)


def on_answered(live: LiveState, event: CallAnswered) -> None:
    call = live.calls.call(event.call_id, event.ts)
    if event.taken_over:
        _taken_over(live, call, event)
        return
    queue = live.queues.leave(call.call_id, call.queue)
    call.stage, call.answered_mono = Stage.CONNECTED, event.mono
    call.talk_ended, call.held_mono, call.hold_s = False, None, 0.0
    call.agent_id = event.agent_id or call.agent_id
    if queue is not None:
        wait = _waited(call, event.mono, event.wait_s)
        queue.count_answered(wait, wait <= live.queues.threshold(queue))
    if call.agent_id is not None:
        agent = live.agents.agent(call.agent_id, event)
        agent.call_id, agent.last_queue = call.call_id, call.queue
        agent.answered_today += 1
        live.agents.set_state(agent, S.ON_CALL, event)


def _taken_over(live: LiveState, call: LiveCall, event: CallAnswered) -> None:
    """A consulted agent has the caller (attended transfer): its answered call, not the
    queue's (the first agent's talk was the queue's handled call, as in reports)."""
    call.stage, call.answered_mono = Stage.CONNECTED, event.mono
    call.talk_ended, call.held_mono, call.hold_s = True, None, 0.0
    call.agent_id = event.agent_id or call.agent_id
    if call.agent_id is not None:
        agent = live.agents.agent(call.agent_id, event)
        agent.call_id = call.call_id
        agent.answered_today += 1
        live.agents.set_state(agent, S.ON_CALL, event)


def on_completed(live: LiveState, event: CallCompleted) -> None:
    call = live.calls.call(event.call_id, event.ts)
    if not call.talk_ended and call.stage is not Stage.WAITING:
        _end_talk(live, call, event.mono, event.talk_s)  # once: not after a requeue ended it
    agent_id = event.agent_id or call.agent_id
    if agent_id is not None:
        agent = live.agents.agent(agent_id, event)
        if agent.state is S.ON_CALL:
            live.agents.set_state(agent, S.WRAP_UP, event)
    call.stage = Stage.COMPLETED


def on_held(live: LiveState, event: CallHeld) -> None:
    call = live.calls.call(event.call_id, event.ts)
    if call.held_mono is None:
        call.held_mono = event.mono
    if call.stage is Stage.CONNECTED:
        call.stage = Stage.HELD


def on_unheld(live: LiveState, event: CallUnheld) -> None:
    call = live.calls.call(event.call_id, event.ts)
    hold = event.hold_s
    if hold is None:
        hold = max(event.mono - call.held_mono, 0.0) if call.held_mono is not None else 0.0
    call.held_mono = None
    if call.stage is Stage.HELD:
        call.stage = Stage.CONNECTED
    if call.talk_ended:
        return  # after the talk's end: not part of a handled call's time
    call.hold_s += hold
    if call.queue is not None and hold:
        live.queues.queue(call.queue).count_hold(event.mono, hold)


def _waited(call: LiveCall, mono: float, given: float | None) -> float:
    """The wait the publisher measured, else ours since the call was queued."""
    if given is not None:
        return given
    return max(mono - call.queued_mono, 0.0) if call.queued_mono is not None else 0.0


def _abandon(live: LiveState, call: LiveCall, mono: float, given_wait: float | None) -> None:
    queue = live.queues.leave(call.call_id, call.queue)
    if queue is None:
        return
    wait = _waited(call, mono, given_wait)
    short = wait < live.settings.short_abandon_s
    queue.count_abandoned(short, wait <= live.queues.threshold(queue))


def _exit(live: LiveState, call: LiveCall, mono: float, given_wait: float | None) -> None:
    """Left its queue unanswered for another target: overflowed there."""
    queue = live.queues.leave(call.call_id, call.queue)
    if queue is not None:
        within = _waited(call, mono, given_wait) <= live.queues.threshold(queue)
        queue.count_overflowed(within)


def _end_talk(live: LiveState, call: LiveCall, mono: float, talk_s: float | None = None) -> None:
    """The agent's talk is over: one call completed in its queue, with its talk (given, else
    measured without the holds)."""
    call.talk_ended = True
    talk = talk_s
    if talk is None:
        measured = mono - call.answered_mono if call.answered_mono is not None else 0.0
        talk = max(measured - call.hold_s, 0.0)
    if call.queue is not None:
        live.queues.queue(call.queue).count_completed(mono, talk)


# --- the agent's side ---------------------------------------------------------------------


def on_logged_in(live: LiveState, event: AgentLoggedIn) -> None:
    agent = live.agents.agent(event.agent_id, event)
    if event.device is not None:
        agent.device = event.device
    if event.queues is not None:
        live.agents.set_queues(agent, event.queues)
    live.agents.set_state(agent, S.AVAILABLE, event)


def on_logged_out(live: LiveState, event: AgentLoggedOut) -> None:
    live.agents.set_state(live.agents.agent(event.agent_id, event), S.LOGGED_OUT, event)


def on_paused(live: LiveState, event: AgentPaused) -> None:
    agent = live.agents.agent(event.agent_id, event)
    live.agents.set_state(agent, S.PAUSED, event, event.reason or "break")


def on_unpaused(live: LiveState, event: AgentUnpaused) -> None:
    live.agents.set_state(live.agents.agent(event.agent_id, event), S.AVAILABLE, event)


def on_agent_state(live: LiveState, event: AgentStateChanged) -> None:
    agent = live.agents.agent(event.agent_id, event)
    state = AgentState(event.state)
    live.agents.set_state(agent, state, event, event.reason if state is S.PAUSED else None)


# --- the table ----------------------------------------------------------------------------

Handler = Callable[[LiveState, Any], None]
E = TypeVar("E", bound=Event)


def _on(cls: type[E], handler: Callable[[LiveState, E], None]) -> tuple[type[Event], Handler]:
    return cls, handler  # typed pairs: a handler must take the class it is filed under


HANDLERS: dict[type[Event], Handler] = dict(
    [
        _on(CallStarted, on_call_started),
        _on(IvrEnded, on_ivr_ended),
        _on(CallQueued, on_queued),
        _on(CallOffered, on_offered),
        _on(CallRingNoAnswer, on_ring_no_answer),
        _on(CallAnswered, on_answered),
        _on(CallCompleted, on_completed),
        _on(CallAbandoned, on_abandoned),
        _on(CallOverflowed, on_overflowed),
        _on(CallTransferred, on_transferred),
        _on(CallFallback, on_fallback),
        _on(CallHeld, on_held),
        _on(CallUnheld, on_unheld),
        _on(CallEnded, on_ended),
        _on(AgentLoggedIn, on_logged_in),
        _on(AgentLoggedOut, on_logged_out),
        _on(AgentPaused, on_paused),
        _on(AgentUnpaused, on_unpaused),
        _on(AgentStateChanged, on_agent_state),
        _on(AcdResynced, on_resynced),
    ]
)

# Nothing here for live figures or views: IVR steps, dispositions (the desktop keeps the
# popped call itself), skill edits (they apply at the next login, which says its queues)
# and recordings.
IGNORED: frozenset[type[Event]] = frozenset(
    {
        IvrNode,
        IvrInput,
        AgentDisposition,
        AgentSkillsChanged,
        RecordingStarted,
        RecordingMuted,
        RecordingUnmuted,
        RecordingStopped,
    }
)

assert not HANDLERS.keys() & IGNORED, "a class is handled or ignored, not both"
assert HANDLERS.keys() | IGNORED == set(EVENT_CLASSES.values()), "every event class is listed"
