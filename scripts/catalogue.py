#!/usr/bin/env python3
"""Write what the rule catalogue derives from each rule's own metadata.

    scripts/catalogue.py           rewrite the derived parts (a no-op when they are fresh)
    scripts/catalogue.py --check   rewrite nothing; exit 1 naming each stale file

A rule is declared once, in its module under npm_guard/rules/ (`RULE`: id, severity,
target, ...). From those modules this writes:

- the registry list in npm_guard/rules/__init__.py (between its `catalogue:` markers):
  every module with its table (its target, `+inventory` for a rule that reads the
  policy's token inventory), in catalogue order; a new module goes after the last one
  of its target, a module that is gone is dropped;
- the rule ids the policy file accepts: `properties.rules.properties` and
  `$defs.ruleId.enum` of npm_guard/schemas/policy.schema.json, in catalogue order;
- the severity that starts each rule's "**Default severity:**" line in docs/rules.md
  (what follows it, such as when a rule chooses another severity, is written by hand).

Each rule's section in docs/rules.md is prose and is written by hand: a rule without
one is an error here. Run it after adding a rule (CONTRIBUTING.md); tests/test_catalogue.py
fails when anything here is stale.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "npm_guard" / "rules"
REGISTRY_FILE = RULES_DIR / "__init__.py"
SCHEMA_FILE = ROOT / "npm_guard" / "schemas" / "policy.schema.json"
DOCS_FILE = ROOT / "docs" / "rules.md"
BEGIN = "# catalogue: begin"
END = "# catalogue: end"
SEVERITY_LINE = "**Default severity:** "
_REGISTRY_RE = re.compile(r'^\s*\("([a-z0-9_]+)", "([a-z+]+)"\),$')


class CatalogueError(Exception):
    """Something only a person can fix (a rule without a docs section)."""


def rule_modules() -> list[str]:
    """The rule modules on disk: every npm_guard/rules/*.py but the package and helpers."""
    return sorted(
        path.stem
        for path in RULES_DIR.glob("*.py")
        if path.stem != "__init__" and not path.stem.startswith("_")
    )


def rule_of(module: str) -> object:
    """The `RULE` a rule module declares."""
    return importlib.import_module(f"npm_guard.rules.{module}").RULE


def listed(registry_text: str) -> list[tuple[str, str]]:
    """The (module, target) entries of the registry block as it is written."""
    block = _block(registry_text)
    entries = []
    for line in block.splitlines()[1:-1]:
        match = _REGISTRY_RE.match(line)
        if match:
            entries.append((match.group(1), match.group(2)))
    return entries


def _block(text: str) -> str:
    start = text.index(BEGIN)
    end = text.index(END, start) + len(END)
    return text[start:end]


def table_of(module: str) -> str:
    """The registry table of a rule module: its RULE's target, `+inventory` when the
    rule needs the policy's token inventory (npm_guard.rules.table_of)."""
    from npm_guard.rules import table_of as table

    return table(rule_of(module))


def registry_entries(current: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The registry as it should be: the present order kept, tables from each RULE,
    modules that are gone dropped, new ones after the last module of their target."""
    on_disk = rule_modules()
    entries = [(name, table_of(name)) for name, _ in current if name in on_disk]
    known = {name for name, _ in entries}
    for name in on_disk:
        if name in known:
            continue
        table = table_of(name)
        target = table.split("+")[0]
        last = max(
            (i for i, (_, t) in enumerate(entries) if t.split("+")[0] == target), default=None
        )
        entries.insert(len(entries) if last is None else last + 1, (name, table))
    return entries


def registry_text(text: str) -> str:
    """npm_guard/rules/__init__.py with its registry block rewritten."""
    entries = registry_entries(listed(text))
    block = _block(text)
    head = block.splitlines()[0]
    lines = [head, "REGISTRY: tuple[tuple[str, str], ...] = ("]
    lines += [f'    ("{name}", "{target}"),' for name, target in entries]
    lines += [")", END]
    return text.replace(block, "\n".join(lines))


def rule_ids(entries: Sequence[tuple[str, str]]) -> list[str]:
    return [str(rule_of(name).id) for name, _ in entries]


def schema_text(text: str, ids: Sequence[str]) -> str:
    """The policy schema with its rule ids in catalogue order."""
    schema = json.loads(text)
    rules = schema["properties"]["rules"]
    old = rules["properties"]
    setting = {"$ref": "#/$defs/ruleSetting"}
    rules["properties"] = {rule_id: old.get(rule_id, setting) for rule_id in ids}
    schema["$defs"]["ruleId"]["enum"] = list(ids)
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def docs_text(text: str, severities: dict[str, str]) -> str:
    """docs/rules.md with each rule's "Default severity" line starting with the
    severity its RULE declares."""
    lines = text.split("\n")
    missing = [rule_id for rule_id in severities if f"## {rule_id}" not in lines]
    if missing:
        raise CatalogueError(
            f"{DOCS_FILE.relative_to(ROOT)} has no section for {', '.join(missing)}: "
            f"write one (what it detects, why it matters, before and after; see "
            f"CONTRIBUTING.md), then run this again"
        )
    for rule_id, severity in severities.items():
        start = lines.index(f"## {rule_id}")
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        at = next((i for i in range(start + 1, end) if lines[i].startswith(SEVERITY_LINE)), None)
        if at is None:
            first = next((i for i in range(start + 1, end) if lines[i].strip()), None)
            if first is not None and lines[first].startswith("**Reads:**"):
                lines[first] = f"{SEVERITY_LINE}{severity}. {lines[first]}"
            else:
                lines[start + 1 : start + 1] = ["", f"{SEVERITY_LINE}{severity}."]
            continue
        rest = lines[at][len(SEVERITY_LINE) :]
        word = re.match(r"[a-z]+", rest)
        tail = rest[word.end() :] if word else f". {rest}"
        lines[at] = f"{SEVERITY_LINE}{severity}{tail}"
    return "\n".join(lines)


def expected() -> dict[Path, str]:
    """Every derived file as it should be, by path."""
    registry = registry_text(REGISTRY_FILE.read_text(encoding="utf-8"))
    entries = listed(registry)
    ids = rule_ids(entries)
    severities = {
        str(rule.id): rule.severity.value for rule in (rule_of(name) for name, _ in entries)
    }
    return {
        REGISTRY_FILE: registry,
        SCHEMA_FILE: schema_text(SCHEMA_FILE.read_text(encoding="utf-8"), ids),
        DOCS_FILE: docs_text(DOCS_FILE.read_text(encoding="utf-8"), severities),
    }


def stale() -> list[Path]:
    """The derived files that differ from what `expected()` would write."""
    return [path for path, text in expected().items() if path.read_text("utf-8") != text]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    try:
        wanted = expected()
    except CatalogueError as error:
        print(f"catalogue: {error}", file=sys.stderr)
        return 1
    changed = [path for path, text in wanted.items() if path.read_text("utf-8") != text]
    for path in changed:
        shown = path.relative_to(ROOT)
        if args.check:
            print(f"catalogue: {shown} is stale: run scripts/catalogue.py", file=sys.stderr)
        else:
            path.write_text(wanted[path], encoding="utf-8")
            print(f"catalogue: wrote {shown}", file=sys.stderr)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
