"""The nodes that wait for keys (menu, collect, language), pure: the ``Collect`` command that
asks for them, how entered keys are shown in events, and where a node sends the caller when
its retries run out."""

from __future__ import annotations

from typing import assert_never

from ivr.commands import Collect
from ivr.config import IvrConfig, qualify
from ivr.digits import mask, shorten
from ivr.model import CollectNode, LanguageNode, MenuNode

KeyNode = MenuNode | CollectNode | LanguageNode


def key_prompt(config: IvrConfig, node: KeyNode, flow: str, language: str) -> Collect:
    """Play the node's prompt in the caller's language and read keys: a collect's own lengths
    and terminator, or as many keys as the longest option with ``#`` to end early."""
    prompt = config.prompts[qualify(node.prompt, flow)]
    if isinstance(node, CollectNode):
        lengths, terminator = (node.min_length, node.max_length), node.terminator
    else:
        lengths, terminator = (1, max(len(key) for key in node.options)), "#"
    text = prompt.text.get(language, next(iter(prompt.text.values())))
    return Collect(
        prompt.id,
        language,
        prompt.audio,
        text,
        min_digits=lengths[0],
        max_digits=lengths[1],
        timeout_ms=node.timeout_ms,
        inter_digit_timeout_ms=node.inter_digit_timeout_ms,
        terminator=terminator,
        sensitive=isinstance(node, CollectNode) and node.sensitive,
    )


def shown_keys(value: str, sensitive: bool) -> str:
    """Keys as events show them: masked when sensitive, and a long number typed at the wrong
    prompt is likely a card number all the same; shortened when absurdly long."""
    return shorten(mask(value) if sensitive or len(value) >= 12 else value)


def retries_exhausted(node: KeyNode, cause: str) -> str | None:
    """Where the caller goes once the node's retries ran out (``timeout`` or ``invalid``);
    None: the hotline's default queue."""
    match node:
        case MenuNode():
            return node.on_timeout if cause == "timeout" else node.on_invalid
        case CollectNode():
            return node.on_failure
        case LanguageNode():  # keep the current language and go on
            return node.next
        case _:
            assert_never(node)
