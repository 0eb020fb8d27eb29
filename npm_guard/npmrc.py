"""`.npmrc` read exactly as npm reads it, with the position of every key and value.

Reproduces npm's `ini` package (v6, bundled with npm 11) line by line, the object its
`decode()` builds, and what `@npmcli/config` stores for each setting (with `${VAR}`
expanded: `npm_guard.npmrc_env`). The differential test in `tests/test_npmrc_oracle.py`
runs npm's own code on the same inputs and compares.

JavaScript's idea of white space differs from Python's (`\\ufeff` is white space to
`String.prototype.trim`, `\\x1c` is not), and so do its values: `npm_guard.npmrc_js`.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping

from npm_guard._record import dataclass, field
from npm_guard.npmrc_env import expand_env
from npm_guard.npmrc_js import (
    JS_LINE_TERMINATORS,
    JS_SPACE,
    UNDEFINED,
    JSUndefined,
    NpmrcDecodeError,
    array_index,
    js_assign,
    js_get,
    js_has_own,
    js_set,
    js_string,
    js_to_number,
    js_trim,
    js_truthy,
    js_typeof_object,
    unsafe,
)

_SPACE_CLASS = "[" + re.escape(JS_SPACE) + "]"
# ini.js: /^\[([^\]]*)\]\s*$|^([^=]+)(=(.*))?$/i on a line that holds no \r or \n.
# JavaScript's `$` without the m flag is the end of the input only: `\Z` here.
# `\A`: these are only ever matched at the start of a line (an unanchored search would
# retry from every position of a long run of `[` or blanks).
_SECTION_RE = re.compile(r"\A\[([^\]]*)\]" + _SPACE_CLASS + r"*\Z")
_COMMENT_OR_BLANK_RE = re.compile(r"\A" + _SPACE_CLASS + r"*(?:[;#]|\Z)")
_KEY_VALUE_RE = re.compile(r"([^=]+)(?:(=)([^" + re.escape(JS_LINE_TERMINATORS) + r"]*))?\Z")
_LINE_SPLIT_RE = re.compile(r"[\r\n]+")

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.npmrc_js import JSValue


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


@dataclass(frozen=True)
class NpmrcSection:
    """A `[section]` line. npm's config ignores sections, but `ini.decode` builds them."""

    line: int
    name: str  # String() of the unquoted name: the property ini creates
    discarded: bool = False  # `[__proto__]`: the lines below it go into a throwaway object


@dataclass
class NpmrcFile:
    path: str
    text: str
    entries: list[NpmrcEntry] = field(default_factory=list)
    comments: list[NpmrcComment] = field(default_factory=list)
    sections: list[NpmrcSection] = field(default_factory=list)
    # Set when npm's own ini.decode throws on this text, so npm cannot load the file.
    decode_error: str | None = None

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
    section_discarded = False
    line_starts = _line_starts(text)
    for start, end in _physical_lines(text):
        raw = text[start:end]
        if not raw or _COMMENT_OR_BLANK_RE.match(raw):
            if raw and js_trim(raw):
                lineno = _line_number(line_starts, start)
                col = _column(text, line_starts, start + _leading_blank(raw))
                result.comments.append(NpmrcComment(lineno, col, js_trim(raw)))
            continue
        match = _SECTION_RE.match(raw)
        if match:
            name = unsafe(match.group(1))
            section = js_string(name)
            # ini compares the unquoted value itself: `["__proto__"]` is an array, kept.
            section_discarded = name == "__proto__"
            lineno = _line_number(line_starts, start)
            result.sections.append(NpmrcSection(lineno, section, section_discarded))
            continue
        match = _KEY_VALUE_RE.match(raw)
        if not match:
            continue
        lineno = _line_number(line_starts, start)
        key_raw = unsafe(match.group(1))
        if result.decode_error is None:
            result.decode_error = _key_error(key_raw)
        key_text = js_string(key_raw)
        is_array = isinstance(key_raw, str) and len(key_raw) > 2 and key_raw.endswith("[]")
        key = key_text[:-2] if is_array else key_text
        if section_discarded or (isinstance(key_raw, str) and key == "__proto__"):
            continue
        key_offset = start + _leading_blank(match.group(1))
        value: JSValue = True
        value_column = value_text = value_start = value_end = None
        if match.group(2):
            raw_value = match.group(3)
            value = unsafe(raw_value)
            if isinstance(value, str) and value in _LITERALS:
                value = _LITERALS[value]
            offset_in_line = match.start(3)
            stripped = js_trim(raw_value)
            value_start = start + offset_in_line + _leading_blank(raw_value)
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


