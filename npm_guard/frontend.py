"""What every front end shares: argument parsing, rendering an outcome, and errors.

The front ends (the `npm-guard` commands, the pre-commit hooks, the Action) only parse
their inputs, call the engine (`npm_guard.engine`, or the audit's entry point) and show
what it returns; this module is how they show it. A hook imports this module and the
engine, never `npm_guard.cli`, whose parser knows every command.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence

from npm_guard._record import dataclass
from npm_guard.constants import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, REPORT_FORMATS
from npm_guard.errors import NpmGuardError
from npm_guard.findings import Finding, Severity

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from typing import Any

    from npm_guard.engine import ScanOutcome
    from npm_guard.github_io import SummaryDestination

SEVERITY_CHOICES = tuple(s.value for s in Severity)
DEBUG_HELP = "show the traceback of an internal error (audit: every registry request too)"


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
    jobs: int | None = None  # `scan --jobs`: worker processes (None: by the scan's size)


def add_scan_options(parser: argparse.ArgumentParser) -> None:
    """The options the `scan` command and the hooks share."""
    parser.add_argument("--format", dest="fmt", choices=REPORT_FORMATS, default="text")
    add_fail_on_option(parser)
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


def add_fail_on_option(parser: argparse.ArgumentParser) -> None:
    """`--fail-on`, for the scan, the hooks and the audit."""
    parser.add_argument(
        "--fail-on",
        choices=SEVERITY_CHOICES,
        default=None,
        help="lowest severity that makes the exit code 1 (default: error; with "
        "--format sarif the default is to exit 0 once the report is written)",
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


def env_name(name: str, option: str) -> str:
    """`name` when it is an environment variable name, else an error naming `option`."""
    if not name or name[0].isdigit() or not all(c.isalnum() or c == "_" for c in name):
        raise NpmGuardError(
            f"{option}: {name!r} is not an environment variable name "
            f"(letters, digits and _, not starting with a digit)"
        )
    return name


def options_from(args: argparse.Namespace, *, step_summary: bool = False) -> ScanOptions:
    """The options from parsed arguments; `step_summary`: also append the job summary to
    `$GITHUB_STEP_SUMMARY` when that is set (`npm-guard scan`, not the hooks)."""
    if args.fix_variable is not None:
        env_name(args.fix_variable, "--fix-variable")
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
        jobs=getattr(args, "jobs", None),
    )


def run_scan(
    paths: Sequence[str],
    options: ScanOptions,
    *,
    kind: str | None = None,
    dependents_of: Sequence[str] = (),
) -> int:
    """The offline scan as the CLI and the hooks run it: the engine's outcome, rendered
    in `options.fmt`, with notices on stderr; returns the exit code.

    `kind` forces every path to be read as that kind of file (a hook gets exactly the
    files pre-commit matched); without it directories are walked and files classified.
    `dependents_of`: files whose dependent workflows are scanned too (see `ScanRequest`).
    """
    from npm_guard.engine import ScanRequest, scan

    request = ScanRequest(
        paths=list(paths),
        kind=kind,
        policy_file=options.policy,
        no_ignores=options.no_ignores,
        fix=options.fix,
        fix_variable=options.fix_variable,
        fail_on=options.fail_on,
        fmt=options.fmt,
        jobs=options.jobs,
        dependents_of=list(dependents_of),
    )
    outcome = scan(request, notify=lambda notice: print_notice(f"npm-guard: {notice}", options.fmt))
    render_scan(outcome, options)
    return outcome.exit_code


def render_scan(outcome: ScanOutcome, options: ScanOptions) -> None:
    """The report (stdout or `--output`) and the job summary of one scan outcome."""
    from npm_guard.report import render

    summary: SummaryDestination | None = None
    # The hooks write no summary unless asked: they need not import github_io to know.
    if options.summary is not None or options.step_summary:
        from npm_guard.github_io import summary_destination

        summary = summary_destination(
            options.summary, os.environ, step_summary=options.step_summary
        )
    report = render(
        options.fmt,
        outcome.findings,
        files_scanned=outcome.files_scanned,
        summary=summary.name if summary else None,
        suppressed=outcome.suppressed,
    )
    emit_report(report, options.output, options.fmt, outcome.root)
    if options.output is not None:
        print_notice(report_written(options.output, options.fmt, outcome.findings), options.fmt)
    if summary is not None:
        _write_scan_summary(summary, outcome)


def _write_scan_summary(destination: SummaryDestination, outcome: ScanOutcome) -> None:
    """The Markdown job summary, to `--summary FILE` or GitHub's summary file."""
    from npm_guard import github_io
    from npm_guard.report.summary import Verdict, render_summary
    from npm_guard.secrets import scrub

    text = render_summary(
        outcome.findings,
        verdict=Verdict(failed=outcome.failed, threshold=outcome.threshold),
        files_scanned=outcome.files_scanned,
        link_base=github_io.blob_url(os.environ),
    )
    github_io.write_summary(destination, scrub(text), tree=outcome.root)


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
        return EXIT_INTERRUPTED
    except Exception as error:  # the last line of defence: exit 3, with a hint
        if debug:
            import traceback

            print_notice(traceback.format_exc(), fmt)
        print_notice(
            f"npm-guard: internal error ({type(error).__name__}); rerun with --debug for details",
            fmt,
        )
        return EXIT_INTERNAL
