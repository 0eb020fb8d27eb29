"""Reporters: findings in, text out. No reporter decides anything about findings."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from npm_guard._record import replace
from npm_guard.constants import REPORT_FORMATS
from npm_guard.findings import Finding, Suppressed, sort_key
from npm_guard.secrets import scrub

FORMATS = REPORT_FORMATS


def scrub_findings(findings: Sequence[Finding], secrets: Sequence[str] = ()) -> list[Finding]:
    """The findings with `secrets` and token-shaped strings redacted from every text a
    reporter shows (message, tip, path, properties).

    Reporters escape what they print (Markdown, workflow commands, JSON, URLs), and an
    escaped secret no longer matches a scrub of the finished report: so every text is
    scrubbed here, before any escaping.
    """
    secrets = list(secrets)
    scrubbed: dict[str, str] = {}  # tips, paths and properties repeat across findings

    def clean_text(text: str) -> str:
        done = scrubbed.get(text)
        if done is None:
            done = scrubbed[text] = scrub(text, secrets)
        return done

    clean = []
    for finding in findings:
        loc = finding.location
        message, tip, path = (clean_text(text) for text in (finding.message, finding.tip, loc.path))
        properties = {key: clean_text(value) for key, value in finding.properties.items()}
        if (message, tip, path) != (finding.message, finding.tip, loc.path) or properties != dict(
            finding.properties
        ):
            finding = replace(
                finding,
                message=message,
                tip=tip,
                location=replace(loc, path=path),
                properties=properties,
            )
        clean.append(finding)
    return clean


def scrub_suppressed(
    suppressed: Sequence[Suppressed], secrets: Sequence[str] = ()
) -> list[Suppressed]:
    """`scrub_findings()` for silenced findings, their justification included (a reason
    is free text from the policy file or the scanned file), in file order."""
    secrets = list(secrets)
    ordered = sorted(suppressed, key=lambda s: sort_key(s.finding))
    clean = scrub_findings([s.finding for s in ordered], secrets)
    return [
        Suppressed(finding, s.kind, scrub(s.justification, secrets))
        for finding, s in zip(clean, ordered)
    ]


def render(
    fmt: str,
    findings: Sequence[Finding],
    *,
    files_scanned: int = 0,
    secrets: Sequence[str] = (),
    summary: str | None = None,
    changed: Collection[str] | None = None,
    suppressed: Sequence[Suppressed] = (),
    checked: str | None = None,
) -> str:
    """The report in `fmt`, every text scrubbed of `secrets` and tokens before it is
    escaped, and the whole report scrubbed once more before it leaves.

    `summary` names the summary the run writes, if any (`github` says the findings past
    the annotation cap are in it); `changed` are the files a pull request changes
    (`github` annotates their findings first). `suppressed` are the findings the policy
    or ignore comments silenced: counted in text and github, listed in JSON, and
    suppressed results in SARIF. `checked` says what the run looked at on the `github`
    summary line when that is not files alone (`3 packages audited`).
    """
    secrets = list(secrets)
    findings = scrub_findings(findings, secrets)
    silenced = scrub_suppressed(suppressed, secrets)
    if fmt == "json":
        from npm_guard.report.json_report import render_json

        out = render_json(findings, files_scanned=files_scanned, suppressed=silenced)
    elif fmt == "sarif":
        from npm_guard.report.sarif import render_sarif

        out = render_sarif(findings, suppressed=silenced)
    elif fmt == "github":
        from npm_guard.report.github import render_github

        out = render_github(
            findings,
            files_scanned=files_scanned,
            summary=summary,
            changed=changed,
            suppressed=silenced,
            checked=checked,
        )
    else:
        from npm_guard.report.text import render_text

        out = render_text(findings, files_scanned=files_scanned, suppressed=silenced)
    return scrub(out, secrets)
