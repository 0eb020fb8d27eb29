"""`python -m npm_guard action`: the GitHub Action's program, driven only by its environment.

action.yml is a thin shim that installs this package into a private virtual environment
and runs this with every input in a `GHA_NPM_GUARD_*` variable. This module decides
what to run (offline scan, online audit or both) and reports through the reporters the
CLI uses; `npm_guard.github_io` does every read and write that is about GitHub.

The token given to the Action is masked before anything is printed, and every line,
output, summary and SARIF file passes through `scrub()` with the token's value, so it
cannot appear even where GitHub's masking would not reach (files, outputs).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from npm_guard import console
from npm_guard._record import dataclass, field
from npm_guard.constants import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_USAGE,
    POLICY_FILE,
)
from npm_guard.errors import NpmGuardError
from npm_guard.findings import Finding, Severity, Suppressed, sort_key
from npm_guard.github_io import (
    TOKEN_VARIABLES,
    ActionInputs,
    Runner,
    append_summary,
    blob_url,
    changed_files,
    emit,
    error_command,
    is_placeholder_token,
    mask_commands,
    read_inputs,
    read_runner,
    token_environment,
    token_values,
    write_outputs,
)

if TYPE_CHECKING:
    from npm_guard.policy import Policy

AUDIT_INCOMPLETE = "audit-incomplete"  # the one rule whose findings mean "not verified"
VERDICT_PASS = "pass"
VERDICT_FAIL = "fail"
VERDICT_INCOMPLETE = "incomplete"
VERDICT_ERROR = "error"

Write = Callable[[str], object]


@dataclass
class Secrets:
    """Values that must never leave the process: the token and any the policy names."""

    values: list[str] = field(default_factory=list)

    def add(self, values: Sequence[str], write: Write | None) -> None:
        """Mask values not seen yet, before anything that could contain them is printed,
        and redact them from every line printed from now on (`npm_guard.console`).

        Each line of a multi-line value is a secret of its own too, as in the masks.
        `write` is where the masks go (None: stdout): the one output that holds the
        secret, for the runner, which never shows an `add-mask` line.
        """
        for value in values:
            if value in self.values:
                continue
            self.values.append(value)
            self.values.extend(line.strip() for line in value.splitlines() if line.strip())
            console.write_masks(mask_commands(value), write)
            console.register_secrets(self.values)

    def scrub(self, text: str) -> str:
        from npm_guard.secrets import scrub

        return scrub(text, self.values)

    def plain(self, text: str) -> str:
        """`text` scrubbed, then as a log line that cannot be read as a workflow command
        (in this order: neutralising first could hide a secret from the scrub)."""
        from npm_guard.report.github import plain_line

        return plain_line(self.scrub(text))


@dataclass
class Outcome:
    """What one run found and how it ends."""

    findings: list[Finding]
    suppressed: list[Suppressed] = field(default_factory=list)  # policy or ignore comments
    files_scanned: int = 0
    packages_audited: int | None = None  # None: the audit did not run
    sections: list[str] = field(default_factory=list)  # extra Markdown for the summary
    sarif_file: str = ""
    exit_code: int = EXIT_CLEAN
    verdict: str = VERDICT_PASS


def verdict(findings: Sequence[Finding], fail_on: Severity | None) -> str:
    """`fail` when a finding reaches the threshold, `incomplete` when only the audit's
    gaps keep it from a pass, else `pass`.

    `audit-incomplete` never reads as `pass` (nor as `fail`: the registry being down is
    not a problem with the packages). With `fail-on: never` the verdict still judges
    against `error`, the step simply does not fail.
    """
    threshold = fail_on or Severity.ERROR
    reaching = [f for f in findings if f.effective_severity.rank >= threshold.rank]
    if any(f.rule.id != AUDIT_INCOMPLETE for f in reaching):
        return VERDICT_FAIL
    if any(f.rule.id == AUDIT_INCOMPLETE for f in findings):
        return VERDICT_INCOMPLETE
    return VERDICT_PASS


def exit_code(findings: Sequence[Finding], fail_on: Severity | None) -> int:
    """1 when a finding reaches `fail_on`; `None` (`fail-on: never`) never fails."""
    from npm_guard.engine import exit_class

    return exit_class(findings, fail_on)


def main(environ: Mapping[str, str] | None = None, write: Write | None = None) -> int:
    """Run the Action; returns the step's exit code (0, 1, 2 usage, 3 internal)."""
    env = os.environ if environ is None else environ

    def out(text: str) -> None:
        # Every line through the one way out: scrubbed, and no workflow command but
        # the annotations and errors built by workflow_command().
        console.write(text, write or console.STDOUT, fmt="github", commands=True)

    secrets = Secrets()
    # First of all: nothing has printed yet, and nothing may before the token is masked.
    secrets.add(token_values(env), write)
    runner = read_runner(env, os.getcwd())
    try:
        outcome = run(env, runner, secrets, out, write)
    except NpmGuardError as error:
        _fail(runner, secrets, out, _error_commands(error, secrets))
        return EXIT_USAGE
    except Exception as error:  # the last line of defence: exit 3, with a hint
        message = f"internal error ({type(error).__name__}); re-run the job with debug logging"
        if runner.debug:
            import traceback

            message += "\n" + traceback.format_exc()
        _fail(runner, secrets, out, [error_command(secrets.scrub(message))])
        return EXIT_INTERNAL
    finally:
        console.forget_secrets(secrets.values)
    return outcome.exit_code


