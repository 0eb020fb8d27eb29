"""Differential test: our `.npmrc` parser against npm's own code.

`tests/node/oracle.js` runs npm's `ini` (decode) and `@npmcli/config`'s env-replace and
parseField, installed by the test set-up (`npm ci --prefix tests/node`), on the same
inputs as `npm_guard.npmrc`. For each input both sides give:

- `decoded`: the object `ini.decode` returns (or the error it throws), key order included;
- `config`: the (key, value) pairs `#loadObject` stores, for keys with no type definition.

Inputs: every file under `tests/fixtures/npmrc/` (read as bytes, decoded by each side the
way its tool reads files), the hand-written parser cases in `tests/fixtures/npmrc/parser/`,
and a few thousand generated ones. Every entry's positions are checked on the way.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npm_guard.npmrc import NpmrcFile, config_value, decode_tree, load_config, parse_npmrc
from npm_guard.npmrc_js import (
    JS_LINE_TERMINATORS,
    JS_SPACE,
    JSUndefined,
    NpmrcDecodeError,
    js_string,
    js_trim,
    unsafe,
)

if TYPE_CHECKING:
    from npm_guard.npmrc_js import JSValue

# node runs npm's own code here, on fixtures and on generated inputs.
pytestmark = pytest.mark.slow

NODE_DIR = Path(__file__).parent / "node"
ORACLE = NODE_DIR / "oracle.js"
FIXTURES = Path(__file__).parent / "fixtures" / "npmrc"
PARSER_FIXTURES = FIXTURES / "parser"
SETUP_HINT = (
    "run the test set-up first: `npm ci --prefix tests/node` (or `npm install --prefix tests/node`)"
)

FIXTURE_ENVS: tuple[dict[str, str], ...] = (
    {},
    {
        "NPM_TOKEN": "npm_from_env",
        "GITHUB_TOKEN": "ghp_from_env",
        "VAR": "value",
        "EMPTY": "",
        "SPACE": "  padded  ",
        "TRUTHY": "true",
        "HOST": "registry.npmjs.org",
        "A": "a",
        "NODE_OPTIONS": "--max-old-space-size=4096",
    },
)

_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")

Tagged = list[Any]


class Oracle:
    """One long-lived node process running npm's code; one JSON line per batch."""

    def __init__(self, process: subprocess.Popen[bytes], stderr: Any) -> None:
        self.process = process
        self.stderr = stderr

    def request(self, payload: Mapping[str, Any]) -> Any:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(payload).encode("ascii") + b"\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline()
        if not reply:
            self.stderr.seek(0)
            raise AssertionError(
                f"the npm oracle died ({SETUP_HINT}):\n{self.stderr.read().decode()}"
            )
        return json.loads(reply.decode("utf-8"))

    def decode(self, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = self.request({"op": "decode", "cases": cases})
        assert len(replies) == len(cases)
        return replies


def _installed_version(package: str) -> str | None:
    manifest = NODE_DIR / "node_modules" / package / "package.json"
    if not manifest.is_file():
        return None
    version: str = json.loads(manifest.read_text())["version"]
    return version


@pytest.fixture(scope="session")
def oracle() -> Iterator[Oracle]:
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node is not on PATH: the .npmrc oracle test needs node; then {SETUP_HINT}")
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    for package in ("ini", "@npmcli/config"):
        installed = _installed_version(package)
        if installed is None:
            pytest.fail(
                f"npm's {package} is not installed in tests/node/node_modules: {SETUP_HINT}"
            )
        if installed != pinned[package]:
            pytest.fail(
                f"tests/node has {package} {installed}, package.json pins {pinned[package]}: "
                f"{SETUP_HINT}"
            )
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [node, str(ORACLE)],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={"PATH": os.environ.get("PATH", "")},
        )
        try:
            yield Oracle(process, stderr)
        finally:
            assert process.stdin is not None
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- our side, in the oracle's tagged form ---------------------------------------------


def tag(value: JSValue | JSUndefined) -> Tagged:
    """The oracle's tagged form of a value (see tests/node/oracle.js)."""
    if isinstance(value, JSUndefined):
        return ["undefined"]
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["boolean", value]
    if isinstance(value, str):
        return ["string", value]
    if isinstance(value, (int, float)):
        return ["number", js_string(value)]
    if isinstance(value, list):
        return ["array", [tag(v) for v in value]]
    return ["object", [[k, tag(v)] for k, v in value.items()]]


