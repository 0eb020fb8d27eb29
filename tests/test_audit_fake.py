"""The online audit against a fake npmjs: 2FA evidence, publishers, provenance, the token.

Each scenario starts from a healthy package and changes one thing, so each test shows
which registry fact turns into which finding (and which ones must not appear).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fake_registry import (
    FakeRegistry,
    Reply,
    json_reply,
    npm_token,
    packument_doc,
    profile_doc,
    token_entry,
    version_doc,
)

from npm_guard.audit.command import audit_repository
from npm_guard.audit.facts import EvidenceKind, TokenKind, Verdict
from npm_guard.audit.run import AuditResult
from npm_guard.audit.table import render_markdown_tables, render_text_tables
from npm_guard.cli import main
from npm_guard.findings import Confidence, Location, Severity
from npm_guard.policy import (
    Attestation,
    AuditSettings,
    PackagePolicy,
    Policy,
    TokenSpec,
    TrustedPublisher,
)

TODAY = datetime.date(2026, 3, 1)
NOW = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.timezone.utc)
TOKEN = npm_token("AuditTokenForTheFakeRegistry42")
OTHER = npm_token("SomeOtherTokenOfTheSameUser77")
PKG = "@acme/widget"
PKG_PATH = "/@acme%2fwidget"


def healthy(fake: FakeRegistry, *, versions: Sequence[dict[str, Any]] | None = None) -> None:
    """alice maintains @acme/widget, publishes through GitHub OIDC with provenance."""
    fake.packument(
        packument_doc(
            PKG,
            ["alice"],
            versions
            or [
                version_doc(PKG, "1.0.0", trusted="github", provenance=True),
                version_doc(PKG, "1.1.0", trusted="github", provenance=True),
            ],
        )
    )
    fake.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
    fake.collaborators(PKG, {"alice": "write", "reader": "read"})
    fake.token_pages(
        [
            token_entry(OTHER, key="11111111-0000-4000-8000-000000000001", readonly=False),
            token_entry(TOKEN, key="22222222-0000-4000-8000-000000000002"),
        ]
    )


def strict_policy(**package: Any) -> Policy:
    entry = dict(
        pattern="@acme/*",
        maintainers=("alice",),
        trusted=TrustedPublisher("acme/widget", "release.yml"),
        accounts=None,
        provenance="required",
        line=7,
    )
    entry.update(package)
    return Policy(
        path="/repo/.npm-guard.yml",
        packages=(PackagePolicy(**entry),),
        tokens={"NPM_TOKEN": TokenSpec("NPM_TOKEN", "read-only", ("192.0.2.0/16",), 30, line=3)},
    )


def run(
    fake: FakeRegistry,
    tmp_path: Path,
    policy: Policy | None = None,
    names: Sequence[str] = (PKG,),
    token: str | None = TOKEN,
) -> AuditResult:
    env = {"NPM_TOKEN": token} if token else {}
    return audit_repository(
        str(tmp_path),
        policy or Policy(),
        env,
        packages=names,
        registry=fake.url,
        today=TODAY,
        now=NOW,
        client_options={"sleep": lambda _s: None},
    )


def rule_ids(result: AuditResult) -> list[str]:
    return sorted(f.rule_id for f in result.findings)


def only(result: AuditResult, rule_id: str) -> Any:
    found = [f for f in result.findings if f.rule_id == rule_id]
    assert len(found) == 1, [(f.rule_id, f.message) for f in result.findings]
    return found[0]


def test_healthy_package_has_no_findings(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    result = run(fake, tmp_path, strict_policy())
    assert result.findings == []
    (package,) = result.facts.packages
    ((account, verdict),) = package.verdicts()
    assert (account.name, verdict) == ("alice", Verdict.PASS)
    assert account.evidence.kind is EvidenceKind.PROFILE
    assert account.roles == ("maintainer", "collaborator (write)")
    token = result.facts.token
    assert token is not None and token.found and token.readonly is True
    assert token.redacted == f"{TOKEN[:8]}…{TOKEN[-4:]}"
    text = render_text_tables(result.facts)
    assert "alice" in text and "own profile" in text and "auth-and-writes" in text
    assert TOKEN not in text


def test_each_resource_is_fetched_once_and_the_token_only_goes_to_its_registry(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    healthy(fake)
    run(fake, tmp_path, strict_policy(), names=[PKG, PKG, PKG])
    paths = [r.path for r in fake.requests]
    # The token is read-only: no version status (it needs publish access).
    assert sorted(paths) == sorted(
        {
            PKG_PATH,
            "/-/npm/v1/user",
            "/-/npm/v1/tokens",
            "/-/package/@acme%2fwidget/collaborators",
            "/-/package/@acme%2fwidget/access",
        }
    )
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake.requests)
    assert all("npm_" not in r.path for r in fake.requests)


def test_scoped_names_go_out_as_npm_escapes_them(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    run(fake, tmp_path)
    # The raw request targets: `%2f` in lower case, as npm's escapedName, never `%2F`.
    assert {r.path for r in fake.requests if "acme" in r.path} == {
        "/@acme%2fwidget",
        "/-/package/@acme%2fwidget/collaborators",
        "/-/package/@acme%2fwidget/access",
    }


def test_https_connections_send_npms_escapes_too() -> None:
    from npm_guard.audit.client import _NpmHTTPSConnection

    connection = _NpmHTTPSConnection("registry.invalid")  # nothing is sent until send()
    connection.putrequest("GET", "/@acme%2Fwidget")
    assert connection._buffer[0] == b"GET /@acme%2fwidget HTTP/1.1"  # type: ignore[attr-defined]


def test_full_packument_is_requested(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    run(fake, tmp_path)
    (request,) = fake.hits(PKG_PATH)
    assert request.headers["accept"] == "application/json"


def test_stranger_maintainer(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    fake.packument(
        packument_doc(
            PKG,
            ["alice", "mallory"],
            [version_doc(PKG, "1.0.0", trusted="github", provenance=True)],
        )
    )
    result = run(fake, tmp_path, strict_policy())
    finding = only(result, "maintainer-not-allowed")
    assert "mallory" in finding.message and finding.properties["package"] == PKG
    assert finding.properties["subject"] == "maintainer mallory"
    assert rule_ids(result) == ["maintainer-2fa-unverified", "maintainer-not-allowed"]


def test_write_collaborator_counts_as_publishing(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    fake.collaborators(PKG, {"alice": "write", "ci-bot": "write", "reader": "read"})
    result = run(fake, tmp_path, strict_policy())
    finding = only(result, "maintainer-not-allowed")
    assert "ci-bot" in finding.message and "collaborator (write)" in finding.message
    names = [a.name for a in result.facts.packages[0].accounts]
    assert "reader" not in names


def test_trust_downgrade_after_trusted_publishing(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(
        fake,
        versions=[
            version_doc(PKG, "1.0.0", trusted="github", provenance=True),
            version_doc(PKG, "1.1.0", trusted="github", provenance=True),
            version_doc(PKG, "1.1.1", publisher="alice"),
        ],
    )
    result = run(fake, tmp_path, strict_policy())
    downgrade = only(result, "publish-trust-downgrade")
    assert downgrade.properties["subject"] == "version 1.1.1"
    assert "1.1.0 came with trusted publishing" in downgrade.message
    assert only(result, "publisher-unexpected").properties["publisher"] == "alice"
    assert only(result, "publish-provenance-missing").properties["version"] == "1.1.1"


def test_no_downgrade_when_trust_only_rises(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(
        fake,
        versions=[
            version_doc(PKG, "1.0.0", publisher="alice"),
            version_doc(PKG, "1.1.0", publisher="alice", provenance=True),
            version_doc(PKG, "2.0.0", trusted="github", provenance=True),
        ],
    )
    result = run(fake, tmp_path)
    assert "publish-trust-downgrade" not in rule_ids(result)


def test_provenance_missing(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake, versions=[version_doc(PKG, "1.0.0", publisher="alice")])
    policy = strict_policy(trusted=None, accounts=("alice",))
    result = run(fake, tmp_path, policy)
    assert rule_ids(result) == ["publish-provenance-missing"]
    relaxed = strict_policy(trusted=None, accounts=("alice",), provenance="optional")
    assert run(fake, tmp_path, relaxed).findings == []


def test_trusted_publish_unexpected_when_the_policy_names_accounts_only(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    healthy(fake)
    result = run(fake, tmp_path, strict_policy(trusted=None, accounts=("alice",)))
    assert [f.properties["subject"] for f in result.findings] == ["version 1.0.0", "version 1.1.0"]
    assert {f.rule_id for f in result.findings} == {"publisher-unexpected"}


@pytest.mark.parametrize(
    ("tfa", "rule_id", "words"),
    [
        ({"pending": False, "mode": "auth-only"}, "maintainer-2fa-auth-only", "auth-only mode"),
        (False, "maintainer-2fa-disabled", "has 2FA disabled"),
        (None, "maintainer-2fa-disabled", "has 2FA disabled"),
        ({"pending": True, "mode": "auth-and-writes"}, "maintainer-2fa-disabled", "never finished"),
    ],
)
def test_token_owner_profile_is_verified_evidence(
    fake: FakeRegistry, tmp_path: Path, tfa: object, rule_id: str, words: str
) -> None:
    healthy(fake)
    fake.profile(profile_doc("alice", tfa))
    result = run(fake, tmp_path, strict_policy())
    finding = only(result, rule_id)
    assert words in finding.message and "alice's own profile" in finding.message
    assert finding.properties["evidence"] == "own profile"
    assert finding.effective_severity is Severity.ERROR
    assert rule_ids(result) == [rule_id]


def test_auth_only_passes_when_the_policy_asks_for_auth_only(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    healthy(fake)
    fake.profile(profile_doc("alice", {"pending": False, "mode": "auth-only"}))
    policy = strict_policy()
    policy = Policy(**{**policy.__dict__, "audit": AuditSettings(require_2fa="auth-only")})
    assert run(fake, tmp_path, policy).findings == []


def test_unverified_maintainer_and_policy_severity(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    fake.packument(
        packument_doc(
            PKG, ["alice", "bob"], [version_doc(PKG, "1.0.0", trusted="github", provenance=True)]
        )
    )
    finding = only(run(fake, tmp_path), "maintainer-2fa-unverified")
    assert "bob" in finding.message and finding.effective_severity is Severity.WARNING
    strict = Policy(audit=AuditSettings(unverified_2fa=Severity.ERROR))
    finding = only(run(fake, tmp_path, strict), "maintainer-2fa-unverified")
    assert finding.effective_severity is Severity.ERROR


def test_self_attestation_counts_until_it_expires(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    fake.packument(
        packument_doc(
            PKG, ["alice", "bob"], [version_doc(PKG, "1.0.0", trusted="github", provenance=True)]
        )
    )
    valid = Attestation(
        "bob",
        "auth-and-writes",
        datetime.date(2026, 2, 1),
        datetime.date(2026, 5, 1),
        registry=fake.url,
    )
    result = run(fake, tmp_path, Policy(attestations=(valid,)))
    assert result.findings == []
    bob = next(a for a in result.facts.packages[0].accounts if a.name == "bob")
    assert bob.evidence.kind is EvidenceKind.ATTESTATION
    assert "self-attested" in render_text_tables(result.facts)

    expired = Attestation(
        "bob",
        "auth-and-writes",
        datetime.date(2025, 11, 1),
        datetime.date(2026, 2, 1),
        registry=fake.url,
    )
    finding = only(
        run(fake, tmp_path, Policy(attestations=(expired,))), "maintainer-2fa-unverified"
    )
    assert "expired on 2026-02-01" in finding.message


@pytest.fixture
def two_registries(tmp_path: Path) -> Iterator[tuple[FakeRegistry, FakeRegistry]]:
    """A repository whose default registry is `home`; @acme/gadget publishes to `other`.

    alice maintains a package on each, and the token is alice's on `home`: on `other`,
    "alice" is another account, whatever its name.
    """
    with FakeRegistry() as home, FakeRegistry() as other:
        (tmp_path / ".npmrc").write_text(f"registry={home.url}\n")
        (tmp_path / "package.json").write_text(
            json.dumps({"name": "root", "private": True, "workspaces": ["packages/*"]})
        )
        for folder, manifest in {
            "a": {"name": "pkg-a"},
            "b": {"name": "@acme/gadget", "publishConfig": {"registry": other.url}},
        }.items():
            (tmp_path / "packages" / folder).mkdir(parents=True)
            (tmp_path / "packages" / folder / "package.json").write_text(json.dumps(manifest))
        for registry, name in ((home, "pkg-a"), (other, "@acme/gadget")):
            registry.packument(
                packument_doc(
                    name, ["alice", "bob"], [version_doc(name, "1.0.0", trusted="github")]
                )
            )
        home.collaborators("pkg-a", {"alice": "write"})
        home.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
        home.token_pages([token_entry(TOKEN, key="22222222-0000-4000-8000-000000000002")])
        yield home, other


def _verdicts(result: AuditResult) -> dict[tuple[str, str], tuple[Verdict, EvidenceKind]]:
    return {
        (package.name, account.name): (verdict, account.evidence.kind)
        for package in result.facts.packages
        for account, verdict in package.verdicts()
    }


def test_the_token_owners_profile_counts_on_its_own_registry_only(
    two_registries: tuple[FakeRegistry, FakeRegistry], tmp_path: Path
) -> None:
    result = audit_repository(str(tmp_path), Policy(), {"NPM_TOKEN": TOKEN}, today=TODAY, now=NOW)
    verdicts = _verdicts(result)
    assert verdicts[("pkg-a", "alice")] == (Verdict.PASS, EvidenceKind.PROFILE)
    assert verdicts[("@acme/gadget", "alice")] == (Verdict.UNVERIFIED, EvidenceKind.NONE)
    unverified = {
        (f.properties["package"], f.properties["subject"])
        for f in result.findings
        if f.rule_id == "maintainer-2fa-unverified"
    }
    assert unverified == {
        ("pkg-a", "maintainer bob"),
        ("@acme/gadget", "maintainer alice"),
        ("@acme/gadget", "maintainer bob"),
    }


def test_an_attestation_counts_on_its_registry_else_on_the_default_one(
    two_registries: tuple[FakeRegistry, FakeRegistry], tmp_path: Path
) -> None:
    home, other = two_registries
    dates = (datetime.date(2026, 2, 1), datetime.date(2026, 5, 1))

    def bob(*attestations: Attestation) -> dict[str, Verdict]:
        policy = Policy(attestations=attestations)
        result = audit_repository(str(tmp_path), policy, {"NPM_TOKEN": TOKEN}, today=TODAY, now=NOW)
        return {p: v for (p, name), (v, _) in _verdicts(result).items() if name == "bob"}

    unbound = Attestation("bob", "auth-and-writes", *dates)
    assert bob(unbound) == {"pkg-a": Verdict.PASS, "@acme/gadget": Verdict.UNVERIFIED}
    on_other = Attestation("bob", "auth-and-writes", *dates, registry=other.url.rstrip("/"))
    assert bob(on_other) == {"pkg-a": Verdict.UNVERIFIED, "@acme/gadget": Verdict.PASS}
    on_home = Attestation("bob", "auth-only", *dates, registry=home.url.upper())
    assert bob(on_home) == {"pkg-a": Verdict.AUTH_ONLY, "@acme/gadget": Verdict.UNVERIFIED}


def test_staged_publish_approval_proves_2fa_but_not_its_mode(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    healthy(
        fake,
        versions=[version_doc(PKG, "1.0.0", trusted="github", provenance=True, approver="carol")],
    )
    fake.packument(
        packument_doc(
            PKG,
            ["alice", "carol"],
            [version_doc(PKG, "1.0.0", trusted="github", provenance=True, approver="carol")],
        )
    )
    result = run(fake, tmp_path)
    finding = only(result, "maintainer-2fa-unverified")
    assert finding.effective_severity is Severity.NOTE
    assert "2FA is proven" in finding.message and "1.0.0" in finding.message
    verdicts = dict((a.name, v) for a, v in result.facts.packages[0].verdicts())
    assert verdicts["carol"] is Verdict.PROVEN_MODE_UNKNOWN
    assert "2FA proven, mode unknown" in render_markdown_tables(result.facts)


def test_recent_publisher_is_a_publishing_account(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(
        fake,
        versions=[
            version_doc(PKG, "1.0.0", publisher="alice"),
            version_doc(PKG, "1.0.1", publisher="dave"),
        ],
    )
    result = run(fake, tmp_path)
    dave = next(a for a in result.facts.packages[0].accounts if a.name == "dave")
    assert dave.roles == ("published 1.0.1",)
    assert only(result, "maintainer-2fa-unverified").properties["subject"] == "maintainer dave"


def test_token_read_write_without_cidr_bypassing_2fa_for_a_year(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    healthy(fake)
    fake.token_pages(
        [
            token_entry(
                TOKEN,
                key="22222222-0000-4000-8000-000000000002",
                readonly=False,
                cidr=None,
                bypass_2fa=True,
                expiry_days=365,
                cidr_field="cidr_whitelist",
            )
        ]
    )
    policy = Policy(**{**strict_policy().__dict__, "path": str(tmp_path / ".npm-guard.yml")})
    result = run(fake, tmp_path, policy)
    assert rule_ids(result) == [
        "token-bypasses-2fa",
        "token-expiry-too-long",
        "token-not-read-only",
        "token-without-cidr",
    ]
    for finding in result.findings:
        # The policy's tokens: entry for NPM_TOKEN, relative to the repository root.
        assert finding.location == Location(".npm-guard.yml", 3)
        assert TOKEN not in finding.message and f"{TOKEN[:8]}…{TOKEN[-4:]}" in finding.message
    assert "the policy's limit is 30 days" in only(result, "token-expiry-too-long").message


def test_token_profile_through_a_bypass_token_is_not_evidence(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    healthy(fake)
    fake.profile(profile_doc("alice", False))
    fake.token_pages(
        [token_entry(TOKEN, key="22222222-0000-4000-8000-000000000002", bypass_2fa=True)]
    )
    result = run(fake, tmp_path)
    assert "maintainer-2fa-disabled" not in rule_ids(result)
    assert "maintainer-2fa-unverified" in rule_ids(result)
    gap = next(f for f in result.findings if f.rule_id == "audit-incomplete")
    assert "bypasses 2FA" in gap.message


def test_tfa_false_through_a_token_of_unknown_type_is_unverified(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    # A granular token may not list tokens (npm: session tokens only), so its type and
    # bypass flag are unknown, and npm may answer it with tfa: false whatever alice has.
    healthy(fake)
    fake.profile(profile_doc("alice", False))
    fake.reply("/-/npm/v1/tokens", json_reply({"error": "requires a session token"}, 403))
    result = run(fake, tmp_path)
    assert rule_ids(result) == ["audit-incomplete", "maintainer-2fa-unverified"]
    finding = only(result, "maintainer-2fa-unverified")
    assert finding.properties["subject"] == "maintainer alice"
    assert finding.effective_severity is Severity.WARNING
    assert "alice's own profile" in finding.message and "reports 2FA disabled" in finding.message
    assert "token of unknown type" in finding.message and "session token" in finding.message
    (account,) = result.facts.packages[0].accounts
    assert account.evidence.kind is EvidenceKind.NONE
    assert "token of unknown type" in render_text_tables(result.facts)


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        ([{"bypass_2fa": None}], "does not say whether it bypasses 2FA"),  # field absent
        ([{}, {"key": "33333333-0000-4000-8000-000000000003"}], "did not say which token"),
    ],
)
def test_tfa_false_through_a_listed_token_of_unknown_kind_is_unverified(
    fake: FakeRegistry, tmp_path: Path, entries: list[dict[str, Any]], words: str
) -> None:
    healthy(fake)
    fake.profile(profile_doc("alice", False))
    listed = []
    for change in entries:
        entry = token_entry(TOKEN, key="22222222-0000-4000-8000-000000000002")
        entry.update(change)
        if entry.get("bypass_2fa") is None:
            del entry["bypass_2fa"]
        listed.append(entry)
    fake.token_pages(listed)
    result = run(fake, tmp_path)
    assert "maintainer-2fa-disabled" not in rule_ids(result)
    assert words in only(result, "maintainer-2fa-unverified").message


def test_tfa_false_through_a_session_token_is_disabled(fake: FakeRegistry, tmp_path: Path) -> None:
    # npm lists granular tokens only: a token missing from a list that was read is
    # npm login's session token, and through it the profile is reliable.
    healthy(fake)
    fake.profile(profile_doc("alice", False))
    fake.token_pages([token_entry(OTHER, key="11111111-0000-4000-8000-000000000001")])
    result = run(fake, tmp_path)
    assert result.facts.token is not None and result.facts.token.kind is TokenKind.SESSION
    finding = only(result, "maintainer-2fa-disabled")
    assert finding.effective_confidence is Confidence.HIGH
    assert finding.properties["evidence"] == "own profile"


def test_an_attestation_outranks_a_profile_read_with_a_token_of_unknown_type(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    healthy(fake)
    fake.profile(profile_doc("alice", False))
    fake.reply("/-/npm/v1/tokens", json_reply({"error": "requires a session token"}, 403))
    attestation = Attestation(
        "alice",
        "auth-and-writes",
        datetime.date(2026, 2, 1),
        datetime.date(2026, 5, 1),
        0,
        fake.url,
    )
    result = run(fake, tmp_path, Policy(attestations=(attestation,)))
    assert rule_ids(result) == ["audit-incomplete"]  # the token list; alice passes
    (account,) = result.facts.packages[0].accounts
    assert account.evidence.kind is EvidenceKind.ATTESTATION


def test_token_cidr_wider_than_declared(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    fake.token_pages(
        [token_entry(TOKEN, key="22222222-0000-4000-8000-000000000002", cidr=["0.0.0.0/0"])]
    )
    finding = only(run(fake, tmp_path, strict_policy()), "token-without-cidr")
    assert "0.0.0.0/0" in finding.message and "192.0.2.0/16" in finding.message


def test_paginated_token_list_is_followed_once_per_page(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    entries = [
        token_entry(
            npm_token(f"Filler{i:02d}TokenNumber"), key=f"{i:08d}-0000-4000-8000-000000000000"
        )
        for i in range(23)
    ]
    entries.append(token_entry(TOKEN, key="22222222-0000-4000-8000-000000000002", readonly=False))
    fake.token_pages(entries, per_page=10)
    result = run(fake, tmp_path)
    assert "token-not-read-only" in rule_ids(result)
    pages = [r.path for r in fake.requests if r.path.startswith("/-/npm/v1/tokens")]
    assert pages == ["/-/npm/v1/tokens", "/-/npm/v1/tokens?page=1", "/-/npm/v1/tokens?page=2"]


def test_refused_token_listing_is_incomplete_not_guessed(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    healthy(fake)
    fake.reply("/-/npm/v1/tokens", json_reply({"error": "granular tokens cannot list tokens"}, 403))
    result = run(fake, tmp_path)
    finding = only(result, "audit-incomplete")
    assert "GET " in finding.message and "/-/npm/v1/tokens" in finding.message
    assert "refused to list tokens" in finding.message
    assert finding.effective_severity is Severity.ERROR
    assert not any(f.rule_id.startswith("token-") for f in result.findings)


def test_token_not_in_the_list(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    fake.token_pages([token_entry(OTHER, key="11111111-0000-4000-8000-000000000001")])
    finding = only(run(fake, tmp_path), "audit-incomplete")
    assert "not in the account's token list (1 entry checked)" in finding.message


def test_token_not_in_a_list_of_two(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    fake.token_pages(
        [
            token_entry(OTHER, key="11111111-0000-4000-8000-000000000001"),
            token_entry(OTHER, key="11111111-0000-4000-8000-000000000002"),
        ]
    )
    finding = only(run(fake, tmp_path), "audit-incomplete")
    assert "not in the account's token list (2 entries checked)" in finding.message


def test_collaborators_refused_is_a_warning(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    fake.reply("/-/package/@acme%2fwidget/collaborators", json_reply({"error": "forbidden"}, 403))
    finding = only(run(fake, tmp_path), "audit-incomplete")
    assert finding.effective_severity is Severity.WARNING
    assert "collaborators" in finding.message and "HTTP 403" in finding.message


def test_without_a_token_public_data_only(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    result = run(fake, tmp_path, token=None)
    assert [r.path for r in fake.requests] == [PKG_PATH]
    assert fake.authorized() == []
    assert any("no token" in n for n in result.notices)
    assert only(result, "maintainer-2fa-unverified").properties["subject"] == "maintainer alice"


def test_unknown_package_is_incomplete(fake: FakeRegistry, tmp_path: Path) -> None:
    healthy(fake)
    result = run(fake, tmp_path, names=["@acme/missing"])
    finding = only(result, "audit-incomplete")
    assert "@acme%2fmissing" in finding.message and "HTTP 404" in finding.message
    assert finding.properties["package"] == "@acme/missing"


def test_findings_without_a_manifest_or_policy_point_at_a_file_that_exists(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    healthy(fake)
    fake.token_pages([token_entry(TOKEN, key="k1", readonly=False)])
    # No package.json, no policy file: the repository root itself.
    result = run(fake, tmp_path)
    assert {f.rule_id for f in result.findings} >= {"token-not-read-only"}
    assert {f.location for f in result.findings} == {Location(".")}
    # A package.json that does not declare the package: that file, which exists.
    (tmp_path / "package.json").write_text('{"name": "something-else"}\n')
    assert {f.location for f in run(fake, tmp_path).findings} == {Location("package.json")}
    # A policy file: the package's entry there, or the file.
    policy = Policy(path=str(tmp_path / ".npm-guard.yml"))
    assert {f.location for f in run(fake, tmp_path, policy).findings} == {
        Location(".npm-guard.yml")
    }


@pytest.mark.slow
def test_sarif_for_the_repository_root_location_is_valid(
    fake: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from jsonschema import Draft202012Validator
    from test_sarif import SARIF_SCHEMA, multitool_problems

    healthy(fake)
    fake.packument(packument_doc(PKG, ["alice", "mallory"], [version_doc(PKG, "1.0.0")]))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    main(["audit", "--registry", fake.url, "--format", "sarif", PKG])
    log = json.loads(capsys.readouterr().out)
    results = log["runs"][0]["results"]
    assert results
    assert {
        json.dumps(r["locations"][0]["physicalLocation"]["artifactLocation"]) for r in results
    } == {json.dumps({"uri": ".", "uriBaseId": "%SRCROOT%"})}
    Draft202012Validator(json.loads(SARIF_SCHEMA.read_text("utf-8-sig"))).validate(log)
    path = tmp_path / "audit.sarif"
    path.write_text(json.dumps(log), "utf-8")
    problems = multitool_problems(path, tmp_path)
    assert [p for p in problems if p[0] in ("error", "warning")] == []


def test_cli_json_and_sarif_carry_package_and_subject(
    fake: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from jsonschema import Draft202012Validator

    healthy(fake)
    fake.packument(
        packument_doc(PKG, ["alice", "mallory"], [version_doc(PKG, "1.0.0", trusted="github")])
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    code = main(["audit", "--registry", fake.url, "--format", "json", PKG])
    out = capsys.readouterr().out
    assert code == 0  # only a warning: unverified mallory
    report = json.loads(out)
    schema = json.loads(
        (Path(__file__).parent.parent / "npm_guard/schemas/report.schema.json").read_text()
    )
    Draft202012Validator(schema).validate(report)
    (finding,) = report["findings"]
    assert finding["properties"]["package"] == PKG
    assert finding["properties"]["subject"] == "maintainer mallory"
    assert TOKEN not in out

    code = main(["audit", "--registry", fake.url, "--format", "sarif", "--fail-on", "warning", PKG])
    sarif = json.loads(capsys.readouterr().out)
    assert code == 1
    (result,) = sarif["runs"][0]["results"]
    assert result["properties"]["package"] == PKG
    assert result["properties"]["subject"] == "maintainer mallory"
    rule_ids_listed = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert "maintainer-2fa-unverified" in rule_ids_listed


def test_cli_output_file_is_announced_on_stderr(
    fake: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    healthy(fake)
    fake.packument(
        packument_doc(PKG, ["alice", "mallory"], [version_doc(PKG, "1.0.0", trusted="github")])
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    assert main(["audit", "--registry", fake.url, "--format", "sarif", "-o", "a.sarif", PKG]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.endswith(
        "npm-guard: wrote the sarif report (1 finding: 1 warning) to a.sarif\n"
    )
    assert json.loads((tmp_path / "a.sarif").read_text())["runs"][0]["results"]


def report_schema_validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(
        (Path(__file__).parent.parent / "npm_guard/schemas/report.schema.json").read_text()
    )
    return Draft202012Validator(schema)


def test_token_and_run_wide_findings_name_the_packages_the_token_served(
    two_registries: tuple[FakeRegistry, FakeRegistry],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home, _ = two_registries
    home.token_pages([token_entry(TOKEN, key="k1", readonly=False, cidr=None)])
    home.reply("/-/npm/v1/user", json_reply({"error": "forbidden"}, 403))  # not retried
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    main(["audit", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    report_schema_validator().validate(report)
    by_rule = {
        f["rule"]: f["properties"] for f in report["findings"] if "package" not in f["properties"]
    }
    # Only pkg-a is on the token's registry; @acme/gadget went elsewhere without it.
    for rule_id in ("token-not-read-only", "token-without-cidr"):
        assert by_rule[rule_id] == {
            "subject": f"token NPM_TOKEN ({TOKEN[:8]}…{TOKEN[-4:]})",
            "registry": home.url,
            "packages": "pkg-a",
        }
    assert by_rule["audit-incomplete"] == {
        "subject": "token owner's profile",
        "registry": home.url,
        "packages": "pkg-a",
    }


def test_json_shows_passing_and_self_attested_accounts_in_the_audit_section(
    fake: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    healthy(fake)
    fake.packument(
        packument_doc(
            PKG, ["alice", "bob"], [version_doc(PKG, "1.0.0", trusted="github", provenance=True)]
        )
    )
    (tmp_path / ".npm-guard.yml").write_text(
        "version: 1\nattestations:\n"
        f"  - {{maintainer: bob, mode: auth-and-writes, date: '2026-02-01', "
        f"expires: '2099-01-01', registry: '{fake.url}'}}\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    assert main(["audit", "--registry", fake.url, "--format", "json", PKG]) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    report_schema_validator().validate(report)
    assert report["findings"] == []  # nothing failed, and yet:
    (package,) = report["audit"]["packages"]
    assert (package["name"], package["registry"], package["require2fa"]) == (
        PKG,
        fake.url,
        "auth-and-writes",
    )
    assert package["collaboratorsChecked"] is True and package["maintainersKnown"] is True
    accounts = {a["name"]: a for a in package["accounts"]}
    assert {k: accounts["alice"][k] for k in ("evidence", "selfAttested", "mode", "verdict")} == {
        "evidence": "own profile",
        "selfAttested": False,
        "mode": "auth-and-writes",
        "verdict": "pass",
    }
    assert {k: accounts["bob"][k] for k in ("evidence", "selfAttested", "mode", "verdict")} == {
        "evidence": "self-attested",
        "selfAttested": True,
        "mode": "auth-and-writes",
        "verdict": "pass",
    }
    assert accounts["alice"]["canPublish"] == ["maintainer", "collaborator (write)"]
    token = report["audit"]["token"]
    assert token["token"] == f"{TOKEN[:8]}…{TOKEN[-4:]}" and token["kind"] == "granular"
    assert (token["readOnly"], token["cidr"], token["bypass2fa"]) == (True, ["192.0.2.0/24"], False)
    assert TOKEN not in out


def test_the_report_schema_says_which_findings_name_a_package() -> None:
    validator = report_schema_validator()
    finding = {
        "rule": "token-not-read-only",
        "severity": "warning",
        "confidence": "high",
        "message": "m",
        "tip": "t",
        "docs": "https://example.com/",
        "location": {"path": ".npm-guard.yml", "line": 1, "column": 1},
        "fingerprint": "0" * 32,
        "properties": {"subject": "token NPM_TOKEN", "registry": "https://r/", "packages": "a, b"},
    }
    report = {
        "version": 1,
        "tool": {"name": "npm-guard", "version": "0"},
        "summary": {
            "filesScanned": 0,
            "findings": 1,
            "bySeverity": {"error": 0, "warning": 1, "note": 0},
        },
        "findings": [finding],
    }
    validator.validate(report)
    finding["properties"] = {**finding["properties"], "package": "a"}
    assert not validator.is_valid(report)  # a token finding is about no one package
    finding["rule"] = "maintainer-2fa-disabled"
    finding["properties"] = {"subject": "maintainer alice", "registry": "https://r/"}
    assert not validator.is_valid(report)  # a maintainer finding must name its package


def test_cli_text_shows_tables_and_github_summary(
    fake: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    healthy(fake)
    fake.profile(profile_doc("alice", False))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["audit", "--registry", fake.url, PKG]) == 1
    text = capsys.readouterr().out
    assert "maintainer  can publish" in text and "disabled" in text
    assert "[maintainer-2fa-disabled]" in text and "1 package audited" in text
    assert main(["audit", "--registry", fake.url, "--format", "github", PKG]) == 1
    annotations = capsys.readouterr().out
    assert "::error" in annotations and "maintainer-2fa-disabled" in annotations
    assert annotations.endswith("npm-guard: 1 finding (1 error; 1 package audited)\n")
    assert "files scanned" not in annotations
    markdown = summary.read_text()
    assert "| maintainer | can publish | evidence | mode | verdict |" in markdown
    assert "| alice |" in markdown and TOKEN not in markdown + annotations + text
    assert "(1 package audited;" in markdown and "files scanned" not in markdown


def test_cli_refuses_plain_http_token_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    code = main(["audit", "--registry", "http://registry.example.com/", "left-pad"])
    err = capsys.readouterr().err
    assert code == 2 and "plain http" in err and TOKEN not in err


def test_a_password_in_the_registry_url_is_never_shown(
    fake: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--registry https://user:password@host/`: messages name the endpoint, not the password.

    The packument is refused (403), so audit-incomplete quotes the request URL in every
    format.
    """
    healthy(fake)
    fake.reply(PKG_PATH, Reply(403))
    password = "Registry-Pw-7Qx2Lm9Vt4"
    registry = fake.url.replace("http://", f"http://deploy:{password}@")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    summary = tmp_path / "summary.md"
    outputs = []
    for form in ("text", "json", "sarif", "github"):
        code = main(
            ["audit", "--registry", registry, "--format", form, "--summary", str(summary), PKG]
        )
        out, err = capsys.readouterr()
        assert code == (0 if form == "sarif" else 1), err  # SARIF exits 0 unless --fail-on
        outputs += [out, err]
    assert "audit-incomplete" in outputs[0] and "deploy:***@" in "".join(outputs)
    everything = "".join(outputs) + summary.read_text()
    assert password not in everything
    assert TOKEN not in everything


