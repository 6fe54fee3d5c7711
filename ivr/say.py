"""Values spoken as a sequence of short audio tokens, in the caller's language (pure).

Asterisk's own SAY NUMBER needs its core sounds in that language, and the Debian root only has
English ones: a Chinese caller would hear "twelve thousand…" in English. So numbers are spoken
from a small vocabulary that ``hotline prompts build`` synthesises per language next to the
prompts (``<lang>/say/<token>.wav``), in the same voice as the prompts.

- ``digits``: one token per digit ("4 0 0 8 ...");
- ``number``: an integer read as a number (zh: 一万两千零五; en: twelve thousand five);
- ``money``: ``12345.67`` → zh 一万两千三百四十五元六角七分; en "twelve thousand ... yuan and
  sixty seven fen" (amounts are in CNY, the currency of the sample bank).

Values reach here already checked by the engine (``ivr.answers.speakable``).
"""

from __future__ import annotations

SAY_DIR = "say"

_ZH_DIGITS = "零一二三四五六七八九"
_EN_SMALL = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

# Token → text to synthesise, per language.
VOCABULARY: dict[str, dict[str, str]] = {
    "zh": {
        **{f"n{d}": _ZH_DIGITS[d] for d in range(10)},
        "liang": "两",
        "shi": "十",
        "bai": "百",
        "qian": "千",
        "wan": "万",
        "yi": "亿",
        "minus": "负",
        "yuan": "元",
        "jiao": "角",
        "fen": "分",
    },
    "en": {
        **{f"n{n}": word for n, word in enumerate(_EN_SMALL)},
        **{f"n{10 * (i + 2)}": word for i, word in enumerate(_EN_TENS)},
        "hundred": "hundred",
        "thousand": "thousand",
        "million": "million",
        "billion": "billion",
        "trillion": "trillion",
        "minus": "minus",
        "yuan": "yuan",
        "fen": "fen",
        "and": "and",
    },
}


class CannotSay(ValueError):
    """The value or the language is not one we can speak."""


def spoken_tokens(value: str, say_as: str, language: str) -> list[str]:
    """Audio tokens (names under ``<lang>/say/``) that speak ``value``."""
    if language not in VOCABULARY:
        raise CannotSay(f"no number vocabulary for language {language!r}")
    if say_as == "digits":
        if not value.isdigit():
            raise CannotSay("digits only")
        return [f"n{char}" for char in value]
    negative = value.startswith("-")
    body = value[1:] if negative else value
    whole, _, fraction = body.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > 2:
        raise CannotSay(f"not a number: {value!r}")
    if say_as == "number":
        if fraction:
            raise CannotSay("numbers are whole; use money for amounts")
        tokens = _integer(int(whole), language)
    elif say_as == "money":
        tokens = _money(int(whole), int(fraction.ljust(2, "0")) if fraction else 0, language)
    else:
        raise CannotSay(f"unknown say_as {say_as!r}")
    return (["minus"] if negative and tokens != ["n0"] else []) + tokens


def _integer(number: int, language: str) -> list[str]:
    return _zh_integer(number) if language == "zh" else _en_integer(number)


def _money(whole: int, cents: int, language: str) -> list[str]:
    if language == "zh":
        spoken = ["liang"] if whole == 2 else _zh_integer(whole)  # 两元, not 二元
        tokens = [*spoken, "yuan"] if whole or not cents else []
        jiao, fen = divmod(cents, 10)
        if jiao:
            tokens += [f"n{jiao}", "jiao"]
        if fen:
            tokens += (["n0"] if whole and not jiao else []) + [f"n{fen}", "fen"]
        return tokens
    tokens = [*_en_integer(whole), "yuan"] if whole or not cents else []
    if cents:
        tokens += (["and"] if whole else []) + [*_en_integer(cents), "fen"]
    return tokens


# --- Chinese: groups of four digits (万, 亿), 零 for skipped places --------------------------

_ZH_PLACES = ((1000, "qian"), (100, "bai"), (10, "shi"), (1, ""))


def _zh_group(group: int, first: bool) -> list[str]:
    """0 < group < 10000; ``first``: nothing is spoken before it (十二, not 一十二)."""
    tokens: list[str] = []
    zero_pending = False
    for place, unit in _ZH_PLACES:
        digit = group // place % 10
        if digit == 0:
            zero_pending = bool(tokens)
            continue
        if zero_pending:
            tokens.append("n0")
            zero_pending = False
        if place == 10 and digit == 1 and first and not tokens:
            tokens.append("shi")
            continue
        tokens.append("liang" if digit == 2 and place == 1000 else f"n{digit}")
        if unit:
            tokens.append(unit)
    return tokens


def _zh_integer(number: int) -> list[str]:
    if number == 0:
        return ["n0"]
    groups: list[int] = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    tokens: list[str] = []
    skipped_zero = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            skipped_zero = bool(tokens)
            continue
        if tokens and (skipped_zero or group < 1000):
            tokens.append("n0")
        part = _zh_group(group, first=not tokens)
        if part == ["n2"] and index > 0:
            part = ["liang"]  # 两万, 两亿
        tokens += part
        if index % 2 == 1:
            tokens.append("wan")
        if index >= 2 and (index == 2 or groups[2] == 0):
            tokens.append("yi")  # 亿, or 万亿 when the 亿 group is empty
        skipped_zero = False
    return tokens


# --- English: groups of three digits (thousand, million, ...) ------------------------------

_EN_SCALES = ("", "thousand", "million", "billion", "trillion")


def _en_below_thousand(number: int) -> list[str]:
    hundreds, rest = divmod(number, 100)
    tokens = [f"n{hundreds}", "hundred"] if hundreds else []
    if rest >= 20:
        tens, units = divmod(rest, 10)
        tokens.append(f"n{tens * 10}")
        if units:
            tokens.append(f"n{units}")
    elif rest:
        tokens.append(f"n{rest}")
    return tokens


def _en_integer(number: int) -> list[str]:
    if number == 0:
        return ["n0"]
    groups: list[int] = []
    while number:
        number, group = divmod(number, 1000)
        groups.append(group)
    if len(groups) > len(_EN_SCALES):
        raise CannotSay("number too large")
    tokens: list[str] = []
    for index in reversed(range(len(groups))):
        if groups[index]:
            tokens += _en_below_thousand(groups[index])
            if _EN_SCALES[index]:
                tokens.append(_EN_SCALES[index])
    return tokens


def text_of(tokens: list[str], language: str) -> str:
    """What the tokens say, for logs of non-sensitive values and for tests."""
    words = VOCABULARY[language]
    return ("" if language == "zh" else " ").join(words[token] for token in tokens)
