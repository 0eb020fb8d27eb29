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
from collections.abc import Sequence

from npm_guard._record import replace
from npm_guard.workflow.arguments import (
    Arguments,
    after_positional,
    is_dry_run,
    parse_arguments,
    program_name,
)
from npm_guard.workflow.context import CommandContext, Dispatch, path_location
from npm_guard.workflow.expressions import (
    ValueSource,
    is_credential_name,
    is_placeholder_literal,
    secret_references,
    value_source,
)
from npm_guard.workflow.follow_scripts import run_package_script, shell_script
from npm_guard.workflow.labels import script_summary, subcommand_word
from npm_guard.workflow.model import (
    EPHEMERAL,
    LITERAL,
    PROVIDED,
    STORED,
    ConfigWrite,
    DependencyCode,
    EnvEntry,
    EnvExport,
    InlineSecret,
    Input,
    Job,
    NpmCredential,
    Publish,
    Step,
    TokenCreate,
    Workflow,
)
from npm_guard.workflow.package_scripts import Selection, read_package
from npm_guard.workflow.positions import node_span
from npm_guard.workflow.script_writes import AUTH_SETTINGS, analyze_writes, npm_config_set
from npm_guard.workflow.shell import LIT, PARAM, Command, Part, Word, read_nested, read_script

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import Step
    from npm_guard.workflow.positions import Span


# Release tools that read NPM_TOKEN themselves (and write an .npmrc from it).
TOOL_READS = frozenset({"NODE_AUTH_TOKEN", "NPM_TOKEN"})


