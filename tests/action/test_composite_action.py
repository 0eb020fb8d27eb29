"""action.yml itself, run step by step by the local composite runner: real bash, a real
private venv, the package installed from the action's own files, GitHub's file commands,
masking and annotations processed the way the runner processes them."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from composite_runner import ActionRun, Context, load_action, run_action
from conftest import (
    SUBSTITUTES,
    RunAction,
    constraints,
    copy_action,
    sarif_errors,
    setup_ok_package,
)
from fake_registry import FakeRegistry, json_reply
from npmrc_samples import make_token

LEAKED = make_token("npm_", 701)
TOKEN = make_token("npm_", 702)
VENV = ".npm-guard-venv"
# Every test here runs action.yml, whose first run builds the action's private venv.
pytestmark = pytest.mark.slow


def visible(run: ActionRun) -> str:
    """Everything a person reads: the log as shown, annotations, summary, outputs."""
    notes = [f"{a.properties} {a.message}" for a in run.annotations]
    return "\n".join([*run.log, *notes, run.summary, json.dumps(run.outputs)])


def test_first_run_creates_the_private_venv_from_the_action_files(
    first_run: ActionRun, action_dir: Path
) -> None:
    assert first_run.succeeded, first_run.raw_log
    assert f"[group] Install npm-guard into {action_dir / VENV}" in first_run.log
    python = action_dir / VENV / "bin" / "python"
    where = subprocess.run(
        [str(python), "-I", "-c", "import npm_guard; print(npm_guard.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Installed into the venv (not imported from a source tree or the test's environment).
    assert where.startswith(str(action_dir / VENV)) and "site-packages" in where
    assert first_run.outputs == {
        "findings": "0",
        "errors": "0",
        "sarif-file": "",
        "verdict": "pass",
    }


_VENV_DISTRIBUTIONS = """
import json
from importlib import metadata
found = {d.metadata["Name"]: [d.version, d.requires or []] for d in metadata.distributions()}
print(json.dumps(found))
"""
_INSTALLER = {"npm-guard", "pip", "setuptools", "wheel"}


def test_the_venv_has_exactly_the_pinned_dependencies(
    first_run: ActionRun, action_dir: Path
) -> None:
    """What the first run installed, read from the venv itself: every distribution is
    pinned in action-constraints.txt at the version installed, and every pin is a
    dependency npm-guard needs on some supported Python (none is stale)."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = constraints(action_dir / "action-constraints.txt")
    python = action_dir / VENV / "bin" / "python"
    proc = subprocess.run(
        [str(python), "-I", "-c", _VENV_DISTRIBUTIONS], capture_output=True, text=True, check=True
    )
    installed = {canonicalize_name(k): v for k, v in json.loads(proc.stdout).items()}
    assert {
        name: version for name, (version, _) in installed.items() if name not in _INSTALLER
    } == {name: version for name, version in pins.items() if name in installed}
    needed: set[str] = set()
    todo = [Requirement(r) for r in installed["npm-guard"][1]]
    environments = []
    for minor in range(9, 15):
        environment = dict(default_environment())
        environment.update(
            python_version=f"3.{minor}", python_full_version=f"3.{minor}.0", extra=""
        )
        environments.append(environment)
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        marker = requirement.marker
        if name in needed or (marker and not any(marker.evaluate(e) for e in environments)):
            continue
        needed.add(name)
        assert name in pins, f"{requirement.name} is not in action-constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), str(requirement)
        todo += [Requirement(r) for r in installed.get(name, ["", []])[1]]
    assert set(pins) == needed


def test_later_runs_reuse_the_venv(run: RunAction, workspace: Path) -> None:
    result = run(workspace)
    assert result.succeeded
    assert not any(line.startswith("[group] Install") for line in result.log)


