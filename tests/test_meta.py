"""Things that must stay in sync: rules and their docs and fixtures, hooks and their
console scripts and README sections, rule id spelling."""

from __future__ import annotations

import configparser
import importlib
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
