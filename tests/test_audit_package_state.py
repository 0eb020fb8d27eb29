"""What the registry says about a package itself (issue 17): its publishing access (the
undocumented `GET /-/package/{name}/access`) and the status of its recent versions
(`GET /-/package/{name}/version/{version}/status`).

Publishing access that requires 2FA and refuses tokens is evidence for every account
of the package; any other answer is unknown, never a failure. A version's status needs
a token with publish access: blocked versions are errors, staged ones notes that name
who can approve them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_registry import (
    FakeRegistry,
    Reply,
    json_reply,
    packument_doc,
    profile_doc,
    token_entry,
    version_doc,
)
from test_audit_fake import OTHER, PKG, TOKEN, healthy, report_schema_validator

from npm_guard.audit.command import audit_repository
from npm_guard.audit.facts import AccessState, EvidenceKind, Verdict, VersionState
from npm_guard.audit.registry_urls import version_status_url
from npm_guard.audit.run import AuditResult
from npm_guard.audit.table import render_markdown_tables, render_text_tables
from npm_guard.cli import main
from npm_guard.findings import Severity
from npm_guard.policy import Policy

ACCESS = "/-/package/@acme%2fwidget/access"
KEY = "22222222-0000-4000-8000-000000000002"
NO_TOKENS = {
    "access": "public",
    "publish_requires_tfa": True,
    "automation_token_overrides_tfa": False,
}


def audit(fake: FakeRegistry, tmp_path: Path, token: str | None = TOKEN, **kw: Any) -> AuditResult:
    return audit_repository(
        str(tmp_path),
        Policy(),
        {"NPM_TOKEN": token} if token else {},
        packages=[PKG],
        registry=fake.url,
        client_options={"sleep": lambda _s: None},
        **kw,
    )


def with_maintainers_without_evidence(fake: FakeRegistry) -> None:
    """alice's profile says 2FA disabled through a session token; bob has no evidence."""
    healthy(fake)
    fake.packument(
        packument_doc(PKG, ["alice", "bob"], [version_doc(PKG, "1.0.0", publisher="bob")])
    )
    fake.profile(profile_doc("alice", False))
    fake.token_pages([token_entry(OTHER, key="k0")])  # the audit's token is not listed


# Publishing access.


