"""npmrc-plaintext-credential: a literal token, password or basic auth in an `.npmrc`."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Location, Rule, Severity
from npm_guard.fix import variable_for_scope
from npm_guard.npmrc import (
    NpmrcEntry,
    NpmrcFile,
    env_references,
    split_scoped_key,
)
from npm_guard.rules._npmrc_common import (
    only_unexpanded_variables,
    registry_label,
    same_scope,
    setting_name,
    value_location,
)
from npm_guard.secrets import (
    LOW_CONFIDENCE_KINDS,
    CredentialKind,
    classify_token_value,
    decode_basic_auth,
    find_tokens,
    is_placeholder,
    kept_quotes_inner,
    redact,
    short_hash,
    show_user,
    url_userinfo,
)

RULE = Rule(
    id="npmrc-plaintext-credential",
    summary="A credential written into an .npmrc file",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Revoke the credential first (it is in git history now), then reference it: "
    "//registry.npmjs.org/:_authToken=${NPM_TOKEN}. `npm-guard scan --fix` rewrites the line.",
    target="npmrc",
)

_REVOKE_NPM = (
    "Revoke it: `npm token list` shows it as {shown}; `npm token revoke <id>` or "
    "https://www.npmjs.com/settings/~/tokens. Then write {scope}:_authToken=${{{variable}}} "
    "and pass the token in the environment (`npm-guard scan --fix` rewrites the line)."
)
_KIND_NOTES = {
    CredentialKind.NPM_TOKEN: "checksum valid: a real npm token",
    CredentialKind.NPM_TOKEN_BAD_CHECKSUM: (
        "its checksum fails, so it may be a made-up example; lower confidence"
    ),
    CredentialKind.LEGACY_UUID_TOKEN: (
        "npm revoked every classic token on 2025-12-09, but it is still a leak: other "
        "registries issue UUID tokens and values get reused"
    ),
    CredentialKind.GITHUB_TOKEN: "GitHub tokens usually grant far more than package access",
    CredentialKind.GITHUB_TOKEN_BAD_CHECKSUM: (
        "its checksum fails, so it may be a made-up example; lower confidence"
    ),
    CredentialKind.OPAQUE_TOKEN: "a literal value, not a ${VAR} reference",
}


def check(npmrc: NpmrcFile) -> Iterator[Finding]:
    covered: list[tuple[int, int]] = []
    for entry in npmrc.entries:
        finding = _auth_value_finding(npmrc, entry)
        if finding is not None:
            if entry.value_start is not None and entry.value_end is not None:
                covered.append((entry.value_start, entry.value_end))
            yield finding
        yield from _url_password_findings(npmrc, entry)
    # A token anywhere else: comments, sections, odd keys, values of other settings.
    for credential in find_tokens(npmrc.text):
        if any(start <= credential.start < end for start, end in covered):
            continue
        line, column = npmrc.position(credential.start)
        yield Finding(
            rule=RULE,
            location=Location(npmrc.path, line, column, line, column + len(credential.value)),
            message=(
                f"{credential.description} is written in this file outside any auth setting "
                f"({_KIND_NOTES[credential.kind]})"
            ),
            key=f"text:{short_hash(credential.value)}",
            confidence=Confidence.LOW if credential.kind in LOW_CONFIDENCE_KINDS else None,
            properties={"credential_kind": credential.kind.value},
        )


def _auth_value_finding(npmrc: NpmrcFile, entry: NpmrcEntry) -> Finding | None:
    name = setting_name(entry)
    value = entry.string_value
    if name not in ("_authToken", "_auth", "_password") or value is None:
        return None
    if env_references(value) or only_unexpanded_variables(value) or is_placeholder(value):
        return None  # a reference, the other rule's business, or an example
    registry = registry_label(entry)
    properties = {"registry": registry}
    confidence: Confidence | None = None
    tip = ""
    if name == "_authToken":
        token = kept_quotes_inner(value)
        kind = classify_token_value(token)
        if kind is None:
            return None
        shown = redact(token, kind)
        note = _KIND_NOTES[kind]
        if token != value:
            note += "; npm keeps the quotes around it, so as written it does not even work"
        message = f"{kind.value} {shown} is stored in plain text for {registry} ({note})"
        if kind in LOW_CONFIDENCE_KINDS:
            confidence = Confidence.LOW
        elif kind is CredentialKind.OPAQUE_TOKEN:
            confidence = Confidence.MEDIUM
        if kind in (CredentialKind.NPM_TOKEN, CredentialKind.NPM_TOKEN_BAD_CHECKSUM):
            scoped = split_scoped_key(entry.key)
            tip = _REVOKE_NPM.format(
                shown=shown,
                scope=entry.key.rpartition(":")[0] or "//registry.npmjs.org/",
                variable=variable_for_scope(scoped.scope),
            )
        properties["credential_kind"] = kind.value
    elif name == "_auth":
        auth = decode_basic_auth(value)
        if auth.decodable and auth.username is not None:
            message = (
                f"basic auth for user '{show_user(auth.username)}' is stored in plain text "
                f"for {registry} "
                f"(_auth is only base64 of user:password; base64 is not encryption)"
            )
        else:
            message = (
                f"an _auth value {redact(value, CredentialKind.BASIC_AUTH)} is stored in "
                f"plain text for {registry} (it does not decode as user:password, but npm "
                f"sends it as Basic credentials anyway)"
            )
            confidence = Confidence.MEDIUM
        properties["credential_kind"] = CredentialKind.BASIC_AUTH.value
    else:
        user_entry = same_scope(npmrc, entry, "username")
        user = user_entry.string_value if user_entry is not None else None
        who = f" for user '{show_user(user)}'" if user else ""
        message = (
            f"a password (_password){who} is stored in plain text for {registry} "
            f"(it is only base64-encoded; base64 is not encryption)"
        )
        properties["credential_kind"] = CredentialKind.PASSWORD.value
    return Finding(
        rule=RULE,
        location=value_location(npmrc, entry),
        message=message,
        key=f"{entry.key}:{short_hash(value)}",
        tip=tip,
        confidence=confidence,
        properties=properties,
    )


def _url_password_findings(npmrc: NpmrcFile, entry: NpmrcEntry) -> Iterator[Finding]:
    value = entry.string_value
    if value is None:
        return
    for info in url_userinfo(value):
        password = info.password
        if not password or env_references(password) or is_placeholder(password):
            continue
        if only_unexpanded_variables(password):
            continue  # `$NPM_PASSWORD`: a broken reference, npmrc-unexpanded-variable's
        yield Finding(
            rule=RULE,
            location=value_location(npmrc, entry, password),
            message=(
                f"the URL in {entry.key} carries a password for user '{show_user(info.user)}' "
                f"({redact(password, CredentialKind.PASSWORD)}); npm sends it as Basic auth"
            ),
            key=f"{entry.key}:url:{short_hash(password)}",
            tip="Remove the user:password@ part of the URL and configure "
            "//host/:_authToken=${TOKEN} (or _auth=${AUTH}) instead.",
            properties={"credential_kind": "password in URL"},
        )
