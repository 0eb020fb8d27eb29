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

import os
import posixpath
import re
from collections.abc import Iterator, Sequence

from npm_guard._record import dataclass, field, replace
from npm_guard.npmrc import ENV_REFERENCE_RE, unexpanded_variables
from npm_guard.secrets import is_placeholder
from npm_guard.workflow.expressions import (
    ValueSource,
    is_credential_name,
    secret_references,
    value_source,
)
from npm_guard.workflow.labels import program_word, script_summary, subcommand_word
from npm_guard.workflow.model import (
    EPHEMERAL,
    LITERAL,
    ConfigWrite,
    DependencyCode,
    EnvEntry,
    EnvExport,
    InlineSecret,
    Input,
    Job,
    NpmCredential,
    Publish,
    RunBlock,
    Step,
    StepFacts,
    TokenCreate,
    UnexpandedText,
    Workflow,
    is_npm_credential_value,
    lifetime_of,
    origin_of,
)
from npm_guard.workflow.package_scripts import Selection, read_package, resolve_script
from npm_guard.workflow.positions import Span, node_span
from npm_guard.workflow.shell import (
    CMDSUB,
    EXPR,
    LIT,
    PARAM,
    Command,
    Part,
    Word,
    read_nested,
    read_script,
    render_part,
)

MAX_SCRIPT_DEPTH = 6
MAX_LOCAL_SCRIPT_BYTES = 256 * 1024
AUTH_SETTINGS = ("_authToken", "_auth", "_password")

# Variables the npm CLI reads a credential from by itself: none. NODE_AUTH_TOKEN is read
# only through an .npmrc that refers to it (`${NODE_AUTH_TOKEN}`): the one
# actions/setup-node writes when given `registry-url`, the repository's own, or one an
# earlier step wrote; `analyze_workflow` records those references per step.
NPM_READS: frozenset[str] = frozenset()
# What actions/setup-node with `registry-url` writes into $RUNNER_TEMP/.npmrc (and points
# NPM_CONFIG_USERCONFIG at) refers to this variable.
SETUP_NODE_REFERENCE = "NODE_AUTH_TOKEN"
# Release tools that read NPM_TOKEN themselves (and write an .npmrc from it).
TOOL_READS = frozenset({"NODE_AUTH_TOKEN", "NPM_TOKEN"})


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WRAPPERS = frozenset({"sudo", "env", "time", "nice", "nohup", "command", "exec", "timeout"})
_WRAPPER_VALUE_FLAGS = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"},
    "env": {"-u", "-C", "-S", "--unset", "--chdir"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "nice": {"-n", "--adjustment"},
}
_NPM_VALUE_FLAGS = frozenset(
    {
        "--prefix",
        "-C",
        "--workspace",
        "-w",
        "--registry",
        "--userconfig",
        "--globalconfig",
        "--location",
        "-L",
        "--cache",
        "--loglevel",
        "--tag",
        "--access",
        "--otp",
        "--scope",
        "--package",
        "-p",
        "--call",
        "-c",
        "--filter",
        "-F",
        "--dir",
        "--cwd",
        "--name",
        "--token-description",
        "--expires",
        "--packages",
        "--scopes",
        "--orgs",
        "--packages-and-scopes-permission",
        "--orgs-permission",
        "--cidr",
        "--password",
        "--branches",
        "--repository-url",
        "-r",  # semantic-release's --repository-url
    }
)
# pnpm's own: `-r`/`--recursive` and `-w` (`--workspace-root`) take no value there, so
# `pnpm -r publish` is a publish, not `-r publish`.
_PNPM_VALUE_FLAGS = frozenset(
    {
        "-C",
        "--dir",
        "--filter",
        "-F",
        "--filter-prod",
        "--registry",
        "--userconfig",
        "--loglevel",
        "--reporter",
        "--workspace-concurrency",
        "--resume-from",
        "--changed-files-ignore-pattern",
        "--test-pattern",
        "--tag",
        "--access",
        "--otp",
        "--publish-branch",
        "--store-dir",
        "--virtual-store-dir",
        "--modules-dir",
        "--lockfile-dir",
        "--cache-dir",
        "--global-dir",
    }
)
_NPM_INSTALL = _words(
    "install i in ins inst insta instal isnt isnta isntal isntall add "
    "ci clean-install ic install-clean isntall-clean "
    "it install-test cit clean-install-test sit install-ci-test "
    "update up upgrade udpate rebuild rb"
)
_NPM_RUN = frozenset({"run", "run-script", "rum", "urn"})
_NPM_SCRIPT_COMMANDS = {
    "test": "test",
    "tst": "test",
    "t": "test",
    "start": "start",
    "stop": "stop",
    "restart": "restart",
}
_NPM_EXEC = frozenset({"exec", "x"})
_NPM_REGISTRY = _words(
    "whoami view info show v dist-tag dist-tags access owner deprecate unpublish trust "
    "token login adduser ping search"
)
_YARN_BUILTINS = _words(
    "add audit autoclean bin cache check config create dedupe dlx exec generate-lock-entry "
    "global help import info init install licenses link list login logout node outdated "
    "owner pack patch policy publish remove run tag team unlink unplug up upgrade version "
    "versions why workspace workspaces npm set plugin rebuild explain constraints "
    "upgrade-interactive stage"
)
_PNPM_INSTALL = _words("install i add update up upgrade rebuild rb install-test it")
_PNPM_BUILTINS = _words(
    "install i add update up upgrade remove rm uninstall link unlink import rebuild rb prune "
    "fetch install-test it patch patch-commit audit list ls outdated why publish pack "
    "run run-script exec dlx create test t tst start store server setup init deploy "
    "config c bin root env licenses doctor"
)
# `[Ee][Nn][Vv]`, not re.IGNORECASE: case-folding the name ranges costs start-up time.
_PWSH_ENV_RE = re.compile(
    r"\$\{[Ee][Nn][Vv]:[A-Za-z_][A-Za-z0-9_]*\}|\$[Ee][Nn][Vv]:[A-Za-z_][A-Za-z0-9_]*"
)
_UNTRUSTED_REF_RE = re.compile(
    r"head\.(?:sha|ref)|head_ref|head_sha|head_branch|head\.repo|refs/pull/|"
    r"pull_request\.number|issue\.number|merge_commit_sha|event\.number",
    re.IGNORECASE,
)
_PUBLISH_ACTIONS: dict[str, tuple[str, frozenset[str] | None, str | None]] = {
    # action → (what it runs, variables it reads, its token input)
    "js-devtools/npm-publish": ("npm publish", None, "token"),
    "cycjimmy/semantic-release-action": ("semantic-release", TOOL_READS, None),
    "codfish/semantic-release-action": ("semantic-release", TOOL_READS, None),
    "pascalgn/npm-publish-action": ("npm publish", None, None),
    "primer/publish": ("npm publish", None, None),
    "mikeal/merge-release": ("npm publish", None, None),
    "epeli/npm-release": ("npm publish", None, None),
}
_SHIPPING_ACTIONS = {
    "actions/upload-artifact": "uploads an artifact",
    "actions/cache": "saves a cache",
    "actions/cache/save": "saves a cache",
    "docker/build-push-action": "builds a Docker image",
    "actions/upload-pages-artifact": "uploads a Pages artifact",
}