_LITERALS: dict[str, JSValue] = {"true": True, "false": False, "null": None}
# A comment's markers: blanks, then `;` or `#`, then any run of markers and blanks.
_COMMENT_MARKERS_RE = re.compile(r"\A" + _SPACE_CLASS + r"*[;#][;#" + re.escape(JS_SPACE) + r"]*")


def commented_entries(npmrc: NpmrcFile) -> list[NpmrcEntry]:
    """The settings written in comment lines (`;//host/:_authToken=…`, `# _auth=…`).

    npm ignores them, but they are committed like any other line. Each comment line
    with a `=` is read as the line it would be without its markers, by the same parser,
    and keeps its positions in the file (the markers are blanked, not removed). A line
    of prose before the key (`# old: //host/:_authToken=…`) gives a key that is no
    setting's name. Only files with such a comment pay for a second parse.
    """
    text = npmrc.text
    pieces: list[str] = []
    lines: set[int] = set()
    done = 0
    line_starts: list[int] | None = None
    for start, end in _physical_lines(text):
        raw = text[start:end]
        if "=" not in raw or not _COMMENT_OR_BLANK_RE.match(raw):
            continue
        markers = _COMMENT_MARKERS_RE.match(raw)
        if markers is None or raw.startswith("[", markers.end()):
            continue
        pieces.append(text[done:start])
        # A BOM stays: columns on line 1 are counted without it.
        bom = "\ufeff" if start == 0 and raw.startswith("\ufeff") else ""
        pieces.append(bom + " " * (markers.end() - len(bom)))
        done = start + markers.end()
        if line_starts is None:
            line_starts = _line_starts(text)
        lines.add(_line_number(line_starts, start))
    if not lines:
        return []
    pieces.append(text[done:])
    uncommented = parse_npmrc("".join(pieces), npmrc.path)
    return [entry for entry in uncommented.entries if entry.line in lines]


def _key_error(key: JSValue) -> str | None:
    """What ini.decode throws on a key that unquotes to something without string methods.

    It evaluates `keyRaw.length > 2 && keyRaw.slice(-2) === '[]'` on whatever `unsafe()`
    returned: `'null'` has no length, `'{"length":3}'` has no slice().
    """
    if key is None:
        return "TypeError: Cannot read properties of null (reading 'length')"
    if isinstance(key, dict) and "length" in key and js_to_number(key["length"]) > 2:
        return "TypeError: keyRaw.slice is not a function"
    return None


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
    return bisect_right(line_starts, offset)


def _column(text: str, line_starts: list[int], offset: int) -> int:
    """1-based column in code points; a leading BOM on line 1 does not count."""
    line_start = line_starts[_line_number(line_starts, offset) - 1]
    column = offset - line_start + 1
    if line_start == 0 and text.startswith("\ufeff") and offset > 0:
        column -= 1
    return column


def decode_tree(npmrc: NpmrcFile) -> dict[str, JSValue]:
    """The object npm/ini's `decode()` returns (sections nested on unescaped dots).

    Keys come in JavaScript's enumeration order (array-index keys first, ascending).
    Raises NpmrcDecodeError where `ini.decode` throws: a key that unquotes to `null`
    (`'null'=x`), a dotted section below a key whose value is `null`.
    """
    if npmrc.decode_error is not None:
        raise NpmrcDecodeError(npmrc.decode_error)
    out: dict[str, JSValue] = {}
    target: JSValue = out
    events: list[NpmrcSection | NpmrcEntry] = [*npmrc.sections, *npmrc.entries]
    events.sort(key=lambda event: event.line)
    for event in events:
        if isinstance(event, NpmrcSection):
            if event.discarded:
                target = {}
                continue
            # `p = out[section] = out[section] || Object.create(null)`: a truthy string,
            # number or array is kept, and takes the section's keys the way JS would.
            current = out.get(event.name, UNDEFINED)
            target = current if js_truthy(current) else {}  # type: ignore[assignment]
            out[event.name] = target
            continue
        js_assign(target, event.key, _clone(event.value), event.is_array)
    _nest_sections(out)
    _js_key_order(out)
    return out


def _clone(value: JSValue) -> JSValue:
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


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


