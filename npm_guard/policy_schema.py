"""The policy file's JSON Schema: loading it, and its errors in plain words.

The schema ships as package data (`npm_guard/schemas/policy.schema.json`; its rule ids
are written by `scripts/catalogue.py`). jsonschema is imported only when a policy file
is validated; a validated file is remembered (`npm_guard.policy_cache`) by these bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache

from npm_guard.policy_problems import PolicyDocument, PolicyProblem, key_text, show_value

TYPE_CHECKING = False  # mypy reads the branch
if TYPE_CHECKING:
    from typing import Any

    from jsonschema import ValidationError

    from npm_guard.policy_problems import Path

SCHEMA_RESOURCE = "policy.schema.json"
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing (null)",
}


def schema_path() -> str:
    # Beside this module rather than importlib.resources: `schemas` is a plain data
    # directory, which `resources.files()` cannot open on Python 3.9.
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas", SCHEMA_RESOURCE)


@lru_cache(maxsize=1)
def schema_bytes() -> bytes:
    with open(schema_path(), "rb") as handle:
        return handle.read()


@lru_cache(maxsize=1)
def policy_schema() -> dict[str, Any]:
    """The policy file's JSON Schema, shipped as package data (callers must not change it)."""
    import json

    schema: dict[str, Any] = json.loads(schema_bytes())
    return schema


def catalogue_rule_ids() -> tuple[str, ...]:
    """Every rule id the policy file accepts: the schema's list of rules."""
    return tuple(policy_schema()["properties"]["rules"]["properties"])


def schema_problems(document: PolicyDocument, display: str) -> Iterator[PolicyProblem]:
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(policy_schema(), format_checker=FormatChecker())
    seen: set[PolicyProblem] = set()
    for error in validator.iter_errors(document.data):
        for problem in _explain(error, document, display):
            if problem not in seen:
                seen.add(problem)
                yield problem


def _explain(
    error: ValidationError, document: PolicyDocument, display: str
) -> Iterator[PolicyProblem]:
    """Plain-words problems for one schema error, at the line of the key concerned."""
    path: Path = tuple(error.absolute_path)
    kind = str(error.validator)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    rule: Any = error.validator_value

    def at(where: Path, expected: str) -> PolicyProblem:
        return PolicyProblem(display, document.line(where), key_text(where), expected)

    if "propertyNames" in error.absolute_schema_path:
        key = str(error.instance)
        where = (*path, key)
        yield at(where, f"expected this key to be {_describe(schema)}")
        return
    if kind == "additionalProperties" and isinstance(error.instance, Mapping):
        known = list(schema.get("properties", {}))
        for key in error.instance:
            if key in known:
                continue
            if path == ("rules",):
                yield at((*path, key), _unknown_rule(key, known))
            else:
                yield at((*path, key), f"unknown key; expected one of: {', '.join(known)}")
        return
    if kind == "required" and isinstance(error.instance, Mapping):
        for key in rule:
            if key not in error.instance:
                yield at(path, f"missing required key '{key}'")
        return
    if kind in ("anyOf", "oneOf"):
        yield from _explain_alternatives(error, document, display)
        return
    yield at(path, _expected(kind, rule, schema, error.instance))


def _explain_alternatives(
    error: ValidationError, document: PolicyDocument, display: str
) -> Iterator[PolicyProblem]:
    """For `anyOf`: the errors of the branch meant for this kind of value."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    plausible = [
        errors
        for errors in branches.values()
        if not any(e.validator in ("type", "const") and not e.relative_path for e in errors)
    ]
    if len(plausible) == 1:
        for sub in plausible[0]:
            yield from _explain(sub, document, display)
        return
    path: Path = tuple(error.absolute_path)
    alternatives: Any = error.validator_value
    options = [_describe(s) for s in alternatives]
    yield PolicyProblem(
        display,
        document.line(path),
        key_text(path),
        f"expected {' or '.join(options)}, got {show_value(error.instance)}",
    )


def _expected(kind: str, rule: Any, schema: Mapping[str, Any], instance: Any) -> str:
    import json

    got = show_value(instance)
    if kind == "type":
        wanted = rule if isinstance(rule, list) else [rule]
        names = [_TYPE_NAMES.get(str(t), str(t)) for t in wanted]
        return f"expected {' or '.join(names)}, got {got}"
    if kind == "const":
        return f"expected {json.dumps(rule)}, got {got}"
    if kind == "enum":
        if schema.get("title") == "rule id":
            return _unknown_rule(str(instance), list(rule))
        return f"expected one of {', '.join(str(v) for v in rule)}; got {got}"
    if kind in ("pattern", "format", "minLength"):
        return f"expected {_describe(schema)}, got {got}"
    if kind == "minimum":
        return f"expected a number of at least {rule}, got {got}"
    if kind == "maximum":
        return f"expected a number of at most {rule}, got {got}"
    if kind == "minItems":
        return f"expected at least {rule} item{'s' if rule != 1 else ''}, got none"
    if kind == "uniqueItems":
        return "expected each item once; this list repeats an item"
    return f"does not match the schema ({kind})"


def _describe(schema: Any) -> str:
    """How a sub-schema reads in a sentence: its description, title, constant or type."""
    if not isinstance(schema, Mapping):
        return "a valid value"
    if "description" in schema and "title" in schema:
        return str(schema["description"]).rstrip(".")
    if "title" in schema:
        return f"a {schema['title']}"
    if "const" in schema:
        import json

        return json.dumps(schema["const"])
    if "$ref" in schema:
        return _describe(_resolve(str(schema["$ref"])))
    if "type" in schema:
        return _TYPE_NAMES.get(str(schema["type"]), str(schema["type"]))
    return "a valid value"


def _resolve(ref: str) -> Any:
    name = ref.rsplit("/", 1)[-1]
    return policy_schema()["$defs"].get(name, {})


def _unknown_rule(rule_id: str, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(rule_id, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown rule id {show_value(rule_id)}{hint} (`npm-guard rules` lists every rule)"
