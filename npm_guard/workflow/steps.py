"""Reading each step: from its `uses:` and `run:` to the facts the rules ask about.

For each step: what a known action does; then each command of its script, in order,
with the shell's own bookkeeping (assignments, `export`, `cd`, PowerShell's
`$env:X = …`), wrappers stripped (`sudo`, `env A=1`, `time`, …), what it writes, and
what its program does, read by the reader of that program (package managers, release
tools, shells, `git`/`gh`). Then the credential flow.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from npm_guard.workflow.arguments import program_name
from npm_guard.workflow.context import CommandContext, Dispatch, path_location
from npm_guard.workflow.credential_flow import credential_flow, is_npm_credential_value
from npm_guard.workflow.expressions import ValueSource, secret_references, value_source
from npm_guard.workflow.follow_scripts import shell_script
from npm_guard.workflow.known_actions import (
    SETUP_NODE_REFERENCE,
    UNTRUSTED_REF_RE,
    analyze_uses,
)
from npm_guard.workflow.model import LITERAL, InlineSecret, Job, Step, Workflow
from npm_guard.workflow.package_managers import (
    bun_command,
    exec_package,
    npm_command,
    pnpm_command,
    release_tool_command,
    yarn_command,
)
from npm_guard.workflow.script_writes import analyze_writes
from npm_guard.workflow.shell_words import LIT, PARAM, Command, Part, Word
from npm_guard.workflow.toolchain import assess_publishes

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.consulted import ConsultedFiles
    from npm_guard.workflow.positions import Span


_WRAPPERS = frozenset({"sudo", "env", "time", "nice", "nohup", "command", "exec", "timeout"})

_WRAPPER_VALUE_FLAGS = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"},
    "env": {"-u", "-C", "-S", "--unset", "--chdir"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "nice": {"-n", "--adjustment"},
}


def analyze_workflow(workflow: Workflow, consulted: ConsultedFiles) -> None:
    """Fill every step's facts, then the credential flow; repository files are read
    through `consulted` only."""
    dispatch = Dispatch(analyze_commands, classify)  # the way back here from nested readers
    for job in workflow.jobs:
        registry: str | None = None
        references: set[str] = set(workflow.npmrc_variables)
        for step in job.steps:
            _analyze_step(workflow, job, step, registry, dispatch, consulted)
            if workflow.npmrc_unread is not None and step.facts.publishes:
                publish = step.facts.publishes[0]
                consulted.remember(
                    ".npmrc",
                    workflow.npmrc_unread,
                    publish.span,
                    f"to know which variables `{publish.command}` reads",
                )
            registry = step.facts.sets_registry or registry
            references.update(step.facts.npmrc_references)
            if step.facts.sets_registry:
                references.add(SETUP_NODE_REFERENCE)
            step.facts.npmrc_references = frozenset(references)
    assess_publishes(workflow, consulted)
    credential_flow(workflow)
    workflow.literals = _literal_values(workflow)


def _literal_values(workflow: Workflow) -> frozenset[str]:
    """Every literal credential the file holds, so that no label can quote one."""
    from npm_guard.secrets import find_tokens

    values = {c.source.literal for c in workflow.credentials if c.lifetime == LITERAL}
    values.update(w.literal for s in workflow.steps() for w in s.facts.config_writes)
    values.update(t.value for t in find_tokens(workflow.loaded.text, uuids=True))
    return frozenset(v for v in values if len(v) >= 4)


def _analyze_step(
    workflow: Workflow,
    job: Job,
    step: Step,
    registry: str | None,
    dispatch: Dispatch,
    consulted: ConsultedFiles,
) -> None:
    facts = step.facts
    action = step.action
    if action is not None:
        analyze_uses(step, action, registry)
    if step.run is None:
        return
    ctx = CommandContext(
        workflow,
        job,
        step,
        step.run,
        facts,
        step.working_directory,
        "workspace",
        registry,
        step.env_sources(),
        dispatch,
        consulted,
    )
    for name, start, end in secret_references(step.run.text):
        facts.inline_secrets.append(InlineSecret(name, step.run.span(start, end)))
    analyze_commands(step.run.script.commands, ctx)


def analyze_commands(commands: list[Command], ctx: CommandContext) -> None:
    """Read each command, in order, with `ctx` (shared: `cd` and assignments carry on)."""
    for command in commands:
        _analyze_command(command, ctx)


def _analyze_command(command: Command, ctx: CommandContext) -> None:
    if command.assignments and not command.words:
        _record_assignments(command.assignments, ctx)
    words, assignments = _unwrap(command.words)
    if assignments or command.assignments:
        _record_assignments([*command.assignments, *assignments], ctx)
    if ctx.run is not None and ctx.run.shell == "pwsh":
        _pwsh_env_assignment(command, ctx)
    analyze_writes(command, words, ctx)
    if not words:
        return
    name = program_name(words[0])
    if name == "export" and ctx.depth == 0:
        for word in words[1:]:
            match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=", word.text)
            if match:
                _record_assignments([(match.group(1), _strip_prefix(word, match.end()))], ctx)
        return
    if name in ("cd", "pushd") and command.substitution_depth == 0:
        _change_directory(words[1:], ctx)
        return
    extra_env = {n: _word_source(w) for n, w in [*command.assignments, *assignments]}
    classify(words, command, ctx, extra_env)


def _strip_prefix(word: Word, length: int) -> Word:
    first = word.parts[0]
    return Word(
        [
            Part(LIT, first.text[length:], first.start + length, first.end, first.quote),
            *word.parts[1:],
        ],
        first.start + length,
        word.end,
    )


def _word_source(word: Word) -> ValueSource:
    return value_source(word.text)


def _record_assignments(assignments: Sequence[tuple[str, Word]], ctx: CommandContext) -> None:
    for name, value in assignments:
        source = _word_source(value)
        ctx.env[name] = source
        if ctx.depth == 0 and is_npm_credential_value(name, source):
            ctx.facts.script_credentials.append((name, ctx.span(value.start, value.end), source))


def _pwsh_env_assignment(command: Command, ctx: CommandContext) -> None:
    words = command.words
    if len(words) >= 3 and words[1].text == "=" and words[0].parts[0].kind == PARAM:
        name = words[0].parts[0].text
        source = _word_source(words[2])
        ctx.env[name] = source
        if is_npm_credential_value(name, source):
            ctx.facts.script_credentials.append(
                (name, ctx.span(words[0].start, words[2].end), source)
            )


def _change_directory(args: list[Word], ctx: CommandContext) -> None:
    target = next((w for w in args if not w.text.startswith("-")), None)
    if target is None:
        ctx.location, ctx.cwd = "home", None
        return
    location = path_location(target, ctx)
    literal = target.literal
    if location == "workspace" and literal is not None and not literal.startswith("/"):
        base = ctx.cwd if ctx.cwd is not None else "."
        joined = posixpath.normpath(posixpath.join(base, literal))
        ctx.cwd = None if joined.startswith("..") else joined
    elif location != "workspace":
        ctx.cwd = None
    ctx.location = location


def classify(
    words: list[Word],
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
    *,
    span: Span | None = None,
) -> None:
    """Send a command's words to the reader of its program."""
    name = program_name(words[0])
    if span is None:
        span = ctx.span(words[0].start, words[-1].end)
    args = words[1:]
    if name in ("npm", "npm-cli"):
        npm_command(args, span, command, ctx, extra_env)
    elif name == "npx":
        exec_package(args, span, command, ctx, extra_env, "npx")
    elif name == "bunx":
        exec_package(args, span, command, ctx, extra_env, "bunx")
    elif name == "yarn":
        yarn_command(args, span, command, ctx, extra_env)
    elif name == "pnpm":
        pnpm_command(args, span, command, ctx, extra_env)
    elif name == "bun":
        bun_command(args, span, command, ctx, extra_env)
    elif name in ("bash", "sh", "zsh", "dash", "source", ".", "eval") or (
        name.endswith(".sh") and words[0].literal is not None
    ):
        shell_script(name, words, span, ctx)
    elif name in ("gh", "git"):
        _checkout_command(name, args, span, ctx)
    else:
        release_tool_command(name, args, span, ctx)


