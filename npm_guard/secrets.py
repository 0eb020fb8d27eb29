"""Recognising credentials offline, and showing them without leaking them.

Everything that turns a secret into text for a human goes through `redact()`:
npm tokens the way npm's own token list shows them (`npm_aBcD…7890`), every other
secret by kind, length and a short hash.
"""

from __future__ import annotations

import binascii
import functools
import re
import zlib
from collections.abc import Iterator
from enum import Enum

from npm_guard._record import dataclass

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# npm_ + 30 random base62 + 6 base62 CRC32 checksum. Lower-case-only bodies are
# still matched (gitleaks is case-insensitive too); the checksum decides confidence.
# Each pattern starts with its literal prefix, and looks behind it for the word boundary
# after that (`npm_(?<![A-Za-z0-9_]npm_)` is `(?<![A-Za-z0-9_])npm_`): a pattern that
# starts with a look-behind is tried at every position of the text, one that starts with
# a literal is searched for it first, some fifty times faster on a 2 MiB file.
NPM_TOKEN_RE = re.compile(r"npm_(?<![A-Za-z0-9_]npm_)[A-Za-z0-9]{36}(?![A-Za-z0-9_])")
# gh[pousr]_ + 30 + 6 checksum (GitHub's 2021 format); github_pat_ fine-grained tokens.
GITHUB_TOKEN_RE = re.compile(
    r"(?:gh[pousr]_(?<![A-Za-z0-9_]gh[pousr]_)[A-Za-z0-9]{36}"
    r"|github_pat_(?<![A-Za-z0-9_]github_pat_)[A-Za-z0-9]{22}_[A-Za-z0-9]{59})"
    r"(?![A-Za-z0-9_])"
)
UUID_RE = re.compile(
    r"[0-9A-Fa-f](?<![A-Za-z0-9-][0-9A-Fa-f])[0-9A-Fa-f]{7}"
    r"-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![A-Za-z0-9-])"
)
# Anything that looks like a reference or an example rather than a value. Compiled on
# first use: most files hold no value to ask about, and this pattern is slow to compile.
_PLACEHOLDER_PATTERN = r"""^(?:
        <[^<>]*>                                  # <YOUR_TOKEN>
      | \[[^\[\]]*\]                              # [token]
      | \{[^{}]*\}                                # {token}
      | (?:your|my|the|insert|put|enter|add|replace)(?:[-_ ]\S*|[A-Za-z]*)  # your-token-here
      | ([xX*._#-])\1{3,}                         # xxxx, ****, ....
      | (\S)\2{5,}                                # 00000000, aaaaaa
      | (?:npm|gh[pousr])_[xX*._-]+ | (?:npm|gh[pousr])_(?:[xX]{4}|\*{4})\S*
      | (?:npm|gh[pousr])_([A-Za-z0-9])\3+        # npm_000…0: one character repeated
      | (?:npm|gh[pousr])_(?:0123456789|1234567890|abcdefghij|ABCDEFGHIJ)\S*  # counting up
      | (?:token|secret|password|value|null|none|undefined|todo|tbd|fixme|string
         |fake|test|testing|foo|bar|baz|foobar|abc|abc123|123|1234|12345|123456)
    )$"""


@functools.cache
def _placeholder_re() -> re.Pattern[str]:
    return re.compile(_PLACEHOLDER_PATTERN, re.IGNORECASE | re.VERBOSE)


class CredentialKind(str, Enum):
    """What a credential-looking value is, in the words the messages use."""

    NPM_TOKEN = "npm token"
    NPM_TOKEN_BAD_CHECKSUM = "npm-shaped token whose checksum fails"
    LEGACY_UUID_TOKEN = "legacy UUID npm token"
    GITHUB_TOKEN = "GitHub token"
    GITHUB_TOKEN_BAD_CHECKSUM = "GitHub-shaped token whose checksum fails"
    BASIC_AUTH = "basic auth (_auth)"
    PASSWORD = "password (_password)"
    OPAQUE_TOKEN = "token"


