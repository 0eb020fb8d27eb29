"""The policy loader: fixtures as data, plus the model a valid file turns into.

`tests/fixtures/policy/valid/*.yml` must load; each `invalid/NAME.yml` must fail with
exactly the problems in `invalid/NAME.expected` (`LINE: key.path: what was expected`).
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from npm_guard.errors import NpmGuardError
from npm_guard.findings import Severity
from npm_guard.policy import Policy
from npm_guard.policy_load import (
    PolicyError,
    catalogue_rule_ids,
    load_policy,
    parse_policy,
    policy_schema,
)
from npm_guard.policy_yaml import MAX_NODES
from npm_guard.rules import all_rules

FIXTURES = Path(__file__).parent / "fixtures" / "policy"
VALID = sorted((FIXTURES / "valid").glob("*.yml"))
INVALID = sorted((FIXTURES / "invalid").glob("*.yml"))
FAKE_TOKEN = "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"


def test_fixture_folders_are_not_empty() -> None:
    assert len(VALID) >= 5
    assert len(INVALID) >= 10
    for path in INVALID:
        assert path.with_suffix(".expected").is_file(), f"{path.name} has no .expected file"


@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_valid_policy_loads(path: Path) -> None:
    policy = load_policy(str(path), str(path.parent))
    assert policy.path == str(path)
    assert isinstance(policy, Policy)


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_invalid_policy_lists_every_problem(path: Path) -> None:
    expected = path.with_suffix(".expected").read_text("utf-8").splitlines()
    with pytest.raises(PolicyError) as raised:
        load_policy(str(path), str(path.parent))
    error = raised.value
    got = [str(p).removeprefix(f"{path.name}:") for p in error.problems]
    assert got == expected
    # The message names the file on every line, so editors and CI logs can jump to it.
    lines = str(error).splitlines()
    assert lines[0] == f"{path.name}: invalid policy file, {len(expected)} problem" + (
        "s:" if len(expected) != 1 else ":"
    )
    assert all(line.startswith(f"{path.name}:") for line in lines[1:])
    assert isinstance(error, NpmGuardError)


def test_invalid_fixtures_never_echo_a_secret() -> None:
    path = FIXTURES / "invalid" / "secret-values.yml"
    with pytest.raises(PolicyError) as raised:
        load_policy(str(path), str(path.parent))
    text = str(raised.value)
    assert FAKE_TOKEN not in text
    assert "ghp_" not in text
    assert "not shown" in text


SECRET_KEYS = (
    "5f0c2a7e-91b3-4d8e-a6f4-0c9d8e7b6a51",
    "glpat-AbCdEfGhIjKlMnOpQrSt",
    "xoxb-AbCdEfGhIjKlMnOpQrStUv",
    "QmFzZTY0QmFzZTY0QmFzZTY0",
)


def test_secret_looking_keys_are_never_echoed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys are in every message (`tokens.KEY: ...`): one that could be a secret is shown
    by its length only, by the loader, the hook and the CLI alike."""
    from npm_guard import cli
    from npm_guard.hooks import npm_guard_policy

    path = FIXTURES / "invalid" / "secret-keys.yml"
    text = path.read_text("utf-8")
    assert all(key in text for key in SECRET_KEYS)
    with pytest.raises(PolicyError) as raised:
        load_policy(str(path), str(path.parent))
    monkeypatch.chdir(path.parent)
    assert npm_guard_policy.main([path.name]) == 1
    assert cli.main(["scan", "--policy", path.name, "."]) == 2
    shown = str(raised.value) + "".join(capsys.readouterr())
    assert "(not shown)" in shown
    for key in SECRET_KEYS:
        assert key not in shown
        assert key[:8] not in shown


