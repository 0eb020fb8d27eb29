"""Finding every regular expression of npm-guard, and telling a linear one from one whose
time grows faster than its input (catastrophic backtracking, polynomial or worse).

Discovery: every `re.Pattern` reachable from a module's globals or its classes'
attributes (inside tuples, lists, sets and dicts too; one compiled on first use by
`npm_guard.lazy_pattern` is compiled for the check), every pattern written at a
`re.<function>(…)` call site (a literal, or names and concatenations of module
constants: patterns compiled lazily, inside a function), and every `pattern` keyword
of the shipped JSON Schemas (jsonschema runs them on registry answers and the policy
file). A call site whose pattern cannot be worked out is reported, so no regular
expression escapes the check.

Checking: inputs built from the pattern itself (long runs of each character it can
match, of each literal it contains, of pairs of those, each also followed by a
character it cannot match: the near miss that forces backtracking), each timed at
growing sizes, with `finditer` to the end (every start position) and `fullmatch`
(the whole input), until the input is large or the time is no longer small. A pattern
whose time grows faster than n^1.5 between two sizes 8x apart, measured again as the
best of several runs, is super-linear. Sizes start at a few characters and grow slowly
at first, so an exponential pattern stops the ladder long before it hangs.
"""

from __future__ import annotations

import ast
import gc
import importlib
import json
import math
import pkgutil
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from npm_guard.lazy_pattern import _LazyPattern, compiled

if sys.version_info >= (3, 11):
    from re import _constants as sre_constants
    from re import _parser as sre_parse
else:  # pragma: no cover
    import sre_constants
    import sre_parse

LADDER = (4, 6, 8, 12, 16, 20, 24, 32, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
MAX_FAMILIES = 180
BUDGET_SECONDS = 0.02  # a measurement past this ends the ladder
SLOW_SECONDS = 0.002  # below this at the top of the ladder, nothing is worth a closer look
MAX_EXPONENT = 1.5  # linear is 1, quadratic 2
SPAN = 8  # the two sizes compared are this far apart
CAREFUL_RUNS = 7
NEAR_MISSES = ("\x00", " ")  # a character few patterns take, and white space
PROBES = "aZ0 \t\n/\\.-_:@${}[]()#'\"!=*?é\u2028"
REGEX_FUNCTIONS = {"compile", "match", "search", "fullmatch", "sub", "subn", "split"}
REGEX_FUNCTIONS |= {"finditer", "findall"}


@dataclass(frozen=True)
class Found:
    """A pattern, where it was found (for messages), and whether it is only ever matched
    at the start of the text (`re.match`/`re.fullmatch` at its call site). A compiled
    pattern kept in a module could be used any way: it is searched, so one meant for
    the start of the text only says so with `\\A`."""

    where: str
    pattern: re.Pattern[Any]
    at_start: bool = False


@dataclass(frozen=True)
class Verdict:
    linear: bool
    detail: str


# --- discovery ----------------------------------------------------------------------


def package_modules(package: ModuleType) -> list[ModuleType]:
    modules = [package]
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.endswith("__main__"):
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def _patterns_in(value: object, where: str, depth: int = 0) -> Iterator[Found]:
    if isinstance(value, _LazyPattern):  # npm_guard.lazy_pattern: compiled on first use
        value = compiled(value)  # type: ignore[arg-type]
    if isinstance(value, re.Pattern):
        yield Found(where, value)
        return
    if depth >= 3:
        return
    if isinstance(value, dict):
        items: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, (tuple, list, set, frozenset)):
        items = list(value)
    else:
        return
    for index, item in enumerate(items):
        yield from _patterns_in(item, f"{where}[{index}]", depth + 1)


def compiled_patterns(modules: list[ModuleType]) -> list[Found]:
    """Patterns in module globals and in the attributes of the modules' own classes."""
    found: list[Found] = []
    for module in modules:
        for name, value in vars(module).items():
            found.extend(_patterns_in(value, f"{module.__name__}.{name}"))
            if isinstance(value, type) and value.__module__ == module.__name__:
                for attribute, member in vars(value).items():
                    where = f"{module.__name__}.{name}.{attribute}"
                    found.extend(_patterns_in(member, where))
    return found


