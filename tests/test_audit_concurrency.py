"""The audit's fetching: bounded concurrency.

Concurrency is measured by the fake registry itself (`InFlight`): it holds the first
requests until as many as the limit are in, so the peak is the limit exactly when the
bound holds, and more when it does not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_registry import FakeRegistry, InFlight, packument_doc, version_doc

from npm_guard.audit.client import RegistryClient
from npm_guard.audit.command import audit_repository
from npm_guard.policy import Policy

NAMES = [f"pkg-{i:02d}" for i in range(24)]


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as registry:
        for name in NAMES:
            registry.packument(
                packument_doc(name, ["alice"], [version_doc(name, "1.0.0", publisher="alice")])
            )
        yield registry


@pytest.mark.parametrize("limit", [1, 3, 8])
def test_requests_in_flight_never_exceed_the_concurrency(
    fake: FakeRegistry, tmp_path: Path, limit: int
) -> None:
    fake.in_flight = InFlight(limit)
    result = audit_repository(
        str(tmp_path), Policy(), {}, packages=NAMES, registry=fake.url, concurrency=limit
    )
    assert len(result.facts.packages) == len(NAMES)
    assert len(fake.requests) == len(NAMES)  # one packument each, no token
    assert fake.in_flight.peak == limit


def test_the_in_flight_count_sees_a_client_that_exceeds_its_limit(fake: FakeRegistry) -> None:
    fake.in_flight = InFlight(3)
    clients = [RegistryClient() for _ in range(5)]  # five clients: five requests at once
    threads = [
        threading.Thread(target=client.get_json, args=(f"{fake.url}{name}", "packument"))
        for client, name in zip(clients, NAMES)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    assert fake.in_flight.peak > 3
