"""The token goes only where it belongs (issue 12): a registry URL from the repository's
`.npmrc` never carries the audit's credential, in the URL or along with a variable's
value, and no line printed shows a registry URL's password."""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_registry import (
    FakeRegistry,
    npm_token,
    packument_doc,
    profile_doc,
    token_entry,
    version_doc,
)

from npm_guard.audit.attest import attest
from npm_guard.audit.command import audit_repository
from npm_guard.cli import main as cli_main
from npm_guard.errors import NpmGuardError
from npm_guard.policy import Policy

TOKEN = npm_token("TokenThatStaysInTheHeader01")
PKG = "@acme/widget"


@pytest.fixture
def home() -> Iterator[FakeRegistry]:
    """The registry the token belongs to."""
    with FakeRegistry() as registry:
        registry.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
        registry.token_pages([token_entry(TOKEN, key="k1")])
        yield registry


@pytest.fixture
def elsewhere() -> Iterator[FakeRegistry]:
    """Another origin on loopback, as in the issue (127.0.0.2)."""
    with FakeRegistry("127.0.0.2") as registry:
        registry.packument(packument_doc(PKG, ["alice"], [version_doc(PKG, "1.0.0")]))
        yield registry


def project(root: Path, npmrc: str, *names: str) -> Path:
    (root / ".npmrc").write_text(npmrc)
    if len(names) == 1:
        (root / "package.json").write_text(json.dumps({"name": names[0]}))
    else:
        (root / "package.json").write_text(json.dumps({"private": True, "workspaces": ["p/*"]}))
        for i, name in enumerate(names):
            (root / "p" / str(i)).mkdir(parents=True)
            (root / "p" / str(i) / "package.json").write_text(json.dumps({"name": name}))
    return root


def sent_anywhere(*registries: FakeRegistry) -> str:
    """Every request target the registries saw (the token belongs in a header, only)."""
    return "\n".join(r.path for reg in registries for r in reg.requests)


def gap_texts(result: object) -> str:
    return "\n".join(f.message for f in result.findings)  # type: ignore[attr-defined]


def test_the_token_in_a_url_path_to_another_origin_is_refused(
    home: FakeRegistry, elsewhere: FakeRegistry, tmp_path: Path
) -> None:
    """The issue's case: `@scope:registry=http://127.0.0.2:…/${NPM_TOKEN}/` sent the
    whole token in a URL path to another origin."""
    root = project(
        tmp_path, f"registry={home.url}\n@acme:registry={elsewhere.url}${{NPM_TOKEN}}/\n", PKG
    )
    result = audit_repository(str(root), Policy(), {"NPM_TOKEN": TOKEN})
    assert TOKEN not in sent_anywhere(home, elsewhere)
    assert elsewhere.requests == []
    incomplete = [f for f in result.findings if f.rule.id == "audit-incomplete"]
    assert any("`@acme:registry` refers to ${NPM_TOKEN}" in f.message for f in incomplete)
    assert TOKEN not in gap_texts(result)


@pytest.mark.parametrize("variable", ["NPM_AUTH_TOKEN", "CI_SECRET", "DEPLOY_PASSWORD", "API_KEY"])
def test_any_credential_variable_in_a_registry_url_is_refused(
    elsewhere: FakeRegistry, tmp_path: Path, variable: str
) -> None:
    root = project(tmp_path, f"@acme:registry={elsewhere.url}${{{variable}}}/\n", PKG)
    result = audit_repository(str(root), Policy(), {variable: "hunter2-value"})
    assert elsewhere.requests == []
    assert any(f"refers to ${{{variable}}}" in f.message for f in result.findings)
    assert "hunter2-value" not in gap_texts(result)


def test_a_url_whose_expansion_holds_the_token_is_refused(
    home: FakeRegistry, elsewhere: FakeRegistry, tmp_path: Path
) -> None:
    """Through a variable with an innocent name that holds it."""
    root = project(tmp_path, "@acme:registry=${ACME_REGISTRY}\n", PKG)
    env = {"NPM_TOKEN": TOKEN, "ACME_REGISTRY": f"{elsewhere.url}{TOKEN}/"}
    result = audit_repository(str(root), Policy(), env, registry=None)
    assert TOKEN not in sent_anywhere(home, elsewhere)
    assert any("holds the audit's token" in f.message for f in result.findings)


