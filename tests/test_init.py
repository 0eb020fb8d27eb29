"""`npm-guard init`: a fresh repository and one already set up, checked by the real tools
(pre-commit validate-config, the npm-guard-policy hook, actionlint, zizmor), idempotent,
byte-preserving, refusing links out of the repository, never printing a credential."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from linters import tool, zizmor
from npmrc_samples import NPM_TOKEN, Runner, git, redacted, write

from npm_guard import build_info as build_info_module
from npm_guard.build_info import BUILT, CHECKOUT, UNKNOWN, BuildInfo
from npm_guard.hooks import npm_guard_policy
from npm_guard.init.pin import is_release, pin_for
from npm_guard.init.precommit import REPO_URL
from npm_guard.init.templates import WORKFLOW_TEMPLATE, hook_ids, template_text
from npm_guard.init.workflow_file import pinned_workflow
from npm_guard.policy_load import parse_policy

ROOT = Path(__file__).resolve().parent.parent
SHA = "0123456789abcdef0123456789abcdef01234567"
DEV = BuildInfo("0.1.0.dev0", SHA, BUILT)
RELEASE = BuildInfo("0.1.0", SHA, BUILT)
CONFIG = ".pre-commit-config.yaml"
WORKFLOW = ".github/workflows/npm-guard.yml"
POLICY = ".npm-guard.yml"

CI = """\
on: pull_request
permissions: {}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm ci
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_READ_TOKEN }}
"""
RELEASE_WORKFLOW = """\
on:
  push:
    tags: ["v*"]
