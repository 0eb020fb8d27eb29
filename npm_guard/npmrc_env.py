"""`${VAR}` in `.npmrc` values: what npm expands, and what only looks expandable.

npm (`@npmcli/config`'s env-replace, with the `?` modifier of npm 11.6+) expands
`${VAR}` and nothing else; `$VAR`, `%VAR%`, `$(VAR)`, `{{VAR}}`, `${{ … }}` and an
escaped `\\${VAR}` reach the registry as literal text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from npm_guard._record import dataclass

# env-replace.js of npm 11.6+: /(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g
ENV_REFERENCE_RE = re.compile(r"(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}")


# npm hands env-replace `process.env`, which inherits these from its prototype: an unset
# `${toString}` expands to the function's text, as node prints it.
_PROCESS_ENV_INHERITED = {
    "__proto__": "[object Object]",
    "constructor": "function () { [native code] }",
    **{
        name: f"function {name}() {{ [native code] }}"
        for name in (
            "__defineGetter__",
            "__defineSetter__",
            "hasOwnProperty",
            "__lookupGetter__",
            "__lookupSetter__",
            "isPrototypeOf",
            "propertyIsEnumerable",
            "toString",
            "valueOf",
            "toLocaleString",
        )
    },
}


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """npm's env-replace: `${VAR}` → value (left as is when unset), `${VAR?}` → value or ``."""

    def substitute(match: re.Match[str]) -> str:
        escapes, name, modifier = match.group(1), match.group(2), match.group(3)
        if len(escapes) % 2:
            return match.group(0)[(len(escapes) + 1) // 2 :]
        if name in env:
            replacement = env[name]
        elif name in _PROCESS_ENV_INHERITED:
            replacement = _PROCESS_ENV_INHERITED[name]
        else:
            replacement = "" if modifier == "?" else "${" + name + "}"
        return escapes[len(escapes) // 2 :] + replacement

    return ENV_REFERENCE_RE.sub(substitute, text)


@dataclass(frozen=True)
class EnvReference:
    name: str
    optional: bool
    start: int
    end: int


def env_references(text: str) -> list[EnvReference]:
    """The `${VAR}` / `${VAR?}` references npm would expand (escaped ones excluded)."""
    refs = []
    for match in ENV_REFERENCE_RE.finditer(text):
        if len(match.group(1)) % 2:
            continue
        start = match.start() + len(match.group(1))
        refs.append(EnvReference(match.group(2), match.group(3) == "?", start, match.end()))
    return refs


@dataclass(frozen=True)
class UnexpandedVariable:
    """Text that looks like a variable but that npm sends literally."""

    text: str
    form: str  # "$VAR", "%VAR%", "$(VAR)", "{{VAR}}", "${{ … }}", "\\${VAR}"
    start: int
    end: int


_UNEXPANDED_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # A backslash not after a backslash, then pairs, then `\$` (an odd run before `$`);
    # written to start with the literal backslash, so that it is searched for, fast.
    ("\\${VAR}", re.compile(r"\\(?<!\\\\)(?:\\\\)*\$\{[^${}?]+\??\}")),
    ("$(VAR)", re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)")),
    ("{{VAR}}", re.compile(r"\{(?<!\$\{)\{\s*[A-Za-z_][A-Za-z0-9_.]*\s*\}\}")),
    ("%VAR%", re.compile(r"%[A-Za-z_][A-Za-z0-9_]*%")),
    ("$VAR", re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")),
)


def _github_expressions(text: str) -> Iterator[tuple[int, int]]:
    """Spans of `${{ … }}` with no `}` inside: what `\\$\\{\\{[^}]*\\}\\}` finds, in one
    pass (that pattern retries from every `${{` up to the next `}`: quadratic on a
    value of many `${{` and no `}`)."""
    position = 0
    while True:
        start = text.find("${{", position)
        if start < 0:
            return
        close = text.find("}", start + 3)
        if close < 0:
            return
        if text.startswith("}}", close):
            yield start, close + 2
            position = close + 2
        else:
            # Every `${{` before this `}` stops at it too, and fails the same way.
            position = close + 1


def unexpanded_variables(text: str) -> list[UnexpandedVariable]:
    """Variable-like text npm will not expand: only unescaped `${VAR}` is expanded.

    Forms are tried in order; a later form's match that overlaps an earlier one is not
    reported. Linear in the text: each form is one pass, and the overlap check looks at
    the span's own characters only.
    """
    if "$" not in text and "%" not in text and "{" not in text:
        return []  # every form has one of these: most values are plain (most files)
    found: list[UnexpandedVariable] = []
    taken = bytearray(len(text))  # 1 where an earlier match already covers the text
    spans = [("${{ … }}", start, end) for start, end in _github_expressions(text)]
    for form, pattern in _UNEXPANDED_RES:
        spans.extend((form, *match.span()) for match in pattern.finditer(text))
    for form, start, end in spans:
        if form == "\\${VAR}":
            start = text.index("\\$", start)
        if taken.find(1, start, end) >= 0:
            continue
        taken[start:end] = b"\x01" * (end - start)
        found.append(UnexpandedVariable(text[start:end], form, start, end))
    found.sort(key=lambda v: v.start)
    return found
