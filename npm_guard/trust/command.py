"""The `npm-guard trust` command line: parse, plan, render, exit 0 / 1 / 2."""

from __future__ import annotations

import argparse
from typing import Any

from npm_guard.constants import EXIT_CLEAN, EXIT_FINDINGS

FORMATS = ("text", "json", "markdown")


def add_trust_command(commands: Any) -> None:
    """Add `trust` to the CLI's sub-command parsers."""
    trust = commands.add_parser(
        "trust",
        help="plan the move of token-based publishes to trusted publishing (OIDC)",
        description="Plan the move of every publish that authenticates with a long-lived "
        "npm token to trusted publishing: the packages, the `npm trust github` command for "
        "each, the prerequisites, the workflow edits (a unified diff) and the steps after "
        "merging. Nothing is written without --write. Exit 0: nothing to migrate; 1: the "
        "plan has steps; 2: bad input. See docs/trust.md.",
    )
    trust.add_argument(
        "--write",
        action="store_true",
        help="apply the workflow edits in place (files that cannot be edited safely are "
        "refused with the reason; the others are edited)",
    )
    trust.add_argument("--format", dest="fmt", choices=FORMATS, default="text")
    trust.add_argument(
        "--repository",
        metavar="OWNER/REPO",
        help="the GitHub repository the trusted publisher names (default: "
        "$GITHUB_REPOSITORY, else the origin remote)",
    )
    trust.add_argument("paths", nargs="*", metavar="PATH")
    trust.set_defaults(handler=run_trust)


def run_trust(args: argparse.Namespace) -> int:
    from npm_guard import console
    from npm_guard.trust.render import render_json, render_markdown, render_text
    from npm_guard.trust.run import make_plan

    plan = make_plan(args.paths or ["."], repository=args.repository, write=args.write)
    if args.fmt == "json":
        report = render_json(plan)
    elif args.fmt == "markdown":
        report = render_markdown(plan)
    else:
        report = render_text(plan)
    console.write(report, console.STDOUT)
    for path in plan.written:
        console.err(f"npm-guard: wrote {path}")
    return EXIT_FINDINGS if plan.has_steps else EXIT_CLEAN
