"""npmrc-unexpanded-variable: `$VAR`, `%VAR%`, `{{VAR}}`… that npm sends as literal text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from npm_guard.constants import SECRET_AUTH_KEYS
from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.npmrc import NpmrcEntry, NpmrcFile
from npm_guard.npmrc_env import env_references, unexpanded_variables
from npm_guard.rules._npmrc_common import (
    only_unexpanded_variables,
    registry_label,
    setting_name,
    value_location,
)
from npm_guard.secrets import short_hash, url_userinfo

RULE = Rule(
    id="npmrc-unexpanded-variable",
    summary="A variable reference that npm does not expand",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="npm expands only ${VAR} (or ${VAR?} for 'empty when unset'): write "
    "//registry.npmjs.org/:_authToken=${NPM_TOKEN}.",
    target="npmrc",
)


def check(npmrc: NpmrcFile) -> Iterator[Finding]:
    for entry in npmrc.entries:
        value = entry.string_value
        if value is None:
            continue
        secret = setting_name(entry) in SECRET_AUTH_KEYS
        what = (
            f"the credential for {registry_label(entry)}" if secret else f"the value of {entry.key}"
        )
        # A literal credential that merely contains `$` is npmrc-plaintext-credential's:
        # quoting a piece of it here would leak part of the secret.
        literal_secret = secret and not only_unexpanded_variables(value)
        # The same for the password of a URL (`https://deploy:pa$$w0rd@host/`).
        literal_passwords = literal_url_passwords(value)
        # Judged on the value npm sees (after ini's unescaping), located in the raw text.
        for variable in [] if literal_secret else unexpanded_variables(value):
            if any(
                start < variable.end and variable.start < end for start, end in literal_passwords
            ):
                continue
            fragment = variable.text.lstrip("\\") if variable.form == "\\${VAR}" else variable.text
            yield Finding(
                rule=RULE,
                location=value_location(npmrc, entry, fragment),
                message=(
                    f"{variable.text} ({variable.form} form) is not expanded by npm: "
                    f"{what} is sent as that literal text"
                ),
                key=f"{entry.key}:{variable.text}",
                tip=_rewrite_tip(entry, value, variable.text, _variable_name(variable.text)),
            )
        yield from _not_a_variable_name(npmrc, entry, value, what)


def literal_url_passwords(value: str) -> list[tuple[int, int]]:
    """Spans of URL passwords in `value` that are literal secrets, not broken references."""
    return [
        (info.password_start, info.end)
        for info in url_userinfo(value)
        if info.password and not only_unexpanded_variables(info.password)
    ]


_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _variable_name(text: str) -> str | None:
    """The variable meant by `$NPM_TOKEN`, `%X%`, `${{ secrets.NPM_TOKEN }}`…: its last name."""
    names = _ENV_NAME_RE.findall(text)
    return names[-1] if names else None


def _rewrite_tip(entry: NpmrcEntry, value: str, text: str, name: str | None) -> str:
    """The line as npm would expand it, for this key (a literal part is never repeated)."""
    if name is None:
        return ""
    reference = "${" + name + "}"
    if value.strip() == text:
        return (
            f"npm expands only ${{VAR}} (or ${{VAR?}} for 'empty when unset'): write "
            f"{entry.key}={reference} and set {name} in the environment."
        )
    return (
        f"npm expands only ${{VAR}} (or ${{VAR?}} for 'empty when unset'): write {reference} "
        f"instead of {text} and set {name} in the environment."
    )


_SHELL_OPERATOR_RE = re.compile(r"[:=+-]")


def _not_a_variable_name(
    npmrc: NpmrcFile, entry: NpmrcEntry, value: str, what: str
) -> Iterator[Finding]:
    """`${NPM_TOKEN:-default}`: npm has no shell operators, it looks up a variable literally
    named `NPM_TOKEN:-default`, finds none, and sends the text as it is."""
    for reference in env_references(value):
        if _ENV_NAME_RE.fullmatch(reference.name):
            continue
        text = value[reference.start : reference.end]
        # What follows a shell operator may be a default value, that is a secret: not shown.
        head = _SHELL_OPERATOR_RE.split(reference.name, maxsplit=1)[0].strip()
        shown = "${" + head + ("…}" if head != reference.name else "}")
        yield Finding(
            rule=RULE,
            location=value_location(npmrc, entry, text),
            message=(
                f"{shown} is not expanded by npm: the name between ${{ and }} is not a "
                f"variable name (npm has no ${{VAR:-default}} syntax), so {what} is sent as "
                f"that literal text"
            ),
            key=f"{entry.key}:{short_hash(text)}",
            tip=_rewrite_tip(entry, value, text, head if _ENV_NAME_RE.fullmatch(head) else None),
        )
