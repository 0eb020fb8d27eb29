"""The audit's fetching: bounded concurrency, and progress on a terminal.

Concurrency is measured by the fake registry itself (`InFlight`): it holds the first
requests until as many as the limit are in, so the peak is the limit exactly when the
bound holds, and more when it does not.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_registry import FakeRegistry, InFlight, packument_doc, version_doc

from npm_guard.audit.client import RegistryClient
from npm_guard.audit.command import PROGRESS_THRESHOLD, audit_repository
from npm_guard.audit.run import AuditRequest, run_audit
from npm_guard.audit.workspace import PackageTarget
from npm_guard.cli import main
from npm_guard.policy import Policy

ROOT = Path(__file__).resolve().parent.parent
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


def test_progress_counts_up_in_the_calling_thread(fake: FakeRegistry) -> None:
    seen: list[tuple[int, int, bool]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total, threading.current_thread() is threading.main_thread()))

    request = AuditRequest(
        targets=[PackageTarget(name, fake.url) for name in NAMES], policy=Policy(), concurrency=8
    )
    with RegistryClient(token_registry=fake.url) as client:
        run_audit(request, client, token=None, progress=progress)
    assert seen == [(i, len(NAMES), True) for i in range(1, len(NAMES) + 1)]


def _cli_stderr(
    fake: FakeRegistry,
    names: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    *,
    tty: bool,
) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
    assert main(["audit", "--registry", fake.url, *names]) == 0
    return capsys.readouterr().err


def test_progress_on_a_terminal_ends_at_n_of_n(
    fake: FakeRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    names = NAMES[: PROGRESS_THRESHOLD + 1]
    err = _cli_stderr(fake, names, monkeypatch, capsys, tmp_path, tty=True)
    steps = [line for line in err.split("\r") if line.startswith("npm-guard: audited")]
    total = len(names)
    assert steps[:-1] == [f"npm-guard: audited {i}/{total} packages" for i in range(1, total)]
    assert steps[-1].startswith(f"npm-guard: audited {total}/{total} packages\n")


@pytest.mark.parametrize(("count", "tty"), [(PROGRESS_THRESHOLD, True), (24, False)])
def test_no_progress_for_a_few_packages_or_off_a_terminal(
    fake: FakeRegistry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    count: int,
    tty: bool,
) -> None:
    err = _cli_stderr(fake, NAMES[:count], monkeypatch, capsys, tmp_path, tty=tty)
    assert "audited" not in err
    assert "no token" in err  # stderr was captured: the notice is there, progress is not


def test_progress_on_a_real_terminal(fake: FakeRegistry, tmp_path: Path) -> None:
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NPM_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    with subprocess.Popen(
        [sys.executable, "-m", "npm_guard", "audit", "--registry", fake.url, *NAMES],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=slave,
    ) as child:
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert child.wait(timeout=60) == 0
    os.close(master)
    err = b"".join(chunks).decode()
    assert f"\rnpm-guard: audited {len(NAMES)}/{len(NAMES)} packages\r\n" in err
