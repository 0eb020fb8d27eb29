"""`python -m npm_guard action` in process: inputs from the environment, verdicts, outputs,
summary, SARIF, errors, and the token never leaving through any of them."""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from composite_runner import parse_file_commands
from conftest import pull_request_repository, sarif_errors, setup_ok_package
from fake_registry import FakeRegistry, Reply, json_reply
from leaks import HOSTILE_SECRET, leaked_forms
from npmrc_samples import make_token, write

from npm_guard import action
from npm_guard.cli import main as cli_main
from npm_guard.findings import Finding, Location, Severity
from npm_guard.github_io import input_variable
from npm_guard.rules import all_rules
from npm_guard.workflow.expressions import SETUP_NODE_PLACEHOLDER_TOKEN

TOKEN = make_token("npm_", 601)
LEAKED = make_token("npm_", 602)


@dataclass
class Result:
    code: int
    stdout: str
    outputs: dict[str, str]
    summary: str
    sarif: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    return path


RunProgram = Callable[..., Result]


@pytest.fixture
def run(project: Path, tmp_path: Path) -> RunProgram:
    def go(inputs: Mapping[str, str] | None = None, **extra: str) -> Result:
        temp = tmp_path / "temp"
        temp.mkdir(exist_ok=True)
        output, summary = temp / "output", temp / "summary.md"
        for path in (output, summary):
            path.write_text("", encoding="utf-8")
        environ = {
            "GITHUB_WORKSPACE": str(project),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "RUNNER_TEMP": str(temp),
            **{input_variable(k): v for k, v in (inputs or {}).items()},
            **extra,
        }
        written: list[str] = []
        code = action.main(environ, written.append)
        outputs = parse_file_commands(output.read_text(encoding="utf-8"))
        sarif_path = outputs.get("sarif-file", "")
        sarif = Path(sarif_path).read_text(encoding="utf-8") if sarif_path else ""
        return Result(code, "".join(written), outputs, summary.read_text("utf-8"), sarif)

    return go


