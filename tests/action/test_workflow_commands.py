"""What the runner reads as workflow commands in npm-guard's output: only the commands
npm-guard means, whatever the names and values in the scanned files.

The local runner (composite_runner) reads commands the way actions/runner does, so
these tests can fail: `::` after leading whitespace, and the legacy `##[name]` form
anywhere in a line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from composite_runner import Command, parse_command
from npmrc_samples import make_token

from npm_guard import action
from npm_guard.cli import main as cli_main
from npm_guard.findings import Finding, Location, Severity
from npm_guard.github_io import input_variable
from npm_guard.report.github import (
    ANNOTATIONS_PER_SEVERITY,
    plain_line,
    plain_text,
    render_github,
)
from npm_guard.rules import npmrc_plaintext_credential

SPOOF_DIR = "##[warning title=spoof]build passed"
HOSTILE_TEXTS = [
    "##[warning title=spoof]build passed",
    "  ##[error]x",
    "::error::x",
    "   ::warning title=t::x",
    "\t::add-mask::x",
    "\u200b::error::x",
    "prefix ##[group]x",
    "a\n::error::second line",
    "a\r::error::after a carriage return",
    "###[notice]x",
    "::ERROR::upper case",
]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "::error file=a.yml,line=3::boom",
            Command("error", {"file": "a.yml", "line": "3"}, "boom"),
        ),
        ("   ::warning::indented", Command("warning", {}, "indented")),
        ("::ERROR::x", Command("error", {}, "x")),
        (
            "##[warning title=spoof]build passed",
            Command("warning", {"title": "spoof"}, "build passed"),
        ),
        ("  text ##[error]inside a line", Command("error", {}, "inside a line")),
        ("::not-a-command::x", None),
        ("##[section]Starting", None),
        ("plain text", None),
        ("  \\::error::x", None),
        ("##\\[warning]x", None),
    ],
)
def test_the_local_runner_reads_commands_like_the_real_one(
    line: str, expected: Command | None
) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_a_plain_line_is_never_a_command(text: str) -> None:
    assert parse_command(plain_line(text)) is None
    assert "\n" not in plain_line(text) and "\r" not in plain_line(text)
    assert all(parse_command(line) is None for line in plain_text(text).splitlines())


def test_plain_lines_keep_ordinary_text_as_written() -> None:
    text = "  packages/a b/%41.npmrc:3:1: error [x] 100% a::b [c]"
    assert plain_line(text) == text


def finding(path: str, line: int) -> Finding:
    return Finding(
        rule=npmrc_plaintext_credential.RULE,
        location=Location(path, line, 31),
        message="an npm token",
        key=f"{path}:{line}",
        severity=Severity.ERROR,
    )


@pytest.mark.parametrize("directory", [SPOOF_DIR, "::warning title=spoof::x", " ::error::x"])
def test_overflow_lines_of_a_spoofing_path_are_no_commands(directory: str) -> None:
    findings = [finding(f"{directory}/.npmrc", i) for i in range(1, 13)]
    commands = [c for c in map(parse_command, render_github(findings).splitlines()) if c]
    assert len(commands) == ANNOTATIONS_PER_SEVERITY
    assert all(c.name == "error" for c in commands)
    assert all(c.properties["title"] == "npm-guard npmrc-plaintext-credential" for c in commands)


def spoofing_repository(root: Path) -> Path:
    """A directory whose name is a legacy workflow command, holding 12 tokens."""
    directory = root / SPOOF_DIR
    directory.mkdir(parents=True)
    lines = [f"//r{i}.example/:_authToken={make_token('npm_', 800 + i)}" for i in range(12)]
    (directory / ".npmrc").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def test_the_action_log_holds_no_spoofed_command(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    spoofing_repository(project)
    written: list[str] = []
    environ = {"GITHUB_WORKSPACE": str(project), input_variable("summary"): "false"}
    assert action.main(environ, written.append) == 1
    commands = [c for c in map(parse_command, "".join(written).splitlines()) if c]
    assert [c.name for c in commands] == ["error"] * ANNOTATIONS_PER_SEVERITY
    assert {c.properties["title"] for c in commands} == {"npm-guard npmrc-plaintext-credential"}
    assert sum(SPOOF_DIR.replace("##[", "##\\[") in line for line in written) >= 1


def test_cli_notices_on_stderr_are_no_commands_in_github_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "##[error title=spoof]policy.yml"
    policy.write_text('version: 1\n"##[warning]x": 1\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert cli_main(["scan", "--format", "github", "--policy", str(policy), "."]) == 2
    err = capsys.readouterr().err
    assert "policy.yml" in err
    assert [line for line in err.splitlines() if parse_command(line)] == []
    # Inside GitHub Actions every format's stderr is in the log too.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli_main(["scan", "--policy", str(policy), "."]) == 2
    err = capsys.readouterr().err
    assert err and [line for line in err.splitlines() if parse_command(line)] == []


# Every format, inside GitHub Actions: stdout and stderr are both in the log (issue 12).

FORGING_NAMES = [
    "::stop-commands::pwned",
    "::set-output name=verdict::pass",
    "##[set-output name=verdict;]pass",
    " ::error title=Passed::all good",
]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
@pytest.mark.parametrize("name", FORGING_NAMES)
def test_no_format_prints_a_command_from_a_file_name_in_actions(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fmt: str,
    name: str,
) -> None:
    project = tmp_path / "repo"
    directory = project / name
    directory.mkdir(parents=True)
    token = make_token("npm_", 900)
    (directory / ".npmrc").write_text(f"_authToken={token}\n", encoding="utf-8")
    monkeypatch.chdir(project)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli_main(["scan", "--format", fmt, "."]) == (0 if fmt == "sarif" else 1)
    out, err = capsys.readouterr()
    commands = [c for c in map(parse_command, (out + err).splitlines()) if c]
    if fmt == "github":
        assert {c.name for c in commands} == {"error"}
        assert {c.properties["title"] for c in commands} == {
            "npm-guard npmrc-plaintext-credential",
            "npm-guard npmrc-unscoped-credential",
        }
        assert {c.properties["file"] for c in commands} == {f"{name}/.npmrc"}
    else:
        assert commands == []
    # The name is still in the report, as data.
    if fmt == "json":
        paths = {f["location"]["path"] for f in json.loads(out)["findings"]}
        assert paths == {f"{name}/.npmrc"}
    elif fmt == "sarif":
        from urllib.parse import unquote

        results = json.loads(out)["runs"][0]["results"]
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
        assert {unquote(u) for u in uris} == {f"{name}/.npmrc"}
    elif fmt == "text":
        assert name.strip()[2:] in out
