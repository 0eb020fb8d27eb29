"""What a step is called in a message: never a value it holds.

An unnamed `run:` step is labelled by what it runs (`npm publish`, `pnpm run release`),
and only by words that cannot be a credential: a program name and, for tools with
subcommands, the subcommand; never an assignment, a flag or an argument. Everything
shown is scrubbed of tokens and of the file's literal credentials.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from npm_guard.lazy_pattern import lazy_compile
from npm_guard.secrets import scrub

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.shell_words import Script


def shown(text: str, limit: int = 60, secrets: Iterable[str] = ()) -> str:
    """Value text fit for a message: scrubbed of tokens (and `secrets`), one line, short."""
    first = scrub(text.strip().splitlines()[0] if text.strip() else "", tuple(secrets))
    return first if len(first) <= limit else first[: limit - 1] + "…"


# What a step's script runs, shown without ever quoting a value: a program name and,
# for tools with subcommands, a subcommand of lower-case letters, `-` and `:` only.
# Words that look generated are never shown: capitals mixed with digits, or more than
# 16 characters without a separator (`semantic-release` has one, a token has none).
_PROGRAM_RE = re.compile(r"[A-Za-z][A-Za-z0-9._+-]{0,31}")
_SUBCOMMAND_RE = re.compile(r"[a-z][a-z:-]{0,31}")
_SEPARATOR_RE = lazy_compile(r"[-._:+]")


def _looks_generated(word: str) -> bool:
    if re.search(r"[0-9]", word) and re.search(r"[A-Z]", word):
        return True
    return len(word) > 16 and not _SEPARATOR_RE.search(word)


_SUBCOMMAND_TOOLS = frozenset(
    {"npm", "pnpm", "yarn", "bun", "npx", "bunx", "corepack", "git", "gh", "lerna", "changeset"}
    | {"nx", "docker", "pn", "pnx", "pnpx", "yarnpkg"}
)
# Shell bookkeeping that says nothing about what a step does.
_BOOKKEEPING = frozenset({"set", "trap", "shopt", "umask"})
_SCRIPT_RUNNERS = frozenset({"run", "run-script", "exec", "dlx", "x", "workspace"})


def program_word(text: str | None) -> str | None:
    """`npm`, `release.sh`, `Out-File`: a command name safe to show, or None."""
    if text is None:
        return None
    name = text.replace("\\", "/").rsplit("/", 1)[-1]
    if not _PROGRAM_RE.fullmatch(name) or _looks_generated(name):
        return None
    return name


def subcommand_word(text: str | None) -> str | None:
    """`publish`, `run`, `release:npm`: a subcommand safe to show, or None."""
    if text is None or not _SUBCOMMAND_RE.fullmatch(text) or _looks_generated(text):
        return None
    return text


def script_summary(script: Script) -> str | None:
    """`npm publish`, `pnpm run release`, `echo`: what a script runs first, never a value.

    Only the first command's program and, for tools with subcommands, the words that
    name the subcommand; never an assignment, a flag or an argument, which can hold a
    credential (`NPM_TOKEN=… npm publish`, `npm config set …=…`).
    """
    for command in script.commands:
        if command.substitution_depth or not command.words:
            continue
        program = program_word(command.words[0].literal)
        if program is None:
            return None
        if program in _BOOKKEEPING:
            continue
        words = [program]
        if program in _SUBCOMMAND_TOOLS:
            for word in command.words[1:3]:
                sub = subcommand_word(word.literal)
                if sub is None:
                    break
                words.append(sub)
                if sub not in _SCRIPT_RUNNERS:
                    break
        return " ".join(words)
    return None