@dataclass(eq=False, repr=False)
class _Ctx:
    """What a command is read with: its step, where it runs, how it was reached."""

    workflow: Workflow
    job: Job
    step: Step
    run: RunBlock | None
    facts: StepFacts
    cwd: str | None  # workspace-relative directory, None when outside the repository
    location: str  # "workspace", "home", "temp", "other", "unknown"
    registry: str | None
    env: dict[str, ValueSource]
    span_override: Span | None = None
    via: tuple[str, ...] = ()
    depth: int = 0
    seen_scripts: set[tuple[str, str]] = field(default_factory=set)
    # Scripts already read for this step, with everything their reading depends on: a
    # script that runs another twelve times, which runs another twelve times…, is read
    # once per context, not 12^depth times. Shared by every context of the step.
    read_scripts: set[tuple[object, ...]] = field(default_factory=set)

    def span(self, start: int, end: int | None = None) -> Span:
        if self.span_override is not None:
            return self.span_override
        assert self.run is not None
        return self.run.span(start, end)

    def nested(self, span: Span, via: str) -> _Ctx:
        return replace(
            self,
            span_override=self.span_override or span,
            via=(*self.via, via),
            depth=self.depth + 1,
        )


def analyze_workflow(workflow: Workflow) -> None:
    """Fill every step's facts, then the credential flow."""
    for job in workflow.jobs:
        registry: str | None = None
        references: set[str] = set(workflow.npmrc_variables)
        for step in job.steps:
            _analyze_step(workflow, job, step, registry)
            registry = step.facts.sets_registry or registry
            references.update(step.facts.npmrc_references)
            if step.facts.sets_registry:
                references.add(SETUP_NODE_REFERENCE)
            step.facts.npmrc_references = frozenset(references)
    _credential_flow(workflow)
    workflow.literals = _literal_values(workflow)


def _literal_values(workflow: Workflow) -> frozenset[str]:
    """Every literal credential the file holds, so that no label can quote one."""
    from npm_guard.secrets import find_tokens

    values = {c.source.literal for c in workflow.credentials if c.lifetime == LITERAL}
    values.update(w.literal for s in workflow.steps() for w in s.facts.config_writes)
    values.update(t.value for t in find_tokens(workflow.loaded.text, uuids=True))
    return frozenset(v for v in values if len(v) >= 4)


def _env_view(workflow: Workflow, job: Job, step: Step) -> dict[str, ValueSource]:
    view: dict[str, ValueSource] = {}
    for entries in (workflow.env, job.env, step.env):
        for entry in entries:
            view[entry.name] = entry.source
    return view


def _analyze_step(workflow: Workflow, job: Job, step: Step, registry: str | None) -> None:
    facts = step.facts
    action = step.action
    if action is not None:
        _analyze_uses(step, action, registry)
    if step.run is None:
        return
    ctx = _Ctx(
        workflow,
        job,
        step,
        step.run,
        facts,
        step.working_directory,
        "workspace",
        registry,
        _env_view(workflow, job, step),
    )
    for name, start, end in secret_references(step.run.text):
        facts.inline_secrets.append(InlineSecret(name, step.run.span(start, end)))
    _analyze_commands(step.run.script.commands, ctx)


def _analyze_uses(step: Step, action: str, registry: str | None) -> None:
    facts = step.facts
    uses_span = node_span(step.uses_node) if step.uses_node is not None else step.span
    if action == "actions/setup-node":
        url = step.inputs.get("registry-url")
        if url is not None and url.text.strip():
            facts.sets_registry = url.text.strip()
    elif action == "actions/checkout":
        for name in ("ref", "repository"):
            given = step.inputs.get(name)
            if given is not None and _UNTRUSTED_REF_RE.search(given.text):
                facts.untrusted_checkout = given.span
    elif action in ("changesets/action",):
        publish = step.inputs.get("publish")
        if publish is not None and publish.text.strip():
            facts.publishes.append(
                Publish(
                    publish.span,
                    script_summary(read_script(publish.text)) or "…",
                    via=("changesets/action",),
                    registry=registry,
                    reads=TOOL_READS,
                )
            )
    elif action == "actions/npm":
        args = step.inputs.get("args")
        if args is not None and re.search(r"(?:^|\s)publish(?:\s|$)", args.text):
            facts.publishes.append(Publish(args.span, "npm publish", registry=registry))
    elif action in _PUBLISH_ACTIONS:
        command, reads, token_input = _PUBLISH_ACTIONS[action]
        given_registry = step.inputs.get("registry")
        token = step.inputs.get(token_input) if token_input else None
        facts.publishes.append(
            Publish(
                uses_span,
                command,
                via=(step.uses or action,),
                registry=given_registry.text.strip() if given_registry else registry,
                reads=reads,
                token_input=token,
            )
        )
    for prefix, what in _SHIPPING_ACTIONS.items():
        if action == prefix:
            facts.ships_workspace = what


# --- commands ----------------------------------------------------------------------


def _name(word: Word) -> str:
    literal = word.literal
    if literal is None:
        return ""
    base = literal.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".cmd", ".exe", ".ps1"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
    return base


def _unwrap(words: list[Word]) -> tuple[list[Word], list[tuple[str, Word]]]:
    """Strip `sudo`, `env A=1`, `time`, … in front of the real command."""
    assignments: list[tuple[str, Word]] = []
    guard = 0
    while words and guard < 8:
        guard += 1
        name = _name(words[0])
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


