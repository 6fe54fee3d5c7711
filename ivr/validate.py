"""Semantic checks over a schema-valid configuration, each problem with file, line and column.

What a caller could meet is an error here, before any call: a target or prompt that does not
exist, a node no call can reach, a loop that spins without asking the caller for anything, a
prompt without text in one of the hotline's languages, missing audio, a DID on two hotlines,
queues, skills, calendars, schedules or actions that are not defined.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ivr.config import IvrConfig, load_config, node_prompts, node_targets, qualify
from ivr.loader import Problem
from ivr.model import (
    INPUT_KINDS,
    ActionNode,
    Hotline,
    LanguageNode,
    QueueNode,
    SetNode,
    language_skill,
)

AUDIO_EXTENSIONS = (".wav", ".gsm", ".ulaw", ".alaw", ".sln")


def validate_directory(
    directory: Path, *, prompts_dir: Path | None = None, action_names: Iterable[str] = ()
) -> tuple[IvrConfig | None, list[Problem]]:
    config, problems = load_config(directory)
    if config is None:
        return None, problems
    problems = validate_config(config, prompts_dir=prompts_dir, action_names=action_names)
    return (config if not problems else None), problems


def validate_config(
    config: IvrConfig, *, prompts_dir: Path | None = None, action_names: Iterable[str] = ()
) -> list[Problem]:
    known_actions = frozenset(action_names)
    # The graph checks step over dangling references, which are reported once, above them.
    problems = [
        *_check_references(config),
        *_check_hotlines(config, known_actions),
        *_check_catalogue(config, known_actions),
        *_check_reachability(config),
        *_check_loops_without_input(config),
        *_check_languages(config),
    ]
    if prompts_dir is not None:
        problems += _check_audio(config, prompts_dir)
    return sorted(set(problems))


def _check_references(config: IvrConfig) -> list[Problem]:
    problems = []
    for node_id, node in config.nodes.items():
        flow = node_id.split(".", 1)[0]
        document, base = config.node_source(node_id)
        for inner, reference in node_targets(node):
            if qualify(reference, flow) not in config.nodes:
                problems.append(document.problem((*base, *inner), f"unknown node {reference!r}"))
        for inner, reference in node_prompts(node):
            if qualify(reference, flow) not in config.prompts:
                problems.append(document.problem((*base, *inner), f"unknown prompt {reference!r}"))
    return problems


def _hotline_path(config: IvrConfig, hotline: Hotline) -> tuple[str | int, ...]:
    return ("hotlines", config.hotlines.index(hotline))


def _check_hotlines(config: IvrConfig, known_actions: frozenset[str]) -> list[Problem]:
    document = config.hotlines_document
    file = config.hotlines_file
    problems = []
    for name, schedule in file.schedules.items():
        for index, calendar in enumerate(schedule.holidays):
            if calendar not in file.calendars:
                path = ("schedules", name, "holidays", index)
                problems.append(document.problem(path, f"unknown calendar {calendar!r}"))
    seen_dids: dict[str, str] = {}
    seen_ids: set[str] = set()
    for hotline in config.hotlines:
        base = _hotline_path(config, hotline)
        if hotline.id in seen_ids:
            problems.append(document.problem((*base, "id"), f"duplicate hotline {hotline.id!r}"))
        seen_ids.add(hotline.id)
        for index, did in enumerate(hotline.dids):
            if did in seen_dids:
                message = f"DID {did} is already used by hotline {seen_dids[did]!r}"
                problems.append(document.problem((*base, "dids", index), message))
            seen_dids.setdefault(did, hotline.id)
        if hotline.entry not in config.nodes:
            problems.append(document.problem((*base, "entry"), f"unknown node {hotline.entry!r}"))
        if hotline.schedule is not None and hotline.schedule not in file.schedules:
            message = f"unknown schedule {hotline.schedule!r}"
            problems.append(document.problem((*base, "schedule"), message))
        if hotline.closed is not None:
            if hotline.closed.prompt not in config.prompts:
                message = f"unknown prompt {hotline.closed.prompt!r}"
                problems.append(document.problem((*base, "closed", "prompt"), message))
            if hotline.closed.then is not None and hotline.closed.then not in config.nodes:
                message = f"unknown node {hotline.closed.then!r}"
                problems.append(document.problem((*base, "closed", "then"), message))
        if hotline.default_queue not in config.queues:
            message = f"unknown queue {hotline.default_queue!r} (not in queues.yaml)"
            problems.append(document.problem((*base, "default_queue"), message))
        vip = hotline.vip
        if vip is not None and vip.lookup is not None and vip.lookup not in known_actions:
            message = f"unknown action {vip.lookup!r} (not registered)"
            problems.append(document.problem((*base, "vip", "lookup"), message))
        for language in hotline.languages:
            if language_skill(language) not in config.skills:
                message = f"skill {language_skill(language)!r} is not in skills.yaml"
                problems.append(document.problem((*base, "languages"), message))
    return problems


def _check_catalogue(config: IvrConfig, known_actions: frozenset[str]) -> list[Problem]:
    problems = []
    queues_document = config.queues_document
    for index, queue in enumerate(config.queues.values()):
        for skill_index, skill in enumerate(queue.skills):
            if skill not in config.skills:
                path = ("queues", index, "skills", skill_index)
                problems.append(queues_document.problem(path, f"unknown skill {skill!r}"))
    for node_id, node in config.nodes.items():
        document, base = config.node_source(node_id)
        if isinstance(node, QueueNode) and node.queue not in config.queues:
            message = f"unknown queue {node.queue!r} (not in queues.yaml)"
            problems.append(document.problem((*base, "queue"), message))
        if isinstance(node, QueueNode | SetNode):
            for skill in node.skills:
                if skill not in config.skills:
                    message = f"unknown skill {skill!r} (not in skills.yaml)"
                    problems.append(document.problem((*base, "skills", skill), message))
        if isinstance(node, ActionNode) and node.action and node.action not in known_actions:
            message = f"unknown action {node.action!r} (not registered)"
            problems.append(document.problem((*base, "action"), message))
    return problems


def _entry_points(config: IvrConfig, hotline: Hotline) -> list[str]:
    entries = [hotline.entry]
    if hotline.closed is not None and hotline.closed.then is not None:
        entries.append(hotline.closed.then)
    return entries


def _successors(config: IvrConfig, node_id: str) -> list[str]:
    flow = node_id.split(".", 1)[0]
    targets = (qualify(target, flow) for _, target in node_targets(config.nodes[node_id]))
    return [target for target in targets if target in config.nodes]


def reachable_from(config: IvrConfig, entries: Iterable[str]) -> list[str]:
    """Node ids reachable from ``entries``, in visiting order."""
    seen: dict[str, None] = {}
    stack = list(entries)
    while stack:
        node_id = stack.pop()
        if node_id in seen or node_id not in config.nodes:
            continue
        seen[node_id] = None
        stack.extend(reversed(_successors(config, node_id)))
    return list(seen)


def _check_reachability(config: IvrConfig) -> list[Problem]:
    entries = [entry for hotline in config.hotlines for entry in _entry_points(config, hotline)]
    reachable = set(reachable_from(config, entries))
    problems = []
    for node_id in config.nodes:
        if node_id not in reachable:
            document, path = config.node_source(node_id)
            message = f"unreachable node {node_id!r}: no hotline or node leads here"
            problems.append(document.problem(path, message))
    return problems


def _check_loops_without_input(config: IvrConfig) -> list[Problem]:
    """A cycle made only of nodes that take no keys would spin forever without the caller."""
    silent = {node_id for node_id, node in config.nodes.items() if node.kind not in INPUT_KINDS}
    problems = []
    reported: set[frozenset[str]] = set()
    done: set[str] = set()

    def visit(node_id: str, trail: list[str]) -> None:
        if node_id in trail:
            cycle = trail[trail.index(node_id) :]
            if frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                document, path = config.node_source(cycle[0])
                loop = " → ".join([*cycle, cycle[0]])
                message = f"loop without caller input: {loop}"
                problems.append(document.problem(path, message))
            return
        if node_id in done:
            return
        trail.append(node_id)
        for successor in _successors(config, node_id):
            if successor in silent:
                visit(successor, trail)
        trail.pop()
        done.add(node_id)

    for node_id in config.nodes:
        if node_id in silent:
            visit(node_id, [])
    return problems


def _check_languages(config: IvrConfig) -> list[Problem]:
    problems = []
    for hotline in config.hotlines:
        used: dict[str, None] = {}
        if hotline.closed is not None:
            used[hotline.closed.prompt] = None
        for node_id in reachable_from(config, _entry_points(config, hotline)):
            node = config.nodes[node_id]
            flow = node_id.split(".", 1)[0]
            for _, reference in node_prompts(node):
                used[qualify(reference, flow)] = None
            if isinstance(node, LanguageNode):
                document, base = config.node_source(node_id)
                for key, language in node.options.items():
                    if language not in hotline.languages:
                        message = f"language {language!r} is not offered by hotline {hotline.id!r}"
                        problems.append(document.problem((*base, "options", key), message))
        for prompt_id in used:
            prompt = config.prompts.get(prompt_id)
            if prompt is None:
                continue
            for language in hotline.languages:
                if language not in prompt.text:
                    document, path = config.prompt_source(prompt_id)
                    message = (
                        f"prompt {prompt_id!r} has no {language!r} text "
                        f"(hotline {hotline.id!r} speaks {', '.join(hotline.languages)})"
                    )
                    problems.append(document.problem((*path, "text"), message))
    return problems


def audio_file(prompts_dir: Path, language: str, audio: str) -> Path | None:
    """The recorded or synthesised file for a prompt, whichever format Asterisk will find."""
    for extension in AUDIO_EXTENSIONS:
        candidate = prompts_dir / language / f"{audio}{extension}"
        if candidate.is_file():
            return candidate
    return None


def _check_audio(config: IvrConfig, prompts_dir: Path) -> list[Problem]:
    problems = []
    for prompt_id, prompt in config.prompts.items():
        for language in prompt.text:
            if audio_file(prompts_dir, language, prompt.audio) is None:
                document, path = config.prompt_source(prompt_id)
                expected = prompts_dir / language / f"{prompt.audio}.wav"
                message = f"missing audio {expected} (run: hotline prompts build)"
                problems.append(document.problem(path, message))
    return problems
