"""A hostile network: every failure ends as a clear audit-incomplete or a correct result.

The waits the client asks for are recorded by an injected sleep function, never slept.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import time
from collections.abc import Callable
from pathlib import Path

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

from npm_guard.audit.client import Fetched, FetchFailure, RegistryClient
from npm_guard.audit.command import audit_repository
from npm_guard.audit.registry_urls import package_url
from npm_guard.errors import NpmGuardError
from npm_guard.policy import Policy

TOKEN = npm_token("HostileNetworkTokenValue0123")
PKG = "@acme/widget"
PATH = "/@acme%2fwidget"
DOC = packument_doc(PKG, ["alice"], [version_doc(PKG, "1.0.0", publisher="alice")])


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(fake: FakeRegistry, sleeps: Sleeps, **options: object) -> RegistryClient:
    settings: dict[str, object] = {"retries": 3, "backoff": 0.5, "read_timeout": 5.0}
    settings.update(options)
    return RegistryClient(token=TOKEN, token_registry=fake.url, sleep=sleeps, **settings)  # type: ignore[arg-type]


def test_500s_then_success(fake: FakeRegistry) -> None:
    fake.reply(PATH, json_reply({}, 500), json_reply({}, 502), json_reply(DOC))
    sleeps = Sleeps()
    with client_for(fake, sleeps) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, Fetched) and result.data["name"] == PKG
    assert sleeps == [0.5, 1.0]
    assert len(fake.hits(PATH)) == 3


def test_persistent_503_gives_up_after_the_retries(fake: FakeRegistry) -> None:
    fake.reply(PATH, json_reply({"error": "down"}, 503))
    sleeps = Sleeps()
    with client_for(fake, sleeps, retries=2) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure)
    assert result.reason == "registry error (HTTP 503) (3 attempts)"
    assert sleeps == [0.5, 1.0] and len(fake.hits(PATH)) == 3


def test_429_honours_retry_after_seconds(fake: FakeRegistry) -> None:
    fake.reply(PATH, json_reply({}, 429, {"Retry-After": "7"}), json_reply(DOC))
    sleeps = Sleeps()
    with client_for(fake, sleeps) as client:
        assert isinstance(client.get_json(package_url(fake.url, PKG), "packument"), Fetched)
    assert sleeps == [7.0]


def test_429_honours_retry_after_http_date(fake: FakeRegistry) -> None:
    now = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.timezone.utc)
    later = email.utils.format_datetime(now + datetime.timedelta(seconds=12), usegmt=True)
    fake.reply(PATH, json_reply({}, 429, {"Retry-After": later}), json_reply(DOC))
    sleeps = Sleeps()
    with client_for(fake, sleeps, clock=now.timestamp) as client:
        assert isinstance(client.get_json(package_url(fake.url, PKG), "packument"), Fetched)
    assert sleeps == [12.0]


def test_429_asking_for_too_long_a_wait_is_incomplete_at_once(fake: FakeRegistry) -> None:
    fake.reply(PATH, json_reply({}, 429, {"Retry-After": "3600"}))
    sleeps = Sleeps()
    with client_for(fake, sleeps, max_wait=30.0) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure) and sleeps == []
    assert "rate limited (HTTP 429)" in result.reason and "3600 s" in result.reason


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_other_4xx_are_not_retried(fake: FakeRegistry, status: int) -> None:
    fake.reply(PATH, json_reply({"error": "nope"}, status))
    sleeps = Sleeps()
    with client_for(fake, sleeps) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure) and result.status == status
    assert sleeps == [] and len(fake.hits(PATH)) == 1


def test_401_for_an_ip_outside_the_token_cidr(fake: FakeRegistry) -> None:
    fake.reply(PATH, json_reply({"error": "no"}, 401, {"WWW-Authenticate": "ipaddress"}))
    with client_for(fake, Sleeps()) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure) and "CIDR allow-list" in result.reason


def test_timeout_is_retried_then_reported(fake: FakeRegistry) -> None:
    fake.reply(PATH, Reply(action="hang"))
    sleeps = Sleeps()
    with client_for(fake, sleeps, retries=1, read_timeout=0.2) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure)
    assert result.reason == "timed out (limit 0.2 s) (2 attempts)"
    assert len(fake.hits(PATH)) == 2 and sleeps == [0.5]


@pytest.mark.parametrize("action", ["drip", "drip-headers"])
def test_a_dripping_registry_is_cut_off_at_the_deadline(fake: FakeRegistry, action: str) -> None:
    # One byte every 50 ms never trips the 5 s read timeout; the whole would take
    # minutes. The 0.3 s deadline for the whole exchange ends it.
    fake.reply(PATH, Reply(200, json.dumps(DOC).encode() + b" " * 4000, action=action))
    started = time.monotonic()
    with client_for(fake, Sleeps(), retries=0, total_timeout=0.3) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    elapsed = time.monotonic() - started
    assert isinstance(result, FetchFailure)
    assert result.endpoint == f"GET {fake.url}@acme%2fwidget"
    assert result.reason.startswith("took longer than 0.3 s in all")
    assert elapsed < 10  # not the 200 s the drip would take


class ManualTimers:
    """Stands in for threading.Timer in the client: the test decides when they fire."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[], None]] = []

    def __call__(self, interval: float, function: Callable[[], None]) -> ManualTimers:
        self.callbacks.append(function)
        return self

    daemon = True

    def start(self) -> None:
        pass

    def cancel(self) -> None:
        pass