@dataclass
class _Args:
    positionals: list[Word]
    flags: dict[str, str | None]
    flag_spans: dict[str, Word]
    rest: list[Word]  # words after `--`


def _parse_args(words: Sequence[Word], value_flags: frozenset[str] = _NPM_VALUE_FLAGS) -> _Args:
    positionals: list[Word] = []
    flags: dict[str, str | None] = {}
    flag_spans: dict[str, Word] = {}
    index = 0
    while index < len(words):
        word = words[index]
        text = word.text
        if text == "--":
            return _Args(positionals, flags, flag_spans, list(words[index + 1 :]))
        if text.startswith("-") and len(text) > 1:
            name, sep, value = text.partition("=")
            if sep:
                flags[name] = value
            elif name in value_flags and index + 1 < len(words):
                flags[name] = words[index + 1].text
                index += 1
            else:
                flags.setdefault(name, None)
            flag_spans.setdefault(name, word)
        else:
            positionals.append(word)
        index += 1
    return _Args(positionals, flags, flag_spans, [])


def _analyze_commands(commands: list[Command], ctx: _Ctx) -> None:
    for command in commands:
        _analyze_command(command, ctx)


def _analyze_command(command: Command, ctx: _Ctx) -> None:
    if command.assignments and not command.words:
        _record_assignments(command.assignments, ctx, exported=True)
    words, assignments = _unwrap(command.words)
    if assignments or command.assignments:
        _record_assignments([*command.assignments, *assignments], ctx, exported=False)
    if ctx.run is not None and ctx.run.shell == "pwsh":
        _pwsh_env_assignment(command, ctx)
    _analyze_writes(command, words, ctx)
    if not words:
        return
    name = _name(words[0])
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
    _classify(words, command, ctx, extra_env)


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
    assignments: Sequence[tuple[str, Word]], ctx: _Ctx, *, exported: bool
) -> None:
    for name, value in assignments:
        source = _word_source(value)
        ctx.env[name] = source
        if ctx.depth == 0 and is_npm_credential_value(name, source):
            ctx.facts.script_credentials.append((name, ctx.span(value.start, value.end), source))


def _pwsh_env_assignment(command: Command, ctx: _Ctx) -> None:
    words = command.words
    if len(words) >= 3 and words[1].text == "=" and words[0].parts[0].kind == PARAM:
        name = words[0].parts[0].text
        source = _word_source(words[2])
        ctx.env[name] = source
        if is_npm_credential_value(name, source):
            ctx.facts.script_credentials.append(
                (name, ctx.span(words[0].start, words[2].end), source)
            )


def _change_directory(args: list[Word], ctx: _Ctx) -> None:
    target = next((w for w in args if not w.text.startswith("-")), None)
    if target is None:
        ctx.location, ctx.cwd = "home", None
        return
    location = _path_location(target, ctx)
    literal = target.literal
    if location == "workspace" and literal is not None and not literal.startswith("/"):
        base = ctx.cwd if ctx.cwd is not None else "."
        joined = posixpath.normpath(posixpath.join(base, literal))
        ctx.cwd = None if joined.startswith("..") else joined
    elif location != "workspace":
        ctx.cwd = None
    ctx.location = location


def _path_location(word: Word, ctx: _Ctx) -> str:
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


# --- what a command does -------------------------------------------------------------


def _classify(
    words: list[Word],
    command: Command,
    ctx: _Ctx,
    extra_env: dict[str, ValueSource],
    *,
    span: Span | None = None,
) -> None:
    name = _name(words[0])
    if span is None:
        span = ctx.span(words[0].start, words[-1].end)
    args = words[1:]
    if name in ("npm", "npm-cli"):
        _npm(args, span, command, ctx, extra_env)
    elif name == "npx":
        _exec_package(args, span, command, ctx, extra_env, "npx")
    elif name == "bunx":
        _exec_package(args, span, command, ctx, extra_env, "bunx")
    elif name == "yarn":
        _yarn(args, span, command, ctx, extra_env)
    elif name == "pnpm":
        _pnpm(args, span, command, ctx, extra_env)
    elif name == "bun":
        _bun(args, span, command, ctx, extra_env)
    elif name in ("bash", "sh", "zsh", "dash", "source", ".", "eval") or (
        name.endswith(".sh") and words[0].literal is not None
    ):
        _shell_script(name, words, span, ctx)
    elif name in ("gh", "git"):
        _checkout_command(name, args, span, ctx)
    else:
        _release_tool(name, args, span, ctx)


def _publish(
    ctx: _Ctx,
    span: Span,
    command: str,
    *,
    staged: bool = False,
    registry: str | None = None,
    reads: frozenset[str] | None = NPM_READS,
) -> None:
    ctx.facts.publishes.append(
        Publish(
            span,
            command,
            staged=staged,
            via=ctx.via,
            registry=registry or _env_registry(ctx) or ctx.registry or _package_registry(ctx),
            reads=reads,
        )
    )


def _env_registry(ctx: _Ctx) -> str | None:
    for name, source in ctx.env.items():
        if name.lower() == "npm_config_registry" and source.literal:
            return source.literal
    return None


def _package_registry(ctx: _Ctx) -> str | None:
    if ctx.workflow.repo_root is None or ctx.cwd is None:
        return None
    package = read_package(os.path.join(ctx.workflow.repo_root, ctx.cwd))
    return package.publish_registry if package is not None else None


def _dry_run(flags: dict[str, str | None]) -> bool:
    return any(name in flags and flags[name] not in ("false", "0") for name in ("--dry-run", "-d"))


def _selection(flags: dict[str, str | None]) -> Selection:
    names: list[str] = []
    for name in ("--workspace", "-w", "--filter", "-F"):
        value = flags.get(name)
        if value:
            names.append(value)
    every = any(f in flags for f in ("--workspaces", "-ws", "-r", "--recursive"))
    return Selection(
        all_workspaces=every,
        names=tuple(names),
        include_root="--include-workspace-root" in flags,
    )