def call_site_patterns(modules: list[ModuleType]) -> tuple[list[Found], list[str]]:
    """(patterns written at `re.…()` call sites, call sites whose pattern is unknown)."""
    found: list[Found] = []
    unknown: list[str] = []
    for module in modules:
        source_file = getattr(module, "__file__", None)
        if not source_file or not source_file.endswith(".py"):
            continue
        if module.__name__ == "npm_guard.lazy_pattern":
            continue  # its one re.compile() is of what lazy_compile() is given: below
        source = Path(source_file).read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            if isinstance(node.func, ast.Name) and node.func.id == "lazy_compile":
                function = "compile"  # npm_guard.lazy_pattern: compiled on first use
            elif (
                isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in REGEX_FUNCTIONS
            ):
                function = node.func.attr
            else:
                continue
            where = f"{module.__name__}:{node.lineno}"
            pattern = _evaluate(node.args[0], module)
            flags_node = next((k.value for k in node.keywords if k.arg == "flags"), None)
            if flags_node is None and function == "compile" and len(node.args) > 1:
                flags_node = node.args[1]
            flags = _evaluate(flags_node, module) if flags_node is not None else 0
            if not isinstance(pattern, (str, bytes)) or not isinstance(flags, int):
                unknown.append(where)
                continue
            at_start = function in ("match", "fullmatch")
            found.append(Found(where, re.compile(pattern, flags), at_start))
    return found, unknown


def _evaluate(node: ast.expr, module: ModuleType) -> object:
    """The value of an expression made of constants, module names and operators only."""
    allowed = (ast.Constant, ast.Name, ast.BinOp, ast.Attribute, ast.Load, ast.operator)
    for part in ast.walk(node):
        if isinstance(part, ast.Call):  # re.escape(CONSTANT) only
            func = part.func
            if not (isinstance(func, ast.Attribute) and func.attr == "escape"):
                return None
        elif not isinstance(part, (*allowed, ast.keyword)):
            return None
    try:
        return eval(compile(ast.Expression(node), "<pattern>", "eval"), vars(module))
    except Exception:  # a name bound inside a function: unknown
        return None


def schema_patterns(directory: Path) -> list[Found]:
    found = []
    for path in sorted(directory.glob("*.json")):
        for where, pattern in _json_patterns(json.loads(path.read_text("utf-8")), path.name):
            found.append(Found(where, re.compile(pattern)))
    return found


