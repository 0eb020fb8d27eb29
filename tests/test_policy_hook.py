"""The `npm-guard-policy` hook: validates policy files and lists every problem."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from npm_guard.hooks.npm_guard_policy import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "policy"


def test_valid_files_pass_silently(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in sorted((FIXTURES / "valid").glob("*.yml"))]
    assert main(files) == 0
    assert capsys.readouterr().out == ""


def test_invalid_file_lists_every_problem_and_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES / "invalid")
    assert main(["tokens.yml", "top-level.yml"]) == 1
    captured = capsys.readouterr()
    expected = [
        f"{name}:{line}"
        for name in ("tokens.yml", "top-level.yml")
        for line in (FIXTURES / "invalid" / name).with_suffix(".expected").read_text().splitlines()
    ]
    assert captured.out.splitlines() == expected
    assert "npm-guard-policy: tokens.yml: 8 problems" in captured.err
    assert "npm-guard-policy: top-level.yml: 3 problems" in captured.err


def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "missing.yml")]) == 2
    assert "no such policy file" in capsys.readouterr().err


def test_without_arguments_checks_the_file_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([]) == 0
    assert "no .npm-guard.yml at the repository root" in capsys.readouterr().err
    (tmp_path / ".npm-guard.yml").write_text("version: 1\nrules: {bogus: off}\n")
    assert main([]) == 1
    assert capsys.readouterr().out.startswith(".npm-guard.yml:2: rules.bogus: unknown rule id")


def test_without_arguments_in_a_subdirectory_checks_the_repository_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from npmrc_samples import git

    git(tmp_path, "init", "-q")
    (tmp_path / ".npm-guard.yml").write_text("version: 1\nrules: {bogus: off}\n")
    (tmp_path / "packages" / "app").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "packages" / "app")
    assert main([]) == 1
    assert capsys.readouterr().out.startswith(".npm-guard.yml:2: rules.bogus: unknown rule id")


def test_a_token_in_a_valid_policy_file_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pasted as a `tokens:` key (a token is a valid secret name) or into a reason: the
    schema is satisfied, the file still holds a credential."""
    from npmrc_samples import GITHUB_TOKEN, NPM_TOKEN, redacted

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".npm-guard.yml").write_text(
        "version: 1\n"
        "tokens:\n"
        f"  {NPM_TOKEN}: {{permission: read-only}}\n"
        "ignore:\n"
        "  - rule: npmrc-plaintext-credential\n"
        "    path: test/**\n"
        f"    reason: the old one was {GITHUB_TOKEN}\n"
    )
    assert main([".npm-guard.yml"]) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if not line.startswith(" ")]
    assert lines == [
        f".npm-guard.yml:3:3: error [policy-plaintext-credential] npm token "
        f"{redacted(NPM_TOKEN)} is written in the policy file (checksum valid: a real npm token)",
        ".npm-guard.yml:7:29: error [policy-plaintext-credential] GitHub token "
        f"<redacted, 40 chars, sha256:{hashlib.sha256(GITHUB_TOKEN.encode()).hexdigest()[:8]}> "
        "is written in the policy file (GitHub tokens usually grant far more than package "
        "access)",
    ]
    assert NPM_TOKEN not in out and GITHUB_TOKEN not in out
    assert "tip: Revoke the token first" in out


def test_a_token_the_policy_itself_turns_off_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from npmrc_samples import NPM_TOKEN_BAD_CHECKSUM

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".npm-guard.yml").write_text(
        f"# example: {NPM_TOKEN_BAD_CHECKSUM}\nversion: 1\n"
        "rules: {policy-plaintext-credential: warning}\n"
    )
    assert main([".npm-guard.yml"]) == 0
    assert "warning [policy-plaintext-credential]" in capsys.readouterr().out


UNREAD = ".npm-guard.yaml is not read: the policy file is .npm-guard.yml (rename it to apply it)"


def test_a_yaml_spelled_policy_file_is_named_not_silently_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`.npm-guard.yaml` turning a rule off is never read: the CLI and the hooks say so."""
    from npmrc_samples import NPM_TOKEN

    from npm_guard import cli
    from npm_guard.hooks import npmrc_credentials

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".npm-guard.yaml").write_text(
        "version: 1\nrules: {npmrc-plaintext-credential: off}\n"
    )
    (tmp_path / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    for run in (
        lambda: cli.main(["scan", ".npmrc"]),
        lambda: npmrc_credentials.main([".npmrc"]),
    ):
        assert run() == 1  # the rule is still on
        err = capsys.readouterr().err
        assert err.splitlines() == [f"npm-guard: {UNREAD}"]
    assert main([]) == 0
    assert capsys.readouterr().err.splitlines()[0] == f"npm-guard-policy: {UNREAD}"
    (tmp_path / ".npm-guard.yml").write_text("version: 1\n")  # both: the .yml is read
    assert cli.main(["scan", ".npmrc"]) == 1
    assert main([]) == 0
    assert "is not read" not in capsys.readouterr().err


def test_hook_is_declared_for_pre_commit() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "npm-guard-policy"]
    assert hook["entry"] == "npm-guard-policy"
    import re

    pattern = re.compile(hook["files"])
    # Only the file npm-guard reads: the root's `.npm-guard.yml`.
    assert pattern.search(".npm-guard.yml")
    for path in (
        ".npm-guard.yaml",
        "sub/.npm-guard.yml",
        "sub/dir/.npm-guard.yaml",
        "npm-guard.yml",
        ".npm-guard.yml.bak",
    ):
        assert not pattern.search(path), path


def test_console_script_runs() -> None:
    script = shutil.which("npm-guard-policy", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "npm_guard.hooks.npm_guard_policy"]
    proc = subprocess.run(
        [*command, str(FIXTURES / "invalid" / "version-missing.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout.endswith("version-missing.yml:1: missing required key 'version'\n")
