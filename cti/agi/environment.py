"""The FastAGI environment block as a typed value, and the script/query split of its URL.

Asterisk sends ``agi_<name>: <value>`` lines, then a blank line. ``agi_network_script`` is the
part of the AGI URL after ``host:port/`` (``ivr?did=95555&lang=zh``); ``agi_request`` is the
whole URL. Routing uses the script path; the query string carries per-call parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import parse_qsl, unquote, urlsplit

_EMPTY: Mapping[str, str] = MappingProxyType({})


def split_script(network_script: str) -> tuple[str, dict[str, str]]:
    """``"ivr/main?did=95555&lang=zh"`` → ``("ivr/main", {"did": "95555", "lang": "zh"})``.

    The path is URL-decoded and stripped of surrounding slashes; for repeated keys the last one
    wins (a dialplan author writing ``?a=1&a=2`` means the later one).
    """
    path, _, query = network_script.partition("?")
    script = unquote(path).strip("/")
    if not query:
        return script, {}
    return script, dict(parse_qsl(query, keep_blank_values=True))


def script_from_request(request: str) -> tuple[str, dict[str, str]]:
    """Script and args from ``agi_request`` (``agi://127.0.0.1:4573/ivr?x=1``)."""
    if "://" not in request:
        return split_script(request)
    parts = urlsplit(request)
    return split_script(parts.path + ("?" + parts.query if parts.query else ""))


@dataclass(frozen=True, slots=True)
class AgiEnvironment:
    """What Asterisk told us about the call when the session opened."""

    channel: str = ""
    uniqueid: str = ""
    callerid: str = ""
    calleridname: str = ""
    context: str = ""
    extension: str = ""
    priority: str = ""
    language: str = ""
    network_script: str = ""
    request: str = ""
    # agi_arg_1..N in order: AGI(agi://host/ivr,a,b) gives ["a", "b"].
    args: list[str] = field(default_factory=list)
    # From agi_network_script (or agi_request): "ivr?did=1" gives "ivr" and {"did": "1"}.
    script: str = ""
    query: dict[str, str] = field(default_factory=dict)
    # Every agi_* line, key without the "agi_" prefix, as sent.
    raw: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    @classmethod
    def from_lines(cls, items: Mapping[str, str]) -> AgiEnvironment:
        """Build from the parsed block; keys without the ``agi_`` prefix."""
        numbered = sorted(
            (int(key[4:]), value)
            for key, value in items.items()
            if key.startswith("arg_") and key[4:].isdigit()
        )
        get = items.get
        network_script = get("network_script", "")
        request = get("request", "")
        if network_script:
            script, query = split_script(network_script)
        else:
            script, query = script_from_request(request)
        return cls(
            channel=get("channel", ""),
            uniqueid=get("uniqueid", ""),
            callerid=get("callerid", ""),
            calleridname=get("calleridname", ""),
            context=get("context", ""),
            extension=get("extension", ""),
            priority=get("priority", ""),
            language=get("language", ""),
            network_script=network_script,
            request=request,
            args=[value for _, value in numbered],
            script=script,
            query=query,
            raw=MappingProxyType(dict(items)),
        )
