"""`npm-guard scan`: exit codes, options, output, and which files a scan reads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from npmrc_samples import NPM_TOKEN, Runner, git, redacted, write

from npm_guard import cli, scan

BAD = f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
GOOD = "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"
WARNING_ONLY = "strict-ssl=false\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory, outside any git work tree, as the current directory."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


# Exit codes ---------------------------------------------------------------------------


def test_exit_0_when_clean(run: Runner, project: Path) -> None:
    write(project / ".npmrc", GOOD)
    code, out, err = run("scan", ".npmrc")
    assert code == 0
    assert out == "npm-guard: no findings (1 file scanned)\n"
    assert err == ""


def test_exit_1_on_findings_and_the_line_is_named(run: Runner, project: Path) -> None:
    write(project / ".npmrc", "# comment\n" + BAD)
    code, out, _ = run("scan", ".npmrc")
    assert code == 1
    assert out.startswith(".npmrc:2:34: error [npmrc-plaintext-credential] npm token ")
    assert redacted(NPM_TOKEN) in out
    assert "\n    tip: " in out and "docs: https://" in out
    assert out.endswith("npm-guard: 1 finding (1 error; 1 file scanned)\n")


def test_exit_2_for_a_path_that_does_not_exist(run: Runner, project: Path) -> None:
    code, out, err = run("scan", "missing/.npmrc")
    assert code == 2
    assert out == ""
    assert err == "npm-guard: error: missing/.npmrc: no such file or directory\n"


@pytest.mark.parametrize(
    "argv",
    [
        ("scan", "--format", "xml", "."),
        ("scan", "--fail-on", "critical", "."),
        ("scan", "--no-such-option"),
        ("no-such-command",),
    ],
)
def test_exit_2_for_usage_errors(run: Runner, project: Path, argv: tuple[str, ...]) -> None:
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert "usage:" in err


def test_exit_2_for_an_invalid_fix_variable(run: Runner, project: Path) -> None:
    npmrc = write(project / ".npmrc", BAD)
    code, _, err = run("scan", "--fix", "--fix-variable", "1-BAD NAME", ".npmrc")
    assert code == 2
    assert "--fix-variable" in err and "not an environment variable name" in err
    assert npmrc.read_text() == BAD  # nothing was rewritten


def test_exit_2_for_an_unwritable_output(run: Runner, project: Path) -> None:
    write(project / ".npmrc", GOOD)
    (project / "out-dir").mkdir()
    code, _, err = run("scan", "--output", "out-dir", ".npmrc")
    assert code == 2
    assert err.startswith("npm-guard: error: cannot write out-dir")


def _explode(*args: object, **kwargs: object) -> object:
    raise RuntimeError(f"parser choked on //registry.npmjs.org/:_authToken={NPM_TOKEN}")


def test_exit_3_on_an_internal_error_without_traceback(
    run: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project / ".npmrc", BAD)
    monkeypatch.setattr(scan, "scan_target", _explode)
    code, out, err = run("scan", ".npmrc")
    assert code == 3
    assert out == ""
    assert err == "npm-guard: internal error (RuntimeError); rerun with --debug for details\n"
    assert "Traceback" not in err and NPM_TOKEN not in err


@pytest.mark.parametrize(
    "argv",
    [
        ("--debug", "scan", ".npmrc"),
        ("scan", "--debug", ".npmrc"),
        ("scan", ".npmrc", "--debug"),
        ("--debug", "scan", "--debug", ".npmrc"),
    ],
)
def test_exit_3_with_debug_shows_a_scrubbed_traceback(
    run: Runner, project: Path, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    write(project / ".npmrc", BAD)
    monkeypatch.setattr(scan, "scan_target", _explode)
    code, out, err = run(*argv)
    assert code == 3
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: parser choked on" in err
    assert NPM_TOKEN not in err + out
    assert redacted(NPM_TOKEN) in err
    assert err.rstrip().endswith("rerun with --debug for details")


def test_help_lists_the_commands_for_people_and_not_the_actions_entry_point(
    run: Runner,
) -> None:
    code, text, _ = run("--help")
    assert code == 0
    listed = re.findall(r"^    (\S+)", text, re.MULTILINE)
    assert listed == ["scan", "rules", "init", "audit", "attest", "trust"]
    assert "action" not in text and "SUPPRESS" not in text
    # Still there for action.yml, and documented where the Action is.
    assert cli.build_parser().parse_args(["action"]).handler is cli._cmd_action
    docs = " ".join((Path(__file__).parent.parent / "docs" / "action.md").read_text().split())
    assert "`npm-guard action` is this entry point" in docs
    assert "left out of `npm-guard --help`" in docs


@pytest.mark.parametrize("command", ["scan", "rules", "init", "audit", "attest", "trust", "action"])
def test_debug_is_taken_before_and_after_every_command(command: str) -> None:
    parser = cli.build_parser()
    assert parser.parse_args([command]).debug is False
    assert parser.parse_args(["--debug", command]).debug is True
    assert parser.parse_args([command, "--debug"]).debug is True


# --fail-on, formats, --output ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fail_on", "expected"),
    [
        (WARNING_ONLY, None, 0),
        (WARNING_ONLY, "error", 0),
        (WARNING_ONLY, "warning", 1),
        (WARNING_ONLY, "note", 1),
        (BAD, None, 1),
        (BAD, "error", 1),
        (BAD, "warning", 1),
        (GOOD, "note", 0),
    ],
)
def test_fail_on(run: Runner, project: Path, text: str, fail_on: str | None, expected: int) -> None:
    write(project / ".npmrc", text)
    argv = ["scan", ".npmrc"] + (["--fail-on", fail_on] if fail_on else [])
    code, out, _ = run(*argv)
    assert code == expected
    if text == WARNING_ONLY:
        assert ": warning [npmrc-insecure-registry] " in out


def test_sarif_exits_0_without_fail_on(run: Runner, project: Path) -> None:
    write(project / ".npmrc", BAD)
    code, out, _ = run("scan", "--format", "sarif", ".npmrc")
    assert code == 0
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["ruleId"] == "npmrc-plaintext-credential"
    code, _, _ = run("scan", "--format", "sarif", "--fail-on", "error", ".npmrc")
    assert code == 1


def test_json_exits_1_like_text(run: Runner, project: Path) -> None:
    write(project / ".npmrc", BAD)
    code, out, _ = run("scan", "--format", "json", ".npmrc")
    assert code == 1
    report = json.loads(out)
    assert report["version"] == 1
    assert report["summary"] == {
        "filesScanned": 1,
        "findings": 1,
        "bySeverity": {"error": 1, "warning": 0, "note": 0},
        "suppressed": 0,
    }
    assert report["suppressed"] == []
    (finding,) = report["findings"]
    assert finding["location"] == {"path": ".npmrc", "line": 1, "column": 34}
    assert finding["properties"]["registry"] == "https://registry.npmjs.org/"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_output_writes_the_report_to_a_file(run: Runner, project: Path, fmt: str) -> None:
    write(project / ".npmrc", BAD)
    code, out, err = run("scan", "--format", fmt, "-o", "report.out", ".npmrc")
    assert out == ""
    assert code == (0 if fmt == "sarif" else 1)
    assert err == f"npm-guard: wrote the {fmt} report (1 finding: 1 error) to report.out\n"
    report = (project / "report.out").read_text(encoding="utf-8")
    assert "npmrc-plaintext-credential" in report
    code, out, _ = run("scan", "--format", fmt, ".npmrc")
    assert out == report


def test_output_says_how_many_findings_of_each_severity(run: Runner, project: Path) -> None:
    write(project / ".npmrc", BAD + WARNING_ONLY + BAD.replace("registry.npmjs", "npm.example"))
    code, _, err = run("scan", "--format", "sarif", "--output", "out.sarif", ".npmrc")
    assert code == 0
    assert (
        err == "npm-guard: wrote the sarif report (3 findings: 2 errors, 1 warning) to out.sarif\n"
    )
    write(project / ".npmrc", GOOD)
    code, out, err = run("scan", "--format", "json", "--output", "out.json", ".npmrc")
    assert (code, out) == (0, "")
    assert err == "npm-guard: wrote the json report (no findings) to out.json\n"


def test_a_hook_with_output_says_what_it_wrote(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from npm_guard.hooks import npmrc_credentials

    write(project / ".npmrc", BAD)
    assert npmrc_credentials.main(["--output", "hook.txt", ".npmrc"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "npm-guard: wrote the text report (1 finding: 1 error) to hook.txt\n"


def test_no_ignores_shows_suppressed_findings(run: Runner, project: Path) -> None:
    write(
        project / ".npmrc",
        "# npm-guard: ignore-next-line[npmrc-plaintext-credential] test registry token\n" + BAD,
    )
    assert run("scan", ".npmrc")[0] == 0
    code, out, _ = run("scan", "--no-ignores", ".npmrc")
    assert code == 1
    assert ".npmrc:2:34: error [npmrc-plaintext-credential]" in out


def test_rules_command_lists_every_rule(run: Runner) -> None:
    from npm_guard.rules import all_rules

    code, out, _ = run("rules")
    assert code == 0
    for rule in all_rules().values():
        assert rule.id in out


def test_version(run: Runner) -> None:
    from npm_guard import __version__

    code, out, _ = run("--version")
    assert code == 0
    assert out.startswith(f"npm-guard {__version__} (commit ")


# Which files a scan reads -------------------------------------------------------------


def test_default_path_is_the_current_directory(run: Runner, project: Path) -> None:
    write(project / ".npmrc", BAD)
    write(project / "packages" / "app" / ".npmrc", BAD)
    for argv in (("scan",), ()):
        code, out, _ = run(*argv)
        assert code == 1
        assert ".npmrc:1:34:" in out
        assert "packages/app/.npmrc:1:34:" in out
        assert "(2 errors; 2 files scanned)" in out


def test_top_level_options_alone_still_run_the_default_scan(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project / ".npmrc", BAD)
    # As the console script calls it: no argv, the arguments are in sys.argv.
    monkeypatch.setattr(sys, "argv", ["npm-guard", "--debug"])
    assert cli.main() == 1
    assert ".npmrc:1:34:" in capsys.readouterr().out


def test_walk_outside_git_reads_every_npmrc_and_skips_node_modules(
    run: Runner, project: Path
) -> None:
    write(project / ".npmrc", BAD)
    write(project / "a" / "b" / ".npmrc", BAD)
    write(project / "node_modules" / "dep" / ".npmrc", BAD)
    write(project / "a" / "node_modules" / "dep" / ".npmrc", BAD)
    write(project / ".git" / ".npmrc", BAD)  # not a repository, but still never walked
    write(project / "README.md", f"token {NPM_TOKEN}\n")  # not a file the scan reads
    write(project / "ci.npmrc", BAD)  # only exactly `.npmrc` is found by walking
    code, out, _ = run("scan", ".")
    assert code == 1
    paths = sorted({line.split(":")[0] for line in out.splitlines() if ":1:34:" in line})
    assert paths == [".npmrc", "a/b/.npmrc"]
    assert "2 files scanned" in out


def test_outside_git_a_directory_path_is_the_root(run: Runner, project: Path) -> None:
    """No git work tree: the directory named is the repository root, for paths shown,
    the policy file and package.json (a subdirectory of a git work tree is not)."""
    write(project / "sub" / "dir" / ".npmrc", BAD)
    write(
        project / "sub" / ".npm-guard.yml",
        "version: 1\nrules: {npmrc-plaintext-credential: note}\n",
    )
    code, out, _ = run("scan", "sub")
    assert code == 0
    assert out.startswith("dir/.npmrc:1:34: note [npmrc-plaintext-credential]")


def test_a_file_named_on_the_command_line_is_scanned_by_its_kind(
    run: Runner, project: Path
) -> None:
    write(project / "some" / "dir" / "ci.npmrc", "# ci config\n" + BAD)
    code, out, _ = run("scan", "some/dir/ci.npmrc")
    assert code == 1
    assert out.startswith("some/dir/ci.npmrc:2:34: error [npmrc-plaintext-credential]")


def test_a_named_file_of_another_kind_is_skipped_with_a_notice(run: Runner, project: Path) -> None:
    write(project / "notes.txt", BAD)
    code, out, err = run("scan", "notes.txt")
    assert code == 0
    assert "notes.txt: not an .npmrc or workflow file; skipped" in err
    assert "0 files scanned" in out


def test_the_same_file_twice_is_scanned_once(run: Runner, project: Path) -> None:
    write(project / ".npmrc", BAD)
    code, out, _ = run("scan", ".npmrc", ".", "./.npmrc")
    assert code == 1
    assert "1 file scanned" in out


def test_a_path_outside_the_current_directory_is_shown_absolute(
    run: Runner, project: Path, tmp_path: Path
) -> None:
    outside = write(tmp_path / "elsewhere" / ".npmrc", BAD)
    code, out, _ = run("scan", str(outside))
    assert code == 1
    assert out.startswith(f"{outside.as_posix()}:1:34: ")


def _git_repo(root: Path) -> None:
    git(root, "init", "-q")


def test_git_work_tree_tracked_and_untracked_but_not_ignored(run: Runner, project: Path) -> None:
    _git_repo(project)
    write(project / ".gitignore", "personal/\n")
    write(project / ".npmrc", BAD)
    write(project / "personal" / ".npmrc", BAD)  # ignored: the user's own, never committed
    write(project / "new" / ".npmrc", BAD)  # untracked, not ignored: caught before `git add`
    write(project / "node_modules" / "dep" / ".npmrc", BAD)
    git(project, "add", ".gitignore", ".npmrc")
    git(project, "add", "-f", "node_modules/dep/.npmrc")  # tracked, but still skipped
    git(project, "commit", "-q", "-m", "init")
    code, out, _ = run("scan")
    assert code == 1
    paths = sorted({line.split(":")[0] for line in out.splitlines() if ":1:34:" in line})
    assert paths == [".npmrc", "new/.npmrc"]


def test_git_tracked_file_deleted_from_the_work_tree_is_no_parse_error(
    run: Runner, project: Path
) -> None:
    """`git rm` not yet run: the index still lists the file, the disk no longer has it."""
    _git_repo(project)
    write(project / ".npmrc", GOOD)
    write(project / "gone" / ".npmrc", BAD)
    git(project, "add", ".npmrc", "gone/.npmrc")
    git(project, "commit", "-q", "-m", "init")
    (project / "gone" / ".npmrc").unlink()
    code, out, err = run("scan")
    assert code == 0, out
    assert "gone/.npmrc" not in out + err
    assert "npm-guard: no findings (1 file scanned)" in out


def test_git_ignored_file_is_scanned_when_named(run: Runner, project: Path) -> None:
    _git_repo(project)
    write(project / ".gitignore", ".npmrc\n")
    write(project / ".npmrc", BAD)
    code, out, _ = run("scan")
    assert code == 0
    assert "no findings" in out
    code, out, _ = run("scan", ".npmrc")
    assert code == 1


def test_git_subdirectory_scan(run: Runner, project: Path) -> None:
    _git_repo(project)
    write(project / "pkg" / ".npmrc", BAD)
    write(project / "other" / ".npmrc", BAD)
    code, out, _ = run("scan", "pkg")
    assert code == 1
    assert out.startswith("pkg/.npmrc:1:34: ")
    assert "other/.npmrc" not in out


def test_symlink_out_of_the_tree_is_not_followed(
    run: Runner, project: Path, tmp_path: Path
) -> None:
    secret = write(tmp_path / "home" / ".npmrc", BAD)
    (project / "linked").mkdir()
    os.symlink(secret, project / "linked" / ".npmrc")
    write(project / ".npmrc", BAD)
    code, out, err = run("scan", ".")
    assert code == 1
    assert "linked/.npmrc" not in out
    assert "linked/.npmrc: symbolic link out of the scanned tree; not followed" in err
    assert out.startswith(".npmrc:1:34: ")


def test_symlink_inside_the_tree_is_scanned_once(run: Runner, project: Path) -> None:
    write(project / "real" / ".npmrc", BAD)
    (project / "alias").mkdir()
    os.symlink(project / "real" / ".npmrc", project / "alias" / ".npmrc")
    code, out, _ = run("scan", ".")
    assert code == 1
    assert "1 file scanned" in out


# The repository root --------------------------------------------------------------------

RELEASE_WORKFLOW = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm run release
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
"""


