"""The `npmrc-credentials` pre-commit hook, called the way pre-commit calls it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from npmrc_samples import (
    AUTH_USER,
    AUTH_VALUE,
    NPM_TOKEN,
    NPM_TOKEN_BAD_CHECKSUM,
    Runner,
    redacted,
    write,
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_no_files_passes(hook: Runner, project: Path) -> None:
    code, out, err = hook()
    assert code == 0
    assert out == "npm-guard: no findings (0 files scanned)\n"
    assert err == ""


def test_good_file_passes(hook: Runner, project: Path) -> None:
    write(project / ".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    assert hook(".npmrc")[0] == 0


def test_bad_file_fails_and_names_the_line(hook: Runner, project: Path) -> None:
    write(project / "packages" / "a" / ".npmrc", f"save-exact=true\n_authToken={NPM_TOKEN}\n")
    code, out, err = hook("packages/a/.npmrc")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("packages/a/.npmrc:2:1: error [npmrc-unscoped-credential]")
    assert lines[3] == (
        f"packages/a/.npmrc:2:12: error [npmrc-plaintext-credential] npm token "
        f"{redacted(NPM_TOKEN)} is stored in plain text for every registry (the key has no "
        f"//host/ prefix) (checksum valid: a real npm token)"
    )
    assert lines[-1] == "npm-guard: 2 findings (2 errors; 1 file scanned)"
    assert err == ""


def test_every_credential_kind_is_named(hook: Runner, project: Path) -> None:
    write(
        project / ".npmrc",
        f"//registry.npmjs.org/:_authToken={NPM_TOKEN_BAD_CHECKSUM}\n"
        f"//r.example.com/:_auth={AUTH_VALUE}\n",
    )
    code, out, _ = hook(".npmrc")
    assert code == 1
    assert "npm-shaped token whose checksum fails" in out
    assert "(confidence: low)" in out
    assert f"basic auth for user '{AUTH_USER}'" in out


def test_warnings_pass_unless_fail_on_warning(hook: Runner, project: Path) -> None:
    write(project / ".npmrc", "strict-ssl=false\n")
    code, out, _ = hook(".npmrc")
    assert code == 0
    assert ".npmrc:1:12: warning [npmrc-insecure-registry]" in out
    assert hook("--fail-on", "warning", ".npmrc")[0] == 1


def test_inline_ignore_and_no_ignores(hook: Runner, project: Path) -> None:
    write(
        project / ".npmrc",
        "; npm-guard: ignore-next-line[npmrc-plaintext-credential] token of the test registry\n"
        f"//localhost:4873/:_authToken={NPM_TOKEN}\n",
    )
    assert hook(".npmrc")[0] == 0
    code, out, _ = hook("--no-ignores", ".npmrc")
    assert code == 1
    assert ".npmrc:2:30: error [npmrc-plaintext-credential]" in out
    assert "http://localhost:4873/" in out


def test_the_hook_reads_every_file_it_is_given_as_npmrc(hook: Runner, project: Path) -> None:
    """pre-commit chose the files by the hook's `files:` pattern; the hook trusts that."""
    write(project / "config" / "ci.npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    code, out, _ = hook("config/ci.npmrc")
    assert code == 1
    assert out.startswith("config/ci.npmrc:1:34: error [npmrc-plaintext-credential]")


def test_a_missing_file_is_a_parse_error_not_a_crash(hook: Runner, project: Path) -> None:
    code, out, _ = hook("gone/.npmrc")
    assert code == 1
    assert out.startswith(
        "gone/.npmrc:1:1: error [parse-error] cannot scan this file: cannot read "
        "(No such file or directory)"
    )


def test_json_output(hook: Runner, project: Path) -> None:
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    code, out, _ = hook("--format", "json", ".npmrc")
    assert code == 1
    (finding,) = json.loads(out)["findings"]
    assert finding["rule"] == "npmrc-plaintext-credential"
    assert finding["properties"] == {
        "registry": "https://registry.npmjs.org/",
        "credential_kind": "npm token",
    }


def test_usage_error(hook: Runner, project: Path) -> None:
    code, out, err = hook("--format", "yaml", ".npmrc")
    assert code == 2
    assert out == ""
    assert "usage: npmrc-credentials" in err


def test_internal_error_exit_3(
    hook: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from npm_guard import scan

    def explode(*args: object, **kwargs: object) -> object:
        raise KeyError(NPM_TOKEN)

    write(project / ".npmrc", "x=1\n")
    monkeypatch.setattr(scan, "scan_target", explode)
    code, out, err = hook(".npmrc")
    assert code == 3
    assert err == "npm-guard: internal error (KeyError); rerun with --debug for details\n"
    assert NPM_TOKEN not in out + err


def test_console_script_is_installed(project: Path) -> None:
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    script = Path(sys.executable).parent / "npmrc-credentials"
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-m", "npm_guard.hooks.npmrc_credentials"]
    )
    proc = subprocess.run([*command, ".npmrc"], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert proc.stdout.startswith(".npmrc:1:34: error [npmrc-plaintext-credential]")
