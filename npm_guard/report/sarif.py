"""SARIF 2.1.0 for code scanning: every registered rule, results with stable fingerprints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from npm_guard import __version__
from npm_guard.findings import Confidence, Finding, Rule, Severity, Suppressed, number_occurrences

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_NAME = "npmGuardFingerprint/v1"
INFORMATION_URI = "https://github.com/npm-guard/npm-guard"

_PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}
# GitHub code scanning reads `security-severity` (0.0-10.0) to rank security alerts.
_SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.0", Severity.NOTE: "2.0"}


def _sentence(text: str) -> str:
    """SARIF viewers expect messages to be whole sentences, ending with a period."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _semantic_version(version: str) -> dict[str, str]:
    """`semanticVersion` must be SemVer 2.0: `0.1.0` as it is, PEP 440's `0.1.0.dev0`
    and `0.1.0rc1` as `0.1.0-dev.0` and `0.1.0-rc.1`; nothing for what does not map."""
    import re

    match = re.fullmatch(r"(\d+\.\d+\.\d+)(?:(a|b|rc)(\d+))?(?:\.dev(\d+))?", version)
    if match is None:
        return {}
    release, pre, number, dev = match.groups()
    labels = []
    if pre:
        labels.append(f"{pre}.{number}")
    if dev is not None:
        labels.append(f"dev.{dev}")
    return {"semanticVersion": release + ("-" + ".".join(labels) if labels else "")}


def _rule_name(rule_id: str) -> str:
    return "".join(part.capitalize() for part in rule_id.split("-"))


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": _rule_name(rule.id),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _sentence(rule.summary)},
        "help": {
            "text": f"{_sentence(rule.tip)} See {rule.docs_url}.",
            "markdown": f"{_sentence(rule.tip)}\n\n[Documentation]({rule.docs_url})",
        },
        "helpUri": rule.docs_url,
        "defaultConfiguration": {"level": rule.severity.value},
        "properties": {
            "tags": ["security", "npm", rule.target],
            "precision": _PRECISION[rule.confidence],
            "security-severity": _SECURITY_SEVERITY[rule.severity],
        },
    }


def _artifact_location(path: str) -> dict[str, Any]:
    if path.startswith("/"):
        return {"uri": "file://" + quote(path, safe="/")}
    return {"uri": quote(path, safe="/"), "uriBaseId": SRCROOT}


def result_object(finding: Finding, rule_index: int) -> dict[str, Any]:
    loc = finding.location
    region: dict[str, Any] = {"startLine": loc.line, "startColumn": loc.column}
    if loc.end_line is not None and loc.end_column is not None:
        region["endLine"] = loc.end_line
        region["endColumn"] = loc.end_column
    properties: dict[str, Any] = {"confidence": finding.effective_confidence.value}
    properties.update(finding.properties)
    return {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index,
        "level": finding.effective_severity.value,
        "message": {
            "text": f"{_sentence(finding.message)} Fix: {_sentence(finding.effective_tip)}"
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact_location(loc.path),
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_NAME: finding.fingerprint},
        "properties": properties,
    }


def suppressed_result(item: Suppressed, finding: Finding, rule_index: int) -> dict[str, Any]:
    """A silenced finding as a result whose `suppressions` say by what and why
    (`external`: the policy file; `inSource`: an ignore comment), accepted: viewers
    that read them show the result as suppressed, not as an open problem."""
    result = result_object(finding, rule_index)
    result["suppressions"] = [
        {"kind": item.kind, "status": "accepted", "justification": item.justification}
    ]
    return result


def sarif_log(findings: Sequence[Finding], suppressed: Sequence[Suppressed] = ()) -> dict[str, Any]:
    from npm_guard.rules import all_rules

    rules = dict(all_rules())
    silenced = [s.finding for s in suppressed]
    for finding in [*findings, *silenced]:  # rules registered elsewhere still get a descriptor
        rules.setdefault(finding.rule.id, finding.rule)
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    # Numbered together: a fingerprint does not change when a sibling is silenced.
    numbered = number_occurrences([*findings, *silenced])
    results = [result_object(f, index[f.rule.id]) for f in numbered[: len(findings)]]
    results += [
        suppressed_result(item, f, index[f.rule.id])
        for item, f in zip(suppressed, numbered[len(findings) :])
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "npm-guard",
                        "version": __version__,
                        **_semantic_version(__version__),
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_descriptor(rule) for rule in rules.values()],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": {
                    SRCROOT: {"description": {"text": "The root of the scanned repository."}}
                },
                "results": results,
            }
        ],
    }


def render_sarif(findings: Sequence[Finding], suppressed: Sequence[Suppressed] = ()) -> str:
    return json.dumps(sarif_log(findings, suppressed), indent=2) + "\n"
