"""The Markdown job summary: verdict, table, linked findings, details, fixes, extras."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_registry import FakeRegistry

from npm_guard.cli import main as cli_main
from npm_guard.findings import Finding, Location, Severity
from npm_guard.hooks.npmrc_credentials import main as hook_main
from npm_guard.report.summary import (
    MAX_LISTED_FINDINGS,
    Verdict,
    escape_markdown,
    render_summary,
)
from npm_guard.rules import npmrc_insecure_registry, npmrc_plaintext_credential

FAKE_TOKEN = "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"
BASE = "https://github.com/acme/widgets/blob/0123abc/"


def finding(
    path: str = ".npmrc",
    line: int = 1,
    rule: object = npmrc_plaintext_credential.RULE,
    severity: Severity | None = None,
    message: str = "a token",
) -> Finding:
    return Finding(
        rule=rule,  # type: ignore[arg-type]
        location=Location(path, line, 1),
        message=message,
        key=f"{path}:{line}",
        severity=severity,
    )


FINDINGS = [
    finding(".npmrc", 1),
    finding("pkg/.npmrc", 3),
    finding(".npmrc", 2, npmrc_insecure_registry.RULE, Severity.WARNING, "strict-ssl=false"),
]


def test_verdict_table_links_details_and_fixes() -> None:
    text = render_summary(
        FINDINGS, verdict=Verdict(True, Severity.ERROR), files_scanned=2, link_base=BASE
    )
    lines = text.splitlines()
    assert lines[0] == "## npm-guard"
    assert lines[2] == (
        "❌ **Failed**: 2 errors, 1 warning (2 files scanned; the run fails on `error` and above)."
    )
    assert "| Rule | Error | Warning | Note |" in lines
    assert (
        f"| [`npmrc-plaintext-credential`]({npmrc_plaintext_credential.RULE.docs_url}) | 2 |  |  |"
        in lines
    )
    assert (
        f"| [`npmrc-insecure-registry`]({npmrc_insecure_registry.RULE.docs_url}) |  | 1 |  |"
        in lines
    )
    assert "| **Total** | **2** | **1** | **0** |" in lines
    assert f"- 🔴 **error** [`.npmrc:1`]({BASE}.npmrc#L1): a token." in lines
    assert f"- 🔴 **error** [`pkg/.npmrc:3`]({BASE}pkg/.npmrc#L3): a token." in lines
    assert f"- 🟡 **warning** [`.npmrc:2`]({BASE}.npmrc#L2): strict-ssl=false." in lines
    assert text.count("<details>") == 2 == text.count("</details>")
    assert "<summary><code>npmrc-plaintext-credential</code>:" in text
    assert text.count("**How to fix:**") == 2
    assert "keep strict-ssl on" in text  # the insecure-registry rule's tip
    # Worst rule first.
    assert text.index("npmrc-plaintext-credential</code>") < text.index(
        "npmrc-insecure-registry</code>"
    )


@pytest.mark.parametrize(
    ("findings", "verdict", "line"),
    [
        ([], Verdict(False, Severity.ERROR), "✅ **Passed**: no findings (1 file scanned)."),
        (
            FINDINGS[2:],
            Verdict(False, Severity.ERROR),
            "✅ **Passed** with 1 warning below the failure threshold `error` (1 file scanned).",
        ),
        (
            FINDINGS,
            Verdict(False, None),
            "⚠️ **Reported**: 2 errors, 1 warning (1 file scanned; findings do not fail this run).",
        ),
        (
            FINDINGS[2:],
            Verdict(True, Severity.WARNING),
            "❌ **Failed**: 1 warning (1 file scanned; the run fails on `warning` and above).",
        ),
    ],
)
def test_verdict_line(findings: list[Finding], verdict: Verdict, line: str) -> None:
    text = render_summary(findings, verdict=verdict, files_scanned=1)
    assert text.splitlines()[2] == line
    assert ("| Rule |" in text) is bool(findings)


def test_relative_links_without_a_base_and_no_link_outside_the_repo() -> None:
    text = render_summary(
        [finding("a b/.npmrc", 4), finding("/home/u/.npmrc", 2)], verdict=Verdict(True, None)
    )
    assert "[`a b/.npmrc:4`](a%20b/.npmrc#L4)" in text
    assert "`/home/u/.npmrc:2`:" in text
    assert "](/home" not in text


def test_extra_sections_come_after_the_table_and_before_the_details() -> None:
    extra = "### Packages\n\n| Package | Verdict |\n| --- | --- |\n| left-pad | ✅ |\n"
    text = render_summary(FINDINGS, verdict=Verdict(True, Severity.ERROR), extra_sections=[extra])
    assert text.index("| **Total** |") < text.index("### Packages") < text.index("### Findings")
    assert "| left-pad | ✅ |" in text
    clean = render_summary([], verdict=Verdict(False, Severity.ERROR), extra_sections=[extra])
    assert "### Packages" in clean


def test_markdown_in_messages_is_shown_literally() -> None:
    assert escape_markdown("a_b *c* [d](e) x|y <img> &") == (
        "a\\_b \\*c\\* \\[d\\](e) x\\|y &lt;img&gt; &amp;"
    )
    assert escape_markdown("run `npm token list` then\nrevoke") == (
        "run `npm token list` then revoke"
    )
    assert escape_markdown("one ` tick_") == "one \\` tick\\_"
    text = render_summary(
        [finding(message="<script>alert(1)</script> | **x**")], verdict=Verdict(True, None)
    )
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| \\*\\*x\\*\\*" in text


def test_long_lists_are_cut_with_a_note() -> None:
    many = [finding(".npmrc", i) for i in range(1, MAX_LISTED_FINDINGS + 8)]
    text = render_summary(many, verdict=Verdict(True, Severity.ERROR))
    assert text.count("- 🔴 **error**") == MAX_LISTED_FINDINGS
    assert "7 more findings not listed here" in text


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / ".npmrc").write_text(
        f"//registry.npmjs.org/:_authToken={FAKE_TOKEN}\nstrict-ssl=false\n"
    )
    monkeypatch.chdir(tmp_path / "repo")
    return tmp_path


def test_summary_option_writes_the_file_for_any_format(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = repo / "summary.md"
    summary.write_text("old content\n")
    assert cli_main(["scan", "--summary", str(summary), "."]) == 1
    text = summary.read_text("utf-8")
    assert text.startswith("## npm-guard\n")  # --summary FILE is rewritten, not appended to
    assert "❌ **Failed**: 1 error, 1 warning (1 file scanned;" in text
    assert "[`.npmrc:1`](.npmrc#L1)" in text
    assert FAKE_TOKEN not in text
    assert "npm\\_UEui…KSCV" in text  # redacted, and escaped for Markdown
    capsys.readouterr()


def test_github_format_appends_to_the_step_summary_with_links(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    step_summary = repo / "step_summary.md"
    step_summary.write_text("## earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/widgets")
    monkeypatch.setenv("GITHUB_SHA", "0123abc")
    assert cli_main(["scan", "--format", "github", "--fail-on", "warning", "."]) == 1
    text = step_summary.read_text("utf-8")
    assert text.startswith("## earlier step\n## npm-guard\n")
    assert "the run fails on `warning` and above" in text
    assert f"[`.npmrc:2`]({BASE}.npmrc#L2)" in text
    assert capsys.readouterr().out.startswith("::error file=.npmrc,")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_scan_appends_the_step_summary_whatever_the_format(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    step_summary = repo / "step_summary.md"
    step_summary.write_text("## earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    cli_main(["scan", "--format", fmt, "."])
    text = step_summary.read_text("utf-8")
    assert text.startswith("## earlier step\n## npm-guard\n")
    assert text.count("## npm-guard\n") == 1
    assert "[`.npmrc:1`](.npmrc#L1)" in text and FAKE_TOKEN not in text
    assert "## npm-guard" not in capsys.readouterr().out  # the report is not mixed with it


def test_no_step_summary_without_the_variable(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["scan", "--format", "github", "."]) == 1  # no summary file: still fine
    assert sorted(p.name for p in repo.iterdir()) == ["repo"]
    capsys.readouterr()


def test_the_hooks_append_no_step_summary(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    step_summary = repo / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    assert hook_main(["--format", "github", ".npmrc"]) == 1
    assert not step_summary.exists()
    asked = repo / "asked.md"
    assert hook_main(["--summary", str(asked), ".npmrc"]) == 1
    assert asked.read_text("utf-8").startswith("## npm-guard\n")
    assert not step_summary.exists()
    capsys.readouterr()


def test_audit_appends_the_step_summary_in_text_format(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    step_summary = repo / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    with FakeRegistry() as fake:
        cli_main(["audit", "--registry", fake.url, "left-pad"])
    text = step_summary.read_text("utf-8")
    assert text.startswith("## npm-guard audit\n")
    assert "1 package audited" in text
    capsys.readouterr()


def test_unwritable_summary_is_a_usage_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["scan", "--summary", str(repo / "no" / "such" / "dir.md"), "."]) == 2
    assert "cannot write the summary" in capsys.readouterr().err