def _npm(
    args: list[Word], span: Span, command: Command, ctx: _Ctx, extra_env: dict[str, ValueSource]
) -> None:
    parsed = _parse_args(args)
    if not parsed.positionals:
        return
    sub = parsed.positionals[0].text
    registry = parsed.flags.get("--registry")
    _inline_auth_flags(parsed, ctx)
    if sub == "publish":
        if not _dry_run(parsed.flags):
            _publish(ctx, span, "npm publish", registry=registry)
    elif sub == "stage" and len(parsed.positionals) > 1 and parsed.positionals[1].text == "publish":
        if not _dry_run(parsed.flags):
            _publish(ctx, span, "npm stage publish", staged=True, registry=registry)
    elif sub == "token" and len(parsed.positionals) > 1 and parsed.positionals[1].text == "create":
        _token_create(parsed, span, ctx, extra_env)
    elif sub in ("config", "c", "set"):
        _npm_config_set(parsed, sub, command, ctx)
    elif sub in _NPM_INSTALL:
        scripts = not _ignores_scripts(parsed.flags, ctx, extra_env)
        ctx.facts.dependency_code.append(DependencyCode(span, f"npm {sub}", scripts))
        ctx.facts.registry_commands.append(f"npm {sub}")
    elif sub in _NPM_RUN or sub in _NPM_SCRIPT_COMMANDS:
        script = _NPM_SCRIPT_COMMANDS.get(sub)
        if script is None:
            if len(parsed.positionals) < 2:
                return
            script = parsed.positionals[1].text
        ctx.facts.dependency_code.append(DependencyCode(span, f"npm {sub}", False))
        _run_package_script(
            script,
            f"npm {sub}".rstrip() if sub != "run" else f"npm run {script}",
            span,
            ctx,
            _selection(parsed.flags),
            pre_post=True,
        )
    elif sub in _NPM_EXEC:
        _exec_package(
            args[args.index(parsed.positionals[0]) + 1 :],
            span,
            command,
            ctx,
            extra_env,
            f"npm {sub}",
        )
    elif sub in _NPM_REGISTRY:
        ctx.facts.registry_commands.append(f"npm {sub}")


def _inline_auth_flags(parsed: _Args, ctx: _Ctx) -> None:
    """`--//registry.npmjs.org/:_authToken=…` on the command line: a credential for it."""
    for name, value in parsed.flags.items():
        if name.startswith("--//") and name.endswith(AUTH_SETTINGS) and value:
            word = parsed.flag_spans[name]
            source = value_source(value)
            if ctx.depth == 0:
                ctx.facts.script_credentials.append(
                    (name[2:], ctx.span(word.start, word.end), source)
                )


def _ignores_scripts(
    flags: dict[str, str | None], ctx: _Ctx, extra_env: dict[str, ValueSource]
) -> bool:
    if "--ignore-scripts" in flags and flags["--ignore-scripts"] not in ("false", "0"):
        return True
    for env in (extra_env, ctx.env):
        for name, source in env.items():
            if name.lower() == "npm_config_ignore_scripts" and source.literal in ("true", "1"):
                return True
    return False


def _token_create(parsed: _Args, span: Span, ctx: _Ctx, extra_env: dict[str, ValueSource]) -> None:
    flags = dict(parsed.flags)
    for env in (ctx.env, extra_env):
        for name, source in env.items():
            lower = name.lower()
            if lower.startswith("npm_config_"):
                flag = "--" + lower[len("npm_config_") :].replace("_", "-")
                flags.setdefault(flag, source.literal or source.text)
    ctx.facts.token_creates.append(TokenCreate(span, flags, ctx.via))
    ctx.facts.registry_commands.append("npm token create")


def _exec_package(
    args: list[Word],
    span: Span,
    command: Command,
    ctx: _Ctx,
    extra_env: dict[str, ValueSource],
    runner: str,
) -> None:
    """`npx tool …`, `npm exec -- tool …`, `pnpm dlx`, `bunx`: run a package's binary."""
    parsed = _parse_args(args, frozenset({"-p", "--package", "-c", "--call", "--registry"}))
    ctx.facts.dependency_code.append(DependencyCode(span, runner, False))
    call = parsed.flags.get("-c") or parsed.flags.get("--call")
    if call:
        _analyze_commands(read_nested(call, 0, ctx.depth + 1), ctx.nested(span, f"{runner} -c"))
        return
    rest = parsed.rest
    if parsed.positionals:
        rest = _after_positional(args, parsed.positionals[0])
        rest.insert(0, parsed.positionals[0])
    if not rest or rest[0].literal is None:
        return
    tool = _package_binary(rest[0].literal)
    first = Word([Part(LIT, tool, rest[0].start, rest[0].end)], rest[0].start, rest[0].end)
    _classify([first, *rest[1:]], command, ctx, extra_env, span=span)


_PACKAGE_BINARIES = {"@changesets/cli": "changeset", "@nrwl/cli": "nx"}


def _package_binary(spec: str) -> str:
    """`npm@11` → `npm`, `@changesets/cli@2` → `changeset`: the binary a spec runs."""
    name = spec
    if name.startswith("@"):
        scope_end = name.find("/")
        at = name.find("@", scope_end if scope_end > 0 else 1)
        name = name[:at] if at > 0 else name
    else:
        name = name.split("@", 1)[0]
    return _PACKAGE_BINARIES.get(name, name.rsplit("/", 1)[-1])


def _yarn(
    args: list[Word], span: Span, command: Command, ctx: _Ctx, extra_env: dict[str, ValueSource]
) -> None:
    parsed = _parse_args(args, frozenset({"--cwd"}))
    if not parsed.positionals:
        if not any(f in parsed.flags for f in ("--version", "-v", "--help", "-h")):
            ctx.facts.dependency_code.append(
                DependencyCode(span, "yarn", not _ignores_scripts(parsed.flags, ctx, extra_env))
            )
        return
    first = parsed.positionals[0].text
    rest = parsed.positionals[1:]
    if first in ("install", "add", "up", "upgrade", "upgrade-interactive"):
        ctx.facts.dependency_code.append(
            DependencyCode(
                span, f"yarn {first}", not _ignores_scripts(parsed.flags, ctx, extra_env)
            )
        )
    elif first == "publish":
        if not _dry_run(parsed.flags):
            _publish(ctx, span, "yarn publish", registry=parsed.flags.get("--registry"))
    elif first == "npm" and rest and rest[0].text == "publish":
        if not _dry_run(parsed.flags):
            _publish(
                ctx,
                span,
                "yarn npm publish",
                reads=frozenset({"YARN_NPM_AUTH_TOKEN", "NODE_AUTH_TOKEN"}),
            )
    elif first == "workspaces" and rest and rest[0].text == "foreach":
        inner = _after_positional(args, rest[0])
        inner_args = _parse_args(
            inner, frozenset({"--from", "--include", "--exclude", "-j", "--jobs", "--since"})
        )
        if inner_args.positionals:
            start = inner.index(inner_args.positionals[0])
            _yarn(inner[start:], span, command, replace(ctx, via=ctx.via), extra_env)
    elif first == "workspace" and len(rest) >= 2:
        _yarn(_after_positional(args, rest[0]), span, command, ctx, extra_env)
    elif first in ("dlx", "exec"):
        _exec_package(
            _after_positional(args, parsed.positionals[0]),
            span,
            command,
            ctx,
            extra_env,
            f"yarn {first}",
        )
    elif first == "run" and rest:
        ctx.facts.dependency_code.append(DependencyCode(span, "yarn run", False))
        _run_package_script(
            rest[0].text, f"yarn run {rest[0].text}", span, ctx, Selection(), pre_post=True
        )
    elif first == "config" and rest and rest[0].text == "set":
        pass
    elif first not in _YARN_BUILTINS:
        shown = subcommand_word(first) or "<script>"  # a positional: never quote a value
        ctx.facts.dependency_code.append(DependencyCode(span, f"yarn {shown}", False))
        _run_package_script(first, f"yarn {first}", span, ctx, Selection(), pre_post=True)


