"""The online audit against a real registry: Verdaccio, real `npm publish` and `npm owner`.

What Verdaccio records: maintainers (the first publisher, plus `npm owner add`), the
token owner's profile (`tfa: false`: Verdaccio has no 2FA), and a token list with
`readonly` and `cidr` (no `bypass_2fa`, no `expiry`). What it does not: `_npmUser`,
collaborators. The audit must say exactly that — verdicts where there is evidence,
`audit-incomplete` where there is none.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from verdaccio import Verdaccio

from npm_guard.audit.attest import attest
from npm_guard.audit.command import audit_repository
from npm_guard.audit.facts import AccessState, EvidenceKind, Verdict
from npm_guard.audit.run import AuditResult
from npm_guard.cli import main
from npm_guard.findings import Severity
from npm_guard.policy import PackagePolicy, Policy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verdaccio]:
    server = Verdaccio(tmp_path_factory.mktemp("verdaccio"))
    server.start()
    try:
        for user in ("alice", "bob", "carol"):
            server.add_user(user, f"{user}-password-1")
        server.publish("bob", "@acme/widget", "1.0.0")
        server.publish("bob", "@acme/widget", "1.1.0")
        server.owner_add("bob", "alice", "@acme/widget")
        server.publish("alice", "@acme/gadget", "0.1.0")
        server.publish("carol", "plain-pkg", "2.0.0")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def bob_write_token(registry: Verdaccio) -> str:
    return registry.create_token("bob", readonly=False, cidr=[])


@pytest.fixture(scope="session")
def alice_read_token(registry: Verdaccio) -> str:
    # Another user than bob: Verdaccio mints identical tokens for one user within a second.
    return registry.create_token("alice", readonly=True, cidr=["127.0.0.1/32"])


def audit(
    registry: Verdaccio, root: Path, token: str | None, *names: str, policy: Policy | None = None
) -> AuditResult:
    return audit_repository(
        str(root),
        policy or Policy(),
        {"NPM_TOKEN": token} if token else {},
        packages=names,
        registry=None if not names else registry.url,
    )


def messages(result: AuditResult, rule_id: str) -> list[str]:
    return [f.message for f in result.findings if f.rule_id == rule_id]


def test_maintainers_profile_and_a_read_write_token(
    registry: Verdaccio, bob_write_token: str, tmp_path: Path
) -> None:
    policy = Policy(packages=(PackagePolicy("@acme/*", maintainers=("bob",)),))
    result = audit(registry, tmp_path, bob_write_token, "@acme/widget", policy=policy)
    (package,) = result.facts.packages
    assert package.maintainers == ("bob", "alice")  # real npm publish + npm owner add
    verdicts = {a.name: (v, a.evidence.kind) for a, v in package.verdicts()}
    # Verdaccio says tfa: false, through a token its list shows without bypass_2fa: a
    # token of unknown type, so that answer is no evidence either way.
    assert verdicts == {
        "bob": (Verdict.UNVERIFIED, EvidenceKind.NONE),
        "alice": (Verdict.UNVERIFIED, EvidenceKind.NONE),
    }
    assert messages(result, "maintainer-not-allowed") == [
        "alice can publish @acme/widget (maintainer) but the policy allows only: bob"
    ]
    assert messages(result, "maintainer-2fa-disabled") == []
    bob = next(m for m in messages(result, "maintainer-2fa-unverified") if m.startswith("bob"))
    assert "bob's own profile" in bob and "reports 2FA disabled" in bob
    assert "does not say whether it bypasses 2FA" in bob
    (not_read_only,) = messages(result, "token-not-read-only")
    assert "the token list does not say whether it is stage-only" in not_read_only
    assert len(messages(result, "token-without-cidr")) == 1
    # The audit's own token needs read access only: these are errors (issue 17).
    severities = {
        f.rule_id: f.effective_severity for f in result.findings if f.rule_id.startswith("token-")
    }
    assert severities == {
        "token-not-read-only": Severity.ERROR,
        "token-without-cidr": Severity.ERROR,
    }
    incomplete = messages(result, "audit-incomplete")
    assert any("no bypass_2fa, expiry for this token" in m for m in incomplete)
    assert any("have no _npmUser" in m for m in incomplete)
    assert any("collaborators" in m and "HTTP 404" in m for m in incomplete)
    assert all(bob_write_token not in m for f in result.findings for m in (f.message,))


def test_publishing_access_and_version_status_are_unknown_never_a_failure(
    registry: Verdaccio, bob_write_token: str, tmp_path: Path
) -> None:
    """Verdaccio has neither endpoint: the audit is what it was without them."""
    result = audit(registry, tmp_path, bob_write_token, "@acme/widget")
    (package,) = result.facts.packages
    assert package.access is not None and package.access.state is AccessState.UNKNOWN
    assert "not found (HTTP 404)" in package.access.detail
    # bob's token may write, so the newest version's status is asked, and only that one.
    assert package.statuses is not None and [s.version for s in package.statuses] == ["1.1.0"]
    assert package.statuses[0].state is None and "HTTP 404" in package.statuses[0].reason
    assert not [f for f in result.findings if f.rule_id.startswith("publish-version-")]
    assert not [
        f for f in result.findings if f.rule_id == "audit-incomplete" and "/access" in f.message
    ]
    assert all(a.evidence.kind is not EvidenceKind.PACKAGE_SETTING for a in package.accounts)


def test_a_read_only_cidr_token_passes_those_checks(
    registry: Verdaccio, alice_read_token: str, tmp_path: Path
) -> None:
    result = audit(registry, tmp_path, alice_read_token, "@acme/gadget", "@acme/widget")
    token = result.facts.token
    assert token is not None and token.found
    assert (token.readonly, token.cidr) == (True, ("127.0.0.1/32",))
    ids = {f.rule_id for f in result.findings}
    assert not ids & {"token-not-read-only", "token-without-cidr"}
    # The token is alice's, but of unknown type (no bypass_2fa in the list): her profile's
    # tfa: false is no evidence in either package; bob has none at all.
    assert messages(result, "maintainer-2fa-disabled") == []
    unverified = sorted(messages(result, "maintainer-2fa-unverified"))
    assert [m.split(" and ")[0] for m in unverified] == [
        "alice can publish @acme/gadget (maintainer)",
        "alice can publish @acme/widget (maintainer)",
        "bob can publish @acme/widget (maintainer)",
    ]
    assert all("token of unknown type" in m for m in unverified[:2])
    assert unverified[2].endswith("and there is no evidence of their 2FA")


def test_a_login_token_is_not_in_the_token_list(registry: Verdaccio, tmp_path: Path) -> None:
    result = audit(registry, tmp_path, registry.tokens["carol"], "plain-pkg")
    gaps = messages(result, "audit-incomplete")
    assert any("not in the account's token list" in m for m in gaps)
    # A login (session) token: the profile read with it is evidence.
    verdicts = {a.name: (v, a.evidence.kind) for a, v in result.facts.packages[0].verdicts()}
    assert verdicts == {"carol": (Verdict.DISABLED, EvidenceKind.PROFILE)}


def test_the_repository_and_its_workspaces_from_npmrc(
    registry: Verdaccio, alice_read_token: str, tmp_path: Path
) -> None:
    (tmp_path / ".npmrc").write_text(f"registry={registry.url}\n")
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "root", "private": True, "workspaces": ["packages/*"]})
    )
    for directory, manifest in {
        "widget": {"name": "@acme/widget", "version": "1.1.0"},
        "gadget": {"name": "@acme/gadget", "version": "0.1.0"},
        "internal": {"name": "@acme/internal", "private": True},
    }.items():
        (tmp_path / "packages" / directory).mkdir(parents=True)
        (tmp_path / "packages" / directory / "package.json").write_text(
            json.dumps(manifest, indent=2) + "\n"
        )
    result = audit(registry, tmp_path, alice_read_token)
    assert sorted(p.name for p in result.facts.packages) == ["@acme/gadget", "@acme/widget"]
    per_package = [f for f in result.findings if "package" in f.properties]
    locations = {(f.properties["package"], f.location.path, f.location.line) for f in per_package}
    assert locations == {
        ("@acme/widget", "packages/widget/package.json", 2),  # the line of "name"
        ("@acme/gadget", "packages/gadget/package.json", 2),
    }


def test_unknown_package_is_incomplete(registry: Verdaccio, tmp_path: Path) -> None:
    result = audit(registry, tmp_path, None, "@acme/never-published")
    ((rule, severity, message),) = [
        (f.rule_id, f.effective_severity, f.message) for f in result.findings
    ]
    assert (rule, severity) == ("audit-incomplete", Severity.ERROR)
    assert "HTTP 404" in message


def test_cli_sarif_against_verdaccio(
    registry: Verdaccio,
    bob_write_token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", bob_write_token)
    code = main(["audit", "--registry", registry.url, "--format", "sarif", "@acme/widget"])
    out = capsys.readouterr().out
    assert code == 0 and bob_write_token not in out
    results = json.loads(out)["runs"][0]["results"]
    subjects = {
        (r["ruleId"], r["properties"]["subject"]) for r in results if "subject" in r["properties"]
    }
    assert ("maintainer-2fa-unverified", "maintainer bob") in subjects
    assert all(r["properties"].get("package") in (None, "@acme/widget") for r in results)


def test_attest_refuses_without_2fa(registry: Verdaccio, tmp_path: Path) -> None:
    err = io.StringIO()
    code = attest(
        root=str(tmp_path),
        env={"NPM_CONFIG_USERCONFIG": str(registry.userconfig("alice"))},
        registry=registry.url,
        policy_path=None,
        token_env=None,
        days=90,
        write=True,
        out=io.StringIO(),
        err=err,
    )
    assert code == 1
    assert "refusing to attest: 2FA is disabled on alice" in err.getvalue()
    assert not (tmp_path / ".npm-guard.yml").exists()


def test_the_audit_benchmark_asserts_one_request_per_resource() -> None:
    """docs/audit.md quotes the benchmark's request counts; a small run checks them."""
    import subprocess
    import sys

    bench = Path(__file__).resolve().parent.parent / "bench" / "audit_bench.py"
    proc = subprocess.run(
        [sys.executable, str(bench), "--packages", "3", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    # 3 per package, the profile and the token list: 3 pages on the fake, 1 on Verdaccio.
    assert "fake npmjs:  3 packages, 13 requests per audit" in proc.stdout
    assert "fake npmjs, npm-guard audit:  3 packages, 13 requests per audit" in proc.stdout
    assert "Verdaccio:   3 packages, 11 requests per audit" in proc.stdout
