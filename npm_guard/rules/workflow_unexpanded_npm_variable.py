"""workflow-unexpanded-npm-variable: a step writes `$VAR` npm will send literally."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import Workflow

RULE = Rule(
    id="workflow-unexpanded-npm-variable",
    summary="A step writes an npm auth setting whose variable nobody will expand",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="npm expands only ${VAR} when it reads its config: write "
    "`//registry.npmjs.org/:_authToken=${NODE_AUTH_TOKEN}` (in single quotes or a quoted "
    "heredoc, so the shell leaves it for npm) into `$RUNNER_TEMP/.npmrc` or `~/.npmrc`.",
    target="workflow",
)


def check(workflow: Workflow) -> Iterator[Finding]:
    for step in workflow.steps():
        for write in step.facts.config_writes:
            for variable in write.unexpanded:
                yield Finding(
                    rule=RULE,
                    location=workflow.location(variable.span),
                    message=(
                        f"{step.label} of {step.job.label} writes {write.setting} with "
                        f"{variable.text} into {write.target} ({write.how}), but the shell "
                        f"does not expand it there and npm expands only ${{VAR}}: the "
                        f"registry receives the literal text {variable.text}"
                    ),
                    key=f"{step.key}/unexpanded:{write.target}:{variable.text}",
                    properties={"form": variable.form},
                )
