"""The whole audit has one time limit (`--timeout`, the Action's `timeout`).

A registry that accepts the connection and never answers used to cost the per-request
deadline for every resource (minutes); now the audit ends at its limit, reports every
resource it did not check as `audit-incomplete`, writes the report and exits 1. Times
are measured with a monotonic clock; the limit in these tests is 3 s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fake_registry import FakeRegistry, Reply, npm_token, packument_doc, version_doc

from npm_guard.audit.client import FetchFailure, RegistryClient
from npm_guard.audit.command import audit_repository
from npm_guard.audit.registry_urls import package_url
from npm_guard.cli import main
from npm_guard.errors import NpmGuardError
from npm_guard.policy import Policy

TOKEN = npm_token("TimeLimitTokenForAHungRegistry")
LIMIT = 3.0
SLACK = 3.0  # "the deadline plus a few seconds"
NAMES = [f"@acme/p{i}" for i in range(6)]


@pytest.fixture
def hung() -> Iterator[FakeRegistry]:
    """Every path: the connection is accepted, the request read, and nothing answered."""
    with FakeRegistry() as registry:
        registry.fallback = Reply(action="hang")
        yield registry


def test_a_hung_registry_ends_the_audit_at_its_time_limit(
    hung: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NPM_TOKEN", TOKEN)
    report = tmp_path / "audit.json"
    started = time.monotonic()
    code = main(
        [
            "audit",
            "--registry",
            hung.url,
            "--timeout",
            str(LIMIT),
            "--concurrency",
            "2",  # most requests wait in the queue and are never sent
            "--format",
            "json",
            "--output",
            str(report),
            *NAMES,
        ]
    )
    elapsed = time.monotonic() - started
    assert LIMIT - 0.5 <= elapsed < LIMIT + SLACK, elapsed
    assert code == 1  # audit-incomplete is an error: the exit code is not a pass
    err = capsys.readouterr().err
    assert "time limit of 3 s (--timeout, the Action's timeout input) ran out" in err
    findings = json.loads(report.read_text(encoding="utf-8"))["findings"]
    assert {f["rule"] for f in findings} == {"audit-incomplete"}
    per_package = {f["properties"]["package"] for f in findings if "package" in f["properties"]}
    assert per_package == set(NAMES)
    assert all(
        "the audit's time ran out" in f["message"] for f in findings if "package" in f["properties"]
    )
    (summary,) = [f for f in findings if f["properties"]["subject"] == "time limit"]
    message = summary["message"]
    assert "ran out; not checked: the token list; the token owner's profile;" in message
    assert "packuments (maintainers, publishers, provenance) of @acme/p0" in message
    assert "and 1 more" in message  # six packages: five named, then the count
    # Nothing cut at the deadline is asked again, and nothing starts after it.
    paths = [r.path for r in hung.requests]
    assert len(paths) == len(set(paths))
    assert len(paths) <= 2 * (len(NAMES) + 2)


def test_what_was_checked_in_time_stays_checked(tmp_path: Path) -> None:
    """One package answers at once, the other hangs: only the second is incomplete."""
    with FakeRegistry() as fake:
        fake.packument(
            packument_doc("quick", ["alice"], [version_doc("quick", "1.0.0", publisher="alice")])
        )
        fake.reply("/slow", Reply(action="hang"))
        result = audit_repository(
            str(tmp_path), Policy(), {}, packages=["quick", "slow"], registry=fake.url, timeout=2
        )
    quick, slow = result.facts.packages
    assert quick.maintainers == ("alice",) and not quick.gaps
    assert slow.maintainers is None
    assert [g.subject for g in slow.gaps] == ["packument"]
    time_limit = [g for g in result.facts.gaps if g.subject == "time limit"]
    assert len(time_limit) == 1 and "of slow" in time_limit[0].reason
    assert "quick" not in time_limit[0].reason


@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), 86401])
def test_the_time_limit_must_be_a_positive_number_of_seconds(value: float, tmp_path: Path) -> None:
    with pytest.raises(NpmGuardError, match="--timeout must be more than 0"):
        audit_repository(str(tmp_path), Policy(), {}, packages=["x"], timeout=value)


def test_no_socket_waits_past_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The watchdog cannot cut a socket that is still connecting: the socket's own
    timeouts are bounded by the time left, not the 5 s / 20 s defaults."""
    seen: list[Any] = []

    def refuse(self: requests.Session, url: str, **kwargs: Any) -> requests.Response:
        seen.append(kwargs["timeout"])
        raise requests.ConnectionError("refused")

    monkeypatch.setattr(requests.Session, "get", refuse)
    with RegistryClient(retries=0, deadline=time.monotonic() + 1.0) as client:
        result = client.get_json(package_url("https://registry.example/", "x"), "packument")
    assert isinstance(result, FetchFailure)
    ((connect, read),) = seen
    assert connect <= 2.0 and read <= 2.0


def test_a_fetch_refused_by_the_deadline_says_so() -> None:
    with RegistryClient(deadline=time.monotonic() - 1) as client:
        result = client.get_json(package_url("https://registry.example/", "x"), "packument")
    assert isinstance(result, FetchFailure) and result.out_of_time
    assert "the audit's time ran out" in result.reason
