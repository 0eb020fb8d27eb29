"""`path:line:col: severity [rule-id] message`, then the tip."""

from __future__ import annotations

from collections.abc import Sequence

from npm_guard.findings import Finding, Severity


def format_finding(finding: Finding) -> str:
    loc = finding.location
    confidence = finding.effective_confidence.value
    note = f" (confidence: {confidence})" if confidence != "high" else ""
    head = (
        f"{loc.path}:{loc.line}:{loc.column}: {finding.effective_severity.value} "
        f"[{finding.rule.id}] {finding.message}{note}"
    )
    return f"{head}\n    tip: {finding.effective_tip}\n    docs: {finding.rule.docs_url}"


def severity_counts(findings: Sequence[Finding]) -> str:
    """`1 error, 2 warnings`: the severities present, worst first."""
    counts = {s: 0 for s in Severity}
    for finding in findings:
        counts[finding.effective_severity] += 1
    return ", ".join(
        f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}"
        for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE)
        if counts[s]
    )


def count_phrase(findings: Sequence[Finding]) -> str:
    """`no findings`, `1 finding: 1 error`, `3 findings: 1 error, 2 warnings`."""
    if not findings:
        return "no findings"
    plural = "s" if len(findings) != 1 else ""
    return f"{len(findings)} finding{plural}: {severity_counts(findings)}"


def summary_line(findings: Sequence[Finding], files_scanned: int) -> str:
    files = f"{files_scanned} file{'s' if files_scanned != 1 else ''} scanned"
    if not findings:
        return f"npm-guard: no findings ({files})"
    return (
        f"npm-guard: {len(findings)} finding{'s' if len(findings) != 1 else ''} "
        f"({severity_counts(findings)}; {files})"
    )


def render_text(findings: Sequence[Finding], *, files_scanned: int = 0) -> str:
    lines = [format_finding(f) for f in findings]
    lines.append(summary_line(findings, files_scanned))
    return "\n".join(lines) + "\n"