def _error_commands(error: NpmGuardError, secrets: Secrets) -> list[str]:
    """One `::error::` per policy problem, on its file and line; else one for the error."""
    from npm_guard.policy_load import PolicyError

    if isinstance(error, PolicyError) and error.problems:
        return [
            error_command(
                secrets.scrub(str(problem)),
                title="npm-guard policy file",
                file=problem.file,
                line=problem.line,
            )
            for problem in error.problems
        ]
    return [error_command(secrets.scrub(str(error)))]


def _fail(runner: Runner, secrets: Secrets, out: Write, commands: Sequence[str]) -> None:
    """Report an error that ends the run, and still set the outputs (verdict `error`)."""
    emit(commands, out)
    try:
        write_outputs(
            runner.output_path,
            {"findings": "0", "errors": "0", "sarif-file": "", "verdict": VERDICT_ERROR},
        )
    except NpmGuardError as error:
        emit([error_command(secrets.scrub(str(error)))], out)


def run(
    env: Mapping[str, str],
    runner: Runner,
    secrets: Secrets,
    out: Write,
    masks: Write | None = None,
) -> Outcome:
    """Scan and/or audit as the inputs say, then annotate, summarise and set outputs;
    `masks` is where `add-mask` commands go (None: stdout)."""
    from npm_guard.policy_load import load_policy

    inputs = read_inputs(env)
    if inputs.mode == "trust":
        return _trust(inputs, runner, env, secrets, out)
    policy = load_policy(_policy_path(inputs, runner), runner.workspace)
    if policy.tokens:
        secrets.add(token_values(env, policy.tokens), masks)

    outcome = Outcome(findings=[])
    if inputs.scans:
        _scan(inputs, runner, policy, outcome, secrets, out)
    if inputs.audits:
        _audit(inputs, runner, policy, env, secrets, outcome, out)
    outcome.findings.sort(key=sort_key)

    from npm_guard.report import render

    report = render(
        "github",
        outcome.findings,
        files_scanned=outcome.files_scanned,
        secrets=secrets.values,
        summary="the job summary" if inputs.summary and runner.summary_path else None,
        changed=_changed_files(outcome.findings, env, runner, secrets, out),
        suppressed=outcome.suppressed,
        checked=_checked(inputs, outcome),
    )
    emit(secrets.scrub(report), out)
    if inputs.sarif:
        outcome.sarif_file = _write_sarif(outcome, runner, inputs, secrets)
    outcome.exit_code = exit_code(outcome.findings, inputs.fail_on)
    outcome.verdict = verdict(outcome.findings, inputs.fail_on)
    if inputs.summary:
        append_summary(runner.summary_path, secrets.scrub(_summary(inputs, outcome, env, secrets)))
    write_outputs(
        runner.output_path,
        {
            "findings": str(len(outcome.findings)),
            "errors": str(
                sum(1 for f in outcome.findings if f.effective_severity is Severity.ERROR)
            ),
            "sarif-file": outcome.sarif_file,
            "verdict": outcome.verdict,
        },
    )
    if outcome.exit_code == EXIT_FINDINGS:
        assert inputs.fail_on is not None
        emit(
            [
                secrets.plain(
                    f"npm-guard: verdict {outcome.verdict}: findings at or above "
                    f"'{inputs.fail_on.value}' fail this step (input fail-on)"
                )
            ],
            out,
        )
    return outcome


