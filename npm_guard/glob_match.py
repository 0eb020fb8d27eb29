"""Glob matching in time linear in the text: the policy's path ignores and package names.

A glob is read into tokens once, then run as a set of positions in it, one character
at a time (Thompson's construction), with the sets met so far remembered as the
states of a small automaton: each character of the text costs one dictionary lookup.
A regular expression translated from the glob (`[^/]*a[^/]*a…b`) backtracks into
every way of splitting the text between its stars instead, which on
`*a*a*a*a*a*a*a*b` and a long path is polynomial of the seventh degree.

Two dialects:
- paths (`ignore:` entries): `*` and `?` stay within one directory level, `**` spans
  levels, `**/` may match no level at all, `[abc]`, `[a-z]` and `[!abc]` (or `[^abc]`)
  are character classes;
- names (`packages:` patterns, as `fnmatch.fnmatchcase` reads them): `*` and `?` match
  any character, `/` included.
"""

from __future__ import annotations

from functools import lru_cache

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from typing import Union

    Token = tuple[str, Union[str, "CharClass", None]]

_LITERAL, _ONE, _CLASS, _STAR, _ANY_RUN, _LEVELS = "lit", "one", "class", "*", "**", "**/"
_MAX_STATES = 1024  # remembered automaton states per glob; past this, start afresh


class CharClass:
    """`[…]`: single characters and ranges, maybe negated (then `/` matches too)."""

    def __init__(self, body: str) -> None:
        self.negated = body[:1] in ("!", "^")
        if self.negated:
            body = body[1:]
        self.singles: set[str] = set()
        self.ranges: list[tuple[str, str]] = []
        i = 0
        while i < len(body):
            if i + 2 < len(body) and body[i + 1] == "-":
                self.ranges.append((body[i], body[i + 2]))
                i += 3
            else:
                self.singles.add(body[i])
                i += 1

    def __contains__(self, char: str) -> bool:
        inside = char in self.singles or any(low <= char <= high for low, high in self.ranges)
        return inside != self.negated


def _tokens(glob: str, *, paths: bool) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if paths and glob.startswith("**/", i):
            tokens.append((_LEVELS, None))
            i += 3
        elif paths and glob.startswith("**", i):
            tokens.append((_ANY_RUN, None))
            i += 2
        elif char == "*":
            if not (tokens and tokens[-1][0] == (_STAR if paths else _ANY_RUN)):
                tokens.append((_STAR if paths else _ANY_RUN, None))
            i += 1
        elif char == "?":
            tokens.append((_ONE, None))
            i += 1
        elif char == "[":
            end = glob.find("]", i + 2)
            if end == -1 or glob[i + 1 : end] in ("!", "^"):  # no class, or an empty one
                tokens.append((_LITERAL, char))
                i += 1
                continue
            tokens.append((_CLASS, CharClass(glob[i + 1 : end])))
            i = end + 1
        else:
            tokens.append((_LITERAL, char))
            i += 1
    return tokens


class Glob:
    """One glob, ready to match any number of texts."""

    def __init__(self, glob: str, *, paths: bool) -> None:
        self.paths = paths
        self.tokens = _tokens(glob, paths=paths)
        self.accept = 2 * len(self.tokens)
        # The automaton met so far: each set of positions once (interned), and for each
        # the set every character seen after it leads to.
        self._interned: dict[frozenset[int], frozenset[int]] = {}
        self._tables: dict[frozenset[int], dict[str, frozenset[int]]] = {}
        self.start = self._intern(self._closure({0}))

    # A state is 2*i ("at token i") or 2*i + 1 ("inside the `**/` at token i, which may
    # only be left right after a `/`").

    def _closure(self, states: set[int]) -> frozenset[int]:
        todo = list(states)
        seen = set(states)
        while todo:
            state = todo.pop()
            if state % 2 or state == self.accept:
                continue
            kind = self.tokens[state // 2][0]
            if kind in (_STAR, _ANY_RUN, _LEVELS) and state + 2 not in seen:
                seen.add(state + 2)
                todo.append(state + 2)
        return frozenset(seen)

    def _step(self, states: frozenset[int], char: str) -> frozenset[int]:
        after: set[int] = set()
        slash = char == "/"
        for state in states:
            index = state // 2
            if state % 2:  # inside `**/`
                after.add(state)
                if slash:
                    after.add(state + 1)
                continue
            if state == self.accept:
                continue
            kind, data = self.tokens[index]
            if kind == _LITERAL:
                if char == data:
                    after.add(state + 2)
            elif kind == _ONE:
                if not (slash and self.paths):
                    after.add(state + 2)
            elif kind == _CLASS:
                if char in data:  # type: ignore[operator]
                    after.add(state + 2)
            elif kind == _STAR:
                if not slash:
                    after.add(state)
            elif kind == _ANY_RUN:
                after.add(state)
            else:  # `**/`, entered
                after.add(state + 1)
                if slash:
                    after.add(state + 2)
        return self._closure(after)

    def matches(self, text: str) -> bool:
        states = self.start
        table = self._table(states)
        for char in text:
            following = table.get(char)
            if following is None:
                following = table[char] = self._intern(self._step(states, char))
            if following is not states:  # interned: the same set is the same object
                if not following:
                    return False
                states = following
                table = self._table(states)
        return self.accept in states

    def _intern(self, states: frozenset[int]) -> frozenset[int]:
        if len(self._tables) >= _MAX_STATES:
            self._tables.clear()
            self._interned.clear()
        return self._interned.setdefault(states, states)

    def _table(self, states: frozenset[int]) -> dict[str, frozenset[int]]:
        table = self._tables.get(states)
        if table is None:
            table = self._tables[self._intern(states)] = {}
        return table


@lru_cache(maxsize=256)
def path_glob(glob: str) -> Glob:
    """An `ignore:` path glob: a trailing `/` means everything below, `./` is dropped."""
    if glob.endswith("/"):
        glob += "**"
    if glob.startswith("./"):
        glob = glob[2:]
    return Glob(glob, paths=True)


@lru_cache(maxsize=256)
def name_glob(pattern: str) -> Glob:
    """A `packages:` name pattern, read as `fnmatch.fnmatchcase` reads one."""
    return Glob(pattern, paths=False)
