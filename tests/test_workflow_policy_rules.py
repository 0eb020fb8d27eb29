"""The two workflow rules that need the policy's token inventory, as data.

`tests/fixtures/workflow-policy/<rule-id>/ok-*.yml` must give no finding of the rule,
`bad-*.yml` exactly one on each line marked `# NOT OK`, checked against the inventory
in `tests/fixtures/workflow-policy/policy.yml`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from npm_guard.cli import main as cli_main
from npm_guard.findings import Finding
from npm_guard.policy import Policy
from npm_guard.policy_load import load_policy
from npm_guard.rules import POLICY_WORKFLOW_RULES, all_rules
from npm_guard.workflow import scan_workflow

FIXTURES = Path(__file__).parent / "fixtures" / "workflow-policy"
POLICY = load_policy(str(FIXTURES / "policy.yml"), str(FIXTURES))
RULE_IDS = [rule.id for rule, _ in POLICY_WORKFLOW_RULES]
CASES = sorted(
    (rule_id, path)
    for rule_id in RULE_IDS
    for path in (FIXTURES / rule_id).glob("*.yml")
    if path.name.startswith(("ok-", "bad-"))
)


def findings_of(path: Path, rule_id: str, policy: Policy = POLICY) -> list[Finding]:
    found = scan_workflow(path.name, path.read_text("utf-8"), repo_root=None, policy=policy)
    return [f for f in found if f.rule.id == rule_id]


def marked_lines(path: Path) -> list[int]:
    lines = path.read_text("utf-8").splitlines()
    return [number for number, line in enumerate(lines, start=1) if "# NOT OK" in line]


def test_the_rules_are_registered_and_documented() -> None:
    assert set(RULE_IDS) == {
        "workflow-undeclared-npm-token",
        "workflow-token-exceeds-declared-permission",
    }
    assert set(RULE_IDS) <= set(all_rules())
    docs = (Path(__file__).parent.parent / "docs" / "rules.md").read_text("utf-8")
    for rule_id in RULE_IDS:
        assert f"\n## {rule_id}\n" in docs


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_has_ok_and_bad_fixtures(rule_id: str) -> None:
    names = [path.name for rid, path in CASES if rid == rule_id]
    assert any(n.startswith("ok-") for n in names)
    assert any(n.startswith("bad-") for n in names)


@pytest.mark.parametrize(("rule_id", "path"), CASES, ids=[f"{r}/{p.name}" for r, p in CASES])
def test_fixture(rule_id: str, path: Path) -> None:
    expected = marked_lines(path)
    if path.name.startswith("ok-"):
        assert expected == [], "ok fixtures carry no NOT OK mark"
    else:
        assert expected, "bad fixtures mark the lines of their findings"
    got = [f.location.line for f in findings_of(path, rule_id)]
    assert got == expected, [f.message for f in findings_of(path, rule_id)]


@pytest.mark.parametrize(("rule_id", "path"), CASES, ids=[f"{r}/{p.name}" for r, p in CASES])
def test_nothing_without_an_inventory(rule_id: str, path: Path) -> None:
    assert findings_of(path, rule_id, Policy()) == []


def test_undeclared_messages_name_the_secret_and_how_it_is_used() -> None:
    path = FIXTURES / "workflow-undeclared-npm-token" / "bad-env.yml"
    messages = [f.message for f in findings_of(path, "workflow-undeclared-npm-token")]
    assert messages == [
        "secret NPM_TOKEN is used as an npm credential (NPM_TOKEN, set in the workflow-level "
        "env) but the policy's token inventory does not declare it",
        "secret PUBLISH_KEY is used as an npm credential (NODE_AUTH_TOKEN, set in the "
        "job-level env) but the policy's token inventory does not declare it",
    ]


def test_a_secret_written_into_a_script_says_so() -> None:
    path = FIXTURES / "workflow-undeclared-npm-token" / "bad-inputs-and-scripts.yml"
    messages = [f.message for f in findings_of(path, "workflow-undeclared-npm-token")]
    assert messages[1] == (
        "secret NPM_AUTOMATION_TOKEN is used as an npm credential (written into the script) "
        "but the policy's token inventory does not declare it"
    )


def test_an_empty_inventory_makes_every_npm_secret_undeclared() -> None:
    path = FIXTURES / "workflow-undeclared-npm-token" / "ok-declared.yml"
    found = findings_of(path, "workflow-undeclared-npm-token", Policy(tokens={}))
    assert [f.properties["secret"] for f in found] == ["NPM_READ_TOKEN", "npm_publish_token"]


def test_exceeds_messages_say_which_jobs_and_what_was_declared() -> None:
    path = FIXTURES / "workflow-token-exceeds-declared-permission" / "bad-workflow-level-token.yml"
    (finding,) = findings_of(path, "workflow-token-exceeds-declared-permission")
    assert finding.message == (
        "NODE_AUTH_TOKEN (secret NPM_PUBLISH_TOKEN) reaches job 'build', which never writes to "
        "the registry (no publish), and the policy declares NPM_PUBLISH_TOKEN read-write: "
        "installs there run dependencies' scripts that can read it"
    )
    assert finding.properties == {
        "secret": "NPM_PUBLISH_TOKEN",
        "declared": "read-write",
        "jobs": "build",
    }
    path = (
        FIXTURES / "workflow-token-exceeds-declared-permission" / "bad-publish-with-read-only.yml"
    )
    first, second = findings_of(path, "workflow-token-exceeds-declared-permission")
    assert "declares secret NPM_READ_TOKEN read-only: either the publish fails" in first.message
    assert "a stage-only token is for `npm stage publish`" in second.message


def test_fingerprints_survive_edits_above() -> None:
    path = FIXTURES / "workflow-undeclared-npm-token" / "bad-env.yml"
    text = path.read_text("utf-8")
    before = scan_workflow("w.yml", text, policy=POLICY)
    after = scan_workflow("w.yml", "# a comment\n\n" + text, policy=POLICY)
    assert [f.fingerprint for f in before] == [f.fingerprint for f in after]
    assert [f.location.line + 2 for f in before] == [f.location.line for f in after]


def test_inline_suppression_and_policy_severity_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "release.yml").write_text(
        "on: push\n"
        "permissions: {}\n"
        "jobs:\n"
        "  release:\n"
        "    runs-on: ubuntu-latest\n"
        "    permissions:\n"
        "      id-token: write\n"
        "    steps:\n"
        "      - run: npm ci\n"
        "        env:\n"
        "          NODE_AUTH_TOKEN: ${{ secrets.LEGACY_TOKEN }}"
        "  # npm-guard: ignore[workflow-undeclared-npm-token] being retired\n"
        "      - run: npm ci\n"
        "        env:\n"
        "          NODE_AUTH_TOKEN: ${{ secrets.OTHER_TOKEN }}\n"
    )
    (tmp_path / ".npm-guard.yml").write_text(
        "version: 1\n"
        "rules:\n  workflow-undeclared-npm-token: warning\n"
        "tokens:\n  NPM_READ_TOKEN: {permission: read-only}\n"
    )
    monkeypatch.chdir(tmp_path)
    assert cli_main(["scan", "--format", "json", "--fail-on", "error", "."]) == 0
    report = json.loads(capsys.readouterr().out)
    undeclared = [f for f in report["findings"] if f["rule"] == "workflow-undeclared-npm-token"]
    assert [(f["location"]["line"], f["severity"]) for f in undeclared] == [(14, "warning")]
    assert undeclared[0]["properties"]["secret"] == "OTHER_TOKEN"
    # Without the policy file the rule does not run at all.
    (tmp_path / ".npm-guard.yml").unlink()
    cli_main(["scan", "--format", "json", "."])
    report = json.loads(capsys.readouterr().out)
    assert not [f for f in report["findings"] if f["rule"] == "workflow-undeclared-npm-token"]