def _after_positional(args: list[Word], positional: Word) -> list[Word]:
    for index, word in enumerate(args):
        if word is positional:
            return args[index + 1 :]
    return []


def _pnpm(
    args: list[Word], span: Span, command: Command, ctx: _Ctx, extra_env: dict[str, ValueSource]
) -> None:
    parsed = _parse_args(args, _PNPM_VALUE_FLAGS)
    directory = parsed.flags.get("-C") or parsed.flags.get("--dir")
    if directory and ctx.cwd is not None:
        ctx = replace(ctx, cwd=posixpath.normpath(posixpath.join(ctx.cwd, directory)))
    if not parsed.positionals:
        return
    first = parsed.positionals[0].text
    rest = parsed.positionals[1:]
    if first in _PNPM_INSTALL:
        ctx.facts.dependency_code.append(
            DependencyCode(
                span, f"pnpm {first}", not _ignores_scripts(parsed.flags, ctx, extra_env)
            )
        )
    elif first == "publish":
        if not _dry_run(parsed.flags):
            _publish(ctx, span, "pnpm publish", registry=parsed.flags.get("--registry"))
    elif first in ("exec", "dlx"):
        _exec_package(
            _after_positional(args, parsed.positionals[0]),
            span,
            command,
            ctx,
            extra_env,
            f"pnpm {first}",
        )
    elif first in ("run", "run-script") and rest:
        ctx.facts.dependency_code.append(DependencyCode(span, "pnpm run", False))
        _run_package_script(
            rest[0].text,
            f"pnpm run {rest[0].text}",
            span,
            ctx,
            _selection(parsed.flags),
            pre_post=False,
        )
    elif first in ("test", "t", "tst", "start"):
        script = "test" if first != "start" else "start"
        _run_package_script(
            script, f"pnpm {first}", span, ctx, _selection(parsed.flags), pre_post=False
        )
    elif first not in _PNPM_BUILTINS:
        shown = subcommand_word(first) or "<script>"  # a positional: never quote a value
        ctx.facts.dependency_code.append(DependencyCode(span, f"pnpm {shown}", False))
        _run_package_script(
            first, f"pnpm {first}", span, ctx, _selection(parsed.flags), pre_post=False
        )


def _bun(
    args: list[Word], span: Span, command: Command, ctx: _Ctx, extra_env: dict[str, ValueSource]
) -> None:
    parsed = _parse_args(args, frozenset({"--cwd", "--registry", "--filter", "-F"}))
    if not parsed.positionals:
        return
    first = parsed.positionals[0].text
    rest = parsed.positionals[1:]
    if first in ("install", "i", "add", "a", "update"):
        ctx.facts.dependency_code.append(DependencyCode(span, f"bun {first}", False))
    elif first == "publish":
        if not _dry_run(parsed.flags):
            _publish(ctx, span, "bun publish", registry=parsed.flags.get("--registry"))
    elif first == "x":
        _exec_package(
            _after_positional(args, parsed.positionals[0]), span, command, ctx, extra_env, "bun x"
        )
    elif first == "run" and rest:
        ctx.facts.dependency_code.append(DependencyCode(span, "bun run", False))
        _run_package_script(
            rest[0].text,
            f"bun run {rest[0].text}",
            span,
            ctx,
            _selection(parsed.flags),
            pre_post=True,
        )
    elif "." not in first and "/" not in first:
        _run_package_script(
            first, f"bun {first}", span, ctx, _selection(parsed.flags), pre_post=True
        )


def _release_tool(name: str, args: list[Word], span: Span, ctx: _Ctx) -> None:
    parsed = _parse_args(args)
    positionals = [w.text for w in parsed.positionals]
    if _dry_run(parsed.flags) or ("--no-ci" in parsed.flags and name == "semantic-release"):
        return
    if name == "semantic-release":
        _publish(ctx, span, "semantic-release", reads=TOOL_READS)
    elif name in ("changeset", "changesets") and positionals[:1] == ["publish"]:
        _publish(ctx, span, "changeset publish", reads=TOOL_READS)
    elif name == "lerna" and positionals[:1] == ["publish"]:
        _publish(ctx, span, "lerna publish")
    elif name == "release-it":
        _publish(ctx, span, "release-it", reads=TOOL_READS)
    elif (
        name == "nx"
        and positionals[:1] == ["release"]
        and (positionals[1:2] in (["publish"], []) and "--skip-publish" not in parsed.flags)
    ):
        _publish(ctx, span, "nx release" + (" publish" if positionals[1:2] else ""))


def _checkout_command(name: str, args: list[Word], span: Span, ctx: _Ctx) -> None:
    texts = [w.text for w in args]
    if name == "gh" and texts[:2] == ["pr", "checkout"]:
        ctx.facts.untrusted_checkout = ctx.facts.untrusted_checkout or span
    elif name == "git" and texts[:1] in (["fetch"], ["checkout"], ["switch"], ["pull"]):
        joined = " ".join(texts[1:])
        if "pull/" in joined or _UNTRUSTED_REF_RE.search(joined):
            ctx.facts.untrusted_checkout = ctx.facts.untrusted_checkout or span


