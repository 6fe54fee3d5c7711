"""Structured logging: one JSON object per line (or plain text for humans), stdlib only.

Extra fields passed with ``logger.info("msg", extra={...})`` are emitted as keys; values that
look like card numbers are masked here as a last line of defence (PCI: never in logs).
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import orjson

_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", 0, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "color_message"}  # uvicorn adds a colourised copy of msg
)
# 13–19 digits, optionally grouped by spaces or dashes: a PAN-shaped run.
_PAN = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def mask_pans(text: str) -> str:
    """Replace anything shaped like a card number with its last four digits only."""

    def _mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "*" * (len(digits) - 4) + digits[-4:]

    return _PAN.sub(_mask, text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_pans(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = mask_pans(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = mask_pans(self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        extras = {
            k: v
            for k, v in record.__dict__.items()
            if k not in _STANDARD_ATTRS and not k.startswith("_")
        }
        line = super().format(record)
        if extras:
            line += " " + " ".join(f"{k}={v!r}" for k, v in extras.items())
        return mask_pans(line)


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries' chatter (Alembic announces each plugin it loads) only when debugging.
    for noisy in ("alembic", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(level if level == "DEBUG" else "WARNING")
