"""The audit's own token as npm has it in December 2026 (issue 17).

Read-write, no CIDR and bypass-2FA are errors for the audit's token (it needs read
access only); stage-only tokens are recognised in the token list and say what they can
do; bypass-2FA tokens that publish directly stop working in January 2027, and from
then a workflow that relies on one is reported as broken.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_registry import FakeRegistry, token_entry
from test_audit_fake import PKG, TOKEN, healthy

from npm_guard.audit.command import audit_repository
from npm_guard.audit.run import AuditResult
from npm_guard.audit.table import render_text_tables, verdict_data
from npm_guard.cli import main
from npm_guard.findings import Finding, Severity
from npm_guard.policy import Policy, TokenSpec

SPRING = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.timezone.utc)
KEY = "22222222-0000-4000-8000-000000000002"


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as registry:
        healthy(registry)
        yield registry


def audit(
    fake: FakeRegistry,
    tmp_path: Path,
    *,
    now: datetime.datetime = SPRING,
    spec: TokenSpec | None = None,
    **entry: Any,
) -> AuditResult:
    fake.token_pages([token_entry(TOKEN, key=KEY, **entry)])
    policy = Policy(tokens={"NPM_TOKEN": spec}) if spec is not None else Policy()
    return audit_repository(
        str(tmp_path),
        policy,
        {"NPM_TOKEN": TOKEN},
        packages=[PKG],
        registry=fake.url,
        now=now,
        client_options={"sleep": lambda _s: None},
    )


def token_findings(result: AuditResult) -> dict[str, Finding]:
    found = [f for f in result.findings if f.rule_id.startswith("token-")]
    assert len({f.rule_id for f in found}) == len(found)
    return {f.rule_id: f for f in found}


def test_the_audits_token_is_an_error_when_it_can_write_works_anywhere_or_bypasses_2fa(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    result = audit(fake, tmp_path, readonly=False, cidr=None, bypass_2fa=True)
    found = token_findings(result)
    assert set(found) == {"token-not-read-only", "token-without-cidr", "token-bypasses-2fa"}
    assert {f.effective_severity for f in found.values()} == {Severity.ERROR}


def test_a_stage_only_token_says_what_it_can_do(fake: FakeRegistry, tmp_path: Path) -> None:
    result = audit(fake, tmp_path, readonly=False, publish_policy="stage_only")
    token = result.facts.token
    assert token is not None and token.stage_only is True and not token.publishes_directly
    message = token_findings(result)["token-not-read-only"].message
    assert "read-write stage-only permission" in message
    assert "cannot publish directly (npm refuses with E_STAGE_REQUIRED)" in message
    assert "stage a release for a maintainer to approve with 2FA" in message
    assert "unpublish" in message and "an audit needs read access only" in message
    assert "read-write (stage-only), CIDR" in render_text_tables(result.facts)
    assert verdict_data(result.facts)["token"]["stageOnly"] is True


@pytest.mark.parametrize(
    ("policy", "stage_only", "words"),
    [
        ({"publish_policy": "direct"}, False, "publishes directly (it is not stage-only)"),
        ({"publish_policy": None}, False, "publishes directly"),
        ({}, None, "the token list does not say whether it is stage-only"),
    ],
)
def test_a_read_write_token_that_is_not_stage_only_says_so(
    fake: FakeRegistry,
    tmp_path: Path,
    policy: dict[str, Any],
    stage_only: bool | None,
    words: str,
) -> None:
    entry = token_entry(TOKEN, key=KEY, readonly=False)
    entry.update(policy)
    fake.token_pages([entry])
    result = audit_repository(
        str(tmp_path),
        Policy(),
        {"NPM_TOKEN": TOKEN},
        packages=[PKG],
        registry=fake.url,
        now=SPRING,
    )
    assert result.facts.token is not None and result.facts.token.stage_only is stage_only
    assert words in token_findings(result)["token-not-read-only"].message


def test_a_token_declared_stage_only_that_publishes_directly(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    spec = TokenSpec("NPM_TOKEN", "stage-only", ("192.0.2.0/24",))
    staged = audit(fake, tmp_path, spec=spec, readonly=False, publish_policy="stage_only")
    assert "token-not-read-only" not in token_findings(staged)
    direct = audit(fake, tmp_path, spec=spec, readonly=False, publish_policy="direct")
    message = token_findings(direct)["token-not-read-only"].message
    assert "declared stage-only in the policy" in message and "publishes directly" in message
    # A list that does not say: the declaration cannot be checked, and the audit says so.
    unsaid = audit(fake, tmp_path, spec=spec, readonly=False)
    assert "token-not-read-only" not in token_findings(unsaid)
    (gap,) = [f for f in unsaid.findings if f.rule_id == "audit-incomplete"]
    assert "has no publish_policy (stage-only or not) for this token" in gap.message


def test_an_unknown_permission_action_proves_neither(fake: FakeRegistry, tmp_path: Path) -> None:
    """npm may add an action for stage-only tokens: the list is still read (it used to
    fail the schema), and the `readonly` flag decides."""
    entry = token_entry(TOKEN, key=KEY, readonly=False, publish_policy="stage_only")
    entry["permissions"] = [{"name": "package", "action": "stage"}]
    fake.token_pages([entry])
    result = audit_repository(
        str(tmp_path), Policy(), {"NPM_TOKEN": TOKEN}, packages=[PKG], registry=fake.url
    )
    token = result.facts.token
    assert token is not None and token.found
    assert (token.readonly, token.stage_only) == (False, True)
    entry["readonly"] = True
    fake.token_pages([entry])
    result = audit_repository(
        str(tmp_path), Policy(), {"NPM_TOKEN": TOKEN}, packages=[PKG], registry=fake.url
    )
    assert result.facts.token is not None and result.facts.token.readonly is True


# January 2027: "Bypass-2FA tokens with direct-publish access will stop working".

LAST_MOMENT = datetime.datetime(2026, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)
NEW_YEAR = datetime.datetime(2027, 1, 1, 0, 0, 1, tzinfo=datetime.timezone.utc)
# 2027-01-01 00:30 in UTC is still 2026-12-31 in New York: npm's date is UTC's.
NEW_YEAR_ELSEWHERE = datetime.datetime(
    2026, 12, 31, 19, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
)
BYPASS_DECLARED = TokenSpec(
    "NPM_TOKEN", "read-write", ("192.0.2.0/24",), max_expiry_days=30, bypass_2fa=True
)


def test_a_bypass_token_that_publishes_directly_names_january_2027(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    result = audit(fake, tmp_path, now=LAST_MOMENT, readonly=False, bypass_2fa=True)
    finding = token_findings(result)["token-bypasses-2fa"]
    assert finding.effective_severity is Severity.ERROR
    assert (
        "can publish with no second factor until npm stops accepting bypass-2FA tokens "
        "for direct publishing in January 2027" in finding.message
    )
    assert "broken" not in finding.message


def test_a_declared_bypass_token_is_a_note_until_january_2027(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    result = audit(
        fake, tmp_path, now=LAST_MOMENT, spec=BYPASS_DECLARED, readonly=False, bypass_2fa=True
    )
    finding = token_findings(result)["token-bypasses-2fa"]
    assert finding.effective_severity is Severity.NOTE
    assert "as the policy declares" in finding.message
    assert "in January 2027, and a workflow that publishes with it breaks then" in finding.message


@pytest.mark.parametrize("spec", [None, BYPASS_DECLARED], ids=["undeclared", "declared"])
@pytest.mark.parametrize("now", [NEW_YEAR, NEW_YEAR_ELSEWHERE], ids=["utc", "utc-5"])
def test_from_january_2027_a_bypass_token_that_publishes_directly_is_broken(
    fake: FakeRegistry, tmp_path: Path, spec: TokenSpec | None, now: datetime.datetime
) -> None:
    result = audit(fake, tmp_path, now=now, spec=spec, readonly=False, bypass_2fa=True)
    finding = token_findings(result)["token-bypasses-2fa"]
    assert finding.effective_severity is Severity.ERROR
    assert "which npm stopped accepting in January 2027" in finding.message
    assert "a workflow that still publishes with it is broken, not just risky" in finding.message


def test_a_stage_only_bypass_token_is_not_broken_in_2027(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    result = audit(
        fake, tmp_path, now=NEW_YEAR, readonly=False, bypass_2fa=True, publish_policy="stage_only"
    )
    message = token_findings(result)["token-bypasses-2fa"].message
    assert "it is stage-only, so it cannot publish directly" in message
    assert "broken" not in message
    declared = audit(
        fake,
        tmp_path,
        now=NEW_YEAR,
        spec=BYPASS_DECLARED,
        readonly=False,
        bypass_2fa=True,
        publish_policy="stage_only",
    )
    assert "token-bypasses-2fa" not in token_findings(declared)


def test_the_json_report_carries_stage_only(
    fake: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from test_audit_fake import report_schema_validator

    fake.token_pages([token_entry(TOKEN, key=KEY, readonly=False, publish_policy="stage_only")])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    assert main(["audit", "--registry", fake.url, "--format", "json", PKG]) == 1
    report = json.loads(capsys.readouterr().out)
    report_schema_validator().validate(report)
    assert report["audit"]["token"]["stageOnly"] is True
