"""The simulator: scenario validation, reproducibility, shifts, and shared routing code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.agent_state import AgentState
from acd.effects import CallArrived, Effect, OfferCall
from acd.engine import AcdEngine
from acd.loader import ConfigError
from staffing.engine_driver import EngineDriver
from staffing.erlang import erlang_c_metrics
from staffing.scenario import Scenario, load_scenario, scenario_from_text
from staffing.simulate import Simulation

BLENDED = """
seed: 11
duration_h: 2
interval_min: 30
ring: {kind: constant, mean_s: 2}
skills: [{id: cards}, {id: loans}, {id: language_zh}, {id: language_en}]
queues:
  - id: cards
    skills: {cards: 3}
    relaxation: [{after_s: 20, min_level: 1}, {after_s: 60, drop_skills: [language_en]}]
    overflow: [{when: max_wait, threshold_s: 240, target: {kind: voicemail, name: "100"}}]
    traffic:
      calls_per_interval: [60, 90, 120, 60]
      handle: {kind: lognormal, mean_s: 150, cv: 0.7}
      patience: {mean_s: 90}
      vip_share: 0.1
      languages: {zh: 0.8, en: 0.2}
  - id: loans
    skills: [loans]
    strategy: best_skill
    traffic:
      calls_per_hour: 80
      handle: {mean_s: 200}
      patience: {mean_s: 120}
      mix: [{share: 0.3, skills: {cards: 1}}]
agents:
  - {prefix: c, count: 6, skills: {cards: 5, language_zh: 1}, wrap_up_s: 10}
  - {prefix: b, count: 4, skills: {cards: 2, loans: 4, language_zh: 1, language_en: 1},
     wrap_up_s: 5, shifts: ["00:00-01:00", "01:15-02:00"]}
  - {prefix: l, count: 3, skills: {loans: 6, language_en: 1}, shifts: ["00:30-02:00"]}