def _nest_sections(out: dict[str, JSValue]) -> None:
    """`{"a.b": {...}}` → `{"a": {"b": {...}}}`, for every object or null at the top."""
    remove: list[str] = []
    for key in list(out):
        if not (out[key] is None or isinstance(out[key], dict)):  # typeof null is 'object'
            continue
        parts = _split_sections(key)
        last = parts.pop()
        unescaped_last = last.replace("\\.", ".")
        node: JSValue | JSUndefined = out
        for part in parts:
            if part == "__proto__":
                continue
            if node is None:
                raise NpmrcDecodeError("TypeError: Cannot convert undefined or null to object")
            child = js_get(node, part)  # type: ignore[arg-type]
            if not js_has_own(node, part) or not js_typeof_object(child):  # type: ignore[arg-type]
                js_set(node, part, {})  # type: ignore[arg-type]
                child = js_get(node, part)  # type: ignore[arg-type]
                if child is UNDEFINED:  # a non-index property of an array: invisible
                    child = {}
            node = child
        if node is out and unescaped_last == last:
            continue
        if node is None:
            raise NpmrcDecodeError(
                f"TypeError: Cannot set properties of null (setting '{unescaped_last}')"
            )
        js_set(node, unescaped_last, out[key])  # type: ignore[arg-type]
        remove.append(key)
    for key in remove:
        out.pop(key, None)


def _js_key_order(root: JSValue) -> None:
    """Reorder every object the way JavaScript enumerates it: array indices first."""
    seen: set[int] = set()
    stack: list[JSValue] = [root]
    while stack:
        value = stack.pop()
        if not isinstance(value, (dict, list)) or id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, dict):
            indices = sorted((k for k in value if array_index(k) is not None), key=int)
            if indices:
                items = [(k, value[k]) for k in indices]
                items += [(k, v) for k, v in value.items() if array_index(k) is None]
                value.clear()
                value.update(items)
            stack.extend(value.values())
        else:
            stack.extend(value)


def _parse_untyped_field(value: JSValue, env: Mapping[str, str]) -> JSValue | JSUndefined:
    """@npmcli/config's parseField for a key with no type definition."""
    if not isinstance(value, str):
        return value  # arrays (key[]=) and sections are kept as they are, unexpanded
    value = js_trim(value)
    if value == "undefined":
        return UNDEFINED
    if value in _LITERALS:
        return _LITERALS[value]
    return expand_env(value, env)


def config_value(entry: NpmrcEntry, env: Mapping[str, str]) -> JSValue:
    """What npm's config holds for a top-level entry (parseField for an untyped key).

    A `key[]=` element is not expanded (npm keeps the whole list as written). The value
    `undefined`, which npm turns into JavaScript's undefined (the key is unset), is None.
    """
    if entry.is_array:
        return entry.value
    value = _parse_untyped_field(entry.value, env)
    return None if isinstance(value, JSUndefined) else value


def load_config(
    npmrc: NpmrcFile, env: Mapping[str, str]
) -> list[tuple[str, JSValue | JSUndefined]]:
    """The (key, value) pairs @npmcli/config's `#loadObject` stores for the file, in order.

    Keys are `${VAR}`-expanded; values go through parseField as for keys with no type
    definition. A later pair with the same key overwrites an earlier one.
    """
    return [
        (expand_env(key, env), _parse_untyped_field(value, env))
        for key, value in decode_tree(npmrc).items()
    ]


def read_npm_config(path: str, env: Mapping[str, str]) -> dict[str, JSValue | JSUndefined]:
    """The settings npm takes from the config file at `path`, by (expanded) key.

    Read as npm reads it (UTF-8, bad bytes replaced); a missing or unreadable file, or
    one npm's own parser would reject, contributes nothing, as it does for npm.
    """
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return {}
    try:
        return dict(load_config(parse_npmrc(text, path), env))
    except NpmrcDecodeError:
        return {}


@dataclass(frozen=True)
class ScopedKey:
    """A nerf-darted key split into its registry scope and setting name."""

    scope: str | None  # "//host[:port]/path/" or None when the key is not nerf-darted
    name: str


@functools.lru_cache(maxsize=4096)  # the rules ask about each key of a file many times
def split_scoped_key(key: str) -> ScopedKey:
    """`//registry.npmjs.org/:_authToken` → scope `//registry.npmjs.org/`, name `_authToken`."""
    if key.startswith("//"):
        scope, sep, name = key.rpartition(":")
        if sep and scope and "/" not in name:
            return ScopedKey(scope if scope.endswith("/") else scope + "/", name)
    return ScopedKey(None, key)


def nerf_dart(url: str) -> str:
    """npm's nerfDart: `https://r.example.com/npm/repo` → `//r.example.com/npm/`."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    path = parts.path or "/"
    directory = path[: path.rfind("/") + 1]
    # npm builds it from URL.host, which has no user:password@ part.
    return f"//{parts.netloc.rpartition('@')[2]}{directory}"


def registry_url_for_scope(scope: str) -> str:
    """An https URL for a nerf-dart scope, for messages (`//host/` → `https://host/`)."""
    return "https:" + scope
