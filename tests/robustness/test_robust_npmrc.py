"""Properties of the `.npmrc` parser and rules on generated input.

Whatever the text: no exception, every position points into the file and at what it
says it points at, and no credential placed in an auth value is ever echoed back.
Agreement with npm's own parser is `tests/test_npmrc_oracle.py`'s job; this file only
asks what must hold for any input.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npm_guard.findings import Finding
from npm_guard.npmrc import NpmrcFile, parse_npmrc
from npm_guard.npmrc_env import env_references, expand_env, unexpanded_variables
from npm_guard.npmrc_scan import scan_npmrc
from npm_guard.rules import all_rules
from npm_guard.secrets import find_tokens

from .strategies import editor_lines, npmrc_texts

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400) | st.text(
    alphabet="=[]#;\\\"'${}/:_ \t\r\n\u2028\ufeffaA?.@", max_size=200
)


def assert_positions_valid(npmrc: NpmrcFile) -> None:
    lines = editor_lines(npmrc.text)
    for entry in npmrc.entries:
        assert 1 <= entry.line <= lines
        assert entry.key_column >= 1
        if entry.value_start is not None:
            assert entry.value_end is not None
            assert 0 <= entry.value_start <= entry.value_end <= len(npmrc.text)
            assert npmrc.text[entry.value_start : entry.value_end] == entry.value_text
            assert npmrc.position(entry.value_start) == (entry.line, entry.value_column)
    for comment in npmrc.comments:
        assert 1 <= comment.line <= lines
        assert comment.column >= 1


def assert_findings_valid(findings: list[Finding], text: str) -> None:
    lines = editor_lines(text)
    known = all_rules()
    for finding in findings:
        assert finding.rule.id in known
        loc = finding.location
        assert 1 <= loc.line <= lines, (loc, lines)
        assert loc.column >= 1
        if loc.end_line is not None:
            assert loc.line <= loc.end_line <= lines
        assert finding.message and finding.effective_tip


@SETTINGS
@given(ANY_TEXT)
def test_any_text_parses_with_valid_positions(text: str) -> None:
    assert_positions_valid(parse_npmrc(text))


@SETTINGS
@given(ANY_TEXT)
def test_any_text_scans_with_valid_findings(text: str) -> None:
    assert_findings_valid(scan_npmrc(".npmrc", text), text)


@SETTINGS
@given(npmrc_texts())
def test_npmrc_like_text_scans_and_never_echoes_a_credential(sample: tuple[str, list[str]]) -> None:
    text, secrets = sample
    npmrc = parse_npmrc(text)
    assert_positions_valid(npmrc)
    findings = scan_npmrc(".npmrc", text, no_ignores=True)
    assert_findings_valid(findings, text)
    shown = "\n".join(
        [f.message for f in findings]
        + [f.effective_tip for f in findings]
        + [f.key for f in findings]
        + [v for f in findings for v in f.properties.values()]
    )
    leaked = [s for s in secrets if s in shown]
    assert not leaked


@SETTINGS
@given(npmrc_texts())
def test_every_token_in_the_file_is_reported(sample: tuple[str, list[str]]) -> None:
    """A token anywhere (value, comment, section, key) gives a finding on its line."""
    text, _ = sample
    findings = scan_npmrc(".npmrc", text, no_ignores=True)
    npmrc = parse_npmrc(text)
    reported = {f.location.line for f in findings if f.rule.id == "npmrc-plaintext-credential"}
    for credential in find_tokens(text):
        line, _ = npmrc.position(credential.start)
        assert line in reported, (credential.kind, line)


@SETTINGS
@given(ANY_TEXT, st.dictionaries(st.from_regex(r"[A-Z_]{1,8}", fullmatch=True), st.text()))
def test_env_expansion_never_fails(text: str, env: dict[str, str]) -> None:
    expanded = expand_env(text, env)
    assert isinstance(expanded, str)
    for ref in env_references(text):
        assert text[ref.start : ref.start + 2] == "${"
        assert text[ref.end - 1] == "}"
    for variable in unexpanded_variables(text):
        assert text[variable.start : variable.end] == variable.text
