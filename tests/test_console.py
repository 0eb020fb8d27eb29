"""Every line npm-guard prints goes out through `npm_guard.console` and is redacted there
(issue 12, "The token goes only where it belongs": every line, any command)."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
from npmrc_samples import NPM_TOKEN, Runner, make_runner, make_token, write

from npm_guard import console
from npm_guard.hooks import npm_guard_policy, npmrc_credentials

PACKAGE = Path(__file__).resolve().parent.parent / "npm_guard"
TOKEN_DIR = make_token("npm_", 4711)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    return repo


# The structural guard: nothing but console.py names the standard streams or print.

_STREAMS = {"stdout", "stderr", "__stdout__", "__stderr__"}


def _prints_in(source: str, filename: str) -> list[str]:
    """Every place in `source` that could print around `npm_guard.console`."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in ("print", "breakpoint", "input"):
                found.append(f"{where}: {node.func.id}()")
        elif isinstance(node, ast.Attribute):
            if (
                node.attr in _STREAMS
                and isinstance(node.value, ast.Name)
                and (node.value.id == "sys")
            ):
                found.append(f"{where}: {node.value.id}.{node.attr}")
            elif node.attr in ("print_exc", "print_exception", "print_stack", "print_tb"):
                found.append(f"{where}: {node.attr}")
            elif node.attr == "pprint":
                found.append(f"{where}: pprint")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = {alias.name for alias in node.names}
            module = getattr(node, "module", None) or ""
            if (module == "sys" and names & _STREAMS) or module in ("logging", "pprint"):
                found.append(f"{where}: import from {module}")
            if names & {"logging", "pprint", "warnings"}:
                found.append(f"{where}: import {sorted(names)}")
    return found


_SAMPLE = """
import sys, logging
from sys import stderr
print("x")
sys.stdout.write("x")
sys.stderr.flush()
traceback.print_exc()
stream = sys.__stderr__
"""


def test_the_guard_sees_every_way_to_print() -> None:
    assert len(_prints_in(_SAMPLE, "sample.py")) == 7


def test_only_console_prints() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "console.py" and path.parent == PACKAGE:
            continue
        offenders.extend(_prints_in(path.read_text(encoding="utf-8"), str(path.name)))
    assert offenders == []


# What goes through it.


def test_a_token_in_a_directory_name_is_redacted_in_notices(run: Runner, project: Path) -> None:
    """`…/npm_…/.npmrc: symbolic link out of the scanned tree` printed the token whole."""
    outside = project.parent / "outside.npmrc"
    outside.write_text("registry=https://registry.npmjs.org/\n")
    (project / TOKEN_DIR).mkdir()
    os.symlink(outside, project / TOKEN_DIR / ".npmrc")
    code, out, err = run("scan", ".")
    assert code == 0
    assert "symbolic link out of the scanned tree" in err
    assert TOKEN_DIR not in out + err and TOKEN_DIR[:8] + "…" in err


def test_argument_errors_are_redacted(
    run: Runner, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse quotes the argument it refuses; a hook's arguments are file names."""
    code, out, err = run("scan", "--format", NPM_TOKEN)
    assert code == 2 and "invalid choice" in err
    assert NPM_TOKEN not in out + err
    hook = make_runner(npmrc_credentials.main, capsys)
    code, out, err = hook("--fail-on", TOKEN_DIR)
    assert code == 2 and "invalid choice" in err and TOKEN_DIR not in out + err


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_the_password_of_a_scheme_less_key_is_redacted(
    run: Runner, project: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`//user:pass@host/:_authToken` printed the password in every format (the tip
    quotes the key), and in the job summary."""
    write(project / ".npmrc", "//ci:hunter2pass@npm.example.com/:_authToken=abcdefgh12345678\n")
    summary = project.parent / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    _, out, err = run("scan", "--format", fmt, ".")
    assert "npm.example.com" in out
    assert "hunter2pass" not in out + err + summary.read_text()
    assert "hunter2pass".upper() not in out + err


def test_fix_names_the_variable_after_the_host_only(run: Runner, project: Path) -> None:
    npmrc = write(
        project / ".npmrc", "//ci:hunter2pass@npm.example.com/:_authToken=abcdefgh12345678\n"
    )
    code, out, err = run("scan", "--fix", ".")
    assert code == 1
    assert npmrc.read_text() == (
        "//ci:hunter2pass@npm.example.com/:_authToken=${NPM_TOKEN_NPM_EXAMPLE_COM}\n"
    )
    assert "HUNTER2PASS" not in out + err and "hunter2pass" not in out + err


def test_the_policy_hook_prints_through_console(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = write(project / ".npm-guard.yml", f'version: 1\n"{NPM_TOKEN}": 1\n')
    assert npm_guard_policy.main([str(policy)]) == 1
    out, err = capsys.readouterr()
    assert NPM_TOKEN not in out + err and out


def test_registered_secrets_are_redacted_from_every_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    console.register_secrets(["opaque-session-value"])
    try:
        console.err("npm-guard: error: GET https://h/opaque-session-value/x failed")
        console.out("registry opaque-session-value")
    finally:
        console.forget_secrets(["opaque-session-value"])
    out, err = capsys.readouterr()
    assert "opaque-session-value" not in out + err and "<redacted" in err
    console.out("opaque-session-value")
    assert capsys.readouterr().out == "opaque-session-value\n"


def test_masks_are_the_only_unscrubbed_output(capsys: pytest.CaptureFixture[str]) -> None:
    console.write_masks([f"::add-mask::{NPM_TOKEN}"])
    assert capsys.readouterr().out == f"::add-mask::{NPM_TOKEN}\n"
    with pytest.raises(ValueError, match="not an add-mask"):
        console.write_masks([f"::add-mask::x\n{NPM_TOKEN}"])
    with pytest.raises(ValueError, match="not an add-mask"):
        console.write_masks([NPM_TOKEN])


# Inside GitHub Actions: no line starts a workflow command npm-guard did not build.


def test_json_stays_the_same_json_without_legacy_commands() -> None:
    document = {"path": "##[set-output name=x;]y", "list": ["::stop-commands::z", "a##[b"]}
    text = json.dumps(document, indent=2)
    shown = console.neutralise(text, fmt="json")
    assert "##[" not in shown and json.loads(shown) == document
    assert not any(line.lstrip().startswith("::") for line in shown.splitlines())


def test_own_commands_pass_and_forged_ones_do_not() -> None:
    own = "::error file=a%3Ab.yml,line=3,title=npm-guard x::message :: with ##[ inside"
    text = "\n".join([own, "::stop-commands::abc", "::set-output name=x::y", " ::error::z"])
    lines = console.neutralise(text, commands=True).split("\n")
    assert lines[0] == own
    assert all(line.startswith(("\\::", " \\::")) for line in lines[1:])
    assert console.neutralise(own).startswith("\\::")  # not asked for: not kept