def test_a_package_that_requires_2fa_and_refuses_tokens_passes_every_account(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    with_maintainers_without_evidence(fake)
    before = audit(fake, tmp_path)
    assert {f.rule_id for f in before.findings} >= {
        "maintainer-2fa-disabled",
        "maintainer-2fa-unverified",
    }
    fake.access(PKG, NO_TOKENS)
    result = audit(fake, tmp_path)
    assert not {f.rule_id for f in result.findings if f.rule_id.startswith("maintainer-2fa-")}
    (package,) = result.facts.packages
    assert package.access is not None and package.access.state is AccessState.TWO_FACTOR_NO_TOKENS
    verdicts = {a.name: (v, a.evidence.kind, a.evidence.mode.value) for a, v in package.verdicts()}
    assert verdicts == {
        # The account's own mode stays visible; the package setting decides the verdict.
        "alice": (Verdict.PASS, EvidenceKind.PACKAGE_SETTING, "disabled"),
        "bob": (Verdict.PASS, EvidenceKind.PACKAGE_SETTING, "unknown"),
    }
    alice = next(a for a in package.accounts if a.name == "alice")
    assert "publish_requires_tfa: true, automation_token_overrides_tfa: false" in (
        alice.evidence.detail
    )
    assert "own evidence: alice's own profile" in alice.evidence.detail
    text = render_text_tables(result.facts)
    assert "package requires 2FA, refuses tokens" in text
    assert "publishing access: requires 2FA, refuses tokens, so every publishing account" in text
    assert "package requires 2FA, refuses tokens" in render_markdown_tables(result.facts)


@pytest.mark.parametrize(
    ("doc", "state"),
    [
        (
            {"publish_requires_tfa": True, "automation_token_overrides_tfa": True},
            AccessState.TWO_FACTOR_OR_TOKEN,
        ),
        ({"access": "public", "publish_requires_tfa": True}, AccessState.TWO_FACTOR_TOKENS_UNSAID),
        ({"publish_requires_tfa": False}, AccessState.NOT_REQUIRED),
    ],
)
def test_publishing_access_that_allows_tokens_is_no_evidence(
    fake: FakeRegistry, tmp_path: Path, doc: dict[str, Any], state: AccessState
) -> None:
    with_maintainers_without_evidence(fake)
    fake.access(PKG, doc)
    result = audit(fake, tmp_path)
    (package,) = result.facts.packages
    assert package.access is not None and package.access.state is state
    assert {a.name: v for a, v in package.verdicts()} == {
        "alice": Verdict.DISABLED,
        "bob": Verdict.UNVERIFIED,
    }
    assert f"publishing access: {state.value}" in render_text_tables(result.facts)


@pytest.mark.parametrize(
    "reply",
    [
        json_reply({"error": "Not found"}, 404),
        json_reply({"error": "Method not allowed"}, 405),
        json_reply({"access": "public"}),  # pnpm's shape without the 2FA field
        json_reply({"publish_requires_tfa": "yes"}),  # another shape
        json_reply(["public"]),
        Reply(200, b"<html>not json</html>"),
        json_reply({"error": "down"}, 503),
        Reply(action="reset"),
    ],
    ids=["404", "405", "no-2fa-field", "string", "list", "not-json", "503", "reset"],
)
def test_any_other_answer_about_publishing_access_is_unknown_never_a_failure(
    fake: FakeRegistry, tmp_path: Path, reply: Reply
) -> None:
    healthy(fake)
    fake.reply(ACCESS, reply)
    result = audit(fake, tmp_path)
    assert result.findings == []  # the healthy package stays clean: no audit-incomplete
    (package,) = result.facts.packages
    assert package.access is not None and package.access.state is AccessState.UNKNOWN
    assert "the endpoint is undocumented; unknown is not a failure" in package.access.detail
    assert "publishing access unknown" in render_text_tables(result.facts)
    (account,) = package.accounts
    assert account.evidence.kind is EvidenceKind.PROFILE  # alice's own, as before


def test_publishing_access_is_asked_with_a_token_for_that_registry_only(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    healthy(fake)
    fake.access(PKG, NO_TOKENS)
    result = audit(fake, tmp_path, token=None)
    assert fake.hits(ACCESS) == [] and result.facts.packages[0].access is None
    assert any("publishing access" in n for n in result.notices)
    with FakeRegistry() as home:
        # The token belongs to the default registry; @acme/widget is on another one.
        (tmp_path / ".npmrc").write_text(f"registry={home.url}\n@acme:registry={fake.url}\n")
        home.packument(packument_doc("plain", ["carol"], [version_doc("plain", "1.0.0")]))
        home.access("plain", NO_TOKENS)
        result = audit_repository(
            str(tmp_path), Policy(), {"NPM_TOKEN": TOKEN}, packages=[PKG, "plain"]
        )
        assert home.hits("/-/package/plain/access") != []
    assert fake.hits(ACCESS) == [] and fake.authorized() == []
    widget, plain = result.facts.packages
    assert widget.access is None and plain.access is not None


def test_the_json_report_shows_the_package_setting(
    fake: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with_maintainers_without_evidence(fake)
    fake.access(PKG, NO_TOKENS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    main(["audit", "--registry", fake.url, "--format", "json", PKG])
    report = json.loads(capsys.readouterr().out)
    report_schema_validator().validate(report)
    (package,) = report["audit"]["packages"]
    assert package["publishingAccess"]["provesTwoFactor"] is True
    assert {a["name"]: (a["evidence"], a["verdict"]) for a in package["accounts"]} == {
        "alice": ("package setting", "pass"),
        "bob": ("package setting", "pass"),
    }


# Version status.


def publishing_token(fake: FakeRegistry) -> None:
    """The audit's token may publish (read-write, stage-only): it may read the status."""
    fake.token_pages([token_entry(TOKEN, key=KEY, readonly=False, publish_policy="stage_only")])


def three_versions(fake: FakeRegistry) -> None:
    """alice and bob maintain @acme/widget 1.0.0 to 1.2.0 (trusted publishing)."""
    healthy(fake)
    fake.packument(
        packument_doc(
            PKG,
            ["alice", "bob"],
            [
                version_doc(PKG, v, trusted="github", provenance=True)
                for v in ("1.0.0", "1.1.0", "1.2.0")
            ],
        )
    )


def status_paths(fake: FakeRegistry) -> list[str]:
    return [r.path for r in fake.requests if r.path.endswith("/status")]


def test_blocked_and_staged_versions(fake: FakeRegistry, tmp_path: Path) -> None:
    three_versions(fake)
    publishing_token(fake)
    fake.version_status(PKG, "1.2.0", "staged")
    fake.version_status(PKG, "1.1.0", "blocked")
    fake.version_status(PKG, "1.0.0", "published")
    result = audit(fake, tmp_path)
    blocked = [f for f in result.findings if f.rule_id == "publish-version-blocked"]
    staged = [f for f in result.findings if f.rule_id == "publish-version-staged"]
    assert [(f.properties["subject"], f.effective_severity) for f in blocked] == [
        ("version 1.1.0", Severity.ERROR)
    ]
    assert "cannot be installed" in blocked[0].message
    assert [(f.properties["subject"], f.effective_severity) for f in staged] == [
        ("version 1.2.0", Severity.NOTE)
    ]
    assert "one of alice, bob can approve it with 2FA" in staged[0].message
    assert "npm stage approve <id>" in staged[0].message
    # Newest first, one request each.
    assert status_paths(fake) == [
        "/-/package/@acme%2fwidget/version/1.2.0/status",
        "/-/package/@acme%2fwidget/version/1.1.0/status",
        "/-/package/@acme%2fwidget/version/1.0.0/status",
    ]
    assert "version status: 1 published, 1 staged, 1 blocked" in render_text_tables(result.facts)


def test_a_read_only_token_does_not_ask(fake: FakeRegistry, tmp_path: Path) -> None:
    three_versions(fake)  # the healthy token is read-only
    result = audit(fake, tmp_path)
    assert status_paths(fake) == []
    assert result.facts.packages[0].statuses is None
    assert any(
        "version status not checked: the audit's token is read-only" in n for n in result.notices
    )


def test_a_token_of_unknown_type_asks(fake: FakeRegistry, tmp_path: Path) -> None:
    three_versions(fake)
    fake.reply("/-/npm/v1/tokens", json_reply({"error": "session tokens only"}, 403))
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        fake.version_status(PKG, version, "published")
    result = audit(fake, tmp_path)
    assert len(status_paths(fake)) == 3
    statuses = result.facts.packages[0].statuses
    assert statuses is not None and {s.state for s in statuses} == {VersionState.PUBLISHED}


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (json_reply({"error": "Not found"}, 404), "when the token has no publish access"),
        (json_reply({"error": "not enabled"}, 403), "not enabled for the package"),
        (json_reply({"packageName": PKG, "version": "1.2.0", "status": "gone"}), "schema"),
        (Reply(200, b"{"), "not valid JSON"),
    ],
    ids=["404", "403", "unknown-status", "not-json"],
)
def test_a_status_that_cannot_be_read_is_unknown_and_ends_the_asking(
    fake: FakeRegistry, tmp_path: Path, reply: Reply, words: str
) -> None:
    three_versions(fake)
    publishing_token(fake)
    fake.reply("/-/package/@acme%2fwidget/version/1.2.0/status", reply)
    result = audit(fake, tmp_path)
    assert not [f for f in result.findings if f.rule_id.startswith("publish-version-")]
    assert not [f for f in result.findings if f.rule_id == "audit-incomplete"]
    assert len(status_paths(fake)) == 1  # one refusal: the others are not asked
    notes = render_text_tables(result.facts)
    assert "version status unknown" in notes and words in notes


def test_an_answer_about_another_version_is_unknown(fake: FakeRegistry, tmp_path: Path) -> None:
    three_versions(fake)
    publishing_token(fake)
    fake.serve_json(
        "/-/package/@acme%2fwidget/version/1.2.0/status",
        {"packageName": PKG, "version": "1.1.0", "status": "blocked"},
        "version-status",
    )
    result = audit(fake, tmp_path)
    assert "publish-version-blocked" not in {f.rule_id for f in result.findings}
    statuses = result.facts.packages[0].statuses
    assert statuses is not None and statuses[0].state is None
    assert "another package or version" in statuses[0].reason


def test_a_version_goes_into_the_status_url_escaped() -> None:
    url = version_status_url("https://registry.npmjs.org", "@a/b", "1.0.0+build/../x?y#z")
    assert url == (
        "https://registry.npmjs.org/-/package/@a%2fb/version/1.0.0+build%2F..%2Fx%3Fy%23z/status"
    )


def test_the_time_limit_names_the_status_not_checked(fake: FakeRegistry, tmp_path: Path) -> None:
    three_versions(fake)
    publishing_token(fake)
    fake.reply("/-/package/@acme%2fwidget/version/1.2.0/status", Reply(action="hang"))
    result = audit(fake, tmp_path, timeout=2)
    (gap,) = [g for g in result.facts.gaps if g.subject == "time limit"]
    assert gap.reason.endswith("not checked: version status of @acme/widget")


def test_the_json_report_lists_the_version_status(
    fake: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    three_versions(fake)
    publishing_token(fake)
    fake.version_status(PKG, "1.2.0", "blocked")
    fake.reply("/-/package/@acme%2fwidget/version/1.1.0/status", json_reply({}, 404))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    assert main(["audit", "--registry", fake.url, "--format", "json", PKG]) == 1
    report = json.loads(capsys.readouterr().out)
    report_schema_validator().validate(report)
    (package,) = report["audit"]["packages"]
    assert [(s["version"], s["status"]) for s in package["versionStatus"]] == [
        ("1.2.0", "blocked"),
        ("1.1.0", None),
    ]
    (finding,) = [f for f in report["findings"] if f["rule"] == "publish-version-blocked"]
    assert finding["properties"]["package"] == PKG
    assert finding["properties"]["version"] == "1.2.0"
