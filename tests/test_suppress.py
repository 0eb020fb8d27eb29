"""Inline suppressions need a reason, in `.npmrc` and in workflows alike (npm_guard.suppress)."""

from __future__ import annotations

import pytest

from npm_guard.findings import Finding
from npm_guard.npmrc_scan import scan_npmrc
from npm_guard.suppress import NO_REASON
from npm_guard.workflow import scan_workflow

TOKEN = "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"
NPMRC = "{comment}\n//registry.npmjs.org/:_authToken=" + TOKEN + "\n"
WORKFLOW = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    env:
      NODE_AUTH_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}  {comment}
    steps:
      - run: npm ci
      - run: npm publish
"""


def npmrc_findings(comment: str) -> list[Finding]:
    return [
        f
        for f in scan_npmrc(".npmrc", NPMRC.format(comment=comment))
        if f.rule.id == "npmrc-plaintext-credential"
    ]


def workflow_findings(comment: str) -> list[Finding]:
    text = WORKFLOW.format(comment=comment)
    found = scan_workflow(".github/workflows/release.yml", text)
    return [f for f in found if f.rule.id == "workflow-token-overexposed"]


@pytest.mark.parametrize("reason", ["", "   ", " -- ", " …"])
def test_an_npmrc_comment_without_a_reason_does_not_suppress(reason: str) -> None:
    (finding,) = npmrc_findings(
        f"# npm-guard: ignore-next-line[npmrc-plaintext-credential]{reason}"
    )
    assert finding.message.endswith(NO_REASON)
    assert finding.properties["suppression"] == "ignored: no reason"
    assert TOKEN not in finding.message


@pytest.mark.parametrize("reason", ["", "   ", " -- "])
def test_a_workflow_comment_without_a_reason_does_not_suppress(reason: str) -> None:
    (finding,) = workflow_findings(f"# npm-guard: ignore[workflow-token-overexposed]{reason}")
    assert finding.message.endswith(NO_REASON)
    assert finding.properties["suppression"] == "ignored: no reason"


def test_a_comment_with_a_reason_suppresses_in_both_forms() -> None:
    assert npmrc_findings("") and workflow_findings("")  # reported without a comment
    assert not npmrc_findings("# npm-guard: ignore-next-line[npmrc-plaintext-credential] test")
    assert not npmrc_findings("; npm-guard: ignore-next-line[npmrc-plaintext-credential] CI fake")
    assert not workflow_findings("# npm-guard: ignore[workflow-token-overexposed] private deps")


def test_a_reasonless_comment_for_another_rule_changes_nothing() -> None:
    """A reasonless comment for another rule changes nothing about this finding."""
    (plain,) = npmrc_findings("")
    (other,) = npmrc_findings("# npm-guard: ignore-next-line[npmrc-unscoped-credential]")
    assert other.message == plain.message and "suppression" not in other.properties