def test_full_example_becomes_the_model() -> None:
    policy = load_policy(str(FIXTURES / "valid" / "full.yml"), str(FIXTURES))
    assert policy.rules == {"workflow-publish-with-long-lived-token": Severity.ERROR}
    (entry,) = policy.ignore
    assert (entry.rule, entry.path, entry.reason) == (
        "npmrc-plaintext-credential",
        "test/fixtures/**",
        "fake tokens used by the tests",
    )
    assert entry.line == 6
    assert policy.tokens is not None
    assert set(policy.tokens) == {"NPM_READ_TOKEN", "NPM_PUBLISH_TOKEN"}
    publish = policy.tokens["NPM_PUBLISH_TOKEN"]
    assert publish.permission == "read-write"
    assert publish.cidr == ("203.0.113.0/24",)
    assert publish.max_expiry_days == 30
    assert publish.bypass_2fa is False
    assert policy.tokens["NPM_READ_TOKEN"].max_expiry_days is None
    package = policy.package_policy("@acme/widgets")
    assert package is not None
    assert package.maintainers == ("alice", "bob")
    assert package.accounts == ("alice",)
    assert package.provenance == "required"
    assert package.trusted is not None
    assert package.trusted.repository == "acme/widgets"
    assert package.trusted.workflow == "release.yml"
    assert package.trusted.environment == "npm"
    assert policy.package_policy("left-pad") is None
    assert policy.audit.recent_versions == 10
    assert policy.audit.require_2fa == "auth-and-writes"
    assert policy.audit.unverified_2fa is Severity.WARNING
    (attestation,) = policy.attestations
    assert attestation.date == datetime.date(2026, 10, 1)
    assert attestation.expires == datetime.date(2027, 1, 1)
    assert policy.attestation_for("bob", datetime.date(2026, 12, 1)) == attestation
    assert policy.attestation_for("bob", datetime.date(2027, 1, 1)) is None


def test_off_is_the_word_off_not_yaml_1_1_false() -> None:
    policy = load_policy(str(FIXTURES / "valid" / "severities.yml"), str(FIXTURES))
    assert policy.rules["npmrc-insecure-registry"] is None
    assert policy.rules["workflow-token-overexposed"] is None
    assert policy.rules["npmrc-unscoped-credential"] is Severity.NOTE


def test_ignore_path_lists_become_one_entry_per_glob() -> None:
    policy = load_policy(str(FIXTURES / "valid" / "ignores.yml"), str(FIXTURES))
    assert [(e.rule, e.path) for e in policy.ignore] == [
        ("npmrc-plaintext-credential", "test/fixtures/**"),
        ("*", "examples/bad/"),
        ("*", "docs/**/*.npmrc"),
    ]
    assert policy.ignore[1].reason.startswith("deliberately broken examples that")


def test_empty_inventory_is_not_the_same_as_no_inventory() -> None:
    assert load_policy(str(FIXTURES / "valid" / "empty-inventory.yml"), str(FIXTURES)).tokens == {}
    assert load_policy(str(FIXTURES / "valid" / "minimal.yml"), str(FIXTURES)).tokens is None


def test_aliases_resolve_to_the_anchored_value() -> None:
    policy = load_policy(str(FIXTURES / "valid" / "anchors.yml"), str(FIXTURES))
    assert policy.tokens is not None
    staging = policy.tokens["NPM_PUBLISH_TOKEN_STAGING"]
    assert staging.permission == "read-write"
    assert staging.cidr == ("203.0.113.0/24", "2001:db8::/32")
    assert policy.tokens["NPM_STAGE_TOKEN"].bypass_2fa is True


def test_no_policy_file_gives_the_default(tmp_path: Path) -> None:
    assert load_policy(None, str(tmp_path)) == Policy()


def test_policy_file_in_root_is_found(tmp_path: Path) -> None:
    (tmp_path / ".npm-guard.yml").write_text("version: 1\nrules: {parse-error: warning}\n")
    policy = load_policy(None, str(tmp_path))
    assert policy.rules == {"parse-error": Severity.WARNING}


def test_error_names_the_default_file_relative_to_root(tmp_path: Path) -> None:
    (tmp_path / ".npm-guard.yml").write_text("version: 1\nrules: {parse-eror: off}\n")
    with pytest.raises(PolicyError) as raised:
        load_policy(None, str(tmp_path))
    assert str(raised.value.problems[0]).startswith(".npm-guard.yml:2: rules.parse-eror: ")


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NpmGuardError, match="no such policy file"):
        load_policy(str(tmp_path / "nope.yml"), str(tmp_path))


