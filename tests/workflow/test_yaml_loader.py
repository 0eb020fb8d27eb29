"""The YAML loader: positions, `on` as a key, anchors, and hostile input refused in bounded time."""

from __future__ import annotations

import time

import pytest

from npm_guard.workflow.yaml_loader import (
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    MappingNode,
    ScalarNode,
    SequenceNode,
    YamlLoadError,
    load_yaml,
)

# Generous: each case takes a few milliseconds; the bound only catches runaway expansion.
TIME_LIMIT = 5.0


def mapping(node: object) -> MappingNode:
    assert isinstance(node, MappingNode)
    return node


def scalar(node: object) -> ScalarNode:
    assert isinstance(node, ScalarNode)
    return node


def test_on_is_a_string_key_and_true_stays_text() -> None:
    root = mapping(load_yaml("on: push\nyes: true\n").root)
    assert [key.value for key, _ in root.items()] == ["on", "yes"]
    value = scalar(root.get("yes"))
    assert value.value == "true" and value.is_true()
    assert not scalar(root.get("on")).is_true()


def test_positions_are_one_based_line_and_column() -> None:
    loaded = load_yaml("jobs:\n  build:\n    runs-on: ubuntu-latest\n")
    build = mapping(mapping(loaded.root).get("jobs")).get("build")
    runs_on = scalar(mapping(build).get("runs-on"))
    assert (runs_on.line, runs_on.column) == (3, 14)
    assert loaded.text[runs_on.start : runs_on.end] == "ubuntu-latest"
    assert loaded.position(runs_on.start) == (3, 14)


def test_positions_with_bom_crlf_and_wide_characters() -> None:
    text = "\ufeffname: é€😀\r\nenv:\r\n  A: b\r\n"
    loaded = load_yaml(text)
    a = scalar(mapping(mapping(loaded.root).get("env")).get("A"))
    assert (a.line, a.column) == (3, 6)
    assert text[a.start : a.end] == "b"


def test_anchors_and_aliases_resolve_to_the_same_node() -> None:
    text = "env: &common\n  NPM_TOKEN: x\njobs:\n  a:\n    env: *common\n"
    root = mapping(load_yaml(text).root)
    job_env = mapping(mapping(root.get("jobs")).get("a")).get("env")
    assert job_env is root.get("env")


def test_merge_keys_are_ordinary_keys_as_in_github_actions() -> None:
    root = mapping(load_yaml("base: &b {A: 1}\nenv:\n  <<: *b\n").root)
    env = mapping(root.get("env"))
    assert [key.value for key, _ in env.items()] == ["<<"]


def test_only_the_first_document_is_read() -> None:
    root = mapping(load_yaml("a: 1\n---\nb: 2\n").root)
    assert [key.value for key, _ in root.items()] == ["a"]


def test_empty_file_has_no_root() -> None:
    assert load_yaml("").root is None
    assert load_yaml("# only a comment\n").root is None


def billion_laughs(levels: int = 10, width: int = 10) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (billion_laughs(), f"more than {MAX_EXPANDED_NODES} nodes"),
        ("[" * 10_000 + "]" * 10_000 + "\n", f"deeper than {MAX_DEPTH} levels"),
        ("{a: " * 10_000 + "b" + "}" * 10_000 + "\n", f"deeper than {MAX_DEPTH} levels"),
        ("".join(f"{'  ' * i}k{i}:\n" for i in range(1_000)), f"deeper than {MAX_DEPTH} levels"),
        ("- " * 10_000 + "x\n", f"deeper than {MAX_DEPTH} levels"),
        ("a: &a [*a]\n", "recursive YAML alias"),
        ("a: *nothing\n", "undefined anchor"),
        ("a: [1, 2\n", "invalid YAML"),
        ("a: b\nc: \x01\n", "invalid YAML"),
    ],
    ids=[
        "alias-bomb",
        "10000-flow-sequences",
        "10000-flow-mappings",
        "1000-block-mappings",
        "10000-block-sequences",
        "recursive-alias",
        "undefined-alias",
        "unclosed-flow",
        "control-character",
    ],
)
def test_hostile_yaml_is_refused_quickly_with_a_position(text: str, problem: str) -> None:
    started = time.perf_counter()
    with pytest.raises(YamlLoadError) as raised:
        load_yaml(text)
    assert time.perf_counter() - started < TIME_LIMIT
    assert problem in raised.value.problem
    assert raised.value.line >= 1 and raised.value.column >= 1


def test_aliases_within_the_limit_are_fine() -> None:
    root = mapping(load_yaml(billion_laughs(levels=3, width=3)).root)
    a2 = root.get("a2")
    assert isinstance(a2, SequenceNode)
    assert len(a2.items) == 3 and a2.items[0] is root.get("a1")


def test_errors_never_quote_the_file() -> None:
    secret = "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"
    for text in (f"a: '{secret}\n", f"a: {secret}\n\tb: [\n", f"{{{secret}: [\n"):
        with pytest.raises(YamlLoadError) as raised:
            load_yaml(text)
        assert secret not in str(raised.value)
        assert secret[:8] not in raised.value.problem


def test_block_scalar_header_comments_are_outside_the_scalar() -> None:
    text = "run: | # header comment\n  echo # inside\n"
    loaded = load_yaml(text)
    assert not loaded.inside_scalar(text.index("# header"))
    assert loaded.inside_scalar(text.index("# inside"))
