"""No output ever contains a whole credential: every format, the job summary, the hook,
`--fix`, `--debug`.

The secrets are collected from the credential-bearing fixtures with this file's own
patterns (not npm-guard's), plus `npmrc_samples.EVERY_SECRET`: tokens, `_auth` values
and the user:password they decode to, `_password` values and the password they decode
to, and passwords in registry URLs (https and http, `registry=` and `@scope:registry=`).
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import shutil
from pathlib import Path

import pytest
from npmrc_samples import (
    EVERY_CREDENTIAL_NPMRC,
    EVERY_SECRET,
    GITHUB_TOKEN,
    NPM_TOKEN,
    NPM_TOKEN_2,
    make_runner,
    redacted,
    write,
)

from npm_guard import cli, scan
from npm_guard.hooks import npmrc_credentials

FIXTURES = Path(__file__).parent / "fixtures" / "npmrc"
_TOKEN_RE = re.compile(
    r"npm_[A-Za-z0-9]{36}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{82}"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)
_VALUE_RE = re.compile(r"(?:_authToken|_auth|_password)\s*=\s*(.*)$")
_URL_PASSWORD_RE = re.compile(r"://[^:/@\s]+:([^@\s/]+)@")


def _value(raw: str) -> str:
    value = re.split(r"\s[;#]", raw)[0].strip()
    return value.strip("\"'")


def _decoded(value: str) -> list[str]:
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return []
    parts = [text]
    if ":" in text:
        parts.append(text.partition(":")[2])
    return parts


def collect_secrets(text: str) -> set[str]:
    secrets = set(_TOKEN_RE.findall(text))
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("#", ";")):
            continue
        match = _VALUE_RE.search(line)
        if match:
            value = _value(match.group(1))
            if value and not any(mark in value for mark in "$%{<[*"):
                secrets.add(value)
                secrets.update(_decoded(value))
        for password in _URL_PASSWORD_RE.findall(line):
            if "$" not in password:
                secrets.add(password)
    return {s for s in secrets if len(s) >= 6}


def fixture_secrets() -> set[str]:
    found: set[str] = set()
    for path in FIXTURES.glob("*/bad-*.npmrc"):
        found |= collect_secrets(path.read_bytes().decode("utf-8", errors="replace"))
    return found


ALL_SECRETS = sorted(fixture_secrets() | set(EVERY_SECRET), key=len, reverse=True)


_WORKFLOW_COMMAND_ESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}


def readable(output: str, fmt: str = "text") -> str:
    """What a reader of the output sees, escapes decoded: JSON's (`\\u2026`, `\\"`),
    workflow commands' (`%0A`, `%3A`), Markdown's (`\\_`) and HTML's (`&lt;`)."""
    if fmt in ("json", "sarif"):
        return output + json.dumps(json.loads(output), ensure_ascii=False)
    if fmt == "github":
        decoded = re.sub(
            "|".join(_WORKFLOW_COMMAND_ESCAPES),
            lambda m: _WORKFLOW_COMMAND_ESCAPES[m.group()],
            output,
        )
        return output + "\n" + decoded
    if fmt == "markdown":
        return output + "\n" + re.sub(r"\\(.)", r"\1", html.unescape(output))
    return output


def assert_no_secret(output: str, fmt: str = "text") -> None:
    text = readable(output, fmt)
    leaked = [s for s in ALL_SECRETS if s in text]
    assert not leaked, f"credentials in the output: {[s[:6] + '…' for s in leaked]}"


def test_the_collector_finds_what_it_must() -> None:
    """Guard against a vacuous test: the secrets list covers every kind in the fixtures."""
    collected = fixture_secrets()
    assert "ci-bot:Tr0ub4dor&3" in collected and "Tr0ub4dor&3" in collected  # _auth, decoded
    assert "correct horse battery" in collected  # _password, decoded
    assert "s3cr3t-Pa55" in collected  # URL password
    assert "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" in collected
    assert "87751d4c-a850-4e2c-84dc-da6a797d76de" in collected
    assert "AKCp8kqX7T3vLm9ZRb2Wd4YcNf6Hs1Gu" in collected
    assert any(s.startswith("github_pat_") for s in collected)
    assert collect_secrets(EVERY_CREDENTIAL_NPMRC) >= set(EVERY_SECRET) - {NPM_TOKEN_2} - {"ci-bot"}
    assert "Http-Pa55word" in collected  # http URL password
    assert len(ALL_SECRETS) >= 25


