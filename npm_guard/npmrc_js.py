"""JavaScript's semantics, as far as npm's `.npmrc` reading depends on them.

npm reads `.npmrc` with its `ini` package, in JavaScript: white space is
`String.prototype.trim`'s, a quoted value goes through `JSON.parse`, an assignment to
an array's `length` truncates it, an object enumerates array-index keys first. The
parser (`npm_guard.npmrc`) and the decoder of npm's config object use these to get
exactly npm's answer; `tests/test_npmrc_oracle.py` checks them against node.
"""

from __future__ import annotations

import re

# String.prototype.trim and the regex class \s: WhiteSpace + LineTerminator. The
# differential test checks this set against node's own.
JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# What `.` does not match in a JavaScript regex without the s flag.
JS_LINE_TERMINATORS = "\n\r\u2028\u2029"

_UNSAFE_SPECIAL_RE = re.compile(r"[\\;#]")

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


def js_to_number(value: JSValue | JSUndefined) -> float:
    """ToNumber, for the values ini compares or assigns as a `length`."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if value is None:
        return 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return js_to_number(js_string(value))
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


def js_truthy(value: JSValue | JSUndefined) -> bool:
    if value is None or isinstance(value, (JSUndefined, bool, str)):
        return bool(value)
    if isinstance(value, (int, float)):
        return value == value and value != 0
    return True


def js_typeof_object(value: JSValue | JSUndefined) -> bool:
    return value is None or isinstance(value, (dict, list))


_ARRAY_INDEX_RE = re.compile(r"\A(?:0|[1-9][0-9]*)\Z")
# An index this far past an array's end would make a sparse JS array; not modelled.
_MAX_HOLES = 1000


def array_index(key: str) -> int | None:
    """The index for a JavaScript array-index property key ("0" … "4294967294")."""
    if _ARRAY_INDEX_RE.match(key) and len(key) <= 10:
        index = int(key)
        if index <= 2**32 - 2:
            return index
    return None


def js_has_own(target: JSValue, key: str) -> bool:
    if isinstance(target, dict):
        return key in target
    if isinstance(target, list):
        index = array_index(key)
        if index is not None:
            return index < len(target) and target[index] is not UNDEFINED
        return key == "length"
    return False  # primitives: the answer changes nothing, every assignment is lost


def js_get(target: JSValue, key: str) -> JSValue | JSUndefined:
    if isinstance(target, dict):
        return target.get(key, UNDEFINED)  # type: ignore[no-any-return]
    if isinstance(target, list):
        index = array_index(key)
        if index is not None:
            return target[index] if index < len(target) else UNDEFINED
        if key == "length":
            return len(target)
    return UNDEFINED


def js_set(target: JSValue, key: str, value: JSValue) -> None:
    """`target[key] = value` in sloppy-mode JavaScript (ini.js has no "use strict")."""
    if isinstance(target, dict):
        target[key] = value
    elif isinstance(target, list):
        index = array_index(key)
        if index is not None:
            if index < len(target):
                target[index] = value
            elif index - len(target) <= _MAX_HOLES:
                target.extend([UNDEFINED] * (index - len(target)))
                target.append(value)
        elif key == "length":
            length = js_to_number(value)
            if not (length.is_integer() and 0 <= length < 2**32):
                raise NpmrcDecodeError("RangeError: Invalid array length")
            del target[int(length) :]
            target.extend([UNDEFINED] * min(int(length) - len(target), _MAX_HOLES))
        # Any other property of an array is invisible in the decoded result: dropped.
    # A primitive (string, number, boolean) silently ignores the assignment.


def js_assign(target: JSValue, key: str, value: JSValue, is_array: bool) -> None:
    """ini.decode's assignment of one line to the current section object `p`."""
    if is_array:
        if not js_has_own(target, key):
            js_set(target, key, [])
        else:
            current = js_get(target, key)
            if not isinstance(current, list):
                js_set(target, key, [current])
    current = js_get(target, key)
    if isinstance(current, list):
        current.append(value)
    else:
        js_set(target, key, value)
