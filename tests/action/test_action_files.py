"""action.yml and the repository's workflows, checked as files: actionlint, zizmor,
shellcheck, npm-guard's own scan, SHA pins, least privilege, injection-safe inputs, and
docs/action.md and the README kept in step with the inputs and outputs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import constraints
from linters import tool, zizmor

from npm_guard.scan import scan_paths

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
DOCS = ROOT / "docs" / "action.md"
README = ROOT / "README.md"
PIN_RE = re.compile(
    r"^(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_./-]+)?)@(?P<sha>[0-9a-f]{40})$"
)
VERSION_COMMENT_RE = re.compile(r"#\s*v\d+\.\d+\.\d+\s*$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def action() -> dict[str, Any]:
    return load(ACTION)


def steps_with_uses(path: Path) -> list[tuple[str, int]]:
    """Every `uses:` value with its line, from the raw text (comments are kept there)."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
        if match:
            out.append((match.group(1) + match.group(2), number))
    return out


def test_there_are_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "release.yml"]


def test_actionlint_passes_on_the_workflows() -> None:
    """actionlint also reads action.yml here: `uses: ./` inputs are checked against it."""
    command = [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), "-pyflakes="]
    proc = subprocess.run(
        [*command, *(str(p) for p in WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout + proc.stderr


def test_actionlint_catches_a_wrong_input_of_the_action(tmp_path: Path) -> None:
    """The check above is real: a misspelt input of `uses: ./` is an actionlint error."""
    shutil.copy2(ACTION, tmp_path / "action.yml")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    text = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    (workflows / "ci.yml").write_text(text.replace("fail-on:", "fail-onn:"), encoding="utf-8")
    proc = subprocess.run(
        [tool("actionlint"), "-no-color", "-shellcheck=", "-pyflakes=", ".github/workflows/ci.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert 'input "fail-onn" is not defined in action "npm-guard"' in proc.stdout


def test_zizmor_finds_nothing() -> None:
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(ACTION), *(str(p) for p in WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout


def test_zizmor_validates_the_action_against_the_action_schema(tmp_path: Path) -> None:
    """The check above is real: zizmor refuses an action.yml that breaks the schema."""
    broken = tmp_path / "action.yml"
    broken.write_text(
        ACTION.read_text(encoding="utf-8").replace("shell: bash", "shel: bash"), "utf-8"
    )
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(broken)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode != 0
    assert "does not match expected validation schema" in proc.stdout + proc.stderr


def test_shellcheck_passes_on_the_action_scripts(tmp_path: Path) -> None:
    scripts = [s for s in action()["runs"]["steps"] if "run" in s]
    assert len(scripts) == 2
    for index, step in enumerate(scripts):
        path = tmp_path / f"step{index}.sh"
        path.write_text("#!/usr/bin/env bash\n" + step["run"], encoding="utf-8")
        proc = subprocess.run(
            [tool("shellcheck"), "--shell=bash", "--severity=style", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout


def test_npm_guard_scans_its_own_action_and_workflows_clean() -> None:
    result = scan_paths([str(ACTION), *(str(p) for p in WORKFLOWS)], root=str(ROOT))
    assert result.files_scanned == 1 + len(WORKFLOWS)
    assert [(f.location.path, f.rule_id, f.message) for f in result.findings] == []


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_every_action_is_pinned_by_commit_sha_with_its_version(path: Path) -> None:
    uses = steps_with_uses(path)
    assert uses
    for value, line in uses:
        reference, _, comment = value.partition(" ")
        if reference == "./":
            continue
        assert PIN_RE.match(reference), f"{path.name}:{line}: {reference} is not pinned by SHA"
        assert VERSION_COMMENT_RE.search(comment), f"{path.name}:{line}: no `# vX.Y.Z` comment"


def test_inputs_reach_the_program_only_through_env() -> None:
    data = action()
    inputs = data["inputs"]
    for step in data["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), f"expression inside run: in {step['name']}"
    run_step = next(s for s in data["runs"]["steps"] if s.get("id") == "run")
    env = run_step["env"]
    for name in inputs:
        variable = "GHA_NPM_GUARD_" + name.upper().replace("-", "_")
        assert env.get(variable) == f"${{{{ inputs.{name} }}}}", variable
    assert '"$venv/bin/python" -I -m npm_guard action' in run_step["run"]


def test_every_input_has_a_description_and_a_string_default() -> None:
    for name, spec in action()["inputs"].items():
        assert re.fullmatch(r"[a-z][a-z-]*", name)
        assert spec["description"] and spec["required"] is False
        assert isinstance(spec["default"], str), f"{name}: default must be a string"


def test_the_venv_installs_with_the_shipped_constraints() -> None:
    """Every direct dependency is pinned, within setup.cfg's range; the composite tests
    check the rest against the venv the Action builds."""
    import configparser

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = constraints(ROOT / "action-constraints.txt")
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg", encoding="utf-8")
    direct = [
        Requirement(line) for line in setup["options"]["install_requires"].split("\n") if line
    ]
    assert direct
    for requirement in direct:
        version = pins.get(canonicalize_name(requirement.name))
        assert version and requirement.specifier.contains(version), str(requirement)
    run_step = next(s for s in action()["runs"]["steps"] if s.get("id") == "run")
    assert '--constraint "$GITHUB_ACTION_PATH/action-constraints.txt"' in run_step["run"]
    assert 'root / "action-constraints.txt"' in run_step["run"]  # part of the venv's stamp


def test_outputs_come_from_the_program_step() -> None:
    outputs = action()["outputs"]
    assert sorted(outputs) == ["errors", "findings", "sarif-file", "verdict"]
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


def test_sarif_upload_is_optional_and_survives_a_failing_scan() -> None:
    upload = next(s for s in action()["runs"]["steps"] if "upload-sarif" in str(s.get("uses", "")))
    condition = upload["if"]
    assert "!cancelled()" in condition and "inputs.sarif == 'true'" in condition


def _doc_sections(text: str) -> dict[str, str]:
    parts = re.split(r"^### `([^`]+)`\s*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_docs_describe_every_input_with_its_default_and_every_output() -> None:
    text = DOCS.read_text(encoding="utf-8")
    sections = _doc_sections(text)
    data = action()
    for name, spec in data["inputs"].items():
        assert name in sections, f"docs/action.md has no ### `{name}` section"
        default = spec["default"]
        shown = {f"Default: `{default}`", f'Default: `"{default}"`'}
        assert any(s in sections[name] for s in shown), f"{name}: default {default!r} not shown"
    for name in data["outputs"]:
        assert name in sections, f"docs/action.md has no ### `{name}` section for the output"
    for heading in ("## Permissions", "## Troubleshooting"):
        assert heading in text
    assert "security-events: write" in text and "contents: read" in text


def _workflow_snippet(document: Path) -> str:
    """The one copyable workflow in `document` that uses the Action."""
    blocks = re.findall(r"```yaml\n(.*?)```", document.read_text(encoding="utf-8"), re.DOTALL)
    snippets = [b for b in blocks if "uses: npm-guard/npm-guard@" in b and "jobs:" in b]
    assert len(snippets) == 1, f"{document.name} has one copyable workflow for the Action"
    return snippets[0]


SNIPPET_DOCUMENTS = [README, DOCS]


@pytest.mark.parametrize("document", SNIPPET_DOCUMENTS, ids=lambda p: p.name)
def test_documented_workflow_uses_real_inputs_and_least_privilege(document: Path) -> None:
    workflow = yaml.safe_load(_workflow_snippet(document))
    assert workflow["permissions"] == {}
    declared = set(action()["inputs"])
    found = False
    for job in workflow["jobs"].values():
        assert set(job["permissions"]) <= {"contents", "security-events", "actions"}
        for step in job["steps"]:
            uses = str(step.get("uses", ""))
            if uses.startswith("actions/checkout@"):
                assert PIN_RE.match(uses)
                assert step["with"]["persist-credentials"] is False
            if uses.startswith("npm-guard/npm-guard@"):
                found = True
                assert set(step["with"]) <= declared
                assert "sarif" in step["with"] and "mode" in step["with"]
    assert found


@pytest.mark.parametrize("document", SNIPPET_DOCUMENTS, ids=lambda p: p.name)
def test_documented_workflow_passes_actionlint_and_npm_guard(
    document: Path, tmp_path: Path
) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    path = workflows / "npm-guard.yml"
    path.write_text(_workflow_snippet(document), encoding="utf-8")
    proc = subprocess.run(
        [tool("actionlint"), "-no-color", "-shellcheck=", "-pyflakes=", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout
    audit = zizmor(path)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "No findings to report" in audit.stdout
    result = scan_paths([str(path)], root=str(tmp_path))
    assert [(f.rule_id, f.message) for f in result.findings] == []


def _yaml_blocks(document: Path) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", document.read_text(encoding="utf-8"), re.DOTALL)


TEMPLATE_WORKFLOWS = sorted((ROOT / "templates" / "workflows").glob("*.yml"))


def _pins() -> list[tuple[str, str, str, str]]:
    """(place, action, reference, comment) of every `uses:` of another repository's
    action: action.yml, the workflows, the templates and the documents' YAML."""
    texts = [(p.name, p.read_text(encoding="utf-8")) for p in [ACTION, *WORKFLOWS]]
    texts += [(p.name, p.read_text(encoding="utf-8")) for p in TEMPLATE_WORKFLOWS]
    for document in SNIPPET_DOCUMENTS:
        texts += [(document.name, block) for block in _yaml_blocks(document)]
    pins = []
    for place, text in texts:
        for match in re.finditer(r"^\s*(?:-\s+)?uses:\s*(\S+)[ \t]*(.*)$", text, re.MULTILINE):
            reference, comment = match.group(1), match.group(2)
            if not reference.startswith("./"):
                action_name = reference.split("@", 1)[0]
                pins.append((place, action_name, reference, comment))
    return pins


def test_every_documented_action_is_pinned_by_sha_with_its_version() -> None:
    pins = _pins()
    assert {place for place, *_ in pins} >= {"README.md", "action.md", "npm-guard.yml"}
    for place, _, reference, comment in pins:
        assert PIN_RE.match(reference), f"{place}: {reference} is not pinned by commit SHA"
        assert re.match(r"#\s*v\d+\.\d+\.\d+", comment), f"{place}: {reference}: no # vX.Y.Z"


def test_each_action_has_one_pin_everywhere() -> None:
    """The README, docs, templates, CI and action.yml name the same commit of each action."""
    by_action: dict[str, set[str]] = {}
    for _, action_name, reference, comment in _pins():
        version = re.match(r"#\s*(v\d+\.\d+\.\d+)", comment)
        by_action.setdefault(action_name, set()).add(
            f"{reference} {version.group(1) if version else ''}"
        )
    assert {name: pins for name, pins in by_action.items() if len(pins) > 1} == {}
    assert "actions/checkout" in by_action and "npm-guard/npm-guard" in by_action


# What each job may hold beyond `contents: read`: the release workflow's PyPI job mints
# an OIDC token (and holds nothing else), its last two jobs write the release and the tag.
EXTRA_PERMISSIONS = {
    ("release.yml", "pypi"): {"id-token": "write"},
    ("release.yml", "github-release"): {"contents": "write"},
    ("release.yml", "major-tag"): {"contents": "write"},
}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_grant_least_privilege(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}, "no default permissions at the top"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, f"job {name} states its permissions"
        allowed = {"contents": "read", "security-events": "write"}
        allowed.update(EXTRA_PERMISSIONS.get((path.name, name), {}))
        for scope, level in job["permissions"].items():
            assert allowed.get(scope) == level, f"job {name}: {scope}: {level}"
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_only_jobs_that_upload_sarif_may_write_security_events(path: Path) -> None:
    """`security-events: write` only where the Action uploads SARIF, never on a pull
    request (a job's permissions cannot depend on the event, its `if:` can)."""
    for name, job in load(path)["jobs"].items():
        local = [s for s in job["steps"] if s.get("uses") == "./"]
        uploads = [s for s in local if str(s.get("with", {}).get("sarif")) == "true"]
        writes = job["permissions"].get("security-events") == "write"
        assert writes == bool(uploads), f"job {name}: security-events vs. sarif"
        if writes:
            assert job.get("if") == "github.event_name != 'pull_request'", name
        for step in local:
            assert str(step.get("with", {}).get("sarif", "false")) in ("true", "false"), name


def test_ci_runs_the_readme_test_command_and_dogfoods_the_action() -> None:
    jobs = load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]
    runs = [step.get("run", "") for job in jobs.values() for step in job["steps"]]
    assert any(r.strip().startswith("scripts/test") for r in runs)
    local = [s for job in jobs.values() for s in job["steps"] if s.get("uses") == "./"]
    assert len(local) >= 2
