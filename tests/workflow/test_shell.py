"""The shell reader: commands are found where the shell would find them."""

from __future__ import annotations

import pytest

from npm_guard.workflow.shell import read_script
from npm_guard.workflow.shell_words import CMDSUB, EXPR, LIT, PARAM, Command


def commands(source: str, shell: str = "bash") -> list[Command]:
    return read_script(source, shell).commands


def argvs(source: str, shell: str = "bash") -> list[list[str]]:
    return [c.argv for c in commands(source, shell)]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "npm ci && npm test || echo failed; npm publish",
            [
                ["npm", "ci"],
                ["npm", "test"],
                ["echo", "failed"],
                ["npm", "publish"],
            ],
        ),
        ("npm pack | tar -tz", [["npm", "pack"], ["tar", "-tz"]]),
        ("npm \\\n  publish \\\n  --access public", [["npm", "publish", "--access", "public"]]),
        ("npm publish & wait", [["npm", "publish"], ["wait"]]),
        ("if npm view x; then npm publish; fi", [["npm", "view", "x"], ["npm", "publish"]]),
        ("while true; do npm ping; done", [["true"], ["npm", "ping"]]),
        ("(cd pkg && npm publish)", [["cd", "pkg"], ["npm", "publish"]]),
        ("{ npm ci; npm test; }", [["npm", "ci"], ["npm", "test"]]),
        ("npm publish # npm token create", [["npm", "publish"]]),
        ("echo a#b", [["echo", "a#b"]]),
        ("n'p'm \"publish\"", [["npm", "publish"]]),
        ("for p in a b; do npm publish; done", [["npm", "publish"]]),
    ],
    ids=[
        "and-or-semicolon",
        "pipe",
        "continuations",
        "background",
        "if",
        "while",
        "subshell",
        "group",
        "comment",
        "hash-inside-word",
        "quotes-removed",
        "for-loop",
    ],
)
def test_commands_are_split_like_bash(source: str, expected: list[list[str]]) -> None:
    assert argvs(source) == expected


def test_command_substitutions_are_commands_of_their_own() -> None:
    found = argvs('VERSION=$(npm view pkg version | tr -d v)\necho "`npm whoami`"')
    assert ["npm", "view", "pkg", "version"] in found
    assert ["tr", "-d", "v"] in found
    assert ["npm", "whoami"] in found


def test_prefix_assignments_and_env_words() -> None:
    (command,) = commands("NODE_AUTH_TOKEN=${{ secrets.NPM_TOKEN }} CI=1 npm publish")
    assert [name for name, _ in command.assignments] == ["NODE_AUTH_TOKEN", "CI"]
    assert command.argv == ["npm", "publish"]
    token = command.assignments[0][1]
    assert [part.kind for part in token.parts] == [EXPR]


def test_quoting_decides_what_expands() -> None:
    (single, double, escaped, heredoc_word) = [
        c.words[1] for c in commands("echo '$A'\necho \"$A\"\necho \\$A\necho ${A:-x}")
    ]
    assert [p.kind for p in single.parts] == [LIT] and single.literal == "$A"
    assert [p.kind for p in double.parts] == [PARAM] and double.parts[0].text == "A"
    assert escaped.literal == "$A"
    assert heredoc_word.parts[0].kind == PARAM and heredoc_word.parts[0].text == "A"


def test_github_expressions_expand_even_in_single_quotes() -> None:
    (command,) = commands("echo 'token=${{ secrets.NPM_TOKEN }}'")
    kinds = [p.kind for p in command.words[1].parts]
    assert kinds == [LIT, EXPR]
    assert command.words[1].parts[1].text.strip() == "secrets.NPM_TOKEN"


def test_heredoc_bodies_quoted_and_unquoted() -> None:
    source = (
        "cat <<EOF > a\nx=$A\nEOF\ncat <<'EOF' > b\ny=$B\nEOF\ncat <<-END\n\tz\n\tEND\nnpm ci\n"
    )
    found = commands(source)
    assert [c.argv for c in found] == [["cat"], ["cat"], ["cat"], ["npm", "ci"]]
    first = found[0].redirects[0].heredoc
    second = found[1].redirects[0].heredoc
    third = found[2].redirects[0].heredoc
    assert first is not None and second is not None and third is not None
    assert first.body is not None and [p.kind for p in first.body.parts] == [LIT, PARAM, LIT]
    assert second.quoted and second.body is not None
    assert [p.text for p in second.body.parts] == ["y=$B\n"]
    assert third.strip_tabs and third.body is not None
    assert [p.text for p in third.body.parts] == ["z\n"]
    assert found[0].redirects[1].target is not None
    assert found[0].redirects[1].target.text == "a"


