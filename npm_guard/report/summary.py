"""The Markdown job summary: a verdict, a table by rule and severity, and every finding.

Written to `$GITHUB_STEP_SUMMARY` or to `--summary FILE` by `npm_guard.github_io`. Other
stages add their own sections (for example the online audit's per-package verdicts)
through `extra_sections`, which are placed after the verdict and table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from npm_guard._record import dataclass
from npm_guard.findings import Finding, Rule, Severity

# GitHub refuses a step summary over 1 MiB; stay well below it with the findings list.
MAX_LISTED_FINDINGS = 500
SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.NOTE)
_ICONS = {Severity.ERROR: "🔴", Severity.WARNING: "🟡", Severity.NOTE: "🔵"}
# cmark, which GitHub renders with, reads no run of more than 80 backticks (MAXBACKTICKS)
# as a code span's fence; longer fences than this are not risked.
_MAX_FENCE = 32
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# GitHub turns `scheme://…` and `www.…` in text into links by itself; a backslash before
# the `:` or the `.` keeps them text (an e-mail address is still linked, to itself).
_AUTOLINK_WWW_RE = re.compile(r"\b([Ww][Ww][Ww])\.")


@dataclass(frozen=True)
class Verdict:
    """What the run decided: the threshold it used and whether findings reached it."""

    failed: bool
    threshold: Severity | None  # None: the report does not fail on findings (SARIF default)


def escape_markdown(text: str) -> str:
    """`text` shown as written in Markdown; its balanced `code spans` stay code spans.

    Only single backticks pair up as they look: CommonMark closes a span at a run of
    backticks as long as the one that opened it, so with a run of two or more in the
    text (```` ```<img …>` ````: no span at all) nothing is kept as code.
    """
    text = one_line(text)
    parts = text.split("`")
    if len(parts) % 2 == 0 or "``" in text:  # unbalanced, or longer fences: no code
        return _escape_plain(text)
    return "`".join(_escape_plain(part) if i % 2 == 0 else part for i, part in enumerate(parts))


def _escape_plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _AUTOLINK_WWW_RE.sub(r"\1\\.", text.replace("://", "\\://"))


def escape_html(text: str) -> str:
    """`text` inside an HTML tag of the summary, where Markdown is not interpreted."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str) -> str:
    """`text` with every line break (any of Unicode's) turned into a space: what a
    repository names can never start a line, a block or a table row of its own."""
    return " ".join(text.splitlines()) if text else text


def code_span(text: str, *, in_table: bool = False) -> str:
    """`text` as a Markdown code span, shown exactly as written, on one line.

    The fence is one backtick longer than the longest run of backticks in the text,
    and a text that starts or ends with a backtick or a space is padded (CommonMark
    strips one space from each side). Inside a code span nothing is Markdown or HTML;
    only a table row is split at `|` before code spans are read, so `in_table` escapes
    it (GFM shows `\\|` there as `|`). A text with a run of backticks too long for a
    fence is escaped as plain text instead.
    """
    text = one_line(text)
    if in_table:
        text = text.replace("|", "\\|")
    if not text:
        return "` `"
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    if longest >= _MAX_FENCE:
        return _escape_plain(text)  # no span could hold it: shown escaped instead
    fence = "`" * (longest + 1)
    if text[0] in "` " or text[-1] in "` ":
        text = f" {text} "
    return f"{fence}{text}{fence}"


def table_cell(text: str) -> str:
    """`text` in a cell of a Markdown table: on one line, every Markdown and HTML
    character escaped (no code spans kept), `|` too; never empty."""
    return _escape_plain(one_line(text)) or " "


def render_summary(
    findings: Sequence[Finding],
    *,
    verdict: Verdict,
    files_scanned: int = 0,
    link_base: str | None = None,
    extra_sections: Sequence[str] = (),
    title: str = "npm-guard",
    checked: str | None = None,
    secrets: Sequence[str] = (),
) -> str:
    """The job summary in Markdown.

    `link_base` is the URL prefix of the scanned files (for GitHub,
    `https://github.com/OWNER/REPO/blob/SHA/`); without it links are relative.
    `checked` says in words what the run looked at (default: the number of files).
    `secrets` are redacted from every text before it is escaped (Markdown escaping
    would hide them from a scrub of the finished summary, which is done too).
    """
    from npm_guard.report import scrub_findings
    from npm_guard.secrets import scrub

    secrets = list(secrets)
    findings = scrub_findings(findings, secrets)
    # The extra sections arrive as Markdown, already escaped: look for the escaped forms.
    markdown_forms = [*secrets, *(escape_markdown(s) for s in secrets)]
    markdown_forms += [escape_html(s) for s in secrets]
    checked = checked if checked is not None else count_phrase(files_scanned, "file", "scanned")
    checked = scrub(checked, secrets)
    title = f"## {escape_markdown(scrub(title, secrets))}"
    parts = [title, "", verdict_line(findings, verdict, checked)]
    if findings:
        parts += ["", *_table(findings)]
    for section in extra_sections:
        parts += ["", scrub(section.rstrip("\n"), markdown_forms)]
    if findings:
        parts += ["", *_details(findings, link_base)]
    return scrub("\n".join(parts) + "\n", secrets)


