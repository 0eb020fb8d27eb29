"""Every front end, one engine: the same repository and policy give the same findings
through `npm-guard scan --format json`, the three pre-commit hooks (each given the
files pre-commit would give it) and the Action.

The Action runs twice: its program in process (what action.yml's last step runs), and
the whole action.yml through the local composite runner (slow: it needs the action's
private venv).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from composite_runner import parse_file_commands
from conftest import ROOT, RunAction, init_repository
from npmrc_samples import NPM_TOKEN, NPM_TOKEN_2, make_runner, write

from npm_guard import action
from npm_guard.cli import main as cli_main
from npm_guard.github_io import input_variable
from npm_guard.hooks import npm_guard_policy, npmrc_credentials, workflow_npm_credentials

Seen = tuple[str, str, int, int, str]  # rule, path, line, column, severity

POLICY_TOKEN = NPM_TOKEN_2

POLICY = f"""\
version: 1
rules:
  npmrc-insecure-registry: warning
  workflow-token-overexposed: note
ignore:
  - rule: npmrc-plaintext-credential
    path: fixtures/
    reason: documented sample, never issued
tokens:
  NPM_PUBLISH_TOKEN:
    permission: read-write
    max-expiry-days: 30
  NPM_READ_TOKEN:
    permission: read-only
    cidr: [192.0.2.0/24]
# an old token pasted here by mistake: {POLICY_TOKEN}
"""

RELEASE = """\
on: push
permissions: {}
env:
  NODE_AUTH_TOKEN: ${{ secrets.NPM_PUBLISH_TOKEN }}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm ci
        env:
          NPM_TOKEN: ${{ secrets.NPM_READ_TOKEN }}
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.PUBLISH_KEY }}
      - run: npm token create --read-only # npm-guard: ignore[{CIDR}] CIDR set by the org
""".replace("{CIDR}", "workflow-token-create-without-cidr")

COMPOSITE = """\
name: publish
runs:
  using: composite
  steps:
    - run: echo "//registry.npmjs.org/:_authToken=${{ inputs.token }}" > .npmrc
      shell: bash
    - run: npm publish
      shell: bash