LOW_CONFIDENCE_KINDS = frozenset(
    {CredentialKind.NPM_TOKEN_BAD_CHECKSUM, CredentialKind.GITHUB_TOKEN_BAD_CHECKSUM}
)


@dataclass(frozen=True)
class Credential:
    """A credential found in text; `start`/`end` index the text it was found in."""

    kind: CredentialKind
    value: str
    start: int
    end: int

    @property
    def redacted(self) -> str:
        return redact(self.value, self.kind)

    @property
    def description(self) -> str:
        """How messages name it: kind plus redacted form, never the value."""
        return f"{self.kind.value} {self.redacted}"


def base62(number: int, width: int = 6) -> str:
    """`number` in npm's and GitHub's base62 alphabet, left-padded with `0`."""
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, "0")


def checksum_ok(token: str) -> bool:
    """True when the last 6 chars are base62(CRC32) of the 30 random chars before them.

    Works for `npm_…` and `gh?_…` tokens: both use the 2021 GitHub token scheme, and the
    prefix is not part of the checksummed body.
    """
    _, _, rest = token.partition("_")
    if len(rest) != 36:
        return False
    body, check = rest[:30], rest[30:]
    return base62(zlib.crc32(body.encode("ascii")) & 0xFFFFFFFF) == check


def is_placeholder(value: str) -> bool:
    """Example values people put in docs: `<YOUR_TOKEN>`, `xxxxxxxx`, `npm_XXXX…`."""
    stripped = value.strip().strip("\"'")
    if not stripped:
        return True
    if _is_real_credential_shape(stripped):
        return False
    if _placeholder_re().match(stripped) is not None:
        return True
    # `\S*(?:here|…)\S*` as a pattern retries every split of a long word around the
    # word it looks for (quadratic); this is the same question, in one pass.
    return not any(c.isspace() for c in stripped) and any(
        word in stripped.lower() for word in _PLACEHOLDER_WORDS
    )


_PLACEHOLDER_WORDS = (
    "here",
    "placeholder",
    "changeme",
    "redacted",
    "example",
    "dummy",
    "sample",
    "fake",
)


def _is_real_credential_shape(value: str) -> bool:
    """A checksum-valid npm/GitHub token or a UUID: never an example, whatever it spells.

    Without this a legacy UUID token starting `add…` or a token containing `Here`
    would read as a placeholder and be missed.
    """
    if NPM_TOKEN_RE.fullmatch(value) or GITHUB_TOKEN_RE.fullmatch(value):
        return value.startswith("github_pat_") or checksum_ok(value)
    return UUID_RE.fullmatch(value) is not None


def find_tokens(text: str, *, uuids: bool = False) -> Iterator[Credential]:
    """Every npm or GitHub token in `text` (and legacy UUID tokens if asked), by position.

    UUIDs are everywhere in ordinary files, so callers ask for them only where a value
    is known to be an npm credential.
    """
    found: list[Credential] = []
    for match in NPM_TOKEN_RE.finditer(text):
        value = match.group()
        kind = (
            CredentialKind.NPM_TOKEN
            if checksum_ok(value)
            else CredentialKind.NPM_TOKEN_BAD_CHECKSUM
        )
        if kind is CredentialKind.NPM_TOKEN_BAD_CHECKSUM and is_placeholder(value):
            continue
        found.append(Credential(kind, value, match.start(), match.end()))
    for match in GITHUB_TOKEN_RE.finditer(text):
        value = match.group()
        if value.startswith("github_pat_") or checksum_ok(value):
            kind = CredentialKind.GITHUB_TOKEN
        else:
            kind = CredentialKind.GITHUB_TOKEN_BAD_CHECKSUM
            if is_placeholder(value):
                continue
        found.append(Credential(kind, value, match.start(), match.end()))
    for match in UUID_RE.finditer(text) if uuids else ():
        found.append(
            Credential(CredentialKind.LEGACY_UUID_TOKEN, match.group(), match.start(), match.end())
        )
    found.sort(key=lambda c: c.start)
    yield from found


