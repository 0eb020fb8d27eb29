"""`--fix`: literal `_authToken` values become `${VAR}` references, nothing else changes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from npmrc_samples import (
    AUTH_PASSWORD,
    AUTH_VALUE,
    GITHUB_TOKEN,
    NPM_TOKEN,
    NPM_TOKEN_2,
    NPM_TOKEN_BAD_CHECKSUM,
    OPAQUE_TOKEN,
    PASSWORD_VALUE,
    UUID_TOKEN,
    Runner,
    git,
    redacted,
    write,
)

from npm_guard.fix import fix_npmrc
from npm_guard.token_advice import variable_for_scope, variables_for_scopes


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("scope", "variable"),
    [
        (None, "NPM_TOKEN"),
        ("//registry.npmjs.org/", "NPM_TOKEN"),
        ("//registry.npmjs.org/some/path/", "NPM_TOKEN"),
        ("//npm.pkg.github.com/", "GITHUB_TOKEN"),
        ("//npm.pkg.github.com/my-org/", "GITHUB_TOKEN"),
        ("//npm.corp.example/", "NPM_TOKEN_NPM_CORP_EXAMPLE"),
        ("//r.corp.example:8443/api/npm/", "NPM_TOKEN_R_CORP_EXAMPLE_8443"),
        ("//my-registry.example.com/", "NPM_TOKEN_MY_REGISTRY_EXAMPLE_COM"),
    ],
)
def test_variable_for_scope(scope: str | None, variable: str) -> None:
    assert variable_for_scope(scope) == variable


def test_fix_preserves_every_other_byte(run: Runner, project: Path) -> None:
    original = (
        "\ufeff# shared config\r\n"
        "; keep this comment\r\n"
        f'//registry.npmjs.org/:_authToken="{NPM_TOKEN}"\r\n'
        f"//npm.pkg.github.com/:_authToken = {GITHUB_TOKEN} ; note after the token\r"
        "save-exact=true\n"
        f"//npm.corp.example:8443/npm/:_authToken='{NPM_TOKEN_2}'\n"
        "\n"
        f"  //legacy.example.com/:_authToken={UUID_TOKEN}\t\n"
        "//refs.example.com/:_authToken=${ALREADY_A_REFERENCE}\n"
        "//placeholder.example.com/:_authToken=<YOUR_TOKEN>\n"
        f"//basic.example.com/:_auth={AUTH_VALUE}\n"
        f"//pw.example.com/:_password={PASSWORD_VALUE}\n"
        "# end, no newline at the end of the file"
    ).encode()
    npmrc = write(project / ".npmrc", original)
    code, _, err = run("scan", "--fix", ".npmrc")
    assert code == 1
    expected = (
        original.replace(NPM_TOKEN.encode(), b"${NPM_TOKEN}")
        .replace(GITHUB_TOKEN.encode(), b"${GITHUB_TOKEN}")
        .replace(NPM_TOKEN_2.encode(), b"${NPM_TOKEN_NPM_CORP_EXAMPLE_8443}")
        .replace(UUID_TOKEN.encode(), b"${NPM_TOKEN_LEGACY_EXAMPLE_COM}")
    )
    assert npmrc.read_bytes() == expected
    # _auth and _password are not rewritten: the user has to decide how to replace them.
    assert AUTH_VALUE in npmrc.read_text(encoding="utf-8")
    assert "replaced the npm token" in err


def committed(project: Path, *names: str) -> None:
    """The files as they are now, committed in a new repository at `project`."""
    git(project, "init", "-q")
    git(project, "add", *names)
    git(project, "commit", "-q", "-m", "committed")


def test_fix_exit_code_message_and_redaction(run: Runner, project: Path) -> None:
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    committed(project, ".npmrc")
    code, out, err = run("scan", "--fix", ".npmrc")
    assert code == 1  # a fixer fails the commit so the change is reviewed
    assert out == "npm-guard: no findings (1 file scanned)\n"  # the report is after the fix
    assert err == (
        f"npm-guard: .npmrc:1: replaced the npm token {redacted(NPM_TOKEN)} with ${{NPM_TOKEN}}. "
        "The token is still valid and still in git history. Revoke it: `npm token list` "
        f"shows it as {redacted(NPM_TOKEN)}; `npm token revoke <id>`, or Access Tokens on "
        "npmjs.com (https://www.npmjs.com/settings/~/tokens). Then set NPM_TOKEN in the "
        "environment where npm runs.\n"
    )
    assert NPM_TOKEN not in out + err


STILL_VALID = (
    f"replaced the npm token {redacted(NPM_TOKEN)} with ${{NPM_TOKEN}}. The token is still valid"
)


def test_fix_of_a_staged_file_says_no_commit_has_the_token(run: Runner, project: Path) -> None:
    """What the pre-commit hook sees: the token is staged, not committed."""
    write(project / "README.md", "readme\n")
    committed(project, "README.md")
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    git(project, "add", ".npmrc")
    code, _, err = run("scan", "--fix", ".npmrc")
    assert code == 1
    assert f"{STILL_VALID} and in no commit (this file was never committed with it). " in err
    assert "git history" not in err


def test_fix_of_a_token_added_to_a_committed_file(run: Runner, project: Path) -> None:
    """The file is in history, the token is not: history is searched for the token."""
    write(project / ".npmrc", "registry=https://registry.npmjs.org/\n")
    committed(project, ".npmrc")
    with (project / ".npmrc").open("a") as handle:
        handle.write(f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    code, _, err = run("scan", "--fix", ".npmrc")
    assert code == 1
    assert "in no commit" in err and "git history" not in err


def test_fix_finds_the_token_in_an_older_commit_and_on_other_branches(
    run: Runner, project: Path
) -> None:
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    committed(project, ".npmrc")
    git(project, "checkout", "-q", "-b", "cleaned")
    write(project / ".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    git(project, "commit", "-q", "-am", "cleaned")
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")  # again
    code, _, err = run("scan", "--fix", ".npmrc")
    assert code == 1
    assert f"{STILL_VALID} and still in git history. " in err


def test_fix_outside_git_says_nothing_about_history(run: Runner, project: Path) -> None:
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    code, _, err = run("scan", "--fix", ".npmrc")
    assert code == 1
    assert f"{STILL_VALID}. Revoke it: " in err
    assert "git history" not in err and "commit" not in err


def test_fix_of_a_dead_token_never_committed(run: Runner, project: Path) -> None:
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={UUID_TOKEN}\n")
    git(project, "init", "-q")
    code, _, err = run("scan", "--fix", ".npmrc")
    assert code == 1
    assert "The token is in no commit (this file was never committed with it). " in err
    assert "(other registries, CI secrets, old machines). Then set NPM_TOKEN" in err
    assert "git history" not in err


def test_the_token_is_never_on_a_git_command_line(
    run: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []
    real_run = subprocess.run

    def spy(command: list[str], *args: object, **kwargs: object) -> object:
        seen.append(list(command))
        return real_run(command, *args, **kwargs)  # type: ignore[call-overload]

    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    committed(project, ".npmrc")
    monkeypatch.setattr(subprocess, "run", spy)
    code, _, err = run("scan", "--fix", ".npmrc")
    assert code == 1 and "still in git history" in err
    assert any("cat-file" in command for command in seen)
    assert not any(NPM_TOKEN in " ".join(command) for command in seen)
    assert all("core.fsmonitor=false" in command for command in seen if command[0] == "git")


def test_fix_of_a_quoted_token_before_a_comment(run: Runner, project: Path) -> None:
    """npm keeps the quotes when a comment follows: the fix replaces them too, and names
    the token inside as the npm token it is."""
    npmrc = write(project / ".npmrc", f"//registry.npmjs.org/:_authToken='{NPM_TOKEN}' ; c\n")
    code, _, err = run("scan", "--fix", ".npmrc")
    assert code == 1
    assert npmrc.read_text() == "//registry.npmjs.org/:_authToken=${NPM_TOKEN} ; c\n"
    assert f"replaced the npm token {redacted(NPM_TOKEN)} with ${{NPM_TOKEN}}" in err


FINE_GRAINED_TOKEN = "github_pat_" + "Q7w" * 7 + "x_" + "Zr4Tb" * 11 + "Kp9y"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            f"//npm.pkg.github.com/:_authToken={GITHUB_TOKEN}",
            "replaced the GitHub token <redacted, 40 chars, sha256:"
            "…with ${GITHUB_TOKEN}. The token is still valid and still in git history. "
            "Revoke it in GitHub's settings: https://github.com/settings/tokens "
            "(personal access tokens, classic). Then set GITHUB_TOKEN",
        ),
        (
            f"//npm.pkg.github.com/:_authToken={FINE_GRAINED_TOKEN}",
            "Revoke it in GitHub's settings: https://github.com/settings/personal-access-tokens "
            "(fine-grained tokens). Then set GITHUB_TOKEN",
        ),
        (
            f"//registry.npmjs.org/:_authToken={UUID_TOKEN}",
            "replaced the legacy UUID npm token <redacted, 36 chars, sha256:"
            "…with ${NPM_TOKEN}. The token is still in git history. It no longer works "
            "(npm revoked every classic token on 2025-12-09), but it was exposed: look for "
            "other copies of it (other registries, CI secrets, old machines) and clean it out "
            "of git history. Then set NPM_TOKEN",
        ),
        (
            f"//npm.corp.example/:_authToken={UUID_TOKEN}",
            "The token may still be valid, and it is still in git history. Revoke it on "
            "https://npm.corp.example/: npm revoked its own classic tokens on 2025-12-09, but "
            "this registry is not npmjs and may still accept it. Then set "
            "NPM_TOKEN_NPM_CORP_EXAMPLE",
        ),
        (
            f"//npm.corp.example/:_authToken={OPAQUE_TOKEN}",
            "The token is still valid and still in git history. Revoke it on "
            "https://npm.corp.example/, where it was issued. Then set NPM_TOKEN_NPM_CORP_EXAMPLE",
        ),
        (
            f"//npm.corp.example/:_authToken={NPM_TOKEN_BAD_CHECKSUM}",
            "The token may still be valid, and it is still in git history. Revoke it: "
            "`npm token list` shows it as",
        ),
    ],
)
def test_fix_says_how_to_revoke_each_kind_without_showing_it(
    run: Runner, project: Path, line: str, says: str
) -> None:
    write(project / ".npmrc", line + "\n")
    committed(project, ".npmrc")
    code, _, err = run("scan", "--fix", ".npmrc")
    assert code == 1
    for part in says.split("…"):
        assert part in err
    token = line.partition("=")[2]
    assert token not in err and token[8:] not in err


def test_fix_is_idempotent(run: Runner, project: Path) -> None:
    npmrc = write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    assert run("scan", "--fix", ".npmrc")[0] == 1
    fixed = npmrc.read_bytes()
    code, out, err = run("scan", "--fix", ".npmrc")
    assert code == 0
    assert err == ""
    assert "no findings" in out
    assert npmrc.read_bytes() == fixed == b"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"


def test_fix_variable_override(run: Runner, project: Path) -> None:
    """One registry in the file (twice, and an unscoped key, which is npm's default)."""
    npmrc = write(
        project / ".npmrc",
        f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
        f"//registry.npmjs.org/:_authToken={NPM_TOKEN_2}\n"
        f"_authToken={NPM_TOKEN}\n",
    )
    code, _, err = run("scan", "--fix", "--fix-variable", "CI_PUBLISH_TOKEN", ".npmrc")
    assert code == 1
    assert npmrc.read_text() == (
        "//registry.npmjs.org/:_authToken=${CI_PUBLISH_TOKEN}\n"
        "//registry.npmjs.org/:_authToken=${CI_PUBLISH_TOKEN}\n"
        "_authToken=${CI_PUBLISH_TOKEN}\n"
    )
    assert "set CI_PUBLISH_TOKEN in the environment" in err


def test_fix_variable_refuses_several_registries(run: Runner, project: Path) -> None:
    """One name for an npm, a GitHub and a UUID token would be wrong for two of them:
    refused, naming the registries, and no file is rewritten, not even a good one."""
    good = f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
    several = (
        f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
        f"//npm.pkg.github.com/:_authToken={GITHUB_TOKEN}\n"
        f"//legacy.example.com/:_authToken={UUID_TOKEN}\n"
    )
    first = write(project / "a" / ".npmrc", good)
    second = write(project / "b" / ".npmrc", several)
    code, out, err = run("scan", "--fix", "--fix-variable", "MY_TOK", "a/.npmrc", "b/.npmrc")
    assert code == 2
    assert err == (
        "npm-guard: error: --fix-variable MY_TOK: b/.npmrc has literal tokens for 3 "
        "registries (//registry.npmjs.org/, //npm.pkg.github.com/, //legacy.example.com/); "
        "one variable cannot hold them all. Run --fix without --fix-variable (each registry "
        "gets its own variable) or edit the file by hand\n"
    )
    assert out == ""
    assert first.read_text() == good and second.read_text() == several


@pytest.mark.parametrize(
    ("scopes", "variables"),
    [
        (
            ["//a.example.com/", "//a.example.com/sub/"],
            ["NPM_TOKEN_A_EXAMPLE_COM", "NPM_TOKEN_A_EXAMPLE_COM_SUB"],
        ),
        (
            ["//a.example.com/x/", "//a.example.com/y/"],
            ["NPM_TOKEN_A_EXAMPLE_COM_X", "NPM_TOKEN_A_EXAMPLE_COM_Y"],
        ),
        (
            [None, "//registry.npmjs.org/", "//registry.npmjs.org/private/"],
            ["NPM_TOKEN", "NPM_TOKEN", "NPM_TOKEN_PRIVATE"],
        ),
        (
            ["//npm.pkg.github.com/", "//npm.pkg.github.com/my-org/"],
            ["GITHUB_TOKEN", "GITHUB_TOKEN_MY_ORG"],
        ),
        (  # names that still meet get a number
            ["//h.example/a-b/", "//h.example/a_b/", "//h.example/a.b/"],
            ["NPM_TOKEN_H_EXAMPLE_A_B", "NPM_TOKEN_H_EXAMPLE_A_B_2", "NPM_TOKEN_H_EXAMPLE_A_B_3"],
        ),
        (  # alone, a registry keeps the short name
            ["//a.example.com/sub/"],
            ["NPM_TOKEN_A_EXAMPLE_COM"],
        ),
    ],
)
def test_variables_for_scopes_are_distinct_per_registry(
    scopes: list[str | None], variables: list[str]
) -> None:
    names = variables_for_scopes(scopes)
    assert [names[scope] for scope in scopes] == variables


def test_fix_gives_registries_sharing_a_host_their_own_variables(
    run: Runner, project: Path
) -> None:
    npmrc = write(
        project / ".npmrc",
        f"//a.example.com/:_authToken={NPM_TOKEN}\n//a.example.com/sub/:_authToken={NPM_TOKEN_2}\n",
    )
    assert run("scan", "--fix", ".npmrc")[0] == 1
    assert npmrc.read_text() == (
        "//a.example.com/:_authToken=${NPM_TOKEN_A_EXAMPLE_COM}\n"
        "//a.example.com/sub/:_authToken=${NPM_TOKEN_A_EXAMPLE_COM_SUB}\n"
    )


@pytest.mark.parametrize("name", ["1TOKEN", "MY-TOKEN", "MY TOKEN", "", "${X}"])
def test_fix_variable_invalid_names(run: Runner, project: Path, name: str) -> None:
    content = f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
    npmrc = write(project / ".npmrc", content)
    code, _, err = run("scan", "--fix", "--fix-variable", name, ".npmrc")
    assert code == 2
    assert "--fix-variable" in err
    assert npmrc.read_text() == content


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o755])
def test_fix_keeps_the_file_mode(run: Runner, project: Path, mode: int) -> None:
    npmrc = write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    npmrc.chmod(mode)
    assert run("scan", "--fix", ".npmrc")[0] == 1
    assert stat.S_IMODE(npmrc.stat().st_mode) == mode
    assert "${NPM_TOKEN}" in npmrc.read_text()
    assert not list(project.glob(".npm-guard-fix-*"))  # no temporary file left behind


