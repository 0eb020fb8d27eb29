"""policy-plaintext-credential: an npm or GitHub token written into the policy file.

The policy file names CI secrets (`tokens: {NPM_PUBLISH_TOKEN: …}`); it never holds
them. A token pasted as a `tokens:` key or into a `reason:` is committed like any
other file, and the schema cannot tell (a token is a valid secret name).
"""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Location, Rule, Severity
from npm_guard.secrets import LOW_CONFIDENCE_KINDS, CredentialKind, find_tokens, short_hash

RULE = Rule(
    id="policy-plaintext-credential",
    summary="A credential written into the policy file",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Revoke the token first (it is in git history now). The policy file holds the "
    "names of CI secrets, never their values: under `tokens:` write the secret's name "
    "(NPM_PUBLISH_TOKEN), as in `${{ secrets.NPM_PUBLISH_TOKEN }}`.",
    target="policy",
)

_NOTES = {
    CredentialKind.NPM_TOKEN: "checksum valid: a real npm token",
    CredentialKind.NPM_TOKEN_BAD_CHECKSUM: "its checksum fails, so it may be a made-up example",
    CredentialKind.GITHUB_TOKEN: "GitHub tokens usually grant far more than package access",
    CredentialKind.GITHUB_TOKEN_BAD_CHECKSUM: "its checksum fails, so it may be a made-up example",
}


def check(path: str, text: str) -> Iterator[Finding]:
    """Every npm or GitHub token anywhere in the policy file's text (keys, values, comments)."""
    seen: set[str] = set()
    for credential in find_tokens(text):
        if credential.value in seen:
            continue
        seen.add(credential.value)
        line = text.count("\n", 0, credential.start) + 1
        column = credential.start - (text.rfind("\n", 0, credential.start) + 1) + 1
        yield Finding(
            rule=RULE,
            location=Location(path, line, column, line, column + len(credential.value)),
            message=f"{credential.description} is written in the policy file "
            f"({_NOTES.get(credential.kind, 'a literal value')})",
            key=f"text:{short_hash(credential.value)}",
            confidence=Confidence.LOW if credential.kind in LOW_CONFIDENCE_KINDS else None,
            properties={"credential_kind": credential.kind.value},
        )
