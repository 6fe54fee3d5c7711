"""The YAML loader keeps DTMF keys and language codes as strings and knows every position."""

from __future__ import annotations

import pytest

from ivr.loader import Problem, YamlProblems, parse_yaml, validate_document
from ivr.model import FlowFile, LanguageNode, MenuNode


def test_yaml_11_booleans_and_numbers_stay_strings() -> None:
    document = parse_yaml(
        "kind: language\nprompt: p\noptions: {0: no, 1: on, yes: en}\nnext: main\n", "x.yaml"
    )
    assert document.data == {
        "kind": "language",
        "prompt": "p",
        "options": {"0": "no", "1": "on", "yes": "en"},
        "next": "main",
    }


def test_language_options_keep_norwegian_and_zero() -> None:
    text = "kind: language\nprompt: p\noptions: {0: no, 1: zh}\nnext: main\n"
    node = validate_document(parse_yaml(text, "x.yaml"), LanguageNode)
    assert node.options == {"0": "no", "1": "zh"}


def test_numbers_and_booleans_are_converted_where_the_schema_asks() -> None:
    text = "kind: menu\nprompt: p\noptions: {'1': a}\ntimeout_ms: 7000\nmax_retries: 0\n"
    node = validate_document(parse_yaml(text, "x.yaml"), MenuNode)
    assert node.timeout_ms == 7000
    assert node.max_retries == 0


def test_null_scalars_become_none_but_quoted_null_stays_text() -> None:
    document = parse_yaml("a: ~\nb:\nc: 'null'\n", "x.yaml")
    assert document.data == {"a": None, "b": None, "c": "null"}


def test_positions_are_one_based_and_point_at_keys() -> None:
    document = parse_yaml("nodes:\n  main:\n    kind: menu\n    options:\n      '1': x\n", "f.yaml")
    assert document.position(("nodes", "main")) == (2, 3)
    assert document.position(("nodes", "main", "options", "1")) == (5, 7)
    # A path that does not exist falls back to its closest ancestor.
    assert document.position(("nodes", "main", "prompt")) == (2, 3)


def test_duplicate_keys_are_errors_not_last_one_wins() -> None:
    with pytest.raises(YamlProblems) as caught:
        parse_yaml("options:\n  '1': a\n  1: b\n", "f.yaml")
    assert caught.value.problems == [Problem("f.yaml", 3, 3, "duplicate key '1'")]


def test_tags_are_never_constructed() -> None:
    document = parse_yaml("a: !!python/object:os.system echo\nb: !!int 3\n", "f.yaml")
    assert document.data == {"a": "echo", "b": "3"}


def test_invalid_yaml_reports_position() -> None:
    with pytest.raises(YamlProblems) as caught:
        parse_yaml("a: [1, 2\nb: 3\n", "f.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == ("f.yaml", 2)
    assert problem.message.startswith("invalid YAML:")


def test_schema_errors_name_path_and_position() -> None:
    text = "nodes:\n  main:\n    kind: play\n    prompt: p\n    nxt: main\n"
    with pytest.raises(YamlProblems) as caught:
        validate_document(parse_yaml(text, "f.yaml"), FlowFile)
    assert [str(p) for p in caught.value.problems] == [
        "f.yaml:2:3: nodes.main.next: field required",
        "f.yaml:5:5: nodes.main.nxt: unknown field",
    ]


def test_empty_document_is_an_empty_mapping() -> None:
    with pytest.raises(YamlProblems) as caught:
        validate_document(parse_yaml("", "f.yaml"), FlowFile)
    assert [str(p) for p in caught.value.problems] == ["f.yaml:1:1: nodes: field required"]
