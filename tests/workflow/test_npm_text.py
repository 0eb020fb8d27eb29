"""The shortcut for workflows that mention nothing npm-related loses no finding.

`scan_workflow` skips the model and its analysis of a workflow whose text gives the
engine nothing to analyse (`npm_guard.workflow.npm_text`) and that holds no literal
token. Every workflow file of the test suite and the docs is scanned both ways here, and
the findings and the suppressed findings must be the same; hand-written cases cover
what the fixtures do not: the shortcut taken, tokens, ignore comments, parse errors,
and npm spelled with YAML escapes or shell quoting.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from npmrc_samples import make_token

from npm_guard.findings import Finding, Suppressed
from npm_guard.repo_files import RepositoryFiles
from npm_guard.workflow import scan_workflow
from npm_guard.workflow.npm_text import mentions_npm, scalar_text
from npm_guard.workflow.yaml_loader import YamlLoadError, load_yaml

ROOT = Path(__file__).resolve().parents[2]
# GitHub tokens, not npm ones: `npm_…` itself mentions npm, and these files must not.
FAKE_GITHUB_TOKEN = make_token("ghp_", 104)
FAKE_GITHUB_TOKEN_2 = make_token("ghp_", 105)


def workflow_files() -> list[Path]:
    found = [
        *ROOT.joinpath("tests").rglob("*.y*ml"),
        *ROOT.joinpath("docs").rglob("*.y*ml"),
        *ROOT.joinpath("templates").rglob("*.y*ml"),
        *ROOT.joinpath(".github").rglob("*.y*ml"),
    ]
    return sorted(p for p in found if p.is_file() and "node" not in p.relative_to(ROOT).parts)


def repository_of(path: Path) -> Path:
    """The root a fixture's scan sees: its `<name>.repo/` when it has one (as in
    tests/workflow/test_fixtures.py), else its folder."""
    repo = path.with_name(path.name.split(".")[0] + ".repo")
    return repo if repo.is_dir() else path.parent


def both_ways(
    display: str, text: str, root: Path
) -> tuple[tuple[list[Finding], list[Suppressed]], tuple[list[Finding], list[Suppressed]]]:
    results = []
    for shortcut in (True, False):
        silenced: list[Suppressed] = []
        findings = scan_workflow(
            display,
            text,
            files=RepositoryFiles(str(root)),
            silenced=silenced,
            shortcut=shortcut,
        )
        results.append((findings, silenced))
    return results[0], results[1]


def test_every_workflow_file_scans_the_same_both_ways() -> None:
    paths = workflow_files()
    assert len(paths) > 60  # the rule fixtures, docs examples, templates, its own CI
    shortcut_taken = 0
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        display = path.relative_to(ROOT).as_posix()
        fast, full = both_ways(display, text, repository_of(path))
        assert fast == full, display
        try:
            root = load_yaml(text).root
        except (YamlLoadError, RecursionError):
            continue
        if not mentions_npm(scalar_text(root)):
            shortcut_taken += 1
    # Not a vacuous comparison: some of these files do take the shortcut.
    assert shortcut_taken >= 5


def test_a_rule_beyond_the_token_search_fires_only_on_text_that_mentions_npm() -> None:
    """The claim itself, on every fixture: each finding of a rule other than the token
    search and parse errors comes from a workflow `mentions_npm()` says True for."""
    checked = 0
    for path in workflow_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        findings = scan_workflow(
            path.name, text, files=RepositoryFiles(str(repository_of(path))), shortcut=False
        )
        modelled = [
            f for f in findings if f.rule.id not in ("workflow-plaintext-credential", "parse-error")
        ]
        if modelled:
            checked += 1
            assert mentions_npm(scalar_text(load_yaml(text).root)), path
    assert checked > 30


CASES = {
    "go-ci": """\
name: go
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
      - run: go vet
""",
    "literal-token": f"""\
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - name: Upload
        run: |
          curl -H "X-Key: {FAKE_GITHUB_TOKEN}" example.invalid
      - run: echo {FAKE_GITHUB_TOKEN_2}
""",
    "silenced-token": f"""\
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    env:
      KEY: {FAKE_GITHUB_TOKEN}  # npm-guard: ignore[workflow-plaintext-credential] test value
    steps:
      - run: make test
""",
    "invalid": "on: [push\njobs: {\n",
    "yaml-escapes": """\
on: [push]
env:
  "\\x4e\\x50\\x4d_TOKEN": ${{ secrets.X }}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: "\\x6e\\x70\\x6d publish"
""",
    "shell-quoting": """\
on: [push]
env:
  N_P_M_TOKEN: ${{ secrets.X }}
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: n"p"m publish
""",
    "bun-on-ubuntu": """\
on: [push]
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: bun publish
""",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hand_written_cases_scan_the_same_both_ways(name: str, tmp_path: Path) -> None:
    fast, full = both_ways(f"{name}.yml", CASES[name], tmp_path)
    assert fast == full


def test_the_shortcut_is_taken_only_where_nothing_npm_is_written() -> None:
    def mentions(name: str) -> bool:
        return mentions_npm(scalar_text(load_yaml(CASES[name]).root))

    assert not mentions("go-ci")
    assert not mentions("literal-token")  # then the token search alone decides
    assert mentions("yaml-escapes")  # decoded by YAML: `npm publish`
    assert mentions("shell-quoting")  # `n"p"m` is npm to a shell
    assert mentions("bun-on-ubuntu")  # `bun` the program, not `ubuntu`


def test_what_the_shortcut_returns() -> None:
    """The shortcut's own answers, which the comparison above holds against the full
    analysis: nothing for a clean file, the token search's findings, the ignore comment
    honoured, the parse error kept."""
    assert scan_workflow("go-ci.yml", CASES["go-ci"]) == []
    tokens = scan_workflow("literal-token.yml", CASES["literal-token"])
    assert [(f.rule.id, f.location.line) for f in tokens] == [
        ("workflow-plaintext-credential", 8),
        ("workflow-plaintext-credential", 9),
    ]
    assert "in job 'test', step 'Upload'" in tokens[0].message
    silenced: list[Suppressed] = []
    assert scan_workflow("s.yml", CASES["silenced-token"], silenced=silenced) == []
    assert [s.finding.rule.id for s in silenced] == ["workflow-plaintext-credential"]
    broken = scan_workflow("invalid.yml", CASES["invalid"])
    assert [f.rule.id for f in broken] == ["parse-error"]


def test_a_hook_on_workflows_without_npm_never_imports_the_engine(tmp_path: Path) -> None:
    """The shortcut spares a commit of non-npm workflows the engine's start-up too."""
    import subprocess
    import sys

    (tmp_path / "ci.yml").write_text(CASES["go-ci"], encoding="utf-8")
    code = (
        "import sys\n"
        "from npm_guard.hooks.workflow_npm_credentials import main\n"
        "assert main(['ci.yml']) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('npm_guard.workflow.')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.returncode == 0, proc.stderr
    imported = set(eval(proc.stdout.strip().splitlines()[-1]))
    assert "npm_guard.workflow.yaml_loader" in imported  # it was read
    assert not imported & {"npm_guard.workflow.build", "npm_guard.workflow.steps"}
