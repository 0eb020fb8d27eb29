"""Test-wide guards (no network, no environment leaking in from CI or the shell) and
the fixtures many test modules share."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from npmrc_samples import Runner, make_runner

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fake_registry import FakeRegistry

_SCRUBBED_PREFIXES = ("GITHUB_", "RUNNER_", "NPM_GUARD_", "GHA_NPM_GUARD_")
_SCRUBBED_NAMES = ("CI", "NO_COLOR", "NPM_TOKEN", "NODE_AUTH_TOKEN")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_CACHES = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    """Some test modules load a policy file at import time, before any fixture runs: the
    policy cache points away from the real ~/.cache from the start of the session."""
    import tempfile

    os.environ["NPM_GUARD_CACHE_DIR"] = tempfile.mkdtemp(prefix="npm-guard-cache-")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.pop("NPM_GUARD_CACHE_DIR", ""), ignore_errors=True)


@pytest.fixture(autouse=True)
def _scrub_environment(monkeypatch: pytest.MonkeyPatch, _cache_base: Path) -> None:
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES) or name in _SCRUBBED_NAMES:
            monkeypatch.delenv(name, raising=False)
    # npm-guard's validated-policy cache (npm_guard.policy_cache): one empty cache per
    # test, never the real ~/.cache; subprocesses inherit it.
    monkeypatch.setenv("NPM_GUARD_CACHE_DIR", str(_cache_base / str(next(_CACHES))))


@pytest.fixture(scope="session")
def _cache_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("npm-guard-cache")


@pytest.fixture(autouse=True)
def _block_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only loopback connections: the tests' own registries and servers."""
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host in _LOOPBACK or host.startswith("127.")):
            return real_connect(self, address)  # type: ignore[arg-type]
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)  # type: ignore[arg-type]
        raise OSError(f"network access blocked in tests: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Runner:
    """`npm-guard ARGS...` in process: (exit code, stdout, stderr)."""
    from npm_guard import cli

    return make_runner(cli.main, capsys)


@pytest.fixture
def hook(capsys: pytest.CaptureFixture[str]) -> Runner:
    """The `npmrc-credentials` hook in process: (exit code, stdout, stderr)."""
    from npm_guard.hooks import npmrc_credentials

    return make_runner(npmrc_credentials.main, capsys)


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    """A local registry with nothing on it yet (tests/fake_registry.py)."""
    from fake_registry import FakeRegistry

    with FakeRegistry() as registry:
        yield registry


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One PRE_COMMIT_HOME per session: pre-commit builds the hooks' venv only once."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    yield home
    shutil.rmtree(home, ignore_errors=True)