def _json_patterns(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "pattern" and isinstance(item, str):
                yield f"{where}.pattern", item
            else:
                yield from _json_patterns(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_patterns(item, f"{where}[{index}]")


# --- inputs ---------------------------------------------------------------------------


def alphabet_and_literals(pattern: re.Pattern[Any]) -> tuple[list[str], list[str]]:
    """The characters the pattern can match (one of each kind) and the literal strings
    it contains."""
    chars: dict[str, None] = dict.fromkeys(PROBES)
    literals: dict[str, None] = {}
    source = pattern.pattern
    if isinstance(source, bytes):
        source = source.decode("latin-1")
    _walk(sre_parse.parse(source, pattern.flags & ~re.LOCALE), chars, literals)
    return list(chars), [lit for lit in literals if len(lit) > 1]


_REPEATS = tuple(
    getattr(sre_constants, name)
    for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    if hasattr(sre_constants, name)
)


def _walk(parsed: Any, chars: dict[str, None], literals: dict[str, None]) -> None:
    run: list[str] = []
    for op, argument in parsed:
        if op is sre_constants.LITERAL:
            chars[chr(argument)] = None
            run.append(chr(argument))
            continue
        if len(run) > 1:
            literals["".join(run)] = None
        run = []
        if op is sre_constants.IN:
            for item_op, item in argument:
                if item_op is sre_constants.LITERAL:
                    chars[chr(item)] = None
                elif item_op is sre_constants.RANGE:
                    low, high = item
                    for code in (low, (low + high) // 2, high):
                        chars[chr(code)] = None
        elif op in _REPEATS:
            _walk(argument[2], chars, literals)
        elif op is sre_constants.SUBPATTERN:
            _walk(argument[-1], chars, literals)
        elif op is getattr(sre_constants, "ATOMIC_GROUP", None):
            _walk(argument, chars, literals)
        elif op is sre_constants.BRANCH:
            for branch in argument[1]:
                _walk(branch, chars, literals)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _walk(argument[1], chars, literals)
        elif op is sre_constants.GROUPREF_EXISTS:
            for branch in argument[1:]:
                if branch is not None:
                    _walk(branch, chars, literals)
    if len(run) > 1:
        literals["".join(run)] = None


def input_families(pattern: re.Pattern[Any]) -> list[tuple[str, Callable[[int], Any]]]:
    """Named generators of adversarial inputs of (about) n characters, the likeliest
    first, at most MAX_FAMILIES: runs of each character and literal of the pattern, each
    alone and with a near miss at the end, then runs of literal + character and of
    pairs of the pattern's own characters."""
    chars, literals = alphabet_and_literals(pattern)
    own = chars[len(PROBES) :] or chars[:6]
    encode = isinstance(pattern.pattern, bytes)
    families: list[tuple[str, Callable[[int], Any]]] = []

    def add(unit: str, endings: tuple[str, ...]) -> None:
        for ending in endings:

            def make(n: int, unit: str = unit, ending: str = ending) -> Any:
                text = unit * max(1, n // len(unit)) + ending
                return text.encode("utf-8") if encode else text

            families.append((f"{unit!r}*n+{ending!r}", make))

    for unit in dict.fromkeys([*chars, *literals]):
        add(unit, ("", *NEAR_MISSES))
    combos = [a + b for a in literals[:6] for b in [*own[:4], " "]]
    combos += [a + b for a in own[:8] for b in own[:8] if a != b]
    for unit in dict.fromkeys(combos):
        add(unit, ("", NEAR_MISSES[0]))
    return families[:MAX_FAMILIES]


# --- timing ---------------------------------------------------------------------------


def _exercise(pattern: re.Pattern[Any], text: Any, at_start: bool) -> None:
    if at_start:
        pattern.match(text)
    else:
        for _ in pattern.finditer(text):
            pass
    pattern.fullmatch(text)


def _time(pattern: re.Pattern[Any], text: Any, at_start: bool, runs: int = 1) -> float:
    """The best of `runs` CPU times of this thread (time spent waiting for a core on a
    busy machine does not count), with the collector off."""
    best = math.inf
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(runs):
            start = time.thread_time()
            _exercise(pattern, text, at_start)
            best = min(best, time.thread_time() - start)
    finally:
        if collecting:
            gc.enable()
    return best


def _careful(
    pattern: re.Pattern[Any], texts: tuple[Any, Any], at_start: bool
) -> tuple[float, float]:
    """Best times of two inputs, measured in turns (a slow spell hits both alike)."""
    low, top = math.inf, math.inf
    for _ in range(CAREFUL_RUNS):
        low = min(low, _time(pattern, texts[0], at_start))
        top = min(top, _time(pattern, texts[1], at_start))
    return low, top


def check(
    pattern: re.Pattern[Any], family: Callable[[int], Any], *, at_start: bool = False
) -> Verdict:
    """Whether the pattern's time on `family`'s inputs grows at most like n^MAX_EXPONENT
    (searched through the whole text, and matched against all of it; `at_start`: only
    matched at the start)."""
    times: dict[int, float] = {}
    for n in LADDER:
        times[n] = _time(pattern, family(n), at_start)
        if times[n] > BUDGET_SECONDS:
            break
    top = max(times)
    if times[top] < SLOW_SECONDS:
        return Verdict(True, f"{times[top] * 1e3:.2f} ms at n={top}")
    if top == LADDER[0]:
        again = _time(pattern, family(top), at_start, CAREFUL_RUNS)
        return Verdict(again < SLOW_SECONDS, f"{again * 1e3:.2f} ms at n={top} already")
    low = max((n for n in times if n * SPAN <= top), default=LADDER[0])
    # Worth a closer look: the two sizes again, in turns, as the best of several runs.
    t_low, t_top = _careful(pattern, (family(low), family(top)), at_start)
    t_low = max(t_low, 1e-7)
    exponent = math.log(t_top / t_low) / math.log(top / low)
    detail = f"{t_low * 1e3:.3f} ms at n={low}, {t_top * 1e3:.3f} ms at n={top}: n^{exponent:.2f}"
    return Verdict(exponent <= MAX_EXPONENT or t_top < SLOW_SECONDS, detail)


def super_linear(
    pattern: re.Pattern[Any], *, at_start: bool = False, first_only: bool = False
) -> list[str]:
    """The input families on which `pattern` is super-linear, with the timings (only the
    first one found with `first_only`)."""
    failures = []
    for name, family in input_families(pattern):
        verdict = check(pattern, family, at_start=at_start)
        if not verdict.linear:
            failures.append(f"{name}: {verdict.detail}")
            if first_only:
                break
    return failures
