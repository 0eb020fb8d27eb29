"""npm, pnpm, yarn, bun, npx and the release tools, read the way each parses its words.

Which words are flags that take a value, which subcommands install (and run
dependencies' lifecycle scripts unless told not to), publish (unless `--dry-run`), run
a package.json script (npm's `run`, `test`, `start`; yarn's and pnpm's bare script
names; bun's), run a package's binary (`npx`, `npm exec`, `pnpm dlx`, `yarn dlx`,
`bunx`), create a token (`npm token create`, its flags read in `npm_options.py`) or set
config (`npm config set`). Which release tools publish: `release_tools.py`.
"""

from __future__ import annotations

import posixpath

from npm_guard._record import replace
from npm_guard.workflow.arguments import (
    Arguments,
    after_positional,
    is_dry_run,
    parse_arguments,
)
from npm_guard.workflow.context import CommandContext
from npm_guard.workflow.expressions import ValueSource, value_source
from npm_guard.workflow.follow_scripts import run_package_script
from npm_guard.workflow.labels import subcommand_word
from npm_guard.workflow.model import DependencyCode, Publish
from npm_guard.workflow.npm_options import token_create
from npm_guard.workflow.package_scripts import Need, Selection, read_package
from npm_guard.workflow.script_writes import AUTH_SETTINGS, npm_config_set
from npm_guard.workflow.shell_bash import read_nested
from npm_guard.workflow.shell_words import LIT, Command, Part, Word

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.positions import Span

# Release tools that read NPM_TOKEN themselves (and write an .npmrc from it).
TOOL_READS = frozenset({"NODE_AUTH_TOKEN", "NPM_TOKEN"})


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


def record_publish(
    ctx: CommandContext,
    span: Span,
    command: str,
    *,
    staged: bool = False,
    registry: str | None = None,
    reads: frozenset[str] | None = frozenset(),
) -> None:
    """A publish the command performs. `reads` are the variables the publishing tool
    reads a credential from by itself: for npm none (the default). NODE_AUTH_TOKEN is read
    only through an .npmrc that refers to it (`${NODE_AUTH_TOKEN}`): the one
    actions/setup-node writes when given `registry-url`, the repository's own, or one an
    earlier step wrote; the step driver records those references per step."""
    ctx.facts.publishes.append(
        Publish(
            span,
            command,
            staged=staged,
            via=ctx.via,
            registry=registry
            or _env_registry(ctx)
            or ctx.registry
            or _package_registry(ctx, span, command),
            reads=reads,
            inferred=ctx.inferred,
            confidence="medium" if ctx.inferred else None,
        )
    )


def _env_registry(ctx: CommandContext) -> str | None:
    for name, source in ctx.env.items():
        if name.lower() == "npm_config_registry" and source.literal:
            return source.literal
    return None


