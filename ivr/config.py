"""The configuration snapshot: every file under a config directory, loaded and cross-indexed.

An ``IvrConfig`` is immutable once built; a running call keeps the snapshot it started with
(hot reload swaps the whole object). Node and prompt ids in the indexes are always qualified
(``flow.name``).

Layout of a config directory::

    hotlines.yaml  queues.yaml  skills.yaml  ivr/<flow>.yaml ...
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import assert_never

from ivr.loader import (
    ModelT,
    PathPart,
    Problem,
    SourceDocument,
    ValuePath,
    YamlProblems,
    load_yaml_file,
    validate_document,
)
from ivr.model import (
    ActionNode,
    CollectNode,
    ConditionNode,
    FlowFile,
    GotoNode,
    HangupNode,
    Hotline,
    HotlinesFile,
    LanguageNode,
    MenuNode,
    Node,
    PlayNode,
    QueueDefinition,
    QueueNode,
    QueuesFile,
    SayNode,
    SetNode,
    SkillDefinition,
    SkillsFile,
    TransferNode,
)

FLOWS_DIR = "ivr"
_FLOW_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class ResolvedPrompt:
    id: str  # flow.name
    audio: str
    text: Mapping[str, str]


@dataclass(frozen=True)
class Flow:
    id: str
    document: SourceDocument
    model: FlowFile


@dataclass(frozen=True)
class IvrConfig:
    hotlines_document: SourceDocument
    hotlines_file: HotlinesFile
    queues_document: SourceDocument
    queues: Mapping[str, QueueDefinition]
    skills_document: SourceDocument
    skills: Mapping[str, SkillDefinition]
    flows: Mapping[str, Flow]
    nodes: Mapping[str, Node]
    prompts: Mapping[str, ResolvedPrompt]

    @property
    def hotlines(self) -> tuple[Hotline, ...]:
        return tuple(self.hotlines_file.hotlines)

    def hotline(self, hotline_id: str) -> Hotline:
        for hotline in self.hotlines_file.hotlines:
            if hotline.id == hotline_id:
                return hotline
        raise KeyError(hotline_id)

    def hotline_for_did(self, did: str) -> Hotline | None:
        for hotline in self.hotlines_file.hotlines:
            if did in hotline.dids:
                return hotline
        return None

    def node_source(self, node_id: str) -> tuple[SourceDocument, ValuePath]:
        flow, name = node_id.split(".", 1)
        return self.flows[flow].document, ("nodes", name)

    def prompt_source(self, prompt_id: str) -> tuple[SourceDocument, ValuePath]:
        flow, name = prompt_id.split(".", 1)
        return self.flows[flow].document, ("prompts", name)


def qualify(reference: str, flow: str) -> str:
    """``name`` inside ``flow`` → ``flow.name``; already qualified references stay."""
    return reference if "." in reference else f"{flow}.{reference}"


def node_targets(node: Node) -> Iterator[tuple[ValuePath, str]]:
    """Each node reference in a node: (path inside the node, reference as written)."""
    match node:
        case MenuNode():
            for key, target in node.options.items():
                yield ("options", key), target
            if node.on_invalid is not None:
                yield ("on_invalid",), node.on_invalid
            if node.on_timeout is not None:
                yield ("on_timeout",), node.on_timeout
        case CollectNode():
            yield ("next",), node.next
            if node.on_failure is not None:
                yield ("on_failure",), node.on_failure
        case ActionNode():
            yield ("next",), node.next
            yield ("on_error",), node.on_error
        case ConditionNode():
            for index, branch in enumerate(node.branches):
                yield ("branches", index, "goto"), branch.goto
            yield ("else",), node.otherwise
        case LanguageNode() | PlayNode() | SayNode() | SetNode():
            yield ("next",), node.next
        case GotoNode():
            yield ("target",), node.target
        case TransferNode() | QueueNode() | HangupNode():
            return
        case _:
            assert_never(node)


def node_prompts(node: Node) -> Iterator[tuple[ValuePath, str]]:
    """Each prompt reference in a node: (path inside the node, reference as written)."""
    for name in ("prompt", "invalid_prompt", "timeout_prompt"):
        value = getattr(node, name, None)
        if isinstance(value, str):
            yield (name,), value


def _load(
    path: Path, model: type[ModelT], problems: list[Problem]
) -> tuple[SourceDocument, ModelT] | None:
    try:
        document = load_yaml_file(path)
        return document, validate_document(document, model)
    except YamlProblems as exc:
        problems.extend(exc.problems)
        return None


def load_config(directory: Path) -> tuple[IvrConfig | None, list[Problem]]:
    """Load and schema-check every file; the config is ``None`` when any file is broken.

    Semantic checks (``ivr.validate``) need a config that passed the schema, so they run after.
    """
    problems: list[Problem] = []
    hotlines = _load(directory / "hotlines.yaml", HotlinesFile, problems)
    queues = _load(directory / "queues.yaml", QueuesFile, problems)
    skills = _load(directory / "skills.yaml", SkillsFile, problems)
    flow_paths = sorted((directory / FLOWS_DIR).glob("*.yaml"))
    if not flow_paths:
        problems.append(Problem(str(directory / FLOWS_DIR), 1, 1, "no menu files (*.yaml)"))
    flows: dict[str, Flow] = {}
    for path in flow_paths:
        if not _FLOW_NAME.match(path.stem):
            message = "menu file names are lower-case letters, digits and '-' (they name flows)"
            problems.append(Problem(str(path), 1, 1, message))
            continue
        loaded = _load(path, FlowFile, problems)
        if loaded is not None:
            flows[path.stem] = Flow(path.stem, *loaded)
    if problems or hotlines is None or queues is None or skills is None:
        return None, sorted(problems)
    hotlines_model, queues_model, skills_model = hotlines[1], queues[1], skills[1]
    nodes: dict[str, Node] = {}
    prompts: dict[str, ResolvedPrompt] = {}
    for flow in flows.values():
        for name, node in flow.model.nodes.items():
            nodes[f"{flow.id}.{name}"] = node
        for name, prompt in flow.model.prompts.items():
            audio = prompt.audio or f"{flow.id}-{name}".replace("_", "-")
            prompts[f"{flow.id}.{name}"] = ResolvedPrompt(f"{flow.id}.{name}", audio, prompt.text)
    config = IvrConfig(
        hotlines_document=hotlines[0],
        hotlines_file=hotlines_model,
        queues_document=queues[0],
        queues={queue.id: queue for queue in queues_model.queues},
        skills_document=skills[0],
        skills={skill.id: skill for skill in skills_model.skills},
        flows=flows,
        nodes=nodes,
        prompts=prompts,
    )
    return config, []


def path_in_node(node_id: str, inner: tuple[PathPart, ...]) -> ValuePath:
    return ("nodes", node_id.split(".", 1)[1], *inner)