def test_readable_decodes_what_each_format_escapes() -> None:
    """Guard against a vacuous search: escaped secrets are found once decoded."""
    assert "ab:cd" in readable("x ab%3Acd", "github")
    assert "a_b<c" in readable("x a\\_b&lt;c", "markdown")


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every fixture plus one file with every kind of credential, and a large file."""
    monkeypatch.chdir(tmp_path)
    files = []
    for path in sorted(FIXTURES.glob("*/*.npmrc")):
        target = tmp_path / path.parent.name / path.name
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
        files.append(str(target.relative_to(tmp_path)))
    write(tmp_path / "all" / ".npmrc", EVERY_CREDENTIAL_NPMRC)
    large = "# padding line\n" * 200_000 + EVERY_CREDENTIAL_NPMRC
    write(tmp_path / "large" / ".npmrc", large)
    files += ["all/.npmrc", "large/.npmrc"]
    return files


FORMATS = ["text", "json", "sarif", "github"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_scan_output_in_every_format(
    fmt: str, tree: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_runner(cli.main, capsys)
    code, out, err = run("scan", "--format", fmt, "--no-ignores", "--fail-on", "note", *tree)
    assert code == 1
    assert_no_secret(out, fmt)
    assert_no_secret(err)
    assert redacted(NPM_TOKEN) in readable(out, fmt)  # the scan did report it, redacted
    assert "ci-bot" in out  # the _auth user is named


@pytest.mark.parametrize("fmt", FORMATS)
def test_hook_output_in_every_format(
    fmt: str, tree: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_runner(npmrc_credentials.main, capsys)
    code, out, err = run("--format", fmt, "--fail-on", "note", *tree)
    assert code == 1
    assert_no_secret(out, fmt)
    assert_no_secret(err)
    assert redacted(NPM_TOKEN) in readable(out, fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_job_summary(
    fmt: str, tree: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Markdown summary, whose escaping (`npm\\_…`) hides tokens from a plain search."""
    run = make_runner(cli.main, capsys)
    summary = tmp_path / "summary.md"
    code, _, err = run("scan", "--format", fmt, "--summary", str(summary), "--no-ignores", *tree)
    assert code == (0 if fmt == "sarif" else 1)
    markdown = summary.read_text(encoding="utf-8")
    assert_no_secret(markdown, "markdown")
    assert_no_secret(err)
    assert redacted(NPM_TOKEN) in readable(markdown, "markdown")
    assert "http://alice:***@registry.example.com/" in readable(markdown, "markdown")


def test_directory_scan_output(tree: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    run = make_runner(cli.main, capsys)
    code, out, err = run("scan", "--format", "json", ".")
    assert code == 1
    assert_no_secret(out, "json")
    assert_no_secret(err)
    assert redacted(NPM_TOKEN) in readable(out, "json")


def test_fix_messages(tree: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    run = make_runner(cli.main, capsys)
    code, out, err = run("scan", "--fix", "--format", "text", *tree)
    assert code == 1
    assert "replaced the npm token" in err
    assert_no_secret(out + err)


def test_hook_fix_messages(tree: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    run = make_runner(npmrc_credentials.main, capsys)
    code, out, err = run("--fix", *tree)
    assert code == 1
    assert "replaced the GitHub token" in err
    assert_no_secret(out + err)


def test_internal_error_with_debug(
    tree: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even a bug that puts a token into an exception message does not print it."""

    def explode(*args: object, **kwargs: object) -> object:
        raise ValueError(f"unexpected value {NPM_TOKEN!r} next to {GITHUB_TOKEN}")

    monkeypatch.setattr(scan, "scan_target", explode)
    run = make_runner(cli.main, capsys)
    for argv in (("--debug", "scan", *tree), ("scan", *tree)):
        code, out, err = run(*argv)
        assert code == 3
        assert_no_secret(out + err)
    assert "Traceback" in run("--debug", "scan", *tree)[2]


def test_usage_error_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A token pasted where a path or a variable name belongs is not echoed back."""
    run = make_runner(cli.main, capsys)
    for argv in (
        ("scan", NPM_TOKEN),
        ("scan", "--fix", "--fix-variable", f"{NPM_TOKEN}-x", str(tmp_path)),
        ("scan", "--output", str(tmp_path / "missing" / NPM_TOKEN), str(tmp_path)),
    ):
        code, out, err = run(*argv)
        assert code == 2
        assert_no_secret(out + err)
