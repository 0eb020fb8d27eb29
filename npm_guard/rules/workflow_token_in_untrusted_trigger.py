"""workflow-token-in-untrusted-trigger: npm credentials in jobs outsiders can start."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import flowing, steps_seeing

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import Job, NpmCredential, Workflow
    from npm_guard.workflow.positions import Span

RULE = Rule(
    id="workflow-token-in-untrusted-trigger",
    summary="An npm credential reachable from pull_request_target, workflow_run or "
    "issue_comment jobs",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Publish from a workflow that outsiders cannot trigger (a pushed tag, a release, "
    "workflow_dispatch), ideally with trusted publishing; keep pull_request_target, "
    "workflow_run and issue_comment jobs free of npm secrets, and never check out the "
    "pull request's code in them.",
    target="workflow",
)

_WHY = {
    "pull_request_target": "runs with the base repository's secrets for pull requests from forks",
    "workflow_run": "runs with the repository's secrets after workflows that pull requests "
    "from forks can trigger",
    "issue_comment": "runs with the repository's secrets whenever anyone comments",
}


def check(workflow: Workflow) -> Iterator[Finding]:
    triggers = workflow.untrusted_triggers
    if not triggers:
        return
    named = ", ".join(f"`{t}`" for t in triggers)
    why = _WHY[triggers[0]]
    reported: set[tuple[int, int]] = set()  # one finding per place, however it flows
    for credential in workflow.credentials:
        place = (credential.span.line, credential.span.column)
        if not flowing(credential) or place in reported:
            continue
        jobs = _jobs_reaching(workflow, credential)
        if not jobs:
            continue
        checkout = _untrusted_checkout(jobs)
        job_names = ", ".join(job.label for job in jobs[:3]) + (
            f" and {len(jobs) - 3} more" if len(jobs) > 3 else ""
        )
        step = credential.step
        if step is not None and credential.level == "step":
            job_names = f"{step.label} of {step.job.label}"
        elif step is not None:  # exported or written by a step for the ones after it
            job_names = f"the steps after {step.label} of {step.job.label}"
        detail = (
            f"; {checkout[0]} checks out the pull request's code (line {checkout[1].line}), "
            f"which can read the token"
            if checkout is not None
            else ""
        )
        reported.add(place)
        conditional = any(job.node is not None and job.node.get("if") is not None for job in jobs)
        confidence = None if checkout is not None else Confidence.MEDIUM
        if conditional and checkout is None:
            confidence = Confidence.LOW
        yield Finding(
            rule=RULE,
            location=workflow.location(credential.span),
            message=(
                f"{credential.description}, {credential.where}, is reachable from "
                f"{job_names} in a workflow triggered by {named}, which {why}{detail}"
            ),
            key=f"{credential.key}/untrusted-trigger",
            confidence=confidence,
            properties={"credential": credential.name, "triggers": " ".join(triggers)},
        )
    yield from _remote_inherit(workflow, named, why)


def _remote_inherit(workflow: Workflow, named: str, why: str) -> Iterator[Finding]:
    """`secrets: inherit` to a reusable workflow of another repository.

    Its file cannot be read here, so whether it uses an npm token is unknown (low
    confidence); but every secret of the caller, npm tokens included, is handed to it.
    """
    from npm_guard.workflow.labels import shown  # the model is loaded by now: no cost

    for job in workflow.jobs:
        if job.inherit_secrets is None or job.uses is None or not _remote(job.uses):
            continue
        yield Finding(
            rule=RULE,
            location=workflow.location(job.inherit_secrets),
            message=(
                f"{job.label} passes `secrets: inherit` to the reusable workflow "
                f"{shown(job.uses)} of another repository, in a workflow triggered by "
                f"{named}, which {why}: every secret, npm tokens included, is handed to a "
                f"workflow npm-guard cannot read here"
            ),
            key=f"{job.key}/secrets:inherit/untrusted-trigger",
            confidence=Confidence.LOW,
            properties={"credential": "secrets: inherit", "triggers": named.replace("`", "")},
        )


def _remote(uses: str) -> bool:
    """`owner/repo/.github/workflows/x.yml@ref`, not `./.github/workflows/x.yml`."""
    return not uses.strip().startswith("./") and "/.github/workflows/" in uses


def _jobs_reaching(workflow: Workflow, credential: NpmCredential) -> list[Job]:
    if credential.via == "secrets":
        return [credential.job] if credential.job is not None else []
    jobs: list[Job] = []
    for step in steps_seeing(workflow, credential):
        if not any(job is step.job for job in jobs):
            jobs.append(step.job)
    if not jobs and credential.job is not None and credential.job.steps:
        jobs.append(credential.job)
    return jobs


def _untrusted_checkout(jobs: list[Job]) -> tuple[str, Span] | None:
    for job in jobs:
        for step in job.steps:
            if step.facts.untrusted_checkout is not None:
                return f"{step.label} of {job.label}", step.facts.untrusted_checkout
    return None
