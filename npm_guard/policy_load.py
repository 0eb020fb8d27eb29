"""Load `.npm-guard.yml`: YAML with positions, the JSON Schema, then the `Policy` model.

Every problem is collected before anything is raised, so one run lists them all, each
as `FILE:LINE: key.path: what was expected`. PyYAML and jsonschema are imported only
when there is a policy file to read: the hooks' start-up path stays light.

Scalars are read the YAML 1.2 way (as editors using the schema read them): only
`true`/`false` are booleans, so `off` stays the word `off`, and dates stay text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache

from npm_guard._record import dataclass, field
from npm_guard.errors import NpmGuardError
from npm_guard.findings import Severity
from npm_guard.policy import (
    POLICY_FILE,
    Attestation,
    AuditSettings,
    IgnoreEntry,
    PackagePolicy,
    Policy,
    TokenSpec,
    TrustedPublisher,
)

# typing, json and datetime are imported where they are used: a hook run with a valid
# (cached) policy file must start within 1.5x of `import yaml` (DESIGN.md, "Targets").
TYPE_CHECKING = False  # mypy reads the branch
if TYPE_CHECKING:
    import datetime
    from typing import Any

    import yaml
    from jsonschema import ValidationError

    Path = tuple[Any, ...]  # keys (str) and list indexes (int) from the document root

SCHEMA_RESOURCE = "policy.schema.json"
MAX_POLICY_BYTES = 1024 * 1024
# Aliases let a small file describe a huge tree ("billion laughs"); a real policy file
# has a few hundred nodes.
MAX_NODES = 20_000
MAX_DEPTH = 40
# npm refuses read-write granular tokens that live longer than this.
MAX_WRITE_TOKEN_DAYS = 90

_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_FLOAT_RE = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_CIDR_SHAPE_RE = re.compile(r"^[0-9A-Fa-f:.]+/[0-9]{1,3}$")
_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_MIXED_CASE_RUN_RE = re.compile(r"[A-Za-z0-9]{20,}")
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing (null)",
}


class PolicyError(NpmGuardError):
    """An unreadable or invalid policy file; `problems` holds every problem found."""

    def __init__(self, display: str, problems: Sequence[PolicyProblem]) -> None:
        self.display = display
        self.problems = tuple(sorted(problems, key=lambda p: (p.line, p.key)))
        count = len(self.problems)
        head = f"{display}: invalid policy file, {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong in a policy file, at a line, about a key."""

    file: str
    line: int
    key: str
    expected: str

    def __str__(self) -> str:
        where = f"{self.key}: " if self.key else ""
        return f"{self.file}:{self.line}: {where}{self.expected}"


@dataclass
class _Document:
    """A policy file read into plain Python values, with the line of every key and value."""

    data: Any = None
    complete: bool = False  # False when the YAML could not be read whole
    key_lines: dict[Path, int] = field(default_factory=dict)
    value_lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int:
        return self.key_lines.get(path) or self.value_lines.get(path) or 1


def policy_path(path: str | None, root: str) -> str | None:
    """The policy file that applies: `path` if given, else `.npm-guard.yml` in root if any."""
    if path is not None:
        return path
    candidate = os.path.join(root, POLICY_FILE)
    return candidate if os.path.lexists(candidate) else None


def load_policy(path: str | None, root: str) -> Policy:
    """The policy from `path`, or from `.npm-guard.yml` in `root`, or the default `Policy()`.

    Raises `PolicyError` (an `NpmGuardError`) listing every problem in the file.
    """
    chosen = policy_path(path, root)
    if chosen is None:
        return Policy()
    display = _display(chosen, root)
    text = _read(chosen, display)
    return parse_policy(text, display, source_path=chosen, cache=True)


def parse_policy(
    text: str, display: str, *, source_path: str | None = None, cache: bool = False
) -> Policy:
    """The policy in `text`; `display` names the file in error messages.

    With `cache`, a text that passed every check before (`npm_guard.policy_cache`) is not
    parsed and validated against the schema again; the checks beyond the schema still
    run on the values remembered from it.
    """
    if cache:
        from npm_guard import policy_cache

        remembered = policy_cache.cached_document(text, _schema_bytes())
        if remembered is not None:
            data, key_lines, value_lines = remembered
            document = _Document(data, True, dict(key_lines), dict(value_lines))
            semantic = list(_semantic_problems(document, display))
            if semantic:
                raise PolicyError(display, semantic)
            return _build(document, source_path or display)
    problems: list[PolicyProblem] = []
    document = _compose(text, display, problems)
    if document.complete:
        problems.extend(_schema_problems(document, display))
        problems.extend(_semantic_problems(document, display))
    if problems:
        raise PolicyError(display, problems)
    policy = _build(document, source_path or display)
    if cache:
        policy_cache.remember_document(
            text, _schema_bytes(), document.data, document.key_lines, document.value_lines
        )
    return policy


