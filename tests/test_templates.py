"""templates/: the workflow passes actionlint, zizmor and npm-guard; the starter policy
and the pre-commit snippet are valid and use what this repository ships."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from linters import tool, zizmor

from npm_guard.cli import main as cli_main
from npm_guard.policy_load import parse_policy

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
WORKFLOWS = sorted((TEMPLATES / "workflows").glob("*.yml"))
SHA_PIN_RE = re.compile(r"^[^@\s]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def test_there_is_a_workflow_template() -> None:
    assert [p.name for p in WORKFLOWS] == ["npm-guard.yml"]


@pytest.mark.slow
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_actionlint_passes(workflow: Path) -> None:
    proc = subprocess.run(
        [tool("actionlint"), "-no-color", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_zizmor_passes(workflow: Path) -> None:
    proc = zizmor(workflow)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout


@pytest.mark.slow
def test_the_linters_can_fail(tmp_path: Path) -> None:
    """The checks above are not vacuous: an unpinned, injectable workflow fails both."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request_target\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
        "      - run: echo ${{ unknown.context }}\n"
    )
    lint = subprocess.run([tool("actionlint"), str(bad)], capture_output=True, check=False)
    assert lint.returncode != 0
    audit = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(bad)], capture_output=True, check=False
    )
    assert audit.returncode != 0


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_npm_guard_passes_its_own_template(
    workflow: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(ROOT)
    relative = str(workflow.relative_to(ROOT))
    defaults = tmp_path / "defaults.yml"  # not this repository's own ignores
    defaults.write_text("version: 1\n")
    assert cli_main(["scan", "--fail-on", "note", "--policy", str(defaults), relative]) == 0
    out = capsys.readouterr().out
    assert out.startswith("npm-guard: no findings (1 file scanned)")


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_is_least_privilege_and_pinned(workflow: Path) -> None:
    text = workflow.read_text("utf-8")
    data = yaml.safe_load(text)
    assert data["permissions"] == {}
    for job in data["jobs"].values():
        assert "permissions" in job
        assert "write-all" not in str(job["permissions"])
        for step in job["steps"]:
            if "actions/checkout@" in step.get("uses", ""):
                assert step["with"]["persist-credentials"] is False
    uses_lines = [
        line.split("uses:", 1)[1].strip() for line in text.splitlines() if "uses:" in line
    ]
    assert uses_lines
    for line in uses_lines:
        assert SHA_PIN_RE.match(line), f"not pinned by full SHA with a version comment: {line}"
    assert any(line.startswith("npm-guard/npm-guard@") for line in uses_lines)
    triggers = data[True]  # YAML 1.1 reads the key `on` as true
    assert {"pull_request", "schedule"} <= set(triggers)


def test_workflow_uses_only_inputs_the_action_declares() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text("utf-8"))
    declared = set(action["inputs"])
    for workflow in WORKFLOWS:
        for job in yaml.safe_load(workflow.read_text("utf-8"))["jobs"].values():
            for step in job["steps"]:
                if step.get("uses", "").startswith("npm-guard/npm-guard@"):
                    assert set(step.get("with", {})) <= declared


def test_starter_policy_is_valid_with_and_without_its_comments() -> None:
    text = (TEMPLATES / "npm-guard.yml").read_text("utf-8")
    parse_policy(text, "templates/npm-guard.yml")
    # Uncomment the commented-out sections (lines after `version:` that are YAML, not
    # prose): the examples in the comments must be valid too.
    _, _, body = text.partition("\nversion: 1\n")
    uncommented = []
    for line in body.splitlines():
        yaml_line = re.match(r"^# ((?:[a-z][a-z0-9-]*:)(?:\s.*)?$|\s+\S.*$)", line)
        uncommented.append(yaml_line.group(1) if yaml_line else line)
    full = "version: 1\n" + "\n".join(uncommented) + "\n"
    policy = parse_policy(full, "templates/npm-guard.yml (uncommented)")
    assert policy.tokens is not None and set(policy.tokens) == {
        "NPM_READ_TOKEN",
        "NPM_PUBLISH_TOKEN",
    }
    assert policy.ignore and policy.packages and policy.attestations


def test_pre_commit_snippet_is_valid_and_lists_every_hook() -> None:
    snippet = TEMPLATES / "pre-commit-config.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(snippet)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    config = yaml.safe_load(snippet.read_text("utf-8"))
    (repo,) = config["repos"]
    assert repo["repo"] == "https://github.com/npm-guard/npm-guard"
    template_ids = [hook["id"] for hook in repo["hooks"]]
    shipped_ids = [
        hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    ]
    assert sorted(template_ids) == sorted(shipped_ids)


# What the snippets promise ---------------------------------------------------------------

SNIPPET_FILES = [
    ROOT / "README.md",
    ROOT / "docs" / "action.md",
    ROOT / "docs" / "policy.md",
    TEMPLATES / "pre-commit-config.yaml",
    TEMPLATES / "workflows" / "npm-guard.yml",
    TEMPLATES / "npm-guard.yml",
]


def _released(tag: str) -> bool:
    proc = subprocess.run(
        ["git", "-C", str(ROOT), "tag", "--list", tag],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() == tag


def test_a_snippet_pinned_to_a_release_says_so_when_it_is_not_out() -> None:
    """`rev: v0.1.0` fails in pre-commit while no such tag exists: every such line, and
    every placeholder pin of the Action, says that the release is not out yet."""
    checked = 0
    for path in SNIPPET_FILES:
        lines = path.read_text("utf-8").splitlines()
        for number, line in enumerate(lines):
            tag = re.search(r"^\s*rev: (v\d+\.\d+\.\d+)\b", line)
            if tag and not _released(tag.group(1)):
                checked += 1
                # On the line above: `pre-commit autoupdate` keeps a trailing comment.
                above = lines[number - 1]
                assert "not released yet" in above, f"{path.name}:{number + 1}: {line}"
            pin = re.search(r"uses: npm-guard/npm-guard@0{40} # (v\d+\.\d+\.\d+)", line)
            if pin and not _released(pin.group(1)):
                checked += 1
                nearby = re.sub(r"[\s#]+", " ", " ".join(lines[max(0, number - 40) : number]))
                assert "not released yet" in nearby or "does not exist yet" in nearby, (
                    f"{path.name}:{number + 1}: the placeholder pin does not say that "
                    f"{pin.group(1)} is not out"
                )
    if not _released("v0.1.0"):
        assert checked >= 5  # README (2), docs/action.md (2), both templates


def test_the_schema_url_in_the_snippets_is_the_schema_id() -> None:
    """Editors fetch the policy schema from the line in the snippets: the URL is the
    schema's own `$id`, on main, which exists before any release does."""
    import json

    schema = json.loads((ROOT / "npm_guard" / "schemas" / "policy.schema.json").read_text())
    urls = set()
    for path in SNIPPET_FILES:
        urls.update(re.findall(r"\$schema=(https://\S+policy\.schema\.json)", path.read_text()))
    assert urls == {schema["$id"]}
    assert "/npm-guard/npm-guard/main/" in schema["$id"]
