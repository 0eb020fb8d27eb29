"""The workflow rules on annotated fixture workflows: test cases as data.

`tests/fixtures/workflows/<rule-id>/*.yml` are discovered automatically. A trailing
`# NOT OK: why` comment on a line says that rule reports that very line; `# OK: why`
says it does not. The rule may report no other line of the fixture. Inside `run:`
scripts the annotation is a shell comment, so it changes nothing the rule looks at.

A directory `<fixture>.repo/` next to a fixture is the repository root the scan sees
(package.json scripts, `.npmrc`, local reusable workflows); without one the rule's
folder is. Fixture names never end in `action.yml` or sit in `.github/workflows`, so the
repository's own scan does not pick them up.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from npm_guard.rules import WORKFLOW_RULES
from npm_guard.workflow import scan_workflow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"
ANNOTATION_RE = re.compile(r"#\s*(NOT OK|OK)\b")
RULE_IDS = [rule.id for rule, _ in WORKFLOW_RULES]


def fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*.y*ml") if p.is_file())


def annotated_lines(text: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = ANNOTATION_RE.search(line)
        if match is not None:
            found[number] = match.group(1)
    return found


def scan_fixture(path: Path) -> tuple[str, list[tuple[int, str, str]]]:
    text = path.read_text(encoding="utf-8")
    repo = path.with_name(path.name.split(".")[0] + ".repo")
    root = repo if repo.is_dir() else path.parent
    display = path.relative_to(FIXTURES.parent).as_posix()
    findings = scan_workflow(display, text, repo_root=str(root))
    return text, [(f.location.line, f.rule.id, f.message) for f in findings]


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(path: Path) -> None:
    rule_id = path.parent.name
    assert rule_id in RULE_IDS, f"{path.parent.name} is not a workflow rule id"
    text, findings = scan_fixture(path)
    assert [f for f in findings if f[1] == "parse-error"] == []
    expected = annotated_lines(text)
    reported = {line for line, rule, _ in findings if rule == rule_id}
    not_ok = {line for line, kind in expected.items() if kind == "NOT OK"}
    missing = sorted(not_ok - reported)
    unexpected = sorted(
        (line, message)
        for line, rule, message in findings
        if rule == rule_id and line not in not_ok
    )
    assert not missing, f"{path.name}: lines {missing} should be reported by {rule_id}"
    assert not unexpected, f"{path.name}: reported but not marked NOT OK: {unexpected}"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_workflow_rule_has_ok_and_not_ok_cases(rule_id: str) -> None:
    kinds: set[str] = set()
    for path in FIXTURES.joinpath(rule_id).glob("*.y*ml"):
        kinds.update(annotated_lines(path.read_text(encoding="utf-8")).values())
    assert kinds == {"OK", "NOT OK"}, f"{rule_id}: fixtures need both OK and NOT OK lines"