def _package_registry(ctx: CommandContext, span: Span, command: str) -> str | None:
    """`publishConfig.registry` of the package.json where the publish runs."""
    directory = ctx.in_repository()
    if directory is None:
        return None
    need = Need(span, f"to know where `{command}` publishes")
    package = read_package(ctx.consulted, directory, need)
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
    """`npm <subcommand> …`: publish, token create, config set, install, run, exec."""
    parsed = parse_arguments(args, NPM_VALUE_FLAGS)
    if not parsed.positionals:
        return
    sub = parsed.positionals[0].text
    registry = parsed.flags.get("--registry")
    _inline_auth_flags(parsed, ctx)
    if sub == "publish":
        if not is_dry_run(parsed.flags):
            record_publish(ctx, span, "npm publish", registry=registry)
    elif sub == "stage" and len(parsed.positionals) > 1 and parsed.positionals[1].text == "publish":
        if not is_dry_run(parsed.flags):
            record_publish(ctx, span, "npm stage publish", staged=True, registry=registry)
    elif sub == "token" and len(parsed.positionals) > 1 and parsed.positionals[1].text == "create":
        token_create(args, span, ctx, extra_env)
    elif sub in ("config", "c", "set"):
        npm_config_set(parsed, sub, command, ctx)
    elif sub in _NPM_INSTALL:
        scripts = not _ignores_scripts(parsed.flags, ctx, extra_env)
        ctx.facts.dependency_code.append(DependencyCode(span, f"npm {sub}", scripts))
        ctx.facts.registry_commands.append(f"npm {sub}")
    elif sub in _NPM_RUN or sub in _NPM_SCRIPT_COMMANDS:
        script = _NPM_SCRIPT_COMMANDS.get(sub)
        name_word = parsed.positionals[0]
        if script is None:
            if len(parsed.positionals) < 2:
                return
            name_word = parsed.positionals[1]
            script = name_word.text
        # npm hands the script the positionals after its name and what follows `--`;
        # flags before `--` are npm's own config.
        after = after_positional(args, name_word)
        passed = [w for w in after if any(w is p for p in parsed.positionals)]
        ctx.facts.dependency_code.append(DependencyCode(span, f"npm {sub}", False))
        run_package_script(
            script,
            f"npm {sub}".rstrip() if sub != "run" else f"npm run {script}",
            span,
            ctx,
            _selection(parsed.flags),
            pre_post=True,
            arguments=[*passed, *parsed.rest],
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
    """`yarn …`, classic and berry: install, publish, npm publish, workspaces, dlx, scripts."""
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
            record_publish(ctx, span, "yarn publish", registry=parsed.flags.get("--registry"))
    elif first == "npm" and rest and rest[0].text == "publish":
        if not is_dry_run(parsed.flags):
            record_publish(
                ctx,
                span,
                "yarn npm publish",
                reads=yarn_reads(ctx) | {"NODE_AUTH_TOKEN"},
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
            rest[0].text,
            f"yarn run {rest[0].text}",
            span,
            ctx,
            Selection(),
            pre_post=True,
            arguments=after_positional(args, rest[0]),
        )
    elif first == "config" and rest and rest[0].text == "set":
        pass
    elif first not in _YARN_BUILTINS:
        shown = subcommand_word(first) or "<script>"  # a positional: never quote a value
        ctx.facts.dependency_code.append(DependencyCode(span, f"yarn {shown}", False))
        run_package_script(
            first,
            f"yarn {first}",
            span,
            ctx,
            Selection(),
            pre_post=True,
            arguments=after_positional(args, parsed.positionals[0]),
        )


def pnpm_command(
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
) -> None:
    """`pnpm …`: install, publish, exec/dlx, run and bare script names, `-C`/`--dir`."""
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
            record_publish(ctx, span, "pnpm publish", registry=parsed.flags.get("--registry"))
    elif first in ("config", "c"):
        npm_config_set(parsed, "config", command, ctx, tool="pnpm")
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
            arguments=after_positional(args, rest[0]),
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
            first,
            f"pnpm {first}",
            span,
            ctx,
            _selection(parsed.flags),
            pre_post=False,
            arguments=after_positional(args, parsed.positionals[0]),
        )


def bun_command(
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
) -> None:
    """`bun …`: install, publish, x, run and bare script names."""
    parsed = parse_arguments(args, frozenset({"--cwd", "--registry", "--filter", "-F"}))
    if not parsed.positionals:
        return
    first = parsed.positionals[0].text
    rest = parsed.positionals[1:]
    if first in ("install", "i", "add", "a", "update"):
        ctx.facts.dependency_code.append(DependencyCode(span, f"bun {first}", False))
    elif first == "publish":
        if not is_dry_run(parsed.flags):
            record_publish(ctx, span, "bun publish", registry=parsed.flags.get("--registry"))
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
            arguments=after_positional(args, rest[0]),
        )
    elif "." not in first and "/" not in first:
        run_package_script(
            first,
            f"bun {first}",
            span,
            ctx,
            _selection(parsed.flags),
            pre_post=True,
            arguments=after_positional(args, parsed.positionals[0]),
        )


def yarn_reads(ctx: CommandContext) -> frozenset[str]:
    """What Yarn Berry authenticates with: YARN_NPM_AUTH_TOKEN, and the variables the
    repository's .yarnrc.yml puts into `npmAuthToken` / `npmAuthIdent`."""
    return frozenset({"YARN_NPM_AUTH_TOKEN"}) | ctx.workflow.yarnrc_variables