@pytest.mark.parametrize(
    ("publishers", "severity"),
    [
        ({}, Severity.WARNING),
        ({"trusted": TrustedPublisher("acme/widget", "release.yml")}, Severity.ERROR),
        ({"accounts": ("alice",)}, Severity.ERROR),
    ],
    ids=["no-publishers", "trusted", "accounts"],
)
def test_versions_without_a_recorded_publisher_are_an_error_only_under_publishers(
    fake: FakeRegistry, tmp_path: Path, publishers: dict[str, Any], severity: Severity
) -> None:
    """docs/audit.md said "warnings"; the code made them errors under `publishers:`.
    The code is right and the docs now say so: this binds the two."""
    healthy(fake, versions=[version_doc(PKG, "1.0.0")])  # no _npmUser
    policy = Policy(packages=(PackagePolicy("@acme/*", **publishers),))
    result = run(fake, tmp_path, policy)
    (gap,) = [f for f in result.findings if f.properties.get("subject") == "publishers"]
    assert gap.rule_id == "audit-incomplete" and gap.effective_severity is severity
    docs = (Path(__file__).resolve().parent.parent / "docs" / "audit.md").read_text("utf-8")
    assert (
        "**Versions without a recorded publisher** (no `_npmUser`: Verdaccio never records one)\n"
        "are a warning, and an error (the rule's default) when the package's policy entry\n"
        "declares `publishers:`" in docs
    )
