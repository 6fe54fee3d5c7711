"""Draw the menus for review: Mermaid (renders in Git hosting and docs) or Graphviz DOT."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ivr.config import IvrConfig, node_targets, qualify
from ivr.loader import ValuePath
from ivr.validate import reachable_from

_EDGE_NAMES = {
    "next": "",
    "target": "",
    "else": "else",
    "on_invalid": "invalid",
    "on_timeout": "timeout",
    "on_failure": "failure",
    "on_error": "error",
}


def _edge_label(path: ValuePath) -> str:
    if path[0] == "options":
        return f"key {path[1]}"
    if path[0] == "branches":
        return f"if #{int(path[1]) + 1}"
    return _EDGE_NAMES.get(str(path[0]), str(path[0]))


def _graph_id(name: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9]", "_", name)


def _edges(config: IvrConfig, node_ids: list[str]) -> Iterator[tuple[str, str, str]]:
    for node_id in node_ids:
        flow = node_id.split(".", 1)[0]
        for path, target in node_targets(config.nodes[node_id]):
            yield node_id, qualify(target, flow), _edge_label(path)


def _selection(config: IvrConfig, hotline_id: str | None) -> tuple[list[str], list[str]]:
    hotlines = [h for h in config.hotlines if hotline_id in (None, h.id)]
    if not hotlines:
        raise KeyError(hotline_id)
    entries = [h.entry for h in hotlines]
    entries += [h.closed.then for h in hotlines if h.closed and h.closed.then]
    nodes = reachable_from(config, entries) if hotline_id else list(config.nodes)
    return [h.id for h in hotlines], nodes


def to_mermaid(config: IvrConfig, hotline_id: str | None = None) -> str:
    hotline_ids, node_ids = _selection(config, hotline_id)
    lines = ["flowchart TD"]
    for hotline in (config.hotline(h) for h in hotline_ids):
        dids = " ".join(hotline.dids)
        lines.append(f'  {_graph_id("hotline." + hotline.id)}(["☎ {hotline.id} {dids}"])')
        lines.append(f"  {_graph_id('hotline.' + hotline.id)} --> {_graph_id(hotline.entry)}")
        if hotline.closed and hotline.closed.then:
            closed_edge = f"{_graph_id('hotline.' + hotline.id)} -. closed .-> "
            lines.append(f"  {closed_edge}{_graph_id(hotline.closed.then)}")
    for node_id in node_ids:
        kind = config.nodes[node_id].kind
        shape = ('{{"%s"}}' if kind in ("menu", "collect", "language") else '["%s"]') % (
            f"{node_id}<br/>{kind}"
        )
        lines.append(f"  {_graph_id(node_id)}{shape}")
    for source, target, label in _edges(config, node_ids):
        arrow = f"-- {label} -->" if label else "-->"
        lines.append(f"  {_graph_id(source)} {arrow} {_graph_id(target)}")
    return "\n".join(lines) + "\n"


def to_dot(config: IvrConfig, hotline_id: str | None = None) -> str:
    hotline_ids, node_ids = _selection(config, hotline_id)
    lines = ["digraph ivr {", "  rankdir=TB;", "  node [fontname=Helvetica];"]
    for hotline in (config.hotline(h) for h in hotline_ids):
        name = _graph_id("hotline." + hotline.id)
        label = f"{hotline.id}\\n{' '.join(hotline.dids)}"
        lines.append(f'  {name} [shape=oval, style=filled, fillcolor="#e0f0ff", label="{label}"];')
        lines.append(f"  {name} -> {_graph_id(hotline.entry)};")
        if hotline.closed and hotline.closed.then:
            lines.append(
                f'  {name} -> {_graph_id(hotline.closed.then)} [style=dashed, label="closed"];'
            )
    for node_id in node_ids:
        kind = config.nodes[node_id].kind
        shape = "diamond" if kind == "condition" else "box"
        if kind in ("menu", "collect", "language"):
            shape = "hexagon"
        lines.append(f'  {_graph_id(node_id)} [shape={shape}, label="{node_id}\\n{kind}"];')
    for source, target, label in _edges(config, node_ids):
        attributes = f' [label="{label}"]' if label else ""
        lines.append(f"  {_graph_id(source)} -> {_graph_id(target)}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"
