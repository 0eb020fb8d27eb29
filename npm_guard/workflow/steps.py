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

from npm_guard._record import replace
from npm_guard.workflow.arguments import program_name
from npm_guard.workflow.context import CommandContext, Dispatch, path_location
from npm_guard.workflow.credential_flow import (
    credential_flow,
    is_npm_credential_value,
    lifetime_of,
)
from npm_guard.workflow.expressions import ValueSource, secret_references, value_source
from npm_guard.workflow.follow_scripts import shell_script
from npm_guard.workflow.js_scripts import JS_RUNNERS, run_js_file, runs_file
from npm_guard.workflow.known_actions import (
    KNOWN_ACTIONS,
    SETUP_NODE_REFERENCE,
    UNTRUSTED_REF_RE,
    analyze_uses,
    changesets_fallback,
    changesets_reads,
    changesets_script,
    checkout_target,
    presumed_action_publish,
    presumed_call_publish,
)
from npm_guard.workflow.model import (
    LITERAL,
    PROVIDED,
    STORED,
    InlineSecret,
    Job,
    Step,
    Workflow,
)
from npm_guard.workflow.package_managers import (
    bun_command,
    exec_package,
    npm_command,
    pnpm_command,
    yarn_command,
)
from npm_guard.workflow.release_tools import release_tool_command
from npm_guard.workflow.script_writes import analyze_writes
from npm_guard.workflow.shell import read_script
from npm_guard.workflow.shell_bash import read_nested
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
        # Where this repository is in the workspace. While another repository is checked
        # out at the workspace root, what a step there runs is that one's: it cannot be
        # read, and this repository's file of the same path stands in for it (such a
        # repository is mostly derived from this one: a fork, `…-upgradeable`).
        checkout, this_checkout, other_at_root = ".", ".", False
        if job.uses is not None and not job.uses.startswith("./"):
            handed = [s.name for s in job.call_secrets if _hands_token(s.name, s.source)]
            if handed:
                job.call_publishes.append(presumed_call_publish(job, handed))
        for step in job.steps:
            _analyze_step(workflow, job, step, registry, dispatch, consulted, checkout)
            target = checkout_target(step)
            if target is not None:
                this, directory = target
                if this:
                    this_checkout = directory
                elif directory == ".":
                    other_at_root = True
                checkout = "." if other_at_root else this_checkout
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
    checkout: str,
) -> None:
    facts = step.facts
    action = step.action
    if action is not None:
        analyze_uses(step, action, registry)
        if action == "changesets/action":
            _changesets_action(step, registry, dispatch, consulted, checkout)
        elif not facts.publishes and step.third_party_action and action not in KNOWN_ACTIONS:
            inputs = [i for i in step.inputs.values() if _hands_token(i.name, i.source)]
            handed = [e.name for e in step.env if _hands_token(e.name, e.source)]
            handed += [i.name for i in inputs]
            if handed:
                token_input = inputs[0] if inputs else None
                facts.publishes.append(presumed_action_publish(step, handed, token_input, registry))
    if step.run is None:
        return
    ctx = CommandContext(
        workflow,
        job,
        step,
        step.run,
        facts,
        posixpath.normpath(step.working_directory),
        "workspace",
        registry,
        step.env_sources(),
        dispatch,
        consulted,
        checkout=checkout,
    )
    for name, start, end in secret_references(step.run.text):
        facts.inline_secrets.append(InlineSecret(name, step.run.span(start, end)))
    analyze_commands(step.run.script.commands, ctx)
    if facts.config_deletes:
        deleted = set(facts.config_deletes)
        facts.config_writes = [
            replace(w, removed_by_step=True)
            if w.setting in deleted and w.location in ("user-config", "global")
            else w
            for w in facts.config_writes
        ]


def _hands_token(name: str, source: ValueSource) -> bool:
    """An env entry, input or secret that hands over a long-lived npm credential."""
    return is_npm_credential_value(name, source) and lifetime_of(source) in (STORED, PROVIDED)


def _changesets_action(
    step: Step,
    registry: str | None,
    dispatch: Dispatch,
    consulted: ConsultedFiles,
    checkout: str,
) -> None:
    """changesets/action runs its publish script in its `cwd` (default: the workspace);
    the script is read like a `run:` (so `pnpm release` is followed into package.json),
    and when it cannot be followed the input itself is the publish."""
    found = changesets_script(step)
    if found is None:
        return
    given, v2 = found
    cwd = step.inputs.get("cwd")
    directory = cwd.text.strip() if cwd is not None and cwd.text.strip() else "."
    ctx = CommandContext(
        step.job.workflow,
        step.job,
        step,
        None,
        step.facts,
        posixpath.normpath(directory),
        "workspace",
        registry,
        step.env_sources(),
        dispatch,
        consulted,
        span_override=given.span,
        via=("changesets/action",),
        depth=1,
        checkout=checkout,
    )
    before = len(step.facts.publishes)
    analyze_commands(read_script(given.text).commands, ctx)
    followed = step.facts.publishes[before:]
    if not followed:
        step.facts.publishes.append(changesets_fallback(step, given, v2, registry))
        return
    action_reads = changesets_reads(v2)
    for index, publish in enumerate(followed, start=before):
        if publish.reads is not None and action_reads:
            step.facts.publishes[index] = replace(publish, reads=publish.reads | action_reads)


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
    if name == "trap" and len(words) > 2 and len(words[1].parts) == 1 and words[1].literal:
        # `trap '…' EXIT`: the handler runs when the script ends; read it as its commands.
        part = words[1].parts[0]
        base = part.start + (1 if part.quote in ("'", '"') else 0)
        analyze_commands(read_nested(part.text, base, ctx.depth + 1), ctx)
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
    elif name in ("npx", "bunx", "pnpx", "pnx"):
        exec_package(args, span, command, ctx, extra_env, name)
    elif name in ("yarn", "yarnpkg"):
        yarn_command(args, span, command, ctx, extra_env)
    elif name in ("pnpm", "pn"):  # `pn`: the short name pnpm >= 11 installs for itself
        pnpm_command(args, span, command, ctx, extra_env)
    elif name == "corepack":
        _corepack_command(args, span, command, ctx, extra_env)
    elif name == "bun" and not runs_file(args):
        bun_command(args, span, command, ctx, extra_env)
    elif name in JS_RUNNERS or name == "bun":
        run_js_file(name, args, span, command, ctx, extra_env)
    elif name in ("bash", "sh", "zsh", "dash", "source", ".", "eval") or (
        name.endswith(".sh") and words[0].literal is not None
    ):
        shell_script(name, words, span, ctx)
    elif name in ("gh", "git"):
        _checkout_command(name, args, span, ctx)
    else:
        release_tool_command(name, args, span, command, ctx, extra_env)


def _corepack_command(
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
) -> None:
    """`corepack pnpm publish`, `corepack yarn@4 npm publish`: the package manager named
    (with an optional `@version`) runs with the rest of the words."""
    if not args or args[0].literal is None:
        return
    tool = args[0].literal.split("@", 1)[0]
    if tool not in ("npm", "npx", "pnpm", "pnpx", "yarn", "yarnpkg"):
        return  # corepack's own commands: enable, prepare, use, install, …
    first = Word([Part(LIT, tool, args[0].start, args[0].end)], args[0].start, args[0].end)
    classify([first, *args[1:]], command, ctx, extra_env, span=span)


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
