"""Discrete-event simulation of a scenario, routed by the live ``acd.engine.AcdEngine`` itself.

The simulator owns a virtual clock (a heap of ``(at, seq, kind, subject)``) and plays the part
of the async service: it feeds the engine's inputs (login/logout, ``call_arrived``,
``offer_answered``, ``call_ended``, ``wrap_up_done``, ``call_abandoned``, ``tick``) and carries
out the effects the engine returns (``OfferCall`` → the agent answers after the ring delay,
``WrapUpEnds`` → ``wrap_up_done`` then, ``WakeUpAt`` → ``tick`` then). It never decides who
takes a call: every routing decision, wrap-up, relaxation, overflow and wait estimate is the
engine's.

Invariants:
- events at the same instant run in the order they were scheduled (``seq``), so a run is a
  pure function of the scenario and its seed;
- arrivals are Poisson with a piecewise-constant rate (the interval's mean count ÷ its
  length); a draw that crosses an interval boundary is redrawn from the boundary with the next
  rate, which is exact because the exponential distribution is memoryless;
- a caller's patience starts at arrival; when it runs out before an agent answers, the caller
  hangs up (also while an agent's phone rings: the engine withdraws that offer);
- an agent whose shift ends on a call logs out when its wrap-up ends (or, without wrap-up,
  once free); the engine refuses a logout from ``on_call``/``reserved`` and the simulator
  takes that refusal as the cue to wait.
Figures (``staffing.sim_stats``) cover calls that arrived in ``[warm-up, duration)``; the run
continues after ``duration`` without new arrivals until every call has left.
"""

from __future__ import annotations

import gc
import heapq
import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from acd.agent_state import AgentState, WrapUpEnds
from acd.effects import (
    AgentPaused,
    CallArrived,
    Effect,
    Ignored,
    OfferCall,
    OfferWithdrawn,
    OverflowCall,
    Rejected,
    WakeUpAt,
)
from acd.engine import AcdEngine
from acd.indexes import requirement, satisfies
from acd.model import AcdConfig
from staffing.engine_driver import EngineDriver, RoutingEngine
from staffing.sampling import Picker, Sampler
from staffing.scenario import Scenario, arrival_counts, parse_shift
from staffing.sim_stats import CallOutcome, SimulationResult, Tally

# Event kinds, in no particular order (ties are broken by scheduling order, not kind).
_ARRIVE, _ABANDON, _ANSWER, _END, _WRAP, _WAKE, _LOGIN, _LOGOUT = range(8)
_WAITING, _OFFERED, _CONNECTED, _GONE = range(4)


@dataclass(slots=True, eq=False)
class _Call:
    call_id: str
    queue: int  # index of the queue it arrived in (figures are kept there)
    arrived: float
    measured: bool  # arrived within [warm-up, duration)
    handle_s: float
    predicted: float = math.inf
    asterisk_predicted: float = math.inf
    state: int = _WAITING
    agent_id: str = ""
    offered_at: float = 0.0
    answered_at: float = 0.0


@dataclass(slots=True)
class _QueueTraffic:
    queue_id: str
    rates: list[float]  # calls per second, per interval
    handle: Sampler
    patience: Sampler | None
    vip_share: float
    vip_priority: int
    languages: Picker
    mix: Picker


