"""`.npmrc` read exactly as npm reads it, with the position of every key and value.

Reproduces npm's `ini` package (v6, bundled with npm 11) line by line, and
`@npmcli/config`'s `${VAR}` expansion (env-replace, with the `?` modifier of npm 11.6+).
The differential test in `tests/test_npmrc_oracle.py` runs npm's own code on the same
inputs and compares.

JavaScript's idea of white space differs from Python's (`\\ufeff` is white space to
`String.prototype.trim`, `\\x1c` is not), so this module uses its own character sets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from npm_guard._record import dataclass, field
from npm_guard.constants import (
    SECRET_AUTH_KEYS as SECRET_AUTH_KEYS,  # npm_guard.workflow reads it here
)

# String.prototype.trim and the regex class \s: WhiteSpace + LineTerminator. The
# differential test checks this set against node's own.
JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# What `.` does not match in a JavaScript regex without the s flag.
JS_LINE_TERMINATORS = "\n\r\u2028\u2029"

_SPACE_CLASS = "[" + re.escape(JS_SPACE) + "]"
# ini.js: /^\[([^\]]*)\]\s*$|^([^=]+)(=(.*))?$/i on a line that holds no \r or \n.
# JavaScript's `$` without the m flag is the end of the input only: `\Z` here.
# `\A`: these are only ever matched at the start of a line (an unanchored search would
# retry from every position of a long run of `[` or blanks).
_SECTION_RE = re.compile(r"\A\[([^\]]*)\]" + _SPACE_CLASS + r"*\Z")
_COMMENT_OR_BLANK_RE = re.compile(r"\A" + _SPACE_CLASS + r"*(?:[;#]|\Z)")
_KEY_VALUE_RE = re.compile(r"([^=]+)(?:(=)([^" + re.escape(JS_LINE_TERMINATORS) + r"]*))?\Z")
_LINE_SPLIT_RE = re.compile(r"[\r\n]+")

_UNSAFE_SPECIAL_RE = re.compile(r"[\\;#]")

# env-replace.js of npm 11.6+: /(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g
ENV_REFERENCE_RE = re.compile(r"(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}")

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from typing import Union

    JSValue = Union[str, bool, None, int, float, list, dict]  # type: ignore[type-arg]


class JSUndefined:
    """JavaScript's `undefined`: what npm's config holds for the literal value `undefined`."""

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED = JSUndefined()


class NpmrcDecodeError(ValueError):
    """Input on which npm's own `ini.decode` throws, so npm cannot load the file at all."""


def js_trim(text: str) -> str:
    """`String.prototype.trim`."""
    return text.strip(JS_SPACE)


def _js_json_parse(text: str) -> JSValue:
    """`JSON.parse`, raising ValueError where JavaScript would throw."""

    def refuse(name: str) -> JSValue:
        raise ValueError(name)

    def number(literal: str) -> int | float:
        # JavaScript numbers are doubles: exact as int up to 15 digits, rounded beyond
        # (float() also avoids Python's limit on the digits of an int).
        return int(literal) if len(literal.lstrip("-")) <= 15 else float(literal)

    try:
        import json  # only quoted values need it: kept off the hook's start-up path

        value: JSValue = json.loads(text, parse_constant=refuse, parse_int=number)
    except RecursionError as error:
        # JSON.parse takes deeper nesting than Python's stack; such a value is no config.
        raise ValueError("nested too deeply") from error
    return value


def unsafe(text: str) -> JSValue:
    """npm/ini's `unsafe()`: unquote, or cut at the first unescaped `;`/`#`."""
    text = js_trim(text)
    if _is_quoted(text):
        if text[0] == "'":
            text = text[1:-1]
        try:
            return _js_json_parse(text)
        except ValueError:
            return text
    # From one `\\`, `;` or `#` to the next, not one character at a time: a value of
    # two MiB is a few slices.
    out: list[str] = []
    position = 0
    while True:
        special = _UNSAFE_SPECIAL_RE.search(text, position)
        if special is None:
            out.append(text[position:])
            break
        at = special.start()
        out.append(text[position:at])
        if text[at] != "\\":
            break  # an unescaped comment character ends the value
        if at + 1 >= len(text):
            out.append("\\")
            break
        char = text[at + 1]
        out.append(char if char in "\\;#" else "\\" + char)
        position = at + 2
    return js_trim("".join(out))


def _is_quoted(text: str) -> bool:
    return (text.startswith('"') and text.endswith('"')) or (
        text.startswith("'") and text.endswith("'")
    )


def js_string(value: JSValue | JSUndefined) -> str:
    """JavaScript's `String(value)` for the values `unsafe()` can produce."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, JSUndefined):
        return "undefined"
    if isinstance(value, (int, float)):
        return _js_number_string(value)
    if isinstance(value, list):
        # Array.prototype.join: null and undefined elements become empty strings.
        return ",".join("" if v is None or v is UNDEFINED else js_string(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _js_number_string(number: int | float) -> str:
    """Number::toString (ECMA-262 6.1.6.1.20): shortest round-trip digits, JS layout."""
    if isinstance(number, int) and abs(number) < 10**21:
        return str(number)
    number = float(number)
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    # repr() gives the same shortest digits as JavaScript; only the layout differs.
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k, n = len(digits), point
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        text = (digits if k == 1 else digits[0] + "." + digits[1:]) + (
            f"e+{e}" if e >= 0 else f"e-{-e}"
        )
    return sign + text


# StringNumericLiteral's decimal form. `[0-9]+(?:\.[0-9]*)?`, not `[0-9]+\.?[0-9]*`: the
# second splits a run of digits between its two halves in every way before it gives up
# on a near miss (`000…0!`), quadratic in the length.
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RADIX_LITERALS = (
    ("0x", 16, re.compile(r"[0-9a-fA-F]+")),
    ("0o", 8, re.compile(r"[0-7]+")),
    ("0b", 2, re.compile(r"[01]+")),
)


def _js_to_number(value: JSValue | JSUndefined) -> float:
    """ToNumber, for the values ini compares or assigns as a `length`."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if value is None:
        return 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return _js_to_number(js_string(value))
    if not isinstance(value, str):
        return float("nan")
    text = js_trim(value)
    if not text:
        return 0.0
    if text in ("Infinity", "+Infinity", "-Infinity"):
        return float(text)
    for prefix, base, pattern in _RADIX_LITERALS:
        if text[:2].lower() == prefix:
            if not pattern.fullmatch(text[2:]):
                return float("nan")
            try:
                return float(int(text[2:], base))
            except OverflowError:
                return float("inf")
    if _DECIMAL_RE.fullmatch(text):
        return float(text)
    return float("nan")


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


