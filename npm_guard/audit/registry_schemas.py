"""The JSON Schemas every registry response is checked against before it is trusted."""

from __future__ import annotations

import json
import threading
from functools import cache
from importlib import resources
from typing import Any

# Endpoint kind → schema file under npm_guard/schemas/.
SCHEMAS = {
    "packument": "registry-packument.schema.json",
    "profile": "registry-profile.schema.json",
    "tokens": "registry-tokens.schema.json",
    "collaborators": "registry-collaborators.schema.json",
    "access": "registry-access.schema.json",
    "version-status": "registry-version-status.schema.json",
}

_LOCK = threading.Lock()


@cache
def load_schema(kind: str) -> dict[str, Any]:
    """The schema document for `kind` (a key of `SCHEMAS`)."""
    text = resources.files("npm_guard").joinpath("schemas", SCHEMAS[kind]).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(kind))


def schema_problem(kind: str, document: object) -> str | None:
    """None when `document` matches the schema for `kind`, else the first problem, short.

    The problem names the JSON path and the rule broken, never the offending value
    (a response could echo anything back).
    """
    with _LOCK:  # building a validator is not guaranteed thread-safe; using one is
        validator = _validator(kind)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    error = errors[0]
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    if error.validator == "required":
        return f"{path}: {error.message}"  # names a property of the schema, not a value
    if error.validator in ("type", "enum", "const", "minLength", "pattern"):
        return f"{path} fails {error.validator} {json.dumps(error.validator_value)}"
    return f"{path} fails {error.validator}"