def kept_quotes_inner(value: str) -> str:
    """The text inside quotes that npm kept: `'npm_…' ; note` is read as `'npm_…'`.

    ini strips quotes only when they wrap the whole value; with a comment after them it
    cuts the comment and keeps the quotes, so npm sends them as part of the value.
    """
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def classify_token_value(value: str) -> CredentialKind | None:
    """The kind of a whole `_authToken` value, or None for a placeholder / empty value."""
    value = value.strip()
    if not value or is_placeholder(value):
        return None
    whole = [c for c in find_tokens(value, uuids=True) if c.start == 0 and c.end == len(value)]
    if whole:
        return whole[0].kind
    return CredentialKind.OPAQUE_TOKEN


@dataclass(frozen=True)
class BasicAuth:
    """A decoded `_auth` value: the user is safe to show, the password never is."""

    username: str | None
    has_password: bool
    decodable: bool


def decode_basic_auth(value: str) -> BasicAuth:
    """Decode base64 `user:password`; the password is checked for presence, then dropped."""
    try:
        import base64

        raw = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return BasicAuth(None, False, False)
    user, sep, password = raw.partition(":")
    return BasicAuth(user if sep else None, bool(password), True)


def short_hash(value: str) -> str:
    """First 8 hex digits of SHA-256: enough to tell two secrets apart, useless to attack."""
    import hashlib

    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def redact(value: str, kind: CredentialKind | None = None) -> str:
    """A credential shown safely: `npm_aBcD…7890` for npm tokens, else kind/length/hash."""
    if (
        kind in (CredentialKind.NPM_TOKEN, CredentialKind.NPM_TOKEN_BAD_CHECKSUM)
        and len(value) == 40
    ):
        return f"{value[:8]}…{value[-4:]}"
    return f"<redacted, {len(value)} chars, sha256:{short_hash(value)}>"


HIDDEN = "***"
_HIDDEN_FORMS = frozenset({HIDDEN, "\\*\\*\\*"})  # as written, and escaped for Markdown
# Where the authority of a URL ends: its path, query or fragment, or white space.
_AUTHORITY_END_RE = re.compile(r"[/?#\s]")
_SCHEME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-")


@dataclass(frozen=True)
class UrlUserinfo:
    """The `user:password@` of a URL in some text; offsets index that text."""

    user: str
    password: str | None  # None: no `:` at all (`https://token@host/`)
    start: int  # of the user info
    password_start: int  # where the password starts (== end of the user info if None)
    end: int  # of the user info, before the `@`


def url_userinfo(text: str, *, scheme_relative: bool = False) -> Iterator[UrlUserinfo]:
    """The user info of every `scheme://user:password@` URL in `text`, in order; with
    `scheme_relative`, of every `//user:password@host` too (an `.npmrc` key).

    WHATWG URL parsing ends the user info at the last `@` before the path, and splits
    user from password at the first `:`. One pass over the text (no backtracking): each
    `//` is looked at once, up to the end of its authority, where the next one starts.
    """
    position = 0
    while True:
        slashes = text.find("//", position)
        if slashes < 0:
            return
        start = slashes + 2
        found = _AUTHORITY_END_RE.search(text, start)
        end_of_authority = found.start() if found else len(text)
        position = end_of_authority
        at = text.rfind("@", start, end_of_authority)
        if at < 0 or not (scheme_relative or _has_scheme(text, slashes)):
            continue
        user, sep, password = text[start:at].partition(":")
        password_start = start + len(user) + len(sep)
        yield UrlUserinfo(user, password if sep else None, start, password_start, at)


def _has_scheme(text: str, slashes: int) -> bool:
    """`scheme:` right before the `//` at `slashes`: scheme characters, one a letter."""
    if slashes == 0 or text[slashes - 1] != ":":
        return False
    index = slashes - 2
    letter = False
    while index >= 0 and text[index] in _SCHEME_CHARS:
        letter = letter or text[index].isalpha()
        index -= 1
    return letter


def show_user(name: str) -> str:
    """A user name as messages show it: as written, unless it holds a token."""
    if any(find_tokens(name, uuids=True)):
        return HIDDEN
    return name


