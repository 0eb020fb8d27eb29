"""`.npmrc` read exactly as npm reads it, with the position of every key and value.

Reproduces npm's `ini` package (v6, bundled with npm 11) line by line, and
`@npmcli/config`'s `${VAR}` expansion (env-replace, with the `?` modifier of npm 11.6+).
The differential test in `tests/test_npmrc_oracle.py` runs npm's own code on the same
inputs and compares.

JavaScript's idea of white space differs from Python's (`\\ufeff` is white space to
`String.prototype.trim`, `\\x1c` is not), so this module uses its own character sets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Union
from urllib.parse import urlsplit

# String.prototype.trim and the regex class \s: WhiteSpace + LineTerminator.
JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# What `.` does not match in a JavaScript regex without the s flag.
JS_LINE_TERMINATORS = "\n\r\u2028\u2029"

_SECTION_RE = re.compile(r"^\[([^\]]*)\][" + re.escape(JS_SPACE) + r"]*$")
_COMMENT_OR_BLANK_RE = re.compile(r"^[" + re.escape(JS_SPACE) + r"]*(?:[;#]|$)")
_KEY_VALUE_RE = re.compile(r"^([^=]+)(?:(=)([^" + re.escape(JS_LINE_TERMINATORS) + r"]*))?$")
_LINE_SPLIT_RE = re.compile(r"[\r\n]+")

# env-replace.js of npm 11.6+: /(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g
ENV_REFERENCE_RE = re.compile(r"(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}")

JSValue = Union[str, bool, None, int, float, list, dict]  # type: ignore[type-arg]

AUTH_KEYS = ("_authToken", "_auth", "_password", "username", "certfile", "keyfile")
SECRET_AUTH_KEYS = ("_authToken", "_auth", "_password")


def js_trim(text: str) -> str:
    """`String.prototype.trim`."""
    return text.strip(JS_SPACE)


def _js_json_parse(text: str) -> JSValue:
    """`JSON.parse`, raising ValueError where JavaScript would throw."""

    def refuse(name: str) -> JSValue:
        raise ValueError(name)

    value: JSValue = json.loads(text, parse_constant=refuse)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        value = float(value)
    return value


def unsafe(text: str) -> JSValue:
    """npm/ini's `unsafe()`: unquote, or cut at the first unescaped `;`/`#`."""
    text = js_trim(text)
    if len(text) >= 1 and _is_quoted(text):
        if text[0] == "'":
            text = text[1:-1]
        try:
            return _js_json_parse(text)
        except ValueError:
            return text
    out: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            out.append(char if char in "\\;#" else "\\" + char)
            escaped = False
        elif char in ";#":
            break
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    if escaped:
        out.append("\\")
    return js_trim("".join(out))


def _is_quoted(text: str) -> bool:
    return (text.startswith('"') and text.endswith('"')) or (
        text.startswith("'") and text.endswith("'")
    )