def count_phrase(count: int, noun: str, verb: str) -> str:
    """`1 file scanned`, `3 packages audited`."""
    return f"{count} {noun}{'s' if count != 1 else ''} {verb}"


def verdict_line(findings: Sequence[Finding], verdict: Verdict, checked: str) -> str:
    """One line: passed or failed, and why, in words; `checked` is what was looked at."""
    files = checked
    counts = _counts(findings)
    found = ", ".join(
        f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}" for s in SEVERITY_ORDER if counts[s]
    )
    if verdict.failed:
        threshold = verdict.threshold.value if verdict.threshold else "error"
        return f"❌ **Failed**: {found} ({files}; the run fails on `{threshold}` and above)."
    if not findings:
        return f"✅ **Passed**: no findings ({files})."
    if verdict.threshold is None:
        return f"⚠️ **Reported**: {found} ({files}; findings do not fail this run)."
    return (
        f"✅ **Passed** with {found} below the failure threshold `{verdict.threshold.value}` "
        f"({files})."
    )


def _counts(findings: Sequence[Finding]) -> dict[Severity, int]:
    counts = {s: 0 for s in Severity}
    for finding in findings:
        counts[finding.effective_severity] += 1
    return counts


def _rules_in_order(findings: Sequence[Finding]) -> list[Rule]:
    """Rules with findings, worst first, then by id."""
    rules: dict[str, Rule] = {}
    worst: dict[str, int] = {}
    for finding in findings:
        rules.setdefault(finding.rule.id, finding.rule)
        rank = finding.effective_severity.rank
        worst[finding.rule.id] = max(worst.get(finding.rule.id, 0), rank)
    return sorted(rules.values(), key=lambda r: (-worst[r.id], r.id))


def _table(findings: Sequence[Finding]) -> list[str]:
    lines = ["| Rule | Error | Warning | Note |", "| --- | ---: | ---: | ---: |"]
    for rule in _rules_in_order(findings):
        counts = _counts([f for f in findings if f.rule.id == rule.id])
        cells = " | ".join(str(counts[s]) if counts[s] else "" for s in SEVERITY_ORDER)
        lines.append(f"| [`{rule.id}`]({rule.docs_url}) | {cells} |")
    totals = _counts(findings)
    lines.append("| **Total** | " + " | ".join(f"**{totals[s]}**" for s in SEVERITY_ORDER) + " |")
    return lines


def _details(findings: Sequence[Finding], link_base: str | None) -> list[str]:
    lines = ["### Findings"]
    listed = 0
    for rule in _rules_in_order(findings):
        of_rule = [f for f in findings if f.rule.id == rule.id]
        count = len(of_rule)
        lines += [
            "",
            "<details>",
            f"<summary><code>{rule.id}</code>: {escape_html(rule.summary)} "
            f"({count} finding{'s' if count != 1 else ''})</summary>",
            "",
        ]
        for finding in of_rule:
            if listed >= MAX_LISTED_FINDINGS:
                break
            listed += 1
            lines.append(_finding_item(finding, link_base))
        lines += [
            "",
            f"**How to fix:** {escape_markdown(rule.tip)} [Read more]({rule.docs_url}).",
            "",
            "</details>",
        ]
    if listed < len(findings):
        rest = len(findings) - listed
        lines += [
            "",
            f"{rest} more finding{'s' if rest != 1 else ''} not listed here: run "
            "`npm-guard scan` locally or see the SARIF report for all of them.",
        ]
    return lines


def _finding_item(finding: Finding, link_base: str | None) -> str:
    loc = finding.location
    label = f"{loc.path}:{loc.line}"
    target = f"{link_base or ''}{quote(loc.path, safe='/')}#L{loc.line}"
    # Outside the repository there is nothing to link to. In a link, the code span
    # binds tighter than the link's brackets: a `]` in it ends nothing.
    shown = code_span(label)
    link = shown if loc.path.startswith("/") else f"[{shown}]({target})"
    severity = finding.effective_severity
    tip = finding.effective_tip
    extra = f" Fix: {escape_markdown(tip)}" if tip != finding.rule.tip else ""
    return (
        f"- {_ICONS[severity]} **{severity.value}** {link}: "
        f"{escape_markdown(finding.message.rstrip('.'))}.{extra}"
    )
