"""pre-commit hook `npm-guard-policy`: the policy file `.npm-guard.yml` is valid and
holds no credential.

Exit 0 when every file is valid and clean, 1 when one is not (every problem is listed,
each as `FILE:LINE: key.path: what was expected`, and every token found, as the scan
reports it), 2 when a file cannot be read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from npm_guard import console
from npm_guard.constants import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, POLICY_FILE
from npm_guard.errors import NpmGuardError
from npm_guard.frontend import Parser, add_debug_option, guarded

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.policy import Policy


def check_policy_files(filenames: Sequence[str], root: str) -> int:
    """Validate each file and search it for credentials; problems and findings go to
    stdout, unreadable files to stderr."""
    from npm_guard.policy_load import PolicyError, load_policy

    worst = EXIT_CLEAN
    for filename in filenames:
        policy: Policy | None = None
        try:
            policy = load_policy(filename, root)
        except PolicyError as error:
            for problem in error.problems:
                console.out(str(problem))
            count = len(error.problems)
            console.err(
                f"npm-guard-policy: {error.display}: {count} problem{'s' if count != 1 else ''}"
            )
            worst = max(worst, EXIT_FINDINGS)
        except NpmGuardError as error:
            console.err(f"npm-guard-policy: error: {error}")
            worst = EXIT_USAGE
            continue
        if _credentials(filename, root, policy):
            worst = max(worst, EXIT_FINDINGS)
    return worst


def _credentials(filename: str, root: str, policy: Policy | None) -> bool:
    """Print the policy-file rules' findings (a token pasted as a key or into a reason
    is valid YAML and a valid secret name), with the file's own severities and ignores
    when it is valid, as a scan applies them; True when one is an error."""
    from npm_guard.engine import ScanRequest, scan
    from npm_guard.file_kinds import POLICY
    from npm_guard.findings import Severity
    from npm_guard.policy import Policy
    from npm_guard.report.text import format_finding

    request = ScanRequest([filename], kind=POLICY, root=root, policy=policy or Policy())
    findings = scan(request).findings
    for finding in findings:
        console.out(format_finding(finding))
    return any(f.effective_severity is Severity.ERROR for f in findings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(
        prog="npm-guard-policy",
        description="Validate npm-guard policy files against the policy schema "
        f"(default: {POLICY_FILE} at the root of the repository of the current directory).",
    )
    parser.add_argument("filenames", nargs="*", help="policy files to check")
    add_debug_option(parser)
    args = parser.parse_args(argv)
    from npm_guard.engine import unread_policy_notice
    from npm_guard.paths import find_root

    filenames: list[str] = list(args.filenames)
    # Files named (as pre-commit names them, from the top of the work tree) are shown as
    # given; without any, the repository's own policy file is checked.
    root = os.getcwd() if filenames else find_root(filenames)
    notice = unread_policy_notice(find_root(filenames))
    if notice is not None:
        console.err(f"npm-guard-policy: {notice}")
    if not filenames:
        default = os.path.join(root, POLICY_FILE)
        if not os.path.lexists(default):
            console.err(
                f"npm-guard-policy: no {POLICY_FILE} at the repository root; nothing to check"
            )
            return EXIT_CLEAN
        filenames = [default]
    return guarded(lambda: check_policy_files(filenames, root), debug=args.debug)


if __name__ == "__main__":
    raise SystemExit(main())
