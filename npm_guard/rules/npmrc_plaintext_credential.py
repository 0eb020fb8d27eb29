"""npmrc-plaintext-credential: a literal token, password or basic auth in an `.npmrc`."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard._record import dataclass
from npm_guard.constants import NPMJS_NERF_DART, SECRET_AUTH_KEYS
from npm_guard.findings import Confidence, Finding, Location, Rule, Severity
from npm_guard.npmrc import (
    NpmrcEntry,
    NpmrcFile,
    commented_entries,
    nerf_dart,
    registry_url_for_scope,
    split_scoped_key,
)
from npm_guard.npmrc_env import env_references
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
    redact_url,
    short_hash,
    show_user,
    url_userinfo,
)
from npm_guard.token_advice import (
    how_to_revoke,
    registry_supports_tokens,
    tokens_to_fix,
    variable_for_scope,
    variables_for_scopes,
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


@dataclass(frozen=True)
class _Variables:
    """The `${VAR}` names the tips suggest, per registry scope of one file."""

    tokens: dict[str | None, str]  # exactly the names `--fix` will write
    others: dict[str | None, str]  # for `_auth`, `_password` and URL passwords

    def token(self, scope: str | None) -> str:
        return self.tokens.get(scope) or self.others.get(scope) or variable_for_scope(scope)

    def basic(self, scope: str | None, setting: str) -> str:
        """`NPM_AUTH_<HOST>` / `NPM_PASSWORD_<HOST>` beside `NPM_TOKEN_<HOST>`."""
        word = "NPM_AUTH" if setting == "_auth" else "NPM_PASSWORD"
        name = self.others.get(scope) or variable_for_scope(scope)
        return word + name[len("NPM_TOKEN") :] if name.startswith("NPM_TOKEN") else word


def _variables(npmrc: NpmrcFile) -> _Variables:
    others: list[str | None] = []
    for entry in npmrc.entries:
        scoped = split_scoped_key(entry.key)
        if scoped.name in ("_auth", "_password"):
            others.append(scoped.scope)
        elif entry.string_value is not None and any(url_userinfo(entry.string_value)):
            others.append(_url_scope(entry.string_value))
    tokens = variables_for_scopes(token.scope for token in tokens_to_fix(npmrc))
    return _Variables(tokens, variables_for_scopes(others))


def _url_scope(value: str) -> str | None:
    """The nerf-dart of a registry URL value, or None when the value is not one URL."""
    value = value.strip()
    return nerf_dart(value) if value.startswith(("http://", "https://")) else None


def check(npmrc: NpmrcFile) -> Iterator[Finding]:
    covered: list[tuple[int, int]] = []
    variables = _variables(npmrc)
    for entry in npmrc.entries:
        finding = _auth_value_finding(npmrc, entry, variables)
        if finding is not None:
            if entry.value_start is not None and entry.value_end is not None:
                covered.append((entry.value_start, entry.value_end))
            yield finding
        yield from _url_password_findings(npmrc, entry, variables)
    # A line npm ignores is still in the file (and in git history): the same finding.
    for entry, finding in _commented(npmrc, variables):
        if entry.value_start is not None and entry.value_end is not None:
            covered.append((entry.value_start, entry.value_end))
        yield finding
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
            tip=(
                f"{how_to_revoke(credential.kind, credential.redacted, credential.value, None)}. "
                f"Then delete it from this file (git history keeps it until that is rewritten)."
            ),
            confidence=Confidence.LOW if credential.kind in LOW_CONFIDENCE_KINDS else None,
            properties={"credential_kind": credential.kind.value},
        )


def commented_credentials(npmrc: NpmrcFile) -> list[Finding]:
    """The findings for credentials in commented-out lines (`--fix` leaves those lines
    alone and says so)."""
    return [finding for _, finding in _commented(npmrc, _variables(npmrc))]


def _commented(npmrc: NpmrcFile, variables: _Variables) -> Iterator[tuple[NpmrcEntry, Finding]]:
    for entry in commented_entries(npmrc):
        finding = _auth_value_finding(npmrc, entry, variables, commented=True)
        if finding is not None:
            yield entry, finding


_COMMENTED = (
    "; the line is commented out, so npm ignores it, but the value is committed like any other line"
)


def _auth_value_finding(
    npmrc: NpmrcFile, entry: NpmrcEntry, variables: _Variables, *, commented: bool = False
) -> Finding | None:
    name = setting_name(entry)
    value = entry.string_value
    if name not in SECRET_AUTH_KEYS or value is None:
        return None
    if env_references(value) or only_unexpanded_variables(value) or is_placeholder(value):
        return None  # a reference, the other rule's business, or an example
    registry = registry_label(entry)
    properties = {"registry": registry}
    confidence: Confidence | None = None
    tip = first = ""
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
        scope = split_scoped_key(entry.key).scope
        first = how_to_revoke(kind, shown, token, scope)
        tip = (
            f"{first}. Then write "
            f"{_prefix(entry)}:_authToken=${{{variables.token(scope)}}} and pass the token in "
            f"the environment (`npm-guard scan --fix` rewrites the line)."
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
        first = _change_password(_prefix(entry), auth.username)
        tip = _basic_auth_tip(entry, auth.username, variables, "_auth")
    else:
        user_entry = same_scope(npmrc, entry, "username")
        user = user_entry.string_value if user_entry is not None else None
        who = f" for user '{show_user(user)}'" if user else ""
        message = (
            f"a password (_password){who} is stored in plain text for {registry} "
            f"(it is only base64-encoded; base64 is not encryption)"
        )
        properties["credential_kind"] = CredentialKind.PASSWORD.value
        first = _change_password(_prefix(entry), user)
        tip = _basic_auth_tip(entry, user, variables, "_password")
    key = f"{entry.key}:{short_hash(value)}"
    if commented:
        message += _COMMENTED
        # `--fix` rewrites settings, not comments: the line is for the user to delete.
        tip = (
            f"{first}. Then delete the commented-out line (`npm-guard scan --fix` leaves "
            f"comments as they are; git history keeps the value until it is rewritten)."
        )
        key = f"comment:{key}"
    return Finding(
        rule=RULE,
        location=value_location(npmrc, entry),
        message=message,
        key=key,
        tip=tip,
        confidence=confidence,
        properties=properties,
    )


def _prefix(entry: NpmrcEntry) -> str:
    """The `//host/path/` part of an auth key; npm's default registry for an unscoped one."""
    return split_scoped_key(entry.key).scope or NPMJS_NERF_DART