def test_no_variable_goes_into_the_path_of_a_url_on_the_token_origin(
    home: FakeRegistry, tmp_path: Path
) -> None:
    home.packument(packument_doc("pkg-a", ["alice"], [version_doc("pkg-a", "1.0.0")]))
    root = project(
        tmp_path,
        f"registry={home.url}\n@acme:registry={home.url}${{ACME_REPO}}/\n",
        "pkg-a",
        PKG,
    )
    result = audit_repository(str(root), Policy(), {"NPM_TOKEN": TOKEN, "ACME_REPO": "private"})
    assert not [r for r in home.requests if "private" in r.path]
    assert any(
        "`@acme:registry` expands a variable into the user info, path or query" in f.message
        for f in result.findings
    )
    assert [r.path for r in home.hits("/pkg-a")] == ["/pkg-a"]  # the rest goes on


def test_a_token_registry_with_a_variable_in_its_path_gets_no_token(
    home: FakeRegistry, tmp_path: Path
) -> None:
    root = project(tmp_path, f"registry={home.url}${{TEAM}}/\n", PKG)
    result = audit_repository(str(root), Policy(), {"NPM_TOKEN": TOKEN, "TEAM": "team"})
    assert home.authorized() == []
    assert any("not sent anywhere" in notice for notice in result.notices)


def test_a_variable_in_the_host_is_expanded_as_npm_does(home: FakeRegistry, tmp_path: Path) -> None:
    home.packument(packument_doc(PKG, ["alice"], [version_doc(PKG, "1.0.0")]))
    root = project(tmp_path, "@acme:registry=http://${REGISTRY_HOST}/\n", PKG)
    env = {"NPM_TOKEN": TOKEN, "REGISTRY_HOST": f"127.0.0.1:{home.port}"}
    audit_repository(str(root), Policy(), env)
    assert [r.path for r in home.authorized() if r.path.startswith("/@acme")] == ["/@acme%2fwidget"]


def test_the_notices_of_the_cli_never_show_a_registry_password(
    home: FakeRegistry,
    elsewhere: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`http://ci:pass@host/` reached the notices on stderr."""
    host = home.url.replace("http://", "http://ci:hunter2pass@")
    root = project(tmp_path, f"registry={host}\n", "pkg-a", PKG)
    (root / "p" / "1" / "package.json").write_text(
        json.dumps({"name": PKG, "publishConfig": {"registry": elsewhere.url}})
    )
    home.packument(packument_doc("pkg-a", ["alice"], [version_doc("pkg-a", "1.0.0")]))
    monkeypatch.chdir(root)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    cli_main(["--debug", "audit"])
    out, err = capsys.readouterr()
    assert "collaborators and publishing access not checked" in err
    assert "hunter2pass" not in out + err and TOKEN not in out + err


def test_attest_refuses_a_project_registry_that_carries_the_token(
    home: FakeRegistry, tmp_path: Path
) -> None:
    (tmp_path / ".npmrc").write_text(f"registry={home.url}${{NPM_TOKEN}}/\n")
    with pytest.raises(NpmGuardError, match=r"`registry` refers to \$\{NPM_TOKEN\}"):
        attest(
            root=str(tmp_path),
            env={"NPM_TOKEN": TOKEN},
            registry=None,
            policy_path=None,
            token_env="NPM_TOKEN",
            days=90,
            write=False,
            out=io.StringIO(),
            err=io.StringIO(),
        )
    assert home.requests == []


def test_attest_writes_no_password_into_the_policy(home: FakeRegistry, tmp_path: Path) -> None:
    """`attest` wrote the registry URL's user info into the policy file."""
    registry = home.url.replace("http://", "http://ci:hunter2pass@")
    code = attest(
        root=str(tmp_path),
        env={"NPM_TOKEN": TOKEN},
        registry=registry,
        policy_path=None,
        token_env="NPM_TOKEN",
        days=90,
        write=True,
        out=io.StringIO(),
        err=io.StringIO(),
        today=datetime.date(2026, 3, 1),
    )
    assert code == 0
    policy = (tmp_path / ".npm-guard.yml").read_text()
    assert "hunter2pass" not in policy and f'registry: "{home.url}"' in policy