def js_string(value: JSValue) -> str:
    """JavaScript's `String(value)` for the values `unsafe()` can produce."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value).replace("e+", "e+").replace("inf", "Infinity")
    if isinstance(value, list):
        return ",".join("" if v is None else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


@dataclass(frozen=True)
class NpmrcEntry:
    """One `key=value` line as npm/ini sees it, with positions in the file.

    `key` and `value` are after `unsafe()` (unquoted, comments cut) and before `${VAR}`
    expansion. `value_text` is the raw text after `=` with surrounding blanks removed:
    what a human sees, and what `--fix` replaces (`value_start`/`value_end` are offsets
    into the file's text).
    """

    line: int
    key: str
    value: JSValue
    section: str | None
    is_array: bool
    key_column: int
    value_column: int | None
    value_text: str | None
    value_start: int | None
    value_end: int | None

    @property
    def string_value(self) -> str | None:
        return self.value if isinstance(self.value, str) else None


@dataclass(frozen=True)
class NpmrcComment:
    line: int
    column: int
    text: str  # the whole line, trimmed


@dataclass
class NpmrcFile:
    path: str
    text: str
    entries: list[NpmrcEntry] = field(default_factory=list)
    comments: list[NpmrcComment] = field(default_factory=list)

    def top_level(self) -> Iterator[NpmrcEntry]:
        """Entries outside any `[section]`: the only ones npm's config uses."""
        return (e for e in self.entries if e.section is None)

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based, of an offset into `text`."""
        starts = _line_starts(self.text)
        return _line_number(starts, offset), _column(self.text, starts, offset)


def parse_npmrc(text: str, path: str = ".npmrc") -> NpmrcFile:
    """Parse `.npmrc` text the way npm/ini 6 does, keeping positions."""
    result = NpmrcFile(path=path, text=text)
    section: str | None = None
    line_starts = _line_starts(text)
    for start, end in _physical_lines(text):
        raw = text[start:end]
        if not raw or _COMMENT_OR_BLANK_RE.match(raw):
            if raw and js_trim(raw):
                lineno = _line_number(line_starts, start)
                col = _column(text, line_starts, start + (len(raw) - len(raw.lstrip(JS_SPACE))))
                result.comments.append(NpmrcComment(lineno, col, js_trim(raw)))
            continue
        match = _SECTION_RE.match(raw)
        if match:
            name = unsafe(match.group(1))
            section = js_string(name)
            continue
        match = _KEY_VALUE_RE.match(raw)
        if not match:
            continue
        lineno = _line_number(line_starts, start)
        key_raw = unsafe(match.group(1))
        key_text = js_string(key_raw)
        is_array = isinstance(key_raw, str) and len(key_raw) > 2 and key_raw.endswith("[]")
        key = key_text[:-2] if is_array else key_text
        if key == "__proto__" or section == "__proto__":
            continue
        key_offset = start + _leading_blank(match.group(1))
        value: JSValue = True
        value_column = value_text = value_start = value_end = None
        if match.group(2):
            raw_value = match.group(3)
            value = unsafe(raw_value)
            if value in ("true", "false", "null"):
                value = {"true": True, "false": False, "null": None}[value]  # type: ignore[index]
            offset_in_line = match.start(3)
            stripped = js_trim(raw_value)
            lead = _leading_blank(raw_value)
            value_start = start + offset_in_line + lead
            value_end = value_start + len(stripped)
            value_text = stripped
            value_column = _column(text, line_starts, value_start)
        result.entries.append(
            NpmrcEntry(
                line=lineno,
                key=key,
                value=value,
                section=section,
                is_array=is_array,
                key_column=_column(text, line_starts, key_offset),
                value_column=value_column,
                value_text=value_text,
                value_start=value_start,
                value_end=value_end,
            )
        )
    return result


def _leading_blank(text: str) -> int:
    return len(text) - len(text.lstrip(JS_SPACE))


def _physical_lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of the pieces npm/ini gets from `split(/[\\r\\n]+/)`."""
    pos = 0
    for match in _LINE_SPLIT_RE.finditer(text):
        yield pos, match.start()
        pos = match.end()
    yield pos, len(text)


def _line_starts(text: str) -> list[int]:
    """Offsets where editor lines start: after `\\n`, after a lone `\\r`."""
    starts = [0]
    for match in re.finditer(r"\r\n|\r|\n", text):
        starts.append(match.end())
    return starts


def _line_number(line_starts: list[int], offset: int) -> int:
    from bisect import bisect_right

    return bisect_right(line_starts, offset)


def _column(text: str, line_starts: list[int], offset: int) -> int:
    """1-based column in code points; a leading BOM on line 1 does not count."""
    line_start = line_starts[_line_number(line_starts, offset) - 1]
    column = offset - line_start + 1
    if line_start == 0 and text.startswith("\ufeff") and offset > 0:
        column -= 1
    return column


def decode_tree(npmrc: NpmrcFile) -> dict[str, JSValue]:
    """The object npm/ini's `decode()` returns (sections nested on unescaped dots)."""
    out: dict[str, JSValue] = {}
    for entry in npmrc.entries:
        target: dict[str, JSValue]
        if entry.section is None:
            target = out
        else:
            existing = out.get(entry.section)
            if not isinstance(existing, dict):
                existing = {}
                out[entry.section] = existing
            target = existing
        _assign(target, entry.key, entry.value, entry.is_array)
    return _nest_sections(out)


def _assign(target: dict[str, JSValue], key: str, value: JSValue, is_array: bool) -> None:
    if is_array:
        current = target.get(key)
        if key not in target:
            target[key] = []
        elif not isinstance(current, list):
            target[key] = [current]
    current = target.get(key)
    if isinstance(current, list):
        current.append(value)
    else:
        target[key] = value


def _split_sections(name: str) -> list[str]:
    parts: list[str] = []
    last = 0
    search = 0
    while True:
        index = name.find(".", search)
        if index == -1:
            break
        search = index + 1
        if index > 0 and name[index - 1] == "\\":
            continue
        parts.append(name[last:index])
        last = index + 1
    parts.append(name[last:])
    return parts


def _nest_sections(out: dict[str, JSValue]) -> dict[str, JSValue]:
    remove: list[str] = []
    for key in list(out):
        value = out[key]
        if not isinstance(value, dict):
            continue
        parts = _split_sections(key)
        node: dict[str, JSValue] = out
        last = parts.pop()
        unescaped_last = last.replace("\\.", ".")
        for part in parts:
            if part == "__proto__":
                continue
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        if node is out and unescaped_last == last:
            continue
        node[unescaped_last] = value
        remove.append(key)
    for key in remove:
        out.pop(key, None)
    return out


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """npm's env-replace: `${VAR}` → value (left as is when unset), `${VAR?}` → value or ``."""

    def substitute(match: re.Match[str]) -> str:
        escapes, name, modifier = match.group(1), match.group(2), match.group(3)
        if len(escapes) % 2:
            return match.group(0)[(len(escapes) + 1) // 2 :]
        if name in env:
            replacement = env[name]
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


def config_value(entry: NpmrcEntry, env: Mapping[str, str]) -> JSValue:
    """What npm's config holds for a top-level entry (parseField for an untyped key)."""
    value = entry.value
    if not isinstance(value, str):
        return value
    value = js_trim(value)
    literal: dict[str, JSValue] = {"true": True, "false": False, "null": None}
    if value in literal:
        return literal[value]
    return expand_env(value, env)


@dataclass(frozen=True)
class ScopedKey:
    """A nerf-darted key split into its registry scope and setting name."""

    scope: str | None  # "//host[:port]/path/" or None when the key is not nerf-darted
    name: str


def split_scoped_key(key: str) -> ScopedKey:
    """`//registry.npmjs.org/:_authToken` → scope `//registry.npmjs.org/`, name `_authToken`."""
    if key.startswith("//"):
        scope, sep, name = key.rpartition(":")
        if sep and scope and "/" not in name:
            return ScopedKey(scope if scope.endswith("/") else scope + "/", name)
    return ScopedKey(None, key)


def nerf_dart(url: str) -> str:
    """npm's nerfDart: `https://r.example.com/npm/repo` → `//r.example.com/npm/`."""
    parts = urlsplit(url)
    path = parts.path or "/"
    directory = path[: path.rfind("/") + 1]
    return f"//{parts.netloc}{directory}"


def registry_url_for_scope(scope: str) -> str:
    """An https URL for a nerf-dart scope, for messages (`//host/` → `https://host/`)."""
    return "https:" + scope


@dataclass(frozen=True)
class UnexpandedVariable:
    """Text that looks like a variable but that npm sends literally."""

    text: str
    form: str  # "$VAR", "%VAR%", "$(VAR)", "{{VAR}}", "${{ … }}", "\\${VAR}"
    start: int
    end: int


_UNEXPANDED_RES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("${{ … }}", re.compile(r"\$\{\{[^}]*\}\}")),
    ("\\${VAR}", re.compile(r"(?<!\\)(?:\\\\)*\\\$\{[^${}?]+\??\}")),
    ("$(VAR)", re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)")),
    ("{{VAR}}", re.compile(r"(?<!\$)\{\{\s*[A-Za-z_][A-Za-z0-9_.]*\s*\}\}")),
    ("%VAR%", re.compile(r"%[A-Za-z_][A-Za-z0-9_]*%")),
    ("$VAR", re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")),
)


def unexpanded_variables(text: str) -> list[UnexpandedVariable]:
    """Variable-like text npm will not expand: only unescaped `${VAR}` is expanded."""
    found: list[UnexpandedVariable] = []
    taken: list[tuple[int, int]] = []
    for form, pattern in _UNEXPANDED_RES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if form == "\\${VAR}":
                start = text.index("\\$", start)
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append(UnexpandedVariable(text[start:end], form, start, end))
    found.sort(key=lambda v: v.start)
    return found
