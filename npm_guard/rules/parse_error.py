"""parse-error: a file npm-guard was asked to scan but could not read or parse."""

from __future__ import annotations

from npm_guard.findings import Confidence, Finding, Location, Rule, Severity

RULE = Rule(
    id="parse-error",
    summary="A file (or directory) that should be scanned could not be read or parsed",
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


def directory_finding(path: str, problem: str) -> Finding:
    """A parse-error for a directory the walk could not enter: nothing below it was read."""
    return Finding(
        rule=RULE,
        location=Location(path, 1, 1),
        message=f"cannot scan this directory: {problem}; nothing below it was scanned",
        key="directory:" + problem.split(" (")[0],
        tip="Make the directory readable for the user running npm-guard, or remove it; "
        "npm-guard cannot vouch for what it could not read.",
    )