def ours(text: str, env: Mapping[str, str]) -> dict[str, Any]:
    npmrc = parse_npmrc(text)
    try:
        decoded = decode_tree(npmrc)
    except NpmrcDecodeError as error:
        return {"text": text, "error": str(error)}
    config = [[key, tag(value)] for key, value in load_config(npmrc, env)]
    return {"text": text, "decoded": tag(decoded), "config": config}


def check_positions(npmrc: NpmrcFile) -> None:
    """Each entry's positions, against a computation that does not share the parser's code."""
    text = npmrc.text
    starts = [0, *(m.end() for m in _LINE_BREAK_RE.finditer(text))]
    for entry in npmrc.entries:
        context = f"line {entry.line} of {text!r}"
        line_start = starts[entry.line - 1]
        line_end_match = _LINE_BREAK_RE.search(text, line_start)
        line_end = line_end_match.start() if line_end_match else len(text)
        line_text = text[line_start:line_end]
        bom = 1 if line_start == 0 and text.startswith("\ufeff") else 0
        key_part, equals, value_part = line_text.partition("=")
        assert line_text[entry.key_column - 1 + bom :].startswith(js_trim(key_part)), context
        if not equals:
            assert entry.value_text is None and entry.value_start is None, context
            assert entry.value_column is None and entry.value_end is None, context
            continue
        assert entry.value_start is not None and entry.value_end is not None, context
        assert line_start <= entry.value_start <= entry.value_end <= line_end, context
        assert entry.value_text == js_trim(value_part), context
        assert text[entry.value_start : entry.value_end] == entry.value_text, context
        assert entry.value_column == entry.value_start - line_start + 1 - bom, context
        assert entry.value_start == line_start + len(key_part) + 1 + (
            len(value_part) - len(value_part.lstrip(JS_SPACE))
        ), context
        expected = unsafe(entry.value_text)
        if expected in ("true", "false", "null"):
            expected = json.loads(str(expected))
        assert tag(entry.value) == tag(expected), context


def check_config_values(npmrc: NpmrcFile, env: Mapping[str, str], theirs: dict[str, Any]) -> None:
    """`config_value()` of an entry that npm's config keeps is what npm's config holds."""
    decoded = decode_tree(npmrc)
    keys = list(decoded)
    entries = list(npmrc.top_level())
    for index, entry in enumerate(entries):
        if entry.key not in decoded or any(e.key == entry.key for e in entries[index + 1 :]):
            continue
        if isinstance(decoded[entry.key], list) or tag(decoded[entry.key]) != tag(entry.value):
            continue
        _, held = theirs["config"][keys.index(entry.key)]
        if held == ["undefined"]:
            held = ["null"]  # config_value() reports npm's undefined as None
        assert tag(config_value(entry, env)) == held, f"{entry.key!r} in {npmrc.text!r}"


Parser = Callable[[str, Mapping[str, str]], dict[str, Any]]


def compare(oracle: Oracle, cases: list[dict[str, Any]], parse: Parser = ours) -> None:
    """Run npm's code and ours on each case; the first disagreement fails with both sides."""
    for case, theirs in zip(cases, oracle.decode(cases)):
        text = theirs["text"]
        if "text" in case:
            assert text == case["text"]
        npmrc = parse_npmrc(text)
        check_positions(npmrc)
        mine = parse(text, case["env"])
        if mine != theirs:
            pytest.fail(
                "our .npmrc parser disagrees with npm's on\n"
                f"  text: {text!r}\n  env:  {case['env']!r}\n"
                f"  npm:  {json.dumps({k: v for k, v in theirs.items() if k != 'text'})}\n"
                f"  ours: {json.dumps({k: v for k, v in mine.items() if k != 'text'})}"
            )
        if "decoded" in theirs:
            check_config_values(npmrc, case["env"], theirs)


# --- the harness itself --------------------------------------------------------------


def test_oracle_runs_npms_code(oracle: Oracle) -> None:
    """A known answer, so a broken oracle cannot pass everything by agreeing on nothing."""
    (reply,) = oracle.decode(
        [{"text": "a = ${X} ; note\n[s]\nb[]='5'\nc=undefined\n", "env": {"X": "1"}}]
    )
    assert reply["decoded"] == [
        "object",
        [
            ["a", ["string", "${X}"]],
            [
                "s",
                ["object", [["b", ["array", [["number", "5"]]]], ["c", ["string", "undefined"]]]],
            ],
        ],
    ]
    assert reply["config"][0] == ["a", ["string", "1"]]

    def dropping_last_config_pair(text: str, env: Mapping[str, str]) -> dict[str, Any]:
        result = ours(text, env)
        result["config"] = result["config"][:-1]
        return result

    with pytest.raises(pytest.fail.Exception, match="disagrees"):
        compare(oracle, [{"text": "x=1\n", "env": {}}], parse=dropping_last_config_pair)


