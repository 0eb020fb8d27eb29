"""Every reporter on arbitrary findings: no exception, well-formed output, no credential.

The findings here are not what any rule would build: paths, messages, keys and
properties are arbitrary text (newlines, `%`, `::`, Markdown, HTML, control
characters), with a token slipped into them. Whatever a future rule puts in a finding,
the reporters must neither crash nor print a whole token nor let a message start a new
workflow command.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npm_guard.findings import Confidence, Finding, Location, Severity
from npm_guard.report import FORMATS, render
from npm_guard.report.summary import Verdict, render_summary
from npm_guard.rules import all_rules
from npm_guard.secrets import scrub

from .strategies import checksummed_tokens, npmrc_texts

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
INJECTION = "\n::set-env name=PWNED::1\n"
RULES = list(all_rules().values())
texts = st.text(max_size=80) | st.sampled_from(["", "%", "::", "\r\n", "a,b:c", "`|*_[x](y)<b>"])


@st.composite
def findings(draw: st.DrawFn) -> tuple[list[Finding], list[str]]:
    """Arbitrary findings, some carrying a token or a command injection in their text."""
    out: list[Finding] = []
    tokens: list[str] = []
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        parts = [draw(texts) for _ in range(4)]
        if draw(st.booleans()):
            token = draw(checksummed_tokens(draw(st.sampled_from(["npm_", "ghp_"]))))
            tokens.append(token)
            index = draw(st.integers(min_value=0, max_value=3))
            parts[index] = f"{parts[index]} {token} {draw(texts)}"
        if draw(st.booleans()):
            index = draw(st.integers(min_value=0, max_value=3))
            parts[index] += INJECTION
        path, message, key, prop = parts
        line = draw(st.integers(min_value=1, max_value=10**6))
        column = draw(st.integers(min_value=1, max_value=10**4))
        end = draw(st.none() | st.tuples(st.integers(line, line + 5), st.integers(1, 10**4)))
        out.append(
            Finding(
                rule=draw(st.sampled_from(RULES)),
                location=Location(
                    path or "x",
                    line,
                    column,
                    end[0] if end else None,
                    end[1] if end else None,
                ),
                message=message,
                key=key,
                tip=draw(texts),
                severity=draw(st.none() | st.sampled_from(list(Severity))),
                confidence=draw(st.none() | st.sampled_from(list(Confidence))),
                properties={"note": prop} if prop else {},
            )
        )
    return out, tokens


def assert_well_formed(fmt: str, output: str, count: int) -> None:
    if fmt in ("json", "sarif"):
        json.loads(output)
    if fmt == "github":
        assert not any(line.startswith("::set-env") for line in output.splitlines())
        commands = [line for line in output.splitlines() if line.startswith("::")]
        assert len(commands) <= count + 2  # annotations (+ group markers), never injected


@SETTINGS
@given(findings(), st.integers(min_value=0, max_value=10**6))
def test_every_format_renders_arbitrary_findings_without_leaking(
    sample: tuple[list[Finding], list[str]], files_scanned: int
) -> None:
    items, tokens = sample
    for fmt in FORMATS:
        output = render(fmt, items, files_scanned=files_scanned)
        assert_well_formed(fmt, output, len(items))
        readable = output + (json.dumps(json.loads(output)) if fmt in ("json", "sarif") else "")
        assert not [t for t in tokens if t in readable], fmt


@SETTINGS
@given(findings(), st.booleans(), st.none() | st.text(max_size=40))
def test_job_summary_renders_arbitrary_findings(
    sample: tuple[list[Finding], list[str]], failed: bool, link_base: str | None
) -> None:
    items, tokens = sample
    verdict = Verdict(failed=failed, threshold=Severity.ERROR)
    summary = render_summary(items, verdict=verdict, link_base=link_base, files_scanned=3)
    assert summary.endswith("\n")
    # The CLI and the Action write the summary through scrub(); nothing survives it.
    assert not [t for t in tokens if t in scrub(summary)]


@SETTINGS
@given(npmrc_texts())
def test_real_findings_carry_no_credential_into_any_report(sample: tuple[str, list[str]]) -> None:
    """The findings rules really build, rendered without the reporters' last scrub."""
    from npm_guard.npmrc_scan import scan_npmrc
    from npm_guard.report.json_report import render_json
    from npm_guard.report.sarif import render_sarif
    from npm_guard.report.text import render_text

    text, secrets = sample
    items = scan_npmrc("dir/.npmrc", text, no_ignores=True)
    raw = [
        render_text(items, files_scanned=1),
        render_json(items, files_scanned=1),
        render_sarif(items),
        render_summary(items, verdict=Verdict(failed=True, threshold=Severity.ERROR)),
    ]
    raw += [render(fmt, items, files_scanned=1) for fmt in FORMATS]
    for output in raw:
        assert not [s for s in secrets if s in output]
