"""parse-error: a file npm-guard was asked to scan but could not read or parse."""

from __future__ import annotations

from npm_guard.findings import Confidence, Finding, Location, Rule, Severity

RULE = Rule(
    id="parse-error",
    summary="A file that should be scanned could not be read or parsed",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Fix or remove the file; npm-guard cannot vouch for what it could not read.",
    target="any",
)


def finding(path: str, problem: str, line: int = 1, column: int = 1) -> Finding:
    """A parse-error for `path`; `problem` must not quote file content."""
    return Finding(
        rule=RULE,
        location=Location(path, line, column),
        message=f"cannot scan this file: {problem}",
        key=problem.split(":")[0],
    )
