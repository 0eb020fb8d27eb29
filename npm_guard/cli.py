"""The `npm-guard` command line: thin glue between arguments, the engine and reporters.

Exit codes: 0 clean, 1 findings at or above the failure threshold (or files fixed),
2 usage or policy error, 3 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from npm_guard._record import dataclass
from npm_guard.errors import NpmGuardError
from npm_guard.findings import Finding, Severity, sort_key

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from typing import Any

    from npm_guard.github_io import SummaryDestination
    from npm_guard.policy import Policy

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
SEVERITY_CHOICES = tuple(s.value for s in Severity)


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, given a width so that it does not import `shutil`.

    argparse builds a formatter on every `add_argument`; the stock one asks
    `shutil.get_terminal_size()`, whose import costs the hooks' start-up ~1.5 ms.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    try:
        return int(os.environ.get("COLUMNS", "")) or 80
    except ValueError:
        pass
    from npm_guard import console

    try:
        return console.stderr_columns()
    except (OSError, ValueError):
        return 80


class Parser(argparse.ArgumentParser):
    """The argument parser of the CLI and the hooks (sub-commands inherit the class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def _print_message(self, message: str, file: Any = None) -> None:
        """Usage, help and argument errors go out through `npm_guard.console` too: an
        error quotes the argument it refuses, and a hook's arguments are file names."""
        from npm_guard import console

        console.write(message, file if file is not None else console.STDERR)


@dataclass
class ScanOptions:
    """What every scan front end (CLI, hooks) decides before the engine runs."""

    fmt: str = "text"
    fail_on: Severity | None = None  # None: error, but SARIF output then exits 0
    no_ignores: bool = False
    fix: bool = False
    fix_variable: str | None = None
    output: str | None = None
    policy: str | None = None  # None: .npm-guard.yml at the repository root, if any
    summary: str | None = None  # Markdown job summary file (rewritten)
    step_summary: bool = False  # append the summary to $GITHUB_STEP_SUMMARY when it is set


def add_scan_options(parser: argparse.ArgumentParser, *, formats: Sequence[str]) -> None:
    """The options the `scan` command and the hooks share."""
    parser.add_argument("--format", dest="fmt", choices=formats, default="text")
    parser.add_argument(
        "--fail-on",
        choices=SEVERITY_CHOICES,
        default=None,
        help="lowest severity that makes the exit code 1 (default: error; with "
        "--format sarif the default is to exit 0 once the report is written)",
    )
    parser.add_argument(
        "--no-ignores",
        action="store_true",
        help="report findings that inline npm-guard: ignore comments would silence",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="replace literal _authToken values in .npmrc files by ${VAR} references",
    )
    parser.add_argument(
        "--fix-variable",
        metavar="NAME",
        help="variable name for --fix, for a file with literal tokens for one registry "
        "(default: NPM_TOKEN for npmjs, GITHUB_TOKEN for GitHub Packages, derived from "
        "the host, and the path where needed, otherwise)",
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    parser.add_argument(
        "--policy",
        metavar="FILE",
        help="policy file (default: .npm-guard.yml at the root of the repository the "
        "first PATH is in, if present)",
    )
    parser.add_argument(
        "--summary",
        metavar="FILE",
        help="also write the Markdown job summary to FILE (npm-guard scan appends it to "
        "$GITHUB_STEP_SUMMARY whenever that is set; the hooks only with this option)",
    )


def add_debug_option(
    parser: argparse.ArgumentParser,
    *,
    default: object = False,
    help: str = "show the traceback of an internal error",
) -> None:
    """`--debug`, for the top level, every sub-command and every hook. A sub-command's
    default is SUPPRESS: its parser then leaves the top level's value alone, so the
    option works before and after the sub-command name."""
    parser.add_argument("--debug", action="store_true", default=default, help=help)


_DEBUG_HELP = "show the traceback of an internal error (audit: every registry request too)"


def options_from(args: argparse.Namespace, *, step_summary: bool = False) -> ScanOptions:
    """The options from parsed arguments; `step_summary`: also append the job summary to
    `$GITHUB_STEP_SUMMARY` when that is set (`npm-guard scan`, not the hooks)."""
    if args.fix_variable is not None and not _is_env_name(args.fix_variable):
        raise NpmGuardError(
            f"--fix-variable: {args.fix_variable!r} is not an environment variable name "
            f"(letters, digits and _, not starting with a digit)"
        )
    return ScanOptions(
        fmt=args.fmt,
        fail_on=Severity(args.fail_on) if args.fail_on else None,
        no_ignores=args.no_ignores,
        fix=args.fix,
        fix_variable=args.fix_variable,
        output=args.output,
        policy=getattr(args, "policy", None),
        summary=getattr(args, "summary", None),
        step_summary=step_summary,
    )


def _is_env_name(name: str) -> bool:
    return bool(name) and not name[0].isdigit() and all(c.isalnum() or c == "_" for c in name)


def exit_code(findings: Sequence[Finding], fail_on: Severity | None, fmt: str = "text") -> int:
    """1 when a finding reaches the threshold; SARIF without --fail-on always exits 0."""
    if fail_on is None:
        if fmt == "sarif":
            return EXIT_CLEAN
        fail_on = Severity.ERROR
    failing = any(f.effective_severity.rank >= fail_on.rank for f in findings)
    return EXIT_FINDINGS if failing else EXIT_CLEAN


def run_scan(paths: Sequence[str], options: ScanOptions, *, kind: str | None = None) -> int:
    """Scan, optionally fix, report; returns the exit code.

    `kind` forces every path to be read as that kind (hooks get exactly the files
    pre-commit matched); without it directories are walked and files classified.
    """
    from npm_guard.report import render
    from npm_guard.scan import ScanResult, Target, display_path, find_root, scan_paths, scan_target

    root = find_root(paths)
    policy = _load_policy(options.policy, root)  # a bad policy stops here, before any work
    fixed_any = False
    if options.fix:
        fixed_any = _fix_paths(paths, options, root, kind)
    if kind is None:
        result = scan_paths(paths, root=root, no_ignores=options.no_ignores, policy=policy)
    else:
        result = ScanResult()
        for path in paths:
            target = Target(path, display_path(path, root), kind)
            result.files_scanned += 1
            result.findings.extend(
                scan_target(
                    target,
                    root=root,
                    no_ignores=options.no_ignores,
                    policy=policy,
                    silenced=result.suppressed,
                )
            )
    findings = result.findings
    if policy is not None:
        from npm_guard.policy_apply import apply_policy

        findings = apply_policy(findings, policy, silenced=result.suppressed)
    findings.sort(key=sort_key)
    for notice in result.notices:
        print_notice(f"npm-guard: {notice}", options.fmt)
    from npm_guard.github_io import summary_destination

    summary = summary_destination(options.summary, os.environ, step_summary=options.step_summary)
    report = render(
        options.fmt,
        findings,
        files_scanned=result.files_scanned,
        summary=summary.name if summary else None,
        suppressed=result.suppressed,
    )
    emit_report(report, options.output, options.fmt, root)
    if options.output is not None:
        print_notice(report_written(options.output, options.fmt, findings), options.fmt)
    code = exit_code(findings, options.fail_on, options.fmt)
    if summary is not None:
        _write_summary(summary, findings, options, code, result.files_scanned, root)
    return EXIT_FINDINGS if fixed_any else code


# npm_guard.policy.POLICY_FILE, spelled out here: without a policy file a hook run
# imports none of the policy modules, which cost start-up time.
_POLICY_FILE = ".npm-guard.yml"
_UNREAD_POLICY_FILE = ".npm-guard.yaml"


def unread_policy_notice(root: str) -> str | None:
    """A notice when the root has a `.npm-guard.yaml` but no `.npm-guard.yml`: the
    `.yaml` spelling is never read, so the rules it turns off would silently stay on."""
    if os.path.lexists(os.path.join(root, _POLICY_FILE)):
        return None
    if not os.path.lexists(os.path.join(root, _UNREAD_POLICY_FILE)):
        return None
    return (
        f"{_UNREAD_POLICY_FILE} is not read: the policy file is {_POLICY_FILE} "
        f"(rename it to apply it)"
    )


def _load_policy(path: str | None, root: str) -> Policy | None:
    """The policy to apply, or None when there is no policy file at all."""
    if path is None and not os.path.lexists(os.path.join(root, _POLICY_FILE)):
        notice = unread_policy_notice(root)
        if notice is not None:
            from npm_guard import console

            console.err(f"npm-guard: {notice}")
        return None
    from npm_guard.policy_load import load_policy

    return load_policy(path, root)


def _write_summary(
    destination: SummaryDestination,
    findings: Sequence[Finding],
    options: ScanOptions,
    code: int,
    files_scanned: int,
    root: str,
) -> None:
    """The Markdown job summary, to `--summary FILE` or GitHub's summary file."""
    from npm_guard import github_io
    from npm_guard.report.summary import Verdict, render_summary
    from npm_guard.secrets import scrub

    verdict = Verdict(
        failed=code == EXIT_FINDINGS, threshold=summary_threshold(options.fail_on, options.fmt)
    )
    text = render_summary(
        findings,
        verdict=verdict,
        files_scanned=files_scanned,
        link_base=github_io.blob_url(os.environ),
    )
    github_io.write_summary(destination, scrub(text), tree=root)


def summary_threshold(fail_on: Severity | None, fmt: str) -> Severity | None:
    """The threshold the summary's verdict names: `--fail-on`, else error (none for SARIF)."""
    if fail_on is None and fmt != "sarif":
        return Severity.ERROR
    return fail_on


def _fix_paths(paths: Sequence[str], options: ScanOptions, root: str, kind: str | None) -> bool:
    from npm_guard.fix import check_fix, describe, fix_npmrc
    from npm_guard.scan import NPMRC, discover

    notices: list[str] = []
    if kind is None:
        targets = [(t.path, t.display) for t in discover(paths, root, notices) if t.kind == NPMRC]
    elif kind == NPMRC:
        from npm_guard.scan import display_path

        targets = [(p, display_path(p, root)) for p in paths]
    else:
        targets = []
    # Refused for one file (--fix-variable for several registries, a link out of the
    # repository): no file is rewritten.
    for path, display in targets:
        check_fix(path, display, options.fix_variable, root)
    changed = False
    for path, display in targets:
        result = fix_npmrc(path, display, options.fix_variable, root)
        if result.problem:
            print_notice(f"npm-guard: {display}: {result.problem}", options.fmt)
        for line in describe(result):
            print_notice(f"npm-guard: {line}", options.fmt)
        changed = changed or bool(result.replacements)
    return changed


def print_notice(text: str, fmt: str | None = None) -> None:
    """A message on stderr, scrubbed. With `--format github`, and in any format inside
    GitHub Actions, each line is one the runner cannot read as a workflow command:
    messages name files and values from the repository (see `npm_guard.console`)."""
    from npm_guard import console

    console.err(text, fmt=fmt)


def emit_report(
    report: str, output: str | None, fmt: str | None = None, tree: str | None = None
) -> None:
    """The report on stdout, or in `--output FILE`; `fmt` is its format (on stdout the
    `github` format's annotations are the only workflow commands let through).

    `tree` is the repository (default: the current directory): the file is replaced
    atomically, and never written through a symbolic link in it that leads out of it."""
    if output is None:
        from npm_guard import console

        console.write(report, console.STDOUT, fmt=fmt, commands=fmt == "github")
        return
    from npm_guard.atomic_write import replace_file
    from npm_guard.secrets import scrub

    replace_file(output, scrub(report), tree=tree if tree is not None else os.getcwd())


def report_written(path: str, fmt: str, findings: Sequence[Finding]) -> str:
    """What `--output FILE` did, for stderr: the report is no longer on stdout, and the
    exit code alone (0 for SARIF) would not tell that the file holds findings."""
    from npm_guard.report.text import count_phrase

    return f"npm-guard: wrote the {fmt} report ({count_phrase(findings)}) to {path}"


def _cmd_scan(args: argparse.Namespace) -> int:
    return run_scan(args.paths or ["."], options_from(args, step_summary=True))


def _cmd_rules(args: argparse.Namespace) -> int:
    from npm_guard import console
    from npm_guard.rules import all_rules

    for rule in all_rules().values():
        console.out(f"{rule.id:45} {rule.severity.value:8} {rule.summary}")
    return EXIT_CLEAN


def _cmd_action(args: argparse.Namespace) -> int:
    from npm_guard.action import main as action_main

    return action_main()


Command = Callable[[argparse.Namespace], int]


class _VersionAction(argparse.Action):
    """`--version`: version and commit, worked out only when asked (a development
    checkout asks git, which no other run of the CLI or the hooks may wait for)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from npm_guard import console
        from npm_guard.build_info import build_info

        console.out(build_info().describe())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="npm-guard",
        description="Keep npm credentials out of repositories and npm publishing safe.",
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="show the version and the commit it was built from, and exit",
    )
    add_debug_option(parser, help=_DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser(
        "scan",
        help="offline scan of .npmrc and GitHub Actions workflow files",
        description="Scan files and directories (default: the current directory). A "
        "directory in a git work tree contributes the files git tracks plus untracked "
        "files it does not ignore; elsewhere every file. node_modules and .git are skipped.",
    )
    add_scan_options(scan, formats=("text", "json", "sarif", "github"))
    scan.add_argument("paths", nargs="*", metavar="PATH")
    scan.set_defaults(handler=_cmd_scan)

    rules = commands.add_parser("rules", help="list every rule with its default severity")
    rules.set_defaults(handler=_cmd_rules)

    from npm_guard.audit.command import add_audit_commands

    add_audit_commands(commands)  # `audit` and `attest`: the online stage

    # The Action's entry point (action.yml runs `python -m npm_guard action`), left out of
    # `--help` (no `help=`: argparse would list SUPPRESS as text): its input is GitHub's
    # environment, not a person. docs/action.md, "How it runs", describes it.
    action = commands.add_parser(
        "action",
        description="What action.yml runs: reads its inputs from GHA_NPM_GUARD_* "
        "environment variables and writes annotations, $GITHUB_OUTPUT and the job summary. "
        "Not meant to be run by hand; see docs/action.md.",
    )
    action.set_defaults(handler=_cmd_action)
    for command in commands.choices.values():
        add_debug_option(command, default=argparse.SUPPRESS, help=_DEBUG_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(arguments)
    handler: Command | None = getattr(args, "handler", None)
    if handler is None:
        # `npm-guard` alone (top-level options such as --debug aside) does the embedded
        # default: an offline scan of this directory.
        args = parser.parse_args([*arguments, "scan"])
        handler = args.handler
    return guarded(lambda: handler(args), debug=args.debug, fmt=getattr(args, "fmt", None))


def guarded(run: Callable[[], int], *, debug: bool = False, fmt: str | None = None) -> int:
    """Turn expected errors into exit 2 and anything else into exit 3, never leaking secrets
    (`fmt`: the report format, for messages the GitHub runner must not read as commands)."""
    try:
        return run()
    except NpmGuardError as error:
        print_notice(f"npm-guard: error: {error}", fmt)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print_notice("npm-guard: interrupted", fmt)
        return 130
    except Exception as error:  # the last line of defence: exit 3, with a hint
        if debug:
            import traceback

            print_notice(traceback.format_exc(), fmt)
        print_notice(
            f"npm-guard: internal error ({type(error).__name__}); rerun with --debug for details",
            fmt,
        )
        return EXIT_INTERNAL
