"""workflow-undeclared-npm-token: an npm credential from a secret the policy does not list.

Runs only with a policy file whose `tokens:` section declares the inventory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._workflow_common import flowing

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.policy import Policy, TokenSpec
    from npm_guard.workflow.model import Workflow

RULE = Rule(
    id="workflow-undeclared-npm-token",
    summary="An npm credential comes from a secret that the policy's token inventory "
    "does not declare",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Declare the secret under `tokens:` in .npm-guard.yml with its permission "
    "(read-only for installs), CIDR ranges and expiry, or use a secret that is declared; "
    "publish with trusted publishing (OIDC), which needs no token at all.",
    target="workflow",
    needs_inventory=True,
)


def declared_token(policy: Policy, secret: str) -> TokenSpec | None:
    """The inventory entry for `secret`; GitHub secret names ignore case."""
    tokens: Mapping[str, TokenSpec] = policy.tokens or {}
    found = tokens.get(secret)
    if found is not None:
        return found
    upper = secret.upper()
    return next((spec for name, spec in tokens.items() if name.upper() == upper), None)


def check(workflow: Workflow, policy: Policy) -> Iterator[Finding]:
    if policy.tokens is None:
        return
    seen: set[tuple[str, int]] = set()  # a secret once per line, however many ways it flows
    for credential in workflow.credentials:
        if not flowing(credential):
            continue
        for secret in credential.source.secrets:
            if declared_token(policy, secret) is not None:
                continue
            if (secret.upper(), credential.span.line) in seen:
                continue
            seen.add((secret.upper(), credential.span.line))
            used_as = (
                credential.where
                if credential.name == f"secrets.{secret}"
                else f"{credential.name}, {credential.where}"
            )
            yield Finding(
                rule=RULE,
                location=workflow.location(credential.span),
                message=(
                    f"secret {secret} is used as an npm credential ({used_as}) but the "
                    f"policy's token inventory does not declare it"
                ),
                key=f"{credential.key}/undeclared:{secret.upper()}",
                properties={"secret": secret, "credential": credential.name},
            )
