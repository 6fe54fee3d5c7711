"""Structured logs: one JSON object per line, context fields kept, card numbers masked."""

from __future__ import annotations

import io
import logging

import orjson
import pytest

from hotline.logs import JsonFormatter, TextFormatter, mask_pans


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111111111111111 ok", "card ************1111 ok"),
        ("card 4111 1111 1111 1111", "card ************1111"),
        ("card 4111-1111-1111-1111.", "card ************1111."),
        ("phone 13800138000", "phone 13800138000"),  # 11 digits: a phone number, not a card
        ("did 95555", "did 95555"),
    ],
)
def test_mask_pans(text: str, expected: str) -> None:
    assert mask_pans(text) == expected


def _log_through(formatter: logging.Formatter, msg: str, **extra: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    logger = logging.getLogger(f"test.logs.{id(stream)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.warning(msg, extra=extra)
    return stream.getvalue()


def test_json_lines_keep_context_and_mask_cards() -> None:
    line = _log_through(
        JsonFormatter(), "collected %s", channel="Local/95555-1;2", digits="4111111111111111"
    )
    entry = orjson.loads(line)
    assert entry["level"] == "warning"
    assert entry["channel"] == "Local/95555-1;2"
    assert entry["digits"] == "************1111"
    assert "4111111111111111" not in line


def test_text_format_masks_cards_too() -> None:
    line = _log_through(TextFormatter(), "pan 5500005555555559 seen", caller="张伟")
    assert "5500005555555559" not in line
    assert "张伟" in line
