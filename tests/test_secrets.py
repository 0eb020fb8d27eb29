"""Recognising credentials and showing them safely: `npm_guard.secrets`."""

from __future__ import annotations

import base64
import random
import string
import zlib

import pytest

from npm_guard.secrets import (
    BASE62,
    CredentialKind,
    base62,
    checksum_ok,
    classify_token_value,
    decode_basic_auth,
    find_tokens,
    is_placeholder,
    kept_quotes_inner,
    redact,
    redact_url,
    scrub,
    short_hash,
    show_user,
    url_userinfo,
)

# The sample npm token published with Kingfisher's npm rule: checksum valid.
KINGFISHER_SAMPLE = "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"


def make_token(prefix: str = "npm_", seed: int = 0, *, valid: bool = True) -> str:
    """A token of the 2021 format with a checksum computed here, not by the code under test."""
    rng = random.Random(seed)
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(30))
    number = zlib.crc32(body.encode()) & 0xFFFFFFFF
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    check = digits.rjust(6, "0")
    if not valid:
        check = check[:-1] + ("A" if check[-1] != "A" else "B")
    return prefix + body + check


def test_base62_of_crc32_hello() -> None:
    assert base62(zlib.crc32(b"hello")) == "0zNvy2"


def test_base62_alphabet_and_padding() -> None:
    assert string.digits + string.ascii_uppercase + string.ascii_lowercase == BASE62
    assert base62(0) == "000000"
    assert base62(61) == "00000z"
    assert base62(62) == "000010"
    assert base62(0xFFFFFFFF) == "4gfFC3"  # the largest CRC32 still fits in 6 digits


def test_kingfisher_sample_checksum_is_valid() -> None:
    assert checksum_ok(KINGFISHER_SAMPLE)
    (found,) = find_tokens(KINGFISHER_SAMPLE)
    assert found.kind is CredentialKind.NPM_TOKEN


@pytest.mark.parametrize("seed", range(20))
def test_generated_tokens_checksum(seed: int) -> None:
    assert checksum_ok(make_token("npm_", seed))
    assert checksum_ok(make_token("ghp_", seed))
    assert not checksum_ok(make_token("npm_", seed, valid=False))


def test_checksum_rejects_wrong_lengths_and_case_changes() -> None:
    assert not checksum_ok(KINGFISHER_SAMPLE[:-1])
    assert not checksum_ok(KINGFISHER_SAMPLE + "A")
    assert not checksum_ok("npm_" + KINGFISHER_SAMPLE[4:].swapcase())
    assert not checksum_ok("no-underscore")


def test_find_tokens_kinds_and_positions() -> None:
    good = make_token("npm_", 1)
    bad = make_token("npm_", 2, valid=False)
    ghp = make_token("ghp_", 3)
    ghs_bad = make_token("ghs_", 4, valid=False)
    pat = "github_pat_" + "A1b2C3d4E5f6G7h8I9j0K1" + "_" + "x" * 20 + "Y7" * 19 + "z"
    text = f"a={good}\nb={bad} c={ghp}\n# {ghs_bad}\n{pat}\n"
    found = list(find_tokens(text))
    assert [(c.kind, c.value) for c in found] == [
        (CredentialKind.NPM_TOKEN, good),
        (CredentialKind.NPM_TOKEN_BAD_CHECKSUM, bad),
        (CredentialKind.GITHUB_TOKEN, ghp),
        (CredentialKind.GITHUB_TOKEN_BAD_CHECKSUM, ghs_bad),
        (CredentialKind.GITHUB_TOKEN, pat),
    ]
    for credential in found:
        assert text[credential.start : credential.end] == credential.value


def test_find_tokens_needs_word_boundaries() -> None:
    token = make_token("npm_", 5)
    assert not list(find_tokens("x" + token))
    assert not list(find_tokens(token + "Z"))
    assert not list(find_tokens("_" + token))
    assert [c.value for c in find_tokens(f'"{token}"')] == [token]


def test_find_tokens_uuids_only_when_asked() -> None:
    uuid = "87751d4c-a850-4e2c-84dc-da6a797d76de"
    assert not list(find_tokens(f"id={uuid}"))
    (found,) = find_tokens(f"id={uuid}", uuids=True)
    assert found.kind is CredentialKind.LEGACY_UUID_TOKEN and found.value == uuid