def _trust(
    inputs: ActionInputs, runner: Runner, env: Mapping[str, str], secrets: Secrets, out: Write
) -> Outcome:
    """`mode: trust`: the trust plan in the job summary; no file is changed (no --write).
    Exit 1 when the plan has steps, unless `fail-on: never`."""
    from npm_guard.trust.render import render_markdown
    from npm_guard.trust.run import make_plan

    paths = [os.path.join(runner.workspace, path) for path in inputs.paths]
    plan = make_plan(paths, environ=env, write=False)
    steps = len(plan.migrations) + len(plan.manual) + len(plan.refused)
    if inputs.summary:
        append_summary(runner.summary_path, secrets.scrub(render_markdown(plan)))
    failed = plan.has_steps and inputs.fail_on is not None
    outcome = Outcome(findings=[])
    outcome.exit_code = EXIT_FINDINGS if failed else EXIT_CLEAN
    outcome.verdict = "fail" if failed else "pass"
    emit(
        [
            secrets.plain(
                f"npm-guard: trust plan: {len(plan.migrations)} job(s) to move to trusted "
                f"publishing, {len(plan.manual)} to move by hand, {len(plan.refused)} file(s) "
                "that cannot be edited"
                + (" (see the job summary)" if inputs.summary and runner.summary_path else "")
            )
        ],
        out,
    )
    write_outputs(
        runner.output_path,
        {"findings": str(steps), "errors": "0", "sarif-file": "", "verdict": outcome.verdict},
    )
    return outcome


def _changed_files(
    findings: Sequence[Finding],
    env: Mapping[str, str],
    runner: Runner,
    secrets: Secrets,
    out: Write,
) -> frozenset[str] | None:
    """On a pull request with more findings than annotations, the files it changes."""
    from npm_guard.report.github import overflows

    if not overflows(findings):
        return None
    changed = changed_files(env, runner.workspace)
    if changed is None and runner.debug:
        emit(
            [
                secrets.plain(
                    "npm-guard: debug: the files this pull request changes are unknown (not a "
                    "pull request, or git cannot diff against origin/$GITHUB_BASE_REF): "
                    "annotations go to the first findings by path"
                )
            ],
            out,
        )
    return changed


def _policy_path(inputs: ActionInputs, runner: Runner) -> str | None:
    """The policy input as a path; the default name only applies when the file exists."""
    if inputs.policy is None:
        return None
    path = os.path.join(runner.workspace, inputs.policy)
    if inputs.policy == POLICY_FILE and not os.path.lexists(path):
        return None
    return path


def _scan(
    inputs: ActionInputs,
    runner: Runner,
    policy: Policy,
    outcome: Outcome,
    secrets: Secrets,
    out: Write,
) -> None:
    """The engine's offline scan of the workspace, with the policy the audit uses too."""
    from npm_guard.engine import ScanRequest, scan

    paths = [os.path.join(runner.workspace, path) for path in inputs.paths]
    scanned = scan(ScanRequest(paths, root=runner.workspace, policy=policy))
    emit([secrets.plain(f"npm-guard: {notice}") for notice in scanned.notices], out)
    outcome.files_scanned += scanned.files_scanned
    outcome.suppressed.extend(scanned.suppressed)
    outcome.findings.extend(scanned.findings)


