"""Properties of the workflow parsers: the YAML loader and the shell reader.

Any text gives either a loaded document or a `YamlLoadError` with a position (never
another exception, never a crash of the C parser's stack), whose message quotes no file
content; any script gives commands whose every offset points into the script.
"""

from __future__ import annotations

import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npm_guard.workflow.shell import MAX_NESTING, Command, Word, read_script
from npm_guard.workflow.yaml_loader import (
    MAX_DEPTH,
    MappingNode,
    ScalarNode,
    SequenceNode,
    YamlLoadError,
    load_yaml,
)

from .strategies import checksummed_tokens

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
YAML_ALPHABET = "ab:-[]{}&*!|>'\"#,?%@` \t\n\r\\$\x85\u2028\ufeff0"
yaml_texts = st.text(alphabet=YAML_ALPHABET, max_size=200) | st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200
)
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def walk(node: object) -> list[ScalarNode | SequenceNode | MappingNode]:
    """Every node, without recursion (the loader's trees may be deep)."""
    out: list[ScalarNode | SequenceNode | MappingNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        assert isinstance(current, (ScalarNode, SequenceNode, MappingNode))
        out.append(current)
        if isinstance(current, SequenceNode):
            stack.extend(current.items)
        elif isinstance(current, MappingNode):
            for key, value in current.pairs:
                stack.extend((key, value))
    return out


def check_loaded(text: str) -> None:
    try:
        loaded = load_yaml(text)
    except YamlLoadError as error:
        assert error.line >= 1
        assert error.column >= 1
        assert error.problem
        return
    lines = len(loaded.line_starts)
    for node in walk(loaded.root):
        if isinstance(node, ScalarNode):
            # libyaml places an implicit empty scalar (`?` at the end of the file) just
            # after the last line break; every scalar with text is inside the file.
            assert 1 <= node.line <= (lines + 1 if node.value == "" else lines)
            assert 0 <= node.start <= node.end <= len(text)


@SETTINGS
@given(yaml_texts)
def test_any_text_loads_or_fails_cleanly(text: str) -> None:
    check_loaded(text)


@SETTINGS
@given(documents, st.integers(min_value=0, max_value=200), st.text(max_size=3))
def test_dumped_and_mangled_documents(document: object, cut: int, insert: str) -> None:
    text = yaml.safe_dump(document, default_flow_style=bool(cut % 2), allow_unicode=True)
    check_loaded(text)
    check_loaded(text[:cut] + insert + text[cut:])


@SETTINGS
@given(documents, checksummed_tokens(), st.integers(min_value=0, max_value=400))
def test_load_errors_never_quote_the_file(document: object, token: str, cut: int) -> None:
    text = yaml.safe_dump({"env": {"NPM_TOKEN": token}, "x": document})
    broken = text[:cut] + "\t'\"{[" + text[cut:]
    try:
        load_yaml(broken)
    except YamlLoadError as error:
        assert token not in error.problem
        assert token not in str(error)


def _billion_laughs(levels: int, width: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text",
    [
        _billion_laughs(10, 10),
        "[" * 10_000 + "]" * 10_000 + "\n",
        "{a: " * 10_000 + "b" + "}" * 10_000 + "\n",
        "".join(f"{'  ' * i}k{i}:\n" for i in range(10_000)) + f"{'  ' * 10_000}v\n",
        "- " * 10_000 + "x\n",
        "a: &a [*a]\n",
        "&a [*a, *a]\n",
        "x: *undefined\n",
    ],
    ids=[
        "alias-bomb",
        "flow-seq-10k",
        "flow-map-10k",
        "block-map-10k",
        "block-seq-10k",
        "self-alias",
        "root-self-alias",
        "undefined-alias",
    ],
)
def test_hostile_yaml_is_refused_with_a_position(text: str) -> None:
    with pytest.raises(YamlLoadError) as caught:
        load_yaml(text)
    assert caught.value.line >= 1


def test_deep_but_allowed_nesting_loads_without_recursion() -> None:
    depth = MAX_DEPTH - 1
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(150)  # the loader must not recurse per level
    try:
        loaded = load_yaml("[" * depth + "]" * depth + "\n")
    finally:
        sys.setrecursionlimit(limit)
    assert isinstance(loaded.root, SequenceNode)


# --- shell -------------------------------------------------------------------------

SHELL_ALPHABET = "ab $(){}`'\"\\;&|<>#=\n\t-c*?![]~" + "E"
shell_texts = st.text(alphabet=SHELL_ALPHABET, max_size=200) | st.text(max_size=120)


def check_word(word: Word, n: int) -> None:
    assert 0 <= word.start <= word.end <= n
    for part in word.parts:
        assert 0 <= part.start <= part.end <= n


def check_commands(commands: list[Command], n: int) -> None:
    for command in commands:
        assert 0 <= command.start <= command.end <= n
        assert command.substitution_depth <= MAX_NESTING + 1
        for word in command.words:
            check_word(word, n)
        for _, word in command.assignments:
            check_word(word, n)
        for redirect in command.redirects:
            if redirect.target is not None:
                check_word(redirect.target, n)
            if redirect.heredoc is not None and redirect.heredoc.body is not None:
                check_word(redirect.heredoc.body, n)


@SETTINGS
@given(shell_texts, st.sampled_from(["bash", "pwsh"]))
def test_any_script_reads_with_offsets_in_the_script(script: str, shell: str) -> None:
    check_commands(read_script(script, shell).commands, len(script))


@pytest.mark.parametrize(
    "script",
    [
        "$(" * 10_000 + "echo" + ")" * 10_000,
        "`" * 10_000,
        "bash -c " + "'bash -c \"" * 2_000,
        '"' + "$(" * 5_000,
        "cat <<EOF\n" * 5_000,
        "${" * 10_000,
        "\\" * 10_001,
        "x=" * 10_000,
        "${{ " * 10_000,
    ],
    ids=[
        "cmdsub",
        "backticks",
        "bash-c",
        "quoted-cmdsub",
        "heredocs",
        "params",
        "escapes",
        "assignments",
        "expressions",
    ],
)
def test_pathological_scripts_are_read_in_bounds(script: str) -> None:
    for shell in ("bash", "pwsh"):
        check_commands(read_script(script, shell).commands, len(script))