@pytest.mark.parametrize(
    "value",
    [
        "<YOUR_TOKEN>",
        "<token>",
        "[token]",
        "{token}",
        "xxxxxxxx",
        "XXXXXXXXXXXX",
        "********",
        "npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "npm_xxxx",
        "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "your-token-here",
        "YOUR_NPM_TOKEN",
        "yourtoken",
        "mytoken",
        "insert_token_here",
        "changeme",
        "token",
        "TODO",
        '"<YOUR_TOKEN>"',
        "",
        "   ",
        "npm_" + "0" * 36,  # one character repeated: no checksum can be that
        "ghp_" + "a" * 36,
        "npm_1234567890abcdefghijklmnopqrstuvwxyz",  # counting up
        "00000000",
        "fake",
        "fake-npm-token",
        "MY_FAKE_TOKEN",
        "test",
        "foobar",
    ],
)
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)
    assert classify_token_value(value) is None


@pytest.mark.parametrize(
    "value",
    [
        KINGFISHER_SAMPLE,
        make_token("npm_", 6),
        "addc3b5e-7d41-4f0a-9e52-3b8c1d6f2a90",  # a UUID that starts with "add"
        "87751d4c-a850-4e2c-84dc-da6a797d76de",
        "myA8f9Kq2LmZx0pQ",  # starts with "my" but is not a word
        "AKCp8kqX7T3vLm9ZRb2Wd4YcNf6Hs1Gu",
    ],
)
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)
    assert classify_token_value(value) is not None


def test_a_valid_token_spelling_a_placeholder_word_is_a_token() -> None:
    body = "Here" + "q" * 22 + "Demo"
    token = "npm_" + body + base62(zlib.crc32(body.encode()))
    assert checksum_ok(token)
    assert not is_placeholder(token)
    assert classify_token_value(token) is CredentialKind.NPM_TOKEN


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (KINGFISHER_SAMPLE, CredentialKind.NPM_TOKEN),
        (make_token("npm_", 7, valid=False), CredentialKind.NPM_TOKEN_BAD_CHECKSUM),
        ("87751d4c-a850-4e2c-84dc-da6a797d76de", CredentialKind.LEGACY_UUID_TOKEN),
        (make_token("ghp_", 8), CredentialKind.GITHUB_TOKEN),
        (make_token("gho_", 9, valid=False), CredentialKind.GITHUB_TOKEN_BAD_CHECKSUM),
        ("AKCp8kqX7T3vLm9ZRb2Wd4YcNf6Hs1Gu", CredentialKind.OPAQUE_TOKEN),
        (f"  {KINGFISHER_SAMPLE}  ", CredentialKind.NPM_TOKEN),
        (f"{KINGFISHER_SAMPLE}extra", CredentialKind.OPAQUE_TOKEN),
    ],
)
def test_classify_token_value(value: str, kind: CredentialKind) -> None:
    assert classify_token_value(value) is kind


def test_decode_basic_auth_names_the_user_and_drops_the_password() -> None:
    auth = decode_basic_auth(base64.b64encode(b"ci-bot:Tr0ub4dor&3").decode())
    assert auth.decodable and auth.username == "ci-bot" and auth.has_password
    assert "Tr0ub4dor" not in repr(auth)


@pytest.mark.parametrize(
    ("raw", "username", "has_password"),
    [
        (b"user:", "user", False),
        (b"user", None, False),
        (b":secret", "", True),
        (b"user:pa:ss", "user", True),
    ],
)
def test_decode_basic_auth_shapes(raw: bytes, username: str | None, has_password: bool) -> None:
    auth = decode_basic_auth(base64.b64encode(raw).decode())
    assert (auth.decodable, auth.username, auth.has_password) == (True, username, has_password)


@pytest.mark.parametrize("value", ["not base64!", "Zm9", base64.b64encode(b"\xff\xfe:x").decode()])
def test_decode_basic_auth_undecodable(value: str) -> None:
    auth = decode_basic_auth(value)
    assert not auth.decodable and auth.username is None


def test_redact_npm_tokens_like_npm_token_list() -> None:
    assert redact(KINGFISHER_SAMPLE, CredentialKind.NPM_TOKEN) == "npm_UEui…KSCV"
    bad = make_token("npm_", 10, valid=False)
    assert redact(bad, CredentialKind.NPM_TOKEN_BAD_CHECKSUM) == f"{bad[:8]}…{bad[-4:]}"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (make_token("ghp_", 11), CredentialKind.GITHUB_TOKEN),
        ("87751d4c-a850-4e2c-84dc-da6a797d76de", CredentialKind.LEGACY_UUID_TOKEN),
        ("s3cr3t-Pa55", CredentialKind.PASSWORD),
        ("Y2ktYm90OlRyMHViNGRvciYz", CredentialKind.BASIC_AUTH),
        (KINGFISHER_SAMPLE, None),  # without a kind, even an npm token is hashed
    ],
)
def test_redact_other_secrets_by_length_and_hash(value: str, kind: CredentialKind | None) -> None:
    shown = redact(value, kind)
    assert shown == f"<redacted, {len(value)} chars, sha256:{short_hash(value)}>"
    assert value not in shown
    assert len(short_hash(value)) == 8


