"""`lazy_compile` answers as `re.compile` does, and compiles only on first use."""

from __future__ import annotations

import re

import pytest

from npm_guard.lazy_pattern import compiled, is_compiled, lazy_compile


def test_compiled_on_first_use_and_then_the_same_as_re_compile() -> None:
    lazy = lazy_compile(r"(?P<word>n[p]m)_(\d+)", re.IGNORECASE)
    eager = re.compile(r"(?P<word>n[p]m)_(\d+)", re.IGNORECASE)
    assert not is_compiled(lazy)
    text = "x NPM_12 npm_3 y"
    assert lazy.search(text).group("word") == eager.search(text).group("word")  # type: ignore[union-attr]
    assert is_compiled(lazy)
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in eager.finditer(text)]
    assert lazy.sub("-", text) == eager.sub("-", text)
    assert lazy.findall(text) == eager.findall(text)
    assert lazy.match(text) is None and lazy.fullmatch("npm_1") is not None
    assert (lazy.pattern, lazy.flags, lazy.groups) == (eager.pattern, eager.flags, eager.groups)
    assert compiled(lazy) is compiled(lazy) and isinstance(compiled(lazy), re.Pattern)
    assert compiled(eager) is eager and is_compiled(eager)


def test_a_bad_pattern_fails_where_it_is_used() -> None:
    lazy = lazy_compile(r"(unclosed")  # no error at import time
    with pytest.raises(re.error):
        lazy.search("x")