def _schema_path() -> str:
    # Beside this module rather than importlib.resources: `schemas` is a plain data
    # directory, which `resources.files()` cannot open on Python 3.9.
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas", SCHEMA_RESOURCE)


@lru_cache(maxsize=1)
def _schema_bytes() -> bytes:
    with open(_schema_path(), "rb") as handle:
        return handle.read()


@lru_cache(maxsize=1)
def policy_schema() -> dict[str, Any]:
    """The policy file's JSON Schema, shipped as package data (callers must not change it)."""
    import json

    schema: dict[str, Any] = json.loads(_schema_bytes())
    return schema


def catalogue_rule_ids() -> tuple[str, ...]:
    """Every rule id the policy file accepts: the schema's list of rules."""
    return tuple(policy_schema()["properties"]["rules"]["properties"])


# --- reading ---------------------------------------------------------------------------


def _display(path: str, root: str) -> str:
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.path.abspath(root))
    if relative.startswith(os.pardir):
        return path.replace(os.sep, "/")
    return relative.replace(os.sep, "/")


def _read(path: str, display: str) -> str:
    try:
        if os.path.isdir(path):
            raise NpmGuardError(f"{display}: the policy file is a directory")
        size = os.path.getsize(path)
        if size > MAX_POLICY_BYTES:
            raise NpmGuardError(
                f"{display}: policy file too large ({size} bytes; limit {MAX_POLICY_BYTES})"
            )
        with open(path, "rb") as handle:
            data = handle.read(MAX_POLICY_BYTES + 1)
    except FileNotFoundError as error:
        raise NpmGuardError(f"{display}: no such policy file") from error
    except OSError as error:
        raise NpmGuardError(f"{display}: cannot read the policy file ({error.strerror})") from error
    if b"\0" in data:
        raise NpmGuardError(f"{display}: the policy file is binary, not YAML")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise NpmGuardError(
            f"{display}: the policy file is not valid UTF-8 (first bad byte at offset "
            f"{error.start})"
        ) from error


def _compose(text: str, display: str, problems: list[PolicyProblem]) -> _Document:
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        too_deep = _nesting_beyond(loader, MAX_DEPTH)
        if too_deep is not None:
            problems.append(
                PolicyProblem(
                    display,
                    too_deep,
                    "",
                    f"the document is nested more than {MAX_DEPTH} levels deep; a policy "
                    "file is a few levels of plain mappings and lists",
                )
            )
            return _Document()
        loader.dispose()
        loader = loader_class(text)
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        from npm_guard.workflow.yaml_loader import existing_position, line_starts_of

        starts = line_starts_of(text)

        def line_of(mark: Any) -> int:
            """The mark's line, or the last line when the mark is past the end."""
            return existing_position(starts, text, mark.line + 1, mark.column + 1)[0]

        mark = error.problem_mark or error.context_mark
        line = line_of(mark) if mark is not None else 1
        problem = error.problem or error.context or "invalid YAML"
        if error.problem and error.context and error.context_mark is not None:
            problem += f" ({error.context} on line {line_of(error.context_mark)})"
        problems.append(PolicyProblem(display, line, "", f"not valid YAML: {problem}"))
        return _Document()
    except yaml.YAMLError as error:
        problems.append(PolicyProblem(display, 1, "", f"not valid YAML: {type(error).__name__}"))
        return _Document()
    finally:
        loader.dispose()
    document = _Document()
    if node is None:
        problems.append(
            PolicyProblem(display, 1, "", "the file is empty; expected a mapping with version: 1")
        )
        return document
    converter = _Converter(display, document, problems)
    document.data = converter.convert(node, (), 0)
    document.complete = not converter.gave_up
    return document


def _nesting_beyond(loader: Any, limit: int) -> int | None:
    """The line where collections nest deeper than `limit`, from the event stream.

    Composing a deeply nested document recurses (libyaml's composer can overflow the
    C stack), so the depth is measured first, without recursion.
    """
    import yaml

    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limit:
                    mark = event.start_mark
                    return mark.line + 1 if mark is not None else 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        from npm_guard.workflow.yaml_loader import is_nesting_limit

        if not is_nesting_limit(error):
            raise
        mark = error.problem_mark or error.context_mark
        return mark.line + 1 if mark is not None else 1
    return None


