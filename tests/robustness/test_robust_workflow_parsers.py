"""Properties of the workflow parsers: the YAML loader and the shell reader.

Any text gives either a loaded document or a `YamlLoadError` with a position (never
another exception, never a crash of the C parser's stack), whose message quotes no file
content; any script gives commands whose every offset points into the script; and the
findings built from workflows full of secrets show none of them whole in any report.
"""

from __future__ import annotations

import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npm_guard.findings import Severity
from npm_guard.workflow.shell import read_script
from npm_guard.workflow.shell_bash import MAX_NESTING
from npm_guard.workflow.shell_words import Command, Word
from npm_guard.workflow.yaml_loader import (
    MAX_DEPTH,
    MappingNode,
    ScalarNode,
    SequenceNode,
    YamlLoadError,
    load_yaml,
)

from .strategies import ALNUM, checksummed_tokens, opaque_secrets

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


# --- findings: no credential in any report ------------------------------------------

CREDENTIAL_VARIABLES = ["NODE_AUTH_TOKEN", "NPM_TOKEN", "NPM_AUTH_TOKEN", "YARN_NPM_AUTH_TOKEN"]
# Where a secret goes: `{s}` is the secret, `{var}` a credential variable's name. Unnamed
# steps on purpose: their labels are built from the script.
STEP_TEMPLATES = [
    "      - run: {var}={s} npm publish\n",
    "      - run: export {var}={s}\n",
    "      - run: env {var}={s} npx semantic-release\n",
    "      - run: npm config set //registry.npmjs.org/:_authToken={s}\n",
    '      - run: echo "//registry.npmjs.org/:_authToken={s}" > ~/.npmrc\n',
    "      - run: printf '%s\\n' '//npm.pkg.github.com/:_authToken={s}' >> .npmrc\n",
    "      - run: |\n          cat > .npmrc <<EOF\n"
    "          //registry.npmjs.org/:_authToken={s}\n          EOF\n          npm publish\n",
    "      - run: |\n          cat <<'EOF' >> \"$RUNNER_TEMP/.npmrc\"\n"
    "          //npm.pkg.github.com/:_authToken={s}\n          EOF\n          npm ci\n",
    "      - run: npm publish --//registry.npmjs.org/:_authToken={s}\n",
    '      - run: echo "{var}={s}" >> "$GITHUB_ENV"\n',
    '      - run: "echo start\\n{var}={s} npm publish"\n',
    "      - run: >-\n          {var}={s}\n          npm publish\n",
    "      - run: curl -fsS --oauth2-bearer {s} https://example.com\n",
    "      - run: yarn {s}\n",
    "      - run: npm ci\n        env:\n          {var}: {s}\n",
    "      - name: Publish\n        run: npm publish\n        env:\n          {var}: {s}\n",
    "      - uses: JS-DevTools/npm-publish@v3\n        with:\n          token: {s}\n",
    "      - uses: some-org/release-action@v1\n        with:\n          npm-token: {s}\n",
    "      - shell: pwsh\n        run: |\n"
    "          '//registry.npmjs.org/:_authToken={s}' | Out-File ~/.npmrc\n",
    "      - shell: pwsh\n        run: $env:{var} = '{s}'; npm publish\n",
]
TRIGGERS = ["push", "pull_request_target", "workflow_run", "issue_comment", "workflow_dispatch"]


# Opaque secrets as short as real passwords, so a label that quotes a script's first 40
# characters would show one whole; a digit and a letter each, so never a word of a message.
short_opaque_secrets = st.text(alphabet=ALNUM, min_size=10, max_size=48).filter(
    lambda s: len(set(s)) > 6 and any(c.isdigit() for c in s) and any(c.isalpha() for c in s)
)


@st.composite
def credential_secrets(draw: st.DrawFn) -> str:
    """An npm token, a legacy UUID token, a GitHub token or an opaque secret."""
    kind = draw(st.sampled_from(["npm", "uuid", "github", "opaque"]))
    if kind == "npm":
        return draw(checksummed_tokens())
    if kind == "uuid":
        return str(draw(st.uuids()))
    if kind == "github":
        return draw(checksummed_tokens(draw(st.sampled_from(["ghp_", "gho_", "ghs_"]))))
    return draw(opaque_secrets | short_opaque_secrets)


@st.composite
def workflow_texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A workflow with secrets in env values, inputs and scripts; the secrets."""
    secrets: list[str] = []

    def secret() -> str:
        value = draw(credential_secrets())
        secrets.append(value)
        return value

    var = st.sampled_from(CREDENTIAL_VARIABLES)
    lines = [f"on: {draw(st.sampled_from(TRIGGERS))}\n"]
    if draw(st.booleans()):
        lines.append(f"env:\n  {draw(var)}: {secret()}\n")
    lines.append("jobs:\n  release:\n    runs-on: ubuntu-latest\n")
    if draw(st.booleans()):
        lines.append("    permissions:\n      contents: read\n      id-token: write\n")
    lines.append(f"    env:\n      {draw(var)}: {secret()}\n    steps:\n")
    if draw(st.booleans()):
        lines.append(
            "      - uses: actions/setup-node@v4\n        with:\n"
            "          registry-url: https://registry.npmjs.org\n"
        )
    for template in draw(st.lists(st.sampled_from(STEP_TEMPLATES), min_size=1, max_size=6)):
        lines.append(template.format(s=secret(), var=draw(var)))
    return "".join(lines), secrets


@SETTINGS
@given(workflow_texts())
def test_workflow_findings_carry_no_credential_into_any_report(
    sample: tuple[str, list[str]],
) -> None:
    """The findings the workflow rules build, rendered without the reporters' last scrub."""
    import json

    from npm_guard.report import FORMATS, render
    from npm_guard.report.json_report import render_json
    from npm_guard.report.sarif import render_sarif
    from npm_guard.report.summary import Verdict, render_summary
    from npm_guard.report.text import render_text
    from npm_guard.workflow import scan_workflow

    text, secrets = sample
    items = scan_workflow(".github/workflows/release.yml", text, no_ignores=True)
    assert "parse-error" not in {f.rule.id for f in items}
    assert "workflow-plaintext-credential" in {f.rule.id for f in items}  # not vacuous
    raw = [
        render_text(items, files_scanned=1),
        render_json(items, files_scanned=1),
        render_sarif(items),
        render_summary(items, verdict=Verdict(failed=True, threshold=Severity.ERROR)),
    ]
    raw += [render(fmt, items, files_scanned=1) for fmt in FORMATS]
    raw += [json.dumps(json.loads(raw[1]), ensure_ascii=False)]  # JSON escapes decoded
    for output in raw:
        leaked = [s for s in secrets if s in output]
        assert not leaked, f"{len(leaked)} credential(s) shown whole"