def test_white_space_sets_match_node(oracle: Oracle) -> None:
    """JS_SPACE is String.prototype.trim's and \\s's set; JS_LINE_TERMINATORS what `.` skips."""
    sets = oracle.request({"op": "charsets"})
    assert sorted(sets["space"]) == sorted(JS_SPACE)
    assert sorted(sets["not_dot"]) == sorted(JS_LINE_TERMINATORS)


# --- fixtures ------------------------------------------------------------------------


def fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file())


def test_parser_fixtures_exist() -> None:
    assert len(list(PARSER_FIXTURES.glob("*.ini"))) >= 15


@pytest.mark.parametrize(
    "path", fixture_files(), ids=[str(p.relative_to(FIXTURES)) for p in fixture_files()]
)
def test_fixture_matches_npm(oracle: Oracle, path: Path) -> None:
    data = path.read_bytes()
    # npm reads a file with readFile(path, 'utf8'): invalid bytes become U+FFFD, BOM kept.
    text = data.decode("utf-8", errors="replace")
    cases = [{"base64": base64.b64encode(data).decode(), "env": env} for env in FIXTURE_ENVS]
    replies = oracle.decode(cases)
    assert [r["text"] for r in replies] == [text] * len(cases), "utf-8 decoding differs from node's"
    compare(oracle, cases)


# --- generated inputs ----------------------------------------------------------------
# Realistic .npmrc pieces joined at random: npm-style keys, nerf darts, quotes, escapes,
# comment characters, ${...} forms, JSON, numbers, unicode spaces, every line ending.


def _pool(words: str, *more: str) -> list[str]:
    """A list of test words written as one white-space separated string (plus odd ones)."""
    return [*words.split(), *more]


