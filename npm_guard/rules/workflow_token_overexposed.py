"""workflow-token-overexposed: an npm credential visible to steps that do not publish."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import (
    NPMJS_HOSTS,
    exposure,
    flowing,
    steps_seeing,
    writes_with,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import NpmCredential, Step, Workflow

RULE = Rule(
    id="workflow-token-overexposed",
    summary="An npm credential set for a whole workflow or job, so steps that do not publish "
    "can read it",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Set the token only on the step that publishes (`- run: npm publish` with "
    "`env: NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}`); install in earlier steps that "
    "cannot see it (`npm ci --ignore-scripts` where possible), give installs that need "
    "a registry token their own read-only one, and prefer trusted publishing, which "
    "needs no token at all.",
    target="workflow",
)

MAX_LISTED = 3
_INSTALL_WORDS = (["install"], ["i"], ["ci"], ["add"], ["clean-install"], ["install-clean"])


def check(workflow: Workflow) -> Iterator[Finding]:
    for credential in workflow.credentials:
        if not flowing(credential) or not _broad(credential):
            continue
        everyone = steps_seeing(workflow, credential)
        if credential.step is not None and credential.step not in everyone:
            everyone.append(credential.step)
        if any(_installs(step) for step in everyone) and not any(
            writes_with(step, credential) for step in everyone
        ):
            if not workflow.inventory:  # with one, the inventory's rules judge it
                yield _install_token(workflow, credential, everyone)
            continue
        seeing = [s for s in everyone if s is not credential.step]
        readers: list[tuple[Step, str, bool]] = []
        for step in seeing:
            if step.facts.publishes and (
                credential.registry_host is None or writes_with(step, credential)
            ):
                continue
            reason = exposure(step)
            if reason is None:
                readers.append((step, "", False))
            else:
                readers.append((step, reason[0], reason[1]))
        if not readers:
            continue
        bad = any(is_bad for _, _, is_bad in readers)
        readers.sort(key=lambda item: (not item[2], item[0].node.line))
        listed = "; ".join(_describe(step, why) for step, why, _ in readers[:MAX_LISTED])
        more = len(readers) - MAX_LISTED
        if more > 0:
            listed += f"; and {more} more"
        count = len(readers)
        yield Finding(
            rule=RULE,
            location=workflow.location(credential.span),
            message=(
                f"{credential.description} is {_scope(credential)}, so {count} "
                f"step{'s' if count != 1 else ''} that do{'es' if count == 1 else ''} not "
                f"publish can read it: {listed}"
            ),
            key=f"{credential.key}/overexposed",
            severity=None if bad else Severity.WARNING,
            properties={"credential": credential.name, "exposed_steps": str(count)},
        )


def _installs(step: Step) -> bool:
    """The step installs packages (`npm ci`, `yarn`, `pnpm install`, …)."""
    return any(
        code.lifecycle_scripts
        or code.command.split()[1:2] in _INSTALL_WORDS
        or code.command == "yarn"
        for code in step.facts.dependency_code
    )


def _install_token(workflow: Workflow, credential: NpmCredential, everyone: list[Step]) -> Finding:
    """A token that steps install with and none publishes with: what installs of private
    packages need, so a note: make it read-only, and keep install scripts away from it."""
    scripts = [s for s in everyone if any(c.lifecycle_scripts for c in s.facts.dependency_code)]
    if scripts:
        listed = "; ".join(_describe(step, "") for step in scripts[:MAX_LISTED])
        if len(scripts) > MAX_LISTED:
            listed += f"; and {len(scripts) - MAX_LISTED} more"
        advice = (
            f"dependencies' install scripts run with it ({listed}): install with "
            f"`--ignore-scripts` where the packages allow it"
        )
    else:
        advice = "its installs run no install scripts"
    host = credential.registry_host
    if host is not None and host not in NPMJS_HOSTS:
        # Another registry (a private one, a proxy or firewall in front of npmjs): npm
        # sends the token there only, and how to limit it is that registry's business.
        what = (
            f"and no step that can read it publishes to {host}: a token npm sends only to "
            f"that registry, for installing through it. Keep it read-only there"
        )
    else:
        what = (
            "and no step that can read it publishes: a token for installing private "
            "packages, which is what installs need. Make it read-only (`npm token create "
            "--packages-and-scopes-permission read-only`)"
        )
    return Finding(
        rule=RULE,
        location=workflow.location(credential.span),
        message=f"{credential.description} is {_scope(credential)}, {what}; {advice}",
        key=f"{credential.key}/install-token",
        severity=Severity.NOTE,
        properties={"credential": credential.name, "exposed_steps": str(len(scripts))},
    )


def _broad(credential: NpmCredential) -> bool:
    if credential.via == "env":
        return credential.level in ("workflow", "job")
    return credential.via in ("github-env", "npmrc")


def _scope(credential: NpmCredential) -> str:
    if credential.via == "env" and credential.level == "workflow":
        return "set in the workflow-level env, for every job"
    if credential.via == "env" and credential.job is not None:
        return f"set in the env of the whole {credential.job.label}"
    if credential.step is not None:
        verb = (
            "exported to $GITHUB_ENV" if credential.via == "github-env" else "written to an .npmrc"
        )
        return (
            f"{verb} by {credential.step.label} for every later step of {credential.step.job.label}"
        )
    return credential.where


def _describe(step: Step, why: str) -> str:
    where = f"{step.label} of {step.job.label}, line {step.node.line}"
    return f"{why} ({where})" if why else where
