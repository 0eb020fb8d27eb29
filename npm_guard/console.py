"""Everything npm-guard prints, on stdout or stderr, goes out through `write()` here.

One way out, so that every line of every command (the scan, the hooks, `audit`,
`attest`, the Action, notices, errors, tracebacks under `--debug`, argparse's usage
messages) gets the treatment findings get, whatever built it:

- `scrub()`: token-shaped strings, URL user info (`//ci:***@host/` too) and the secrets
  registered for the run (`register_secrets()`: the audit's token, the Action's) are
  redacted;
- inside GitHub Actions (`GITHUB_ACTIONS=true`), and for the `github` format anywhere,
  no line can begin a workflow command that npm-guard did not build: the runner reads
  `::name …::` at the start of a line (after white space) and the legacy `##[name …]`
  anywhere in one, and a path or value from the repository could hold either. Plain
  lines go through `plain_line()`; JSON reports keep their values and escape `##[` as
  `##\\u005b` (a line of `json.dumps` output cannot start inside a string, so `::` is
  never at the start of one); a line that is a command npm-guard built
  (`commands=True`: annotations, masks) is kept only when it has the exact shape
  `workflow_command()` gives it.

tests/test_console.py keeps the class closed: no other module of the package names
`print`, `sys.stdout` or `sys.stderr`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable

from npm_guard.constants import JSON_FORMATS
from npm_guard.lazy_pattern import lazy_compile

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from typing import TextIO, Union

    Sink = Union[TextIO, Callable[[str], object], None]

STDOUT = "stdout"
STDERR = "stderr"
# The commands npm-guard itself prints, with properties escaped by escape_property()
# (which leaves no `,` or `:` in a value).
_OWN_COMMAND_RE = lazy_compile(
    r"::(?:error|warning|notice|debug|add-mask)"
    r"(?: [A-Za-z]+=[^,:\r\n]*(?:,[A-Za-z]+=[^,:\r\n]*)*)?::"
)

_secrets: list[str] = []


def register_secrets(values: Iterable[str]) -> None:
    """Values no line may show from now on (the token of an audit, of the Action)."""
    for value in values:
        if value and value not in _secrets:
            _secrets.append(value)


def forget_secrets(values: Iterable[str] | None = None) -> None:
    """Stop redacting `values` (all of them when None): the run that had them is over."""
    if values is None:
        _secrets.clear()
        return
    for value in values:
        if value in _secrets:
            _secrets.remove(value)


def in_actions() -> bool:
    """True inside a GitHub Actions job, where the runner reads workflow commands."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def clean(
    text: str, *, fmt: str | None = None, commands: bool = False, secrets: Iterable[str] = ()
) -> str:
    """`text` as it may be printed: scrubbed, and in Actions (or for the `github` format)
    unable to start a workflow command npm-guard did not build."""
    from npm_guard.secrets import scrub

    text = scrub(text, [*_secrets, *secrets])
    if fmt == "github" or in_actions():
        text = neutralise(text, fmt=fmt, commands=commands)
    return text


def neutralise(text: str, *, fmt: str | None = None, commands: bool = False) -> str:
    """`text` with no line that starts a workflow command, unless `commands` allows the
    ones npm-guard builds. JSON (`fmt` json or sarif) stays the same JSON."""
    if fmt in JSON_FORMATS:
        return _neutralise_json(text)
    from npm_guard.report.github import plain_line

    lines = text.split("\n")
    for index, line in enumerate(lines):
        if commands and _OWN_COMMAND_RE.match(line) and "\r" not in line:
            continue
        if line:
            lines[index] = plain_line(line)
    return "\n".join(lines)


def _neutralise_json(text: str) -> str:
    """`##[` escaped inside JSON strings (`#` appears nowhere else in JSON), and the first
    `:` of a line that would start with `::` (json.dumps never writes one; a string
    escape keeps it JSON should it ever happen)."""
    text = text.replace("##[", "##\\u005b")
    if "::" not in text:
        return text
    lines = text.split("\n")
    for index, line in enumerate(lines):
        body = line.lstrip()
        if body.startswith("::") or _starts_command_after_invisible(line):
            start = line.index("::")
            lines[index] = f"{line[:start]}\\u003a{line[start + 1 :]}"
    return "\n".join(lines)


def _starts_command_after_invisible(line: str) -> bool:
    start = line.find("::")
    return start > 0 and all(c.isspace() or not c.isprintable() for c in line[:start])


def write(
    text: str,
    stream: str | Sink = STDOUT,
    *,
    fmt: str | None = None,
    commands: bool = False,
    secrets: Iterable[str] = (),
) -> None:
    """Print `text` (as given: add the newline yourself) on `stream`: `"stdout"`,
    `"stderr"`, a file object or a write function (tests, the Action's writer)."""
    if not text:
        return
    shown = clean(text, fmt=fmt, commands=commands, secrets=secrets)
    if stream == STDOUT or stream is None:
        sys.stdout.write(shown)
    elif stream == STDERR:
        sys.stderr.write(shown)
    elif callable(stream):
        stream(shown)
    else:
        stream.write(shown)  # type: ignore[union-attr]


_MASK_RE = lazy_compile(r"::add-mask::[^\r\n]+")


def write_masks(commands: Iterable[str], stream: str | Sink = STDOUT) -> None:
    """`::add-mask::` lines, as mask_commands() builds them, and nothing else: the one
    output that holds a secret, unscrubbed (a redacted mask would hide the wrong text).
    The runner reads them and never shows them in the log."""
    lines = list(commands)
    for line in lines:
        if not _MASK_RE.fullmatch(line):
            raise ValueError("not an add-mask command")
    text = "".join(f"{line}\n" for line in lines)
    if not text:
        return
    if stream == STDOUT or stream is None:
        sys.stdout.write(text)
    elif callable(stream):
        stream(text)
    else:
        stream.write(text)  # type: ignore[union-attr]


def out(text: str, *, fmt: str | None = None, secrets: Iterable[str] = ()) -> None:
    """A line on stdout (a newline is added), through `write()`."""
    write(text + "\n", STDOUT, fmt=fmt, secrets=secrets)


def err(text: str, *, fmt: str | None = None, secrets: Iterable[str] = ()) -> None:
    """A line on stderr (a newline is added), through `write()`."""
    write(text + "\n", STDERR, fmt=fmt, secrets=secrets)


def flush_stderr() -> None:
    sys.stderr.flush()


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (progress is shown only there)."""
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def stderr_columns() -> int:
    """The width of the terminal stderr is on; OSError/ValueError when there is none."""
    return os.get_terminal_size(sys.stderr.fileno()).columns
