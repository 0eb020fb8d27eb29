"""workflow-npmrc-persisted: a step writes a credential into an .npmrc in the workspace."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import ConfigWrite, Step, Workflow

RULE = Rule(
    id="workflow-npmrc-persisted",
    summary="A step writes a credential into an .npmrc inside the workspace",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Let npm read the token from the environment instead of writing its value: put "
    "`//registry.npmjs.org/:_authToken=${NODE_AUTH_TOKEN}` (single quotes, or a quoted "
    "heredoc `<<'EOF'`, so the shell leaves it alone) into `$RUNNER_TEMP/.npmrc` or "
    "`~/.npmrc`, outside the workspace - or use actions/setup-node's `registry-url`, "
    "which does exactly that.",
    target="workflow",
)


def check(workflow: Workflow) -> Iterator[Finding]:
    for step in workflow.steps():
        for write in step.facts.config_writes:
            if not write.in_workspace or not write.holds_runtime_secret:
                continue
            shipped = _shipped_later(step)
            after = (
                f"; {shipped[0]} (line {shipped[1]}) {shipped[2]} afterwards"
                if shipped is not None
                else ""
            )
            yield Finding(
                rule=RULE,
                location=workflow.location(write.span),
                message=(
                    f"{step.label} of {step.job.label} writes {_what(write)} into "
                    f"{write.target} inside the workspace ({write.how}), where later steps, "
                    f"artifacts, caches, Docker build contexts and packed tarballs pick it "
                    f"up{after}"
                ),
                key=f"{step.key}/npmrc:{write.target}:{write.setting}",
                confidence=None if _known_secret(write) else Confidence.MEDIUM,
                properties={"setting": write.setting},
            )


def _what(write: ConfigWrite) -> str:
    if write.secrets:
        return "the value of " + ", ".join(f"secret {name}" for name in write.secrets)
    if write.variables:
        names = ", ".join(v if v.startswith("${{") else f"${v}" for v in write.variables)
        return f"the expanded value of {names}"
    return "a command's output"


def _known_secret(write: ConfigWrite) -> bool:
    from npm_guard.workflow.expressions import is_credential_name

    return bool(write.secrets) or any(is_credential_name(v) for v in write.variables)


def _shipped_later(step: Step) -> tuple[str, int, str] | None:
    later = [other for other in step.job.steps if other.index > step.index]
    for other in later:
        if other.facts.ships_workspace:
            return other.label, other.node.line, other.facts.ships_workspace
    return None
