"""The ACD core: agents' state table + routing + wait estimates + overflow, driven by inputs.

Sans-IO: every input takes ``now`` (monotonic seconds) and returns effects (``acd.effects``);
nothing reads a clock or sleeps, so the live service and the simulator drive the same code.

Invariants after every input:
- a call is in exactly one of: waiting (in one bucket and its queue's line), offered (to one
  agent, which is ``reserved`` with that call), connected, or gone;
- an agent is ``reserved`` iff exactly one call is offered to it;
- no available agent is eligible for a waiting call (work conservation): every change that
  could create such a pair (arrival, agent freed, relaxation, no-answer) routes at once;
- events that refer to a resolved offer or an unknown call are ``Ignored`` with a reason;
  requests that the agent table forbids are ``Rejected``; neither changes state.
Timers (relaxation steps, maximum wait) are processed at the start of every input whose
``now`` has passed them, so a late ``tick`` changes nothing but latency.
"""

from __future__ import annotations

from collections import OrderedDict

from acd.agent_state import AgentInput, AgentState, AgentStatus
from acd.agent_table import AgentTable
from acd.call_record import Announcement, CallRecord
from acd.call_timers import CallTimers
from acd.effects import (
    CallArrived,
    Effect,
    Ignored,
    OfferCall,
    OfferWithdrawn,
    OverflowCall,
    Rejected,
    WakeUpAt,
)
from acd.ewt import AsteriskHoldTime, HandleTimes, WaitAccuracy, estimate_wait
from acd.in_call import personal_skill
from acd.indexes import CallEntry, QueueLines, requirement
from acd.model import AcdConfig, Agent, OverflowRule
from acd.routing import DecisionTrace, Router, own_requirement

MAX_OVERFLOW_HOPS = 3


