"""The rule registry: every rule, once, in catalogue order.

A rule lives in its own module named after its id (`npmrc-plaintext-credential` →
`npmrc_plaintext_credential.py`) and declares `RULE`, its metadata (id, summary,
default severity, confidence, tip, and `target`: what it reads), and `check()`, unless
the engine builds its findings itself (`parse-error`). What `check()` is given follows
from the target: an `NpmrcFile` (npmrc), a `Workflow` (workflow; with the policy too
when `RULE.needs_inventory`), the policy file's path and text (policy), `AuditFacts`
(online).

`REGISTRY` below lists every rule module with the table its `RULE` puts it in: its
target, plus `+inventory` for a rule that needs the policy's token inventory. That is
repeated here, generated, so that a hook imports only the rule modules it runs
(start-up time is a product target, DESIGN.md "Targets") instead of importing every
module to ask it. `scripts/catalogue.py` writes the list (a new module goes after the
last one of its target) along with the policy schema's rule ids and the docs' "Default
severity" lines; `tests/test_catalogue.py` fails when any is stale.
"""

from __future__ import annotations

from npm_guard.findings import Rule

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from npm_guard.audit.facts import AuditFacts
    from npm_guard.findings import Finding
    from npm_guard.npmrc import NpmrcFile
    from npm_guard.policy import Policy
    from npm_guard.workflow.model import Workflow

    NpmrcCheck = Callable[[NpmrcFile], Iterable[Finding]]
    WorkflowCheck = Callable[[Workflow], Iterable[Finding]]
    PolicyWorkflowCheck = Callable[[Workflow, Policy], Iterable[Finding]]
    PolicyFileCheck = Callable[[str, str], Iterable[Finding]]
    OnlineCheck = Callable[[AuditFacts], Iterable[Finding]]
    Checked = tuple[tuple[Rule, Any], ...]

# catalogue: begin (written by scripts/catalogue.py from each module's RULE)
REGISTRY: tuple[tuple[str, str], ...] = (
    ("npmrc_plaintext_credential", "npmrc"),
    ("npmrc_unexpanded_variable", "npmrc"),
    ("npmrc_unscoped_credential", "npmrc"),
    ("npmrc_insecure_registry", "npmrc"),
    ("workflow_plaintext_credential", "workflow"),
    ("workflow_token_create_not_read_only", "workflow"),
    ("workflow_token_create_without_cidr", "workflow"),
    ("workflow_token_create_without_expiry", "workflow"),
    ("workflow_token_create_bypasses_2fa", "workflow"),
    ("workflow_publish_with_long_lived_token", "workflow"),
    ("workflow_token_overexposed", "workflow"),
    ("workflow_token_in_untrusted_trigger", "workflow"),
    ("workflow_npmrc_persisted", "workflow"),
    ("workflow_unexpanded_npm_variable", "workflow"),
    ("workflow_undeclared_npm_token", "workflow+inventory"),
    ("workflow_token_exceeds_declared_permission", "workflow+inventory"),
    ("workflow_publish_token_fallback", "workflow"),
    ("policy_plaintext_credential", "policy"),
    ("parse_error", "any"),
    ("maintainer_2fa_disabled", "online"),
    ("maintainer_2fa_auth_only", "online"),
    ("maintainer_2fa_unverified", "online"),
    ("maintainer_not_allowed", "online"),
    ("publisher_unexpected", "online"),
    ("publish_provenance_missing", "online"),
    ("publish_trust_downgrade", "online"),
    ("publish_version_blocked", "online"),
    ("publish_version_staged", "online"),
    ("token_not_read_only", "online"),
    ("token_without_cidr", "online"),
    ("token_bypasses_2fa", "online"),
    ("token_expiry_too_long", "online"),
    ("audit_incomplete", "online"),
)
# catalogue: end

INVENTORY = "+inventory"
_checked: dict[str, Checked] = {}


def table_of(rule: Rule) -> str:
    """The registry's table for a rule: its target, `+inventory` when it needs one."""
    return rule.target + (INVENTORY if rule.needs_inventory else "")


def _module(name: str) -> Any:
    return __import__(f"{__name__}.{name}", fromlist=["RULE"])


def _table(table: str) -> Checked:
    """(rule, check) of every rule in `table`, in catalogue order; only their modules
    are imported, on first use."""
    found = _checked.get(table)
    if found is None:
        modules = [_module(name) for name, of in REGISTRY if of == table]
        found = tuple((module.RULE, getattr(module, "check", None)) for module in modules)
        _checked[table] = found
    return found


def rules_for(target: str) -> Checked:
    """(rule, check) of every rule whose target is `target`, in catalogue order."""
    tables = dict.fromkeys(t for _, t in REGISTRY if t.split("+")[0] == target)
    found = [entry for table in tables for entry in _table(table)]
    return tuple(sorted(found, key=lambda entry: _position(entry[0])))


def _position(rule: Rule) -> int:
    return [name for name, _ in REGISTRY].index(rule.id.replace("-", "_"))


def rule_by_id(rule_id: str) -> Rule:
    """The rule `rule_id`, importing its module only (a module is named after its id)."""
    rule: Rule = _module(rule_id.replace("-", "_")).RULE
    return rule


def check_of(rule_id: str) -> Any:
    """The `check()` of the rule `rule_id`, importing its module only (for the engine
    that runs one rule outside its table: the token search of an unparseable file)."""
    return _module(rule_id.replace("-", "_")).check


def all_rules() -> dict[str, Rule]:
    """Every registered rule by id, in catalogue order (imports every rule module)."""
    rules = (_module(name).RULE for name, _ in REGISTRY)
    return {rule.id: rule for rule in rules}


# The tables the scan and the audit run, by what the rules read: views of REGISTRY,
# built on first use (a hook imports only the rule modules it runs).
def _npmrc_rules() -> tuple[tuple[Rule, NpmrcCheck], ...]:
    return rules_for("npmrc")


def _workflow_rules() -> tuple[tuple[Rule, WorkflowCheck], ...]:
    return _table("workflow")


def _policy_workflow_rules() -> tuple[tuple[Rule, PolicyWorkflowCheck], ...]:
    return _table("workflow" + INVENTORY)


def _policy_file_rules() -> tuple[tuple[Rule, PolicyFileCheck], ...]:
    return rules_for("policy")


def _online_rules() -> tuple[tuple[Rule, OnlineCheck], ...]:
    return rules_for("online")


_VIEWS: dict[str, Callable[[], Checked]] = {
    "NPMRC_RULES": _npmrc_rules,
    "WORKFLOW_RULES": _workflow_rules,
    "POLICY_WORKFLOW_RULES": _policy_workflow_rules,  # run only with a `tokens:` inventory
    "POLICY_FILE_RULES": _policy_file_rules,
    "ONLINE_RULES": _online_rules,  # the audit's: they read facts, never the network
}

if TYPE_CHECKING:
    NPMRC_RULES: tuple[tuple[Rule, NpmrcCheck], ...]
    WORKFLOW_RULES: tuple[tuple[Rule, WorkflowCheck], ...]
    POLICY_WORKFLOW_RULES: tuple[tuple[Rule, PolicyWorkflowCheck], ...]
    POLICY_FILE_RULES: tuple[tuple[Rule, PolicyFileCheck], ...]
    ONLINE_RULES: tuple[tuple[Rule, OnlineCheck], ...]


def __getattr__(name: str) -> Checked:
    build = _VIEWS.get(name)
    if build is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    table = build()
    globals()[name] = table
    return table