def redact_url(text: str) -> str:
    """Every URL in `text` without its password: `http://alice:***@registry.example.com/`.

    A user part without a password is hidden too (`https://***@host/`): registries take
    tokens there, and a user name that is a token is hidden as well. Scheme-relative
    URLs count too: an `.npmrc` key `//ci:***@npm.example.com/:_authToken` loses its
    password the same way.
    """
    for info in reversed(list(url_userinfo(text, scheme_relative=True))):
        if (info.user if info.password is None else info.password) in _HIDDEN_FORMS:
            continue  # redacted already (maybe escaped since): `***` again could be Markdown
        shown = HIDDEN if info.password is None else f"{show_user(info.user)}:{HIDDEN}"
        text = text[: info.start] + shown + text[info.end :]
    return text


def scrub(text: str, secrets: Iterator[str] | list[str] | tuple[str, ...] = ()) -> str:
    """Replace every token-shaped string and every given secret in `text` by its redaction.

    The last line of defence for anything printed that might echo user input; URL
    passwords (`https://user:…@host/`) go too, whatever the URL is.
    """
    text = redact_url(text)
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, redact(secret))
    spans = list(find_tokens(text))
    for cred in reversed(spans):
        text = text[: cred.start] + cred.redacted + text[cred.end :]
    text = _GLUED_TOKEN_RE.sub(_redact_glued_match, text)
    text = _MARKDOWN_TOKEN_RE.sub(_redact_markdown_match, text)
    return _ESCAPED_TOKEN_RE.sub(_redact_match, text)


# A token glued to other word characters (`npm_…x`, `xnpm_…`, a directory named after it
# with a suffix) is no token to find_tokens(), whose boundaries keep longer words out of
# findings; printed, it is still the secret. Also in Markdown (`npm\_…`).
_GLUED_TOKEN_RE = re.compile(
    r"npm(?:_|\\_)[A-Za-z0-9]{36}|gh[pousr](?:_|\\_)[A-Za-z0-9]{36}"
    r"|github(?:_|\\_)pat(?:_|\\_)[A-Za-z0-9]{22}(?:_|\\_)[A-Za-z0-9]{59}"
)
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_\\")


def _redact_glued_match(match: re.Match[str]) -> str:
    text, start, end = match.string, match.start(), match.end()
    glued = (start > 0 and text[start - 1] in _WORD) or (end < len(text) and text[end] in _WORD)
    if not glued:
        return match.group()  # on its own: find_tokens() has judged it (a placeholder)
    if "\\_" in match.group():
        return _redact_markdown_match(match)
    return _redact_token(match.group())


# A token right after an escape sequence (`%20` in a SARIF URI or a link, `\n` or
# `\u00e9` in JSON) has a letter or digit before it, so find_tokens() does not see it.
_ESCAPED_TOKEN_RE = re.compile(
    r"(?:(?<=%[0-9A-Fa-f]{2})|(?<=\\u[0-9A-Fa-f]{4})|(?<=\\[nrtbf]))"
    r"(?:npm_[A-Za-z0-9]{36}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})"
    r"(?![A-Za-z0-9_])"
)


def _redact_token(value: str) -> str:
    return redact(value, CredentialKind.NPM_TOKEN if value.startswith("npm_") else None)


def _redact_match(match: re.Match[str]) -> str:
    return _redact_token(match.group())


# A token in Markdown (the job summary) has its `_` escaped as `\_`, which hides it from
# find_tokens(): `npm\_aBcD…` is still the whole token to a reader.
_MARKDOWN_TOKEN_RE = re.compile(
    r"(?<![A-Za-z0-9_\\])"
    r"(?:npm\\_[A-Za-z0-9]{36}|gh[pousr]\\_[A-Za-z0-9]{36}"
    r"|github\\_pat\\_[A-Za-z0-9]{22}\\_[A-Za-z0-9]{59})"
    r"(?![A-Za-z0-9_])"
)


def _redact_markdown_match(match: re.Match[str]) -> str:
    shown = _redact_token(match.group().replace("\\_", "_"))
    return shown.replace("_", "\\_").replace("<", "&lt;").replace(">", "&gt;")
