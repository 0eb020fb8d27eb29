"""Hypothesis strategies shared by the robustness tests: `.npmrc`-like text with secrets."""

from __future__ import annotations

import base64
import re
import string
import zlib

from hypothesis import strategies as st

ALNUM = string.ascii_letters + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")


def editor_lines(text: str) -> int:
    """How many lines an editor shows (`\\n`, `\\r\\n` and a lone `\\r` end a line)."""
    return len(_LINE_BREAK_RE.findall(text)) + 1


def _base62(number: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(6, "0")


@st.composite
def checksummed_tokens(draw: st.DrawFn, prefix: str = "npm_") -> str:
    """A token with a valid CRC32 checksum (made here, not with npm_guard.secrets)."""
    body = draw(st.text(alphabet=ALNUM, min_size=30, max_size=30))
    return prefix + body + _base62(zlib.crc32(body.encode()) & 0xFFFFFFFF)


# Long and random enough never to occur by chance in a message or a tip.
opaque_secrets = st.text(alphabet=ALNUM, min_size=24, max_size=48).filter(lambda s: len(set(s)) > 8)
SCOPES = (
    "//registry.npmjs.org/",
    "//npm.pkg.github.com/",
    "//r.example.com/api/npm/npm-virtual/",
    "//localhost:4873/",
    "//10.0.0.5:8080/nexus/",
)


@st.composite
def secret_lines(draw: st.DrawFn) -> tuple[str, list[str]]:
    """One line that holds a credential, and the strings that must never be shown."""
    scope = draw(st.sampled_from(SCOPES))
    sep = draw(st.sampled_from(["=", " = ", "= ", "\t=\t"]))
    quote = draw(st.sampled_from(["", '"', "'"]))
    trailer = draw(st.sampled_from(["", " ; comment", " # note", "  "]))
    kind = draw(st.sampled_from(["token", "opaque", "auth", "password", "url", "comment", "gh"]))
    if kind == "token":
        value = draw(checksummed_tokens())
        return f"{scope}:_authToken{sep}{quote}{value}{quote}{trailer}", [value]
    if kind == "gh":
        value = draw(checksummed_tokens("ghp_"))
        return f"//npm.pkg.github.com/:_authToken{sep}{value}{trailer}", [value]
    if kind == "opaque":
        value = draw(opaque_secrets)
        unscoped = draw(st.booleans())
        key = "_authToken" if unscoped else f"{scope}:_authToken"
        return f"{key}{sep}{quote}{value}{quote}{trailer}", [value]
    if kind == "auth":
        password = draw(opaque_secrets)
        value = base64.b64encode(f"ci-bot:{password}".encode()).decode()
        return f"{scope}:_auth{sep}{value}{trailer}", [value, password]
    if kind == "password":
        password = draw(opaque_secrets)
        value = base64.b64encode(password.encode()).decode()
        return f"{scope}:_password{sep}{quote}{value}{quote}", [value, password]
    if kind == "url":
        password = draw(opaque_secrets)
        return f"@corp:registry=https://deploy:{password}@npm.corp.example/", [password]
    value = draw(checksummed_tokens())
    return f"{draw(st.sampled_from(['#', ';', '  #']))} old token {value}", [value]


plain_lines = st.sampled_from(
    [
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN?}",
        "//registry.npmjs.org/:_authToken=$NPM_TOKEN",
        "//npm.pkg.github.com/:_authToken=%GITHUB_TOKEN%",
        "//r.example.com/:_authToken=${{ secrets.NPM_TOKEN }}",
        "//r.example.com/:_authToken=\\${NPM_TOKEN}",
        "//r.example.com/:_authToken=<YOUR_TOKEN>",
        "//r.example.com/:username=deploy",
        "registry=https://registry.npmjs.org/",
        "registry=http://npm.corp.example/",
        "@corp:registry=https://npm.pkg.github.com/",
        "strict-ssl=false",
        "always-auth=true",
        "_authToken",
        "[section]",
        "[]",
        "# npm-guard: ignore-next-line[npmrc-plaintext-credential] test fixture",
        "; comment",
        "",
        "   ",
        "key[]=a",
        "__proto__=x",
    ]
)
junk_lines = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=60,
)


@st.composite
def npmrc_texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    """`.npmrc`-like text mixing credentials, references, settings and junk."""
    lines: list[str] = []
    secrets: list[str] = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        choice = draw(st.integers(min_value=0, max_value=9))
        if choice < 4:
            line, found = draw(secret_lines())
            lines.append(line)
            secrets.extend(found)
        elif choice < 8:
            lines.append(draw(plain_lines))
        else:
            lines.append(draw(junk_lines))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    final = draw(st.sampled_from(["", ending]))
    return bom + ending.join(lines) + final, secrets
