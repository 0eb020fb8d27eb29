"""Things that must stay in sync: rules and their docs and fixtures, hooks and their
console scripts and README sections, rule id spelling."""

from __future__ import annotations

import configparser
import importlib
import json
import re
from pathlib import Path

import pytest
import yaml

from npm_guard.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "npmrc"
FAMILIES = (
    "npmrc-",
    "workflow-",
    "maintainer-",
    "publish-",
    "publisher-",
    "token-",
    "audit-",
    "policy-",
)
RULE_IDS = sorted(all_rules())


def _headings(path: Path, level: str) -> set[str]:
    text = path.read_text(encoding="utf-8")
    return {m.group(1).strip() for m in re.finditer(rf"^{level} (.+)$", text, re.MULTILINE)}


def _hooks() -> list[dict[str, object]]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(hooks, list) and hooks
    return hooks


def _console_scripts() -> dict[str, str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    scripts = {}
    for line in config["options.entry_points"]["console_scripts"].strip().splitlines():
        name, _, target = line.partition("=")
        scripts[name.strip()] = target.strip()
    return scripts


HOOK_IDS = [str(hook["id"]) for hook in _hooks()]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_has_a_docs_section(rule_id: str) -> None:
    assert rule_id in _headings(ROOT / "docs" / "rules.md", "##"), (
        f"docs/rules.md has no '## {rule_id}' section"
    )


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_ids_are_kebab_case_with_a_family(rule_id: str) -> None:
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+|parse-error", rule_id), rule_id
    assert rule_id == "parse-error" or rule_id.startswith(FAMILIES), rule_id


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_every_rule_is_complete(rule_id: str) -> None:
    rule = all_rules()[rule_id]
    assert rule.summary and rule.tip
    assert rule.docs_url.endswith(f"docs/rules.md#{rule_id}")
    assert rule.target in ("npmrc", "workflow", "policy", "online", "any")


@pytest.mark.parametrize(
    "rule_id", [r for r in RULE_IDS if all_rules()[r].target == "npmrc" or r == "parse-error"]
)
def test_every_npmrc_rule_has_ok_and_bad_fixtures(rule_id: str) -> None:
    folder = FIXTURES / rule_id
    assert list(folder.glob("ok-*.npmrc")), f"no ok fixture in {folder}"
    assert list(folder.glob("bad-*.npmrc")), f"no bad fixture in {folder}"


def test_rule_modules_are_named_after_their_ids() -> None:
    for rule_id, rule in all_rules().items():
        module = importlib.import_module("npm_guard.rules." + rule_id.replace("-", "_"))
        assert getattr(module, "RULE", None) is rule, rule_id


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_every_hook_has_a_console_script_of_the_same_name(hook_id: str) -> None:
    (hook,) = [h for h in _hooks() if h["id"] == hook_id]
    assert hook["entry"] == hook_id
    assert hook.get("language") == "python"
    module = hook_id.replace("-", "_")
    assert _console_scripts().get(hook_id) == f"npm_guard.hooks.{module}:main"
    assert callable(importlib.import_module(f"npm_guard.hooks.{module}").main)


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_every_hook_has_a_readme_section(hook_id: str) -> None:
    assert hook_id in _headings(ROOT / "README.md", "###"), f"README.md has no '### {hook_id}'"


@pytest.mark.parametrize("hook_id", HOOK_IDS)
def test_the_dogfood_config_runs_every_hook_as_the_manifest_defines_it(hook_id: str) -> None:
    """.pre-commit-config.yaml runs this checkout's hooks on itself, on the same files."""
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    local = [h for repo in config["repos"] if repo["repo"] == "local" for h in repo["hooks"]]
    (hook,) = [h for h in _hooks() if h["id"] == hook_id]
    (ours,) = [h for h in local if h["id"] == hook_id]
    assert ours["entry"] == f"python -m npm_guard.hooks.{hook_id.replace('-', '_')}"
    assert (ours["files"], ours["types"]) == (hook["files"], hook["types"])


def test_every_hook_module_is_listed() -> None:
    modules = {p.stem for p in (ROOT / "npm_guard" / "hooks").glob("*.py")} - {"__init__"}
    assert modules == {hook_id.replace("-", "_") for hook_id in HOOK_IDS}


def test_npmrc_hook_matches_npmrc_files_only() -> None:
    (hook,) = [h for h in _hooks() if h["id"] == "npmrc-credentials"]
    pattern = re.compile(str(hook["files"]))
    for path in (".npmrc", "a/b/.npmrc", "packages/x/.npmrc"):
        assert pattern.search(path), path
    for path in ("npmrc", "x.npmrc", ".npmrc.bak", "tests/fixtures/npmrc/r/bad-x.npmrc"):
        assert not pattern.search(path), path


# Policy keys that rules name in their tips and messages must be keys the policy file
# accepts: a tip that says `bypass_2fa: true` sends users to a key the loader rejects.

POLICY_SCHEMA = json.loads(
    (ROOT / "npm_guard" / "schemas" / "policy.schema.json").read_text(encoding="utf-8")
)


def _schema_property_names(node: object) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                names.update(value)
            names |= _schema_property_names(value)
    elif isinstance(node, list):
        for value in node:
            names |= _schema_property_names(value)
    return names


POLICY_KEYS = _schema_property_names(POLICY_SCHEMA)
TOP_LEVEL_POLICY_KEYS = set(POLICY_SCHEMA["properties"])


def _deref(node: dict[str, object]) -> dict[str, object]:
    while isinstance(node.get("$ref"), str):
        ref = str(node["$ref"])
        assert ref.startswith("#/$defs/"), ref
        node = POLICY_SCHEMA["$defs"][ref.removeprefix("#/$defs/")]
    return node


def policy_path_exists(segments: list[str]) -> bool:
    """`audit.unverified-2fa`, `tokens.<NAME>.bypass-2fa`: a path the schema accepts.

    A segment that is not a declared property walks into `additionalProperties` (a
    map such as `tokens:` keyed by secret name) or `items` (a list).
    """
    node = _deref(POLICY_SCHEMA)
    for segment in segments:
        while "items" in node and "properties" not in node:
            node = _deref(node["items"])  # type: ignore[arg-type]
        properties = node.get("properties")
        if isinstance(properties, dict) and segment in properties:
            node = _deref(properties[segment])
        elif isinstance(node.get("additionalProperties"), dict):
            node = _deref(node["additionalProperties"])  # type: ignore[arg-type]
        else:
            return False
    return True


_SNAKE_WORD_RE = re.compile(r"(?<![\w$.{/-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?!\w)")
_DOTTED_RE = re.compile(r"(?<![\w./-])([a-z][a-z0-9-]*)((?:\.[A-Za-z0-9_<>*-]+)+)")
_KEY_COLON_RE = re.compile(r"(?<![\w/$.{-])([a-z][a-z0-9_-]*):(?=[\s`)]|$)")
_BACKTICKS_RE = re.compile(r"`[^`]*`")


def policy_key_problems(text: str) -> list[str]:
    """Policy keys named in `text` that the policy file does not have."""
    problems = []
    for word in _SNAKE_WORD_RE.findall(text):
        kebab = word.replace("_", "-")
        if kebab in POLICY_KEYS:
            problems.append(f"{word}: the policy key is spelled {kebab}")
    for match in _DOTTED_RE.finditer(text):
        segments = [match.group(1), *match.group(2)[1:].split(".")]
        if segments[0] in TOP_LEVEL_POLICY_KEYS and not policy_path_exists(segments):
            problems.append(f"{'.'.join(segments)}: no such path in the policy schema")
    if "policy" in text or ".npm-guard.yml" in text:
        # `key:` in code spans, and key-shaped words (with - or _) anywhere; a plain
        # word before a colon is prose ("allows only: bob").
        quoted = [w for span in _BACKTICKS_RE.findall(text) for w in _KEY_COLON_RE.findall(span)]
        shaped = [w for w in _KEY_COLON_RE.findall(text) if "-" in w or "_" in w]
        for word in dict.fromkeys(quoted + shaped):
            if word not in POLICY_KEYS:
                problems.append(f"{word}: is not a policy key")
    return problems


def _rule_texts(rule_id: str) -> list[str]:
    """The rule's tip and summary, and every string its module builds messages from."""
    import ast

    rule = all_rules()[rule_id]
    module = importlib.import_module("npm_guard.rules." + rule_id.replace("-", "_"))
    tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]
    return list(dict.fromkeys([rule.tip, rule.summary, *strings]))


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_policy_keys_named_by_a_rule_exist_in_the_policy_schema(rule_id: str) -> None:
    problems = [p for text in _rule_texts(rule_id) for p in policy_key_problems(text)]
    assert problems == [], f"{rule_id}: {problems}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("declare bypass_2fa: true for it in the policy.", "bypass_2fa"),
        ("set max_expiry_days for the token in the policy", "max_expiry_days"),
        ("audit.unverified_2fa in the policy sets the severity.", "audit.unverified_2fa"),
        ("set audit.unverified in the policy", "audit.unverified"),
        ("declare it under `token:` in the policy", "token"),
        ("set max-expiry: 30 in .npm-guard.yml", "max-expiry"),
    ],
)
def test_the_policy_key_check_catches_misspelt_keys(text: str, problem: str) -> None:
    problems = policy_key_problems(text)
    assert problems and problems[0].startswith(problem + ":"), problems


def test_the_policy_key_check_accepts_real_keys() -> None:
    text = (
        "set `audit.unverified-2fa` or `tokens.NPM_TOKEN.bypass-2fa: true`, declare "
        "`max-expiry-days` under tokens: in .npm-guard.yml, or `packages.@acme/*.publishers."
        "trusted` (`trusted:` or `accounts:`); it allows only: bob"
    )
    assert policy_key_problems(text) == []