def _run_package_script(
    script: str,
    shown_as: str,
    span: Span,
    ctx: _Ctx,
    selection: Selection,
    *,
    pre_post: bool,
) -> None:
    if ctx.depth >= MAX_SCRIPT_DEPTH or ctx.cwd is None:
        return
    for found in resolve_script(
        ctx.workflow.repo_root, ctx.cwd, script, selection=selection, pre_post=pre_post
    ):
        marker = (found.package_json, found.name)
        if marker in ctx.seen_scripts:
            continue
        seen = {*ctx.seen_scripts, marker}
        directory = posixpath.dirname(found.package_json) or "."
        via = f"{found.package_json} scripts.{found.name}"
        nested = ctx.nested(span, via)
        if not ctx.via:
            nested.via = (shown_as, via)
        nested = replace(nested, cwd=directory, seen_scripts=seen, env=dict(ctx.env))
        if _already_read(nested, marker):
            continue
        _analyze_commands(read_script(found.text).commands, nested)


def _shell_script(name: str, words: list[Word], span: Span, ctx: _Ctx) -> None:
    """`bash -c '…'`, `eval '…'` and local `*.sh` scripts: read them too."""
    if ctx.depth >= MAX_SCRIPT_DEPTH:
        return
    if name == "eval":
        text = " ".join(w.text for w in words[1:])
        _analyze_commands(read_nested(text, 0, ctx.depth + 1), ctx.nested(span, "eval"))
        return
    args = words[1:] if name in ("bash", "sh", "zsh", "dash", "source", ".") else words
    parsed = _parse_args(args, frozenset({"-c", "-o", "-O"}))
    command_string = parsed.flags.get("-c")
    if command_string is not None:
        word = parsed.flag_spans["-c"]
        index = args.index(word)
        source_word = args[index + 1] if index + 1 < len(args) else None
        if source_word is not None and ctx.span_override is None and len(source_word.parts) == 1:
            part = source_word.parts[0]
            base = part.start + (1 if part.quote in ("'", '"') else 0)
            commands = read_nested(command_string, base, ctx.depth + 1)
            _analyze_commands(commands, replace(ctx, depth=ctx.depth + 1))
        else:
            commands = read_nested(command_string, 0, ctx.depth + 1)
            _analyze_commands(commands, ctx.nested(span, f"{name} -c"))
        return
    target = parsed.positionals[0] if parsed.positionals else None
    if target is None or target.literal is None or ctx.workflow.repo_root is None:
        return
    if ctx.cwd is None or ctx.location != "workspace":
        return
    relative = posixpath.normpath(posixpath.join(ctx.cwd, target.literal))
    if relative.startswith("..") or relative.startswith("/"):
        return
    path = os.path.join(ctx.workflow.repo_root, relative)
    try:
        if os.path.getsize(path) > MAX_LOCAL_SCRIPT_BYTES:
            return
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return
    marker = (relative, "")
    if marker in ctx.seen_scripts:
        return
    nested = ctx.nested(span, relative)
    if not ctx.via:
        nested.via = (" ".join(w.text for w in words[:2]), relative)
    nested = replace(nested, seen_scripts={*ctx.seen_scripts, marker})
    if _already_read(nested, marker):
        return
    _analyze_commands(read_script(text).commands, nested)


def _already_read(ctx: _Ctx, marker: tuple[str, str]) -> bool:
    """True when the script `marker` was read before in exactly this context (then what
    it records is recorded already); else remember that it is read now."""
    key = (
        marker,
        ctx.cwd,
        ctx.location,
        ctx.registry,
        ctx.span_override,
        ctx.via,
        ctx.depth,
        frozenset(ctx.seen_scripts),
        frozenset(ctx.env.items()),
    )
    if key in ctx.read_scripts:
        return True
    ctx.read_scripts.add(key)
    return False


# --- writes: .npmrc files, npm config set, $GITHUB_ENV --------------------------------


def _analyze_writes(command: Command, words: list[Word], ctx: _Ctx) -> None:
    if ctx.span_override is not None:
        return  # package.json scripts writing files are not this file's lines
    targets: list[tuple[Word, bool]] = [
        (r.target, r.appends) for r in command.redirects if r.writes_stdout and r.target is not None
    ]
    name = _name(words[0]).lower() if words else ""
    if name == "tee":
        parsed = _parse_args(words[1:], frozenset())
        appends = "-a" in parsed.flags or "--append" in parsed.flags
        targets.extend((w, appends) for w in parsed.positionals)
    elif name in ("out-file", "set-content", "add-content"):
        path_word, _ = _pwsh_file_args(words[1:])
        if path_word is not None:
            targets.append((path_word, name == "add-content"))
    if not targets:
        return
    content = _content(command, words, ctx)
    if content is None:
        return
    for target, _appends in targets:
        kind = _target_kind(target)
        if kind == "github-env":
            _env_exports(content, ctx)
        elif kind == "npmrc":
            location = _path_location(target, ctx)
            _npmrc_content(content, ctx, shown_target(target), location, _how(command, words))


def shown_target(word: Word) -> str:
    return word.text if len(word.text) <= 80 else word.text[:79] + "…"


def _target_kind(word: Word) -> str | None:
    parts = word.parts
    if len(parts) == 1 and parts[0].kind == PARAM and parts[0].text.upper() == "GITHUB_ENV":
        return "github-env"
    if (
        len(parts) == 1
        and parts[0].kind == PARAM
        and parts[0].text.upper() == ("NPM_CONFIG_USERCONFIG")
    ):
        return "npmrc"
    last = parts[-1] if parts else None
    if last is not None and last.kind == LIT:
        base = re.split(r"[\\/]", last.text)[-1]
        if base == ".npmrc":
            return "npmrc"
    return None


def _how(command: Command, words: list[Word]) -> str:
    if any(r.heredoc is not None for r in command.redirects):
        return "a heredoc"
    if command.piped_from is not None and command.piped_from.words:
        # A PowerShell string piped into Out-File is no program: never quote its text.
        writer = program_word(command.piped_from.words[0].literal) or "a string"
        return f"`{writer} … | {program_word(words[0].literal) or '…'}`" if words else writer
    if words:
        return f"`{program_word(words[0].literal) or '…'}`"
    return "a redirection"


