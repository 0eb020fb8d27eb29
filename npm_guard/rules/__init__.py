"""The rule registry: every rule is listed here, explicitly, once.

A rule lives in its own module named after its id (`npmrc-plaintext-credential` →
`npmrc_plaintext_credential.py`) and declares `RULE` (its metadata) and `check()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from npm_guard.findings import Finding, Rule
from npm_guard.npmrc import NpmrcFile
from npm_guard.rules import (
    npmrc_insecure_registry,
    npmrc_plaintext_credential,
    npmrc_unexpanded_variable,
    npmrc_unscoped_credential,
    parse_error,
)

NpmrcCheck = Callable[[NpmrcFile], Iterable[Finding]]

NPMRC_RULES: tuple[tuple[Rule, NpmrcCheck], ...] = (
    (npmrc_plaintext_credential.RULE, npmrc_plaintext_credential.check),
    (npmrc_unexpanded_variable.RULE, npmrc_unexpanded_variable.check),
    (npmrc_unscoped_credential.RULE, npmrc_unscoped_credential.check),
    (npmrc_insecure_registry.RULE, npmrc_insecure_registry.check),
)

# Rules without a check of their own: findings built by the engine.
ENGINE_RULES: tuple[Rule, ...] = (parse_error.RULE,)


def all_rules() -> dict[str, Rule]:
    """Every registered rule by id, in catalogue order."""
    rules = [rule for rule, _ in NPMRC_RULES]
    rules.extend(ENGINE_RULES)
    return {rule.id: rule for rule in rules}
