"""Pure checks on what reaches the engine from outside: keys, values to speak, action results.

Keys come from a caller, results from code we may not own (a webhook): neither is trusted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ivr.commands import ActionResult
from ivr.digits import MAX_ACCEPTED_DIGITS, is_dtmf, luhn_valid, shorten
from ivr.model import CollectNode, LanguageNode, MenuNode

MAX_ACTION_VALUES = 32
MAX_VALUE_LENGTH = 256
_VALUE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def rejection(node: MenuNode | CollectNode | LanguageNode, value: str) -> str | None:
    """Why keys are not an acceptable answer, or ``None``."""
    if len(value) > MAX_ACCEPTED_DIGITS:
        return "too many digits"
    if not is_dtmf(value):
        return "not DTMF"
    if isinstance(node, MenuNode | LanguageNode):
        return None if value in node.options else "no such option"
    if not node.min_length <= len(value) <= node.max_length:
        return f"length must be {node.min_length}..{node.max_length}"
    if node.pattern is not None and re.fullmatch(node.pattern, value) is None:
        return "does not match the pattern"
    if node.luhn and not luhn_valid(value):
        return "fails the Luhn check"
    return None


def speakable(value: str, say_as: str) -> bool:
    if say_as == "digits":
        return value.isdigit() and len(value) <= MAX_ACCEPTED_DIGITS
    return re.fullmatch(r"-?[0-9]{1,15}(\.[0-9]{1,2})?", value) is not None and (
        say_as == "money" or "." not in value
    )


def checked_values(result: ActionResult) -> tuple[dict[str, str], str | None]:
    """Values from an action, as strings, or an error: never trust what a webhook returns."""
    if result.error is not None:
        return {}, shorten(str(result.error), 200)
    values = result.values
    if not isinstance(values, Mapping) or len(values) > MAX_ACTION_VALUES:
        return {}, "malformed result: expected a small mapping"
    checked: dict[str, str] = {}
    for key, value in values.items():
        if not isinstance(key, str) or not _VALUE_NAME.match(key):
            return {}, f"malformed result: bad name {shorten(repr(key), 40)}"
        if isinstance(value, bool):
            checked[key] = "true" if value else "false"
        elif isinstance(value, str | int | float) and len(str(value)) <= MAX_VALUE_LENGTH:
            checked[key] = str(value)
        else:
            return {}, f"malformed result: bad value for {key!r}"
    return checked, None
