"""The `.npmrc` rules on fixture files: test cases as data.

`tests/fixtures/npmrc/<rule-id>/bad-*.npmrc` and `ok-*.npmrc` are discovered
automatically. Every finding in a fixture is declared in a comment on the line above
the offending line (consecutive `expect` lines all describe the next other line):

    # expect: npmrc-plaintext-credential col=34 kind="npm token" says="npm_iK2Z…1Q1J"
    //registry.npmjs.org/:_authToken=npm_…

`line=N` names the line explicitly (for findings on line 1), and `severity=`,
`confidence=`, `kind=` (the `credential_kind` property), `says=` (a substring of
the message) and `tip=` (a substring of the fix tip) are checked when given. A bad
fixture must produce exactly its declared findings, at least one of them of its folder's
rule; an ok fixture none of its folder's rule (and nothing undeclared). The fixtures are
read through the scanner's own file reader, so BOM, CRLF, invalid UTF-8 and binary
content are part of the case.

The fixture names end in `.npmrc` without being `.npmrc`, so the repository's own
scan (which walks for files named exactly `.npmrc`) does not pick them up.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from npm_guard.file_kinds import NPMRC
from npm_guard.findings import Finding
from npm_guard.rules import all_rules
from npm_guard.scan import Target, scan_target

FIXTURES = Path(__file__).parent / "fixtures" / "npmrc"
_EXPECT_RE = re.compile(r"^[#;]\s*expect:\s*(?P<rule>[a-z0-9-]+)(?P<rest>.*)$")
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
_CHECKED = ("severity", "confidence", "kind", "says", "tip")


@dataclass(frozen=True)
class Expected:
    rule: str
    line: int
    column: int
    attributes: tuple[tuple[str, str], ...]
    declared_on: int


def fixture_files() -> list[Path]:
    """`ok-*` and `bad-*` files; other folders (the parser's own cases) are not rule fixtures."""
    return sorted(p for p in FIXTURES.glob("*/*.npmrc") if p.name.startswith(("ok-", "bad-")))


def parse_expectations(path: Path) -> list[Expected]:
    """The `expect:` comments of a fixture (read leniently: binary fixtures have them too)."""
    text = path.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = _LINE_BREAK_RE.split(text)
    expected: list[Expected] = []
    pending: list[tuple[int, str, dict[str, str]]] = []
    for number, line in enumerate(lines, start=1):
        match = _EXPECT_RE.match(line.strip())
        if match is None:
            for declared_on, rule, attrs in pending:
                expected.append(_expected(path, rule, attrs, number, declared_on))
            pending = []
            continue
        attrs = {}
        for word in shlex.split(match.group("rest")):
            name, sep, value = word.partition("=")
            assert sep, f"{path.name}:{number}: expectation word without '=': {word!r}"
            attrs[name] = value
        if "line" in attrs:
            expected.append(_expected(path, match.group("rule"), attrs, None, number))
        else:
            pending.append((number, match.group("rule"), attrs))
    assert not pending, f"{path.name}: expect comment(s) at the end of the file describe no line"
    return expected


def _expected(
    path: Path, rule: str, attrs: dict[str, str], next_line: int | None, declared_on: int
) -> Expected:
    assert rule in all_rules(), f"{path.name}:{declared_on}: unknown rule {rule!r}"
    assert "col" in attrs, f"{path.name}:{declared_on}: every expectation needs col="
    unknown = set(attrs) - {"col", "line", *_CHECKED}
    assert not unknown, f"{path.name}:{declared_on}: unknown expectation keys {unknown}"
    line = int(attrs["line"]) if "line" in attrs else next_line
    assert line is not None
    checked = tuple((k, attrs[k]) for k in _CHECKED if k in attrs)
    return Expected(rule, line, int(attrs["col"]), checked, declared_on)


def scan_fixture(path: Path) -> list[Finding]:
    target = Target(str(path), path.name, NPMRC)
    return scan_target(target, root=str(FIXTURES))


def _describe(findings: list[Finding]) -> str:
    return "\n".join(
        f"  {f.location.line}:{f.location.column} {f.rule.id} "
        f"{f.effective_severity.value}/{f.effective_confidence.value} "
        f"{dict(f.properties).get('credential_kind', '')!r}: {f.message}"
        for f in findings
    )


def _attribute(finding: Finding, name: str) -> str:
    if name == "severity":
        return finding.effective_severity.value
    if name == "confidence":
        return finding.effective_confidence.value
    if name == "kind":
        return finding.properties.get("credential_kind", "")
    raise AssertionError(name)


def _check(path: Path) -> tuple[list[Finding], list[Expected]]:
    findings = scan_fixture(path)
    expectations = parse_expectations(path)
    got = sorted((f.rule.id, f.location.line, f.location.column) for f in findings)
    want = sorted((e.rule, e.line, e.column) for e in expectations)
    assert got == want, (
        f"{path.parent.name}/{path.name}: findings differ from the expect comments\n"
        f"found:\n{_describe(findings)}\nexpected: {want}"
    )
    for expectation in expectations:
        (finding,) = [
            f
            for f in findings
            if (f.rule.id, f.location.line, f.location.column)
            == (expectation.rule, expectation.line, expectation.column)
        ]
        for name, value in expectation.attributes:
            if name in ("says", "tip"):
                text = finding.message if name == "says" else finding.effective_tip
                assert value in text, (
                    f"{path.name}:{expectation.declared_on}: {value!r} not in {text!r}"
                )
            else:
                assert _attribute(finding, name) == value, (
                    f"{path.name}:{expectation.declared_on}: {name} is "
                    f"{_attribute(finding, name)!r}, expected {value!r}"
                )
    return findings, expectations


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


BAD = [p for p in fixture_files() if p.name.startswith("bad-")]
OK = [p for p in fixture_files() if p.name.startswith("ok-")]


@pytest.mark.parametrize("path", BAD, ids=_ids(BAD))
def test_bad_fixture(path: Path) -> None:
    findings, _ = _check(path)
    assert any(f.rule.id == path.parent.name for f in findings), (
        f"{path.name}: a bad fixture must produce at least one {path.parent.name} finding"
    )


@pytest.mark.parametrize("path", OK, ids=_ids(OK))
def test_ok_fixture(path: Path) -> None:
    findings, _ = _check(path)
    assert not [f for f in findings if f.rule.id == path.parent.name]


def test_fixtures_are_found_and_named() -> None:
    assert len(BAD) >= 30 and len(OK) >= 10
    for path in fixture_files():
        assert path.parent.name in all_rules(), f"{path.parent.name}: not a rule id"
    for folder in FIXTURES.iterdir():
        if folder.name in all_rules():  # a file named otherwise would silently not run
            for path in folder.iterdir():
                assert re.fullmatch(r"(ok|bad)-[a-z0-9-]+\.npmrc", path.name), path


def test_expectation_parser_catches_mistakes(tmp_path: Path) -> None:
    """The harness must not pass a fixture whose expectations are wrong."""
    wrong = tmp_path / "bad-wrong-column.npmrc"
    wrong.write_text(
        "# expect: npmrc-unexpanded-variable col=3\n//registry.npmjs.org/:_authToken=$X\n"
    )
    with pytest.raises(AssertionError, match="differ"):
        _check(wrong)
    missing = tmp_path / "bad-undeclared.npmrc"
    missing.write_text("//registry.npmjs.org/:_authToken=$X\n")
    with pytest.raises(AssertionError, match="differ"):
        _check(missing)
    says = tmp_path / "bad-says.npmrc"
    says.write_text(
        '# expect: npmrc-unexpanded-variable col=34 says="nothing like it"\n'
        "//registry.npmjs.org/:_authToken=$X\n"
    )
    with pytest.raises(AssertionError, match="not in"):
        _check(says)
    tip = tmp_path / "bad-tip.npmrc"
    tip.write_text(
        '# expect: npmrc-unexpanded-variable col=34 tip="nothing like it"\n'
        "//registry.npmjs.org/:_authToken=$X\n"
    )
    with pytest.raises(AssertionError, match="not in"):
        _check(tip)


def test_suppressed_fixtures_report_everything_with_no_ignores() -> None:
    """The ok-suppressed fixtures are clean only because of their ignore comments."""
    for path in FIXTURES.glob("*/ok-suppressed.npmrc"):
        target = Target(str(path), path.name, NPMRC)
        everything = scan_target(target, root=str(FIXTURES), no_ignores=True)
        assert [f for f in everything if f.rule.id == path.parent.name], path


def _documented_kinds() -> set[tuple[str, str]]:
    """(kind, confidence) rows of the kinds table in docs/rules.md's plaintext section."""
    docs = (Path(__file__).parent.parent / "docs" / "rules.md").read_text(encoding="utf-8")
    section = docs.split("## npmrc-plaintext-credential", 1)[1].split("\n## ", 1)[0]
    rows = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[2] in ("high", "medium", "low"):
            rows.add((cells[0], cells[2]))
    return rows


def test_every_reported_kind_is_documented_with_its_confidence() -> None:
    """Each (credential_kind, confidence) the fixtures produce has a row in docs/rules.md."""
    documented = _documented_kinds()
    reported = {
        (f.properties["credential_kind"], f.effective_confidence.value)
        for path in BAD
        for f in scan_fixture(path)
        if f.rule.id == "npmrc-plaintext-credential" and "credential_kind" in f.properties
    }
    assert ("token", "medium") in reported and ("basic auth (_auth)", "medium") in reported
    assert reported - documented == set()