class AcdEngine:
    def __init__(
        self, config: AcdConfig, *, trace_history: int = 10_000, report_agents: bool = False
    ) -> None:
        self.config = config
        self.router = Router(config.queues)
        self._table = AgentTable(config.agents, report=report_agents)
        self.agent_config: dict[str, Agent] = self._table.config
        self.agents: dict[str, AgentStatus] = self._table.status
        self.calls: dict[str, CallRecord] = {}
        self.lines = QueueLines()
        self.handle_times = {q.id: HandleTimes(q.prior_handle_s) for q in config.queues}
        self.asterisk_hold = {q.id: AsteriskHoldTime() for q in config.queues}
        self.accuracy = WaitAccuracy()
        self.asterisk_accuracy = WaitAccuracy()
        self.agent_traces: dict[str, DecisionTrace] = {}
        self._paused = self._table.paused
        self._offer_of_agent: dict[str, str] = {}
        self._timers = CallTimers()
        self._seq = 0  # arrival order of calls
        self._reported_wakeup: float | None = None
        self._finished: OrderedDict[str, tuple[DecisionTrace, ...]] = OrderedDict()
        self._trace_history = trace_history

    # --- agent inputs -----------------------------------------------------------------------

    def upsert_agent(self, agent: Agent) -> None:
        """New or changed seed data; skills take effect at the agent's next login."""
        self.agent_config[agent.id] = agent

    def login(self, agent_id: str, now: float, device: str | None = None) -> list[Effect]:
        effects = self._advance(now)
        agent = self.agent_config.get(agent_id)
        if agent is None:
            return [*effects, Rejected("login", agent_id, "unknown agent")]
        device = device or agent.device
        if device is None:
            return [*effects, Rejected("login", agent_id, "no device given or configured")]
        if not self._table.step(agent_id, AgentInput.LOGIN, now, effects, device=device):
            return effects
        # Its own skill too: a call transferred to this agent requires it (acd/in_call.py).
        self.router.pool.add_agent(agent_id, {**agent.skills, personal_skill(agent_id): 1})
        self._free_agent(agent_id, now, effects)
        return self._finish(effects)

    def logout(self, agent_id: str, now: float) -> list[Effect]:
        effects = self._advance(now)
        if self._table.step(agent_id, AgentInput.LOGOUT, now, effects):
            self._forget_declines(agent_id)
            self.router.pool.remove_agent(agent_id)
            self._paused.discard(agent_id)
        return self._finish(effects)

    def pause(self, agent_id: str, reason: str, now: float) -> list[Effect]:
        effects = self._advance(now)
        if self._table.step(agent_id, AgentInput.PAUSE, now, effects, reason=reason):
            self.router.agent_unavailable(agent_id)
            self._paused.add(agent_id)
        return self._finish(effects)

    def unpause(self, agent_id: str, now: float) -> list[Effect]:
        effects = self._advance(now)
        if self._table.step(agent_id, AgentInput.UNPAUSE, now, effects):
            self._paused.discard(agent_id)
            self._free_agent(agent_id, now, effects)
        return self._finish(effects)

    def wrap_up_done(self, agent_id: str, now: float) -> list[Effect]:
        effects = self._advance(now)
        status = self.agents.get(agent_id)
        if status is None or status.state is not AgentState.WRAP_UP:
            state = status.state.value if status else "unknown"
            return [*effects, Ignored("wrap_up_done", agent_id, f"agent is {state}")]
        if status.wrap_up_until is not None and now < status.wrap_up_until:
            return [*effects, Ignored("wrap_up_done", agent_id, "early: a stale timer")]
        self._table.step(agent_id, AgentInput.WRAP_UP_DONE, now, effects)
        self._free_agent(agent_id, now, effects)
        return self._finish(effects)

    # --- call inputs --------------------------------------------------------------------------

    def call_arrived(self, call: CallArrived, now: float) -> list[Effect]:
        effects = self._advance(now)
        queue = self.router.queues.get(call.queue_id)
        if queue is None:
            return [*effects, Rejected("call_arrived", call.call_id, "unknown queue")]
        if call.call_id in self.calls:
            return [*effects, Ignored("call_arrived", call.call_id, "duplicate call id")]
        self._seq += 1
        entry = CallEntry(
            call.call_id, queue.id, call.priority, call.enqueued_at, self._seq, queue.weight
        )
        record = CallRecord(entry, dict(call.skills), call.language, call.enqueued_at)
        self.calls[call.call_id] = record
        self._enter_queue(record, now, effects, check_ewt=True)
        return self._finish(effects)

    def call_abandoned(self, call_id: str, now: float) -> list[Effect]:
        effects = self._advance(now)
        record = self.calls.get(call_id)
        if record is None:
            return [*effects, Ignored("call_abandoned", call_id, "unknown or finished call")]
        if record.state == "connected":
            return [*effects, Ignored("call_abandoned", call_id, "already answered")]
        self._leave(record, now, effects, "caller hung up")
        return self._finish(effects)

    def adopt_connected(
        self, call: CallArrived, agent_id: str, answered_at: float, now: float
    ) -> list[Effect]:
        """A call already talking with ``agent_id`` that this engine did not connect: found on
        Asterisk at a resync, or handed to the agent by an attended transfer. The agent (free
        or paused: the pause ends) goes on call without an offer, nothing is routed on the
        way, and the call then ends like any other (``call_ended``: wrap-up)."""
        effects = self._advance(now)
        status = self.agents.get(agent_id)
        state = status.state if status is not None else AgentState.LOGGED_OUT
        if state not in (AgentState.AVAILABLE, AgentState.PAUSED):
            return [*effects, Rejected("adopt_connected", agent_id, f"agent is {state.value}")]
        queue = self.router.queues.get(call.queue_id)
        if queue is None:
            return [*effects, Rejected("adopt_connected", call.call_id, "unknown queue")]
        if call.call_id in self.calls:
            return [*effects, Ignored("adopt_connected", call.call_id, "duplicate call id")]
        if state is AgentState.PAUSED:
            self._table.step(agent_id, AgentInput.UNPAUSE, now, effects)
            self._paused.discard(agent_id)
        self.router.agent_unavailable(agent_id)
        self._table.step(agent_id, AgentInput.OFFER, now, effects)
        self._table.step(agent_id, AgentInput.ANSWER, now, effects)
        self._seq += 1
        entry = CallEntry(
            call.call_id, queue.id, call.priority, call.enqueued_at, self._seq, queue.weight
        )
        record = CallRecord(entry, dict(call.skills), call.language, call.enqueued_at)
        record.state, record.agent_id, record.answered_at = "connected", agent_id, answered_at
        self.calls[call.call_id] = record
        return self._finish(effects)

    def offer_answered(self, call_id: str, agent_id: str, now: float) -> list[Effect]:
        effects = self._advance(now)
        record = self._current_offer("offer_answered", call_id, agent_id, effects)
        if record is None:
            return effects
        self._table.step(agent_id, AgentInput.ANSWER, now, effects)
        del self._offer_of_agent[agent_id]
        record.state = "connected"
        record.answered_at = now
        self.router.pool.agents[agent_id].calls_answered += 1
        queue_id = record.entry.queue_id
        waited = now - record.entry.enqueued_at
        self.accuracy.record(queue_id, record.predicted_wait, waited)
        self.asterisk_accuracy.record(queue_id, record.asterisk_predicted, waited)
        self.asterisk_hold[queue_id].record_answered(waited)
        self._forget_declines_of_call(record)
        return self._finish(effects)

    def offer_failed(
        self, call_id: str, agent_id: str, now: float, reason: str = "no-answer"
    ) -> list[Effect]:
        """The agent did not answer (or the dial failed): the call goes back to its place."""
        effects = self._advance(now)
        record = self._current_offer("offer_failed", call_id, agent_id, effects)
        if record is None:
            return effects
        self._table.step(agent_id, AgentInput.NO_ANSWER, now, effects)
        del self._offer_of_agent[agent_id]
        record.entry.declined_by.add(agent_id)
        self.router.pool.agents[agent_id].declined.add(call_id)
        record.state = "waiting"
        record.agent_id = None
        # Same enqueue time and arrival number: the same place in line.
        self._route(record, now, effects)
        if self.agents[agent_id].state is AgentState.AVAILABLE:
            self._free_agent(agent_id, now, effects)
        return self._finish(effects)

    def call_ended(self, call_id: str, now: float) -> list[Effect]:
        effects = self._advance(now)
        record = self.calls.get(call_id)
        if record is None:
            return [*effects, Ignored("call_ended", call_id, "unknown or finished call")]
        if record.state != "connected" or record.agent_id is None:
            self._leave(record, now, effects, "call ended before it was answered")
            return self._finish(effects)
        agent_id = record.agent_id
        wrap_up_s = self.agent_config[agent_id].wrap_up_s
        assert record.answered_at is not None
        self.handle_times[record.entry.queue_id].record(now - record.answered_at + wrap_up_s)
        self._forget(record)
        if wrap_up_s > 0:
            self._table.step(agent_id, AgentInput.CALL_END, now, effects)
        else:
            # No wrap-up to schedule: pass through wrap_up at once and look for the next call.
            scratch: list[Effect] = []
            self._table.step(agent_id, AgentInput.CALL_END, now, scratch)
            self._table.step(agent_id, AgentInput.WRAP_UP_DONE, now, effects)
            self._free_agent(agent_id, now, effects)
        return self._finish(effects)

    def tick(self, now: float) -> list[Effect]:
        return self._finish(self._advance(now))

    # --- queries ------------------------------------------------------------------------------

    def traces(self, call_id: str) -> tuple[DecisionTrace, ...]:
        record = self.calls.get(call_id)
        if record is not None:
            return tuple(record.traces)
        return self._finished.get(call_id, ())

    def next_wakeup(self) -> float | None:
        return self._timers.next_at()

    def announcement(self, call_id: str, now: float) -> Announcement | None:
        record = self.calls.get(call_id)
        if record is None or record.state != "waiting":
            return None
        policy = self.router.queues[record.entry.queue_id].announcements
        position = self.lines.position(record.entry)
        return Announcement(
            call_id,
            record.entry.queue_id,
            position,
            self._estimate(record, position),
            policy.position,
            policy.ewt,
        )

    # --- internals: calls ---------------------------------------------------------------------

    def _enter_queue(
        self, record: CallRecord, now: float, effects: list[Effect], check_ewt: bool
    ) -> None:
        """The call starts waiting in ``record.entry.queue_id`` (arrival or overflow)."""
        queue = self.router.queues[record.entry.queue_id]
        for rule in queue.overflow:
            if rule.when == "max_wait":
                self._schedule(record.queue_entered_at + rule.threshold_s, "max_wait", record)
        self._route(record, now, effects)
        waited = now - record.entry.enqueued_at
        # What each method would announce now; scored against the actual wait at answer.
        record.asterisk_predicted = waited + self.asterisk_hold[queue.id].announced_wait(0)
        if record.state != "waiting":
            record.predicted_wait = waited
            return
        position = self.lines.position(record.entry)
        record.predicted_wait = waited + self._estimate(record, position)
        if check_ewt:
            remaining = record.predicted_wait - (now - record.entry.enqueued_at)
            for rule in queue.overflow:
                if rule.when == "ewt" and remaining > rule.threshold_s:
                    self._overflow(record, rule, now, effects)
                    return

    def _route(self, record: CallRecord, now: float, effects: list[Effect]) -> None:
        entry = record.entry
        pinned = record.pinned  # waits for its one agent: never relaxed
        entry.step = (
            0 if pinned else self.router.step_for(entry.queue_id, now - record.queue_entered_at)
        )
        own = requirement(
            own_requirement(self.router.queues[entry.queue_id], record.skills, record.language)
        )
        entry.eligibility = self.router.eligibility(
            entry.queue_id, entry.step, own, record.language
        )
        agent, trace = self.router.call_waiting(entry, now)
        record.traces.append(trace)
        if agent is not None:
            self._offer(record, agent.agent_id, trace, now, effects)
            return
        self.lines.add(entry)
        next_step = self.router.next_step_at(entry.queue_id, entry.step, record.queue_entered_at)
        if next_step is not None and not pinned:
            self._schedule(next_step, "relax", record)

    def _offer(
        self,
        record: CallRecord,
        agent_id: str,
        trace: DecisionTrace,
        now: float,
        effects: list[Effect],
    ) -> None:
        self._table.step(agent_id, AgentInput.OFFER, now, effects)
        record.state = "offered"
        record.agent_id = agent_id
        self._offer_of_agent[agent_id] = record.entry.call_id
        queue = self.router.queues[record.entry.queue_id]
        device = self.agents[agent_id].device
        assert device is not None
        effects.append(
            OfferCall(
                record.entry.call_id,
                agent_id,
                device,
                queue.id,
                queue.ring_timeout_s,
                trace.decision_id,
            )
        )

    def _leave(self, record: CallRecord, now: float, effects: list[Effect], why: str) -> None:
        """The call leaves unanswered (abandon, overflow out): free a ringing agent."""
        agent_id = record.agent_id
        self._forget(record)
        if record.state == "offered" and agent_id is not None:
            del self._offer_of_agent[agent_id]
            effects.append(OfferWithdrawn(record.entry.call_id, agent_id, why))
            self._table.step(agent_id, AgentInput.OFFER_CANCELLED, now, effects)
            self._free_agent(agent_id, now, effects)

    def _forget(self, record: CallRecord) -> None:
        if record.state == "waiting":
            self.router.calls.remove(record.entry)
            self.lines.discard(record.entry)
        self._forget_declines_of_call(record)
        call_id = record.entry.call_id
        del self.calls[call_id]
        self._finished[call_id] = tuple(record.traces)
        if len(self._finished) > self._trace_history:
            self._finished.popitem(last=False)

    def _overflow(
        self, record: CallRecord, rule: OverflowRule, now: float, effects: list[Effect]
    ) -> None:
        entry = record.entry
        effects.append(
            OverflowCall(
                entry.call_id, entry.queue_id, rule.target, rule.when, now - entry.enqueued_at
            )
        )
        if rule.target.kind != "queue" or record.hops >= MAX_OVERFLOW_HOPS:
            self._leave(record, now, effects, f"overflow ({rule.when})")
            return
        self.router.calls.remove(entry)
        self.lines.discard(entry)
        target = self.router.queues[rule.target.name]
        record.hops += 1
        entry.queue_id = target.id
        entry.weight = target.weight
        record.queue_entered_at = now  # relaxation and max wait restart; the place in line not
        self._enter_queue(record, now, effects, check_ewt=False)

    def _estimate(self, record: CallRecord, position: int) -> float:
        staffing = self.router.pool.eligible_count(record.entry.eligibility, self._paused)
        handle = self.handle_times[record.entry.queue_id].mean
        return estimate_wait(position, staffing, handle)

    # --- internals: agents --------------------------------------------------------------------

    def _free_agent(self, agent_id: str, now: float, effects: list[Effect]) -> None:
        call, trace = self.router.agent_available(agent_id, now)
        self.agent_traces[agent_id] = trace
        if call is None:
            return
        record = self.calls[call.call_id]
        record.traces.append(trace)
        self.lines.discard(call)
        self._offer(record, agent_id, trace, now, effects)

    def _current_offer(
        self, event: str, call_id: str, agent_id: str, effects: list[Effect]
    ) -> CallRecord | None:
        record = self.calls.get(call_id)
        if record is None or record.state != "offered" or record.agent_id != agent_id:
            effects.append(Ignored(event, call_id, f"no open offer of this call to {agent_id}"))
            return None
        return record

    def _forget_declines(self, agent_id: str) -> None:
        for call_id in self.router.pool.agents[agent_id].declined:
            record = self.calls.get(call_id)
            if record is not None:
                record.entry.declined_by.discard(agent_id)

    def _forget_declines_of_call(self, record: CallRecord) -> None:
        for agent_id in record.entry.declined_by:
            entry = self.router.pool.agents.get(agent_id)
            if entry is not None:
                entry.declined.discard(record.entry.call_id)
        record.entry.declined_by.clear()

    # --- internals: timers --------------------------------------------------------------------

    def _schedule(self, at: float, kind: str, record: CallRecord) -> None:
        self._timers.schedule(at, kind, record.entry.call_id, record.hops)

    def _advance(self, now: float) -> list[Effect]:
        effects: list[Effect] = []
        if not self._timers.due_by(now):
            return effects  # every input starts here: the common case costs one comparison
        for at, group in self._timers.due(now):
            due: list[tuple[str, CallRecord]] = []
            for kind, call_id, hops in group:
                record = self.calls.get(call_id)
                if record is not None and record.hops == hops:  # else: left, or moved on
                    due.append((kind, record))
            # Calls coming due at the same instant are served best first, so that one
            # relaxing together with a better one cannot take the agent before it.
            due.sort(key=lambda item: item[1].entry.rank(at))
            for kind, record in due:
                if kind == "relax":
                    self._relax(record, at, effects)
                else:
                    self._max_wait(record, at, effects)
        return effects

    def _relax(self, record: CallRecord, at: float, effects: list[Effect]) -> None:
        if record.state != "waiting":
            return  # offered or answered: a failed offer re-routes with the step then due
        waited = at - record.queue_entered_at
        if self.router.step_for(record.entry.queue_id, waited) != record.entry.step:
            self.router.calls.remove(record.entry)
            self.lines.discard(record.entry)
            self._route(record, at, effects)

    def _max_wait(self, record: CallRecord, at: float, effects: list[Effect]) -> None:
        if record.state == "offered":
            # Let the ring finish; look again when it must have ended.
            ring = self.router.queues[record.entry.queue_id].ring_timeout_s
            self._schedule(at + ring, "max_wait", record)
        elif record.state == "waiting":
            waited = at - record.queue_entered_at
            due = [
                rule
                for rule in self.router.queues[record.entry.queue_id].overflow
                if rule.when == "max_wait" and rule.threshold_s <= waited + 1e-9
            ]
            if due:
                self._overflow(record, max(due, key=lambda r: r.threshold_s), at, effects)

    def _finish(self, effects: list[Effect]) -> list[Effect]:
        wakeup = self.next_wakeup()
        if wakeup is not None and wakeup != self._reported_wakeup:
            effects.append(WakeUpAt(wakeup))
        self._reported_wakeup = wakeup
        return effects
