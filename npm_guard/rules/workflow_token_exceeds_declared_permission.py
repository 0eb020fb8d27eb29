"""workflow-token-exceeds-declared-permission: a declared token used beyond its declaration.

Two mismatches with the policy's `tokens:` inventory: a job that never writes to the
registry can read a token declared `read-write` or `stage-only`; a publish
authenticates with a token declared `read-only` (or, publishing directly, `stage-only`).
"""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import flowing, publishing_credentials, writes_to_registry
from npm_guard.rules.workflow_undeclared_npm_token import declared_token

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.policy import Policy
    from npm_guard.workflow.model import Job, NpmCredential, Publish, Step, Workflow

RULE = Rule(
    id="workflow-token-exceeds-declared-permission",
    summary="A token the policy declares is used beyond its permission: a write token in a "
    "job that only installs, or a read-only token to publish",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Give jobs that install, build and test a token declared read-only, and the "
    "write token only to the step that publishes (better: trusted publishing, no token). "
    "If the token really has another permission, correct its entry under `tokens:` in "
    ".npm-guard.yml.",
    target="workflow",
    needs_inventory=True,
)

WRITE_PERMISSIONS = ("read-write", "stage-only")
MAX_LISTED = 3


def check(workflow: Workflow, policy: Policy) -> Iterator[Finding]:
    if not policy.tokens:
        return
    yield from _write_tokens_in_read_jobs(workflow, policy)
    yield from _publishes_beyond_declaration(workflow, policy)


def _writes_to_registry(job: Job) -> bool:
    return any(writes_to_registry(step) for step in job.steps)


def _write_tokens_in_read_jobs(workflow: Workflow, policy: Policy) -> Iterator[Finding]:
    """Tokens declared read-write or stage-only that jobs without a publish can read."""
    readers: dict[int, tuple[NpmCredential, list[Job]]] = {}
    for job in workflow.jobs:
        if job.uses is not None or _writes_to_registry(job):
            continue  # a reusable workflow's jobs are judged in its own file
        for step in job.steps:
            for credential in step.credentials:
                if not flowing(credential):
                    continue
                jobs = readers.setdefault(id(credential), (credential, []))[1]
                if job not in jobs:
                    jobs.append(job)
    for credential, jobs in readers.values():
        for secret in credential.source.secrets:
            spec = declared_token(policy, secret)
            if spec is None or spec.permission not in WRITE_PERMISSIONS:
                continue
            listed = ", ".join(job.label for job in jobs[:MAX_LISTED])
            if len(jobs) > MAX_LISTED:
                listed += f" and {len(jobs) - MAX_LISTED} more"
            verb = "never writes" if len(jobs) == 1 else "never write"
            yield Finding(
                rule=RULE,
                location=workflow.location(credential.span),
                message=(
                    f"{credential.description} reaches {listed}, which {verb} to the registry "
                    f"(no publish), and the policy declares {secret} {spec.permission}: "
                    f"installs there run dependencies' scripts that can read it"
                ),
                key=f"{credential.key}/exceeds:{secret.upper()}",
                properties={
                    "secret": secret,
                    "declared": spec.permission,
                    "jobs": " ".join(job.id for job in jobs),
                },
            )


def _publishes_beyond_declaration(workflow: Workflow, policy: Policy) -> Iterator[Finding]:
    """Publishes that authenticate with a token declared read-only (or stage-only)."""
    for step in workflow.steps():
        for number, publish in enumerate(step.facts.publishes, start=1):
            for credential, reads in publishing_credentials(step, publish):
                if not reads or not flowing(credential):
                    continue
                for secret in credential.source.secrets:
                    spec = declared_token(policy, secret)
                    if spec is None:
                        continue
                    problem = _publish_problem(spec.permission, publish)
                    if problem is None:
                        continue
                    yield Finding(
                        rule=RULE,
                        location=workflow.location(publish.span),
                        message=(
                            f"{_where(step)} publishes with {publish.shown} using "
                            f"{credential.description}, and the policy declares secret "
                            f"{secret} {spec.permission}: {problem}"
                        ),
                        key=(
                            f"{step.key}/publish:{number}/{credential.key}/exceeds:{secret.upper()}"
                        ),
                        properties={"secret": secret, "declared": spec.permission},
                    )


def _publish_problem(permission: str, publish: Publish) -> str | None:
    if permission == "read-only":
        return "either the publish fails or the token can write and the inventory is wrong"
    if permission == "stage-only" and not publish.staged:
        return "a stage-only token is for `npm stage publish`, which a maintainer approves"
    return None


def _where(step: Step) -> str:
    label = step.label
    return f"{label[0].upper()}{label[1:]} of {step.job.label}"
