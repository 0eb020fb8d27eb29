"""The rule registry: every rule is listed here, explicitly, once.

A rule lives in its own module named after its id (`npmrc-plaintext-credential` →
`npmrc_plaintext_credential.py`) and declares `RULE` (its metadata) and `check()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from npm_guard.findings import Finding, Rule
from npm_guard.rules import parse_error

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from typing import Any

    from npm_guard.audit.facts import AuditFacts
    from npm_guard.npmrc import NpmrcFile
    from npm_guard.policy import Policy
    from npm_guard.workflow.model import Workflow

NpmrcCheck = Callable[["NpmrcFile"], Iterable[Finding]]


def _npmrc_rules() -> tuple[tuple[Rule, NpmrcCheck], ...]:
    from npm_guard.rules import (
        npmrc_insecure_registry,
        npmrc_plaintext_credential,
        npmrc_unexpanded_variable,
        npmrc_unscoped_credential,
    )

    return (
        (npmrc_plaintext_credential.RULE, npmrc_plaintext_credential.check),
        (npmrc_unexpanded_variable.RULE, npmrc_unexpanded_variable.check),
        (npmrc_unscoped_credential.RULE, npmrc_unscoped_credential.check),
        (npmrc_insecure_registry.RULE, npmrc_insecure_registry.check),
    )


# Workflow and composite-action rules: questions asked of `npm_guard.workflow.model`.
WorkflowCheck = Callable[["Workflow"], Iterable[Finding]]


def _workflow_rules() -> tuple[tuple[Rule, WorkflowCheck], ...]:
    from npm_guard.rules import (
        workflow_npmrc_persisted,
        workflow_plaintext_credential,
        workflow_publish_token_fallback,
        workflow_publish_with_long_lived_token,
        workflow_token_create_bypasses_2fa,
        workflow_token_create_not_read_only,
        workflow_token_create_without_cidr,
        workflow_token_create_without_expiry,
        workflow_token_in_untrusted_trigger,
        workflow_token_overexposed,
        workflow_unexpanded_npm_variable,
    )

    return (
        (workflow_plaintext_credential.RULE, workflow_plaintext_credential.check),
        (workflow_token_create_not_read_only.RULE, workflow_token_create_not_read_only.check),
        (workflow_token_create_without_cidr.RULE, workflow_token_create_without_cidr.check),
        (workflow_token_create_without_expiry.RULE, workflow_token_create_without_expiry.check),
        (workflow_token_create_bypasses_2fa.RULE, workflow_token_create_bypasses_2fa.check),
        (workflow_publish_with_long_lived_token.RULE, workflow_publish_with_long_lived_token.check),
        (workflow_publish_token_fallback.RULE, workflow_publish_token_fallback.check),
        (workflow_token_overexposed.RULE, workflow_token_overexposed.check),
        (workflow_token_in_untrusted_trigger.RULE, workflow_token_in_untrusted_trigger.check),
        (workflow_npmrc_persisted.RULE, workflow_npmrc_persisted.check),
        (workflow_unexpanded_npm_variable.RULE, workflow_unexpanded_npm_variable.check),
    )


# Workflow rules that need the policy file's token inventory (`tokens:`): run only when
# the policy declares one.
PolicyWorkflowCheck = Callable[["Workflow", "Policy"], Iterable[Finding]]


def _policy_workflow_rules() -> tuple[tuple[Rule, PolicyWorkflowCheck], ...]:
    from npm_guard.rules import (
        workflow_token_exceeds_declared_permission,
        workflow_undeclared_npm_token,
    )

    return (
        (workflow_undeclared_npm_token.RULE, workflow_undeclared_npm_token.check),
        (
            workflow_token_exceeds_declared_permission.RULE,
            workflow_token_exceeds_declared_permission.check,
        ),
    )


# Rules of the policy file's own text (`.npm-guard.yml`), run by directory scans and the
# `npm-guard-policy` hook; its validity is the loader's business, not a rule's.
PolicyFileCheck = Callable[[str, str], Iterable[Finding]]


def _policy_file_rules() -> tuple[tuple[Rule, PolicyFileCheck], ...]:
    from npm_guard.rules import policy_plaintext_credential

    return ((policy_plaintext_credential.RULE, policy_plaintext_credential.check),)


# The online audit's rules (`npm-guard audit`): they read facts the audit gathered,
# never the network. Not run by the offline scan or the hooks.
OnlineCheck = Callable[["AuditFacts"], Iterable[Finding]]


def _online_rules() -> tuple[tuple[Rule, OnlineCheck], ...]:
    from npm_guard.rules import (
        audit_incomplete,
        maintainer_2fa_auth_only,
        maintainer_2fa_disabled,
        maintainer_2fa_unverified,
        maintainer_not_allowed,
        publish_provenance_missing,
        publish_trust_downgrade,
        publish_version_blocked,
        publish_version_staged,
        publisher_unexpected,
        token_bypasses_2fa,
        token_expiry_too_long,
        token_not_read_only,
        token_without_cidr,
    )

    return (
        (maintainer_2fa_disabled.RULE, maintainer_2fa_disabled.check),
        (maintainer_2fa_auth_only.RULE, maintainer_2fa_auth_only.check),
        (maintainer_2fa_unverified.RULE, maintainer_2fa_unverified.check),
        (maintainer_not_allowed.RULE, maintainer_not_allowed.check),
        (publisher_unexpected.RULE, publisher_unexpected.check),
        (publish_provenance_missing.RULE, publish_provenance_missing.check),
        (publish_trust_downgrade.RULE, publish_trust_downgrade.check),
        (publish_version_blocked.RULE, publish_version_blocked.check),
        (publish_version_staged.RULE, publish_version_staged.check),
        (token_not_read_only.RULE, token_not_read_only.check),
        (token_without_cidr.RULE, token_without_cidr.check),
        (token_bypasses_2fa.RULE, token_bypasses_2fa.check),
        (token_expiry_too_long.RULE, token_expiry_too_long.check),
        (audit_incomplete.RULE, audit_incomplete.check),
    )


# Rules without a check of their own: findings built by the engine.
ENGINE_RULES: tuple[Rule, ...] = (parse_error.RULE,)


# Every table is built on first use: a hook imports only the rule modules it runs
# (start-up time is a product target, see DESIGN.md "Targets").
_LAZY_TABLES: dict[str, Callable[[], tuple[tuple[Rule, Any], ...]]] = {
    "NPMRC_RULES": _npmrc_rules,
    "WORKFLOW_RULES": _workflow_rules,
    "POLICY_WORKFLOW_RULES": _policy_workflow_rules,
    "POLICY_FILE_RULES": _policy_file_rules,
    "ONLINE_RULES": _online_rules,
}

if TYPE_CHECKING:
    NPMRC_RULES: tuple[tuple[Rule, NpmrcCheck], ...]
    WORKFLOW_RULES: tuple[tuple[Rule, WorkflowCheck], ...]
    POLICY_WORKFLOW_RULES: tuple[tuple[Rule, PolicyWorkflowCheck], ...]
    POLICY_FILE_RULES: tuple[tuple[Rule, PolicyFileCheck], ...]
    ONLINE_RULES: tuple[tuple[Rule, OnlineCheck], ...]


def __getattr__(name: str) -> tuple[tuple[Rule, Any], ...]:
    build = _LAZY_TABLES.get(name)
    if build is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    table = build()
    globals()[name] = table
    return table


def all_rules() -> dict[str, Rule]:
    """Every registered rule by id, in catalogue order."""
    rules = [rule for rule, _ in _npmrc_rules()]
    rules.extend(rule for rule, _ in _workflow_rules())
    rules.extend(rule for rule, _ in _policy_workflow_rules())
    rules.extend(rule for rule, _ in _policy_file_rules())
    rules.extend(ENGINE_RULES)
    rules.extend(rule for rule, _ in _online_rules())
    return {rule.id: rule for rule in rules}
