"""Which packages the audit audits, which registry each goes to, and where the token goes.

npm's order for a package's registry: `--registry`, its `publishConfig.registry`, the
project `.npmrc`'s `@scope:registry`, its `registry`, npm's own registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_registry import (
    FakeRegistry,
    npm_token,
    packument_doc,
    profile_doc,
    token_entry,
    version_doc,
)

from npm_guard.audit.command import audit_repository, token_registry_for
from npm_guard.audit.workspace import (
    NPMJS_REGISTRY,
    PackageTarget,
    named_packages,
    npmrc_registries,
    registry_for,
    repository_packages,
)
from npm_guard.errors import NpmGuardError
from npm_guard.policy import Policy

A = "https://a.example/"
B = "https://b.example/npm/"
C = "https://c.example/"
REGISTRIES = {"": A, "@acme": B}


@pytest.mark.parametrize(
    ("name", "override", "publish", "registries", "expected"),
    [
        ("@acme/widget", C, "https://p.example/", REGISTRIES, C),  # --registry beats all
        ("@acme/widget", None, C, REGISTRIES, C),  # publishConfig beats the scope
        ("plain", None, C, REGISTRIES, C),  # and the default
        ("@acme/widget", None, None, REGISTRIES, B),  # @acme:registry
        ("@other/widget", None, None, REGISTRIES, A),  # another scope: the default
        ("plain", None, None, REGISTRIES, A),  # unscoped: never a scope's registry
        ("acme/widget", None, None, {"": A, "acme": B}, A),  # not a scope without @
        ("@acme/widget", None, None, {"@acme": B}, B),
        ("plain", None, None, {"@acme": B}, NPMJS_REGISTRY),  # no default: npm's
        ("@acme/widget", None, None, {"": A, "@acme": ""}, A),  # an empty value is unset
        ("@acme/widget", "", "", {}, NPMJS_REGISTRY),
    ],
)
def test_registry_for_follows_npms_precedence(
    name: str, override: str | None, publish: str | None, registries: dict[str, str], expected: str
) -> None:
    assert (
        registry_for(name, override=override, publish_registry=publish, registries=registries)
        == expected
    )


def test_npmrc_registries_read_as_npm_reads_them(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text(
        "registry = ${REGISTRY_URL}\n"
        '"@acme:registry" = "https://b.example/npm/"\n'
        "@other:registry=https://c.example/\n"
        "@later:registry=https://first.example/\n"
        "@later:registry=https://second.example/\n"
        "//a.example/:_authToken=${NPM_TOKEN}\n"
    )
    assert npmrc_registries(str(tmp_path), {"REGISTRY_URL": A}) == {
        "": A,
        "@acme": B,
        "@other": C,
        "@later": "https://second.example/",
    }
    assert npmrc_registries(str(tmp_path / "missing"), {}) == {}


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A root package with workspaces: scoped, unscoped, private, excluded, nested."""
    (tmp_path / ".npmrc").write_text(f"registry={A}\n@acme:registry={B}\n")
    write(
        tmp_path / "package.json",
        {"name": "root-tool", "workspaces": ["packages/*", "tools/**", "!packages/excluded"]},
    )
    write(tmp_path / "packages/widget/package.json", {"name": "@acme/widget"})
    write(
        tmp_path / "packages/gadget/package.json",
        {"name": "@acme/gadget", "publishConfig": {"registry": C}},
    )
    write(tmp_path / "packages/internal/package.json", {"name": "@acme/internal", "private": True})
    write(tmp_path / "packages/excluded/package.json", {"name": "excluded"})
    write(tmp_path / "packages/nameless/package.json", {"version": "1.0.0"})
    write(tmp_path / "packages/node_modules/dep/package.json", {"name": "dep"})
    write(tmp_path / "tools/deep/cli/package.json", {"name": "deep-cli"})
    write(tmp_path / "tools/node_modules/left-pad/package.json", {"name": "left-pad"})
    (tmp_path / "packages/no-manifest").mkdir()
    return tmp_path


def test_repository_packages_root_and_workspaces(repo: Path) -> None:
    targets = repository_packages(str(repo), override=None, env={})
    assert sorted(targets, key=lambda t: t.name) == [
        PackageTarget("@acme/gadget", C, "packages/gadget/package.json", 2),
        PackageTarget("@acme/widget", B, "packages/widget/package.json", 2),
        PackageTarget("deep-cli", A, "tools/deep/cli/package.json", 2),
        PackageTarget("root-tool", A, "package.json", 2),
    ]


def test_registry_override_applies_to_every_package(repo: Path) -> None:
    targets = repository_packages(str(repo), override=C, env={})
    assert {t.registry for t in targets} == {C}


def test_an_exclude_before_its_pattern_still_excludes(repo: Path) -> None:
    write(repo / "package.json", {"name": "root-tool", "workspaces": ["!packages/*", "packages/*"]})
    assert [t.name for t in repository_packages(str(repo), override=None, env={})] == ["root-tool"]


def test_workspaces_in_the_object_form(repo: Path) -> None:
    write(
        repo / "package.json",
        {"private": True, "workspaces": {"packages": ["packages/widget"], "nohoist": ["**"]}},
    )
    targets = repository_packages(str(repo), override=None, env={})
    assert [(t.name, t.manifest) for t in targets] == [
        ("@acme/widget", "packages/widget/package.json")
    ]