class Simulation:
    def __init__(
        self,
        scenario: Scenario,
        *,
        base_dir: Path = Path("."),
        engine: RoutingEngine | None = None,
        config: AcdConfig | None = None,
    ) -> None:
        self.scenario = scenario
        self.config = config or scenario.acd_config()
        self.engine: RoutingEngine = engine or EngineDriver(AcdEngine(self.config))
        self.rng = random.Random(scenario.seed)
        self.interval_s = scenario.interval_s
        self.duration_s = scenario.duration_s
        self.warmup_s = scenario.warmup_min * 60.0
        self.ring = Sampler(scenario.ring, self.rng) if scenario.ring else None
        self.traffic = [self._traffic(q, base_dir) for q in scenario.queues]
        self.wrap_up = {a.id: a.wrap_up_s for a in self.config.agents}
        self.devices = {a.id: a.device for a in self.config.agents}
        self.tally = Tally(
            queues=[q.id for q in scenario.queues],
            thresholds=[q.service_level.within_s for q in scenario.queues],
            window=(self.warmup_s, self.duration_s),
            staffs=_staffed_queues(self.config),
        )
        self._heap: list[tuple[float, int, int, object]] = []
        self._seq = 0
        self._calls: dict[str, _Call] = {}
        self._wake_scheduled: set[float] = set()
        self._leaving: set[str] = set()  # shift over; logs out once free
        self._logged_in_at: dict[str, float] = {}
        self._next_call = 0
        self.events = 0
        self.now = 0.0

    # --- set-up -------------------------------------------------------------------------------

    def _traffic(self, queue: object, base_dir: Path) -> _QueueTraffic:
        from staffing.scenario import SimQueue

        assert isinstance(queue, SimQueue)
        t = queue.traffic
        counts = arrival_counts(self.scenario, queue, base_dir)
        languages = list(t.languages)
        mixes = [dict(m.skills) for m in t.mix]
        return _QueueTraffic(
            queue_id=queue.id,
            rates=[count / self.interval_s for count in counts],
            handle=Sampler(t.handle, self.rng),
            patience=Sampler(t.patience, self.rng) if t.patience else None,
            vip_share=t.vip_share,
            vip_priority=t.vip_priority,
            languages=Picker({i: t.languages[lang] for i, lang in enumerate(languages)}, languages),
            mix=Picker({i: m.share for i, m in enumerate(t.mix)}, mixes),
        )

    def _schedule(self, at: float, kind: int, subject: object) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, subject))

    # --- the loop -----------------------------------------------------------------------------

    def run(self) -> SimulationResult:
        with _few_collections():
            return self._run()

    def _run(self) -> SimulationResult:
        for group in self.scenario.agents:
            spans = [parse_shift(s) for s in group.shifts] or [(0.0, math.inf)]
            for agent_id in group.agent_ids():
                for start, end in spans:
                    self._schedule(start, _LOGIN, agent_id)
                    if end != math.inf:
                        self._schedule(end, _LOGOUT, agent_id)
        for index in range(len(self.traffic)):
            self._next_arrival(index, 0.0)
        heap = self._heap
        pop = heapq.heappop
        events = 0
        while heap:
            at, _, kind, subject = pop(heap)
            self.now = at
            events += 1
            if kind == _ARRIVE:
                self._arrive(subject, at)  # type: ignore[arg-type]
            elif kind == _END:
                self._end(subject, at)  # type: ignore[arg-type]
            elif kind == _WRAP:
                self._wrap_done(subject, at)  # type: ignore[arg-type]
            elif kind == _ANSWER:
                self._answer(subject, at)  # type: ignore[arg-type]
            elif kind == _ABANDON:
                self._abandon(subject, at)  # type: ignore[arg-type]
            elif kind == _WAKE:
                self._wake_scheduled.discard(at)
                wakeup = self.engine.next_wakeup()
                if wakeup is not None and wakeup <= at:
                    self._apply(self.engine.tick(at), at)
            elif kind == _LOGIN:
                self._login(subject, at)  # type: ignore[arg-type]
            else:
                self._logout(subject, at)  # type: ignore[arg-type]
        self.events = events
        for agent_id, since in self._logged_in_at.items():
            self.tally.logged_in(since, self.now, agent_id)
        still = [c for c in self._calls.values() if c.measured]
        return self.tally.result(
            self.scenario.sl_formula, still_waiting=still_waiting_by_queue(still, self.tally)
        )

    # --- arrivals and callers -----------------------------------------------------------------

    def _next_arrival(self, index: int, now: float) -> None:
        rates = self.traffic[index].rates
        interval = int(now // self.interval_s)
        expovariate = self.rng.expovariate
        while interval < len(rates):
            end = min((interval + 1) * self.interval_s, self.duration_s)
            rate = rates[interval]
            if rate > 0:
                at = now + expovariate(rate)
                if at < end:
                    self._schedule(at, _ARRIVE, index)
                    return
            interval += 1
            now = end

    def _arrive(self, index: int, now: float) -> None:
        self._next_arrival(index, now)
        traffic = self.traffic[index]
        rng = self.rng.random
        self._next_call += 1
        call_id = f"c{self._next_call}"
        priority = traffic.vip_priority if traffic.vip_share and rng() < traffic.vip_share else 0
        language = traffic.languages.pick(rng()) if traffic.languages.values else None
        skills = traffic.mix.pick(rng()) if traffic.mix.values else None
        call = _Call(
            call_id,
            index,
            now,
            self.warmup_s <= now < self.duration_s,
            traffic.handle.draw(),
        )
        self._calls[call_id] = call
        if traffic.patience is not None:
            self._schedule(now + traffic.patience.draw(), _ABANDON, call)
        arrived = CallArrived(
            call_id,
            traffic.queue_id,
            now,
            priority,
            skills or {},  # type: ignore[arg-type]
            language,  # type: ignore[arg-type]
        )
        effects = self.engine.call_arrived(arrived, now)
        if call.state == _WAITING:
            call.predicted, call.asterisk_predicted = self.engine.predicted_wait(call_id)
        else:  # offered at once: the engine predicted no wait
            call.predicted = call.asterisk_predicted = 0.0
        self._apply(effects, now)

    def _abandon(self, call: _Call, now: float) -> None:
        if call.state in (_CONNECTED, _GONE):
            return
        self._apply(self.engine.call_abandoned(call.call_id, now), now)
        self._finish(call, CallOutcome.ABANDONED, now)

    # --- offers, calls, wrap-up ---------------------------------------------------------------

    def _offered(self, effect: OfferCall, now: float) -> None:
        call = self._calls[effect.call_id]
        call.state = _OFFERED
        call.agent_id = effect.agent_id
        call.offered_at = now
        if self.ring is None:
            self._answer(call, now)
        else:
            self._schedule(now + self.ring.draw(), _ANSWER, call)

    def _answer(self, call: _Call, now: float) -> None:
        if call.state != _OFFERED:
            return  # the caller hung up while it rang (the engine withdrew the offer)
        effects = self.engine.offer_answered(call.call_id, call.agent_id, now)
        call.state = _CONNECTED
        call.answered_at = now
        self._schedule(now + call.handle_s, _END, call)
        self._apply(effects, now)

    def _end(self, call: _Call, now: float) -> None:
        agent_id = call.agent_id
        effects = self.engine.call_ended(call.call_id, now)
        self._finish(call, CallOutcome.ANSWERED, now)
        self.tally.worked(call.queue, call.offered_at, now + self.wrap_up[agent_id])
        self._apply(effects, now)
        if agent_id in self._leaving:
            self._settle_leaving(agent_id, now)

    def _wrap_done(self, agent_id: str, now: float) -> None:
        if agent_id in self._leaving:
            self._logout(agent_id, now)
        else:
            self._apply(self.engine.wrap_up_done(agent_id, now), now)

    def _finish(self, call: _Call, outcome: CallOutcome, now: float) -> None:
        call.state = _GONE
        del self._calls[call.call_id]
        if not call.measured:
            return
        waited = (call.answered_at if outcome is CallOutcome.ANSWERED else now) - call.arrived
        self.tally.call(
            call.queue, outcome, waited, call.predicted, call.asterisk_predicted, call.agent_id
        )

    # --- agents -------------------------------------------------------------------------------

    def _login(self, agent_id: str, now: float) -> None:
        self._leaving.discard(agent_id)
        effects = self.engine.login(agent_id, now, self.devices[agent_id])
        self._logged_in_at.setdefault(agent_id, now)
        self._apply(effects, now)

    def _logout(self, agent_id: str, now: float) -> None:
        effects = self.engine.logout(agent_id, now)
        if any(type(e) is Rejected for e in effects):
            self._leaving.add(agent_id)  # on a call or ringing: leaves once free
            effects = [e for e in effects if type(e) is not Rejected]
        else:
            self._leaving.discard(agent_id)
            since = self._logged_in_at.pop(agent_id, None)
            if since is not None:
                self.tally.logged_in(since, now, agent_id)
        self._apply(effects, now)

    def _settle_leaving(self, agent_id: str, now: float) -> None:
        if self.engine.agent_state(agent_id) is AgentState.AVAILABLE:
            self._logout(agent_id, now)

    # --- effects ------------------------------------------------------------------------------

    def _apply(self, effects: list[Effect], now: float) -> None:
        for effect in effects:
            kind = type(effect)
            if kind is OfferCall:
                self._offered(effect, now)  # type: ignore[arg-type]
            elif kind is WakeUpAt:
                at = effect.at  # type: ignore[union-attr]
                if at not in self._wake_scheduled:
                    self._wake_scheduled.add(at)
                    self._schedule(at, _WAKE, None)
            elif kind is WrapUpEnds:
                self._schedule(effect.at, _WRAP, effect.agent_id)  # type: ignore[union-attr]
            elif kind is OfferWithdrawn:
                self._withdrawn(effect, now)  # type: ignore[arg-type]
            elif kind is OverflowCall:
                self._overflowed(effect, now)  # type: ignore[arg-type]
            elif kind is Rejected:
                raise RuntimeError(f"the engine refused a simulated input: {effect}")
            # Ignored (a stale timer) and AgentPaused (no-answer; never simulated) need nothing.
            elif kind is not Ignored and kind is not AgentPaused:
                raise AssertionError(f"unhandled effect {effect!r}")  # pragma: no cover

    def _withdrawn(self, effect: OfferWithdrawn, now: float) -> None:
        call = self._calls.get(effect.call_id)
        queue = call.queue if call else 0
        offered_at = call.offered_at if call else now
        self.tally.worked(queue, offered_at, now)  # the ring time was the agent's work
        if effect.agent_id in self._leaving:
            self._settle_leaving(effect.agent_id, now)

    def _overflowed(self, effect: OverflowCall, now: float) -> None:
        call = self._calls.get(effect.call_id)
        if call is None:
            return
        # Into another queue the call waits on (its figures stay with the queue it arrived
        # in); to voicemail, a closed message or past the hop limit it has left.
        if not self.engine.has_call(call.call_id):
            self._finish(call, CallOutcome.OVERFLOWED, now)


@contextmanager
def _few_collections() -> Iterator[None]:
    """The run allocates millions of short-lived tuples among ~10⁵ long-lived objects: the
    cyclic collector's full passes then cost a fifth of the run. Objects made before the run
    are frozen and collections made rarer, for the run only."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1_000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _staffed_queues(config: AcdConfig) -> dict[str, list[int]]:
    """For each agent, the queues whose own skills it holds (occupancy denominators)."""
    needs = [requirement(q.skills) for q in config.queues]
    return {
        a.id: [i for i, need in enumerate(needs) if satisfies(a.skills, need)]
        for a in config.agents
    }


def still_waiting_by_queue(calls: Sequence[_Call], tally: Tally) -> list[int]:
    counts = [0] * len(tally.queues)
    for call in calls:
        counts[call.queue] += 1
    return counts


def simulate(scenario: Scenario, *, base_dir: Path = Path(".")) -> SimulationResult:
    return Simulation(scenario, base_dir=base_dir).run()
