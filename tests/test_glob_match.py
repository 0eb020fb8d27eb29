"""The linear glob matcher answers what the regular expressions it replaced answered.

Differential: path globs against the translation to a regular expression that
`policy_apply` used before (kept here as the oracle, on inputs too small for its
backtracking to matter), package patterns against `fnmatch.fnmatchcase`.
"""

from __future__ import annotations

import fnmatch
import re
import warnings

from hypothesis import example, given, settings
from hypothesis import strategies as st

from npm_guard.glob_match import Glob
from npm_guard.policy import PackagePolicy
from npm_guard.policy_apply import path_matches


def old_path_regex(glob: str) -> re.Pattern[str]:
    """policy_apply._compile as it was: the oracle."""
    if glob.endswith("/"):
        glob += "**"
    if glob.startswith("./"):
        glob = glob[2:]
    out: list[str] = []
    i = 0
    while i < len(glob):
        char = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = glob.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
                i += 1
                continue
            body = glob[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out), re.DOTALL)


def old_path_matches(glob: str, path: str) -> bool | None:
    """The old answer, or None where the old code raised (a class it could not compile)
    or read a class into the rest of the glob (`[!]*` became the pattern `[^][^/]*`)."""
    if "[!]" in glob or "[^]" in glob:
        return None
    if path.startswith("./"):
        path = path[2:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # `[[` and `--` in a class
            pattern = old_path_regex(glob)
    except re.error:
        return None
    return pattern.fullmatch(path) is not None


GLOB_CHARS = "ab/.*?[]!-\n"
PATH_CHARS = "ab/.-\n"


@settings(max_examples=3000, deadline=None)
@given(st.text(GLOB_CHARS, max_size=10), st.text(PATH_CHARS, max_size=12))
@example("**/a", "a")
@example("a/**", "a/")
@example("[!a]", "/")
@example("[]a]", "]")
@example("[a-]", "-")
@example("*/", "a/b/c")
@example("./a", "./a")
def test_path_globs_match_as_before(glob: str, path: str) -> None:
    expected = old_path_matches(glob, path)
    if expected is not None:
        assert path_matches(glob, path) is expected, (glob, path)


@settings(max_examples=3000, deadline=None)
@given(st.text("ab/.*?-@", max_size=10), st.text("ab/.-@", max_size=12))
def test_package_patterns_match_as_fnmatch(pattern: str, name: str) -> None:
    assert PackagePolicy(pattern).matches(name) is fnmatch.fnmatchcase(name, pattern)


def test_a_glob_is_reused_across_texts() -> None:
    glob = Glob("*a*b", paths=True)
    assert [glob.matches(t) for t in ("ab", "xaxb", "a/b", "ba", "aab")] == [
        True,
        True,
        False,
        False,
        True,
    ]
