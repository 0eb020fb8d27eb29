"""The validated-policy cache: an unchanged policy file costs neither jsonschema nor
PyYAML at start-up, and a cache that changed hands or cannot be written changes nothing.

Every test gets its own empty cache (`NPM_GUARD_CACHE_DIR`, set in conftest.py), so
nothing here touches the real ~/.cache.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from npm_guard import policy_cache
from npm_guard.policy_load import PolicyError, _schema_bytes, load_policy

POLICY = """\
version: 1
rules: {npmrc-insecure-registry: off}
ignore:
  - {rule: npmrc-plaintext-credential, path: test/**, reason: fake tokens}
tokens:
  NPM_PUBLISH_TOKEN: {permission: read-write, cidr: [203.0.113.0/24], max-expiry-days: 30}
attestations:
  - {maintainer: alice, mode: auth-and-writes, date: "2026-11-01", expires: "2027-02-01"}
"""
HEAVY = ("yaml", "jsonschema")
# The policy turns the insecure-registry warning off: exit 0 only if it was applied.
HOOK_RUN = (
    "import sys\n"
    "from npm_guard.hooks.npmrc_credentials import main\n"
    "code = main(['--fail-on', 'warning', '.npmrc'])\n"
    f"print(code, sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / ".npmrc").write_text("strict-ssl=false\n")
    (root / ".npm-guard.yml").write_text(POLICY)
    monkeypatch.chdir(root)
    return root


def hook_run(cwd: Path) -> tuple[str, str]:
    """(exit code, heavy modules imported) of one hook run in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", HOOK_RUN], cwd=cwd, capture_output=True, text=True, check=True
    )
    code, _, modules = proc.stdout.strip().splitlines()[-1].partition(" ")
    return code, modules


def test_a_cached_valid_policy_imports_neither_jsonschema_nor_yaml(project: Path) -> None:
    assert hook_run(project) == ("0", "['jsonschema', 'yaml']")  # validated, remembered
    assert hook_run(project) == ("0", "[]")  # same file: applied from the cache
    assert hook_run(project) == ("0", "[]")


def test_a_policy_holding_a_token_is_never_stored(project: Path) -> None:
    """The schema takes any reason, so a pasted token would land in the cache: it must not."""
    from npmrc_samples import NPM_TOKEN

    (project / ".npm-guard.yml").write_text(POLICY.replace("fake tokens", f"see {NPM_TOKEN}"))
    assert hook_run(project) == ("0", "['jsonschema', 'yaml']")
    assert hook_run(project) == ("0", "['jsonschema', 'yaml']")  # validated again: no entry
    directory = Path(os.environ[policy_cache.CACHE_ENV])
    assert not directory.exists() or not any(directory.iterdir())


def test_the_cache_is_private(project: Path) -> None:
    hook_run(project)
    directory = Path(os.environ[policy_cache.CACHE_ENV])
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    (entry,) = directory.iterdir()
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        ("tokens:", "tokenz:"),  # the schema's
        ("203.0.113.0/24", "300.0.113.0/24"),  # a check beyond the schema
    ],
)
def test_an_edited_policy_is_validated_again(project: Path, edit: str, problem: str) -> None:
    assert hook_run(project)[0] == "0"
    (project / ".npm-guard.yml").write_text(POLICY.replace(edit, problem))
    proc = subprocess.run(
        [sys.executable, "-m", "npm_guard.hooks.npmrc_credentials", ".npmrc"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "invalid policy file, 1 problem" in proc.stderr
    assert problem.split(":")[0].split("/")[0] in proc.stderr


def test_checks_beyond_the_schema_run_on_a_cache_hit(project: Path) -> None:
    """A hit skips only the YAML parse and the schema: an entry holding a range npm would
    refuse (here written by hand) is still refused."""
    load_policy(None, str(project))
    text = POLICY
    data = {
        "version": 1,
        "tokens": {"NPM_PUBLISH_TOKEN": {"permission": "read-write", "cidr": ["300.0.0.0/8"]}},
    }
    policy_cache.remember_document(text, _schema_bytes(), data, {}, {})
    with pytest.raises(PolicyError, match="expected an IPv4 or IPv6 range"):
        load_policy(None, str(project))


def test_an_unwritable_cache_still_validates(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv(policy_cache.CACHE_ENV, str(blocker / "cache"))
    for _ in range(2):
        assert hook_run(project) == ("0", "['jsonschema', 'yaml']")


def test_a_cache_others_may_write_to_is_not_trusted(project: Path) -> None:
    assert hook_run(project)[1] == "['jsonschema', 'yaml']"
    directory = Path(os.environ[policy_cache.CACHE_ENV])
    directory.chmod(0o777)
    assert hook_run(project) == ("0", "['jsonschema', 'yaml']")  # validated again
    directory.chmod(0o700)
    assert hook_run(project) == ("0", "[]")


def test_a_broken_entry_is_a_miss(project: Path) -> None:
    assert hook_run(project)[1] == "['jsonschema', 'yaml']"
    directory = Path(os.environ[policy_cache.CACHE_ENV])
    for entry in directory.iterdir():
        entry.write_bytes(b"\x00not marshal data")
    assert hook_run(project) == ("0", "['jsonschema', 'yaml']")


def test_where_the_cache_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(policy_cache.CACHE_ENV, str(tmp_path / "explicit"))
    assert policy_cache.cache_directory() == str(tmp_path / "explicit")
    monkeypatch.delenv(policy_cache.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert policy_cache.cache_directory() == str(tmp_path / "xdg" / "npm-guard")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert policy_cache.cache_directory() == str(tmp_path / "home" / ".cache" / "npm-guard")
