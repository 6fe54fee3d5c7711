"""Validation reports each broken file at the exact line and column an operator must fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr.actions import demo_registry
from ivr.validate import validate_directory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ivr"
REPO = Path(__file__).resolve().parents[2]
ACTIONS = ["report_lost_card"]


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    shutil.copytree(FIXTURES / "minimal", directory)
    return directory


def add_broken_flow(config_dir: Path, name: str, with_hotline: bool = False) -> str:
    shutil.copy(FIXTURES / "broken" / f"{name}.yaml", config_dir / "ivr" / "broken.yaml")
    if with_hotline:
        extra = (FIXTURES / "broken" / "extra-hotline.yaml").read_text()
        with (config_dir / "hotlines.yaml").open("a") as hotlines:
            hotlines.write(extra)
    return str(config_dir / "ivr" / "broken.yaml")


def reported(config_dir: Path, **kwargs: object) -> list[str]:
    config, problems = validate_directory(config_dir, action_names=ACTIONS, **kwargs)  # type: ignore[arg-type]
    assert (config is None) == bool(problems)
    return [str(problem).replace(str(config_dir) + "/", "") for problem in problems]


def test_minimal_fixture_is_clean(config_dir: Path) -> None:
    assert reported(config_dir) == []


def test_sample_bank_configuration_is_clean() -> None:
    config, problems = validate_directory(REPO / "config", action_names=demo_registry().names())
    assert [str(p) for p in problems] == []
    assert config is not None
    assert {hotline.id for hotline in config.hotlines} == {
        "basic-banking",
        "credit-card",
        "mortgage",
        "wealth-management",
        "insurance",
        "complaints",
    }


def test_invalid_yaml(config_dir: Path) -> None:
    add_broken_flow(config_dir, "invalid-yaml")
    assert reported(config_dir) == [
        "ivr/broken.yaml:9:1: invalid YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_schema_errors_each_at_their_line(config_dir: Path) -> None:
    add_broken_flow(config_dir, "schema")
    assert reported(config_dir) == [
        "ivr/broken.yaml:10:7: nodes.start.options.no: String should match pattern"
        " '^[0-9*#]{1,4}$'",
        "ivr/broken.yaml:12:5: nodes.start.timeout_ms: Input should be a valid integer,"
        " unable to parse string as an integer",
        "ivr/broken.yaml:13:5: nodes.start.retries: unknown field",
        "ivr/broken.yaml:15:5: nodes.end: Input tag 'hangupp' found using 'kind' does not match"
        " any of the expected tags: 'menu', 'collect', 'language', 'action', 'condition',"
        " 'play', 'say', 'set', 'goto', 'transfer', 'queue', 'hangup'",
        "ivr/broken.yaml:16:3: nodes.collect: min_length must not exceed max_length",
        "ivr/broken.yaml:23:3: nodes.act: give exactly one of 'action' (a registered callable)"
        " or 'webhook'",
        "ivr/broken.yaml:27:3: nodes.ask.prompt: field required",
    ]


def test_semantic_errors_each_at_their_line(config_dir: Path) -> None:
    add_broken_flow(config_dir, "semantic", with_hotline=True)
    assert reported(config_dir) == [
        "hotlines.yaml:31:21: DID 10000 is already used by hotline 'demo'",
        "ivr/broken.yaml:6:5: prompt 'broken.only_chinese' has no 'en' text"
        " (hotline 'broken' speaks zh, en)",
        "ivr/broken.yaml:12:7: unknown node 'nowhere'",
        "ivr/broken.yaml:17:5: unknown prompt 'missing_prompt'",
        "ivr/broken.yaml:18:3: loop without caller input:"
        " broken.spin → broken.spin_again → broken.spin",
        "ivr/broken.yaml:27:5: unknown queue 'no-such-queue' (not in queues.yaml)",
        "ivr/broken.yaml:28:14: unknown skill 'telepathy' (not in skills.yaml)",
        "ivr/broken.yaml:31:5: unknown action 'no_such_action' (not registered)",
        "ivr/broken.yaml:38:3: unreachable node 'broken.orphan': no hotline or node leads here",
    ]


def test_self_referencing_goto_is_a_loop(config_dir: Path) -> None:
    flow = config_dir / "ivr" / "demo.yaml"
    flow.write_text(
        flow.read_text().replace(
            "    next: bye\n  vip_check:",
            "    next: again\n  again:\n    kind: goto\n    target: again\n  vip_check:",
        )
    )
    problems = reported(config_dir)
    assert any("loop without caller input: demo.again → demo.again" in p for p in problems)
    assert any("unreachable node 'demo.bye'" not in p for p in problems)


def test_missing_audio_is_reported_per_language(config_dir: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "prompts"
    for language in ("zh", "en"):
        (prompts / language).mkdir(parents=True)
        for name in (
            "welcome",
            "language",
            "main",
            "invalid",
            "timeout",
            "card",
            "reference",
            "closed",
        ):
            (prompts / language / f"demo-{name}.wav").write_bytes(b"RIFF")
    (prompts / "zh" / "demo-bye.wav").write_bytes(b"RIFF")
    assert reported(config_dir, prompts_dir=prompts) == [
        f"ivr/demo.yaml:18:3: missing audio {prompts}/en/demo-bye.wav (run: hotline prompts build)"
    ]


def test_hotline_references_are_checked(config_dir: Path) -> None:
    hotlines = config_dir / "hotlines.yaml"
    text = hotlines.read_text()
    text = (
        text.replace("schedule: office", "schedule: shop")
        .replace("default_queue: general", "default_queue: nowhere")
        .replace("entry: demo.welcome", "entry: demo.nothing")
    )
    hotlines.write_text(text)
    problems = reported(config_dir)
    assert "hotlines.yaml:22:5: unknown node 'demo.nothing'" in problems
    assert "hotlines.yaml:23:5: unknown schedule 'shop'" in problems
    assert "hotlines.yaml:25:5: unknown queue 'nowhere' (not in queues.yaml)" in problems


def test_language_skill_must_exist(config_dir: Path) -> None:
    skills = config_dir / "skills.yaml"
    skills.write_text(skills.read_text().replace("  - {id: language_en}\n", ""))
    assert reported(config_dir) == ["hotlines.yaml:20:5: skill 'language_en' is not in skills.yaml"]