def test_credential_description_never_holds_the_value() -> None:
    for credential in find_tokens(f"{KINGFISHER_SAMPLE} {make_token('ghp_', 12)}"):
        assert credential.value not in credential.description
        assert credential.kind.value in credential.description


def test_scrub_redacts_tokens_and_given_secrets() -> None:
    ghp = make_token("ghp_", 13)
    text = f"error near {KINGFISHER_SAMPLE} and {ghp}; password hunter22 again hunter22"
    scrubbed = scrub(text, ["hunter22"])
    assert KINGFISHER_SAMPLE not in scrubbed and ghp not in scrubbed
    assert "hunter22" not in scrubbed
    assert "npm_UEui…KSCV" in scrubbed
    assert scrubbed.count(f"sha256:{short_hash('hunter22')}") == 2
    assert scrubbed.startswith("error near ")


def test_scrub_ignores_tiny_secrets_and_keeps_plain_text() -> None:
    assert scrub("a b c", ["b"]) == "a b c"
    assert scrub("nothing secret here") == "nothing secret here"


def test_scrub_replaces_longer_secrets_first() -> None:
    scrubbed = scrub("value: abcdefgh", ["abcd", "abcdefgh"])
    assert "abcd" not in scrubbed
    assert f"sha256:{short_hash('abcdefgh')}" in scrubbed


def test_scrub_sees_tokens_through_markdown_escapes() -> None:
    """The job summary escapes `_` as `\\_`: `npm\\_…` is still the whole token to a reader."""
    ghp = make_token("ghp_", 14)
    escaped = [token.replace("_", "\\_") for token in (KINGFISHER_SAMPLE, ghp)]
    text = f"user '{escaped[0]}' and {escaped[1]}"
    scrubbed = scrub(text)
    assert KINGFISHER_SAMPLE[4:] not in scrubbed and ghp[4:] not in scrubbed
    assert "npm\\_UEui…KSCV" in scrubbed
    assert "&lt;redacted, 40 chars" in scrubbed  # still Markdown: no raw `<` tag
    assert scrub("a\\_b npm\\_short") == "a\\_b npm\\_short"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "http://alice:SuperSecretPw123@registry.example.com/",
            "http://alice:***@registry.example.com/",
        ),
        (
            "@corp:registry=http://bob:pw@corp.example/npm/",
            "@corp:registry=http://bob:***@corp.example/npm/",
        ),
        ("https://deploytoken@h.example/", "https://***@h.example/"),  # a lone user may be a token
        ("https://user:@h.example/", "https://user:***@h.example/"),
        ("http://a:b@c@d.example/x@y", "http://a:***@d.example/x@y"),  # WHATWG: the last @
        (f"https://{KINGFISHER_SAMPLE}:x@h/", "https://***:***@h/"),
        ("https://registry.npmjs.org/", "https://registry.npmjs.org/"),
        ("https://h.example/path@not-userinfo", "https://h.example/path@not-userinfo"),
        ("x http://u:p1@h/ y https://v:p2@k/", "x http://u:***@h/ y https://v:***@k/"),
    ],
)
def test_redact_url_hides_passwords(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_url_userinfo_spans() -> None:
    text = "registry=https://deploy:pa$$w0rd@npm.corp.example/ and https://tok@h/"
    first, second = url_userinfo(text)
    assert (first.user, first.password) == ("deploy", "pa$$w0rd")
    assert text[first.password_start : first.end] == "pa$$w0rd"
    assert text[first.start : first.end] == "deploy:pa$$w0rd"
    assert (second.user, second.password) == ("tok", None)


def test_show_user_hides_a_token_used_as_a_user_name() -> None:
    assert show_user("ci-bot") == "ci-bot"
    assert show_user(KINGFISHER_SAMPLE) == "***"
    assert show_user("87751d4c-a850-4e2c-84dc-da6a797d76de") == "***"


@pytest.mark.parametrize(
    ("value", "inner"),
    [("'npm_x'", "npm_x"), ('"npm_x"', "npm_x"), ("'npm_x\"", "'npm_x\""), ("'", "'"), ("x", "x")],
)
def test_kept_quotes_inner(value: str, inner: str) -> None:
    assert kept_quotes_inner(value) == inner
