"""From steps to facts, and from facts to the credential flow.

For each step: which commands publish (npm/pnpm/yarn/bun publish, `npm stage publish`,
release tools, `npm run <script>` resolved through package.json, local shell scripts,
`bash -c`, and the known release actions), which run `npm token create` and with what
flags, which write npm auth settings (heredocs, `echo`/`printf`/`tee`, PowerShell
`Out-File`/`Set-Content`, `npm config set`) and where, which export variables to
`$GITHUB_ENV`, which run code from the registry (installs with lifecycle scripts,
`npx`, scripts), which check out a pull request's code.

Then the credential flow: every npm credential the workflow hands out and, for each
step, the ones it can see (env of the workflow, job and step with overrides, `with:`
inputs, `${{ secrets.X }}` in the script, exports and `.npmrc` files of earlier steps).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from npm_guard.workflow.arguments import program_name
from npm_guard.workflow.context import CommandContext, Dispatch, path_location
from npm_guard.workflow.expressions import (
    ValueSource,
    is_credential_name,
    is_placeholder_literal,
    secret_references,
    value_source,
)
from npm_guard.workflow.follow_scripts import shell_script
from npm_guard.workflow.known_actions import (
    SETUP_NODE_REFERENCE,
    UNTRUSTED_REF_RE,
    analyze_uses,
    token_input_of,
)
from npm_guard.workflow.model import (
    EPHEMERAL,
    LITERAL,
    PROVIDED,
    STORED,
    ConfigWrite,
    EnvEntry,
    EnvExport,
    InlineSecret,
    Input,
    Job,
    NpmCredential,
    Step,
    Workflow,
)
from npm_guard.workflow.package_managers import (
    bun_command,
    exec_package,
    npm_command,
    pnpm_command,
    release_tool_command,
    yarn_command,
)
from npm_guard.workflow.positions import node_span
from npm_guard.workflow.script_writes import analyze_writes
from npm_guard.workflow.shell import LIT, PARAM, Command, Part, Word

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.positions import Span


def lifetime_of(source: ValueSource) -> str | None:
    """How long-lived a credential value is; None when it holds none (empty, dummy)."""
    if source.secrets or source.all_secrets or source.variables:
        return STORED
    if source.github_token:
        return EPHEMERAL
    if source.inputs or source.other_context or source.env:
        return PROVIDED
    literal = source.literal
    if not literal or is_placeholder_literal(literal) or "$" in literal or "%" in literal:
        return None
    return LITERAL


def origin_of(source: ValueSource) -> str:
    if source.secrets:
        return ", ".join(f"secret {name}" for name in source.secrets)
    if source.all_secrets:
        return "every secret, via toJSON(secrets)"
    if source.variables:
        return ", ".join(f"variable vars.{name}" for name in source.variables)
    if source.github_token:
        return "the job's GITHUB_TOKEN"
    if source.inputs:
        return ", ".join(f"input {name}" for name in source.inputs)
    if source.env:
        return ", ".join(f"env.{name}" for name in source.env)
    if source.other_context:
        return "an expression"
    return "a literal value"


def is_npm_credential_value(name: str, source: ValueSource) -> bool:
    """An env var or input that carries an npm credential: by its name or its secret."""
    return is_credential_name(name) or bool(source.npm_secrets) or source.all_secrets


def credential_flow(workflow: Workflow) -> None:
    everything: list[NpmCredential] = []
    workflow_entries = {entry.name: entry for entry in workflow.env}
    workflow_creds: dict[str, NpmCredential] = {}
    for entry in workflow.env:
        cred = _env_credential(entry, None, None, {})
        if cred is not None:
            workflow_creds[entry.name] = cred
            everything.append(cred)
    for job in workflow.jobs:
        outer = dict(workflow_entries)
        job_creds: dict[str, NpmCredential] = {}
        for entry in job.env:
            cred = _env_credential(entry, job, None, workflow_entries)
            if cred is not None:
                job_creds[entry.name] = cred
                everything.append(cred)
            outer[entry.name] = entry
        if job.uses is not None:
            everything.extend(_call_credentials(job))
        later: dict[str, NpmCredential] = {}
        for step in job.steps:
            visible: dict[str, NpmCredential] = {}
            for name, cred in workflow_creds.items():
                if not any(e.name == name for e in job.env):
                    visible[name] = cred
            visible.update(job_creds)
            for name, cred in later.items():
                visible.setdefault(name, cred)
            for entry in step.env:
                visible.pop(entry.name, None)
                cred = _env_credential(entry, job, step, outer)
                if cred is not None:
                    visible[entry.name] = cred
                    everything.append(cred)
            for given in step.inputs.values():
                cred = _input_credential(step, given)
                if cred is not None:
                    visible[f"with:{given.name}"] = cred
                    everything.append(cred)
            for cred in _script_credentials(step):
                visible[f"run:{cred.name}"] = cred
                everything.append(cred)
            step.credentials = list(visible.values())
            view = step.env_sources()
            for export in step.facts.env_exports:
                cred = _export_credential(step, export, view)
                later[export.name] = cred
                everything.append(cred)
            for write in step.facts.config_writes:
                if write.holds_runtime_secret:
                    cred = _npmrc_credential(step, write, view)
                    later[f"npmrc:{write.target}:{write.setting}"] = cred
                    everything.append(cred)
    workflow.credentials = everything


def _env_credential(
    entry: EnvEntry, job: Job | None, step: Step | None, outer: dict[str, EnvEntry]
) -> NpmCredential | None:
    source = entry.source
    credential = is_npm_credential_value(entry.name, source)
    if source.env and not (source.secrets or source.variables or source.github_token):
        # `${{ env.X }}`: the value is X's. A literal X stays reported where it is written.
        referenced = [outer[name] for name in source.env if name in outer]
        if referenced:
            merged = referenced[0].source
            if is_npm_credential_value(referenced[0].name, merged):
                credential = True
            if lifetime_of(merged) not in (None, LITERAL):
                source = merged
    if not credential:
        return None
    lifetime = lifetime_of(source)
    if lifetime is None:
        return None
    owner = step.key if step is not None else job.key if job is not None else "workflow"
    return NpmCredential(
        name=entry.name,
        via="env",
        level=entry.level,
        span=entry.span,
        source=source,
        key=f"{owner}/env:{entry.name}",
        job=job,
        step=step,
        lifetime=lifetime,
        origin=origin_of(source),
        value_span=node_span(entry.value),
    )


def _input_credential(step: Step, given: Input) -> NpmCredential | None:
    action = step.action or ""
    token_input = token_input_of(action)
    npm_input = is_credential_name(given.name) or given.name == token_input
    if not (npm_input or given.source.npm_secrets):
        return None
    lifetime = lifetime_of(given.source)
    if lifetime is None:
        return None
    return NpmCredential(
        name=given.name,
        via="with",
        level="step",
        span=given.span,
        source=given.source,
        key=f"{step.key}/with:{given.name}",
        job=step.job,
        step=step,
        lifetime=lifetime,
        origin=origin_of(given.source),
        value_span=node_span(given.value),
    )


def _script_credentials(step: Step) -> list[NpmCredential]:
    found: list[NpmCredential] = []
    named: set[str] = set()
    for name, span, source in step.facts.script_credentials:
        lifetime = lifetime_of(source)
        if lifetime is None:
            continue
        named.update(source.secrets)
        found.append(
            NpmCredential(
                name,
                "run",
                "step",
                span,
                source,
                f"{step.key}/run:{name}",
                step.job,
                step,
                lifetime,
                origin_of(source),
                span,
            )
        )
    written = {s for w in step.facts.config_writes for s in w.secrets}
    for inline in step.facts.inline_secrets:
        if inline.name in named or not (is_credential_name(inline.name) or inline.name in written):
            continue
        named.add(inline.name)
        source = ValueSource("${{ secrets." + inline.name + " }}", secrets=(inline.name,))
        found.append(
            NpmCredential(
                f"secrets.{inline.name}",
                "run",
                "step",
                inline.span,
                source,
                f"{step.key}/run:secrets.{inline.name}",
                step.job,
                step,
                lifetime_of(source) or LITERAL,
                f"secret {inline.name}",
            )
        )
    return found


def _resolve(variables: Sequence[str], view: dict[str, ValueSource]) -> ValueSource:
    secrets: list[str] = []
    for name in variables:
        source = view.get(name)
        if source is not None:
            secrets.extend(source.secrets)
    return ValueSource(" ".join(variables), secrets=tuple(dict.fromkeys(secrets)))


def _export_credential(
    step: Step, export: EnvExport, view: dict[str, ValueSource]
) -> NpmCredential:
    resolved = _resolve(export.variables, view)
    source = ValueSource(
        export.name, secrets=tuple(dict.fromkeys((*export.secrets, *resolved.secrets)))
    )
    lifetime = lifetime_of(source) or "provided"
    origin = origin_of(source) if source.secrets else "a value from the script"
    return NpmCredential(
        export.name,
        "github-env",
        "later steps",
        export.span,
        source,
        f"{step.key}/github-env:{export.name}",
        step.job,
        step,
        lifetime,
        origin,
    )


def _npmrc_credential(
    step: Step, write: ConfigWrite, view: dict[str, ValueSource]
) -> NpmCredential:
    resolved = _resolve(write.variables, view)
    secrets = tuple(dict.fromkeys((*write.secrets, *resolved.secrets)))
    source = ValueSource(write.setting, secrets=secrets)
    lifetime = lifetime_of(source) or "provided"
    if secrets:
        origin = origin_of(source)
    elif write.variables:
        origin = ", ".join(f"${v}" if not v.startswith("${{") else v for v in write.variables)
    else:
        origin = "a command's output"
    return NpmCredential(
        f"{write.setting} in {write.target}",
        "npmrc",
        "later steps",
        write.span,
        source,
        f"{step.key}/npmrc:{write.target}:{write.setting}",
        step.job,
        step,
        lifetime,
        origin,
    )


def _call_credentials(job: Job) -> list[NpmCredential]:
    found: list[NpmCredential] = []
    for secret in job.call_secrets:
        if not is_npm_credential_value(secret.name, secret.source):
            continue
        lifetime = lifetime_of(secret.source)
        if lifetime is None or lifetime == EPHEMERAL:
            continue
        found.append(
            NpmCredential(
                secret.name,
                "secrets",
                "job",
                secret.span,
                secret.source,
                f"{job.key}/secrets:{secret.name}",
                job,
                None,
                lifetime,
                origin_of(secret.source),
            )
        )
    if job.inherit_secrets is not None and job.uses is not None:
        used = job.inherited_npm_secrets
        if used:
            source = ValueSource("inherit", secrets=tuple(used))
            found.append(
                NpmCredential(
                    "secrets: inherit",
                    "secrets",
                    "job",
                    job.inherit_secrets,
                    source,
                    f"{job.key}/secrets:inherit",
                    job,
                    None,
                    "stored",
                    ", ".join(f"secret {name}" for name in used) + f" used by {job.uses}",
                )
            )
    return found


_WRAPPERS = frozenset({"sudo", "env", "time", "nice", "nohup", "command", "exec", "timeout"})


_WRAPPER_VALUE_FLAGS = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"},
    "env": {"-u", "-C", "-S", "--unset", "--chdir"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "nice": {"-n", "--adjustment"},
}


def analyze_workflow(workflow: Workflow) -> None:
    """Fill every step's facts, then the credential flow."""
    dispatch = Dispatch(analyze_commands, classify)  # the way back here from nested readers
    for job in workflow.jobs:
        registry: str | None = None
        references: set[str] = set(workflow.npmrc_variables)
        for step in job.steps:
            _analyze_step(workflow, job, step, registry, dispatch)
            registry = step.facts.sets_registry or registry
            references.update(step.facts.npmrc_references)
            if step.facts.sets_registry:
                references.add(SETUP_NODE_REFERENCE)
            step.facts.npmrc_references = frozenset(references)
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
    workflow: Workflow, job: Job, step: Step, registry: str | None, dispatch: Dispatch
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
    )
    for name, start, end in secret_references(step.run.text):
        facts.inline_secrets.append(InlineSecret(name, step.run.span(start, end)))
    analyze_commands(step.run.script.commands, ctx)


def analyze_commands(commands: list[Command], ctx: CommandContext) -> None:
    for command in commands:
        _analyze_command(command, ctx)


def _analyze_command(command: Command, ctx: CommandContext) -> None:
    if command.assignments and not command.words:
        _record_assignments(command.assignments, ctx, exported=True)
    words, assignments = _unwrap(command.words)
    if assignments or command.assignments:
        _record_assignments([*command.assignments, *assignments], ctx, exported=False)
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
                _record_assignments(
                    [(match.group(1), _strip_prefix(word, match.end()))], ctx, exported=True
                )
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


def _record_assignments(
    assignments: Sequence[tuple[str, Word]], ctx: CommandContext, *, exported: bool
) -> None:
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
