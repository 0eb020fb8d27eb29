"""Fixtures for running action.yml locally: a copy of the action, substitutes, workspaces."""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import jsonschema
import pytest
from composite_runner import ActionRun, Context, Substitute, run_action
from fake_registry import (
    FakeRegistry,
    npm_token,
    packument_doc,
    profile_doc,
    token_entry,
    version_doc,
)

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = ROOT / "tests" / "schemas" / "sarif-2.1.0-rtm.5.json"
# What `pip install <action path>` needs from the checkout.
ACTION_FILES = (
    "action.yml",
    "action-constraints.txt",
    "setup.cfg",
    "pyproject.toml",
    "README.md",
    "LICENSE",
)
SETUP_PYTHON = "actions/setup-python"
UPLOAD_SARIF = "github/codeql-action/upload-sarif"

RunAction = Callable[..., ActionRun]


def constraints(path: Path) -> dict[str, str]:
    """action-constraints.txt as {canonical name: version}; only `name==version` lines."""
    from packaging.utils import canonicalize_name

    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!]*)", line)
            assert match, f"not an exact pin: {line!r}"
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def copy_action(destination: Path) -> Path:
    """The action as `uses: owner/npm-guard@ref` would download it: the repository's files."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in ACTION_FILES:
        shutil.copy2(ROOT / name, destination / name)
    shutil.copytree(
        ROOT / "npm_guard",
        destination / "npm_guard",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return destination


def setup_python(with_values: Mapping[str, str], context: Context) -> dict[str, str]:
    """actions/setup-python, standing in: the interpreter running the tests."""
    assert with_values.get("update-environment") == "false", "must not change the job's python"
    version = ".".join(map(str, sys.version_info[:3]))
    return {"python-path": sys.executable, "python-version": version}


def sarif_errors(path: Path) -> list[str]:
    """Problems with the file upload-sarif would upload: must exist and be valid SARIF 2.1.0."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    document = json.loads(path.read_text(encoding="utf-8"))
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def upload_sarif(with_values: Mapping[str, str], context: Context) -> dict[str, str]:
    """github/codeql-action/upload-sarif, standing in: check what it would upload."""
    path = Path(with_values["sarif_file"])
    assert path.is_file(), f"upload-sarif would find no file at {path}"
    assert sarif_errors(path) == []
    assert with_values.get("category") == f"npm-guard-{context.inputs['mode']}"
    return {"sarif-id": "local-0"}


SUBSTITUTES: dict[str, Substitute] = {SETUP_PYTHON: setup_python, UPLOAD_SARIF: upload_sarif}


@pytest.fixture(scope="session")
def action_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the action per test session; its private venv is made on first use."""
    return copy_action(tmp_path_factory.mktemp("action") / "npm-guard")


@pytest.fixture(scope="session")
def first_run(action_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ActionRun:
    """The session's first run of the action: the one that really creates the venv."""
    workspace = tmp_path_factory.mktemp("first-workspace")
    init_repository(workspace)
    return run_action(
        action_dir,
        workspace=workspace,
        temp=tmp_path_factory.mktemp("first-temp"),
        substitutes=SUBSTITUTES,
        timeout=600,
    )


@pytest.fixture
def run(action_dir: Path, first_run: ActionRun, tmp_path: Path) -> RunAction:
    """Run the action (venv already made) on a workspace; keyword arguments as run_action."""

    def go(
        workspace: Path,
        *,
        inputs: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ActionRun:
        return run_action(
            action_dir,
            workspace=workspace,
            temp=tmp_path / "runner-temp",
            inputs=inputs,
            env=env,
            substitutes=SUBSTITUTES,
        )

    return go


def init_repository(path: Path) -> None:
    """A git work tree, as actions/checkout leaves one (the scan lists files through git)."""
    subprocess.run(["git", "init", "-q", str(path)], check=True)


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "workspace"
    path.mkdir()
    init_repository(path)
    yield path


PACKAGE = "@acme/widget"


def setup_ok_package(fake: FakeRegistry, project: Path, *, now: datetime.datetime) -> str:
    """A repository publishing @acme/widget, healthy on the fake npmjs; returns the token.

    alice maintains it with 2FA for writes (read with her own token: verified evidence),
    publishes through GitHub OIDC with provenance; the token is read-only, CIDR-bound,
    made today for 30 days.
    """
    token = npm_token("ActionAuditTokenForTheFake42")
    (project / "package.json").write_text(
        json.dumps({"name": PACKAGE, "version": "1.1.0"}, indent=2) + "\n", encoding="utf-8"
    )
    fake.packument(
        packument_doc(
            PACKAGE,
            ["alice"],
            [
                version_doc(PACKAGE, "1.0.0", trusted="github", provenance=True),
                version_doc(PACKAGE, "1.1.0", trusted="github", provenance=True),
            ],
        )
    )
    fake.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
    fake.collaborators(PACKAGE, {"alice": "write"})
    fake.token_pages([token_entry(token, key="33333333-0000-4000-8000-000000000003", created=now)])
    return token


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def pull_request_repository(
    path: Path, *, base: Mapping[str, str], change: Mapping[str, str] | None = None
) -> Path:
    """A checkout of a pull request: `base` files committed as `origin/main`, then one
    commit with `change` (by default `z/.npmrc` and `a b/ü.yml`) on top."""
    if change is None:
        change = {"z/.npmrc": "strict-ssl=false\n", "a b/ü.yml": "on: push\n"}
    path.mkdir(exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for files, message in ((base, "base"), (change, "change")):
        for name, text in files.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_text(text, encoding="utf-8")
        git(path, "add", ".")
        git(path, "commit", "-qm", message)
        if message == "base":
            git(path, "update-ref", "refs/remotes/origin/main", "HEAD")
            git(path, "checkout", "-qb", "feature")
    return path