def test_directory_binary_and_bad_utf8_are_errors(tmp_path: Path) -> None:
    (tmp_path / "dir.yml").mkdir()
    (tmp_path / "binary.yml").write_bytes(b"version: 1\0\n")
    (tmp_path / "latin1.yml").write_bytes(b"version: 1\n# caf\xe9\n")
    with pytest.raises(NpmGuardError, match="is a directory"):
        load_policy(str(tmp_path / "dir.yml"), str(tmp_path))
    with pytest.raises(NpmGuardError, match="binary"):
        load_policy(str(tmp_path / "binary.yml"), str(tmp_path))
    with pytest.raises(NpmGuardError, match="not valid UTF-8"):
        load_policy(str(tmp_path / "latin1.yml"), str(tmp_path))


def test_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "crlf.yml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\r\nrules:\r\n  parse-error: note\r\n")
    assert load_policy(str(path), str(tmp_path)).rules == {"parse-error": Severity.NOTE}


def test_deep_nesting_is_refused_before_composing() -> None:
    # libyaml's composer recurses: without the depth check this crashes the interpreter.
    text = "version: 1\nrules: " + "[" * 50_000 + "]" * 50_000 + "\n"
    with pytest.raises(PolicyError, match="nested more than"):
        parse_policy(text, "deep.yml")


def test_wide_alias_expansion_is_refused() -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 6):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    with pytest.raises(PolicyError, match=f"more than {MAX_NODES} values"):
        parse_policy("\n".join(lines) + "\n", "wide.yml")


def test_every_registered_rule_is_a_policy_key() -> None:
    """The schema lists rule ids for editors; the registry must not outgrow it."""
    missing = set(all_rules()) - set(catalogue_rule_ids())
    assert not missing, f"add these rule ids to policy.schema.json: {sorted(missing)}"


def test_schema_is_a_valid_2020_12_schema_without_extra_properties() -> None:
    from jsonschema import Draft202012Validator

    schema = policy_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"

    def objects(node: object) -> list[dict[str, object]]:
        found = []
        if isinstance(node, dict):
            if node.get("type") == "object":
                found.append(node)
            for value in node.values():
                found.extend(objects(value))
        elif isinstance(node, list):
            for value in node:
                found.extend(objects(value))
        return found

    for obj in objects(schema):
        # Closed objects, or maps whose keys and values are both constrained.
        assert obj.get("additionalProperties") is False or (
            "propertyNames" in obj and isinstance(obj.get("additionalProperties"), dict)
        ), json.dumps(obj)[:200]


def test_the_cli_spells_the_policy_file_name_like_the_model() -> None:
    from npm_guard import constants, policy

    assert constants.POLICY_FILE == policy.POLICY_FILE == ".npm-guard.yml"


def test_a_scan_without_a_policy_file_does_not_import_yaml_or_jsonschema(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text("registry=https://registry.npmjs.org/\n")
    code = (
        "import sys\n"
        "from npm_guard.hooks.npmrc_credentials import main\n"
        "assert main(['.npmrc']) == 0\n"
        "heavy = ('yaml', 'jsonschema', 'npm_guard.policy_load', 'npm_guard.policy_apply')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_scan_with_a_policy_file_reads_it(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text("registry=https://registry.npmjs.org/\n")
    (tmp_path / ".npm-guard.yml").write_text("version: 1\n")
    code = (
        "import sys\n"
        "from npm_guard.hooks.npmrc_credentials import main\n"
        "assert main(['.npmrc']) == 0\n"
        "print(sorted(m for m in ('yaml', 'jsonschema') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "['jsonschema', 'yaml']"


@pytest.mark.parametrize(
    "text",
    ["version: 1\nrules: [\n", "version: 1\nrules: {a: b\n", 'version: 1\nrules: "x\n\n'],
)
def test_a_yaml_error_at_the_end_is_on_a_line_that_exists(text: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text, ".npm-guard.yml")
    (problem,) = raised.value.problems
    assert 1 <= problem.line <= len(text.splitlines()), str(problem)
    for mentioned in re.findall(r"on line (\d+)", problem.expected):
        assert 1 <= int(mentioned) <= len(text.splitlines()), str(problem)
