"""The release tools that publish: semantic-release, changesets, lerna, release-it, nx
release and monodeploy, read the way each parses its words."""

from __future__ import annotations

from npm_guard._record import replace
from npm_guard.workflow.arguments import is_dry_run, parse_arguments
from npm_guard.workflow.follow_scripts import MAX_SCRIPT_DEPTH, run_package_script
from npm_guard.workflow.model import DependencyCode
from npm_guard.workflow.package_managers import (
    NPM_VALUE_FLAGS,
    TOOL_READS,
    record_publish,
    yarn_reads,
)
from npm_guard.workflow.package_scripts import Selection
from npm_guard.workflow.shell_bash import read_nested

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.context import CommandContext
    from npm_guard.workflow.expressions import ValueSource
    from npm_guard.workflow.positions import Span
    from npm_guard.workflow.shell_words import Command, Word


def release_tool_command(
    name: str,
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
) -> None:
    """semantic-release, changesets, lerna, release-it, nx release and monodeploy: which
    ones publish; `lerna exec` / `lerna run` read what they run in each package."""
    if name == "lerna":
        _lerna_command(args, span, command, ctx, extra_env)
        return
    parsed = parse_arguments(args, NPM_VALUE_FLAGS)
    positionals = [w.text for w in parsed.positionals]
    if is_dry_run(parsed.flags) or ("--no-ci" in parsed.flags and name == "semantic-release"):
        return
    if name == "semantic-release":
        record_publish(ctx, span, "semantic-release", reads=TOOL_READS)
    elif name in ("changeset", "changesets") and positionals[:1] == ["publish"]:
        # It runs npm / pnpm / yarn publish and has no token code of its own
        # (@changesets/cli 2.31.1 getPublishTool; 3.0.3 getPublishPlan.mjs): what reads
        # NPM_TOKEN is changesets/action v1, which writes it into ~/.npmrc.
        record_publish(ctx, span, "changeset publish")
    elif name == "monodeploy" and "--no-registry" not in parsed.flags:
        # Publishes through Yarn Berry's npm plugin, with Yarn's npmAuthToken.
        record_publish(ctx, span, "monodeploy", reads=yarn_reads(ctx))
    elif name == "release-it":
        record_publish(ctx, span, "release-it", reads=TOOL_READS)
    elif (
        name == "nx"
        and positionals[:1] == ["release"]
        and (positionals[1:2] in (["publish"], []) and "--skip-publish" not in parsed.flags)
    ):
        record_publish(ctx, span, "nx release" + (" publish" if positionals[1:2] else ""))


_LERNA_VALUE_FLAGS = frozenset(
    {"--scope", "--ignore", "--concurrency", "--since", "--loglevel", "--npm-client"}
)


def _lerna_command(
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
) -> None:
    """`lerna publish`, `lerna exec -- <command>` and `lerna run <script>`.

    `lerna exec` joins the command and its arguments and runs them with a shell in each
    package's directory (lerna 10.1.3 `dist/chunk-BG6OARM2.js` 31-43, 87-88), so the
    command is read as a script of its own; which package it runs in is not known here.
    `lerna run <script>` runs that package.json script in every workspace package.
    """
    parsed = parse_arguments(args, _LERNA_VALUE_FLAGS)
    positionals = parsed.positionals
    sub = positionals[0].text if positionals else ""
    if sub == "publish":
        if not is_dry_run(parsed.flags):
            record_publish(ctx, span, "lerna publish")
    elif sub == "exec":
        words = [*positionals[1:], *parsed.rest]
        if not words or ctx.depth >= MAX_SCRIPT_DEPTH:
            return
        text = " ".join(w.text for w in words)
        nested = replace(ctx.nested(span, "lerna exec"), cwd=None)
        ctx.dispatch.commands(read_nested(text, 0, ctx.depth + 1), nested)
    elif sub == "run" and len(positionals) > 1:
        script = positionals[1].text
        ctx.facts.dependency_code.append(DependencyCode(span, "lerna run", False))
        run_package_script(
            script,
            f"lerna run {script}",
            span,
            ctx,
            Selection(all_workspaces=True),
            pre_post=True,
            arguments=parsed.rest,
        )