def test_the_first_package_of_a_name_wins(repo: Path) -> None:
    write(repo / "packages/widget-copy/package.json", {"name": "@acme/widget"})
    widgets = repository_packages(str(repo), override=None, env={})
    assert [t.manifest for t in widgets if t.name == "@acme/widget"] == [
        "packages/widget/package.json"
    ]


def test_display_paths_stay_relative_under_a_symlinked_root(repo: Path, tmp_path: Path) -> None:
    link = tmp_path.parent / f"{tmp_path.name}-link"
    link.symlink_to(repo, target_is_directory=True)
    try:
        targets = repository_packages(str(link), override=None, env={})
    finally:
        link.unlink()
    assert sorted(t.manifest or "" for t in targets) == [
        "package.json",
        "packages/gadget/package.json",
        "packages/widget/package.json",
        "tools/deep/cli/package.json",
    ]


def test_a_workspace_reached_twice_is_audited_once(repo: Path) -> None:
    (repo / "packages/widget-link").symlink_to(repo / "packages/widget", target_is_directory=True)
    targets = repository_packages(str(repo), override=None, env={})
    assert [t.manifest for t in targets if t.name == "@acme/widget"] == [
        "packages/widget/package.json"
    ]


def test_no_or_broken_package_json_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NpmGuardError, match=r"no package\.json in the current directory"):
        repository_packages(str(tmp_path), override=None, env={})
    (tmp_path / "package.json").write_text('{"name": ')
    with pytest.raises(NpmGuardError, match=r"^package\.json is not valid JSON"):
        repository_packages(str(tmp_path), override=None, env={})


def test_named_packages_keep_their_manifest_or_use_the_npmrc(repo: Path) -> None:
    targets = named_packages(
        ["@acme/gadget", "@acme/elsewhere", "left-pad"], str(repo), override=None, env={}
    )
    assert targets == [
        PackageTarget("@acme/gadget", C, "packages/gadget/package.json", 2),
        PackageTarget("@acme/elsewhere", B),
        PackageTarget("left-pad", A),
    ]
    with pytest.raises(NpmGuardError, match="is not an npm package name"):
        named_packages(["../etc/passwd"], str(repo), override=None, env={})


@pytest.mark.parametrize(
    ("registries", "override", "npmrc", "expected"),
    [
        ([A, B], C, f"registry={A}\n", C),  # --registry
        ([B, B], None, f"registry={A}\n", B),  # the one registry every package uses
        ([A, B], None, f"registry={A}\n", A),  # several: the .npmrc default
        ([B, C], None, f"registry={A}\n", A),  # even when no package is there
        ([A, B], None, "", NPMJS_REGISTRY),  # several, no default: npm's
        ([], None, "", NPMJS_REGISTRY),
    ],
)
def test_token_registry_for(
    tmp_path: Path, registries: list[str], override: str | None, npmrc: str, expected: str
) -> None:
    (tmp_path / ".npmrc").write_text(npmrc)
    targets = [PackageTarget(f"pkg-{i}", registry) for i, registry in enumerate(registries)]
    assert token_registry_for(targets, str(tmp_path), {}, override) == expected


TOKEN = npm_token("TokenForRegistryAOnly000000")


@pytest.fixture
def two_registries() -> Iterator[tuple[FakeRegistry, FakeRegistry]]:
    with FakeRegistry() as home, FakeRegistry() as other:
        yield home, other


def test_packages_on_two_registries_the_token_goes_to_the_default_only(
    two_registries: tuple[FakeRegistry, FakeRegistry], tmp_path: Path
) -> None:
    home, other = two_registries
    (tmp_path / ".npmrc").write_text(f"registry={home.url}\n")
    write(tmp_path / "package.json", {"private": True, "workspaces": ["packages/*"]})
    write(tmp_path / "packages/a/package.json", {"name": "pkg-a"})
    write(
        tmp_path / "packages/b/package.json",
        {"name": "@acme/gadget", "publishConfig": {"registry": other.url}},
    )
    home.packument(packument_doc("pkg-a", ["alice"], [version_doc("pkg-a", "1.0.0")]))
    home.collaborators("pkg-a", {"alice": "write"})
    home.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
    home.token_pages([token_entry(TOKEN, key="k1")])
    other.packument(packument_doc("@acme/gadget", ["carol"], [version_doc("@acme/gadget", "1.0")]))
    result = audit_repository(str(tmp_path), Policy(), {"NPM_TOKEN": TOKEN})
    assert result.notices == [
        f"collaborators and publishing access not checked for @acme/gadget: the audit's "
        f"token is sent only to {home.url}, the registry it belongs to",
        "version status not checked: the audit's token is read-only, as it should be, and "
        "npm shows a version's status only to a token with publish access",
    ]
    assert [r.path for r in other.requests] == ["/@acme%2fgadget"]
    assert other.authorized() == []
    assert sorted(r.path for r in home.authorized()) == [
        "/-/npm/v1/tokens",
        "/-/npm/v1/user",
        "/-/package/pkg-a/access",
        "/-/package/pkg-a/collaborators",
        "/pkg-a",
    ]
    assert {p.name: p.registry for p in result.facts.packages} == {
        "pkg-a": home.url,
        "@acme/gadget": other.url,
    }


def test_a_package_json_nested_too_deeply_is_a_clear_error(tmp_path: Path) -> None:
    """The repository's own JSON: a RecursionError used to end in exit 3."""
    (tmp_path / "package.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(NpmGuardError, match=r"^package\.json is not valid JSON: nested too deeply"):
        repository_packages(str(tmp_path), override=None, env={})
