"""cti.yaml_config: strings stay strings, no tags, duplicate keys refused, errors placed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, field_validator

from cti.yaml_config import (
    ConfigError,
    Problem,
    load_yaml,
    parse_yaml,
    read_text,
    validate,
)


class Extension(BaseModel):
    model_config = {"extra": "forbid"}
    number: str
    ring_s: int = 20


class Dialplan(BaseModel):
    model_config = {"extra": "forbid"}
    extensions: list[Extension]
    language: str = "en"

    @field_validator("language")
    @classmethod
    def _two_letters(cls, value: str) -> str:
        if len(value) != 2:
            raise ValueError("language is two letters")
        return value


def test_plain_scalars_stay_strings() -> None:
    document = parse_yaml("a: no\nb: 0\nc: 1001\nd: on\ne: yes\nf: 1.5\ng: 2025-03-01\n", "f.yaml")
    assert document.data == {
        "a": "no",
        "b": "0",
        "c": "1001",
        "d": "on",
        "e": "yes",
        "f": "1.5",
        "g": "2025-03-01",
    }


def test_keys_stay_strings_too() -> None:
    assert parse_yaml("{0: a, no: b, 1001: c}", "f.yaml").data == {"0": "a", "no": "b", "1001": "c"}


def test_nulls_become_none_unless_quoted() -> None:
    document = parse_yaml("a: ~\nb:\nc: null\nd: 'null'\ne: ''\n", "f.yaml")
    assert document.data == {"a": None, "b": None, "c": None, "d": "null", "e": ""}
    assert parse_yaml("", "f.yaml").data is None


def test_numbers_are_converted_only_where_the_model_asks() -> None:
    document = parse_yaml("extensions:\n  - {number: 0100, ring_s: 30}\nlanguage: no\n", "f.yaml")
    dialplan = validate(Dialplan, document)
    assert dialplan.extensions == [Extension(number="0100", ring_s=30)]
    assert dialplan.language == "no"


def test_duplicate_keys_are_errors_and_all_are_listed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n", "f.yaml")
    assert caught.value.problems == [
        "f.yaml:4:3: duplicate key 'c'",
        "f.yaml:5:1: duplicate key 'a'",
    ]
    assert caught.value.located == [
        Problem("f.yaml", 4, 3, "duplicate key 'c'"),
        Problem("f.yaml", 5, 1, "duplicate key 'a'"),
    ]


def test_non_scalar_keys_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"^f\.yaml:1:3: mapping keys must be plain values$"):
        parse_yaml("? [a, b]\n: 1\n", "f.yaml")


def test_tags_are_never_constructed() -> None:
    text = "a: !!python/object/apply:os.system [echo hi]\nb: !!int 3\nc: !custom x\n"
    document = parse_yaml(text, "f.yaml")
    assert document.data == {"a": ["echo hi"], "b": "3", "c": "x"}


def test_invalid_yaml_is_placed() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a: [1, 2\nb: 3\n", "f.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("f.yaml:2:2: invalid YAML: expected ',' or ']'")


def test_a_character_the_reader_refuses_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^f\.yaml:1:1: invalid YAML: unacceptable character"):
        parse_yaml("a: \x07\n", "f.yaml")


def test_positions_point_at_keys_and_fall_back_to_the_closest_ancestor() -> None:
    document = parse_yaml("extensions:\n  - number: '1'\n    ring_s: 5\n", "f.yaml")
    assert document.position(()) == (1, 1)
    assert document.position(("extensions",)) == (1, 1)
    assert document.position(("extensions", 0)) == (2, 5)
    assert document.position(("extensions", 0, "ring_s")) == (3, 5)
    assert document.position(("extensions", 0, "missing", 3)) == (2, 5)


def test_pydantic_errors_name_file_line_col_and_path() -> None:
    text = "extensions:\n  - number: '1'\n    ring_s: soon\n  - {ring_s: 3}\nlanguage: eng\n"
    with pytest.raises(ConfigError) as caught:
        validate(Dialplan, parse_yaml(text, "d.yaml"))
    assert caught.value.problems == [
        "d.yaml:3:5: extensions.0.ring_s: Input should be a valid integer, "
        "unable to parse string as an integer",
        "d.yaml:4:5: extensions.1.number: Field required",  # a missing key: its mapping
        "d.yaml:5:1: language: language is two letters",  # "Value error, " dropped
    ]


def test_value_error_prefix_can_be_kept_and_the_root_named() -> None:
    with pytest.raises(ConfigError) as caught:
        validate(Dialplan, parse_yaml("extensions: []\nlanguage: x\n", "d.yaml"), root="dial",
                 keep_value_error_prefix=True)  # fmt: skip
    assert caught.value.problems == ["d.yaml:2:1: language: Value error, language is two letters"]
    with pytest.raises(ConfigError) as caught:
        validate(Dialplan, parse_yaml("- a\n", "d.yaml"), root="dial")
    assert caught.value.problems == [
        "d.yaml:1:1: dial: Input should be a valid dictionary or instance of Dialplan"
    ]


def test_empty_document_validates_as_an_empty_mapping() -> None:
    with pytest.raises(ConfigError) as caught:
        validate(Dialplan, parse_yaml("", "d.yaml"))
    assert caught.value.problems == ["d.yaml:1:1: extensions: Field required"]


def test_oversize_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 100)
    with pytest.raises(ConfigError) as caught:
        read_text(path, max_bytes=50)
    assert caught.value.problems == [f"{path}:1:1: file larger than 50 bytes"]
    assert read_text(path, max_bytes=103) == "a: " + "x" * 100  # the cap itself is allowed


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml:1:1: cannot read: No such file"):
        read_text(tmp_path / "missing.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"^shown\.yaml:1:1: file is not UTF-8$"):
        load_yaml(latin, "shown.yaml")


def test_load_yaml_names_the_file_in_positions(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\na: 2\n")
    with pytest.raises(ConfigError) as caught:
        load_yaml(path)
    assert caught.value.located == [Problem(str(path), 2, 1, "duplicate key 'a'")]


def test_config_error_accepts_plain_text_problems() -> None:
    error = ConfigError(["queues.yaml: unknown skill 'x'", Problem("f", 1, 2, "m")])
    assert error.problems == ["queues.yaml: unknown skill 'x'", "f:1:2: m"]
    assert error.located == [Problem("f", 1, 2, "m")]
    assert str(error) == "queues.yaml: unknown skill 'x'\nf:1:2: m"