def _stamp(action_dir: Path) -> str:
    """What the shim compares to decide whether its venv still fits: run its own lines."""
    script = next(s for s in load_action(action_dir)["runs"]["steps"] if s.get("id") == "run")
    lines = script["run"].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith('stamp="$('))
    end = next(i for i in range(start, len(lines)) if lines[i] == ')"')
    snippet = "\n".join([*lines[start : end + 1], 'printf "%s" "$stamp"'])
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", snippet],
        env={
            "python": sys.executable,
            "GITHUB_ACTION_PATH": str(action_dir),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_venv_is_rebuilt_when_the_package_or_python_changes(tmp_path: Path) -> None:
    action_dir = copy_action(tmp_path / "npm-guard")
    before = _stamp(action_dir)
    assert before == _stamp(action_dir)
    (action_dir / "npm_guard" / "__pycache__").mkdir(exist_ok=True)
    (action_dir / "npm_guard" / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    assert _stamp(action_dir) == before  # byte code does not count
    constraints_file = action_dir / "action-constraints.txt"
    constraints_file.write_text(constraints_file.read_text() + "# changed\n", encoding="utf-8")
    new_pins = _stamp(action_dir)
    assert new_pins != before  # other dependencies: a new venv
    (action_dir / "npm_guard" / "findings.py").write_text("# changed\n", encoding="utf-8")
    changed = _stamp(action_dir)
    assert changed not in (before, new_pins)
    assert changed.split()[0] == sys.executable  # a different interpreter differs too


def test_clean_repository(run: RunAction, workspace: Path) -> None:
    (workspace / ".npmrc").write_text(
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", encoding="utf-8"
    )
    workflows = workspace / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ok\n",
        encoding="utf-8",
    )
    result = run(workspace, inputs={"sarif": "true"})
    assert result.succeeded
    assert [s.outcome for s in result.steps] == ["success"] * 4
    assert result.annotations == []
    assert result.outputs["verdict"] == "pass" and result.outputs["findings"] == "0"
    assert "npm-guard: no findings (2 files scanned)" in result.log
    assert "✅ **Passed**: no findings (2 files scanned)." in result.summary
    # SARIF is uploaded even with nothing in it: code scanning then closes old alerts.
    assert result.uploaded_sarif == [Path(result.outputs["sarif-file"])]


def test_repository_with_findings(run: RunAction, workspace: Path) -> None:
    (workspace / "packages" / "app").mkdir(parents=True)
    (workspace / "packages" / "app" / ".npmrc").write_text(
        f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={LEAKED}\n",
        encoding="utf-8",
    )
    (workspace / ".npmrc").write_text("strict-ssl=false\n", encoding="utf-8")
    result = run(workspace, inputs={"sarif": "true"})
    assert not result.succeeded
    run_step = result.step("run")
    assert (run_step.outcome, run_step.exit_code) == ("failure", 1)
    # The SARIF upload still happens after the failing step (`!cancelled()`).
    assert result.step(result.steps[-1].id).outcome == "success"
    assert result.outputs["verdict"] == "fail"
    assert result.outputs["findings"] == "2" and result.outputs["errors"] == "1"
    by_file = {a.properties["file"]: a for a in result.annotations}
    assert by_file["packages/app/.npmrc"].level == "error"
    assert by_file["packages/app/.npmrc"].properties["line"] == "2"
    assert by_file[".npmrc"].level == "warning"
    assert "npmrc-plaintext-credential" in by_file["packages/app/.npmrc"].properties["title"]
    assert "❌ **Failed**" in result.summary
    assert "[`packages/app/.npmrc:2`](https://github.com/octo-org/octo-repo/blob/" in result.summary
    sarif = Path(result.outputs["sarif-file"])
    assert result.uploaded_sarif == [sarif] and sarif_errors(sarif) == []
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    }
    assert uris == {".npmrc", "packages/app/.npmrc"}
    assert LEAKED not in result.raw_log + result.summary + sarif.read_text(encoding="utf-8")


def test_a_path_that_spells_a_command_cannot_annotate(run: RunAction, workspace: Path) -> None:
    """12 findings in a directory named like a legacy `##[warning]` command: the two past
    the annotation cap are plain lines, which the runner must not read as commands."""
    directory = workspace / "##[warning title=spoof]build passed"
    directory.mkdir()
    tokens = [make_token("npm_", 720 + i) for i in range(12)]
    lines = [f"//r{i}.example/:_authToken={token}" for i, token in enumerate(tokens)]
    (directory / ".npmrc").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(workspace)
    assert result.outputs["findings"] == "12"
    assert [a.level for a in result.annotations] == ["error"] * 10
    assert {a.properties["title"] for a in result.annotations} == {
        "npm-guard npmrc-plaintext-credential"
    }
    overflow = [line for line in result.log if "build passed/.npmrc:1" in line]
    assert len(overflow) == 2 and all("##\\[warning" in line for line in overflow)


def test_sarif_is_not_written_or_uploaded_unless_asked(run: RunAction, workspace: Path) -> None:
    (workspace / ".npmrc").write_text(f"_authToken={LEAKED}\n", encoding="utf-8")
    result = run(workspace)
    assert result.outputs["sarif-file"] == ""
    assert result.uploaded_sarif == []
    assert result.steps[-1].outcome == "skipped"