def test_a_late_watchdog_never_cuts_a_finished_exchange(
    fake: FakeRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import npm_guard.audit.client as client_module

    timers = ManualTimers()
    monkeypatch.setattr(client_module.threading, "Timer", timers)
    fake.reply(PATH, json_reply(DOC))
    fake.reply("/left-pad", json_reply(packument_doc("left-pad", ["x"], [])))
    with client_for(fake, Sleeps()) as client:
        assert isinstance(client.get_json(package_url(fake.url, PKG), "packument"), Fetched)
        (first,) = timers.callbacks
        first()  # fires after the exchange finished, its connection back in the pool
        assert isinstance(client.get_json(package_url(fake.url, "left-pad"), "packument"), Fetched)
        for fire in timers.callbacks:
            fire()
    exchanges = [fire.__self__ for fire in timers.callbacks]  # type: ignore[attr-defined]
    assert len(exchanges) == 2 and not any(e.was_cut for e in exchanges)


def test_a_body_larger_than_the_bound_is_refused(fake: FakeRegistry) -> None:
    fake.reply(PATH, json_reply(DOC))
    with client_for(fake, Sleeps(), max_body=100) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure)
    assert result.reason == "the response is larger than 100 bytes"


def test_a_dripping_packument_ends_in_audit_incomplete(fake: FakeRegistry, tmp_path: Path) -> None:
    fake.reply(PATH, Reply(200, json.dumps(DOC).encode() + b" " * 4000, action="drip"))
    result = audit_repository(
        str(tmp_path),
        Policy(),
        {},
        packages=[PKG],
        registry=fake.url,
        client_options={"sleep": Sleeps(), "retries": 0, "total_timeout": 0.3},
    )
    ((rule, message),) = [(f.rule_id, f.message) for f in result.findings]
    assert rule == "audit-incomplete"
    assert f"GET {fake.url}@acme%2fwidget: took longer than 0.3 s in all" in message


def test_connection_reset_then_success(fake: FakeRegistry) -> None:
    fake.reply(PATH, Reply(action="reset"), json_reply(DOC))
    sleeps = Sleeps()
    with client_for(fake, sleeps) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, Fetched) and sleeps == [0.5]


def test_connection_reset_every_time(fake: FakeRegistry) -> None:
    fake.reply(PATH, Reply(action="reset"))
    with client_for(fake, Sleeps(), retries=1) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure)
    assert result.reason.startswith("the connection failed (")


def test_malformed_json(fake: FakeRegistry) -> None:
    fake.reply(PATH, Reply(200, b'{"name": "@acme/widget", "versions": {', {}))
    with client_for(fake, Sleeps()) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure) and result.reason == "the response is not valid JSON"


def test_schema_mismatch_names_the_path_not_the_value(fake: FakeRegistry) -> None:
    bad = dict(DOC, maintainers="alice-and-" + TOKEN)
    fake.reply(PATH, json_reply(bad))
    with client_for(fake, Sleeps()) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure)
    assert result.reason == (
        'the response does not match schema registry-packument: $.maintainers fails type "array"'
    )
    assert TOKEN not in result.reason


