"""A rule is declared once, in its module: the registry list, the policy schema's rule
ids and the docs' "Default severity" lines are derived by scripts/catalogue.py, and
these tests fail when any of them is stale or a rule module is not registered."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from npm_guard import rules
from npm_guard.rules import REGISTRY, all_rules, rule_by_id, rules_for

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "catalogue.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("catalogue", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catalogue = _load_script()


def test_every_rule_module_is_registered() -> None:
    """A module in npm_guard/rules/ that the registry does not list would never run."""
    on_disk = {p.stem for p in (ROOT / "npm_guard" / "rules").glob("[!_]*.py")}
    assert on_disk == {name for name, _ in REGISTRY}, "run scripts/catalogue.py"
    assert len(REGISTRY) == len(set(REGISTRY))


@pytest.mark.parametrize(("module", "table"), REGISTRY)
def test_each_registered_table_follows_from_the_rules_metadata(module: str, table: str) -> None:
    rule = importlib.import_module(f"npm_guard.rules.{module}").RULE
    expected = rule.target + ("+inventory" if rule.needs_inventory else "")
    assert table == expected, "run scripts/catalogue.py"
    assert rule_by_id(rule.id) is rule


def test_the_derived_files_are_fresh() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_the_tables_are_views_of_the_registry() -> None:
    """Each rule runs where its metadata says, and in exactly one table."""
    tables = {
        "NPMRC_RULES": "npmrc",
        "WORKFLOW_RULES": "workflow",
        "POLICY_WORKFLOW_RULES": "workflow",
        "POLICY_FILE_RULES": "policy",
        "ONLINE_RULES": "online",
    }
    seen: list[str] = []
    for name, target in tables.items():
        for rule, check in getattr(rules, name):
            assert rule.target == target
            assert rule.needs_inventory is (name == "POLICY_WORKFLOW_RULES")
            assert callable(check)
            seen.append(rule.id)
    assert sorted(seen) == sorted(r.id for r in all_rules().values() if r.target != "any")
    assert [rule.id for rule, _ in rules_for("any")] == ["parse-error"]


def test_all_rules_keeps_the_catalogue_order() -> None:
    assert [rule_id.replace("-", "_") for rule_id in all_rules()] == [m for m, _ in REGISTRY]


# The script itself: it must notice what is stale, or the freshness test proves nothing.


def test_a_new_module_goes_after_the_last_of_its_target() -> None:
    first_npmrc = next(name for name, target in REGISTRY if target == "npmrc")
    current = [entry for entry in REGISTRY if entry[0] != first_npmrc]
    npmrc = [entry for entry in current if entry[1] == "npmrc"]
    others = [entry for entry in current if entry[1] != "npmrc"]
    assert current == [*npmrc, *others], "the npmrc rules come first in the catalogue"
    assert catalogue.registry_entries(current) == [*npmrc, (first_npmrc, "npmrc"), *others]
    assert catalogue.registry_entries([*REGISTRY, ("gone_rule", "npmrc")]) == list(REGISTRY)


def test_a_wrong_table_is_rewritten() -> None:
    wrong = [(m, "online" if m == "policy_plaintext_credential" else t) for m, t in REGISTRY]
    assert catalogue.registry_entries(wrong) == list(REGISTRY)
    inventory = [(m, t.replace("+inventory", "")) for m, t in REGISTRY]
    assert inventory != list(REGISTRY)
    assert catalogue.registry_entries(inventory) == list(REGISTRY)


def test_a_missing_rule_id_is_added_to_the_schema() -> None:
    schema = json.loads((ROOT / "npm_guard" / "schemas" / "policy.schema.json").read_text())
    del schema["properties"]["rules"]["properties"]["parse-error"]
    schema["$defs"]["ruleId"]["enum"].remove("parse-error")
    ids = list(all_rules())
    fixed = json.loads(catalogue.schema_text(json.dumps(schema), ids))
    assert list(fixed["properties"]["rules"]["properties"]) == ids
    assert fixed["$defs"]["ruleId"]["enum"] == ids


def test_a_wrong_severity_in_the_docs_is_rewritten() -> None:
    docs = "# Rules\n\n## a-rule\n\n**Default severity:** warning (note when x). **Reads:** y.\n"
    assert catalogue.docs_text(docs, {"a-rule": "error"}) == docs.replace(
        "warning (note", "error (note"
    )
    bare = "## a-rule\n\n**What it detects.** z\n"
    assert "## a-rule\n\n**Default severity:** error.\n" in catalogue.docs_text(
        bare, {"a-rule": "error"}
    )
    reads = "## a-rule\n\n**Reads:** `.npmrc`.\n"
    assert catalogue.docs_text(reads, {"a-rule": "note"}) == (
        "## a-rule\n\n**Default severity:** note. **Reads:** `.npmrc`.\n"
    )
    with pytest.raises(catalogue.CatalogueError, match="no section for b-rule"):
        catalogue.docs_text(docs, {"a-rule": "error", "b-rule": "note"})