def test_failing_audit_is_incomplete_and_fails_the_step(
    run: RunAction, workspace: Path, fake: FakeRegistry
) -> None:
    token = setup_ok_package(fake, workspace, now=datetime.datetime.now(datetime.timezone.utc))
    fake.reply("/-/npm/v1/tokens", json_reply({"error": "forbidden"}, 403))
    result = run(
        workspace,
        inputs={"mode": "audit", "registry": fake.url, "sarif": "true"},
        env={"NPM_TOKEN": token},
    )
    assert result.step("run").exit_code == 1
    assert result.outputs["verdict"] == "incomplete"
    incomplete = [a for a in result.annotations if "audit-incomplete" in a.properties["title"]]
    assert incomplete and incomplete[0].level == "error"
    assert "HTTP 403" in incomplete[0].message
    assert "**Verdict: incomplete.**" in result.summary
    assert "| maintainer | can publish | evidence | mode | verdict |" in result.summary
    assert fake.authorized(), "the audit sent the token to its registry"
    assert token not in visible(result)
    assert sarif_errors(result.uploaded_sarif[0]) == []


def test_healthy_audit_passes(run: RunAction, workspace: Path, fake: FakeRegistry) -> None:
    token = setup_ok_package(fake, workspace, now=datetime.datetime.now(datetime.timezone.utc))
    result = run(workspace, inputs={"mode": "all", "registry": fake.url}, env={"NPM_TOKEN": token})
    assert result.succeeded, result.raw_log
    assert result.outputs["verdict"] == "pass"
    assert "## npm-guard scan and audit" in result.summary


def test_token_is_masked_first_and_never_shown(run: RunAction, workspace: Path) -> None:
    secret = f"{TOKEN}\n  second-line-of-it \n"
    (workspace / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={TOKEN}\n", "utf-8")
    result = run(workspace, inputs={"sarif": "true"}, env={"NPM_TOKEN": secret})
    # The very first things the job prints are the masks, one per line of the value.
    assert result.raw_log.splitlines()[:2] == [
        f"::add-mask::{TOKEN}",
        "::add-mask::second-line-of-it",
    ]
    assert {TOKEN, "second-line-of-it"} <= set(result.masks)
    shown = visible(result)
    assert TOKEN not in shown and "second-line-of-it" not in shown
    # Masking covers the log; files and outputs are scrubbed by npm-guard itself.
    outside_masks = result.raw_log.replace(f"::add-mask::{TOKEN}", "")
    assert TOKEN not in outside_masks
    assert TOKEN not in Path(result.outputs["sarif-file"]).read_text(encoding="utf-8")
    assert TOKEN not in result.summary and TOKEN not in json.dumps(result.outputs)


def test_inputs_cannot_inject_shell(run: RunAction, workspace: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    result = run(
        workspace,
        inputs={"paths": f'$(touch {marker}) "; touch {marker} #', "policy": f"`touch {marker}`"},
    )
    assert not marker.exists()
    assert result.step("run").exit_code == 2
    assert result.outputs["verdict"] == "error"


def test_a_pull_request_cannot_shadow_npm_guards_modules(run: RunAction, workspace: Path) -> None:
    """The program runs with `python -I`: the workspace is not on sys.path."""
    (workspace / "npm_guard").mkdir()
    (workspace / "npm_guard" / "__init__.py").write_text("raise SystemExit(99)\n", "utf-8")
    (workspace / "yaml.py").write_text("raise SystemExit(98)\n", encoding="utf-8")
    result = run(workspace)
    assert result.succeeded and result.outputs["verdict"] == "pass"


def test_unsupported_runner_fails_early_with_a_clear_error(run: RunAction, workspace: Path) -> None:
    result = run(workspace, env={"RUNNER_OS": "Windows"})
    assert [s.outcome for s in result.steps] == ["failure", "skipped", "skipped", "skipped"]
    assert result.annotations[0].level == "error"
    assert "runs on Linux and macOS runners, not on 'Windows'" in result.annotations[0].message


def test_too_old_python_is_a_clear_error(
    action_dir: Path, first_run: ActionRun, workspace: Path, tmp_path: Path
) -> None:
    old = tmp_path / "python3.8"
    old.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    old.chmod(0o755)

    def old_python(with_values: Mapping[str, str], context: Context) -> dict[str, str]:
        return {"python-path": str(old), "python-version": "3.8.18"}

    result = run_action(
        action_dir,
        workspace=workspace,
        temp=tmp_path / "temp",
        substitutes={**SUBSTITUTES, "actions/setup-python": old_python},
    )
    assert result.step("run").exit_code == 2
    assert [a.message for a in result.annotations] == [
        f"npm-guard needs Python 3.9 or newer; the setup-python step gave '{old}'."
    ]
