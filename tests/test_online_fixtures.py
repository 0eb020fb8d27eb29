"""The online rules, as data: registry facts in, findings out.

`tests/fixtures/online/<rule-id>/ok-*.json` must give no finding of that rule and
`bad-*.json` exactly the findings it lists. Each file holds a `description`, the
`facts` (an `npm_guard.audit.facts.AuditFacts` written as JSON: field names as in
that module, enums by value, times in ISO 8601) and the expected `findings` (rule,
path, line, severity and the whole message). Every online rule runs on the facts, as
the audit runs them; only the folder's rule is compared. New folders and files are
picked up without touching this module.
"""

from __future__ import annotations

import datetime
import enum
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from npm_guard.audit.facts import AuditFacts
from npm_guard.rules import ONLINE_RULES

FIXTURES = Path(__file__).parent / "fixtures" / "online"
RULE_IDS = [rule.id for rule, _ in ONLINE_RULES]
CASES = sorted(
    (folder.name, path)
    for folder in FIXTURES.iterdir()
    if folder.is_dir()
    for path in folder.glob("*.json")
)


class Facts:
    """JSON to facts: each value converted to the type its field is annotated with.

    Equal frozen values become one object, as in the audit, where a version in
    `recent` is the same object as in `versions` (rules compare them by identity)."""

    def __init__(self) -> None:
        self._interned: dict[object, object] = {}

    def build(self, cls: type, data: Mapping[str, Any]) -> Any:
        hints = typing.get_type_hints(cls)
        unknown = set(data) - set(hints)
        assert not unknown, f"{cls.__name__} has no field {sorted(unknown)}"
        made = cls(**{name: self.convert(value, hints[name]) for name, value in data.items()})
        try:
            return self._interned.setdefault(made, made)
        except TypeError:  # not hashable: not frozen
            return made

    def convert(self, value: Any, hint: Any) -> Any:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin is typing.Union or origin is getattr(types, "UnionType", typing.Union):
            if value is None:
                return None
            (hint,) = [a for a in args if a is not type(None)]
            return self.convert(value, hint)
        if origin is tuple:
            return tuple(self.convert(item, args[0]) for item in value)
        if origin in (dict, Mapping) or hint is Mapping:
            return {key: self.convert(item, args[1]) for key, item in value.items()}
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return hint(value)
        if hint is datetime.datetime:
            return datetime.datetime.fromisoformat(value)
        if hint is datetime.date:
            return datetime.date.fromisoformat(value)
        if isinstance(hint, type) and isinstance(value, Mapping):
            return self.build(hint, value)
        return value


def load(path: Path) -> tuple[AuditFacts, list[dict[str, Any]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"description", "facts", "findings"}, path.name
    assert data["description"], "say what the case is about"
    return Facts().build(AuditFacts, data["facts"]), data["findings"]


def found(facts: AuditFacts, rule_id: str) -> list[dict[str, Any]]:
    findings = [finding for _, check in ONLINE_RULES for finding in check(facts)]
    return [
        {
            "rule": f.rule.id,
            "path": f.location.path,
            "line": f.location.line,
            "severity": f.effective_severity.value,
            "message": f.message,
        }
        for f in findings
        if f.rule.id == rule_id
    ]


def test_every_online_rule_has_ok_and_bad_fixtures() -> None:
    folders = {path.name for path in FIXTURES.iterdir() if path.is_dir()}
    assert folders == set(RULE_IDS)
    for rule_id in RULE_IDS:
        names = [path.name for rid, path in CASES if rid == rule_id]
        assert any(n.startswith("ok-") for n in names), rule_id
        assert any(n.startswith("bad-") for n in names), rule_id
    assert all(path.name.startswith(("ok-", "bad-")) for _, path in CASES)


@pytest.mark.parametrize(("rule_id", "path"), CASES, ids=[f"{r}/{p.stem}" for r, p in CASES])
def test_fixture(rule_id: str, path: Path) -> None:
    facts, expected = load(path)
    if path.name.startswith("ok-"):
        assert expected == [], "ok fixtures expect no finding"
    else:
        assert expected, "bad fixtures list their findings"
        assert all(item["rule"] == rule_id for item in expected)
    assert found(facts, rule_id) == expected


def test_the_loader_refuses_a_misspelt_field() -> None:
    with pytest.raises(AssertionError, match="no field"):
        Facts().build(AuditFacts, {"packages": [], "tokn": None})
