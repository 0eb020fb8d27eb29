"""`npm run <script>` resolution: package.json in the working directory, pre/post, workspaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from npm_guard.repo_files import RepositoryFiles
from npm_guard.workflow.consulted import ConsultedFiles
from npm_guard.workflow.package_scripts import Selection, read_package, resolve_script


def reader(root: Path) -> ConsultedFiles:
    """The files a workflow's analysis consults, read through one fresh reader."""
    return ConsultedFiles(RepositoryFiles(str(root)))


def write_package(directory: Path, data: object) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "package.json").write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_package(
        tmp_path,
        {
            "name": "root",
            "workspaces": ["packages/*"],
            "scripts": {"prerelease": "npm test", "release": "changeset publish"},
        },
    )
    write_package(tmp_path / "packages" / "a", {"name": "@acme/a", "scripts": {"release": "x"}})
    write_package(tmp_path / "packages" / "b", {"name": "@acme/b", "scripts": {}})
    return tmp_path


def test_pre_main_post_in_order(repo: Path) -> None:
    found = resolve_script(reader(repo), ".", "release")
    assert [(s.package_json, s.name, s.text) for s in found] == [
        ("package.json", "prerelease", "npm test"),
        ("package.json", "release", "changeset publish"),
    ]


def test_without_pre_post(repo: Path) -> None:
    assert [s.name for s in resolve_script(reader(repo), ".", "release", pre_post=False)] == [
        "release"
    ]


def test_all_workspaces_exclude_the_root_unless_asked(repo: Path) -> None:
    every = resolve_script(reader(repo), ".", "release", selection=Selection(all_workspaces=True))
    assert [s.package_json for s in every] == ["packages/a/package.json"]
    with_root = resolve_script(
        reader(repo), ".", "release", selection=Selection(all_workspaces=True, include_root=True)
    )
    assert "package.json" in [s.package_json for s in with_root]


def test_named_workspace_by_name_or_path(repo: Path) -> None:
    by_name = resolve_script(reader(repo), ".", "release", selection=Selection(names=("@acme/a",)))
    by_path = resolve_script(
        reader(repo), ".", "release", selection=Selection(names=("packages/a",))
    )
    assert (
        [s.package_json for s in by_name]
        == [s.package_json for s in by_path]
        == ["packages/a/package.json"]
    )


def test_working_directory(repo: Path) -> None:
    found = resolve_script(reader(repo), "packages/a", "release")
    assert [(s.package_json, s.text) for s in found] == [("packages/a/package.json", "x")]


def test_pnpm_workspace_yaml(tmp_path: Path) -> None:
    write_package(tmp_path, {"name": "root"})
    (tmp_path / "pnpm-workspace.yaml").write_text("packages:\n  - 'libs/*'\n  - '!libs/skip'\n")
    write_package(
        tmp_path / "libs" / "one", {"name": "one", "scripts": {"release": "pnpm publish"}}
    )
    found = resolve_script(
        reader(tmp_path), ".", "release", selection=Selection(all_workspaces=True)
    )
    assert [s.package_json for s in found] == ["libs/one/package.json"]


@pytest.mark.parametrize("directory", ["..", "../..", "/etc"])
def test_never_leaves_the_repository(repo: Path, directory: str) -> None:
    write_package(repo.parent / "outside", {"scripts": {"release": "npm publish"}})
    assert resolve_script(reader(repo), directory, "release") == []


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[]", b'{"scripts": ["x"]}', b"\xff\xfe", b'{"scripts": {"release": 1}}'],
    ids=["invalid-json", "not-an-object", "scripts-not-a-map", "bad-utf8", "script-not-a-string"],
)
def test_broken_package_json_resolves_to_nothing(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "package.json").write_bytes(content)
    assert resolve_script(reader(tmp_path), ".", "release") == []


def test_no_repository_root() -> None:
    assert resolve_script(ConsultedFiles(None), ".", "release") == []


def test_publish_registry_is_read(tmp_path: Path) -> None:
    write_package(tmp_path, {"publishConfig": {"registry": "https://npm.pkg.github.com"}})
    package = read_package(reader(tmp_path), ".")
    assert package is not None and package.publish_registry == "https://npm.pkg.github.com"