permissions: {}
jobs:
  publish:
    runs-on: ubuntu-latest
    env:
      NODE_AUTH_TOKEN: ${{ secrets.NPM_PUBLISH_TOKEN }}
    steps:
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm ci
      - run: npm publish
  stage:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm stage publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_STAGE_TOKEN }}
  bare:
    runs-on: ubuntu-latest
    steps:
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_BARE_TOKEN }}
  tags:
    runs-on: ubuntu-latest
    steps:
      - run: npm dist-tag add pkg@1.0.0 next
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TAG_TOKEN }}
"""


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> BuildInfo:
    """`init` runs as a development build of a known commit (not this checkout's)."""
    monkeypatch.setattr(build_info_module, "build_info", lambda: DEV)
    return DEV


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned: BuildInfo) -> Path:
    """A git repository with a workspace monorepo and two workflows, as the current
    directory."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    write(
        root / "package.json",
        '{"name": "monorepo", "private": true, "workspaces": ["packages/*"]}\n',
    )
    write(root / "packages/a/package.json", '{"name": "@acme/a", "version": "1.0.0"}\n')
    write(root / "packages/b/package.json", '{"name": "@acme/b", "private": true}\n')
    write(root / "packages/c/package.json", '{"name": "c-tool", "version": "2.0.0"}\n')
    write(root / ".github/workflows/ci.yml", CI)
    write(root / ".github/workflows/release.yml", RELEASE_WORKFLOW)
    monkeypatch.chdir(root)
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def _inserted(old: bytes, new: bytes) -> bytes:
    """What was inserted into `old` to make `new`, asserting nothing else changed."""
    start = 0
    while start < len(old) and old[start] == new[start]:
        start += 1
    tail = len(old) - start
    assert new[len(new) - tail :] == old[start:], "bytes after the insertion changed"
    return new[start : len(new) - tail]


# A fresh repository -------------------------------------------------------------------


def test_without_write_prints_a_diff_writes_nothing_and_exits_1(run: Runner, repo: Path) -> None:
    before = _tree(repo)
    code, out, err = run("init")
    assert code == 1, err
    assert _tree(repo) == before
    for path in (CONFIG, WORKFLOW, POLICY):
        assert f"--- /dev/null\n+++ b/{path}\n" in out
    assert "not a release" in err and SHA in err  # the pin to a commit is said
    assert "init --write" in err


def test_write_sets_up_a_fresh_repository(run: Runner, repo: Path) -> None:
    code, out, err = run("init", "--write")
    assert (code, out) == (0, ""), err
    for path in (CONFIG, WORKFLOW, POLICY):
        assert f"created {path}" in err

    config = yaml.safe_load((repo / CONFIG).read_text())
    (entry,) = config["repos"]
    assert entry["repo"] == REPO_URL and entry["rev"] == SHA
    assert [hook["id"] for hook in entry["hooks"]] == hook_ids()
    shipped = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook_ids() == [hook["id"] for hook in shipped]
    assert "not released yet" in (repo / CONFIG).read_text()

    workflow = (repo / WORKFLOW).read_text()
    (uses,) = re.findall(r"uses: npm-guard/npm-guard@(\S+) # (.*)", workflow)
    assert uses == (SHA, "0.1.0.dev0 (not released)")
    assert "0" * 40 not in workflow and "placeholder" not in workflow

    text = (repo / POLICY).read_text()
    policy = parse_policy(text, POLICY)
    assert [entry.pattern for entry in policy.packages] == ["@acme/a", "c-tool"]
    assert policy.tokens is not None
    assert {name: spec.permission for name, spec in policy.tokens.items()} == {
        "NPM_READ_TOKEN": "read-only",
        "NPM_PUBLISH_TOKEN": "read-write",
        "NPM_STAGE_TOKEN": "stage-only",
        "NPM_TAG_TOKEN": "read-write",
        # No .npmrc refers to NODE_AUTH_TOKEN there, but it is handed to the publish.
        "NPM_BARE_TOKEN": "read-write",
    }
    # Each entry is marked for review and says why; the publish token points at OIDC.
    assert text.count("# review:") == 2 + 5
    publish = text[text.index("NPM_PUBLISH_TOKEN:") - 600 : text.index("NPM_PUBLISH_TOKEN:")]
    assert "job 'publish' in .github/workflows/release.yml publishes" in publish
    assert "trusted publishing" in publish and "`npm-guard trust`" in publish
    assert "docs.npmjs.com/trusted-publishers" in publish
    read = text[text.index("NPM_READ_TOKEN:") - 200 : text.index("NPM_READ_TOKEN:")]
    assert "job 'test' in .github/workflows/ci.yml only installs or reads" in read


def test_what_it_writes_passes_pre_commit_and_the_policy_hook(run: Runner, repo: Path) -> None:
    assert run("init", "--write")[0] == 0
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", CONFIG],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert npm_guard_policy.main([POLICY]) == 0
    assert npm_guard_policy.main([]) == 0


def test_the_policy_holds_the_workflows_to_what_it_declares(run: Runner, repo: Path) -> None:
    """With the starter policy, the scan's inventory rules find nothing undeclared or
    exceeded: the permissions init chose are the ones the workflows need."""
    assert run("init", "--write")[0] == 0
    _, out, _ = run("scan", "--format", "json")
    assert "workflow-undeclared-npm-token" not in out
    assert "workflow-token-exceeds-declared-permission" not in out
    # The inventory rules do run: an undeclared secret is found.
    write(repo / ".github/workflows/more.yml", CI.replace("NPM_READ_TOKEN", "OTHER_NPM_TOKEN"))
    _code, out, _ = run("scan", "--format", "json")
    assert "workflow-undeclared-npm-token" in out


@pytest.mark.slow
def test_the_workflow_passes_actionlint_and_zizmor(run: Runner, repo: Path) -> None:
    assert run("init", "--write")[0] == 0
    proc = subprocess.run(
        [tool("actionlint"), "-no-color", WORKFLOW],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    audit = zizmor(repo / WORKFLOW)
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_a_second_write_changes_nothing(run: Runner, repo: Path) -> None:
    assert run("init", "--write")[0] == 0
    after_first = _tree(repo)
    code, out, err = run("init", "--write")
    assert (code, out) == (0, ""), err
    assert _tree(repo) == after_first
    assert "already set up" in err
    code, out, err = run("init")
    assert (code, out) == (0, ""), err


def test_a_release_pins_its_tag_and_commit(
    run: Runner, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_info_module, "build_info", lambda: RELEASE)
    code, _, err = run("init", "--write")
    assert code == 0, err
    assert "not a release" not in err
    config = (repo / CONFIG).read_text()
    assert "rev: v0.1.0\n" in config and "not released" not in config
    assert f"uses: npm-guard/npm-guard@{SHA} # v0.1.0\n" in (repo / WORKFLOW).read_text()


def test_a_build_without_a_commit_cannot_pin_but_still_writes_the_policy(
    run: Runner, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        build_info_module, "build_info", lambda: BuildInfo("0.1.0.dev0", None, UNKNOWN)
    )
    code, _, err = run("init", "--write")
    assert code == 2
    assert "cannot pin the pre-commit hooks" in err and "cannot pin the Action" in err
    assert not (repo / CONFIG).exists() and not (repo / WORKFLOW).exists()
    assert (repo / POLICY).is_file()


@pytest.mark.parametrize(
    ("build", "tag", "rev", "said"),
    [
        (RELEASE, "v0.1.0", "v0.1.0", ()),
        (DEV, None, SHA, ("not a release",)),
        (
            BuildInfo("0.1.0.dev0", SHA, CHECKOUT, modified=True),
            None,
            SHA,
            ("pushed", "uncommitted"),
        ),
        (BuildInfo("0.2.0rc1", SHA, BUILT), "v0.2.0rc1", "v0.2.0rc1", ()),
        (BuildInfo("0.1.0", None, UNKNOWN), "v0.1.0", "v0.1.0", ("cannot be pinned by SHA",)),
    ],
)
def test_pin(build: BuildInfo, tag: str | None, rev: str, said: tuple[str, ...]) -> None:
    pin = pin_for(build)
    assert (pin.tag, pin.rev) == (tag, rev)
    notes = " ".join(pin.notes)
    for words in said:
        assert words in notes
    if not said:
        assert pin.notes == ()


def test_is_release() -> None:
    assert is_release("1.2.3") and is_release("1.2.3rc1")
    assert not is_release("1.2.3.dev0") and not is_release("1.2.3+local")


def test_the_template_is_pinned_whole() -> None:
    """The shipped template has what init replaces: one placeholder pin, its comment,
    and the header paragraph about it; the result keeps every other line."""
    template = template_text(WORKFLOW_TEMPLATE)
    assert template == (ROOT / "templates" / "workflows" / "npm-guard.yml").read_text()
    written = pinned_workflow(template, pin_for(RELEASE))
    assert f"npm-guard/npm-guard@{SHA} # v0.1.0" in written
    assert "placeholder" not in written and "0" * 40 not in written
    body = template[template.index("\nname: ") :]
    kept = [line for line in body.splitlines() if "npm-guard/npm-guard@" not in line]
    written_lines = written.splitlines()
    missing = [
        line for line in kept if line not in written_lines and not line.strip().startswith("#")
    ]
    assert missing == []
    assert (
        yaml.safe_load(written)["jobs"] == yaml.safe_load(template.replace("0" * 40, SHA))["jobs"]
    )


# An already configured repository -----------------------------------------------------

EXISTING_CONFIGS = {
    "two-space": (
        "# keep: my hooks\n"
        "repos:\n"
        "  - repo: https://github.com/pre-commit/pre-commit-hooks\n"
        "    rev: v4.6.0  # pinned on purpose\n"
        "    hooks:\n"
        "      - id: trailing-whitespace\n"
        "      # - id: end-of-file-fixer   (commented out)\n"
        "\n"
        "# a comment about what follows\n"
        "default_stages: [pre-commit]\n"
    ),
    "four-space": (
        "repos:\n"
        "-   repo: https://github.com/psf/black\n"
        "    rev: 24.1.0\n"
        "    hooks:\n"
        "    -   id: black\n"
        "        args: ['--line-length', '100']   # wide\n"
    ),
    "crlf-no-final-newline": (
        "repos:\r\n"
        "  - repo: https://github.com/pre-commit/pre-commit-hooks\r\n"
        "    rev: v4.6.0\r\n"
        "    hooks:\r\n"
        "      - id: check-yaml"
    ),
    "block-scalar-last": (
        "repos:\n"
        "  - repo: local\n"
        "    hooks:\n"
        "      - id: say\n"
        "        name: say\n"
        "        language: system\n"
        "        entry: |\n"
        "          echo hello\n"
        "\n"
        "fail_fast: true\n"
    ),
    "empty-flow": "# nothing yet\nrepos: []  # to fill\n",
    "comments-only": "# to be written\n",
    "no-repos": "default_language_version:\n  python: python3\n",
    "bom": (
        "\ufeffrepos:\n- repo: https://github.com/psf/black\n  rev: 24.1.0\n"
        "  hooks:\n  - id: black\n"
    ),
}


@pytest.mark.parametrize("name", list(EXISTING_CONFIGS))
def test_an_existing_config_keeps_every_byte(run: Runner, repo: Path, name: str) -> None:
    old = EXISTING_CONFIGS[name].encode("utf-8")
    (repo / CONFIG).write_bytes(old)
    code, _out, err = run("init", "--write")
    assert code == 0, err
    new = (repo / CONFIG).read_bytes()
    if name == "empty-flow":  # the `[]` goes, the entry comes after the line
        assert new.startswith(b"# nothing yet\nrepos:   # to fill\n  - repo: " + REPO_URL.encode())
    else:
        inserted = _inserted(old, new)
        assert REPO_URL.encode() in inserted
        assert (b"\r\n" in inserted) == (b"\r\n" in old)
        assert old.decode().count("#") == new.decode().count("#") - inserted.decode().count("#")
    config = yaml.safe_load(new.decode("utf-8-sig"))
    ours = [r for r in config["repos"] if r["repo"] == REPO_URL]
    assert len(ours) == 1 and [h["id"] for h in ours[0]["hooks"]] == hook_ids()
    assert (
        len(config["repos"])
        == len((yaml.safe_load(old.decode("utf-8-sig")) or {}).get("repos") or []) + 1
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", CONFIG],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Idempotent: the second run leaves the file alone.
    assert run("init", "--write")[0] == 0
    assert (repo / CONFIG).read_bytes() == new


def test_the_entry_follows_the_files_indentation(run: Runner, repo: Path) -> None:
    (repo / CONFIG).write_text(EXISTING_CONFIGS["four-space"])
    assert run("init", "--write")[0] == 0
    text = (repo / CONFIG).read_text()
    assert f"-   repo: {REPO_URL}\n" in text
    assert "    -   id: npmrc-credentials\n" in text


def test_the_entry_goes_after_the_lists_comments(run: Runner, repo: Path) -> None:
    (repo / CONFIG).write_text(EXISTING_CONFIGS["two-space"])
    assert run("init", "--write")[0] == 0
    text = (repo / CONFIG).read_text()
    assert text.index("(commented out)") < text.index(REPO_URL) < text.index("about what follows")


@pytest.mark.parametrize(
    "config",
    [
        f"repos:\n  - repo: {REPO_URL}.git\n    rev: v0.0.9\n"
        "    hooks:\n      - id: npmrc-credentials\n",
        "repos:\n  - repo: local\n    hooks:\n      - id: workflow-npm-credentials\n"
        "        name: w\n        entry: workflow-npm-credentials\n        language: system\n",
    ],
    ids=["the-repository", "a-local-hook-of-the-same-id"],
)
def test_a_config_that_runs_npm_guard_is_left_alone(run: Runner, repo: Path, config: str) -> None:
    (repo / CONFIG).write_text(config)
    code, out, err = run("init")
    assert f"b/{CONFIG}" not in out
    assert "already runs npm-guard's hooks" in err
    assert code == 1  # the workflow and the policy are still missing


def test_an_invalid_config_is_an_error_and_the_rest_still_happens(run: Runner, repo: Path) -> None:
    (repo / CONFIG).write_text("repos:\n  - repo: [unclosed\n")
    code, _out, err = run("init", "--write")
    assert code == 2
    assert f"{CONFIG} is not valid YAML" in err
    assert (repo / CONFIG).read_text() == "repos:\n  - repo: [unclosed\n"
    assert (repo / WORKFLOW).is_file() and (repo / POLICY).is_file()


def test_a_workflow_that_runs_the_action_means_no_new_workflow(run: Runner, repo: Path) -> None:
    write(
        repo / ".github/workflows/security.yml",
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - uses: npm-guard/npm-guard@{SHA} # v0.1.0\n",
    )
    _code, out, err = run("init")
    assert f"b/{WORKFLOW}" not in out
    assert ".github/workflows/security.yml already runs the npm-guard Action" in err


def test_an_unrelated_workflow_of_the_same_name_is_not_overwritten(run: Runner, repo: Path) -> None:
    write(repo / WORKFLOW, "on: push\njobs: {}\n")
    code, _, err = run("init", "--write")
    assert code == 2
    assert f"{WORKFLOW} exists and does not run the npm-guard Action; not overwritten" in err
    assert (repo / WORKFLOW).read_text() == "on: push\njobs: {}\n"


def test_an_existing_policy_is_kept_and_what_it_lacks_is_listed(run: Runner, repo: Path) -> None:
    policy = (
        "version: 1\npackages:\n  '@acme/*': {}\n"
        "tokens:\n  NPM_READ_TOKEN: {permission: read-only}\n"
    )
    write(repo / POLICY, policy)
    code, _out, err = run("init", "--write")
    assert code == 1, err
    assert (repo / POLICY).read_text() == policy
    lacks = err[err.index("lacks:") :]
    assert "packages: c-tool (from packages/c/package.json)" in lacks
    assert "@acme/a" not in lacks  # the glob covers it
    assert "tokens: NPM_PUBLISH_TOKEN, permission read-write" in lacks
    assert "NPM_READ_TOKEN" not in lacks
    # Once it lacks nothing, init has nothing to say.
    write(
        repo / POLICY,
        policy
        + "  NPM_PUBLISH_TOKEN: {permission: read-write}\n"
        + "  npm_stage_token: {permission: stage-only}\n"
        + "  NPM_TAG_TOKEN: {permission: read-write}\n"
        + "  NPM_BARE_TOKEN: {permission: read-write}\n",
    )
    write(
        repo / POLICY,
        (repo / POLICY).read_text().replace("'@acme/*': {}", "'@acme/*': {}\n  c-tool: {}"),
    )
    assert run("init", "--write")[0] == 0


def test_an_invalid_policy_is_an_error_and_the_rest_still_happens(run: Runner, repo: Path) -> None:
    write(repo / POLICY, "version: 1\nno-such-key: 1\n")
    code, out, err = run("init")
    assert code == 2
    assert "no-such-key" in err
    assert f"+++ b/{CONFIG}" in out and f"+++ b/{WORKFLOW}" in out


def test_a_policy_under_the_unread_name_is_not_doubled(run: Runner, repo: Path) -> None:
    write(repo / ".npm-guard.yaml", "version: 1\n")
    code, _out, err = run("init", "--write")
    assert code == 2 and ".npm-guard.yaml is never read" in err
    assert not (repo / POLICY).exists()


# Links, credentials, paths ------------------------------------------------------------


def test_a_config_linked_out_of_the_repository_is_refused(
    run: Runner, repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("repos: []\n")
    os.symlink(outside, repo / CONFIG)
    code, _, err = run("init", "--write")
    assert code == 2
    assert "symbolic link" in err and "outside the repository" in err
    assert outside.read_text() == "repos: []\n"
    assert (repo / WORKFLOW).is_file() and (repo / POLICY).is_file()


def test_a_directory_linked_out_of_the_repository_is_refused(
    run: Runner, repo: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (repo / ".github" / "workflows").rename(tmp_path / "moved")
    os.symlink(outside, repo / ".github" / "workflows")
    code, out, err = run("init")  # refused before anything is shown as written
    assert code == 2 and "symbolic link" in err
    assert f"b/{WORKFLOW}" not in out
    assert run("init", "--write")[0] == 2
    assert list(outside.iterdir()) == []


def test_a_config_linked_inside_the_repository_is_edited_where_it_leads(
    run: Runner, repo: Path
) -> None:
    write(repo / "config/pre-commit.yaml", EXISTING_CONFIGS["two-space"])
    os.symlink(Path("config/pre-commit.yaml"), repo / CONFIG)
    assert run("init", "--write")[0] == 0
    assert (repo / CONFIG).is_symlink()
    assert REPO_URL in (repo / "config/pre-commit.yaml").read_text()


def test_no_credential_is_printed(run: Runner, repo: Path) -> None:
    (repo / CONFIG).write_text(f"repos:\n  - repo: local\n    hooks: []  # old token {NPM_TOKEN}\n")
    write(
        repo / ".github/workflows/leak.yml", CI.replace("${{ secrets.NPM_READ_TOKEN }}", NPM_TOKEN)
    )
    code, out, err = run("init")
    assert code == 1
    assert NPM_TOKEN not in out + err
    assert redacted(NPM_TOKEN) in out  # the diff's context line, redacted
    assert run("init", "--write")[0] == 0
    assert NPM_TOKEN not in (repo / POLICY).read_text()


def test_a_subdirectory_sets_up_its_repository(run: Runner, repo: Path) -> None:
    code, _, err = run("init", "--write", "packages/a")
    assert code == 0, err
    assert (repo / POLICY).is_file() and not (repo / "packages/a" / POLICY).exists()


def test_a_path_that_is_not_a_directory_is_a_usage_error(run: Runner, repo: Path) -> None:
    code, _, err = run("init", "package.json")
    assert code == 2 and "not a directory" in err


def test_a_repository_with_nothing_gets_an_empty_inventory(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned: BuildInfo
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("init", "--write")[0] == 0
    policy = parse_policy((tmp_path / POLICY).read_text(), POLICY)
    assert policy.packages == () and policy.tokens == {}


def test_a_secret_named_like_a_token_is_left_out(run: Runner, repo: Path) -> None:
    write(
        repo / ".github/workflows/odd.yml",
        CI.replace("secrets.NPM_READ_TOKEN", f"secrets.{NPM_TOKEN}"),
    )
    code, out, err = run("init", "--write")
    assert code == 0, err
    assert NPM_TOKEN not in out + err + (repo / POLICY).read_text()
    assert "looks like a token" in err