def _basic_auth_tip(
    entry: NpmrcEntry, user: str | None, variables: _Variables, setting: str
) -> str:
    """Change the password, then reference it: a token where the registry takes one."""
    scope = split_scoped_key(entry.key).scope
    return _password_tip(scope, _prefix(entry), user, variables, setting)


def _password_tip(
    scope: str | None,
    prefix: str,
    user: str | None,
    variables: _Variables,
    setting: str,
    *,
    in_url: bool = False,
) -> str:
    first = _change_password(prefix, user)
    if in_url:
        first += " and remove the user:password@ part of the URL"
    token = f"{prefix}:_authToken=${{{variables.token(scope)}}}"
    if registry_supports_tokens(scope):
        return f"{first}; then use a token instead: write {token} and pass it in the environment."
    basic = variables.basic(scope, setting)
    if setting == "_password":
        form = (
            f"{prefix}:_password=${{{basic}}} (the password, base64-encoded, in the "
            f"environment) next to {prefix}:username"
        )
    else:
        form = f"{prefix}:_auth=${{{basic}}} (base64 of user:password, in the environment)"
    return f"{first}; then write {form}, or {token} if the registry issues tokens."


def _change_password(prefix: str, user: str | None) -> str:
    where = redact_url(registry_url_for_scope(prefix))
    whose = f"the password of user '{show_user(user)}'" if user else "the password behind it"
    return f"Change {whose} on {where} (it is in git history now)"


def _url_password_findings(
    npmrc: NpmrcFile, entry: NpmrcEntry, variables: _Variables
) -> Iterator[Finding]:
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
            tip=_url_password_tip(value, info.user, variables),
            properties={"credential_kind": "password in URL"},
        )


def _url_password_tip(value: str, user: str, variables: _Variables) -> str:
    scope = _url_scope(value)
    return _password_tip(scope, scope or "//host/", user, variables, "_auth", in_url=True)
