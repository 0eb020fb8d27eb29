"""The JSON report, `"version": 1`, described by `schemas/report.schema.json`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from npm_guard import __version__
from npm_guard.findings import Finding, Severity, Suppressed, number_occurrences

REPORT_VERSION = 1


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    loc = finding.location
    location: dict[str, Any] = {"path": loc.path, "line": loc.line, "column": loc.column}
    if loc.end_line is not None:
        location["endLine"] = loc.end_line
    if loc.end_column is not None:
        location["endColumn"] = loc.end_column
    return {
        "rule": finding.rule.id,
        "severity": finding.effective_severity.value,
        "confidence": finding.effective_confidence.value,
        "message": finding.message,
        "tip": finding.effective_tip,
        "docs": finding.rule.docs_url,
        "location": location,
        "fingerprint": finding.fingerprint,
        "properties": dict(finding.properties),
    }


def report_dict(
    findings: Sequence[Finding], *, files_scanned: int = 0, suppressed: Sequence[Suppressed] = ()
) -> dict[str, Any]:
    by_severity = {s.value: 0 for s in Severity}
    for finding in findings:
        by_severity[finding.effective_severity.value] += 1
    # Numbered together, so a fingerprint does not change when a sibling is silenced.
    numbered = number_occurrences([*findings, *(s.finding for s in suppressed)])
    return {
        "version": REPORT_VERSION,
        "tool": {"name": "npm-guard", "version": __version__},
        "summary": {
            "filesScanned": files_scanned,
            "findings": len(findings),
            "bySeverity": by_severity,
            "suppressed": len(suppressed),
        },
        "findings": [finding_to_dict(f) for f in numbered[: len(findings)]],
        "suppressed": [
            {
                "finding": finding_to_dict(finding),
                "suppression": {"kind": item.kind, "justification": item.justification},
            }
            for finding, item in zip(numbered[len(findings) :], suppressed)
        ],
    }


def render_json(
    findings: Sequence[Finding], *, files_scanned: int = 0, suppressed: Sequence[Suppressed] = ()
) -> str:
    report = report_dict(findings, files_scanned=files_scanned, suppressed=suppressed)
    return json.dumps(report, indent=2) + "\n"
