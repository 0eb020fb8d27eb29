"""pre-commit hook `workflow-npm-credentials`: npm credentials and publishing in workflows."""

from __future__ import annotations

from collections.abc import Sequence

from npm_guard.file_kinds import WORKFLOW, is_workflow_dependency
from npm_guard.frontend import (
    Parser,
    add_debug_option,
    add_scan_options,
    guarded,
    options_from,
    run_scan,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(
        prog="workflow-npm-credentials",
        description="Find npm credentials, unsafe npm tokens and token-based publishing in "
        "GitHub Actions workflows and composite actions.",
    )
    add_scan_options(parser)
    add_debug_option(parser)
    parser.add_argument(
        "filenames",
        nargs="*",
        help="workflow or action.yml files to check, and files workflows depend on "
        "(package.json, .npmrc, scripts…), whose dependent workflows are checked",
    )
    args = parser.parse_args(argv)
    # By name only: a commit without such files finds no workflows to re-check, and
    # imports nothing for it.
    dependencies = [name for name in args.filenames if is_workflow_dependency(name)]
    workflows = [name for name in args.filenames if not is_workflow_dependency(name)]
    return guarded(
        lambda: run_scan(workflows, options_from(args), kind=WORKFLOW, dependents_of=dependencies),
        debug=args.debug,
        fmt=args.fmt,
    )


if __name__ == "__main__":
    raise SystemExit(main())
