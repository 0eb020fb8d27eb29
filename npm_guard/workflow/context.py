"""What a command is read with: its step, where it runs, how it was reached.

Reading a command can mean reading others (`bash -c '…'`, `npx tool`, `npm run x` whose
package.json script runs more): the readers of those call back through the context's
`Dispatch` instead of importing the step driver, so the modules do not import each
other in a circle.
"""

from __future__ import annotations

import posixpath
import re

from npm_guard._record import dataclass, field, replace
from npm_guard.workflow.shell_words import EXPR, PARAM, Command, Word

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Protocol

    from npm_guard.workflow.consulted import ConsultedFiles
    from npm_guard.workflow.expressions import ValueSource
    from npm_guard.workflow.model import Job, RunBlock, Step, StepFacts, Workflow
    from npm_guard.workflow.positions import Span

    ReadCommands = Callable[[list[Command], "CommandContext"], None]

    class ReadCommand(Protocol):
        def __call__(
            self,
            words: list[Word],
            command: Command,
            ctx: CommandContext,
            extra_env: dict[str, ValueSource],
            *,
            span: Span | None = None,
        ) -> None: ...


class Dispatch:
    """The step driver's two ways in, for readers of nested commands: a list of
    commands (`commands(commands, ctx)`), or one command's words
    (`command(words, command, ctx, extra_env, span=None)`)."""

    __slots__ = ("command", "commands")

    def __init__(self, commands: ReadCommands, command: ReadCommand) -> None:
        self.commands = commands
        self.command = command


@dataclass(eq=False, repr=False)
class CommandContext:
    """What a command is read with: its step, where it runs, how it was reached."""

    workflow: Workflow
    job: Job
    step: Step
    run: RunBlock | None
    facts: StepFacts
    cwd: str | None  # workspace-relative directory, None when outside the workspace
    location: str  # "workspace", "home", "temp", "other", "unknown"
    registry: str | None
    env: dict[str, ValueSource]
    dispatch: Dispatch
    consulted: ConsultedFiles  # the repository files the workflow makes the engine read
    span_override: Span | None = None
    via: tuple[str, ...] = ()
    depth: int = 0
    seen_scripts: set[tuple[str, str]] = field(default_factory=set)
    # Scripts already read for this step, with everything their reading depends on: a
    # script that runs another twelve times, which runs another twelve times…, is read
    # once per context, not 12^depth times. Shared by every context of the step.
    read_scripts: set[tuple[object, ...]] = field(default_factory=set)
    # Where actions/checkout put this repository, relative to the workspace (`path:`).
    checkout: str = "."
    # Set while reading commands found in a JavaScript file's text: what a publish found
    # there is presumed from (see Publish.inferred).
    inferred: str = ""

    def in_repository(self, path: str = ".") -> str | None:
        """`path` (relative to the current directory) as a path inside the repository,
        or None when it is outside it (or the current directory is unknown)."""
        if self.cwd is None:
            return None
        joined = posixpath.normpath(posixpath.join(self.cwd, path))
        if self.checkout != ".":
            if joined == self.checkout:
                return "."
            if not joined.startswith(self.checkout + "/"):
                return None
            joined = joined[len(self.checkout) + 1 :]
        if joined == ".." or joined.startswith(("../", "/")):
            return None
        return joined

    def from_repository(self, path: str) -> str:
        """A path inside the repository as a path relative to the workspace."""
        return posixpath.normpath(posixpath.join(self.checkout, path))

    def span(self, start: int, end: int | None = None) -> Span:
        if self.span_override is not None:
            return self.span_override
        assert self.run is not None
        return self.run.span(start, end)

    def nested(self, span: Span, via: str) -> CommandContext:
        return replace(
            self,
            span_override=self.span_override or span,
            via=(*self.via, via),
            depth=self.depth + 1,
        )


def path_location(word: Word, ctx: CommandContext) -> str:
    """Where a path points: the workspace, the home directory, a temp directory…"""
    first = word.parts[0] if word.parts else None
    if first is None:
        return ctx.location
    if first.kind == PARAM:
        name = first.text.upper()
        if name == "HOME":
            return "home"
        if name in ("RUNNER_TEMP", "TMPDIR", "TEMP", "TMP"):
            return "temp"
        if name == "GITHUB_WORKSPACE":
            return "workspace"
        if name == "NPM_CONFIG_USERCONFIG":
            return "user-config"
        return "unknown"
    if first.kind == EXPR:
        body = first.text.replace(" ", "")
        if body.startswith("runner.temp"):
            return "temp"
        if body.startswith("github.workspace"):
            return "workspace"
        return "unknown"
    text = word.text
    if text.startswith("~"):
        return "home"
    if text.startswith(("/tmp/", "/tmp")) and (len(text) == 4 or text[4:5] in ("/", "")):
        return "temp"
    if text.startswith(("/home/runner/work/", "/github/workspace", "D:\\a\\", "D:/a/")):
        return "workspace"
    if text.startswith("/") or re.match(r"[A-Za-z]:[\\/]", text):
        return "other"
    if text.startswith(".."):
        return "unknown" if ctx.location == "workspace" else ctx.location
    return ctx.location