"""

PACKAGE_NPMRC = """\
# npm-guard: ignore-next-line[npmrc-insecure-registry] internal mirror, read-only
registry=http://npm.corp.example/
strict-ssl=false
"""


def build_repository(root: Path) -> None:
    """A repository with a finding for every front end, a policy that changes severities,
    ignores a path and declares tokens, and ignore comments in both syntaxes."""
    init_repository(root)
    write(root / ".npm-guard.yml", POLICY)
    write(root / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    write(root / "packages" / "app" / ".npmrc", PACKAGE_NPMRC)
    write(root / "fixtures" / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    write(root / ".github" / "workflows" / "release.yml", RELEASE)
    write(root / "actions" / "publish" / "action.yml", COMPOSITE)
    write(root / "package.json", '{"name": "parity", "version": "1.0.0"}\n')
    write(root / "docs" / "example.yml", RELEASE)  # not a workflow: nobody reads it
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)


def hook_files(root: Path) -> dict[str, list[str]]:
    """The files pre-commit hands each hook: git's files matching the hook's `files:`."""
    manifest = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    return {
        hook["id"]: sorted(name for name in listed if name and re.search(hook["files"], name))
        for hook in manifest
    }


def from_json(report: str) -> tuple[set[Seen], set[Seen]]:
    """(findings, suppressed findings) of a JSON report."""
    data = json.loads(report)

    def seen(items: Iterable[Mapping[str, object]]) -> set[Seen]:
        found = set()
        for item in items:
            location = item["location"]
            assert isinstance(location, Mapping)
            found.add(
                (
                    str(item["rule"]),
                    str(location["path"]),
                    int(str(location["line"])),
                    int(str(location["column"])),
                    str(item["severity"]),
                )
            )
        return found

    return seen(data["findings"]), seen(item["finding"] for item in data["suppressed"])


_TEXT_FINDING = re.compile(r"^(\S+?):(\d+):(\d+): (error|warning|note) \[([a-z0-9-]+)\] ", re.M)


def from_text(report: str) -> set[Seen]:
    return {
        (m.group(5), m.group(1), int(m.group(2)), int(m.group(3)), m.group(4))
        for m in _TEXT_FINDING.finditer(report)
    }


def from_sarif(report: str) -> tuple[set[Seen], set[Seen]]:
    """(findings, suppressed findings) of a SARIF report."""
    findings: set[Seen] = set()
    suppressed: set[Seen] = set()
    for result in json.loads(report)["runs"][0]["results"]:
        physical = result["locations"][0]["physicalLocation"]
        region = physical["region"]
        item = (
            result["ruleId"],
            unquote(physical["artifactLocation"]["uri"]),
            region["startLine"],
            region["startColumn"],
            result["level"],
        )
        (suppressed if result.get("suppressions") else findings).add(item)
    return findings, suppressed


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    build_repository(root)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def scanned(repository: Path, capsys: pytest.CaptureFixture[str]) -> tuple[set[Seen], set[Seen]]:
    """`npm-guard scan --format json` of the repository: the reference."""
    code, out, _ = make_runner(cli_main, capsys)("scan", "--format", "json", "--fail-on", "note")
    assert code == 1
    findings, suppressed = from_json(out)
    rules = {rule for rule, *_ in findings}
    # The repository exercises every kind of file, the policy's inventory, its severities,
    # its ignores and both comment syntaxes: a parity of empty sets would prove nothing.
    assert {
        "npmrc-plaintext-credential",
        "npmrc-insecure-registry",
        "policy-plaintext-credential",
        "workflow-publish-with-long-lived-token",
        "workflow-undeclared-npm-token",
        "workflow-token-exceeds-declared-permission",
        "workflow-npmrc-persisted",
    } <= rules
    assert any(path == "actions/publish/action.yml" for _, path, *_ in findings)
    assert ("npmrc-insecure-registry", "packages/app/.npmrc", 3, 12, "warning") in findings
    assert {rule for rule, *_ in suppressed} == {
        "npmrc-plaintext-credential",  # the policy's ignore: entry
        "npmrc-insecure-registry",  # the .npmrc's ignore-next-line comment
        "workflow-token-create-without-cidr",  # the workflow's trailing comment
    }
    assert not any(path.startswith("docs/") for _, path, *_ in findings)
    return findings, suppressed


def test_the_hooks_find_what_the_scan_finds(
    repository: Path,
    scanned: tuple[set[Seen], set[Seen]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = hook_files(repository)
    assert files == {
        "npmrc-credentials": [".npmrc", "fixtures/.npmrc", "packages/app/.npmrc"],
        # The workflows, and the files workflows depend on (re-checked through them;
        # here every workflow is given too, so nothing is reported twice).
        "workflow-npm-credentials": [
            ".github/workflows/release.yml",
            ".npm-guard.yml",
            ".npmrc",
            "actions/publish/action.yml",
            "fixtures/.npmrc",
            "package.json",
            "packages/app/.npmrc",
        ],
        "npm-guard-policy": [".npm-guard.yml"],
    }
    findings: set[Seen] = set()
    suppressed: set[Seen] = set()
    for hook in (npmrc_credentials, workflow_npm_credentials):
        hook_id = hook.__name__.rsplit(".", 1)[1].replace("_", "-")
        run = make_runner(hook.main, capsys)
        code, out, _ = run("--format", "json", "--fail-on", "note", *files[hook_id])
        assert code == 1
        more, silenced = from_json(out)
        findings |= more
        suppressed |= silenced
    code, out, _ = make_runner(npm_guard_policy.main, capsys)(*files["npm-guard-policy"])
    assert code == 1
    findings |= from_text(out)
    assert (findings, suppressed) == scanned


def test_the_action_finds_what_the_scan_finds(
    repository: Path, scanned: tuple[set[Seen], set[Seen]], tmp_path: Path
) -> None:
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    output = temp / "output"
    output.write_text("", encoding="utf-8")
    environ = {
        "GITHUB_WORKSPACE": str(repository),
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(temp),
        input_variable("sarif"): "true",
        input_variable("fail-on"): "note",
    }
    written: list[str] = []
    assert action.main(environ, written.append) == 1
    outputs = parse_file_commands(output.read_text(encoding="utf-8"))
    sarif = Path(outputs["sarif-file"]).read_text(encoding="utf-8")
    assert from_sarif(sarif) == scanned
    assert outputs["findings"] == str(len(scanned[0]))


@pytest.mark.slow
def test_action_yml_finds_what_the_scan_finds(
    repository: Path, scanned: tuple[set[Seen], set[Seen]], run: RunAction
) -> None:
    """The same through action.yml itself, as a workflow runs it."""
    result = run(repository, inputs={"sarif": "true", "fail-on": "note"})
    sarif = Path(result.outputs["sarif-file"]).read_text(encoding="utf-8")
    assert from_sarif(sarif) == scanned
    assert result.outputs["verdict"] == "fail"
