"""What a workflow value refers to: `${{ secrets.X }}`, `${{ env.X }}`, literals.

GitHub substitutes `${{ … }}` before any shell or action sees the value, so these are
read from the raw text whatever the quoting. Names decide what is an npm credential:
the variables npm and the release tools read (`NODE_AUTH_TOKEN`, `NPM_TOKEN`,
`npm_config_…_authToken`, …) and secrets whose name says npm and token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from npm_guard._record import dataclass
from npm_guard.lazy_pattern import lazy_compile

_SECRET_RE = re.compile(
    r"\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])"
)
_ALL_SECRETS_RE = re.compile(r"\btoJSON\s*\(\s*secrets\s*\)", re.IGNORECASE)
_ENV_RE = re.compile(r"\benv\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")
_INPUT_RE = re.compile(
    r"\binputs\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])"
)
_VARS_RE = re.compile(r"\bvars\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])")
_GITHUB_TOKEN_RE = re.compile(r"\bgithub\s*\.\s*token\b|\bsecrets\s*\.\s*GITHUB_TOKEN\b")
_OTHER_CONTEXT_RE = re.compile(r"\b(?:steps|needs|matrix|jobs)\s*[.\[]")

# Variables npm or the release tools read a registry credential from.
CREDENTIAL_VARIABLES = frozenset(
    {
        "NODE_AUTH_TOKEN",
        "NPM_TOKEN",
        "NPM_AUTH_TOKEN",
        "YARN_NPM_AUTH_TOKEN",
        "NPM_CONFIG__AUTH",
        "NPM_CONFIG__AUTHTOKEN",
        "NPM_CONFIG__PASSWORD",
    }
)
_NPM_WORD_RE = re.compile(r"(?:^|[_-])NPM(?:JS)?(?:[_-]|$)", re.IGNORECASE)
_SECRET_WORD_RE = lazy_compile(r"TOKEN|(?:^|[_-])AUTH(?:[_-]|$)|PASSWORD", re.IGNORECASE)
_NPM_CONFIG_AUTH_RE = re.compile(r"^npm_config_.*(?:_authtoken|_auth|_password)$", re.IGNORECASE)
_PLACEHOLDER_RE = lazy_compile(r"[xX*#._-]+")
# What actions/setup-node puts in NODE_AUTH_TOKEN when given a registry-url and no token:
# a dummy (one of those `_PLACEHOLDER_RE` matches) that npm would send as the token.
SETUP_NODE_PLACEHOLDER_TOKEN = "XXXXX-XXXXX-XXXXX-XXXXX"


def is_credential_name(name: str) -> bool:
    """A variable or secret name that holds an npm registry credential by convention."""
    if name.upper() in CREDENTIAL_VARIABLES or _NPM_CONFIG_AUTH_RE.match(name):
        return True
    return _NPM_WORD_RE.search(name) is not None and _SECRET_WORD_RE.search(name) is not None


def expressions(text: str) -> Iterator[tuple[int, int, str]]:
    """`(start, end, body)` of every `${{ body }}` in `text`, as GitHub reads them: from
    `${{` to the first `}}` after it.

    One pass: what the lazy pattern `\\$\\{\\{(.*?)\\}\\}` finds, without its retry
    from every `${{` to the end of a text that never closes one (quadratic time on a
    `run:` of 100,000 `${{`).
    """
    position = 0
    while True:
        start = text.find("${{", position)
        if start < 0:
            return
        end = text.find("}}", start + 3)
        if end < 0:
            return  # no `}}` after this one, so after no later one either
        yield start, end + 2, text[start + 3 : end]
        position = end + 2


def _names(pattern: re.Pattern[str], text: str) -> tuple[str, ...]:
    return tuple(m.group(1) or m.group(2) for m in pattern.finditer(text))


@dataclass(frozen=True)
class ValueSource:
    """Where a value's text comes from once GitHub has substituted its expressions."""

    text: str
    secrets: tuple[str, ...] = ()  # secrets other than GITHUB_TOKEN
    github_token: bool = False
    all_secrets: bool = False  # toJSON(secrets)
    env: tuple[str, ...] = ()  # ${{ env.X }}
    inputs: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()  # ${{ vars.X }}
    other_context: bool = False  # steps.*, needs.*, matrix.*
    literal: str = ""  # the text outside expressions, stripped

    @property
    def npm_secrets(self) -> tuple[str, ...]:
        return tuple(s for s in self.secrets if is_credential_name(s))


def value_source(text: str) -> ValueSource:
    """Read the expressions of a value (a YAML scalar, a script)."""
    if "${{" not in text:
        return ValueSource(text, literal=text.strip())
    secrets: list[str] = []
    env: list[str] = []
    inputs: list[str] = []
    variables: list[str] = []
    github_token = all_secrets = other = False
    outside: list[str] = []
    position = 0
    for start, end, body in expressions(text):
        outside.append(text[position:start])
        position = end
        secrets.extend(s for s in _names(_SECRET_RE, body) if s.upper() != "GITHUB_TOKEN")
        github_token = github_token or _GITHUB_TOKEN_RE.search(body) is not None
        all_secrets = all_secrets or _ALL_SECRETS_RE.search(body) is not None
        env.extend(_names(_ENV_RE, body))
        inputs.extend(_names(_INPUT_RE, body))
        variables.extend(_names(_VARS_RE, body))
        other = other or _OTHER_CONTEXT_RE.search(body) is not None
    outside.append(text[position:])
    return ValueSource(
        text,
        tuple(dict.fromkeys(secrets)),
        github_token,
        all_secrets,
        tuple(dict.fromkeys(env)),
        tuple(dict.fromkeys(inputs)),
        tuple(dict.fromkeys(variables)),
        other,
        "".join(outside).strip(),
    )


def is_placeholder_literal(text: str) -> bool:
    """`SETUP_NODE_PLACEHOLDER_TOKEN` and the like: a dummy, not a credential."""
    return _PLACEHOLDER_RE.fullmatch(text.strip().strip("'\"")) is not None


def secret_references(text: str) -> list[tuple[str, int, int]]:
    """`(name, start, end)` of every `secrets.X` inside `${{ … }}` in `text`."""
    found: list[tuple[str, int, int]] = []
    for start, end, body in expressions(text):
        for secret in _SECRET_RE.finditer(body):
            name = secret.group(1) or secret.group(2)
            if name.upper() != "GITHUB_TOKEN":
                found.append((name, start, end))
    return found
