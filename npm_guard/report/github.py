"""GitHub Actions workflow-command annotations (`::error file=…,line=…::message`).

GitHub shows at most 10 annotations of each severity per step; the findings past that
are printed as plain log lines here and listed in full in the job summary.

Every line that is not a command npm-guard means goes through `plain_line()`: the
runner reads `::name …::` after leading whitespace and the legacy `##[name …]` anywhere
in a line, so a path or value from a file could otherwise print a command of its own.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from npm_guard.findings import Finding, Severity, Suppressed

ANNOTATIONS_PER_SEVERITY = 10
COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    """A command's message, escaped the way `@actions/core` escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value: like the message, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def plain_line(text: str) -> str:
    """`text` as one log line that the runner cannot take for a workflow command.

    The runner trims leading whitespace before it looks for `::`, and finds the legacy
    `##[` form anywhere in a line: a backslash goes before either. Line breaks become
    spaces, so no part of `text` starts a line of its own.
    """
    text = " ".join(text.splitlines())
    text = text.replace("##[", "##\\[")
    start = text.find("::")
    # Whatever the runner may trim before `::`: whitespace, and invisible characters too.
    if start >= 0 and all(c.isspace() or not c.isprintable() for c in text[:start]):
        text = f"{text[:start]}\\{text[start:]}"
    return text


def plain_text(text: str) -> str:
    """`plain_line()` for each line of `text`, keeping its lines (a traceback)."""
    return "\n".join(plain_line(line) for line in text.splitlines())


def workflow_command(name: str, properties: Mapping[str, str | int | None], message: str) -> str:
    """`::name key=value,key=value::message`; properties without a value are left out."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None and value != ""
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(finding: Finding) -> str:
    """One finding as an annotation on its file and line."""
    loc = finding.location
    # GitHub takes columns only for an annotation within one line.
    one_line = loc.end_line in (None, loc.line)
    properties: dict[str, str | int | None] = {
        "file": loc.path,
        "line": loc.line,
        "endLine": loc.end_line,
        "col": loc.column if one_line else None,
        "endColumn": loc.end_column if one_line else None,
        "title": f"npm-guard {finding.rule.id}",
    }
    message = f"{finding.message}\nFix: {finding.effective_tip}\nDocs: {finding.rule.docs_url}"
    return workflow_command(COMMANDS[finding.effective_severity], properties, message)


def overflows(findings: Sequence[Finding]) -> bool:
    """More findings of some severity than GitHub shows as annotations."""
    counts = {s: 0 for s in Severity}
    for finding in findings:
        counts[finding.effective_severity] += 1
    return any(count > ANNOTATIONS_PER_SEVERITY for count in counts.values())


def render_github(
    findings: Sequence[Finding],
    *,
    files_scanned: int = 0,
    summary: str | None = None,
    changed: Collection[str] | None = None,
    suppressed: Sequence[Suppressed] = (),
    checked: str | None = None,
) -> str:
    """Annotations for the first findings of each severity, plain lines for the rest.

    `summary` names where this run's summary lists every finding (`the job summary`),
    if it writes one; the note above the plain lines says so only then. `changed` are
    the paths a pull request changes: their findings get the annotations first, so
    findings already on the base branch cannot use up GitHub's cap.
    """
    from npm_guard.report.text import findings_line, summary_line

    order = list(range(len(findings)))
    if changed:
        order = sorted(order, key=lambda i: findings[i].location.path not in changed)
    shown: dict[Severity, int] = {s: 0 for s in Severity}
    lines: list[str] = []
    annotated: set[int] = set()
    for index in order:
        severity = findings[index].effective_severity
        if shown[severity] < ANNOTATIONS_PER_SEVERITY:
            shown[severity] += 1
            annotated.add(index)
            lines.append(annotation(findings[index]))
    overflow = [f for i, f in enumerate(findings) if i not in annotated]
    if overflow:
        count = len(overflow)
        where = f"; all are in {summary}" if summary else ""
        note = (
            f"npm-guard: {count} more finding{'s' if count != 1 else ''} than GitHub shows as "
            f"annotations ({ANNOTATIONS_PER_SEVERITY} per severity){where}:"
        )
        lines.append(plain_line(note))
        for finding in overflow:
            loc = finding.location
            text = (
                f"{loc.path}:{loc.line}:{loc.column}: {finding.effective_severity.value} "
                f"[{finding.rule.id}] {finding.message}"
            )
            lines.append(plain_line("  " + text))
    if checked is None:
        last = summary_line(findings, files_scanned, suppressed)
    else:  # what the run looked at, in words: the audit scans no files
        last = findings_line(findings, checked, suppressed)
    lines.append(plain_line(last))
    return "\n".join(lines) + "\n"