# Variables the npm CLI reads a credential from by itself: none. NODE_AUTH_TOKEN is read
# only through an .npmrc that refers to it (`${NODE_AUTH_TOKEN}`): the one
# actions/setup-node writes when given `registry-url`, the repository's own, or one an
# earlier step wrote; the step driver records those references per step.
NPM_READS: frozenset[str] = frozenset()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NPM_VALUE_FLAGS = frozenset(
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


def _publish(
    ctx: CommandContext,
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


def _env_registry(ctx: CommandContext) -> str | None:
    for name, source in ctx.env.items():
        if name.lower() == "npm_config_registry" and source.literal:
            return source.literal
    return None


def _package_registry(ctx: CommandContext) -> str | None:
    if ctx.workflow.repo_root is None or ctx.cwd is None:
        return None
    package = read_package(os.path.join(ctx.workflow.repo_root, ctx.cwd))
    return package.publish_registry if package is not None else None


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


def npm_command(
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
) -> None:
    parsed = parse_arguments(args, NPM_VALUE_FLAGS)
    if not parsed.positionals:
        return
    sub = parsed.positionals[0].text
    registry = parsed.flags.get("--registry")
    _inline_auth_flags(parsed, ctx)
    if sub == "publish":
        if not is_dry_run(parsed.flags):
            _publish(ctx, span, "npm publish", registry=registry)
    elif sub == "stage" and len(parsed.positionals) > 1 and parsed.positionals[1].text == "publish":
        if not is_dry_run(parsed.flags):
            _publish(ctx, span, "npm stage publish", staged=True, registry=registry)
    elif sub == "token" and len(parsed.positionals) > 1 and parsed.positionals[1].text == "create":
        _token_create(parsed, span, ctx, extra_env)
    elif sub in ("config", "c", "set"):
        npm_config_set(parsed, sub, command, ctx)
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
        run_package_script(
            script,
            f"npm {sub}".rstrip() if sub != "run" else f"npm run {script}",
            span,
            ctx,
            _selection(parsed.flags),
            pre_post=True,
        )
    elif sub in _NPM_EXEC:
        exec_package(
            args[args.index(parsed.positionals[0]) + 1 :],
            span,
            command,
            ctx,
            extra_env,
            f"npm {sub}",
        )
    elif sub in _NPM_REGISTRY:
        ctx.facts.registry_commands.append(f"npm {sub}")


def _inline_auth_flags(parsed: Arguments, ctx: CommandContext) -> None:
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
    flags: dict[str, str | None], ctx: CommandContext, extra_env: dict[str, ValueSource]
) -> bool:
    if "--ignore-scripts" in flags and flags["--ignore-scripts"] not in ("false", "0"):
        return True
    for env in (extra_env, ctx.env):
        for name, source in env.items():
            if name.lower() == "npm_config_ignore_scripts" and source.literal in ("true", "1"):
                return True
    return False


def _token_create(
    parsed: Arguments, span: Span, ctx: CommandContext, extra_env: dict[str, ValueSource]
) -> None:
    flags = dict(parsed.flags)
    for env in (ctx.env, extra_env):
        for name, source in env.items():
            lower = name.lower()
            if lower.startswith("npm_config_"):
                flag = "--" + lower[len("npm_config_") :].replace("_", "-")
                flags.setdefault(flag, source.literal or source.text)
    ctx.facts.token_creates.append(TokenCreate(span, flags, ctx.via))
    ctx.facts.registry_commands.append("npm token create")


def exec_package(
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
    runner: str,
) -> None:
    """`npx tool …`, `npm exec -- tool …`, `pnpm dlx`, `bunx`: run a package's binary."""
    parsed = parse_arguments(args, frozenset({"-p", "--package", "-c", "--call", "--registry"}))
    ctx.facts.dependency_code.append(DependencyCode(span, runner, False))
    call = parsed.flags.get("-c") or parsed.flags.get("--call")
    if call:
        ctx.dispatch.commands(read_nested(call, 0, ctx.depth + 1), ctx.nested(span, f"{runner} -c"))
        return
    rest = parsed.rest
    if parsed.positionals:
        rest = after_positional(args, parsed.positionals[0])
        rest.insert(0, parsed.positionals[0])
    if not rest or rest[0].literal is None:
        return
    tool = _package_binary(rest[0].literal)
    first = Word([Part(LIT, tool, rest[0].start, rest[0].end)], rest[0].start, rest[0].end)
    ctx.dispatch.command([first, *rest[1:]], command, ctx, extra_env, span=span)


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


def yarn_command(
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
) -> None:
    parsed = parse_arguments(args, frozenset({"--cwd"}))
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
        if not is_dry_run(parsed.flags):
            _publish(ctx, span, "yarn publish", registry=parsed.flags.get("--registry"))
    elif first == "npm" and rest and rest[0].text == "publish":
        if not is_dry_run(parsed.flags):
            _publish(
                ctx,
                span,
                "yarn npm publish",
                reads=frozenset({"YARN_NPM_AUTH_TOKEN", "NODE_AUTH_TOKEN"}),
            )
    elif first == "workspaces" and rest and rest[0].text == "foreach":
        inner = after_positional(args, rest[0])
        inner_args = parse_arguments(
            inner, frozenset({"--from", "--include", "--exclude", "-j", "--jobs", "--since"})
        )
        if inner_args.positionals:
            start = inner.index(inner_args.positionals[0])
            yarn_command(inner[start:], span, command, replace(ctx, via=ctx.via), extra_env)
    elif first == "workspace" and len(rest) >= 2:
        yarn_command(after_positional(args, rest[0]), span, command, ctx, extra_env)
    elif first in ("dlx", "exec"):
        exec_package(
            after_positional(args, parsed.positionals[0]),
            span,
            command,
            ctx,
            extra_env,
            f"yarn {first}",
        )
    elif first == "run" and rest:
        ctx.facts.dependency_code.append(DependencyCode(span, "yarn run", False))
        run_package_script(
            rest[0].text, f"yarn run {rest[0].text}", span, ctx, Selection(), pre_post=True
        )
    elif first == "config" and rest and rest[0].text == "set":
        pass
    elif first not in _YARN_BUILTINS:
        shown = subcommand_word(first) or "<script>"  # a positional: never quote a value
        ctx.facts.dependency_code.append(DependencyCode(span, f"yarn {shown}", False))
        run_package_script(first, f"yarn {first}", span, ctx, Selection(), pre_post=True)


def pnpm_command(
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
) -> None:
    parsed = parse_arguments(args, _PNPM_VALUE_FLAGS)
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
        if not is_dry_run(parsed.flags):
            _publish(ctx, span, "pnpm publish", registry=parsed.flags.get("--registry"))
    elif first in ("exec", "dlx"):
        exec_package(
            after_positional(args, parsed.positionals[0]),
            span,
            command,
            ctx,
            extra_env,
            f"pnpm {first}",
        )
    elif first in ("run", "run-script") and rest:
        ctx.facts.dependency_code.append(DependencyCode(span, "pnpm run", False))
        run_package_script(
            rest[0].text,
            f"pnpm run {rest[0].text}",
            span,
            ctx,
            _selection(parsed.flags),
            pre_post=False,
        )
    elif first in ("test", "t", "tst", "start"):
        script = "test" if first != "start" else "start"
        run_package_script(
            script, f"pnpm {first}", span, ctx, _selection(parsed.flags), pre_post=False
        )
    elif first not in _PNPM_BUILTINS:
        shown = subcommand_word(first) or "<script>"  # a positional: never quote a value
        ctx.facts.dependency_code.append(DependencyCode(span, f"pnpm {shown}", False))
        run_package_script(
            first, f"pnpm {first}", span, ctx, _selection(parsed.flags), pre_post=False
        )


def bun_command(
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
) -> None:
    parsed = parse_arguments(args, frozenset({"--cwd", "--registry", "--filter", "-F"}))
    if not parsed.positionals:
        return
    first = parsed.positionals[0].text
    rest = parsed.positionals[1:]
    if first in ("install", "i", "add", "a", "update"):
        ctx.facts.dependency_code.append(DependencyCode(span, f"bun {first}", False))
    elif first == "publish":
        if not is_dry_run(parsed.flags):
            _publish(ctx, span, "bun publish", registry=parsed.flags.get("--registry"))
    elif first == "x":
        exec_package(
            after_positional(args, parsed.positionals[0]), span, command, ctx, extra_env, "bun x"
        )
    elif first == "run" and rest:
        ctx.facts.dependency_code.append(DependencyCode(span, "bun run", False))
        run_package_script(
            rest[0].text,
            f"bun run {rest[0].text}",
            span,
            ctx,
            _selection(parsed.flags),
            pre_post=True,
        )
    elif "." not in first and "/" not in first:
        run_package_script(
            first, f"bun {first}", span, ctx, _selection(parsed.flags), pre_post=True
        )


def release_tool_command(name: str, args: list[Word], span: Span, ctx: CommandContext) -> None:
    parsed = parse_arguments(args, NPM_VALUE_FLAGS)
    positionals = [w.text for w in parsed.positionals]
    if is_dry_run(parsed.flags) or ("--no-ci" in parsed.flags and name == "semantic-release"):
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


# What actions/setup-node with `registry-url` writes into $RUNNER_TEMP/.npmrc (and points
# NPM_CONFIG_USERCONFIG at) refers to this variable.
SETUP_NODE_REFERENCE = "NODE_AUTH_TOKEN"


UNTRUSTED_REF_RE = re.compile(
    r"head\.(?:sha|ref)|head_ref|head_sha|head_branch|head\.repo|refs/pull/|"
    r"pull_request\.number|issue\.number|merge_commit_sha|event\.number",
    re.IGNORECASE,
)


PUBLISH_ACTIONS: dict[str, tuple[str, frozenset[str] | None, str | None]] = {
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


def analyze_uses(step: Step, action: str, registry: str | None) -> None:
    facts = step.facts
    uses_span = node_span(step.uses_node) if step.uses_node is not None else step.span
    if action == "actions/setup-node":
        url = step.inputs.get("registry-url")
        if url is not None and url.text.strip():
            facts.sets_registry = url.text.strip()
    elif action == "actions/checkout":
        for name in ("ref", "repository"):
            given = step.inputs.get(name)
            if given is not None and UNTRUSTED_REF_RE.search(given.text):
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
    elif action in PUBLISH_ACTIONS:
        command, reads, token_input = PUBLISH_ACTIONS[action]
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


def token_input_of(action: str) -> str | None:
    """The input through which a known publishing action takes its npm token."""
    known = PUBLISH_ACTIONS.get(action)
    return known[2] if known is not None else None


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
