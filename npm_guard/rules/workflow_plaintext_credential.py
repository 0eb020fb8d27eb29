"""workflow-plaintext-credential: a literal npm/GitHub token or auth value in a workflow."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import LITERAL
from npm_guard.secrets import (
    LOW_CONFIDENCE_KINDS,
    CredentialKind,
    classify_token_value,
    find_tokens,
    redact,
    short_hash,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import Workflow
    from npm_guard.workflow.positions import Span

RULE = Rule(
    id="workflow-plaintext-credential",
    summary="A credential written into a workflow or action file",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Revoke it first (it is in git history now), keep it as an Actions secret and "
    "reference it: `NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}`. Better still, publish "
    "with trusted publishing and keep no npm token at all.",
    target="workflow",
)


def check(workflow: Workflow) -> Iterator[Finding]:
    from npm_guard.workflow.positions import Span

    covered: list[Span] = []
    for credential in workflow.credentials:
        if credential.lifetime != LITERAL:
            continue
        literal = credential.source.literal
        kind = classify_token_value(literal)
        if kind is None or _test_registry_dummy(credential.name, kind):
            continue
        span = credential.value_span or credential.span
        covered.append(span)
        where, _ = workflow.context(span.line)
        yield _finding(
            workflow,
            span,
            kind,
            literal,
            f"{credential.name} {credential.where.replace('set in', 'is set in')} {where}".strip(),
            f"{credential.key}:{short_hash(literal)}",
        )
    for step in workflow.steps():
        for write in step.facts.config_writes:
            if not write.literal or write.literal_span is None:
                continue
            kind = classify_token_value(write.literal)
            if kind is None or _test_registry_dummy(write.setting, kind):
                continue
            covered.append(write.literal_span)
            yield _finding(
                workflow,
                write.literal_span,
                kind,
                write.literal,
                f"{write.setting} is written into {write.target} by {step.label} "
                f"of {step.job.label}",
                f"{step.key}/config:{write.setting}:{short_hash(write.literal)}",
            )
    text = workflow.loaded.text
    for token in find_tokens(text):
        line, column = workflow.loaded.position(token.start)
        if any(_inside(span, line, column) for span in covered):
            continue
        where, key = workflow.context(line)
        span = Span(line, column, line, column + len(token.value))
        covered.append(span)
        yield _finding(
            workflow,
            span,
            token.kind,
            token.value,
            f"it is written in this file {where}".strip(),
            f"{key}/text:{short_hash(token.value)}",
        )


def _test_registry_dummy(setting: str, kind: CredentialKind) -> bool:
    """A made-up value for a registry on this machine (an end-to-end test's verdaccio):
    no secret. A real npm or GitHub token is reported wherever it is written."""
    from npm_guard.hosts import is_loopback_setting

    real = kind in (CredentialKind.NPM_TOKEN, CredentialKind.GITHUB_TOKEN)
    return not real and is_loopback_setting(setting)


def _inside(span: Span, line: int, column: int) -> bool:
    if span.line != line:
        return False
    end = span.end_column if span.end_line == line and span.end_column else column + 1
    return span.column <= column < max(end, span.column + 1)


_NOTES = {
    CredentialKind.NPM_TOKEN: "checksum valid: a real npm token",
    CredentialKind.NPM_TOKEN_BAD_CHECKSUM: "its checksum fails, so it may be a made-up example",
    CredentialKind.LEGACY_UUID_TOKEN: "classic tokens were revoked on 2025-12-09, but it is "
    "still a leak",
    CredentialKind.GITHUB_TOKEN: "GitHub tokens usually grant far more than package access",
    CredentialKind.GITHUB_TOKEN_BAD_CHECKSUM: "its checksum fails, so it may be a made-up example",
    CredentialKind.OPAQUE_TOKEN: "a literal value, not a secret reference",
}


def _finding(
    workflow: Workflow,
    span: Span,
    kind: CredentialKind,
    value: str,
    where: str,
    key: str,
) -> Finding:
    confidence = None
    if kind in LOW_CONFIDENCE_KINDS:
        confidence = Confidence.LOW
    elif kind is CredentialKind.OPAQUE_TOKEN:
        confidence = Confidence.MEDIUM
    return Finding(
        rule=RULE,
        location=workflow.location(span),
        message=f"{kind.value} {redact(value, kind)} is stored in plain text: {where} "
        f"({_NOTES[kind]})",
        key=key,
        confidence=confidence,
        properties={"credential_kind": kind.value},
    )