def test_redirect_to_another_host_never_carries_the_token() -> None:
    with FakeRegistry("127.0.0.1") as home, FakeRegistry("127.0.0.2") as elsewhere:
        elsewhere.reply(PATH, json_reply(DOC))
        home.reply(PATH, Reply(302, b"", {"Location": f"{elsewhere.url}@acme%2fwidget"}))
        lines: list[str] = []
        with RegistryClient(token=TOKEN, token_registry=home.url, trace=lines.append) as client:
            result = client.get_json(package_url(home.url, PKG), "packument")
        assert isinstance(result, Fetched)
        assert home.hits(PATH)[0].headers["authorization"] == f"Bearer {TOKEN}"
        assert elsewhere.hits(PATH) and elsewhere.authorized() == []
        assert any("token is withheld" in line for line in lines)
        assert not any(TOKEN in line for line in lines)


def test_redirect_on_the_same_origin_keeps_the_token(fake: FakeRegistry) -> None:
    fake.reply(PATH, Reply(301, b"", {"Location": "/moved"}))
    fake.reply("/moved", json_reply(DOC))
    with client_for(fake, Sleeps()) as client:
        assert isinstance(client.get_json(package_url(fake.url, PKG), "packument"), Fetched)
    assert fake.hits("/moved")[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_redirect_loop_is_bounded(fake: FakeRegistry) -> None:
    fake.reply(PATH, Reply(302, b"", {"Location": PATH}))
    with client_for(fake, Sleeps()) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure) and "redirects" in result.reason


def test_token_is_never_sent_over_plain_http_off_loopback() -> None:
    with pytest.raises(NpmGuardError, match="plain http"):
        RegistryClient(token=TOKEN, token_registry="http://registry.example.com/")
    client = RegistryClient(token=TOKEN, token_registry="https://registry.npmjs.org/")
    assert client.authenticates("https://registry.npmjs.org/left-pad")
    assert not client.authenticates("http://registry.npmjs.org/left-pad")
    assert not client.authenticates("https://registry.npmjs.org.evil.example/left-pad")
    assert not client.authenticates("https://registry.npmjs.org:8443/left-pad")
    client.close()


def test_token_list_next_page_on_another_host_is_not_followed(fake: FakeRegistry) -> None:
    fake.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
    fake.packument(DOC)
    fake.serve_json(
        "/-/npm/v1/tokens",
        {"objects": [], "urls": {"next": "https://evil.example/-/npm/v1/tokens?page=1"}},
        "tokens",
    )
    result = audit_repository(
        "/nonexistent-root", Policy(), {"NPM_TOKEN": TOKEN}, packages=[PKG], registry=fake.url
    )
    gaps = [f.message for f in result.findings if f.rule_id == "audit-incomplete"]
    assert any("next page is on another host" in m for m in gaps)


def _audit(fake: FakeRegistry, tmp_path: Path) -> list[tuple[str, str]]:
    result = audit_repository(
        str(tmp_path),
        Policy(),
        {"NPM_TOKEN": TOKEN},
        packages=[PKG],
        registry=fake.url,
        client_options={"sleep": Sleeps(), "retries": 1, "read_timeout": 0.2},
    )
    return [(f.rule_id, f.message) for f in result.findings]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (json_reply({"error": "boom"}, 500), "registry error (HTTP 500) (2 attempts)"),
        (Reply(action="hang"), "timed out"),
        (Reply(action="reset"), "the connection failed"),
        (Reply(200, b"<html>", {}), "not valid JSON"),
        (json_reply({"name": PKG, "versions": []}), "$.versions fails type"),
    ],
)
def test_an_unreachable_registry_never_reads_as_a_verdict(
    fake: FakeRegistry, tmp_path: Path, reply: Reply, reason: str
) -> None:
    for path in (
        PATH,
        "/-/npm/v1/user",
        "/-/npm/v1/tokens",
        "/-/package/@acme%2fwidget/collaborators",
    ):
        fake.reply(path, reply)
    findings = _audit(fake, tmp_path)
    assert {rule for rule, _ in findings} == {"audit-incomplete"}
    messages = "\n".join(message for _, message in findings)
    assert f"GET {fake.url}@acme%2fwidget" in messages and reason in messages
    assert "/-/npm/v1/user" in messages and "/-/npm/v1/tokens" in messages
    assert TOKEN not in messages


def test_registry_answering_for_another_package(fake: FakeRegistry, tmp_path: Path) -> None:
    fake.serve_json(
        PATH, packument_doc("left-pad", ["x"], [version_doc("left-pad", "1.0.0")]), "packument"
    )
    fake.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
    fake.token_pages([token_entry(TOKEN, key="k1")])
    fake.collaborators(PKG, {})
    findings = _audit(fake, tmp_path)
    assert findings == [
        (
            "audit-incomplete",
            f"{PKG}: packument: GET {fake.url}@acme%2fwidget: the registry answered with the "
            f"document of 'left-pad', not '{PKG}'",
        )
    ]