def test_fix_leaves_what_it_cannot_fix_and_still_reports_it(run: Runner, project: Path) -> None:
    content = (
        "//a.example/:_authToken=$NPM_TOKEN\n"
        f"//b.example/:_auth={AUTH_VALUE}\n"
        "//c.example/:_authToken=${NPM_TOKEN}\n"
        "//d.example/:_authToken=<YOUR_TOKEN>\n"
        f"//e.example/:_authToken=prefix-{NPM_TOKEN_BAD_CHECKSUM}$SUFFIX\n"
    )
    npmrc = write(project / ".npmrc", content)
    code, out, err = run("scan", "--fix", ".npmrc")
    assert code == 1  # findings remain
    assert npmrc.read_text() == content
    assert err == ""
    assert ".npmrc:1:25: error [npmrc-unexpanded-variable]" in out
    assert ".npmrc:2:20: error [npmrc-plaintext-credential]" in out


def test_fix_leaves_a_commented_out_credential_and_says_so(run: Runner, project: Path) -> None:
    """A credential in a comment is reported like any other, but `--fix` rewrites
    settings only: it says the line is left, and the finding stays until it is deleted."""
    content = (
        f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
        f";//registry.npmjs.org/:_authToken={UUID_TOKEN}\n"
        f"# //b.example/:_auth={AUTH_VALUE}\n"
    )
    npmrc = write(project / ".npmrc", content)
    code, out, err = run("scan", "--fix", ".npmrc")
    assert code == 1
    assert npmrc.read_text() == content.replace(NPM_TOKEN, "${NPM_TOKEN}", 1)
    assert (
        ".npmrc:2: left the legacy UUID npm token in this commented-out line as it is "
        "(--fix rewrites settings, not comments): revoke it, then delete the line." in err
    )
    assert ".npmrc:3: left the basic auth (_auth) in this commented-out line" in err
    assert ".npmrc:2:35: error [npmrc-plaintext-credential]" in out
    assert ".npmrc:3:22: error [npmrc-plaintext-credential]" in out
    assert "commented out" in out
    for secret in (NPM_TOKEN, UUID_TOKEN, AUTH_VALUE, AUTH_PASSWORD):
        assert secret not in out + err


