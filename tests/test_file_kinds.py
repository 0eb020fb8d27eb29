"""The file-kinds registry: what a path is, by its name and place, declared once."""

from __future__ import annotations

import itertools
import re

import pytest

from npm_guard.file_kinds import (
    ACTION,
    KINDS,
    NPMRC,
    POLICY,
    WORKFLOW,
    classify,
    classify_named,
    kind_named,
)
from npm_guard.rules import rule_by_id, rules_for


@pytest.mark.parametrize(
    ("path", "walked", "named"),
    [
        (".npmrc", NPMRC, NPMRC),
        ("packages/app/.npmrc", NPMRC, NPMRC),
        ("npmrc", None, None),
        ("ci.npmrc", None, NPMRC),  # named on the command line: by its name alone
        (".npm-guard.yml", POLICY, POLICY),
        ("sub/.npm-guard.yaml", POLICY, POLICY),
        (".github/workflows/release.yml", WORKFLOW, WORKFLOW),
        (".github/workflows/release.yaml", WORKFLOW, WORKFLOW),
        ("packages/app/.github/workflows/ci.yml", WORKFLOW, WORKFLOW),
        (".github\\workflows\\release.yml", WORKFLOW, WORKFLOW),
        (".github/workflows/nested/release.yml", None, WORKFLOW),
        (".github/workflows/.yml", None, WORKFLOW),
        (".github/workflows/README.md", None, None),
        ("action.yml", ACTION, ACTION),
        ("actions/publish/action.yaml", ACTION, ACTION),
        (".github/workflows/action.yml", WORKFLOW, WORKFLOW),  # the first kind wins
        ("my-action.yml", None, WORKFLOW),
        ("docs/examples/release.yml", None, WORKFLOW),
    ],
)
def test_a_path_is_judged_by_name_and_place(path: str, walked: str, named: str) -> None:
    assert classify(path) == walked
    assert classify_named(path) == named


# What the walker recognised with regular expressions before the registry; the registry
# answers with string operations (no compile at a hook's start-up) and must agree.
_WORKFLOW_RE = re.compile(r"(?:^|/)\.github/workflows/[^/]+\.ya?ml$")
_ACTION_RE = re.compile(r"(?:^|/)action\.ya?ml$")


def test_workflows_and_actions_are_what_the_patterns_said() -> None:
    parts = ["", ".github", "workflows", "x.yml", "x.yaml", ".yml", "action.yml", "a", "\\"]
    for size in range(1, 5):
        for combo in itertools.product(parts, repeat=size):
            path = "/".join(combo)
            slashed = path.replace("\\", "/")
            expected = (
                WORKFLOW
                if _WORKFLOW_RE.search(slashed)
                else ACTION
                if _ACTION_RE.search(slashed)
                else None
            )
            assert (classify(path) == WORKFLOW) == (expected == WORKFLOW), path
            assert (classify(path) == ACTION) == (expected == ACTION), path


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_every_kind_is_complete(kind: object) -> None:
    from npm_guard.file_kinds import FileKind

    assert isinstance(kind, FileKind)
    assert kind_named(kind.name) is kind
    assert rules_for(kind.rules), f"no rule reads {kind.name} files"
    plaintext = rule_by_id(kind.plaintext_rule)
    assert plaintext.target == kind.rules


def test_each_kinds_ignore_comment_is_the_documented_one() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")
    section = readme[readme.index("### Inline suppression") :]
    forms = {kind.ignore_comment for kind in KINDS if kind.ignore_comment}
    assert len(forms) == 2
    for form in forms:
        syntax = form.split("[", 1)[0] + "["  # `# npm-guard: ignore-next-line[`
        assert syntax in section, form


def test_every_rule_target_but_the_online_ones_has_a_kind_of_file() -> None:
    from npm_guard.rules import REGISTRY

    targets = {table.split("+")[0] for _, table in REGISTRY} - {"online", "any"}
    assert targets == {kind.rules for kind in KINDS}
