"""npm_guard.github_io: inputs, masks, outputs and the job summary, with temporary files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from composite_runner import parse_file_commands
from conftest import pull_request_repository

from npm_guard import github_io
from npm_guard.errors import NpmGuardError
from npm_guard.findings import Severity
from npm_guard.workflow.expressions import SETUP_NODE_PLACEHOLDER_TOKEN


def env(**inputs: str) -> dict[str, str]:
    return {
        github_io.input_variable(name.replace("_", "-")): value for name, value in inputs.items()
    }


def test_importing_does_no_work(tmp_path: Path) -> None:
    """Importing the Action's modules reads no input, writes no file, prints nothing
    (pip-audit's and sigstore's action.py open the summary file at import time)."""
    output, summary = tmp_path / "output", tmp_path / "summary"
    code = (
        "import sys, npm_guard.github_io, npm_guard.action; "
        "print(sorted(m for m in ('yaml', 'requests', 'jsonschema') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **os.environ,
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GHA_NPM_GUARD_MODE": "not-a-mode",
            "NPM_TOKEN": "npm_never_printed",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout == "[]\n"
    assert proc.stderr == ""
    assert not output.exists() and not summary.exists()


def test_input_variable_names() -> None:
    assert github_io.input_variable("fail-on") == "GHA_NPM_GUARD_FAIL_ON"
    assert github_io.input_variable("sarif") == "GHA_NPM_GUARD_SARIF"


def test_defaults_when_nothing_is_set() -> None:
    inputs = github_io.read_inputs({})
    assert inputs == github_io.ActionInputs(
        mode="scan",
        paths=(".",),
        policy=None,
        packages=(),
        registry=None,
        fail_on=Severity.ERROR,
        sarif=False,
        summary=True,
        timeout=60.0,
    )
    assert inputs.scans and not inputs.audits


def test_every_input_is_read() -> None:
    inputs = github_io.read_inputs(
        env(
            mode=" ALL ",
            paths="src\n  .github/workflows ",
            policy="config/npm-guard.yml",
            packages="@acme/a, @acme/b\nplain",
            registry="https://npm.example/",
            fail_on="warning",
            sarif="True",
            summary="false",
            timeout=" 2.5 ",
        )
    )
    assert inputs.mode == "all" and inputs.scans and inputs.audits
    assert inputs.paths == ("src", ".github/workflows")
    assert inputs.policy == "config/npm-guard.yml"
    assert inputs.packages == ("@acme/a", "@acme/b", "plain")
    assert inputs.registry == "https://npm.example/"
    assert inputs.fail_on is Severity.WARNING
    assert inputs.sarif is True
    assert inputs.summary is False
    assert inputs.timeout == 2.5


@pytest.mark.parametrize(
    ("value", "paths"),
    [
        ("src .github/workflows", ("src", ".github/workflows")),
        ("src,.github/workflows", ("src", ".github/workflows")),
        ("src, lib\tdocs", ("src", "lib", "docs")),
        ("src\n  .github/workflows \n", ("src", ".github/workflows")),
        ("packages/web app\n\n a,b/.npmrc\n", ("packages/web app", "a,b/.npmrc")),
        ("only one line \n", ("only", "one", "line")),
        ("", (".",)),
    ],
)
def test_paths_one_per_line_or_separated_on_one_line(value: str, paths: tuple[str, ...]) -> None:
    assert github_io.read_inputs(env(paths=value)).paths == paths


def test_packages_are_separated_by_spaces_commas_or_lines() -> None:
    inputs = github_io.read_inputs(env(packages="@a/x,@a/y\n@b/z w"))
    assert inputs.packages == ("@a/x", "@a/y", "@b/z", "w")


def test_fail_on_never_means_no_threshold() -> None:
    assert github_io.read_inputs(env(fail_on="never")).fail_on is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("mode", "publish", "input 'mode': 'publish' is not one of scan, audit, all"),
        ("fail_on", "critical", "input 'fail-on': 'critical'"),
        ("sarif", "yes", "input 'sarif': 'yes' is not true or false"),
        ("summary", "1", "input 'summary': '1' is not true or false"),
        ("paths", ". --fix", "input 'paths': '--fix' looks like an option"),
        ("timeout", "1m", "input 'timeout': '1m' is not a number of seconds"),
        ("timeout", "0", "input 'timeout': '0' is not a number of seconds"),
        ("timeout", "nan", "input 'timeout': 'nan' is not a number of seconds"),
        ("timeout", "86401", "input 'timeout': '86401' is not a number of seconds"),
    ],
)
def test_bad_inputs_name_the_input(name: str, value: str, message: str) -> None:
    with pytest.raises(NpmGuardError) as caught:
        github_io.read_inputs(env(**{name: value}))
    assert message in str(caught.value)


def test_runner_paths_come_from_the_environment() -> None:
    runner = github_io.read_runner(
        {
            "GITHUB_WORKSPACE": "/ws",
            "GITHUB_OUTPUT": "/o",
            "GITHUB_STEP_SUMMARY": "/s",
            "RUNNER_TEMP": "/t",
            "RUNNER_DEBUG": "1",
        },
        "/cwd",
    )
    assert runner == github_io.Runner("/ws", "/o", "/s", "/t", True)
    outside = github_io.read_runner({}, "/cwd")
    assert outside == github_io.Runner("/cwd", None, None, None, False)


def test_token_values_skip_empty_and_repeated_values() -> None:
    environ = {"NPM_TOKEN": "abc", "NODE_AUTH_TOKEN": "abc", "OTHER": "  "}
    assert github_io.token_values(environ) == ["abc"]
    assert github_io.token_values(environ, ["OTHER", "MISSING"]) == []


def test_placeholder_tokens_are_no_tokens() -> None:
    assert github_io.is_placeholder_token(SETUP_NODE_PLACEHOLDER_TOKEN)
    assert github_io.is_placeholder_token("  ") and github_io.is_placeholder_token("")
    assert not github_io.is_placeholder_token("npm_" + "a1" * 18)
    environ = {
        "NPM_TOKEN": "",
        "NODE_AUTH_TOKEN": SETUP_NODE_PLACEHOLDER_TOKEN,
        "OTHER": SETUP_NODE_PLACEHOLDER_TOKEN,
    }
    assert github_io.token_environment(environ) == {"OTHER": SETUP_NODE_PLACEHOLDER_TOKEN}
    assert github_io.token_environment({"NPM_TOKEN": "t0k3n"}) == {"NPM_TOKEN": "t0k3n"}


def test_mask_commands_mask_every_line_trimmed_and_escaped() -> None:
    assert github_io.mask_commands("one\r\n  two  \n\n50%\n") == [
        "::add-mask::one",
        "::add-mask::two",
        "::add-mask::50%25",
    ]
    assert github_io.mask_commands("   ") == []


def test_error_command_is_escaped_and_placed() -> None:
    assert github_io.error_command("bad\nvalue: 100%") == (
        "::error title=npm-guard::bad%0Avalue: 100%25"
    )
    assert github_io.error_command("x", title="a, b", file="p:q.yml", line=3) == (
        "::error file=p%3Aq.yml,line=3,title=a%2C b::x"
    )


def test_outputs_use_the_heredoc_form_with_random_delimiters() -> None:
    text = github_io.format_outputs({"verdict": "pass", "findings": "0"})
    lines = text.splitlines()
    assert lines[0].startswith("verdict<<ghadelimiter_")
    delimiter = lines[0].split("<<", 1)[1]
    assert len(delimiter) == len("ghadelimiter_") + 32
    assert lines[1:3] == ["pass", delimiter]
    assert lines[3].split("<<", 1)[1] != delimiter  # a fresh delimiter per output
    assert parse_file_commands(text) == {"verdict": "pass", "findings": "0"}


def test_a_value_cannot_end_its_own_output_or_set_another() -> None:
    hostile = "x\nghadelimiter_1\nverdict=pass\nverdict<<EOF\npass\nEOF"
    candidates = iter(["ghadelimiter_1", "ghadelimiter_1", "ghadelimiter_2", "ghadelimiter_3"])
    text = github_io.format_outputs(
        {"sarif-file": hostile, "verdict": "fail"}, lambda: next(candidates)
    )
    assert parse_file_commands(text) == {"sarif-file": hostile, "verdict": "fail"}


def test_output_names_are_checked() -> None:
    with pytest.raises(ValueError, match="not a valid output name"):
        github_io.format_outputs({"bad name": "x"})


def test_write_outputs_appends_and_does_nothing_outside_actions(tmp_path: Path) -> None:
    path = tmp_path / "output"
    path.write_text("earlier=1\n", encoding="utf-8")
    github_io.write_outputs(str(path), {"verdict": "pass"})
    github_io.write_outputs(None, {"verdict": "fail"})
    assert parse_file_commands(path.read_text(encoding="utf-8")) == {
        "earlier": "1",
        "verdict": "pass",
    }


def test_an_unwritable_output_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NpmGuardError, match=r"cannot write GITHUB_OUTPUT \("):
        github_io.write_outputs(str(tmp_path / "missing" / "output"), {"verdict": "pass"})


def test_summary_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    github_io.append_summary(str(path), "## one\n")
    github_io.append_summary(str(path), "")
    github_io.append_summary(None, "## ignored\n")
    github_io.append_summary(str(path), "## two\n")
    assert path.read_text(encoding="utf-8") == "## one\n## two\n"


def test_summary_over_the_limit_is_cut_at_a_line_and_says_so() -> None:
    markdown = "".join(f"- finding {i} é\n" for i in range(1000))
    cut = github_io.fit_summary(markdown, limit=200)
    kept, note = cut.split("\n\n_The summary was cut here", 1)
    assert len(kept.encode("utf-8")) <= 200
    assert markdown.startswith(kept + "\n")
    assert "1 MiB" in note
    assert github_io.fit_summary("short\n", limit=200) == "short\n"


def test_summary_destination_option_or_step_summary() -> None:
    environ = {"GITHUB_STEP_SUMMARY": "/runner/step_summary"}
    option = github_io.summary_destination("out.md", environ)
    assert option == github_io.SummaryDestination("out.md", step_summary=False)
    step = github_io.summary_destination(None, environ)
    assert step == github_io.SummaryDestination("/runner/step_summary", step_summary=True)
    assert github_io.summary_destination(None, environ, step_summary=False) is None
    assert github_io.summary_destination(None, {}) is None
    assert github_io.summary_destination(None, {"GITHUB_STEP_SUMMARY": ""}) is None


def test_write_summary_rewrites_a_file_and_appends_to_the_step_summary(tmp_path: Path) -> None:
    file, step = tmp_path / "out.md", tmp_path / "step.md"
    file.write_text("old\n", encoding="utf-8")
    step.write_text("## earlier step\n", encoding="utf-8")
    github_io.write_summary(github_io.SummaryDestination(str(file), False), "## new\n")
    github_io.write_summary(github_io.SummaryDestination(str(step), True), "## new\n")
    assert file.read_text(encoding="utf-8") == "## new\n"
    assert step.read_text(encoding="utf-8") == "## earlier step\n## new\n"


def test_the_step_summary_is_cut_to_githubs_limit_the_file_is_not(tmp_path: Path) -> None:
    markdown = "- a finding that repeats\n" * (2 * 1024 * 1024 // 25)
    file, step = tmp_path / "out.md", tmp_path / "step.md"
    github_io.write_summary(github_io.SummaryDestination(str(file), False), markdown)
    github_io.write_summary(github_io.SummaryDestination(str(step), True), markdown)
    assert file.read_text(encoding="utf-8") == markdown
    cut = step.read_text(encoding="utf-8")
    assert len(cut.encode("utf-8")) <= 1024 * 1024
    assert "_The summary was cut here" in cut


def test_write_summary_errors_name_the_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "no" / "such.md")
    with pytest.raises(NpmGuardError, match="cannot write the summary"):
        github_io.write_summary(github_io.SummaryDestination(missing, False), "x\n")
    with pytest.raises(NpmGuardError, match=r"cannot write GITHUB_STEP_SUMMARY \("):
        github_io.write_summary(github_io.SummaryDestination(missing, True), "x\n")


def test_blob_url_from_the_github_environment() -> None:
    environ = {
        "GITHUB_SERVER_URL": "https://github.example/",
        "GITHUB_REPOSITORY": "acme/widgets",
        "GITHUB_SHA": "0123abc",
    }
    assert github_io.blob_url(environ) == "https://github.example/acme/widgets/blob/0123abc/"
    for name in environ:
        assert github_io.blob_url({**environ, name: ""}) is None
    assert github_io.blob_url({}) is None


def test_emit_terminates_lines() -> None:
    written: list[str] = []
    github_io.emit(["::add-mask::a", "plain"], written.append)
    github_io.emit("block without newline", written.append)
    github_io.emit([], written.append)
    assert written == ["::add-mask::a\nplain\n", "block without newline\n"]


PULL_REQUEST = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main"}


def test_changed_files_of_a_pull_request(tmp_path: Path) -> None:
    repo = pull_request_repository(tmp_path / "repo", base={"a/.npmrc": "strict-ssl=false\n"})
    assert github_io.changed_files(PULL_REQUEST, str(repo)) == {"z/.npmrc", "a b/ü.yml"}
    target = {**PULL_REQUEST, "GITHUB_EVENT_NAME": "pull_request_target"}
    assert github_io.changed_files(target, str(repo)) == {"z/.npmrc", "a b/ü.yml"}
    # Relative to the workspace when that is a directory inside the repository.
    assert github_io.changed_files(PULL_REQUEST, str(repo / "z")) == {".npmrc"}


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"GITHUB_EVENT_NAME": "push", "GITHUB_BASE_REF": "main"},
        {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": ""},
        {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "no-such-branch"},
        {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "--output=/tmp/x"},
    ],
)
def test_no_changed_files_outside_a_pull_request_or_without_the_base(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    repo = pull_request_repository(tmp_path / "repo", base={"a/.npmrc": "strict-ssl=false\n"})
    assert github_io.changed_files(environ, str(repo)) is None


def test_changed_files_never_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert github_io.changed_files(PULL_REQUEST, str(tmp_path)) is None  # not a repository
    assert github_io.changed_files(PULL_REQUEST, str(tmp_path / "missing")) is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert github_io.changed_files(PULL_REQUEST, str(tmp_path)) is None


def test_git_runs_without_the_repositorys_fsmonitor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, b"a\0", b"")

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert github_io.changed_files(PULL_REQUEST, str(tmp_path)) == {"a"}
    (command,) = commands
    assert command[:4] == ["git", "-c", "core.fsmonitor=false", "diff"]
    assert command[-2:] == ["origin/main...HEAD", "--"]