def _repository(root: Path) -> Path:
    """A git work tree with a policy (an ignore and a severity), a package.json whose
    `release` script publishes, and a workflow that runs it."""
    write(root / ".npmrc", BAD)
    write(root / "fixtures" / ".npmrc", BAD)
    write(
        root / ".npm-guard.yml",
        "version: 1\nrules: {npmrc-plaintext-credential: warning}\nignore:\n"
        "  - {rule: '*', path: fixtures/**, reason: fake tokens}\n",
    )
    write(root / "package.json", json.dumps({"name": "x", "scripts": {"release": "npm publish"}}))
    write(root / ".github" / "workflows" / "release.yml", RELEASE_WORKFLOW)
    git(root, "init", "-q")
    return root


def _found(out: str) -> list[tuple[str, str, str]]:
    return sorted(
        (f["location"]["path"], f["rule"], f["severity"]) for f in json.loads(out)["findings"]
    )


WHOLE_REPOSITORY = [
    (".github/workflows/release.yml", "workflow-publish-with-long-lived-token", "error"),
    (".npmrc", "npmrc-plaintext-credential", "warning"),
]


def test_the_root_is_the_git_work_tree_of_the_first_path(
    run: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wherever the scan starts, the policy and package.json are the repository's, paths
    are shown from its root, and `.github/workflows` is recognised as such."""
    repository = _repository(project / "r1")
    for cwd, argv, expected in [
        (project, ["r1"], WHOLE_REPOSITORY),
        (repository / "fixtures", [".."], WHOLE_REPOSITORY),
        (repository / ".github", ["."], WHOLE_REPOSITORY[:1]),
        (repository / ".github" / "workflows", ["release.yml"], WHOLE_REPOSITORY[:1]),
        (project, ["r1/.npmrc"], WHOLE_REPOSITORY[1:]),
    ]:
        monkeypatch.chdir(cwd)
        code, out, err = run("scan", "--format", "json", *argv)
        failing = any(severity == "error" for _, _, severity in expected)
        assert (code, _found(out)) == (int(failing), expected), (cwd, argv, err)


def test_readme_says_what_a_scan_from_a_subdirectory_reports(
    run: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From r1/.github, `scan .` reads only what is below it, judged as from the top:
    the README must not promise the whole repository's findings."""
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    assert "`npm-guard scan .` from `r1/.github` scans the files under `r1/.github` and " in (
        readme
    )
    assert "from `r1/.github`, reports what `npm-guard` at the top of r1 reports" not in readme
    repository = _repository(project / "r1")
    monkeypatch.chdir(repository)
    top = _found(run("scan", "--format", "json", ".")[1])
    monkeypatch.chdir(repository / ".github")
    below = _found(run("scan", "--format", "json", ".")[1])
    assert below == [f for f in top if f[0].startswith(".github/")]
    assert below != top  # r1/.npmrc is reported from the top only


def test_sarif_uris_are_relative_to_the_repository_root(
    run: Runner, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _repository(project / "r1")
    code, out, _ = run("scan", "--format", "sarif", "r1")
    assert code == 0
    uris = sorted(
        (
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            [s["kind"] for s in result.get("suppressions", [])],
        )
        for result in json.loads(out)["runs"][0]["results"]
    )
    # The policy's ignore of fixtures/ is there too, as a suppressed result.
    assert uris == [
        (".github/workflows/release.yml", []),
        (".npmrc", []),
        ("fixtures/.npmrc", ["external"]),
    ]


def test_hooks_at_the_root_see_what_they_always_saw(project: Path) -> None:
    """pre-commit runs a hook at the top of the work tree with paths from there."""
    from npm_guard.hooks import workflow_npm_credentials

    _repository(project)
    assert workflow_npm_credentials.main([".github/workflows/release.yml"]) == 1


def test_a_directory_scan_searches_the_policy_file_for_credentials(
    run: Runner, project: Path
) -> None:
    write(
        project / ".npm-guard.yml",
        f"version: 1\ntokens:\n  {NPM_TOKEN}: {{permission: read-only}}\n",
    )
    write(project / "nested" / ".npm-guard.yaml", f"# {NPM_TOKEN}\n")  # read by nobody
    code, out, _ = run("scan")
    assert code == 1
    assert out.startswith(
        f".npm-guard.yml:3:3: error [policy-plaintext-credential] npm token {redacted(NPM_TOKEN)}"
    )
    assert "nested/.npm-guard.yaml:1:3: error [policy-plaintext-credential]" in out
    assert "(2 errors; 2 files scanned)" in out
    assert NPM_TOKEN not in out
    code, out, _ = run("scan", ".npm-guard.yml")  # named on the command line too
    assert code == 1
    assert "1 file scanned" in out


def test_console_script_runs(project: Path) -> None:
    """The installed entry point, as a user runs it."""
    write(project / ".npmrc", BAD)
    proc = subprocess.run(
        [sys.executable, "-m", "npm_guard", "scan", ".npmrc"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert ".npmrc:1:34: error [npmrc-plaintext-credential]" in proc.stdout
    assert NPM_TOKEN not in proc.stdout + proc.stderr


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("hook", "target", "patched"),
    [
        ("npmrc_credentials", ".npmrc", "run_scan"),
        ("workflow_npm_credentials", ".github/workflows/ci.yml", "run_scan"),
        ("npm_guard_policy", ".npm-guard.yml", "check_policy_files"),
    ],
)
def test_the_hooks_take_debug(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    hook: str,
    target: str,
    patched: str,
    debug: bool,
) -> None:
    import importlib

    module = importlib.import_module(f"npm_guard.hooks.{hook}")
    write(project / target, "version: 1\n")
    monkeypatch.setattr(module, patched, _explode)
    argv = ["--debug", target] if debug else [target]
    assert module.main(argv) == 3
    err = capsys.readouterr().err
    assert ("Traceback (most recent call last)" in err) is debug
    assert err.rstrip().endswith("rerun with --debug for details")
    assert NPM_TOKEN not in err
