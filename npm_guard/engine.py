"""The offline scan's one entry point: a request goes in, an outcome comes out.

`scan()` does the whole pipeline every front end needs, in one order: find the
repository root, load the policy (a bad policy stops here, before any work), `--fix`,
scan the files, apply the policy's severities and ignores, sort, and judge the result
against the failure threshold. The front ends (`npm-guard scan`, the three pre-commit
hooks, the Action) only build the request from their inputs and render the outcome;
none of them re-assembles part of this, so none can drift from the others (the Action
once scanned without the policy, and two rules never ran there).

Nothing here prints: notices go to `notify` as they happen, and into the outcome.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from npm_guard._record import dataclass, field
from npm_guard.constants import EXIT_CLEAN, EXIT_FINDINGS, POLICY_FILE, UNREAD_POLICY_FILE
from npm_guard.findings import Finding, Severity, Suppressed, sort_key

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.policy import Policy

Notify = Callable[[str], None]


@dataclass(frozen=True)
class ScanRequest:
    """What to scan and how.

    `kind` reads every path as that kind of file (a hook gets exactly the files
    pre-commit matched); without it directories are walked and files classified by name.
    `policy` is a policy already loaded (the Action loads it for the audit too);
    without it `policy_file` is loaded, or `.npm-guard.yml` at the root when there is
    one. `fail_on` and `fmt` decide the failure threshold (see `threshold()`). `jobs`
    is how many worker processes analyse a walked tree (`npm_guard.scan_pool`).
    `dependents_of` are files workflows depend on (the workflow hook's staged
    package.json, script…): the workflows and actions under the root that read one are
    scanned too (`npm_guard.scan.scan_dependents`).
    """

    paths: Sequence[str]
    kind: str | None = None
    root: str | None = None  # None: the root of the repository the first path is in
    policy_file: str | None = None
    policy: Policy | None = None
    no_ignores: bool = False
    fix: bool = False
    fix_variable: str | None = None
    fail_on: Severity | None = None
    fmt: str = "text"
    jobs: int | None = None  # worker processes for a walk (0: every core; None: by size)
    dependents_of: Sequence[str] = ()


@dataclass
class ScanOutcome:
    """What a scan found, after the policy, and how it ends."""

    root: str  # the repository root: paths in findings are relative to it
    findings: list[Finding] = field(default_factory=list)  # sorted by place
    suppressed: list[Suppressed] = field(default_factory=list)  # by comments, then policy
    notices: list[str] = field(default_factory=list)  # said on stderr, in order
    files_scanned: int = 0
    fixed: bool = False  # --fix rewrote a file
    threshold: Severity | None = Severity.ERROR  # None: nothing fails the run
    failed: bool = False  # a finding reaches the threshold

    @property
    def exit_code(self) -> int:
        """1 when a finding reaches the threshold or `--fix` changed a file, else 0."""
        return EXIT_FINDINGS if self.failed or self.fixed else EXIT_CLEAN


def threshold(fail_on: Severity | None, fmt: str = "text") -> Severity | None:
    """The lowest severity that fails a run: `--fail-on`, else error, except that a
    SARIF report without `--fail-on` fails nothing (it is for code scanning to judge)."""
    if fail_on is None and fmt != "sarif":
        return Severity.ERROR
    return fail_on


def reaches(findings: Sequence[Finding], limit: Severity | None) -> bool:
    """Whether a finding is at or above `limit` (None: nothing is)."""
    if limit is None:
        return False
    return any(f.effective_severity.rank >= limit.rank for f in findings)


def exit_class(findings: Sequence[Finding], limit: Severity | None) -> int:
    """The exit code findings alone give: 1 when one reaches `limit`, else 0."""
    return EXIT_FINDINGS if reaches(findings, limit) else EXIT_CLEAN


def scan(request: ScanRequest, notify: Notify | None = None) -> ScanOutcome:
    """Run one offline scan; `notify` hears each notice as it happens."""
    from npm_guard import scan as scanner
    from npm_guard.paths import find_root

    if request.root:
        root = os.path.abspath(request.root)
    else:
        root = find_root([*request.paths, *request.dependents_of])
    outcome = ScanOutcome(root=root, threshold=threshold(request.fail_on, request.fmt))

    def say(notice: str) -> None:
        outcome.notices.append(notice)
        if notify is not None:
            notify(notice)

    policy = request.policy
    if policy is None:
        policy = _load_policy(request.policy_file, root, say)
    if request.fix:
        outcome.fixed = _fix(request, root, say)
    if request.kind is None:
        result = scanner.scan_paths(
            request.paths,
            root=root,
            no_ignores=request.no_ignores,
            policy=policy,
            jobs=request.jobs,
        )
    else:
        result = scanner.scan_named(
            request.paths, request.kind, root=root, no_ignores=request.no_ignores, policy=policy
        )
    if request.dependents_of:
        dependents = scanner.scan_dependents(
            request.dependents_of,
            root=root,
            named=request.paths,
            no_ignores=request.no_ignores,
            policy=policy,
        )
        result.findings.extend(dependents.findings)
        result.suppressed.extend(dependents.suppressed)
        result.files_scanned += dependents.files_scanned
    for notice in result.notices:
        say(notice)
    findings = result.findings
    outcome.suppressed = result.suppressed
    if policy is not None:
        from npm_guard.policy_apply import apply_policy

        findings = apply_policy(findings, policy, silenced=outcome.suppressed)
    findings.sort(key=sort_key)
    outcome.findings = findings
    outcome.files_scanned = result.files_scanned
    outcome.failed = reaches(findings, outcome.threshold)
    return outcome


def unread_policy_notice(root: str) -> str | None:
    """A notice when the root has a `.npm-guard.yaml` but no `.npm-guard.yml`: the
    `.yaml` spelling is never read, so the rules it turns off would silently stay on."""
    if os.path.lexists(os.path.join(root, POLICY_FILE)):
        return None
    if not os.path.lexists(os.path.join(root, UNREAD_POLICY_FILE)):
        return None
    return (
        f"{UNREAD_POLICY_FILE} is not read: the policy file is {POLICY_FILE} "
        f"(rename it to apply it)"
    )


def _load_policy(path: str | None, root: str, say: Notify) -> Policy | None:
    """The policy to apply, or None when there is no policy file at all (then none of
    the policy modules is imported: a hook run without one starts faster)."""
    if path is None and not os.path.lexists(os.path.join(root, POLICY_FILE)):
        notice = unread_policy_notice(root)
        if notice is not None:
            say(notice)
        return None
    from npm_guard.policy_load import load_policy

    return load_policy(path, root)


def _fix(request: ScanRequest, root: str, say: Notify) -> bool:
    """`--fix` on the request's `.npmrc` files; True when a file was rewritten.

    Refused for one file (`--fix-variable` for several registries, a link out of the
    repository): no file is rewritten (NpmGuardError).
    """
    from npm_guard.file_kinds import NPMRC
    from npm_guard.fix import check_fix, describe, fix_npmrc
    from npm_guard.paths import display_path
    from npm_guard.scan import discover

    if request.kind is None:
        targets = [
            (t.path, t.display) for t in discover(request.paths, root, []) if t.kind == NPMRC
        ]
    elif request.kind == NPMRC:
        targets = [(p, display_path(p, root)) for p in request.paths]
    else:
        targets = []
    for path, display in targets:
        check_fix(path, display, request.fix_variable, root)
    changed = False
    for path, display in targets:
        result = fix_npmrc(path, display, request.fix_variable, root)
        if result.problem:
            say(f"{display}: {result.problem}")
        for line in describe(result):
            say(line)
        changed = changed or bool(result.replacements)
    return changed
