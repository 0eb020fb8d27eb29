"""Regular expressions compiled the first time they are used, not at import.

A hook is a fresh process on every commit, and compiling a pattern costs 0.05-0.3 ms:
the workflow engine's patterns for JavaScript files, unexpanded `.npmrc` variables or
ignore comments cost a hook on ordinary workflows a few milliseconds for nothing. A
pattern written `lazy_compile(r"...")` behaves as `re.compile(r"...")` (mypy sees a
`re.Pattern`), and compiles on its first method call; from then on its methods are the
compiled pattern's own, so a hot loop pays nothing more.

Only for patterns used through their methods (`search`, `finditer`, `sub`, ...): a
pattern handed to a function of `re` (`re.sub(PATTERN, ...)`) must stay compiled.
"""

from __future__ import annotations

import re

_FORWARDED = (
    "search",
    "match",
    "fullmatch",
    "finditer",
    "findall",
    "sub",
    "subn",
    "split",
    "pattern",
    "flags",
    "groups",
    "groupindex",
)


class _LazyPattern:
    def __init__(self, source: str, flags: int) -> None:
        self._source = source
        self._flags = flags
        self.compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> object:
        # Only called for what the instance does not have yet: the first use.
        if name.startswith("__") or name in ("_source", "_flags", "compiled"):
            raise AttributeError(name)
        compiled = re.compile(self._source, self._flags)
        self.compiled = compiled
        for forwarded in _FORWARDED:
            setattr(self, forwarded, getattr(compiled, forwarded))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy_compile({self._source!r})"


def lazy_compile(source: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(source, flags)`, done on the pattern's first use."""
    return _LazyPattern(source, flags)  # type: ignore[return-value]


def is_compiled(pattern: re.Pattern[str]) -> bool:
    """Whether a pattern is compiled yet (an `re.compile` one always is)."""
    return not isinstance(pattern, _LazyPattern) or pattern.compiled is not None


def compiled(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The `re.Pattern` itself (a lazy one compiled now): for code that must have one,
    such as the tests that check every pattern's running time."""
    if isinstance(pattern, _LazyPattern):
        pattern.search  # noqa: B018 (the first use compiles it)
        assert pattern.compiled is not None
        return pattern.compiled
    return pattern