"""


def _single(agents: int, calls_per_hour: float, hours: float, seed: int = 3) -> Scenario:
    return Scenario.model_validate({
        "seed": seed, "duration_h": hours, "warmup_min": 30, "interval_min": 60,
        "queues": [{"id": "q", "skills": ["s"], "traffic": {
            "calls_per_hour": calls_per_hour, "handle": {"mean_s": 180}}}],
        "agents": [{"prefix": "a", "count": agents, "skills": ["s"]}],
    })  # fmt: skip


class RecordingEngine(EngineDriver):
    """The real engine, with every input and the effects it returned written down."""

    def __init__(self, engine: AcdEngine) -> None:
        super().__init__(engine)
        self.journal: list[tuple[str, tuple[Any, ...], list[Effect]]] = []
        for name in ("login", "logout", "wrap_up_done", "call_arrived", "call_abandoned",
                     "offer_answered", "call_ended", "tick"):  # fmt: skip
            setattr(self, name, self._recorder(name, getattr(engine, name)))

    def _recorder(self, name: str, method: Any) -> Any:
        def record(*args: Any) -> list[Effect]:
            effects: list[Effect] = method(*args)
            self.journal.append((name, args, list(effects)))
            return effects

        return record


def test_scenario_errors_name_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "queues:\n  - id: cards\n    traffic:\n      calls_per_hour: lots\n"
        "      handle: {mean_s: 180}\nagents:\n  - {prefix: a, count: 0}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert f"{path}:4:7: queues.0.traffic.calls_per_hour" in text
    assert f"{path}:7:17: agents.0.count" in text


def test_scenario_refuses_two_arrival_sources_and_bad_shifts() -> None:
    text = BLENDED.replace("calls_per_hour: 80", "calls_per_hour: 80\n      forecast: f.json")
    with pytest.raises(ConfigError, match="exactly one of"):
        scenario_from_text(text)
    with pytest.raises(ConfigError, match="must end after it starts"):
        scenario_from_text(BLENDED.replace('"00:30-02:00"', '"02:00-00:30"'))
    with pytest.raises(ConfigError, match="4 calls_per_interval for 2 intervals"):
        scenario_from_text(BLENDED.replace("interval_min: 30", "interval_min: 60"))


def test_scenario_ids_and_languages_stay_strings() -> None:
    text = BLENDED.replace("languages: {zh: 0.8, en: 0.2}", "languages: {no: 0.5, on: 0.5}")
    scenario = scenario_from_text(text.replace('name: "100"', "name: 100"))
    assert set(scenario.queues[0].traffic.languages) == {"no", "on"}
    assert scenario.queues[0].overflow[0].target.name == "100"


def test_runs_are_reproducible_by_seed() -> None:
    scenario = scenario_from_text(BLENDED)
    first = Simulation(scenario).run().as_dict()
    assert Simulation(scenario).run().as_dict() == first
    other = scenario.model_copy(update={"seed": 12})
    assert Simulation(other).run().as_dict() != first


def test_blended_run_accounts_for_every_call() -> None:
    sim = Simulation(scenario_from_text(BLENDED))
    result = sim.run()
    for q in result.queues:
        assert q.offered == q.answered + q.abandoned + q.overflowed + q.still_waiting
        assert q.offered > 0 and q.answered > 0 and q.abandoned > 0
        # Calls that arrived with nobody eligible logged in have no estimate to score.
        assert q.ewt_mae_s is not None and 0 < q.ewt_scored <= q.answered
    assert result.queue("cards").offered > result.queue("loans").offered
    assert 0 < (result.total.occupancy or 0) <= 1
    # Every shift ended with a logout, even for agents on a call when it ended.
    assert isinstance(sim.engine, EngineDriver)
    engine = sim.engine.engine
    assert all(engine.agents[f"l{i:04d}"].state is AgentState.LOGGED_OUT for i in (1, 2, 3))
    assert all(engine.agents[f"b{i:04d}"].state is AgentState.LOGGED_OUT for i in (1, 2, 3, 4))
    assert not engine.calls


def test_the_simulator_drives_the_live_engine_class_itself() -> None:
    sim = Simulation(scenario_from_text(BLENDED))
    assert isinstance(sim.engine, EngineDriver)
    assert type(sim.engine.engine) is AcdEngine
    # Bound methods of that engine, not a copy of its logic.
    assert sim.engine.call_arrived.__func__ is AcdEngine.call_arrived  # type: ignore[attr-defined]
    assert sim.engine.offer_answered.__self__ is sim.engine.engine  # type: ignore[attr-defined]


def test_simulated_decisions_equal_the_live_engine_s_for_the_same_inputs() -> None:
    """Replay every input the simulator gave the engine on a fresh engine built the way the
    live service builds one (same config, same class): the effects (offers with their agent
    and decision id, wrap-ups, wake-ups, overflows) are identical, input by input."""
    scenario = scenario_from_text(BLENDED)
    recorder = RecordingEngine(AcdEngine(scenario.acd_config()))
    Simulation(scenario, engine=recorder).run()
    offers = [e for _, _, effects in recorder.journal for e in effects if type(e) is OfferCall]
    assert len(offers) > 100
    live = AcdEngine(scenario.acd_config())
    for name, args, expected in recorder.journal:
        assert getattr(live, name)(*args) == expected, (name, args)


def test_same_state_same_offer_on_simulated_and_direct_engines() -> None:
    """Build one state twice — through the simulator's clock and by direct calls — and ask
    both engines for the next decision."""
    scenario = _single(agents=3, calls_per_hour=0.0, hours=1)
    sim = Simulation(scenario)
    sim.run()  # logs the three agents in at t = 0 on the virtual clock
    assert isinstance(sim.engine, EngineDriver)
    direct = AcdEngine(scenario.acd_config())
    for agent in scenario.acd_config().agents:
        direct.login(agent.id, 0.0, agent.device)
    call = CallArrived("x1", "q", 4000.0, priority=0)
    assert sim.engine.call_arrived(call, 4000.0) == direct.call_arrived(call, 4000.0)


def test_short_single_skill_run_is_near_erlang_c() -> None:
    # 6 Erlang on 9 agents for 60 h (~7,000 calls): a smoke check; the 1-point agreement on
    # long runs is tests/integration/test_staffing_agreement.py.
    result = Simulation(_single(agents=9, calls_per_hour=120, hours=60)).run().queues[0]
    expected = erlang_c_metrics(9, 6.0, 20, 180)
    assert result.service_level == pytest.approx(expected.service_level, abs=0.03)
    assert result.occupancy == pytest.approx(expected.occupancy, abs=0.02)
    assert result.abandoned == 0