def test_fix_walks_directories_like_the_scan(run: Runner, project: Path) -> None:
    first = write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    second = write(project / "pkg" / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN_2}\n")
    ignored = write(project / "node_modules" / "x" / ".npmrc", f"_authToken={NPM_TOKEN}\n")
    code, _, err = run("scan", "--fix")
    assert code == 1
    assert "${NPM_TOKEN}" in first.read_text() and "${NPM_TOKEN}" in second.read_text()
    assert NPM_TOKEN in ignored.read_text()
    assert ".npmrc:1: replaced" in err and "pkg/.npmrc:1: replaced" in err


def test_fix_through_a_symlink_rewrites_the_target(run: Runner, project: Path) -> None:
    real = write(
        project / "configs" / "npmrc.real", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
    )
    os.symlink("configs/npmrc.real", project / ".npmrc")
    assert run("scan", "--fix", ".npmrc")[0] == 1
    assert (project / ".npmrc").is_symlink()
    assert real.read_text() == "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"


def test_fix_refuses_invalid_utf8(run: Runner, project: Path) -> None:
    content = b"# caf\xe9\n" + f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n".encode()
    npmrc = write(project / ".npmrc", content)
    code, out, err = run("scan", "--fix", ".npmrc")
    assert code == 1
    assert npmrc.read_bytes() == content
    assert "not fixed: not valid UTF-8" in err
    assert "[npmrc-plaintext-credential]" in out  # still reported


def test_fix_does_not_block_on_a_fifo(tmp_path: Path) -> None:
    """A FIFO named .npmrc: reading it would wait for a writer forever."""
    os.mkfifo(tmp_path / ".npmrc")
    proc = subprocess.run(
        [sys.executable, "-m", "npm_guard", "scan", "--fix", ".npmrc"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "not fixed: not a regular file" in proc.stderr
    assert "[parse-error]" in proc.stdout


def test_fix_npmrc_reports_what_it_replaced(tmp_path: Path) -> None:
    npmrc = write(tmp_path / ".npmrc", f"x=1\n//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    result = fix_npmrc(str(npmrc), ".npmrc")
    assert result.problem is None
    (replacement,) = result.replacements
    assert (replacement.line, replacement.variable, replacement.shown) == (
        2,
        "NPM_TOKEN",
        redacted(NPM_TOKEN),
    )


def test_hook_fix(hook: Runner, project: Path) -> None:
    npmrc = write(project / "app" / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    code, _, err = hook("--fix", "app/.npmrc")
    assert code == 1
    assert npmrc.read_text() == "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"
    assert "app/.npmrc:1: replaced the npm token" in err
    assert hook("--fix", "app/.npmrc")[0] == 0