class _Converter:
    """YAML nodes to Python values, recording lines and refusing alias bombs."""

    def __init__(self, display: str, document: _Document, problems: list[PolicyProblem]):
        self.display = display
        self.document = document
        self.problems = problems
        self.nodes = 0
        self.gave_up = False

    def convert(self, node: yaml.Node, path: Path, depth: int) -> Any:
        import yaml

        if self.gave_up:
            return None
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            self.gave_up = True
            self.problems.append(
                PolicyProblem(
                    self.display,
                    node.start_mark.line + 1,
                    "",
                    f"the document is too large or too deeply nested (more than {MAX_NODES} "
                    f"values or {MAX_DEPTH} levels, YAML aliases included); a policy file is "
                    "a few screens of plain mappings and lists",
                )
            )
            return None
        self.document.value_lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        import yaml

        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    PolicyProblem(self.display, line, _key_text(path), "keys must be plain text")
                )
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in out:
                first = self.document.key_lines.get(child, 0)
                self.problems.append(
                    PolicyProblem(
                        self.display,
                        line,
                        _key_text(child),
                        f"duplicate key (first at line {first}); each key may appear once",
                    )
                )
                continue
            self.document.key_lines[child] = line
            out[key] = self.convert(value_node, child, depth + 1)
        return out

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        value: str = node.value
        tag: str = node.tag
        if tag.startswith("!") and not tag.startswith("!!"):
            self.problems.append(
                PolicyProblem(
                    self.display,
                    node.start_mark.line + 1,
                    _key_text(path),
                    "custom YAML tags are not supported; write a plain value",
                )
            )
            return value
        if node.style:  # quoted or block scalars are always text
            return value
        if tag.endswith(":null"):
            return None
        if tag.endswith(":bool") and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if tag.endswith(":int") and _INT_RE.match(value):
            return int(value, 10)
        if tag.endswith(":float") and _FLOAT_RE.match(value):
            return float(value)
        return value


# --- the schema ------------------------------------------------------------------------


def _schema_problems(document: _Document, display: str) -> Iterator[PolicyProblem]:
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(policy_schema(), format_checker=FormatChecker())
    seen: set[PolicyProblem] = set()
    for error in validator.iter_errors(document.data):
        for problem in _explain(error, document, display):
            if problem not in seen:
                seen.add(problem)
                yield problem


def _explain(error: ValidationError, document: _Document, display: str) -> Iterator[PolicyProblem]:
    """Plain-words problems for one schema error, at the line of the key concerned."""
    path: Path = tuple(error.absolute_path)
    kind = str(error.validator)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    rule: Any = error.validator_value

    def at(where: Path, expected: str) -> PolicyProblem:
        return PolicyProblem(display, document.line(where), _key_text(where), expected)

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
    error: ValidationError, document: _Document, display: str
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
        _key_text(path),
        f"expected {' or '.join(options)}, got {_show(error.instance)}",
    )


def _expected(kind: str, rule: Any, schema: Mapping[str, Any], instance: Any) -> str:
    import json

    got = _show(instance)
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
    return f"unknown rule id {_show(rule_id)}{hint} (`npm-guard rules` lists every rule)"


def _show(value: Any) -> str:
    """A value for an error message, unless it could be a secret: then only its shape."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    if _could_be_secret(text):
        return f"a {len(text)}-character value (not shown)"
    return repr(text)


def _could_be_secret(text: str) -> bool:
    from npm_guard.secrets import find_tokens

    if len(text) > 60 or any(True for _ in find_tokens(text, uuids=True)):
        return True
    # Long runs of letters and digits with no spaces look like keys, not words; so does
    # a long run mixing upper and lower case (rule ids, secret names and package names
    # are single-case), such as a GitLab or Slack token's body.
    if len(text) >= 24 and " " not in text and sum(c.isdigit() for c in text) >= 4:
        return True
    return any(not run.isupper() and not run.islower() for run in _MIXED_CASE_RUN_RE.findall(text))


def _key_text(path: Iterable[Any]) -> str:
    """A key path for a message; a key that could be a secret is shown by its length only
    (a token pasted as a `tokens:` key is a key, and keys are printed in every message)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _could_be_secret(part):
            hidden = f"<a {len(part)}-character key (not shown)>"
            out += f".{hidden}" if out else hidden
        elif _BARE_KEY_RE.match(part):
            out += f".{part}" if out else part
        else:
            import json

            quoted = json.dumps(part)
            out += f".{quoted}" if out else quoted
    return out


# --- checks the schema cannot express --------------------------------------------------


