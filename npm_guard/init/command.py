"""The `npm-guard init` front end: show the plan as a diff, or write it.

Exit codes: 0 when nothing needs doing (without `--write`) or everything was written
and an existing policy lacks nothing; 1 when, without `--write`, a file would be
created or changed, or (either way) the existing policy lacks entries init found;
2 when a file could not be handled (unreadable, invalid, a link out of the repository).
Everything printed goes through `npm_guard.console`, which redacts credentials.
"""

from __future__ import annotations

import os

from npm_guard.constants import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, POLICY_FILE
from npm_guard.errors import NpmGuardError

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.build_info import BuildInfo
    from npm_guard.init.plan import FileChange

NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(change: FileChange) -> str:
    """The change as a unified diff, `a/`/`b/` paths as git shows them."""
    import difflib

    old = [] if change.old is None else change.old.splitlines(keepends=True)
    new = change.new.splitlines(keepends=True)
    lines = difflib.unified_diff(
        old,
        new,
        fromfile="/dev/null" if change.old is None else f"a/{change.path}",
        tofile=f"b/{change.path}",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n" + NO_NEWLINE)
    return "".join(out)


def run_init(path: str, *, write: bool, build: BuildInfo | None = None) -> int:
    """`npm-guard init [--write] PATH`; returns the exit code."""
    from npm_guard import console
    from npm_guard.init.plan import plan_init, write_change
    from npm_guard.paths import find_root

    if not os.path.isdir(path):
        raise NpmGuardError(f"{path}: not a directory (init sets up a repository)")
    if build is None:
        from npm_guard.build_info import build_info

        build = build_info()
    plan = plan_init(find_root([path]), build)
    for note in plan.notes:
        console.err(f"npm-guard: {note}")
    problems = list(plan.problems)
    if write:
        for change in plan.changes:
            try:
                write_change(plan, change)
            except NpmGuardError as error:
                problems.append(str(error))
                continue
            done = "created" if change.old is None else "updated"
            console.err(f"npm-guard: {done} {change.path}")
    else:
        for change in plan.changes:
            console.write(unified_diff(change), console.STDOUT)
    if plan.missing:
        console.err(f"npm-guard: {POLICY_FILE} exists and is left as it is; add what it lacks:")
        for line in plan.missing:
            console.err(f"  {line}")
    for problem in problems:
        console.err(f"npm-guard: error: {problem}")
    if not write and plan.changes:
        console.err("npm-guard: nothing written; `npm-guard init --write` writes the above")
    elif not plan.changes and not plan.missing and not problems:
        console.err("npm-guard: already set up; nothing to change")
    if problems:
        return EXIT_USAGE
    if plan.missing or (plan.changes and not write):
        return EXIT_FINDINGS
    return EXIT_CLEAN
