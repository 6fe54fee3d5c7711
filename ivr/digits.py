"""DTMF strings: what may arrive, how card numbers are checked, and how secrets are masked."""

from __future__ import annotations

DTMF = frozenset("0123456789*#ABCD")
# Anything longer is a stuck key or an attack, never an answer; it is rejected, not stored.
MAX_ACCEPTED_DIGITS = 64
# Payment-card practice: at most the last four digits of a long number may be shown.
_SHOW_LAST = 4
_SHOW_FROM_LENGTH = 12


def is_dtmf(text: str) -> bool:
    return all(char in DTMF for char in text)


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or len(number) < 2:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def mask(value: str) -> str:
    """``4111111111111111`` → ``************1111``; short secrets (PINs) are masked whole."""
    if len(value) >= _SHOW_FROM_LENGTH:
        return "*" * (len(value) - _SHOW_LAST) + value[-_SHOW_LAST:]
    return "*" * len(value)


def shorten(value: str, limit: int = 32) -> str:
    """Bound what an event keeps of an over-long key sequence."""
    return value if len(value) <= limit else f"{value[:limit]}…({len(value)} digits)"