def test_clean_repository_passes(run: RunProgram, project: Path) -> None:
    write(project / ".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    result = run()
    assert result.code == 0
    assert result.outputs == {"findings": "0", "errors": "0", "sarif-file": "", "verdict": "pass"}
    assert not any(line.startswith(("::error", "::warning")) for line in result.lines)
    assert "## npm-guard scan" in result.summary and "**Passed**" in result.summary


def test_finding_fails_with_annotation_summary_and_sarif(run: RunProgram, project: Path) -> None:
    write(project / "sub" / ".npmrc", f"//registry.npmjs.org/:_authToken={LEAKED}\n")
    result = run({"sarif": "true"})
    assert result.code == 1
    assert result.outputs["verdict"] == "fail"
    assert result.outputs["findings"] == result.outputs["errors"] == "1"
    annotation = next(line for line in result.lines if line.startswith("::error "))
    assert "file=sub/.npmrc,line=1" in annotation
    assert "npmrc-plaintext-credential" in annotation
    assert "**Failed**" in result.summary and "npmrc-plaintext-credential" in result.summary
    sarif_file = Path(result.outputs["sarif-file"])
    assert sarif_file.parent.name == "temp"  # $RUNNER_TEMP, never the workspace
    assert sarif_file.name.startswith("npm-guard-scan-") and sarif_file.suffix == ".sarif"
    assert sarif_errors(sarif_file) == []
    assert json.loads(result.sarif)["runs"][0]["results"][0]["ruleId"] == (
        "npmrc-plaintext-credential"
    )
    # The leaked token is shown redacted, as npm's token list shows it, and never whole.
    for text in (result.stdout, result.summary, result.sarif, str(result.outputs)):
        assert LEAKED not in text
    assert f"{LEAKED[:8]}…{LEAKED[-4:]}" in result.stdout


def test_silenced_findings_are_suppressed_results_in_the_sarif(
    run: RunProgram, project: Path
) -> None:
    """What the policy ignores reaches code scanning as suppressed, not as nothing."""
    write(project / "fixtures" / ".npmrc", f"//registry.npmjs.org/:_authToken={LEAKED}\n")
    write(
        project / ".npm-guard.yml",
        "version: 1\nignore:\n  - {rule: '*', path: fixtures/, reason: planted for tests}\n",
    )
    result = run({"sarif": "true"})
    assert result.code == 0
    assert result.outputs["verdict"] == "pass" and result.outputs["findings"] == "0"
    assert not any(line.startswith("::error") for line in result.lines)
    assert "1 suppressed by the policy" in result.lines[-1]
    sarif_file = Path(result.outputs["sarif-file"])
    assert sarif_errors(sarif_file) == []
    (suppressed,) = json.loads(result.sarif)["runs"][0]["results"]
    assert suppressed["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "planted for tests"}
    ]
    assert LEAKED not in result.sarif + result.stdout


@pytest.mark.parametrize(
    ("fail_on", "code", "verdict"),
    [("error", 0, "pass"), ("warning", 1, "fail"), ("note", 1, "fail"), ("never", 0, "pass")],
)
def test_fail_on_threshold(
    run: RunProgram, project: Path, fail_on: str, code: int, verdict: str
) -> None:
    write(project / ".npmrc", "strict-ssl=false\n")  # a warning
    result = run({"fail-on": fail_on})
    assert (result.code, result.outputs["verdict"]) == (code, verdict)
    assert result.outputs["findings"] == "1" and result.outputs["errors"] == "0"


def test_fail_on_never_reports_but_does_not_fail(run: RunProgram, project: Path) -> None:
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={LEAKED}\n")
    result = run({"fail-on": "never"})
    assert result.code == 0
    assert result.outputs["verdict"] == "fail"  # judged against `error`, only not enforced
    assert "**Reported**" in result.summary


def test_summary_can_be_turned_off(run: RunProgram, project: Path) -> None:
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={LEAKED}\n")
    result = run({"summary": "false"})
    assert result.code == 1 and result.summary == ""


def test_overflow_note_names_the_job_summary_only_when_it_is_written(
    run: RunProgram, project: Path
) -> None:
    lines = [f"//r{i}.example/:_authToken={make_token('npm_', 610 + i)}" for i in range(11)]
    write(project / ".npmrc", "\n".join(lines) + "\n")
    note = "npm-guard: 1 more finding than GitHub shows as annotations (10 per severity)"
    assert f"{note}; all are in the job summary:" in run().lines
    assert f"{note}:" in run({"summary": "false"}).lines


def test_a_pull_requests_own_findings_are_annotated_first(run: RunProgram, project: Path) -> None:
    """Eleven findings already on main, one the pull request adds (last by path)."""
    old = [f"//r{i}.example/:_authToken={make_token('npm_', 620 + i)}" for i in range(11)]
    added = f"//new.example/:_authToken={make_token('npm_', 640)}\n"
    pull_request_repository(
        project, base={"a/.npmrc": "\n".join(old) + "\n"}, change={"z/.npmrc": added}
    )

    def annotated_files(result: Result) -> list[str]:
        return [
            line.split("file=")[1].split(",")[0]
            for line in result.lines
            if line.startswith("::error ")
        ]

    pull_request = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main"}
    ranked = run(**pull_request)
    assert ranked.code == 1 and ranked.outputs["findings"] == "12"
    assert annotated_files(ranked) == ["z/.npmrc"] + ["a/.npmrc"] * 9
    assert annotated_files(run()) == ["a/.npmrc"] * 10  # a push: the usual order
    # Without the base branch (a shallow checkout) the usual order, and no failure.
    unknown = run(GITHUB_EVENT_NAME="pull_request", GITHUB_BASE_REF="gone", RUNNER_DEBUG="1")
    assert unknown.code == 1 and annotated_files(unknown) == ["a/.npmrc"] * 10
    assert any("changes are unknown" in line for line in unknown.lines)


def test_paths_limit_the_scan(run: RunProgram, project: Path) -> None:
    write(project / "bad" / ".npmrc", f"//registry.npmjs.org/:_authToken={LEAKED}\n")
    write(project / "good" / ".npmrc", "registry=https://registry.npmjs.org/\n")
    assert run({"paths": "good"}).outputs["verdict"] == "pass"
    assert run({"paths": "good bad"}).outputs["verdict"] == "fail"


def test_bad_input_is_an_error_annotation_and_exit_2(run: RunProgram) -> None:
    result = run({"mode": "publish"})
    assert result.code == 2
    assert result.lines == [
        "::error title=npm-guard::input 'mode': 'publish' is not one of scan, audit, all, trust"
    ]
    assert result.outputs["verdict"] == "error"


def test_missing_paths_and_policy_are_errors(run: RunProgram) -> None:
    assert run({"paths": "nowhere"}).code == 2
    result = run({"policy": "config/policy.yml"})
    assert result.code == 2 and "config/policy.yml" in result.stdout


def test_default_policy_file_is_optional_and_used_when_present(
    run: RunProgram, project: Path
) -> None:
    write(project / ".npmrc", "strict-ssl=false\n")
    assert run({"policy": ".npm-guard.yml", "fail-on": "warning"}).code == 1
    write(project / ".npm-guard.yml", "version: 1\nrules:\n  npmrc-insecure-registry: off\n")
    result = run({"policy": ".npm-guard.yml", "fail-on": "warning"})
    assert (result.code, result.outputs["findings"]) == (0, "0")


INVENTORY_POLICY = """\
version: 1
tokens:
  NPM_PUBLISH_TOKEN:
    permission: read-write
    max-expiry-days: 30
"""
ANNOTATION_RE = re.compile(
    r"::(?:error|warning|notice) file=([^,]+),line=(\d+),.*title=npm-guard ([a-z0-9-]+)::"
)
UNDECLARED_WORKFLOW = """\
on: push
permissions: {}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.PUBLISH_KEY }}
"""


def test_the_token_inventorys_rules_run_in_the_action_as_in_the_scan(
    run: RunProgram, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: the Action scanned without the policy, so the rules that read its
    `tokens:` inventory never fired there, while `npm-guard scan` reported them."""
    write(project / ".npm-guard.yml", INVENTORY_POLICY)
    write(project / ".github" / "workflows" / "release.yml", UNDECLARED_WORKFLOW)
    result = run({"policy": ".npm-guard.yml", "fail-on": "never"})
    annotated = {
        (match.group(3), match.group(1), int(match.group(2)))
        for match in map(ANNOTATION_RE.match, result.lines)
        if match
    }
    assert cli_main(["scan", "--format", "json", str(project)]) == 1
    scanned = {
        (f["rule"], f["location"]["path"], f["location"]["line"])
        for f in json.loads(capsys.readouterr().out)["findings"]
    }
    assert ("workflow-undeclared-npm-token", ".github/workflows/release.yml", 9) in scanned
    assert annotated == scanned


def test_invalid_policy_annotates_each_problem_on_its_line(run: RunProgram, project: Path) -> None:
    write(project / ".npm-guard.yml", "version: 1\nrules:\n  no-such-rule: error\nnonsense: 1\n")
    result = run()
    assert result.code == 2
    errors = [line for line in result.lines if line.startswith("::error ")]
    assert len(errors) == 2
    assert all("file=.npm-guard.yml" in line for line in errors)
    assert {line.split("line=")[1].split(",")[0] for line in errors} == {"3", "4"}
    assert result.outputs["verdict"] == "error"


def test_token_is_masked_before_anything_else(run: RunProgram, project: Path) -> None:
    write(project / ".npmrc", f"//registry.npmjs.org/:_authToken={TOKEN}\n")
    result = run({"sarif": "true"}, NPM_TOKEN=TOKEN, NODE_AUTH_TOKEN="second\nline-two")
    assert result.lines[:3] == [
        f"::add-mask::{TOKEN}",
        "::add-mask::second",
        "::add-mask::line-two",
    ]
    for text in (*result.lines[3:], result.summary, result.sarif, str(result.outputs)):
        assert TOKEN not in text


def test_a_secret_that_escaping_changes_is_redacted_in_every_output(
    run: RunProgram, project: Path
) -> None:
    """Markdown, workflow commands, JSON and URLs each escape some of the secret's
    characters: it is redacted before any of them, so no form of it is left to find."""
    write(project / ".npmrc", f"registry=http://{HOSTILE_SECRET}.example.com/\n")
    write(project / f"d_{HOSTILE_SECRET}" / ".npmrc", "strict-ssl=false\n")
    result = run({"sarif": "true", "fail-on": "warning"}, NPM_TOKEN=HOSTILE_SECRET)
    shown = [line for line in result.lines if not line.startswith("::add-mask::")]
    outputs = {
        "log": "\n".join(shown),
        "summary": result.summary,
        "sarif": result.sarif,
        "outputs": str(result.outputs),
    }
    # Only the names of the forms found are shown on failure, never the texts.
    assert {name: leaked_forms(HOSTILE_SECRET, text) for name, text in outputs.items()} == {
        name: [] for name in outputs
    }
    assert result.code == 1 and result.outputs["findings"] == "2"
    assert sum(line.startswith("::warning ") for line in shown) == 2
    summary_redacts = "http\\://&lt;redacted, " in result.summary  # `\:` keeps it unlinked
    sarif_redacts = "http://<redacted, " in result.sarif
    assert summary_redacts and sarif_redacts


def test_secrets_named_in_the_policy_are_masked_too(run: RunProgram, project: Path) -> None:
    write(
        project / ".npm-guard.yml",
        "version: 1\ntokens:\n  PUBLISH_TOKEN:\n    permission: read-write\n"
        "    cidr: [192.0.2.0/24]\n    max-expiry-days: 30\n",
    )
    result = run(PUBLISH_TOKEN="s3cret-publish-value")
    assert "::add-mask::s3cret-publish-value" in result.lines
    assert result.code == 0


def test_internal_error_is_exit_3_and_scrubbed(
    run: RunProgram, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError(f"boom with {TOKEN} and with second-line-of-a-secret")

    monkeypatch.setattr("npm_guard.scan.scan_paths", broken)
    secrets = {"NPM_TOKEN": TOKEN, "NODE_AUTH_TOKEN": "first-line\nsecond-line-of-a-secret"}
    result = run(**secrets)
    assert result.code == 3
    assert "::error title=npm-guard::internal error (RuntimeError)" in result.stdout
    assert result.outputs["verdict"] == "error"
    debug = run(**secrets, RUNNER_DEBUG="1")
    assert "Traceback" in debug.stdout and "boom with" in debug.stdout
    unmasked = [line for line in debug.lines if not line.startswith("::add-mask::")]
    assert TOKEN not in "\n".join(unmasked)
    assert "second-line-of-a-secret" not in "\n".join(unmasked)


def _incomplete(severity: Severity = Severity.ERROR) -> Finding:
    rule = all_rules()["audit-incomplete"]
    return Finding(rule, Location("package.json"), "x", "k", severity=severity)


def _error() -> Finding:
    return Finding(all_rules()["npmrc-plaintext-credential"], Location(".npmrc"), "x", "k")


@pytest.mark.parametrize(
    ("findings", "fail_on", "expected"),
    [
        ([], Severity.ERROR, "pass"),
        ([_error()], Severity.ERROR, "fail"),
        ([_incomplete()], Severity.ERROR, "incomplete"),
        ([_incomplete(Severity.WARNING)], Severity.ERROR, "incomplete"),
        ([_incomplete(), _error()], Severity.ERROR, "fail"),
        ([_error()], None, "fail"),
        ([_incomplete()], None, "incomplete"),
    ],
)
def test_verdict(findings: list[Finding], fail_on: Severity | None, expected: str) -> None:
    assert action.verdict(findings, fail_on) == expected


# --- the online audit, against the fake npmjs on loopback -----------------------------


def test_audit_passes_and_adds_the_verdict_tables(
    run: RunProgram, project: Path, fake: FakeRegistry
) -> None:
    token = setup_ok_package(fake, project, now=datetime.datetime.now(datetime.timezone.utc))
    result = run({"mode": "audit", "registry": fake.url}, NPM_TOKEN=token)
    assert result.code == 0, result.stdout
    assert result.outputs["verdict"] == "pass"
    assert "## npm-guard audit" in result.summary
    assert "no findings (1 package audited)" in result.summary
    # The log's last line says what was checked: an audit scans no files.
    assert result.lines[-1] == "npm-guard: no findings (1 package audited)"
    assert "files scanned" not in result.stdout
    assert "| maintainer | can publish | evidence | mode | verdict |" in result.summary
    assert fake.authorized(), "the audit used the token"
    assert token not in result.stdout.replace(f"::add-mask::{token}", "") + result.summary


@pytest.mark.parametrize(
    "tokens",
    [
        {"NODE_AUTH_TOKEN": SETUP_NODE_PLACEHOLDER_TOKEN},
        {"NPM_TOKEN": "", "NODE_AUTH_TOKEN": SETUP_NODE_PLACEHOLDER_TOKEN},
        {"NPM_TOKEN": SETUP_NODE_PLACEHOLDER_TOKEN},
    ],
)
def test_setup_nodes_placeholder_is_no_token(
    run: RunProgram, project: Path, fake: FakeRegistry, tokens: dict[str, str]
) -> None:
    """actions/setup-node with registry-url sets NODE_AUTH_TOKEN to a dummy: the audit
    runs on public data and sends no Authorization header at all."""
    setup_ok_package(fake, project, now=datetime.datetime.now(datetime.timezone.utc))
    result = run({"mode": "audit", "registry": fake.url}, **tokens)
    assert fake.authorized() == []
    assert fake.requests, "the audit asked the registry"
    (name,) = [n for n, v in tokens.items() if v]
    assert f"npm-guard: {name} holds a placeholder, not a token" in result.lines
    assert any("no token in $NPM_TOKEN: public data only" in line for line in result.lines)


def test_a_real_node_auth_token_is_still_used(
    run: RunProgram, project: Path, fake: FakeRegistry
) -> None:
    token = setup_ok_package(fake, project, now=datetime.datetime.now(datetime.timezone.utc))
    result = run({"mode": "audit", "registry": fake.url}, NPM_TOKEN="", NODE_AUTH_TOKEN=token)
    assert result.code == 0 and fake.authorized()


def test_token_variable_skips_empty_and_placeholder_values() -> None:
    placeholder = SETUP_NODE_PLACEHOLDER_TOKEN
    assert action.token_variable({"NPM_TOKEN": "t0k3n", "NODE_AUTH_TOKEN": "x1"}) == "NPM_TOKEN"
    assert action.token_variable({"NPM_TOKEN": " ", "NODE_AUTH_TOKEN": "t0k3n"}) == (
        "NODE_AUTH_TOKEN"
    )
    assert action.token_variable({"NPM_TOKEN": placeholder, "NODE_AUTH_TOKEN": "t0k3n"}) == (
        "NODE_AUTH_TOKEN"
    )
    assert action.token_variable({"NODE_AUTH_TOKEN": placeholder}) == "NPM_TOKEN"


def test_audit_that_cannot_verify_is_incomplete_never_pass(
    run: RunProgram, project: Path, fake: FakeRegistry
) -> None:
    token = setup_ok_package(fake, project, now=datetime.datetime.now(datetime.timezone.utc))
    fake.reply("/-/npm/v1/tokens", json_reply({"error": "forbidden"}, 403))
    result = run({"mode": "audit", "registry": fake.url}, NPM_TOKEN=token)
    assert result.code == 1
    assert result.outputs["verdict"] == "incomplete"
    assert any(line.startswith("::error ") and "audit-incomplete" in line for line in result.lines)
    assert "**Verdict: incomplete.**" in result.summary


def test_a_hung_registry_ends_at_the_timeout_input_with_verdict_incomplete(
    run: RunProgram, project: Path, fake: FakeRegistry
) -> None:
    token = setup_ok_package(fake, project, now=datetime.datetime.now(datetime.timezone.utc))
    fake.routes.clear()
    fake.fallback = Reply(action="hang")  # connections accepted, nothing ever answered
    started = time.monotonic()
    result = run({"mode": "audit", "registry": fake.url, "timeout": "3"}, NPM_TOKEN=token)
    elapsed = time.monotonic() - started
    assert elapsed < 3 + 3, elapsed
    assert result.code == 1
    assert result.outputs["verdict"] == "incomplete"
    assert "**Verdict: incomplete.**" in result.summary
    assert "time limit of 3 s (--timeout, the Action's timeout input) ran out" in result.summary
    assert token not in result.stdout.replace(f"::add-mask::{token}", "") + result.summary


def test_mode_all_scans_and_audits(run: RunProgram, project: Path, fake: FakeRegistry) -> None:
    token = setup_ok_package(fake, project, now=datetime.datetime.now(datetime.timezone.utc))
    write(project / ".npmrc", "strict-ssl=false\n")
    result = run({"mode": "all", "registry": fake.url}, NPM_TOKEN=token)
    assert result.code == 0
    assert "## npm-guard scan and audit" in result.summary
    assert "(1 file scanned, 1 package audited)" in result.summary
    assert result.lines[-1] == "npm-guard: 1 finding (1 warning; 1 file scanned, 1 package audited)"
    assert "npmrc-insecure-registry" in result.summary and "| maintainer |" in result.summary


def test_mode_all_without_packages_only_scans(run: RunProgram, project: Path) -> None:
    result = run({"mode": "all"})
    assert result.code == 0
    assert "npm-guard: no package.json and no packages input: nothing to audit" in result.lines


def test_mode_audit_without_packages_is_an_error(run: RunProgram) -> None:
    result = run({"mode": "audit"})
    assert result.code == 2 and "no package.json" in result.stdout


def test_trust_mode_writes_the_plan_to_the_summary_and_changes_nothing(
    run: RunProgram, project: Path
) -> None:
    workflow = project / ".github" / "workflows" / "release.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: npm publish\n        env:\n"
        "          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n",
        encoding="utf-8",
    )
    (project / "package.json").write_text('{"name": "@acme/widget"}', encoding="utf-8")
    before = workflow.read_bytes()
    result = run({"mode": "trust"}, GITHUB_REPOSITORY="acme/widget")
    assert workflow.read_bytes() == before
    assert result.code == 1 and result.outputs["verdict"] == "fail"
    assert "## npm-guard trust" in result.summary
    assert (
        "npm trust github @acme/widget --file release.yml --repository acme/widget "
        "--allow-publish" in result.summary
    )
    assert "+      id-token: write" in result.summary
    never = run({"mode": "trust", "fail-on": "never"}, GITHUB_REPOSITORY="acme/widget")
    assert never.code == 0 and never.outputs["verdict"] == "pass"
