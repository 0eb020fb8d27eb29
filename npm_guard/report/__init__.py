"""Reporters: findings in, text out. No reporter decides anything about findings."""

from __future__ import annotations

from collections.abc import Sequence

from npm_guard.findings import Finding
from npm_guard.secrets import scrub

FORMATS = ("text", "json", "sarif", "github")


def render(fmt: str, findings: Sequence[Finding], *, files_scanned: int = 0) -> str:
    """The report in `fmt`; every format passes a last token scrub before it leaves."""
    if fmt == "json":
        from npm_guard.report.json_report import render_json

        out = render_json(findings, files_scanned=files_scanned)
    elif fmt == "sarif":
        from npm_guard.report.sarif import render_sarif

        out = render_sarif(findings)
    elif fmt == "github":
        from npm_guard.report.github import render_github

        out = render_github(findings, files_scanned=files_scanned)
    else:
        from npm_guard.report.text import render_text

        out = render_text(findings, files_scanned=files_scanned)
    return scrub(out)
