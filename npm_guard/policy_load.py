"""Load `.npm-guard.yml`: YAML with positions, the JSON Schema, then the `Policy` model.

Every problem is collected before anything is raised, so one run lists them all, each
as `FILE:LINE: key.path: what was expected` (`npm_guard.policy_problems`). PyYAML and
jsonschema are imported only when there is a policy file to read: the hooks' start-up
path stays light. The YAML is read by `npm_guard.policy_yaml`, checked against the
schema by `npm_guard.policy_schema`, and turned into the model here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from npm_guard.errors import NpmGuardError
from npm_guard.findings import Severity
from npm_guard.paths import display_path
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
from npm_guard.policy_problems import PolicyDocument, semantic_problems
from npm_guard.policy_problems import PolicyError as PolicyError
from npm_guard.policy_problems import PolicyProblem as PolicyProblem
from npm_guard.policy_schema import catalogue_rule_ids as catalogue_rule_ids
from npm_guard.policy_schema import policy_schema as policy_schema
from npm_guard.policy_schema import schema_bytes, schema_problems

# typing, json and datetime are imported where they are used: a hook run with a valid
# (cached) policy file must start within 1.5x of `import yaml` (DESIGN.md, "Targets").
TYPE_CHECKING = False  # mypy reads the branch
if TYPE_CHECKING:
    from typing import Any

MAX_POLICY_BYTES = 1024 * 1024
_schema_bytes = schema_bytes  # tests read the schema's bytes under this name


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
    display = display_path(chosen, root)
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

        remembered = policy_cache.cached_document(text, schema_bytes())
        if remembered is not None:
            data, key_lines, value_lines = remembered
            document = PolicyDocument(data, True, dict(key_lines), dict(value_lines))
            semantic = list(semantic_problems(document, display))
            if semantic:
                raise PolicyError(display, semantic)
            return _build(document, source_path or display)
    problems: list[PolicyProblem] = []
    from npm_guard.policy_yaml import compose

    document = compose(text, display, problems)
    if document.complete:
        problems.extend(schema_problems(document, display))
        problems.extend(semantic_problems(document, display))
    if problems:
        raise PolicyError(display, problems)
    policy = _build(document, source_path or display)
    if cache:
        policy_cache.remember_document(
            text, schema_bytes(), document.data, document.key_lines, document.value_lines
        )
    return policy


# --- reading ---------------------------------------------------------------------------


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


# --- the model -------------------------------------------------------------------------


def _build(document: PolicyDocument, path: str) -> Policy:
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
    attestations = tuple(
        _attestation(item, document.line(("attestations", i)))
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


def _attestation(item: Mapping[str, Any], line: int) -> Attestation:
    import datetime  # only for a policy with attestations: start-up time of the hooks

    return Attestation(
        maintainer=item["maintainer"],
        mode=item["mode"],
        date=datetime.date.fromisoformat(item["date"]),
        expires=datetime.date.fromisoformat(item["expires"]),
        line=line,
        registry=item.get("registry"),
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