def _audit(
    inputs: ActionInputs,
    runner: Runner,
    policy: Policy,
    env: Mapping[str, str],
    secrets: Secrets,
    outcome: Outcome,
    out: Write,
) -> None:
    """The online audit through its own entry point; its verdict tables join the summary."""
    publishes_nothing = not os.path.isfile(os.path.join(runner.workspace, "package.json"))
    if inputs.mode == "all" and not inputs.packages and publishes_nothing:
        # `all` on a repository that publishes nothing: the scan is the whole job.
        emit(
            [secrets.plain("npm-guard: no package.json and no packages input: nothing to audit")],
            out,
        )
        return
    from npm_guard.audit.command import audit_repository
    from npm_guard.audit.table import render_markdown_tables

    for name in TOKEN_VARIABLES:  # e.g. NODE_AUTH_TOKEN after actions/setup-node
        value = env.get(name, "")
        if value.strip() and is_placeholder_token(value):
            emit([secrets.plain(f"npm-guard: {name} holds a placeholder, not a token")], out)
    env = token_environment(env)
    result = audit_repository(
        runner.workspace,
        policy,
        env,
        packages=inputs.packages,
        registry=inputs.registry,
        token_env=token_variable(env),
        timeout=inputs.timeout,
        trace=(lambda line: emit([secrets.plain(f"npm-guard: debug: {line}")], out))
        if runner.debug
        else None,
    )
    emit([secrets.plain(f"npm-guard: {notice}") for notice in result.notices], out)
    outcome.findings.extend(result.findings)
    outcome.suppressed.extend(result.suppressed)
    outcome.packages_audited = len(result.facts.packages)
    outcome.sections.append(render_markdown_tables(result.facts))


def token_variable(env: Mapping[str, str]) -> str:
    """The variable the audit reads its token from: NPM_TOKEN, else NODE_AUTH_TOKEN if
    that holds a token (not empty, not a placeholder such as actions/setup-node's)."""
    for name in TOKEN_VARIABLES:
        if not is_placeholder_token(env.get(name, "")):
            return name
    return TOKEN_VARIABLES[0]


def _write_sarif(outcome: Outcome, runner: Runner, inputs: ActionInputs, secrets: Secrets) -> str:
    """The SARIF report in `$RUNNER_TEMP` (never the workspace: it must not be committed)."""
    import tempfile

    from npm_guard.atomic_write import new_file
    from npm_guard.report import render

    directory = runner.temp or tempfile.gettempdir()
    report = render(
        "sarif", outcome.findings, secrets=secrets.values, suppressed=outcome.suppressed
    )
    try:
        return new_file(directory, f"npm-guard-{inputs.mode}-", ".sarif", secrets.scrub(report))
    except NpmGuardError as error:
        raise NpmGuardError(f"cannot write the SARIF report in {directory}: {error}") from error


_TITLES = {"scan": "npm-guard scan", "audit": "npm-guard audit", "all": "npm-guard scan and audit"}


def _summary(
    inputs: ActionInputs, outcome: Outcome, env: Mapping[str, str], secrets: Secrets
) -> str:
    """The job summary: the shared Markdown report, plus the audit's sections."""
    from npm_guard.report.summary import Verdict, render_summary

    sections = list(outcome.sections)
    if outcome.verdict == VERDICT_INCOMPLETE:
        sections.insert(
            0,
            "**Verdict: incomplete.** The audit could not verify everything "
            "(`audit-incomplete` findings below say what and why); this is not a pass.",
        )
    return render_summary(
        outcome.findings,
        verdict=Verdict(failed=outcome.exit_code == EXIT_FINDINGS, threshold=inputs.fail_on),
        files_scanned=outcome.files_scanned,
        link_base=blob_url(env),
        extra_sections=sections,
        title=_TITLES[inputs.mode],
        checked=_checked(inputs, outcome) or None,
        secrets=secrets.values,
    )


def _checked(inputs: ActionInputs, outcome: Outcome) -> str:
    """What the run looked at, in words: files scanned unless the mode is `audit` (which
    scans none: "0 files scanned" would read as a scan that found nothing to read), and
    packages audited when the audit ran."""
    from npm_guard.report.summary import count_phrase

    checked = []
    if inputs.mode != "audit":
        checked.append(count_phrase(outcome.files_scanned, "file", "scanned"))
    if outcome.packages_audited is not None:
        checked.append(count_phrase(outcome.packages_audited, "package", "audited"))
    return ", ".join(checked)
