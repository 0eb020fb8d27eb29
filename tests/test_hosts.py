"""`is_loopback`: the one definition of "this machine" for the rules and the audit client."""

from __future__ import annotations

import pytest

from npm_guard.hosts import is_loopback


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "LOCALHOST",
        "registry.localhost",
        "127.0.0.1",
        "127.1.2.3",
        "127.0.0.1:4873",
        "::1",
        "[::1]",
        "[::1]:4873",
        "0:0:0:0:0:0:0:1",
    ],
)
def test_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "registry.npmjs.org",
        "127.0.0.1.evil.example",
        "128.0.0.1",
        "::2",
        "[::2]:80",
        "",
        "localhost.evil.example",
        "10.0.0.1",
    ],
)
def test_not_loopback(host: str) -> None:
    assert not is_loopback(host)
