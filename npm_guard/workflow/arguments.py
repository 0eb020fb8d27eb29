"""A command's words as a command-line parser sees them: program, flags, positionals.

Grammar-free: which flags take a value is the caller's (`package_managers` knows npm's,
pnpm's, yarn's; `script_writes` knows `tee`'s).
"""

from __future__ import annotations

from collections.abc import Sequence

from npm_guard._record import dataclass
from npm_guard.workflow.shell_words import Word


def program_name(word: Word) -> str:
    """The program a word names: `npm` for `/usr/bin/npm`, `npm.cmd` or `npm.ps1`."""
    literal = word.literal
    if literal is None:
        return ""
    base = literal.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".cmd", ".exe", ".ps1"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
    return base


@dataclass
class Arguments:
    """A command's words sorted as its parser would: positionals, flags, and after `--`."""

    positionals: list[Word]
    flags: dict[str, str | None]
    flag_spans: dict[str, Word]
    rest: list[Word]  # words after `--`


def parse_arguments(words: Sequence[Word], value_flags: frozenset[str]) -> Arguments:
    """Flags (with the value of those in `value_flags`), positionals, and what follows `--`."""
    positionals: list[Word] = []
    flags: dict[str, str | None] = {}
    flag_spans: dict[str, Word] = {}
    index = 0
    while index < len(words):
        word = words[index]
        text = word.text
        if text == "--":
            return Arguments(positionals, flags, flag_spans, list(words[index + 1 :]))
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
    return Arguments(positionals, flags, flag_spans, [])


def after_positional(args: list[Word], positional: Word) -> list[Word]:
    """The words after `positional` (the very word, not an equal one)."""
    for index, word in enumerate(args):
        if word is positional:
            return args[index + 1 :]
    return []


def is_dry_run(flags: dict[str, str | None]) -> bool:
    """`--dry-run` / `-d` given (and not set to false)."""
    return any(name in flags and flags[name] not in ("false", "0") for name in ("--dry-run", "-d"))