_SPACES = list(" \t\u00a0\ufeff\u3000\u2028\u2029\x0b\x0c\x1c\x85\u180e\u200b")
_spaces = st.lists(st.sampled_from([*_SPACES, " "]), max_size=2).map("".join)
_env_names = _pool("NPM_TOKEN VAR EMPTY UNSET toString constructor X-Y é", "A B", "", "?")
_env_refs = st.builds(
    lambda escapes, name, optional, close: "\\" * escapes + "${" + name + optional + close,
    st.integers(0, 4),
    st.sampled_from(_env_names),
    st.sampled_from(["", "?"]),
    st.sampled_from(["}", "}", "}", "", "}}"]),
)
_NUMBERS = _pool(
    "0 -0 5 10 01 0.1 -1.5 1e21 1e-7 0.000001 1.5e300 1e400 4294967294 4294967295 "
    "9007199254740993 12345678901234567890 123456789012345680000"
)
_WORDS = _pool(
    "npm_AbCdEf0123456789 ghp_abc dGVzdDp0ZXN0== https://registry.npmjs.org/ "
    "http://localhost:4873 true false null undefined TRUE NaN Infinity [1,2] [] {} "
    '{"a":1,"1":2} {"length":3} __proto__ constructor $NPM_TOKEN %VAR% $(VAR) {{VAR}} '
    r"${{secrets.X}} é 😀 \u00e9 \ud83d\ude00 \n a.b a\.b"
)
_words = st.sampled_from(_WORDS + _NUMBERS) | st.text(alphabet="ab=;#\\'\"[]{}$?. ", max_size=4)
_value_pieces = st.one_of(
    _words,
    _env_refs,
    st.sampled_from(["=", ";", "#", "\\;", "\\#", "\\", "\\\\", "'", '"', "[", "]", "."]),
    st.sampled_from(_SPACES),
)
_raw_values = st.lists(_value_pieces, max_size=6).map("".join)
_QUOTING: dict[str, Callable[[str], str]] = {
    "bare": lambda v: v,
    "double": lambda v: '"' + v + '"',
    "single": lambda v: "'" + v + "'",
    "json": lambda v: json.dumps(v, ensure_ascii=False),
    "single-json": lambda v: "'" + json.dumps(v, ensure_ascii=False) + "'",
    "single-then-text": lambda v: "'" + v + "' ;c",
}
# Any double or integer as JSON text: String(number) of what JSON.parse makes of it.
_json_numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-(10**25), 10**25).map(str),
    st.integers(0, 2**32 + 2).map(str),
)
_values = st.one_of(
    st.builds(lambda quote, v: _QUOTING[quote](v), st.sampled_from(sorted(_QUOTING)), _raw_values),
    _raw_values,
    st.sampled_from(_NUMBERS).map(lambda n: "'" + n + "'"),
    _json_numbers.map(lambda n: "'" + n + "'"),
)
_KEYS = _pool(
    "registry _authToken _auth _password username email always-auth "
    "//registry.npmjs.org/:_authToken //npm.pkg.github.com/:_authToken "
    "//localhost:4873/:_password //r.example.com/npm/:_auth @scope:registry "
    "a b a.b a\\.b 0 5 10 __proto__ constructor toString '5' '1e21' '0.1' 'true' 'null' "
    """'[1,2]' '["__proto__"]' '{"a":1}' '{"length":3}' "a[]" "q" [] k\\;x k\\#x k\\ """
    "${VAR} ${UNSET} ${VAR?} \\${VAR} //${VAR}/:_authToken ключ",
    "key with space",
)
_keys = st.builds(
    lambda lead, core, array, trail: lead + core + array + trail,
    _spaces,
    st.one_of(
        st.sampled_from(_KEYS),
        st.text(alphabet="ab.:/_[]'\"\\$;{}", min_size=1, max_size=5),
        _json_numbers.map(lambda n: "'" + n + "'"),
        st.integers(0, 2**32 + 2).map(str),
    ),
    st.sampled_from(["", "", "[]"]),
    _spaces,
)
_SECTIONS = _pool(
    "a b a.b a\\.b b.a a.b.c x.y.z __proto__ a.__proto__.b '5' 0 \"q.r\" registry ${VAR}",
    "",
    " s ",
)
_sections = st.builds(
    lambda name, trail: "[" + name + "]" + trail,
    st.sampled_from(_SECTIONS) | st.text(alphabet="ab.\\'\" ", max_size=4),
    st.sampled_from(["", " ", "\u3000", " x", "=1"]),
)
_SEPARATORS = ["=", "=", "=", " = ", "= ", " =", "\t=\t", "==", "=\u00a0", "=\u3000"]
_lines = st.one_of(
    st.builds(lambda k, sep, v: k + sep + v, _keys, st.sampled_from(_SEPARATORS), _values),
    _keys,
    st.builds(lambda lead, c, rest: lead + c + rest, _spaces, st.sampled_from(";#"), _raw_values),
    _sections,
    _spaces,
    st.text(alphabet="a=;#[]'\"\\ \u2028\u00a0", max_size=6),
)
_line_ends = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r\n", "\r", "\n\n", "\r\r\n", "\n\r"])
_texts = st.builds(
    lambda bom, lines, final: bom + "".join(line + end for line, end in lines) + final,
    st.sampled_from(["", "", "", "\ufeff"]),
    st.lists(st.tuples(_lines, _line_ends), max_size=8),
    st.sampled_from(["", "", "x=1", "[s]"]),
)
_ENV_VALUES = ["npm_from_env", "", "  padded  ", "true", "null", "undefined", "${VAR}", "\\", "$"]
_envs = st.dictionaries(
    st.sampled_from([n for n in _env_names if n not in ("", "constructor", "UNSET")]),
    st.sampled_from([*_ENV_VALUES, "a=b;c#d", "é"]),
    max_size=4,
)
_cases = st.builds(lambda text, env: {"text": text, "env": env}, _texts, _envs)
BATCH = 30


@settings(
    max_examples=100,  # x BATCH inputs, through the one oracle process
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases=st.lists(_cases, min_size=BATCH, max_size=BATCH))
def test_generated_npmrc_matches_npm(oracle: Oracle, cases: list[dict[str, Any]]) -> None:
    compare(oracle, cases)


# npm's nerfDart builds `//host/dir/` from URL.host: a user:password@ is not part of it.
NERF_DART_URLS = (
    "https://registry.npmjs.org/",
    "https://r.example.com/npm/repo",
    "https://r.example.com:8443/api/npm/repo/",
    "http://alice:pw@registry.example.com/",
    "https://deploytoken@h.example:8443/a/b/",
    "https://user:@h.example/x/",
    "http://a:b@c@d.example/",
)


def test_nerf_dart_matches_npm(oracle: Oracle) -> None:
    from npm_guard.npmrc import nerf_dart

    node = shutil.which("node")
    assert node is not None
    script = (
        "const nerfDart = require('@npmcli/config/lib/nerf-dart.js');"
        "console.log(JSON.stringify(JSON.parse(process.argv[1]).map(nerfDart)))"
    )
    proc = subprocess.run(
        [node, "-e", script, json.dumps(NERF_DART_URLS)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert [nerf_dart(url) for url in NERF_DART_URLS] == json.loads(proc.stdout)
