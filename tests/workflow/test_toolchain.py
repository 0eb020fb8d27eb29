"""Which npm and release tool publish in a job, and what they do with OIDC.

The `workflow-publish-token-fallback` fixtures say, in each `# NOT OK:` comment, what the
publishing tool does: `(oidc-first)`, `(no-oidc)`, `(token-first)` or `(unknown)`; the
finding on that line must say the same, with the severity that goes with it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from npm_guard.findings import Confidence, Severity
from npm_guard.workflow import scan_workflow
from tests.workflow.test_fixtures import FIXTURES

RULE_ID = "workflow-publish-token-fallback"
NPM_CONFIG_TOKEN = "NPM_CONFIG_//registry.npmjs.org/:_authToken"
ORDER_RE = re.compile(r"#\s*NOT OK:\s*\((oidc-first|no-oidc|token-first|unknown)\)")
SEVERITY = {
    "oidc-first": Severity.WARNING,
    "unknown": Severity.WARNING,
    "no-oidc": Severity.ERROR,
    "token-first": Severity.ERROR,
}


def annotated_orders(text: str) -> dict[int, str]:
    return {
        number: match.group(1)
        for number, line in enumerate(text.splitlines(), start=1)
        if (match := ORDER_RE.search(line)) is not None
    }


FALLBACK_FIXTURES = sorted(FIXTURES.joinpath(RULE_ID).glob("*.yml"))


@pytest.mark.parametrize("path", FALLBACK_FIXTURES, ids=lambda p: p.name)
def test_every_not_ok_line_says_what_the_tool_does(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    expected = annotated_orders(text)
    not_ok = [n for n, line in enumerate(text.splitlines(), 1) if "# NOT OK" in line]
    assert sorted(expected) == not_ok, "every NOT OK line names the tool's order"
    repo = path.with_name(path.name.split(".")[0] + ".repo")
    root = repo if repo.is_dir() else path.parent
    findings = scan_workflow(path.name, text, repo_root=str(root))
    found = {f.location.line: f for f in findings if f.rule.id == RULE_ID}
    for line, order in expected.items():
        finding = found[line]
        assert finding.properties["oidc"] == order, (line, finding.message)
        assert finding.effective_severity is SEVERITY[order], (line, finding.message)


def _scan(workflow: str, tmp_path: Path, files: dict[str, str] | None = None) -> list:  # type: ignore[type-arg]
    for name, content in (files or {}).items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return scan_workflow(".github/workflows/release.yml", workflow, repo_root=str(tmp_path))


JOB = """\
on: push
permissions:
  id-token: write
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
{steps}
"""


def _fallback(findings: list) -> list:  # type: ignore[type-arg]
    return [f for f in findings if f.rule.id == RULE_ID]


@pytest.mark.parametrize(
    ("setup", "order"),
    [
        ("node-version: 24", "oidc-first"),
        ("node-version: '24.5.0'", "oidc-first"),
        ("node-version: 24.4.x", "no-oidc"),
        ("node-version: v25.1", "oidc-first"),
        ("node-version: 'lts/*'", "oidc-first"),
        ("node-version: lts/krypton", "oidc-first"),
        ("node-version: lts/jod", "no-oidc"),
        ("node-version: node", "oidc-first"),
        ("node-version: '>=20'", "oidc-first"),
        ("node-version: ^22.14.0", "no-oidc"),
        ("node-version: 18", "no-oidc"),
        ("node-version: 23", "unknown"),
        ("node-version: ${{ inputs.node }}", "unknown"),
        ("node-version: 20 || 22", "unknown"),
    ],
)
def test_node_version_decides_the_bundled_npm(setup: str, order: str, tmp_path: Path) -> None:
    steps = (
        "      - uses: actions/setup-node@v4\n"
        f"        with:\n          {setup}\n          registry-url: https://registry.npmjs.org\n"
        "      - run: npm publish\n"
        "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    (finding,) = _fallback(_scan(JOB.format(steps=steps), tmp_path))
    assert finding.properties["oidc"] == order, finding.message


@pytest.mark.parametrize(
    ("file", "content", "order"),
    [
        (".nvmrc", "v24.11.1\n", "oidc-first"),
        (".node-version", "22\n", "no-oidc"),
        (".tool-versions", "python 3.12.1\nnodejs 24.1.0\n", "no-oidc"),
        (".tool-versions", "nodejs 26.0.0\n", "oidc-first"),
        (
            "package.json",
            '{"volta": {"node": "24.11.0"}, "engines": {"node": ">=18"}}',
            "oidc-first",
        ),
        (
            "package.json",
            '{"devEngines": {"runtime": [{"name": "bun"}, {"name": "node", "version": "^22"}]}}',
            "no-oidc",
        ),
        ("package.json", '{"engines": {"node": "20.x"}}', "no-oidc"),
        ("package.json", '{"name": "no-version-here"}', "unknown"),
        ("missing.txt", None, "unknown"),
    ],
)
def test_node_version_file_is_read_as_setup_node_reads_it(
    file: str, content: str | None, order: str, tmp_path: Path
) -> None:
    steps = (
        "      - uses: actions/setup-node@v4\n"
        f"        with:\n          node-version-file: {file}\n"
        "          registry-url: https://registry.npmjs.org\n"
        "      - run: npm publish\n"
        "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    files = {file: content} if content is not None else {}
    (finding,) = _fallback(_scan(JOB.format(steps=steps), tmp_path, files))
    assert finding.properties["oidc"] == order, finding.message


@pytest.mark.parametrize(
    ("node", "install", "order", "said"),
    [
        ("20", "npm install -g npm@latest", "no-oidc", "does not install on Node 20"),
        ("20", "npm install -g npm@latest --force", "oidc-first", "npm 12 (latest)"),
        ("20", "npm i -g npm@11", "oidc-first", "npm 11"),
        ("18", "npm i -g npm@11", "no-oidc", "npm 11 needs Node ^20.17.0 || >=22.9.0"),
        ("22", "npm i -g npm@latest", "oidc-first", "npm 12 (latest)"),
        ("22.14.0", "npm i -g npm@latest", "no-oidc", "does not install on Node 22.14.0"),
        ("24.10.0", "npm install -g npm@11.15.0", "oidc-first", "npm 11.15.0"),
        ("22", "npm i -g npm@11.4.2", "no-oidc", "npm 11.4.2"),
        ("22", "sudo npm install --location=global npm@~11.5.0", "oidc-first", "npm 11.5"),
        ("22", "npm i -g npm@$NPM_VERSION", "unknown", "not known"),
        ("22", "npm i npm@11", "no-oidc", "npm 10.9"),  # not global: the job's npm stays
    ],
)
def test_npm_installed_by_the_job(
    node: str, install: str, order: str, said: str, tmp_path: Path
) -> None:
    steps = (
        "      - uses: actions/setup-node@v4\n"
        f"        with:\n          node-version: '{node}'\n"
        "          registry-url: https://registry.npmjs.org\n"
        f"      - run: {install}\n"
        "      - run: npm publish\n"
        "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    (finding,) = _fallback(_scan(JOB.format(steps=steps), tmp_path))
    assert finding.properties["oidc"] == order, finding.message
    assert said in finding.message


def test_a_later_setup_node_brings_its_own_npm(tmp_path: Path) -> None:
    steps = (
        "      - run: npm i -g npm@11\n"
        "      - uses: actions/setup-node@v4\n"
        "        with:\n          node-version: 22\n"
        "          registry-url: https://registry.npmjs.org\n"
        "      - run: npm publish\n"
        "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    (finding,) = _fallback(_scan(JOB.format(steps=steps), tmp_path))
    assert finding.properties["oidc"] == "no-oidc", finding.message


def test_a_local_composite_action_sets_node_up(tmp_path: Path) -> None:
    action = (
        "inputs:\n  node:\n    default: '20'\nruns:\n  using: composite\n  steps:\n"
        "    - uses: actions/setup-node@v4\n      with:\n        node-version: ${{ inputs.node }}\n"
        "    - run: npm install -g npm@11.6.2\n      shell: bash\n"
    )
    for given, order in (("", "oidc-first"), ("18", "no-oidc")):
        with_node = f"        with:\n          node: '{given}'\n" if given else ""
        steps = (
            f"      - uses: ./.github/actions/setup\n{with_node}"
            "      - run: npm publish\n"
            f"        env:\n          {NPM_CONFIG_TOKEN}: ${{{{ secrets.T }}}}\n"
        )
        files = {".github/actions/setup/action.yml": action}
        (finding,) = _fallback(_scan(JOB.format(steps=steps), tmp_path, files))
        assert finding.properties["oidc"] == order, finding.message
        assert "in the local action ./.github/actions/setup" in finding.message


@pytest.mark.parametrize(
    ("package", "run", "order", "said"),
    [
        (
            {"devDependencies": {"semantic-release": "^24.2.0"}},
            "npx semantic-release",
            "no-oidc",
            "semantic-release 24",
        ),
        (
            {"devDependencies": {"semantic-release": "^25.0.1"}},
            "npx semantic-release",
            "oidc-first",
            "@semantic-release/npm 13",
        ),
        (
            {"devDependencies": {"@semantic-release/npm": "13.0.0", "semantic-release": "25"}},
            "npx semantic-release",
            "no-oidc",
            "@semantic-release/npm 13.0.0",
        ),
        ({}, "npx semantic-release@24", "no-oidc", "semantic-release 24"),
        (
            {"devDependencies": {"lerna": "^8.2.4"}},
            "npx lerna publish from-package",
            "no-oidc",
            "lerna 8",
        ),
        ({}, "npx lerna@9.0.0 publish", "oidc-first", "lerna 9.0.0"),
        # A local install of a name package.json declares keeps its range (npm reloads
        # "whatever's there"); only an undeclared name or `-g` gets the newest.
        (
            {"devDependencies": {"@semantic-release/npm": "^12.0.2"}},
            "npm install --save-dev @semantic-release/npm && npx semantic-release",
            "no-oidc",
            "@semantic-release/npm 12",
        ),
        (
            {},
            "npm install --save-dev @semantic-release/npm && npx semantic-release",
            "oidc-first",
            "@semantic-release/npm latest",
        ),
        (
            {"devDependencies": {"@semantic-release/npm": "^12.0.2"}},
            "npm install @semantic-release/npm@13 && npx semantic-release",
            "oidc-first",
            "@semantic-release/npm 13",
        ),
        ({"packageManager": "pnpm@11.0.3"}, "pnpm publish", "token-first", "pnpm 11.0.3"),
        ({"packageManager": "pnpm@12.1.0+sha512.abc"}, "pnpm publish", "oidc-first", "pnpm 12.1.0"),
        ({}, "corepack prepare pnpm@9.15.0 --activate && pnpm publish", "no-oidc", "pnpm 9.15.0"),
        ({}, "pnpm publish", "unknown", "pnpm whose version is not known"),
    ],
)
def test_release_tool_versions(
    package: dict[str, object], run: str, order: str, said: str, tmp_path: Path
) -> None:
    import json

    steps = (
        "      - uses: actions/setup-node@v4\n"
        "        with:\n          node-version: 22\n          registry-url: https://registry.npmjs.org\n"
        f"      - run: {run}\n"
        "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
        "          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    files = {"package.json": json.dumps(package)}
    findings = _fallback(_scan(JOB.format(steps=steps), tmp_path, files))
    assert findings, run
    for finding in findings:
        assert finding.properties["oidc"] == order, finding.message
        assert said in finding.message


def test_unknown_says_both_cases_at_lower_confidence(tmp_path: Path) -> None:
    steps = (
        "      - run: npm publish\n        env:\n"
        f"          {NPM_CONFIG_TOKEN}: ${{{{ secrets.NPM_TOKEN }}}}\n"
    )
    (finding,) = _fallback(_scan(JOB.format(steps=steps), tmp_path))
    assert finding.properties["oidc"] == "unknown"
    assert finding.effective_confidence is Confidence.MEDIUM
    assert "dormant fallback" in finding.message and "the token publishes" in finding.message
    assert "runner's preinstalled Node" in finding.message


def test_the_publish_rule_says_falls_back_only_when_oidc_comes_first(tmp_path: Path) -> None:
    def publish_message(node: str, grant: str) -> str:
        workflow = JOB.format(
            steps=(
                "      - uses: actions/setup-node@v4\n"
                f"        with:\n          node-version: {node}\n"
                "          registry-url: https://registry.npmjs.org\n"
                "      - run: npm publish\n"
                "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
            )
        ).replace("id-token: write", grant)
        (finding,) = [
            f
            for f in _scan(workflow, tmp_path)
            if f.rule.id == "workflow-publish-with-long-lived-token"
        ]
        return finding.message

    assert "falls back to a long-lived token" in publish_message("24", "id-token: write")
    assert "publishes with a long-lived token" in publish_message("22", "id-token: write")
    assert "publishes with a long-lived token" in publish_message("24", "contents: read")


@pytest.mark.parametrize(
    ("run", "package", "remedy"),
    [
        (
            "npm publish",
            {},
            "Move to npm >= 11.5.1 (bundled with Node >= 24.5, or `npm install -g npm@11`) first",
        ),
        (
            "npx semantic-release",
            {"devDependencies": {"semantic-release": "^24"}},
            "Move to semantic-release 25 (@semantic-release/npm >= 13.1) first",
        ),
        ("npx lerna publish", {"devDependencies": {"lerna": "^8"}}, "Move to lerna >= 9 first"),
        ("yarn publish", {}, "Move to `npm publish` with npm >= 11.5.1"),
    ],
)
def test_a_token_that_publishes_comes_with_the_upgrade_that_lets_it_go(
    run: str, package: dict[str, object], remedy: str, tmp_path: Path
) -> None:
    import json

    steps = (
        "      - uses: actions/setup-node@v4\n"
        "        with:\n          node-version: 22\n          registry-url: https://registry.npmjs.org\n"
        f"      - run: {run}\n"
        "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    (finding,) = _fallback(
        _scan(JOB.format(steps=steps), tmp_path, {"package.json": json.dumps(package)})
    )
    assert finding.properties["oidc"] == "no-oidc"
    assert remedy in finding.message
    assert "removed first, it breaks the release" in finding.message