# Bounded retries (issue 12): a request cut at a deadline is never asked again, and a
# retry never gets a fresh full limit of its own.


def test_a_request_cut_at_its_deadline_is_not_retried(fake: FakeRegistry) -> None:
    """Each retry used to get the full per-request limit again: four drips in a row."""
    fake.reply(PATH, Reply(200, json.dumps(DOC).encode() + b" " * 4000, action="drip-headers"))
    with client_for(fake, Sleeps(), retries=3, total_timeout=0.4) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure)
    assert result.reason.startswith("took longer than 0.4 s in all")
    assert len(fake.hits(PATH)) == 1


def test_retries_share_one_limit(fake: FakeRegistry) -> None:
    """A registry that hangs until the read timeout: the retries stop when the fetch's
    one limit is used up, not after `retries` more full attempts."""
    fake.reply(PATH, Reply(action="hang"))
    with client_for(fake, Sleeps(), retries=8, backoff=0, read_timeout=0.3, total_timeout=1.0) as (
        client
    ):
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure)
    assert 2 <= len(fake.hits(PATH)) <= 4  # about 1.0 s / 0.3 s, never the 9 asked for


def test_the_audit_deadline_bounds_every_request_and_is_never_retried(
    fake: FakeRegistry,
) -> None:
    fake.reply(PATH, Reply(200, json.dumps(DOC).encode() + b" " * 4000, action="drip"))
    started = time.monotonic()
    with client_for(fake, Sleeps(), retries=3, deadline=started + 0.4) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
        late = client.get_json(package_url(fake.url, "other"), "packument")
    assert isinstance(result, FetchFailure) and "the audit's time ran out" in result.reason
    assert len(fake.hits(PATH)) == 1
    assert time.monotonic() - started < 5
    # After the deadline nothing more goes out at all.
    assert isinstance(late, FetchFailure) and fake.hits("/other") == []


def test_no_wait_for_a_retry_past_the_deadline(fake: FakeRegistry) -> None:
    fake.reply(PATH, Reply(503, b"", headers={"Retry-After": "2"}))
    sleeps = Sleeps()
    deadline = time.monotonic() + 1.0
    with client_for(fake, sleeps, retries=3, deadline=deadline) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure) and "no time left to ask again" in result.reason
    assert sleeps == [] and len(fake.hits(PATH)) == 1


# Registry answers that make no sense are audit-incomplete (issue 12).


def test_a_response_nested_too_deeply_is_incomplete(fake: FakeRegistry, tmp_path: Path) -> None:
    """A body nested 100,000 levels deep ended in an internal error (exit 3)."""
    fake.reply(PATH, Reply(200, b"[" * 100_000 + b"]" * 100_000))
    with client_for(fake, Sleeps()) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure)
    assert result.endpoint == f"GET {fake.url}@acme%2fwidget"
    assert result.reason == "the response is nested too deeply to decode"
    (tmp_path / "package.json").write_text(json.dumps({"name": PKG}))
    audit = audit_repository(str(tmp_path), Policy(), {}, registry=fake.url)
    assert [f.rule.id for f in audit.findings] == ["audit-incomplete"]
    assert "nested too deeply" in audit.findings[0].message


def test_an_error_body_nested_too_deeply_is_still_a_refusal(fake: FakeRegistry) -> None:
    # The first 4 KiB (what is read of an error body) nest 4,000 levels deep.
    fake.reply(PATH, Reply(403, b"[" * 50_000 + b"]" * 50_000))
    with client_for(fake, Sleeps()) as client:
        result = client.get_json(package_url(fake.url, PKG), "packument")
    assert isinstance(result, FetchFailure) and result.status == 403


def test_a_packument_that_names_nobody_is_incomplete(fake: FakeRegistry, tmp_path: Path) -> None:
    """`maintainers: []` and no versions read as "no publishing accounts known", exit 0."""
    fake.reply(PATH, json_reply({"name": PKG, "maintainers": [], "versions": {}}))
    (tmp_path / "package.json").write_text(json.dumps({"name": PKG}))
    result = audit_repository(str(tmp_path), Policy(), {}, registry=fake.url)
    assert [f.rule.id for f in result.findings] == ["audit-incomplete"]
    assert "list of maintainers is empty" in result.findings[0].message
