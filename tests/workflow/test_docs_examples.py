"""Every workflow rule's docs section: its Before example is reported, its After is not.

The examples in docs/rules.md are full workflows, scanned as they are, so the docs
cannot drift from what the rules do.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from npm_guard.rules import WORKFLOW_RULES
from npm_guard.workflow import scan_workflow

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
_SECTION_RE = re.compile(r"^## (\S+)\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
_EXAMPLE_RE = re.compile(r"\*\*(Before|After)\*\*[^\n]*\n\n```yaml\n(.*?)```", re.DOTALL)
RULE_IDS = [rule.id for rule, _ in WORKFLOW_RULES]


def examples(rule_id: str) -> dict[str, str]:
    sections = {m.group(1): m.group(2) for m in _SECTION_RE.finditer(DOCS.read_text())}
    assert rule_id in sections, f"docs/rules.md has no section for {rule_id}"
    found = {m.group(1): m.group(2) for m in _EXAMPLE_RE.finditer(sections[rule_id])}
    assert set(found) == {"Before", "After"}, f"{rule_id}: needs a Before and an After yaml block"
    return found


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_before_example_is_reported(rule_id: str) -> None:
    findings = scan_workflow(".github/workflows/example.yml", examples(rule_id)["Before"])
    assert rule_id in {f.rule.id for f in findings}
    assert "parse-error" not in {f.rule.id for f in findings}


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_after_example_is_clean_for_the_rule(rule_id: str) -> None:
    findings = scan_workflow(".github/workflows/example.yml", examples(rule_id)["After"])
    assert [f.message for f in findings if f.rule.id == rule_id] == []
    assert "parse-error" not in {f.rule.id for f in findings}
