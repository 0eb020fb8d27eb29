"""`npm-guard attest`: a maintainer's own profile becomes a dated, expiring attestation."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from fake_registry import FakeRegistry, json_reply, npm_token, profile_doc

from npm_guard.audit.attest import add_to_policy_text, attest, attestation_entry, login_token
from npm_guard.errors import NpmGuardError
from npm_guard.policy_load import PolicyError, parse_policy

TODAY = datetime.date(2026, 3, 1)
SESSION = npm_token("SessionTokenFromNpmLogin0001")


def run_attest(
    fake: FakeRegistry, root: Path, *, write: bool = False, policy: str | None = None
) -> tuple[int, str, str]:
    userconfig = root / "user.npmrc"
    userconfig.write_text(f"//127.0.0.1:{fake.port}/:_authToken=${{MY_SESSION}}\n")
    if policy is not None:
        (root / ".npm-guard.yml").write_text(policy)
    out, err = io.StringIO(), io.StringIO()
    code = attest(
        root=str(root),
        env={"NPM_CONFIG_USERCONFIG": str(userconfig), "MY_SESSION": SESSION},
        registry=fake.url,
        policy_path=None,
        token_env=None,
        days=90,
        write=write,
        out=out,
        err=err,
        today=TODAY,
    )
    return code, out.getvalue(), err.getvalue()


def test_prints_the_entry_from_the_own_profile(fake: FakeRegistry, tmp_path: Path) -> None:
    fake.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
    code, out, err = run_attest(fake, tmp_path)
    assert code == 0, err
    assert out.endswith(
        "  - maintainer: alice\n"
        "    mode: auth-and-writes\n"
        '    date: "2026-03-01"\n'
        '    expires: "2026-05-30"\n'
        f'    registry: "{fake.url}"\n'
    )
    (request,) = fake.requests
    assert request.path == "/-/npm/v1/user"
    assert request.headers["authorization"] == f"Bearer {SESSION}"


def test_writes_into_the_policy_file_and_the_loader_accepts_it(
    fake: FakeRegistry, tmp_path: Path
) -> None:
    fake.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
    policy = (
        "version: 1\n"
        "attestations:\n"
        "  - maintainer: bob\n"
        "    mode: auth-and-writes\n"
        '    date: "2026-01-01"\n'
        '    expires: "2026-04-01"\n'
        "# trailing comment\n"
        "audit:\n"
        "  require-2fa: auth-and-writes\n"
    )
    code, _, err = run_attest(fake, tmp_path, write=True, policy=policy)
    assert code == 0, err
    text = (tmp_path / ".npm-guard.yml").read_text()
    loaded = parse_policy(text, ".npm-guard.yml")
    assert [a.maintainer for a in loaded.attestations] == ["bob", "alice"]
    assert loaded.attestations[1].expires == datetime.date(2026, 5, 30)
    assert [a.registry for a in loaded.attestations] == [None, fake.url]
    assert text.endswith("audit:\n  require-2fa: auth-and-writes\n")
    assert SESSION not in text + err


@pytest.mark.parametrize(
    ("tfa", "policy", "words"),
    [
        (False, None, "2FA is disabled on alice"),
        (None, None, "2FA is disabled on alice"),
        ({"pending": True, "mode": "auth-and-writes"}, None, "has not finished it"),
        ({"pending": False, "mode": "auth-only"}, None, "auth-only mode"),
    ],
)
def test_refuses(
    fake: FakeRegistry, tmp_path: Path, tfa: object, policy: str | None, words: str
) -> None:
    fake.profile(profile_doc("alice", tfa))
    code, out, err = run_attest(fake, tmp_path, write=True, policy=policy)
    assert code == 1 and out == "" and words in err
    assert not (tmp_path / ".npm-guard.yml").exists()


def test_auth_only_is_fine_under_an_auth_only_policy(fake: FakeRegistry, tmp_path: Path) -> None:
    fake.profile(profile_doc("alice", {"pending": False, "mode": "auth-only"}))
    code, out, _ = run_attest(
        fake, tmp_path, policy="version: 1\naudit:\n  require-2fa: auth-only\n"
    )
    assert code == 0 and "mode: auth-only" in out


def test_unreadable_profile_is_an_error(fake: FakeRegistry, tmp_path: Path) -> None:
    fake.reply("/-/npm/v1/user", json_reply({"error": "denied"}, 401))
    with pytest.raises(NpmGuardError, match=r"cannot read your profile.*HTTP 401"):
        run_attest(fake, tmp_path)


def test_login_token_follows_npm_nerf_dart_lookup(tmp_path: Path) -> None:
    config = tmp_path / "npmrc"
    config.write_text("//npm.example.com/:_authToken=root-token\n")
    env = {"NPM_CONFIG_USERCONFIG": str(config)}
    assert login_token("https://npm.example.com/deep/path/", env) == "root-token"
    assert login_token("https://other.example.com/", env) is None


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("", "version: 1\n\nattestations:\nENTRY"),
        ("version: 1\n", "version: 1\n\nattestations:\nENTRY"),
        ("attestations: []\nversion: 1\n", "attestations:\nENTRY" + "version: 1\n"),
        (
            "attestations:\n- maintainer: bob\n  mode: auth-only\nversion: 1",
            "attestations:\n- maintainer: bob\n  mode: auth-only\n"
            "- maintainer: alice\n  mode: auth-and-writes\nversion: 1\n",
        ),
    ],
)
def test_add_to_policy_text(before: str, after: str) -> None:
    entry = "  - maintainer: alice\n    mode: auth-and-writes\n"
    assert add_to_policy_text(before, entry) == after.replace("ENTRY", entry)


def test_creates_a_policy_file_when_there_is_none(fake: FakeRegistry, tmp_path: Path) -> None:
    fake.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
    code, _, err = run_attest(fake, tmp_path, write=True)
    assert code == 0, err
    loaded = parse_policy((tmp_path / ".npm-guard.yml").read_text(), ".npm-guard.yml")
    assert [(a.maintainer, a.mode) for a in loaded.attestations] == [("alice", "auth-and-writes")]


def test_the_registry_of_an_attestation_is_an_http_url() -> None:
    entry = "version: 1\nattestations:\n" + attestation_entry(
        "alice", "auth-and-writes", TODAY, 90, "https://npm.example.com/deep/"
    )
    (attestation,) = parse_policy(entry, ".npm-guard.yml").attestations
    assert attestation.registry == "https://npm.example.com/deep/"
    with pytest.raises(PolicyError, match=r"attestations\[0\]\.registry: expected an http\(s\)"):
        parse_policy(entry.replace("https://npm.example.com", "ftp://npm.example.com"), "x.yml")