def _content(command: Command, words: list[Word], ctx: _Ctx) -> list[Part] | None:
    """The text a command writes to its output, as parts (None when unknowable)."""
    for redirect in command.redirects:
        if redirect.heredoc is not None and redirect.heredoc.body is not None:
            return redirect.heredoc.body.parts
        if redirect.op == "<<<" and redirect.target is not None:
            return [*redirect.target.parts, _newline(redirect.target.end)]
    name = _name(words[0]).lower() if words else ""
    if name in ("tee", "out-file", "set-content", "add-content"):
        if name in ("set-content", "add-content"):
            _, value_word = _pwsh_file_args(words[1:])
            if value_word is not None:
                return [*value_word.parts, _newline(value_word.end)]
        source = command.piped_from
        if source is None or not source.words:
            return None
        return _content(source, source.words, ctx)
    if name in ("echo", "write-output", "write-host"):
        args = words[1:]
        while args and args[0].text in ("-n", "-e", "-E", "-ne", "-en"):
            args = args[1:]
        return _joined(args)
    if name == "printf":
        args = words[1:]
        if not args:
            return None
        return _printf(args)
    if name == "cat":
        return None
    if words and words[0].quoted and ctx.run is not None and ctx.run.shell == "pwsh":
        return _joined(words)
    return None


def _pwsh_file_args(args: list[Word]) -> tuple[Word | None, Word | None]:
    """The path and value of `Out-File` / `Set-Content` / `Add-Content` (any case)."""
    path: Word | None = None
    value: Word | None = None
    positional: list[Word] = []
    index = 0
    while index < len(args):
        text = args[index].text.lower()
        if text in ("-filepath", "-path", "-literalpath") and index + 1 < len(args):
            path = args[index + 1]
            index += 2
        elif text == "-value" and index + 1 < len(args):
            value = args[index + 1]
            index += 2
        elif text == "-encoding":
            index += 2
        elif text.startswith("-"):
            index += 1
        else:
            positional.append(args[index])
            index += 1
    if path is None and positional:
        path = positional.pop(0)
    if value is None and positional:
        value = positional[0]
    return path, value


def _newline(at: int) -> Part:
    return Part(LIT, "\n", at, at)


def _joined(args: list[Word]) -> list[Part]:
    parts: list[Part] = []
    for index, word in enumerate(args):
        if index:
            parts.append(Part(LIT, " ", word.start, word.start))
        parts.extend(word.parts)
    if args:
        parts.append(_newline(args[-1].end))
    return parts


def _printf(args: list[Word]) -> list[Part]:
    """printf FORMAT ARGS: `%s` takes the next argument; `\\n` is a line break."""
    parts: list[Part] = []
    values = list(args[1:])
    for part in args[0].parts:
        if part.kind != LIT:
            parts.append(part)
            continue
        text = part.text.replace("\\n", "\n")
        pieces = re.split(r"(%s|%b|%d)", text)
        offset = part.start
        for piece in pieces:
            if piece in ("%s", "%b", "%d"):
                if values:
                    parts.extend(values.pop(0).parts)
            elif piece:
                parts.append(Part(LIT, piece, offset, offset + len(piece), part.quote))
            offset += len(piece)
    return parts


def _lines(parts: list[Part]) -> Iterator[list[Part]]:
    """Split content parts into lines (literal parts cut at their line breaks)."""
    line: list[Part] = []
    for part in parts:
        if part.kind != LIT or "\n" not in part.text:
            line.append(part)
            continue
        position = 0
        for piece in part.text.split("\n")[:-1]:
            start = part.start + position
            if piece:
                line.append(Part(LIT, piece, start, start + len(piece), part.quote))
            yield line
            line = []
            position += len(piece) + 1
        tail = part.text.rsplit("\n", 1)[1]
        if tail:
            start = part.start + position
            line.append(Part(LIT, tail, start, start + len(tail), part.quote))
    if line:
        yield line


def _split_at(parts: list[Part], char: str) -> tuple[list[Part], list[Part]] | None:
    """Cut a line's parts at the first `char` in a literal part."""
    for index, part in enumerate(parts):
        if part.kind == LIT and char in part.text:
            cut = part.text.index(char)
            before = parts[:index]
            if cut:
                before.append(Part(LIT, part.text[:cut], part.start, part.start + cut, part.quote))
            after = parts[index + 1 :]
            if cut + 1 < len(part.text):
                rest = part.text[cut + 1 :]
                after.insert(
                    0,
                    Part(
                        LIT,
                        rest,
                        part.start + cut + 1,
                        part.start + cut + 1 + len(rest),
                        part.quote,
                    ),
                )
            return before, after
    return None


def _text(parts: list[Part]) -> str:
    return "".join(render_part(p) for p in parts)


def _env_exports(content: list[Part], ctx: _Ctx) -> None:
    for line in _lines(content):
        split = _split_at(line, "=")
        heredoc_name = None
        if split is None:
            text = _text(line).strip()
            match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)<<\S+", text)
            if match is None:
                continue
            heredoc_name = match.group(1)
            key_parts, value_parts = line, list[Part]()
        else:
            key_parts, value_parts = split
        name = heredoc_name or _text(key_parts).strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            continue
        secrets: list[str] = []
        variables: list[str] = []
        for part in value_parts:
            if part.kind == EXPR:
                secrets.extend(value_source("${{" + part.text + "}}").secrets)
            elif part.kind == PARAM:
                variables.append(part.text)
        npm_related = is_credential_name(name) or any(is_credential_name(s) for s in secrets)
        npm_related = npm_related or any(
            is_credential_name(v) or bool(ctx.env.get(v, value_source("")).npm_secrets)
            for v in variables
        )
        if not npm_related or not (secrets or variables or heredoc_name):
            continue
        start = line[0].start
        ctx.facts.env_exports.append(
            EnvExport(name, ctx.span(start), tuple(secrets), tuple(variables))
        )


def _npmrc_content(content: list[Part], ctx: _Ctx, target: str, location: str, how: str) -> None:
    for line in _lines(content):
        stripped = _text(line).lstrip()
        if not stripped or stripped[0] in "#;":
            continue
        split = _split_at(line, "=")
        if split is None:
            continue
        key_parts, value_parts = split
        setting = _text(key_parts).strip()
        _record_setting(setting, value_parts, ctx, target, location, how, ini=True)


