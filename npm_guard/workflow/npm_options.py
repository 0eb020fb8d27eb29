"""npm's command-line options as its parser (nopt) reads them, for `npm token create`."""

from __future__ import annotations

from npm_guard.workflow.model import TokenCreate

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.context import CommandContext
    from npm_guard.workflow.expressions import ValueSource
    from npm_guard.workflow.positions import Span
    from npm_guard.workflow.shell_words import Word

# `npm token create`'s boolean options (npm 12.2.3 `@npmcli/config` definitions.js:
# `read-only` 2040-2048, `bypass-2fa` 396-404, `packages-all` 2333-2342) and those that
# take a value; any other flag is read as nopt reads an unknown one.
_TOKEN_BOOLEANS = frozenset(
    {"read-only", "bypass-2fa", "packages-all", "json", "parseable", "dry-run", "yes"}
)
_TOKEN_VALUES = frozenset(
    {
        "name",
        "token-description",
        "expires",
        "packages",
        "scopes",
        "orgs",
        "packages-and-scopes-permission",
        "orgs-permission",
        "cidr",
        "password",
        "otp",
        "registry",
    }
)


def npm_option_flags(words: list[Word]) -> dict[str, str | None]:
    """A command's flags as npm's option parser (nopt 10.0.1, npm 12.2.3) reads them.

    `--x=v` is `--x v` (nopt-lib.js 254-262); `--no-x` negates x (276-279); a boolean
    takes the next word only when it is `true` or `false` (310-341), otherwise the word
    is a positional and the flag is true, so `--read-only false`, `--read-only=false`
    and `--no-read-only` are false and `--read-only=yes` is true; `--readonly` is
    `--read-only`; the last occurrence wins. Booleans come out as "true" / "false".
    """
    tokens: list[tuple[str, bool]] = []  # (word, came from `--x=v`)
    for word in words:
        text = word.text
        if text.startswith("-") and "=" in text and not text.startswith("-="):
            name, value = text.split("=", 1)
            tokens += [(name, False), (value, True)]
        else:
            tokens.append((text, False))
    flags: dict[str, str | None] = {}
    index = 0
    while index < len(tokens):
        arg, _ = tokens[index]
        index += 1
        if arg.strip("-") == "" and len(arg) >= 2:
            break  # `--`: the rest are positionals
        if not arg.startswith("-") or len(arg) < 2:
            continue
        name = arg.lstrip("-")
        negated: bool | None = None
        while name.lower().startswith("no-"):
            negated = not negated
            name = name[3:]
        if name == "readonly":
            name = "read-only"
        following = tokens[index][0] if index < len(tokens) else None
        from_equals = index < len(tokens) and tokens[index][1]
        boolean = negated is not None or name in _TOKEN_BOOLEANS
        if not boolean and name not in _TOKEN_VALUES and not from_equals:
            boolean = True  # an unknown flag without `=`
        if boolean:
            on = not negated
            if following in ("true", "false"):
                on = (following == "true") != bool(negated)
                index += 1
            flags[f"--{name}"] = "true" if on else "false"
            continue
        if following is None or (following.startswith("-") and not from_equals):
            flags[f"--{name}"] = ""  # no value: npm drops or rejects it
            continue
        flags[f"--{name}"] = following
        index += 1
    return flags


def token_create(
    args: list[Word], span: Span, ctx: CommandContext, extra_env: dict[str, ValueSource]
) -> None:
    flags = npm_option_flags(args)
    for env in (ctx.env, extra_env):
        for name, source in env.items():
            lower = name.lower()
            if lower.startswith("npm_config_"):
                flag = "--" + lower[len("npm_config_") :].replace("_", "-")
                flags.setdefault(flag, source.literal or source.text)
    ctx.facts.token_creates.append(TokenCreate(span, flags, ctx.via))
    ctx.facts.registry_commands.append("npm token create")