def _key_error(key: JSValue) -> str | None:
    """What ini.decode throws on a key that unquotes to something without string methods.

    It evaluates `keyRaw.length > 2 && keyRaw.slice(-2) === '[]'` on whatever `unsafe()`
    returned: `'null'` has no length, `'{"length":3}'` has no slice().
    """
    if key is None:
        return "TypeError: Cannot read properties of null (reading 'length')"
    if isinstance(key, dict) and "length" in key and _js_to_number(key["length"]) > 2:
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
            target = current if _js_truthy(current) else {}  # type: ignore[assignment]
            out[event.name] = target
            continue
        _js_assign(target, event.key, _clone(event.value), event.is_array)
    _nest_sections(out)
    _js_key_order(out)
    return out


def _clone(value: JSValue) -> JSValue:
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _js_truthy(value: JSValue | JSUndefined) -> bool:
    if value is None or isinstance(value, (JSUndefined, bool, str)):
        return bool(value)
    if isinstance(value, (int, float)):
        return value == value and value != 0
    return True


def _js_typeof_object(value: JSValue | JSUndefined) -> bool:
    return value is None or isinstance(value, (dict, list))


_ARRAY_INDEX_RE = re.compile(r"\A(?:0|[1-9][0-9]*)\Z")
# An index this far past an array's end would make a sparse JS array; not modelled.
_MAX_HOLES = 1000


def _array_index(key: str) -> int | None:
    """The index for a JavaScript array-index property key ("0" … "4294967294")."""
    if _ARRAY_INDEX_RE.match(key) and len(key) <= 10:
        index = int(key)
        if index <= 2**32 - 2:
            return index
    return None


def _js_has_own(target: JSValue, key: str) -> bool:
    if isinstance(target, dict):
        return key in target
    if isinstance(target, list):
        index = _array_index(key)
        if index is not None:
            return index < len(target) and target[index] is not UNDEFINED
        return key == "length"
    return False  # primitives: the answer changes nothing, every assignment is lost


def _js_get(target: JSValue, key: str) -> JSValue | JSUndefined:
    if isinstance(target, dict):
        return target.get(key, UNDEFINED)  # type: ignore[no-any-return]
    if isinstance(target, list):
        index = _array_index(key)
        if index is not None:
            return target[index] if index < len(target) else UNDEFINED
        if key == "length":
            return len(target)
    return UNDEFINED


def _js_set(target: JSValue, key: str, value: JSValue) -> None:
    """`target[key] = value` in sloppy-mode JavaScript (ini.js has no "use strict")."""
    if isinstance(target, dict):
        target[key] = value
    elif isinstance(target, list):
        index = _array_index(key)
        if index is not None:
            if index < len(target):
                target[index] = value
            elif index - len(target) <= _MAX_HOLES:
                target.extend([UNDEFINED] * (index - len(target)))
                target.append(value)
        elif key == "length":
            length = _js_to_number(value)
            if not (length.is_integer() and 0 <= length < 2**32):
                raise NpmrcDecodeError("RangeError: Invalid array length")
            del target[int(length) :]
            target.extend([UNDEFINED] * min(int(length) - len(target), _MAX_HOLES))
        # Any other property of an array is invisible in the decoded result: dropped.
    # A primitive (string, number, boolean) silently ignores the assignment.


def _js_assign(target: JSValue, key: str, value: JSValue, is_array: bool) -> None:
    """ini.decode's assignment of one line to the current section object `p`."""
    if is_array:
        if not _js_has_own(target, key):
            _js_set(target, key, [])
        else:
            current = _js_get(target, key)
            if not isinstance(current, list):
                _js_set(target, key, [current])
    current = _js_get(target, key)
    if isinstance(current, list):
        current.append(value)
    else:
        _js_set(target, key, value)


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
            child = _js_get(node, part)  # type: ignore[arg-type]
            if not _js_has_own(node, part) or not _js_typeof_object(child):  # type: ignore[arg-type]
                _js_set(node, part, {})  # type: ignore[arg-type]
                child = _js_get(node, part)  # type: ignore[arg-type]
                if child is UNDEFINED:  # a non-index property of an array: invisible
                    child = {}
            node = child
        if node is out and unescaped_last == last:
            continue
        if node is None:
            raise NpmrcDecodeError(
                f"TypeError: Cannot set properties of null (setting '{unescaped_last}')"
            )
        _js_set(node, unescaped_last, out[key])  # type: ignore[arg-type]
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
            indices = sorted((k for k in value if _array_index(k) is not None), key=int)
            if indices:
                items = [(k, value[k]) for k in indices]
                items += [(k, v) for k, v in value.items() if _array_index(k) is None]
                value.clear()
                value.update(items)
            stack.extend(value.values())
        else:
            stack.extend(value)


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
