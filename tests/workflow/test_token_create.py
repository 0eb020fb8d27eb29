"""`npm token create` flags as npm's option parser (nopt 10.0.1 in npm 12.2.3) reads them.

The expected values are what npm 12.2.3's own `@npmcli/config` makes of each command
line (loaded with that argv, the cli-level values printed).
"""

from __future__ import annotations

import pytest

from npm_guard.workflow import scan_workflow
from npm_guard.workflow.npm_options import npm_option_flags
from npm_guard.workflow.shell_bash import read_nested


def flags(command: str) -> dict[str, str | None]:
    (parsed,) = read_nested(command, 0, 0)
    return npm_option_flags(parsed.words[1:])


@pytest.mark.parametrize(
    ("command", "read_only"),
    [
        ("npm token create --read-only", "true"),
        ("npm token create --readonly", "true"),
        ("npm token create --read-only false", "false"),
        ("npm token create --read-only=false", "false"),
        ("npm token create --no-read-only", "false"),
        ("npm token create --read-only --no-read-only", "false"),
        ("npm token create --no-read-only --read-only", "true"),
        ("npm token create --read-only=true --read-only=false", "false"),
        ("npm token create --no-read-only false", "true"),
        ("npm token create --read-only foo", "true"),
        ("npm token create --read-only=yes", "true"),
        ("npm token create --read-only=False", "true"),
        ("npm token create --name ci", None),
    ],
)
def test_a_boolean_takes_only_true_or_false_and_the_last_one_wins(
    command: str, read_only: str | None
) -> None:
    assert flags(command).get("--read-only") == read_only


def test_values_and_the_words_that_are_not_theirs() -> None:
    assert flags("npm token create --expires=30 --expires=7")["--expires"] == "7"
    assert flags("npm token create --name foo --name bar")["--name"] == "bar"
    assert flags("npm token create --bypass-2fa=0")["--bypass-2fa"] == "true"
    parsed = flags("npm token create --packages-and-scopes-permission read-only --cidr=1.2.3.4/32")
    assert parsed["--packages-and-scopes-permission"] == "read-only"
    assert parsed["--cidr"] == "1.2.3.4/32"


def findings(run: str) -> list[str]:
    text = f"on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {run}\n"
    return [
        f.message
        for f in scan_workflow("w.yml", text)
        if f.rule.id == "workflow-token-create-not-read-only"
    ]


def test_read_only_alone_is_ignored_by_npm_and_said_so() -> None:
    (message,) = findings("npm token create --read-only --cidr 203.0.113.0/24 --expires 7")
    assert "`npm token create` ignores" in message
    assert "--packages-and-scopes-permission read-only" in message


def test_a_permission_npm_does_not_accept_is_named_as_dropped() -> None:
    (message,) = findings("npm token create --packages-and-scopes-permission write --cidr x")
    assert "`write` is none npm accepts" in message
    assert findings("npm token create --packages-and-scopes-permission read-only") == []