def test_heredoc_body_offsets_point_at_the_script() -> None:
    source = "cat <<EOF > .npmrc\n//r/:_authToken=${TOKEN}\nEOF\n"
    (command,) = commands(source)
    heredoc = command.redirects[0].heredoc
    assert heredoc is not None and heredoc.body is not None
    param = next(p for p in heredoc.body.parts if p.kind == PARAM)
    assert source[param.start : param.end] == "${TOKEN}"


def test_redirections_with_descriptors() -> None:
    (command,) = commands("npm publish 2>&1 >> log.txt < /dev/null")
    ops = [(r.op, r.fd, r.target.text if r.target else None) for r in command.redirects]
    assert ops == [(">&", "2", "1"), (">>", "", "log.txt"), ("<", "", "/dev/null")]
    assert command.redirects[1].writes_stdout and command.redirects[1].appends
    assert not command.redirects[0].writes_stdout


def test_pipeline_links_the_writer_to_tee() -> None:
    echo, tee = commands('echo "x" | tee -a .npmrc')
    assert tee.piped_from is echo and tee.after == "|"
    assert echo.piped_from is None


def test_a_newline_ends_the_pipeline() -> None:
    first, second = commands("echo x\ntee y")
    assert second.piped_from is None and first.piped_from is None


def test_offsets_point_at_the_command_word() -> None:
    source = "set -e\n  npm ci && \\\n  npm publish --tag next\n"
    for command in commands(source):
        assert source[command.start : command.start + len(command.name)] == command.name


def test_command_substitution_part() -> None:
    inner, echo = commands('echo "$(cat token)"')
    assert inner.argv == ["cat", "token"] and inner.substitution_depth == 1
    assert echo.words[1].parts[0].kind == CMDSUB


@pytest.mark.parametrize("source", ["\\", "'", '"', "$(", "${", "`", "<<", "<<EOF", "a >", "$'"])
def test_truncated_input_stays_in_bounds(source: str) -> None:
    for command in commands(source):
        for word in command.words:
            assert 0 <= word.start <= word.end <= len(source)


@pytest.mark.parametrize(
    "source", ["@'\"rc\n'@\"\n", '@"', "@'\n", "`", "$(", "${", "'", '"', "> ", "$env:"]
)
def test_truncated_powershell_stays_in_bounds(source: str) -> None:
    for command in commands(source, "pwsh"):
        for word in command.words:
            assert 0 <= word.start <= word.end <= len(source)
            for part in word.parts:
                assert 0 <= part.start <= part.end <= len(source), (source, part)


def test_powershell_basics() -> None:
    source = (
        '$env:NODE_AUTH_TOKEN = "${{ secrets.NPM_TOKEN }}"\n'
        '"//r/:_authToken=$env:NPM_TOKEN" | Out-File -FilePath .npmrc\n'
        "npm ci; npm publish `\n  --access public\n"
        "'literal $env:X' > out.txt\n"
    )
    assignment, string, out_file, ci, publish, literal = commands(source, "pwsh")
    assert [p.kind for p in assignment.words[0].parts] == [PARAM]
    assert [p.kind for p in assignment.words[2].parts] == [EXPR]
    assert out_file.argv[0] == "Out-File" and out_file.piped_from is string
    assert [p.kind for p in string.words[0].parts] == [LIT, PARAM]
    assert ci.argv == ["npm", "ci"]
    assert publish.argv == ["npm", "publish", "--access", "public"]
    assert [p.kind for p in literal.words[0].parts] == [LIT]
    assert literal.redirects[0].op == ">"


def test_powershell_here_strings() -> None:
    source = (
        '@"\n//r/:_authToken=$env:NPM_TOKEN\n"@ | Set-Content .npmrc\n'
        "@'\nx=$env:Y\n'@ | Out-File b\n"
    )
    found = commands(source, "pwsh")
    expanding, _, literal, _ = found
    assert PARAM in [p.kind for p in expanding.words[0].parts]
    assert [p.kind for p in literal.words[0].parts] == [LIT]
