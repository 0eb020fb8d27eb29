"""`path:line:col: severity [rule-id] message`, then the tip."""

from __future__ import annotations

from collections.abc import Sequence

from npm_guard.findings import BY_POLICY, Finding, Severity, Suppressed


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


def suppressed_phrase(suppressed: Sequence[Suppressed]) -> str:
    """`2 suppressed by the policy`, `1 suppressed by an ignore comment`, or both:
    `3 suppressed: 2 by the policy, 1 by ignore comments`; empty for none."""
    by_policy = sum(1 for s in suppressed if s.kind == BY_POLICY)
    by_comment = len(suppressed) - by_policy
    comments = "an ignore comment" if by_comment == 1 else "ignore comments"
    if by_policy and by_comment:
        return (
            f"{len(suppressed)} suppressed: {by_policy} by the policy, {by_comment} by {comments}"
        )
    if by_policy:
        return f"{by_policy} suppressed by the policy"
    if by_comment:
        return f"{by_comment} suppressed by {comments}"
    return ""


def summary_line(
    findings: Sequence[Finding], files_scanned: int, suppressed: Sequence[Suppressed] = ()
) -> str:
    """The last line of a report: findings by severity, files scanned, and the findings
    the policy or ignore comments silenced (they fail nothing, but are not hidden)."""
    checked = f"{files_scanned} file{'s' if files_scanned != 1 else ''} scanned"
    return findings_line(findings, checked, suppressed)


def findings_line(
    findings: Sequence[Finding], checked: str, suppressed: Sequence[Suppressed] = ()
) -> str:
    """`npm-guard: 2 findings (1 error, 1 warning; <checked>; 1 suppressed by the
    policy)`; `checked` says what the run looked at (files scanned, packages audited)."""
    extra = "".join(f"; {part}" for part in (checked, suppressed_phrase(suppressed)) if part)
    if not findings:
        return f"npm-guard: no findings ({extra[2:]})" if extra else "npm-guard: no findings"
    plural = "s" if len(findings) != 1 else ""
    return f"npm-guard: {len(findings)} finding{plural} ({severity_counts(findings)}{extra})"


def render_text(
    findings: Sequence[Finding], *, files_scanned: int = 0, suppressed: Sequence[Suppressed] = ()
) -> str:
    lines = [format_finding(f) for f in findings]
    lines.append(summary_line(findings, files_scanned, suppressed))
    return "\n".join(lines) + "\n"
