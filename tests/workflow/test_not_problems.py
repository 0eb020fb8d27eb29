"""Findings that are not problems: install tokens, test-registry tokens, one publish step.

An install token (no step that can read it publishes) is a note without a policy and
nothing from `workflow-token-overexposed` with one (the inventory's rules judge it); a
publish token that installs can read stays an error.
"""

from __future__ import annotations

from pathlib import Path

from npm_guard.findings import Finding, Severity
from npm_guard.policy_load import load_policy
from npm_guard.workflow import scan_workflow

POLICY = load_policy(
    str(Path(__file__).parents[1] / "fixtures" / "workflow-policy" / "policy.yml"),
    str(Path(__file__).parents[1] / "fixtures" / "workflow-policy"),
)
OVEREXPOSED = "workflow-token-overexposed"
NPM_CONFIG_TOKEN = "NPM_CONFIG_//registry.npmjs.org/:_authToken"

INSTALL_ONLY = """\
on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    env:
      NODE_AUTH_TOKEN: ${{{{ secrets.{secret} }}}}
    steps:
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm ci{flags}
      - run: npm test
"""


def _of(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule.id == rule_id]


def test_an_install_token_is_a_note_that_says_so() -> None:
    text = INSTALL_ONLY.format(secret="NPM_TOKEN", flags="")
    (finding,) = _of(scan_workflow("ci.yml", text), OVEREXPOSED)
    assert finding.effective_severity is Severity.NOTE
    assert "no step that can read it publishes" in finding.message
    assert "read-only" in finding.message and "--ignore-scripts" in finding.message
    assert "npm ci" in finding.message


def test_an_install_token_with_ignore_scripts_is_still_a_note() -> None:
    text = INSTALL_ONLY.format(secret="NPM_TOKEN", flags=" --ignore-scripts")
    (finding,) = _of(scan_workflow("ci.yml", text), OVEREXPOSED)
    assert finding.effective_severity is Severity.NOTE
    assert "its installs run no install scripts" in finding.message


def test_with_an_inventory_the_inventory_judges_install_tokens() -> None:
    read_only = INSTALL_ONLY.format(secret="NPM_READ_TOKEN", flags="")
    found = scan_workflow("ci.yml", read_only, policy=POLICY)
    assert _of(found, OVEREXPOSED) == []
    assert _of(found, "workflow-token-exceeds-declared-permission") == []
    read_write = INSTALL_ONLY.format(secret="NPM_PUBLISH_TOKEN", flags="")
    found = scan_workflow("ci.yml", read_write, policy=POLICY)
    assert _of(found, OVEREXPOSED) == []
    assert len(_of(found, "workflow-token-exceeds-declared-permission")) == 1
    undeclared = INSTALL_ONLY.format(secret="SOME_NPM_TOKEN", flags="")
    found = scan_workflow("ci.yml", undeclared, policy=POLICY)
    assert _of(found, OVEREXPOSED) == []
    assert len(_of(found, "workflow-undeclared-npm-token")) == 1


def test_a_publish_token_that_installs_can_read_stays_an_error() -> None:
    text = INSTALL_ONLY.format(secret="NPM_TOKEN", flags="") + "      - run: npm publish\n"
    for policy in (None, POLICY):
        (finding,) = _of(scan_workflow("ci.yml", text, policy=policy), OVEREXPOSED)
        assert finding.effective_severity is Severity.ERROR
        assert "`npm ci` runs dependencies' install scripts" in finding.message


def test_a_token_no_step_needs_is_still_reported() -> None:
    text = (
        "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    env:\n"
        "      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n    steps:\n"
        "      - uses: some-org/lint@v1\n"
    )
    (finding,) = _of(scan_workflow("ci.yml", text), OVEREXPOSED)
    assert finding.effective_severity is Severity.ERROR


def test_a_token_minted_by_a_loopback_registry_is_no_credential() -> None:
    text = (
        "on: push\njobs:\n  e2e:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: |\n"
        "          T=$(curl -s -X PUT http://127.0.0.1:4873/-/user/org.couchdb.user:u"
        " | jq -r .token)\n"
        '          echo "//127.0.0.1:4873/:_authToken=$T" >> ~/.npmrc\n'
        "      - uses: some-org/smoke-test@v1\n"
        "      - run: npm publish --registry http://127.0.0.1:4873/\n"
    )
    assert scan_workflow("e2e.yml", text) == []


def test_one_publish_finding_per_step_and_token() -> None:
    text = (
        "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - name: Publish\n        run: |\n"
        '          for pkg in npm/*; do (cd "$pkg" && npm publish); done\n'
        "          npm publish\n"
        "          npm publish --tag next\n"
        f"        env:\n          {NPM_CONFIG_TOKEN}: ${{{{ secrets.NPM_TOKEN }}}}\n"
    )
    found = _of(scan_workflow("release.yml", text), "workflow-publish-with-long-lived-token")
    assert [(f.location.line, f.rule.id) for f in found] == [
        (8, "workflow-publish-with-long-lived-token")
    ]
    assert "(and 2 more publish commands of this step)" in found[0].message


# Installs go through a registry firewall (a proxy in front of npmjs) whose token an
# .npmrc setting scopes to its host; the job publishes to npmjs with OIDC.
FIREWALL = """\
on: push
permissions:
  id-token: write
  contents: read
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 24
      - name: Install through the firewall
        run: |
          npm config set registry https://proxy.example.com/npm/
          npm config set //proxy.example.com/npm/:_authToken ${{ secrets.PROXY_TOKEN }}
      - run: npm ci
      - run: npm publish --registry https://registry.npmjs.org/
"""


def test_a_token_for_another_registry_is_no_publish_token_of_an_npmjs_publish() -> None:
    (finding,) = _of(scan_workflow("release.yml", FIREWALL), OVEREXPOSED)
    assert finding.effective_severity is Severity.NOTE
    assert "publishes to proxy.example.com" in finding.message
    assert "a token npm sends only to that registry" in finding.message
    assert "npm token create" not in finding.message  # npmjs's tokens are not its tokens
    assert (
        _of(scan_workflow("release.yml", FIREWALL), "workflow-publish-with-long-lived-token") == []
    )


def test_a_token_for_the_registry_a_step_publishes_to_is_a_publish_token() -> None:
    text = FIREWALL.replace(
        "npm publish --registry https://registry.npmjs.org/",
        "npm publish --registry https://proxy.example.com/npm/",
    )
    (finding,) = _of(scan_workflow("release.yml", text), OVEREXPOSED)
    assert finding.effective_severity is Severity.ERROR
