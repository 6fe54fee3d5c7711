"""ACD model and loader: the IVR's minimal queues.yaml, the richer ACD shape, seed agents."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.loader import ConfigError, load_acd_config, load_agents_text, load_queues_text
from acd.model import Strategy

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "acd"


def test_repository_config_loads_with_minimal_queues() -> None:
    config = load_acd_config(
        ROOT / "config" / "queues.yaml",
        ROOT / "config" / "agents.yaml",
        ROOT / "config" / "skills.yaml",
    )
    lost = config.queue("lost-card")
    assert lost.skills == {"lost_card": 1}
    assert lost.strategy is Strategy.LONGEST_IDLE
    assert {a.id for a in config.agents} >= {"1001", "agent1"}


def test_rich_queue_fixture() -> None:
    queues = {q.id: q for q in load_queues_text((FIXTURES / "queues.yaml").read_text())}
    card = queues["credit-card"]
    assert card.skills == {"credit_card": 5}
    assert card.strategy is Strategy.BEST_SKILL
    assert [s.after_s for s in card.relaxation] == [30, 90]
    assert card.relaxation[0].min_level == 3
    assert card.relaxation[1].also_queues == ("basic-banking",)
    assert card.overflow[1].target.kind == "queue"
    assert card.native_queue == "credit-card"
    # YAML 1.1 would read ``no`` as False; the loader hands pydantic the string.
    assert queues["private-banking"].announcements.position is False


def test_ids_stay_strings_and_yaml_booleans_do_not_leak() -> None:
    agents = load_agents_text(
        "agents:\n  - {id: 1001, device: PJSIP/1001, skills: {no: 3}, wrap_up_s: 5}\n"
    )
    assert agents[0].id == "1001"
    assert agents[0].skills == {"no": 3}


def test_errors_name_file_line_and_column() -> None:
    text = "queues:\n  - id: card\n    strategy: random\n"
    with pytest.raises(ConfigError) as caught:
        load_queues_text(text, "q.yaml")
    assert any(p.startswith("q.yaml:3:") and "strategy" in p for p in caught.value.problems)


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"q.yaml:2:25: duplicate key 'id'"):
        load_queues_text("queues:\n  - {id: a, skills: [], id: b}\n", "q.yaml")


def test_relaxation_must_ascend_and_references_resolve(tmp_path: Path) -> None:
    bad = tmp_path / "queues.yaml"
    bad.write_text("queues:\n  - id: a\n    relaxation: [{after_s: 60}, {after_s: 30}]\n")
    with pytest.raises(ConfigError, match="strictly increasing"):
        load_acd_config(bad)
    bad.write_text("queues:\n  - id: a\n    relaxation: [{after_s: 60, also_queues: [zz]}]\n")
    with pytest.raises(ConfigError, match="unknown queue 'zz'"):
        load_acd_config(bad)


def test_unknown_skill_of_an_agent_is_reported(tmp_path: Path) -> None:
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n  - {id: a1, device: PJSIP/1, skills: {klingon: 3}}\n")
    with pytest.raises(ConfigError, match="unknown skill 'klingon'"):
        load_acd_config(ROOT / "config" / "queues.yaml", agents, ROOT / "config" / "skills.yaml")
