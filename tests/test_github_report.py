"""`--format github`: workflow-command annotations, escaped exactly like `@actions/core`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from leaks import HOSTILE_SECRET, leaked_forms
from npmrc_samples import make_token

from npm_guard.cli import main as cli_main
from npm_guard.findings import Finding, Location, Severity
from npm_guard.report import FORMATS, render
from npm_guard.report.github import (
    ANNOTATIONS_PER_SEVERITY,
    annotation,
    escape_data,
    escape_property,
    render_github,
    workflow_command,
)
from npm_guard.rules import npmrc_insecure_registry, npmrc_plaintext_credential

FAKE_TOKEN = "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"
COMMAND_RE = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("100%", "100%25", "100%25"),
        ("a\nb", "a%0Ab", "a%0Ab"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("k: v, w", "k: v, w", "k%3A v%2C w"),
        ("%0A", "%250A", "%250A"),
        ("::error::x", "::error::x", "%3A%3Aerror%3A%3Ax"),
    ],
)
def test_escaping_matches_actions_core(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def unescape(text: str) -> str:
    """What the runner does with an escaped value (the inverse of @actions/core)."""
    for escaped, raw in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


def test_workflow_command_shape_and_empty_properties() -> None:
    assert workflow_command("error", {}, "boom") == "::error::boom"
    assert (
        workflow_command("warning", {"file": "a,b:c.yml", "line": 3, "col": None}, "m")
        == "::warning file=a%2Cb%3Ac.yml,line=3::m"
    )


def finding(
    path: str = "a/.npmrc",
    line: int = 2,
    message: str = "m",
    severity: Severity | None = None,
    end: tuple[int, int] | None = None,
) -> Finding:
    location = Location(path, line, 4, *(end or (None, None)))
    return Finding(
        rule=npmrc_plaintext_credential.RULE,
        location=location,
        message=message,
        key=f"{path}:{line}",
        severity=severity,
    )


def test_annotation_has_file_line_col_title_and_escaped_message() -> None:
    text = annotation(finding(path="dir, with: odd/.npmrc", message="50% of\nthis", end=(2, 9)))
    match = COMMAND_RE.match(text)
    assert match is not None
    assert match.group(1) == "error"
    properties = dict(p.split("=", 1) for p in (match.group(2) or "").split(","))
    assert properties == {
        "file": "dir%2C with%3A odd/.npmrc",
        "line": "2",
        "endLine": "2",
        "col": "4",
        "endColumn": "9",
        "title": "npm-guard npmrc-plaintext-credential",
    }
    message = unescape(match.group(3))
    assert message.startswith("50% of\nthis\nFix: ")
    assert message.endswith("docs/rules.md#npmrc-plaintext-credential")
    assert "\n" not in text


def test_multi_line_annotation_leaves_columns_out() -> None:
    text = annotation(finding(line=2, end=(5, 1)))
    assert "line=2,endLine=5,title=" in text
    assert "col=" not in text


def test_severities_map_to_error_warning_notice() -> None:
    lines = render_github(
        [finding(severity=s) for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE)]
    ).splitlines()
    assert [line.split(" ", 1)[0] for line in lines[:3]] == ["::error", "::warning", "::notice"]


def test_at_most_ten_annotations_per_severity_the_rest_as_plain_lines() -> None:
    findings = [finding(line=i, severity=Severity.ERROR) for i in range(1, 14)]
    findings += [finding(line=i, severity=Severity.WARNING) for i in range(1, 4)]
    lines = render_github(findings, files_scanned=1).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert sum(line.startswith("::error ") for line in commands) == ANNOTATIONS_PER_SEVERITY
    assert sum(line.startswith("::warning ") for line in commands) == 3
    assert "npm-guard: 3 more findings than GitHub shows as annotations" in "\n".join(lines)
    plain = [line for line in lines if line.startswith("  a/.npmrc:")]
    assert [line.split(":")[1] for line in plain] == ["11", "12", "13"]
    assert lines[-1] == "npm-guard: 16 findings (13 errors, 3 warnings; 1 file scanned)"


def test_the_overflow_note_names_the_summary_only_when_one_is_written() -> None:
    findings = [finding(line=i) for i in range(1, 13)]
    plain = render_github(findings).splitlines()
    assert plain[ANNOTATIONS_PER_SEVERITY] == (
        "npm-guard: 2 more findings than GitHub shows as annotations (10 per severity):"
    )
    assert "summary" not in render_github(findings)
    noted = render_github(findings, summary="the job summary").splitlines()
    assert noted[ANNOTATIONS_PER_SEVERITY] == (
        "npm-guard: 2 more findings than GitHub shows as annotations (10 per severity); "
        "all are in the job summary:"
    )


def test_overflow_lines_show_names_as_written_not_command_escaped() -> None:
    findings = [finding(path="100%, a:b/.npmrc", line=i, message="50%") for i in range(1, 12)]
    assert render_github(findings).splitlines()[-2] == (
        "  100%, a:b/.npmrc:11:4: error [npmrc-plaintext-credential] 50%"
    )


def test_cli_overflow_note_follows_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = "".join(
        f"//r{i}.example/:_authToken={make_token('npm_', 900 + i)}\n" for i in range(11)
    )
    (tmp_path / ".npmrc").write_text(tokens)
    monkeypatch.chdir(tmp_path)
    assert cli_main(["scan", "--format", "github", ".npmrc"]) == 1
    out = capsys.readouterr().out
    assert "annotations (10 per severity):\n" in out and "summary" not in out
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step.md"))
    assert cli_main(["scan", "--format", "github", ".npmrc"]) == 1
    assert "(10 per severity); all are in the job summary:\n" in capsys.readouterr().out
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    assert cli_main(["scan", "--format", "github", "--summary", "s.md", ".npmrc"]) == 1
    assert "(10 per severity); all are in s.md:\n" in capsys.readouterr().out


def test_findings_in_changed_files_get_the_annotations_first() -> None:
    old = [finding(path="a/.npmrc", line=i) for i in range(1, 12)]
    new = [
        finding(path="z/.npmrc", line=1),
        finding(path="z/.npmrc", line=2, severity=Severity.NOTE),
    ]
    findings = old + new  # sorted by path: the pull request's come last

    def annotated(text: str) -> list[str]:
        return [
            re.sub(r",col=.*", "", line.split("file=", 1)[1])
            for line in text.splitlines()
            if line.startswith("::")
        ]

    usual = annotated(render_github(findings))
    assert "z/.npmrc,line=1" not in usual and "z/.npmrc,line=2" in usual
    ranked = render_github(findings, changed={"z/.npmrc", "other"})
    assert annotated(ranked)[0] == "z/.npmrc,line=1"
    assert len([a for a in annotated(ranked) if a.startswith("a/")]) == 9
    # The two findings left over are the base branch's, listed in path order.
    assert [line for line in ranked.splitlines() if line.startswith("  ")] == [
        "  a/.npmrc:10:4: error [npmrc-plaintext-credential] m",
        "  a/.npmrc:11:4: error [npmrc-plaintext-credential] m",
    ]
    assert render_github(findings, changed=set()) == render_github(findings)


def test_overflow_lines_cannot_become_commands() -> None:
    message = "x\n::set-output name=a::b ##[warning]c"
    findings = [finding(path=" ::error::p", line=i, message=message) for i in range(1, 12)]
    lines = render_github(findings).splitlines()
    # The runner reads `::` after leading whitespace, and `##[` anywhere in a line.
    commands = [line for line in lines if line.lstrip().startswith("::") or "##[" in line]
    assert commands == [line for line in lines if line.startswith("::error ")]
    assert len(commands) == ANNOTATIONS_PER_SEVERITY
    assert lines[-2] == (
        "   \\::error::p:11:4: error [npmrc-plaintext-credential] x ::set-output name=a::b "
        "##\\[warning]c"
    )


def test_no_findings_is_just_the_summary_line() -> None:
    assert render_github([], files_scanned=2) == "npm-guard: no findings (2 files scanned)\n"


def test_github_format_never_prints_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".npmrc").write_text(
        f"//registry.npmjs.org/:_authToken={FAKE_TOKEN}\nstrict-ssl=false\n"
    )
    monkeypatch.chdir(tmp_path)
    assert cli_main(["scan", "--format", "github", "."]) == 1
    out = capsys.readouterr().out
    assert FAKE_TOKEN not in out
    first = out.splitlines()[0]
    assert first.startswith("::error file=.npmrc,line=1,col=")
    assert "::warning file=.npmrc,line=2," in out


def test_render_dispatches_github() -> None:
    single = finding()
    assert render("github", [single]).startswith("::error file=a/.npmrc,line=2,col=4,")
    assert npmrc_insecure_registry.RULE.id not in render("github", [single])


def test_every_format_redacts_secrets_before_escaping_them() -> None:
    """Each format escapes other characters of the secret; none may leave a form of it."""
    from npm_guard.report.summary import Verdict, escape_markdown, render_summary

    hostile = Finding(
        rule=npmrc_insecure_registry.RULE,
        location=Location(f"d_{HOSTILE_SECRET}/.npmrc", 1, 10),
        message=f"registry is plain http (http://{HOSTILE_SECRET}.example.com/)",
        key="registry",
        tip=f"use https://{HOSTILE_SECRET}.example.com/",
        properties={"registry": f"http://{HOSTILE_SECRET}.example.com/"},
    )
    findings = [hostile] * (ANNOTATIONS_PER_SEVERITY + 2)  # overflow lines too
    reports = {fmt: render(fmt, findings, secrets=[HOSTILE_SECRET]) for fmt in FORMATS}
    reports["summary"] = render_summary(
        findings,
        verdict=Verdict(True, None),
        # Sections come rendered, escaped like the audit's tables.
        extra_sections=["| package | " + escape_markdown(HOSTILE_SECRET) + " |"],
        secrets=[HOSTILE_SECRET],
    )
    assert {name: leaked_forms(HOSTILE_SECRET, text) for name, text in reports.items()} == {
        name: [] for name in reports
    }
    assert all("redacted" in text and "30 chars" in text for text in reports.values())