def _semantic_problems(document: _Document, display: str) -> Iterator[PolicyProblem]:
    import ipaddress

    data = document.data if isinstance(document.data, Mapping) else {}

    def at(path: Path, expected: str) -> PolicyProblem:
        return PolicyProblem(display, document.line(path), _key_text(path), expected)

    tokens = data.get("tokens")
    for name, token in tokens.items() if isinstance(tokens, Mapping) else ():
        if not isinstance(token, Mapping):
            continue
        cidrs = token.get("cidr")
        for i, cidr in enumerate(cidrs if isinstance(cidrs, list) else ()):
            if not isinstance(cidr, str) or not _CIDR_SHAPE_RE.match(cidr):
                continue  # the schema already said what is wrong
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                yield at(
                    ("tokens", name, "cidr", i),
                    f"expected an IPv4 or IPv6 range such as 192.0.2.0/24, got {_show(cidr)}",
                )
        days = token.get("max-expiry-days")
        too_long = isinstance(days, int) and days > MAX_WRITE_TOKEN_DAYS
        if token.get("permission") == "read-write" and too_long:
            yield at(
                ("tokens", name, "max-expiry-days"),
                f"expected at most {MAX_WRITE_TOKEN_DAYS}: npm refuses read-write tokens that "
                f"live longer, got {days}",
            )
    attestations = data.get("attestations")
    for i, attestation in enumerate(attestations if isinstance(attestations, list) else ()):
        if not isinstance(attestation, Mapping):
            continue
        dates = [_date(attestation.get("date")), _date(attestation.get("expires"))]
        if dates[0] is not None and dates[1] is not None and dates[1] <= dates[0]:
            yield at(
                ("attestations", i, "expires"),
                f"expected a date after the attestation's date ({dates[0]}), got {dates[1]}",
            )


def _date(value: Any) -> datetime.date | None:
    import datetime

    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


# --- the model -------------------------------------------------------------------------


def _build(document: _Document, path: str) -> Policy:
    data: Mapping[str, Any] = document.data
    rules = {
        rule_id: None if setting == "off" else Severity(setting)
        for rule_id, setting in (data.get("rules") or {}).items()
    }
    ignore: list[IgnoreEntry] = []
    for i, item in enumerate(data.get("ignore") or ()):
        globs = item["path"] if isinstance(item["path"], list) else [item["path"]]
        for glob in globs:
            line = document.line(("ignore", i))
            ignore.append(IgnoreEntry(item["rule"], glob, item["reason"].strip(), line))
    tokens: dict[str, TokenSpec] | None = None
    if "tokens" in data:
        tokens = {
            name: TokenSpec(
                name=name,
                permission=spec["permission"],
                cidr=tuple(spec.get("cidr", ())),
                max_expiry_days=spec.get("max-expiry-days"),
                bypass_2fa=bool(spec.get("bypass-2fa", False)),
                line=document.line(("tokens", name)),
            )
            for name, spec in data["tokens"].items()
        }
    packages = tuple(
        _package(pattern, spec, document.line(("packages", pattern)))
        for pattern, spec in (data.get("packages") or {}).items()
    )
    audit = data.get("audit") or {}
    defaults = AuditSettings()
    settings = AuditSettings(
        recent_versions=audit.get("recent-versions", defaults.recent_versions),
        require_2fa=audit.get("require-2fa", defaults.require_2fa),
        unverified_2fa=Severity(audit.get("unverified-2fa", defaults.unverified_2fa.value)),
    )
    import datetime

    attestations = tuple(
        Attestation(
            maintainer=item["maintainer"],
            mode=item["mode"],
            date=datetime.date.fromisoformat(item["date"]),
            expires=datetime.date.fromisoformat(item["expires"]),
            line=document.line(("attestations", i)),
            registry=item.get("registry"),
        )
        for i, item in enumerate(data.get("attestations") or ())
    )
    return Policy(
        path=path,
        rules=rules,
        ignore=tuple(ignore),
        tokens=tokens,
        packages=packages,
        audit=settings,
        attestations=attestations,
    )


def _package(pattern: str, spec: Mapping[str, Any], line: int) -> PackagePolicy:
    publishers = spec.get("publishers") or {}
    trusted_spec = publishers.get("trusted")
    trusted = (
        TrustedPublisher(
            repository=trusted_spec["repository"],
            workflow=trusted_spec.get("workflow"),
            environment=trusted_spec.get("environment"),
        )
        if trusted_spec is not None
        else None
    )
    maintainers = spec.get("maintainers")
    accounts = publishers.get("accounts")
    return PackagePolicy(
        pattern=pattern,
        maintainers=tuple(maintainers) if maintainers is not None else None,
        trusted=trusted,
        accounts=tuple(accounts) if accounts is not None else None,
        provenance=spec.get("provenance", "optional"),
        line=line,
    )