def _unwrap(words: list[Word]) -> tuple[list[Word], list[tuple[str, Word]]]:
    """Strip `sudo`, `env A=1`, `time`, … in front of the real command."""
    assignments: list[tuple[str, Word]] = []
    guard = 0
    while words and guard < 8:
        guard += 1
        name = program_name(words[0])
        if name not in _WRAPPERS:
            break
        value_flags = _WRAPPER_VALUE_FLAGS.get(name, set())
        index = 1
        while index < len(words):
            text = words[index].literal
            if text is None:
                break
            if name == "env":
                match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=", text)
                if match:
                    parts = words[index].parts
                    first = parts[0]
                    value = Word(
                        [
                            Part(
                                LIT,
                                first.text[match.end() :],
                                first.start + match.end(),
                                first.end,
                                first.quote,
                            ),
                            *parts[1:],
                        ],
                        first.start + match.end(),
                        words[index].end,
                    )
                    assignments.append((match.group(1), value))
                    index += 1
                    continue
            if text.startswith("-"):
                index += 2 if text in value_flags else 1
                continue
            if name == "timeout" and re.fullmatch(r"[0-9.]+[smhd]?", text):
                index += 1
            break
        words = words[index:]
    return words, assignments


def _checkout_command(name: str, args: list[Word], span: Span, ctx: CommandContext) -> None:
    texts = [w.text for w in args]
    if name == "gh" and texts[:2] == ["pr", "checkout"]:
        ctx.facts.untrusted_checkout = ctx.facts.untrusted_checkout or span
    elif name == "git" and texts[:1] in (["fetch"], ["checkout"], ["switch"], ["pull"]):
        joined = " ".join(texts[1:])
        if "pull/" in joined or UNTRUSTED_REF_RE.search(joined):
            ctx.facts.untrusted_checkout = ctx.facts.untrusted_checkout or span
