"""The `npm-guard` command line: its parser, and one front end per command.

`scan` runs the engine (`npm_guard.engine`) and renders its outcome
(`npm_guard.frontend`); `init` is `npm_guard.init.command`'s; `audit` and `attest` are
`npm_guard.audit.command`'s; `trust` is `npm_guard.trust.command`'s; `action` is the
Action's program (`npm_guard.action`). Exit codes are `npm_guard.constants`'.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from npm_guard.constants import EXIT_CLEAN
from npm_guard.frontend import (
    DEBUG_HELP,
    Parser,
    add_debug_option,
    add_scan_options,
    guarded,
    options_from,
    run_scan,
)


def _cmd_scan(args: argparse.Namespace) -> int:
    return run_scan(args.paths or ["."], options_from(args, step_summary=True))


def _cmd_rules(args: argparse.Namespace) -> int:
    from npm_guard import console
    from npm_guard.rules import all_rules

    for rule in all_rules().values():
        console.out(f"{rule.id:45} {rule.severity.value:8} {rule.summary}")
    return EXIT_CLEAN


def _cmd_init(args: argparse.Namespace) -> int:
    from npm_guard.init.command import run_init

    return run_init(args.path, write=args.write)


def _cmd_action(args: argparse.Namespace) -> int:
    from npm_guard.action import main as action_main

    return action_main()


def _job_count(text: str) -> int:
    """`--jobs`: a whole number of processes, 0 for every available core."""
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes (0 or more)")
    return count


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
    add_debug_option(parser, help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = commands.add_parser(
        "scan",
        help="offline scan of .npmrc and GitHub Actions workflow files",
        description="Scan files and directories (default: the current directory). A "
        "directory in a git work tree contributes the files git tracks plus untracked "
        "files it does not ignore; elsewhere every file. node_modules and .git are skipped.",
    )
    add_scan_options(scan)
    scan.add_argument(
        "--jobs",
        "-j",
        type=_job_count,
        default=None,
        metavar="N",
        help="worker processes that analyse files (default: every available core once "
        "a scan has 300 or more .npmrc and workflow files, else one; 0: every core)",
    )
    scan.add_argument("paths", nargs="*", metavar="PATH")
    scan.set_defaults(handler=_cmd_scan)

    rules = commands.add_parser("rules", help="list every rule with its default severity")
    rules.set_defaults(handler=_cmd_rules)

    init = commands.add_parser(
        "init",
        help="set a repository up: pre-commit hooks, the workflow, a starter policy",
        description="Add npm-guard's pre-commit hooks to .pre-commit-config.yaml, the "
        "pull-request scan and weekly audit workflow, and a starter .npm-guard.yml built "
        "from the repository's packages and workflows, each pinned to this npm-guard. "
        "Without --write, print what would change as a diff. Exit 0: nothing to do; "
        "1: something would change, or the existing policy lacks entries; 2: a file "
        "could not be handled.",
    )
    init.add_argument("--write", action="store_true", help="write the files")
    init.add_argument(
        "path",
        nargs="?",
        default=".",
        metavar="PATH",
        help="the repository (default: the one the current directory is in)",
    )
    init.set_defaults(handler=_cmd_init)

    from npm_guard.audit.command import add_audit_commands

    add_audit_commands(commands)  # `audit` and `attest`: the online stage

    from npm_guard.trust.command import add_trust_command

    add_trust_command(commands)  # `trust`: plan (and make) the move to trusted publishing

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
        add_debug_option(command, default=argparse.SUPPRESS, help=DEBUG_HELP)
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