def _record_setting(
    setting: str,
    value_parts: list[Part],
    ctx: _Ctx,
    target: str,
    location: str,
    how: str,
    *,
    ini: bool,
) -> None:
    name = setting.rsplit(":", 1)[-1] if ":" in setting else setting
    if name not in AUTH_SETTINGS:
        return
    parts = _trim(value_parts, ini=ini)
    secrets: list[str] = []
    variables: list[str] = []
    command_output = False
    literal_chunks: list[Part] = []
    for part in parts:
        if part.kind == EXPR:
            source = value_source("${{" + part.text + "}}")
            if source.secrets:
                secrets.extend(source.secrets)
            elif not source.github_token:
                variables.append("${{" + part.text + "}}")
        elif part.kind == PARAM:
            variables.append(part.text)
        elif part.kind == CMDSUB:
            command_output = True
        else:
            literal_chunks.append(part)
    literal = "".join(p.text for p in literal_chunks)
    unexpanded: list[UnexpandedText] = []
    if ctx.run is not None and ctx.run.shell == "pwsh" and ctx.span_override is None:
        # `'…=$env:NPM_TOKEN'`: PowerShell leaves it in single quotes, npm never expands
        # it. One variable, not `$env` plus a literal `:NPM_TOKEN`; blanked (offsets kept)
        # so the rest of the reading sees neither.
        for match in _PWSH_ENV_RE.finditer(literal):
            span = _literal_span(literal_chunks, match.start(), match.end(), ctx)
            unexpanded.append(UnexpandedText(match.group(), "$env:VAR", span))
        literal = _PWSH_ENV_RE.sub(lambda m: " " * len(m.group()), literal)
    references = tuple(m.group(2) for m in ENV_REFERENCE_RE.finditer(literal))
    for variable in unexpanded_variables(literal):
        span = _literal_span(literal_chunks, variable.start, variable.end, ctx)
        unexpanded.append(UnexpandedText(variable.text, variable.form, span))
    unexpanded.sort(key=lambda u: (u.span.line, u.span.column))
    remainder = ENV_REFERENCE_RE.sub("", literal)
    for variable in unexpanded_variables(remainder):
        remainder = remainder.replace(variable.text, "")
    remainder = remainder.strip().strip("\"'")
    literal_value = "" if not remainder or is_placeholder(remainder) else remainder
    literal_span = None
    if literal_value and literal_chunks:
        index = literal.find(literal_value)
        literal_span = _literal_span(
            literal_chunks, max(index, 0), max(index, 0) + len(literal_value), ctx
        )
    start = parts[0].start if parts else (value_parts[0].start if value_parts else 0)
    ctx.facts.config_writes.append(
        ConfigWrite(
            span=ctx.span(start),
            setting=setting,
            target=target,
            location=location,
            how=how,
            secrets=tuple(dict.fromkeys(secrets)),
            variables=tuple(dict.fromkeys(variables)),
            command_output=command_output,
            references=references,
            unexpanded=tuple(unexpanded),
            literal=literal_value,
            literal_span=literal_span,
        )
    )
    if references:
        ctx.facts.npmrc_references = ctx.facts.npmrc_references | frozenset(references)


def _trim(parts: list[Part], *, ini: bool) -> list[Part]:
    """The value as npm's ini reader keeps it: trimmed, cut at `;` or `#`."""
    kept: list[Part] = []
    for part in parts:
        if part.kind == LIT and ini:
            cut = re.search(r"(?<!\\)[;#]", part.text)
            if cut is not None:
                if cut.start():
                    kept.append(
                        Part(
                            LIT,
                            part.text[: cut.start()],
                            part.start,
                            part.start + cut.start(),
                            part.quote,
                        )
                    )
                break
        kept.append(part)
    while kept and kept[0].kind == LIT and not kept[0].text.strip():
        kept.pop(0)
    if kept and kept[0].kind == LIT:
        first = kept[0]
        lead = len(first.text) - len(first.text.lstrip())
        kept[0] = Part(LIT, first.text[lead:], first.start + lead, first.end, first.quote)
    while kept and kept[-1].kind == LIT and not kept[-1].text.strip():
        kept.pop()
    if kept and kept[-1].kind == LIT:
        last = kept[-1]
        kept[-1] = Part(LIT, last.text.rstrip(), last.start, last.end, last.quote)
    return kept


def _literal_span(chunks: list[Part], start: int, end: int, ctx: _Ctx) -> Span:
    """The file span of `literal[start:end]`, where literal joins `chunks`."""
    position = 0
    for chunk in chunks:
        if position + len(chunk.text) > start:
            offset = chunk.start + (start - position)
            return ctx.span(offset, offset + (end - start))
        position += len(chunk.text)
    return ctx.span(chunks[-1].start if chunks else 0)


def _npm_config_set(parsed: _Args, sub: str, command: Command, ctx: _Ctx) -> None:
    positionals = parsed.positionals[1:]
    if sub in ("config", "c"):
        if not positionals or positionals[0].text != "set":
            return
        positionals = positionals[1:]
    if not positionals:
        return
    location_flag = parsed.flags.get("--location") or parsed.flags.get("-L")
    if "--global" in parsed.flags or "-g" in parsed.flags or location_flag == "global":
        location, target = "global", "npm config (global)"
    elif location_flag == "project":
        location, target = ctx.location, "npm config (project .npmrc)"
    elif "--userconfig" in parsed.flags:
        word = parsed.flag_spans["--userconfig"]
        index = command.words.index(word) if word in command.words else -1
        given = command.words[index + 1] if 0 <= index < len(command.words) - 1 else None
        location = _path_location(given, ctx) if given is not None else "unknown"
        target = f"npm config ({parsed.flags['--userconfig']})"
    else:
        location, target = "user-config", "npm config (user)"
    pairs: list[tuple[str, list[Part]]] = []
    index = 0
    while index < len(positionals):
        word = positionals[index]
        split = _split_at(word.parts, "=")
        if split is not None and _text(split[0]).strip():
            pairs.append((_text(split[0]).strip(), split[1]))
            index += 1
        elif index + 1 < len(positionals):
            pairs.append((word.text, positionals[index + 1].parts))
            index += 2
        else:
            index += 1
    for setting, value in pairs:
        _record_setting(setting, value, ctx, target, location, "`npm config set`", ini=False)


# --- the credential flow -------------------------------------------------------------


def _credential_flow(workflow: Workflow) -> None:
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
            everything.extend(_call_credentials(workflow, job))
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
            view = _env_view(workflow, job, step)
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
    token_input = _PUBLISH_ACTIONS.get(action, ("", None, None))[2]
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


def _call_credentials(workflow: Workflow, job: Job) -> list[NpmCredential]:
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
