"""`npm-guard trust`: the plan for each kind of publish, the edits, and what they leave.

Each fixture in tests/fixtures/trust/ is a small repository. For each: the plan names the
right packages and workflow file; `--write` leaves files that parse, that `npm-guard
scan` finds no token publish in, and that actionlint and zizmor judge no worse than
before; a second run changes nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import jsonschema
import pytest
from linters import tool, zizmor

from npm_guard.cli import main as cli_main
from npm_guard.engine import ScanRequest, scan
from npm_guard.trust.render import plan_dict, render_markdown, render_text
from npm_guard.trust.repository import from_remote_url, owner_repository
from npm_guard.trust.run import make_plan
from npm_guard.workflow.yaml_loader import load_yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "trust"
SCHEMA = json.loads((ROOT / "npm_guard" / "schemas" / "trust-plan.schema.json").read_text())
ENV = {"GITHUB_REPOSITORY": "acme/widget"}
TOKEN_RULES = {"workflow-publish-with-long-lived-token", "workflow-publish-token-fallback"}

# fixture → (file with the publish, job, trusted workflow file, packages, environment)
EXPECTED = {
    "npm-publish": (
        ".github/workflows/release.yml",
        "publish",
        "release.yml",
        ["@acme/widget"],
        None,
    ),
    "pnpm-publish": (
        ".github/workflows/publish.yaml",
        "npm",
        "publish.yaml",
        ["tiny-pnpm-lib"],
        None,
    ),
    "yarn-npm-publish": (
        ".github/workflows/release.yml",
        "release",
        "release.yml",
        ["berry-thing"],
        None,
    ),
    "changesets-v1": (
        ".github/workflows/release.yml",
        "release",
        "release.yml",
        ["@acme/cli", "@acme/core"],
        None,
    ),
    "changesets-v2": (
        ".github/workflows/release.yml",
        "release",
        "release.yml",
        ["tools-a", "tools-b"],
        "npm",
    ),
    "semantic-release": (
        ".github/workflows/release.yml",
        "release",
        "release.yml",
        ["sr-lib"],
        None,
    ),
    "release-please": (
        ".github/workflows/release-please.yml",
        "release-please",
        "release-please.yml",
        ["rp-widget"],
        "npm-publish",
    ),
    "lerna": (
        ".github/workflows/publish.yml",
        "publish",
        "publish.yml",
        ["@ler/x", "@ler/y"],
        None,
    ),
    "matrix": (
        ".github/workflows/publish.yml",
        "publish",
        "publish.yml",
        ["mx-core", "mx-cli"],
        None,
    ),
    "reusable": (
        ".github/workflows/npm-publish.yml",
        "publish",
        "release.yml",
        ["reused-pkg"],
        None,
    ),
    "composite": (
        ".github/actions/publish/action.yml",
        "action",
        "release.yml",
        ["composite-pkg"],
        None,
    ),
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(EXPECTED)


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def _yaml_files(repo: Path) -> list[Path]:
    return sorted(p for p in (repo / ".github").rglob("*") if p.suffix in (".yml", ".yaml"))


def _token_findings(repo: Path) -> list[str]:
    outcome = scan(ScanRequest(paths=[str(repo)], root=str(repo)))
    return [
        f"{f.rule.id} {f.location.path}:{f.location.line}"
        for f in outcome.findings
        if f.rule.id in TOKEN_RULES
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_plan_names_the_packages_and_the_workflow(name: str, tmp_path: Path) -> None:
    repo = _copy(name, tmp_path)
    workflow, job, trusted, packages, environment = EXPECTED[name]
    assert _token_findings(repo), "the fixture must publish with a token to begin with"
    plan = make_plan([str(repo)], environ=ENV)
    assert [(m.workflow, m.job) for m in plan.migrations] == [(workflow, job)]
    migration = plan.migrations[0]
    assert migration.trusted_workflow == trusted
    assert sorted(p.name for p in migration.packages) == sorted(packages)
    assert migration.environment == environment
    assert plan.manual == [] and plan.refused == []
    for publisher in migration.publishers:
        expected = f"npm trust github {publisher.package} --file {trusted} --repository acme/widget"
        if environment:
            expected += f" --environment {environment}"
        assert publisher.command == expected + " --allow-publish"
    jsonschema.validate(plan_dict(plan), SCHEMA)
    assert plan.has_steps


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_write_leaves_no_token_publish_and_a_second_run_changes_nothing(
    name: str, tmp_path: Path
) -> None:
    repo = _copy(name, tmp_path)
    before = {p: p.read_bytes() for p in _yaml_files(repo)}
    plan = make_plan([str(repo)], environ=ENV, write=True)
    assert plan.written, "the plan had edits to write"
    for path in _yaml_files(repo):
        load_yaml(path.read_text(encoding="utf-8"))  # parses
        text = path.read_text(encoding="utf-8")
        assert "NPM_TOKEN" not in text or path not in before or name == "none"
    assert _token_findings(repo) == []
    after = {p: p.read_bytes() for p in _yaml_files(repo)}
    again = make_plan([str(repo)], environ=ENV, write=True)
    assert again.migrations == [] and again.changes == [] and not again.has_steps
    assert {p: p.read_bytes() for p in _yaml_files(repo)} == after
    assert after != before


def _zizmor_findings(repo: Path) -> Counter[tuple[str, str]]:
    proc = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "json", ".github"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    found: Counter[tuple[str, str]] = Counter()
    for item in json.loads(proc.stdout or "[]"):
        paths = sorted(
            loc["symbolic"]["key"]["Local"]["given_path"]
            if "given_path" in loc["symbolic"]["key"]["Local"]
            else loc["symbolic"]["key"]["Local"].get("verbatim_path", "")
            for loc in item["locations"]
        )
        found[(item["ident"], ",".join(paths))] += 1
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_edited_workflows_pass_actionlint_and_zizmor_finds_nothing_new(
    name: str, tmp_path: Path
) -> None:
    repo = _copy(name, tmp_path)
    workflows = [str(p) for p in _yaml_files(repo) if p.parent.name == "workflows"]
    lint = [tool("actionlint"), "-no-color", *workflows]
    first = subprocess.run(lint, cwd=repo, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stdout
    zizmor_before = _zizmor_findings(repo)
    make_plan([str(repo)], environ=ENV, write=True)
    second = subprocess.run(lint, cwd=repo, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stdout
    new = _zizmor_findings(repo) - zizmor_before
    assert not new, new
    assert zizmor(repo / ".github", cwd=repo).returncode in (0, 10, 11, 12, 13, 14)


def test_the_edits_change_nothing_else_byte_for_byte(tmp_path: Path) -> None:
    repo = _copy("npm-publish", tmp_path)
    path = repo / ".github/workflows/release.yml"
    original = path.read_text(encoding="utf-8")
    path.write_bytes(original.replace("\n", "\r\n").encode())
    make_plan([str(repo)], environ=ENV, write=True)
    edited = path.read_bytes().decode()
    assert "\r\n" in edited and "\n" not in edited.replace("\r\n", "")
    lines = edited.split("\r\n")
    assert "      # Publish the package (comments stay)" in lines
    assert "    permissions:" in lines and "      id-token: write" in lines
    kept = [
        line
        for line in original.split("\n")
        if "NODE_AUTH_TOKEN" not in line and line != "        env:"
    ]
    added = {"    permissions:", "      contents: read", "      id-token: write"}
    assert [line for line in lines if line not in added] == kept


def test_a_new_job_block_repeats_the_workflow_permissions(tmp_path: Path) -> None:
    plan = make_plan([str(_copy("release-please", tmp_path))], environ=ENV)
    diff = plan_dict(plan)["edits"][0]["diff"]
    assert (
        "+    permissions:\n+      contents: write\n+      pull-requests: write\n"
        "+      id-token: write\n" in diff
    )
    assert any("replaces the workflow's" in note for note in plan.migrations[0].edit_notes)


def test_an_old_npm_is_upgraded_before_the_publish_and_a_new_one_is_not(tmp_path: Path) -> None:
    old = make_plan([str(_copy("pnpm-publish", tmp_path))], environ=ENV)
    assert "+      - name: Use npm 11 for trusted publishing" in plan_dict(old)["edits"][0]["diff"]
    assert (
        "+        run: npm install -g npm@11 # zizmor: ignore[adhoc-packages]"
        in plan_dict(old)["edits"][0]["diff"]
    )
    new = make_plan([str(_copy("npm-publish", tmp_path))], environ=ENV)
    assert "npm install -g" not in plan_dict(new)["edits"][0]["diff"]


def test_yarn_berry_needs_a_yarn_with_oidc(tmp_path: Path) -> None:
    plan = make_plan([str(_copy("yarn-npm-publish", tmp_path))], environ=ENV)
    assert any("Yarn >= 4.10" in p for p in plan.migrations[0].prerequisites)


def test_private_packages_are_skipped(tmp_path: Path) -> None:
    plan = make_plan([str(_copy("changesets-v1", tmp_path))], environ=ENV)
    assert [(p.name, why) for p, why in plan.migrations[0].skipped_packages] == [
        ("@acme/docs", "private: never published")
    ]


WORKFLOW_WITH = """\
name: Release
on: push
jobs:
  publish:
    runs-on: {runs_on}
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - run: npm publish{registry}
        env:
          NODE_AUTH_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}
"""


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return repo


def test_a_self_hosted_runner_is_not_migrated(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            "package.json": '{"name": "p"}',
            ".github/workflows/r.yml": WORKFLOW_WITH.format(
                runs_on="[self-hosted, linux]", registry=""
            ),
        },
    )
    plan = make_plan([str(repo)], environ=ENV)
    assert plan.migrations == [] and plan.changes == []
    assert [m.kind for m in plan.manual] == ["self-hosted-runner"]
    jsonschema.validate(plan_dict(plan), SCHEMA)
    assert plan.has_steps


def test_another_registry_is_skipped(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            "package.json": '{"name": "p"}',
            ".github/workflows/r.yml": WORKFLOW_WITH.format(
                runs_on="ubuntu-latest", registry=" --registry https://npm.pkg.github.com"
            ),
        },
    )
    plan = make_plan([str(repo)], environ=ENV)
    assert plan.migrations == []
    assert [m.kind for m in plan.manual] == ["other-registry"]


def test_a_reusable_workflow_of_another_repository_is_listed(tmp_path: Path) -> None:
    repo = _repo(
        tmp_path,
        {
            ".github/workflows/r.yml": "on: push\njobs:\n  release:\n"
            "    uses: acme/shared/.github/workflows/npm.yml@v1\n"
            "    secrets:\n      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n",
        },
    )
    plan = make_plan([str(repo)], environ=ENV)
    assert [m.kind for m in plan.manual] == ["reusable-workflow-in-another-repository"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("    runs-on: ubuntu-latest\n", "    runs-on: &runner ubuntu-latest\n"),
        (
            "    runs-on: ubuntu-latest\n",
            "    runs-on: ubuntu-latest\n    permissions: {contents: read}\n",
        ),
        ("    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    permissions: read-all\n"),
    ],
    ids=["anchor", "flow-mapping", "read-all"],
)
def test_a_file_that_cannot_be_edited_safely_is_refused_and_the_others_are_edited(
    change: str, reason: str, tmp_path: Path
) -> None:
    workflow = WORKFLOW_WITH.format(runs_on="ubuntu-latest", registry="")
    repo = _repo(
        tmp_path,
        {
            "package.json": '{"name": "p"}',
            ".github/workflows/bad.yml": workflow.replace(change, reason),
            ".github/workflows/good.yml": workflow,
        },
    )
    bad = (repo / ".github/workflows/bad.yml").read_bytes()
    plan = make_plan([str(repo)], environ=ENV, write=True)
    assert [r.path for r in plan.refused] == [".github/workflows/bad.yml"]
    assert plan.refused[0].reason
    assert (repo / ".github/workflows/bad.yml").read_bytes() == bad
    assert plan.written == [".github/workflows/good.yml"]
    assert "NPM_TOKEN" not in (repo / ".github/workflows/good.yml").read_text()
    assert plan.has_steps
    jsonschema.validate(plan_dict(plan), SCHEMA)


def test_an_unparsable_workflow_is_refused_with_the_reason(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {".github/workflows/broken.yml": "jobs: [\n"})
    plan = make_plan([str(repo)], environ=ENV)
    assert [r.path for r in plan.refused] == [".github/workflows/broken.yml"]
    assert "invalid YAML" in plan.refused[0].reason


def test_markdown_escapes_what_the_repository_names(tmp_path: Path) -> None:
    repo = _copy("npm-publish", tmp_path)
    (repo / "package.json").write_text('{"name": "<img src=x onerror=alert(1)>`x`"}')
    markdown = render_markdown(make_plan([str(repo)], environ=ENV))
    outside_code = [line for line in markdown.splitlines() if not line.startswith("npm trust")]
    assert not any("<img" in line and "`" not in line for line in outside_code)
    assert "## npm-guard trust" in markdown and "```diff" in markdown
    assert "1. Release once" in markdown


def test_text_output_shows_the_commands_and_the_order_after_merging(tmp_path: Path) -> None:
    text = render_text(make_plan([str(_copy("changesets-v2", tmp_path))], environ=ENV))
    assert (
        "npm trust github tools-a --file release.yml --repository acme/widget "
        "--environment npm --allow-publish" in text
    )
    assert (
        text.index("1. Release once")
        < text.index("2. Run `npm-guard audit`")
        < text.index("4. Revoke the token")
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/widget.git", "acme/widget"),
        ("https://user@github.com/acme/widget", "acme/widget"),
        ("git@github.com:acme/widget.git", "acme/widget"),
        ("ssh://git@github.com/acme/widget.git", "acme/widget"),
        ("ssh://git@github.com:22/acme/widget", "acme/widget"),
        ("https://gitlab.com/acme/widget.git", None),
        ("git@github.com:acme/widget/extra.git", None),
    ],
)
def test_the_repository_comes_from_the_origin_remote(url: str, expected: str | None) -> None:
    assert from_remote_url(url) == expected


def test_the_origin_remote_is_read_when_nothing_else_says(tmp_path: Path) -> None:
    repo = _copy("npm-publish", tmp_path)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "remote", "add", "origin", "git@github.com:acme/from-remote.git"],
        check=True,
    )
    plan = make_plan([str(repo)], environ={})
    assert (plan.repository, plan.repository_source) == ("acme/from-remote", "the origin remote")
    assert owner_repository("a/b/c") is None


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = _copy("npm-publish", tmp_path)
    assert cli_main(["trust", "--repository", "acme/widget", "--format", "json", str(repo)]) == 1
    jsonschema.validate(json.loads(capsys.readouterr().out), SCHEMA)
    assert cli_main(["trust", "--repository", "not a repo", str(repo)]) == 2
    assert "is not OWNER/REPO" in capsys.readouterr().err
    assert cli_main(["trust", str(tmp_path / "missing")]) == 2
    assert cli_main(["trust", "--repository", "acme/widget", "--write", str(repo)]) == 1
    assert cli_main(["trust", "--repository", "acme/widget", "--write", str(repo)]) == 0
    assert "nothing to migrate" in capsys.readouterr().out


def test_a_job_that_has_id_token_from_the_workflow_gets_no_block(tmp_path: Path) -> None:
    """`id-token: write` at the workflow level reaches the job already: a job-level block
    repeating the workflow's permissions would change nothing."""
    repo = _copy("release-please", tmp_path)
    path = next((repo / ".github" / "workflows").glob("*.yml"))
    text = path.read_text()
    path.write_text(text.replace("permissions:\n", "permissions:\n  id-token: write\n", 1))
    plan = make_plan([str(repo)], environ=ENV)
    diff = plan_dict(plan)["edits"][0]["diff"]
    assert "+    permissions:" not in diff and "id-token" not in diff
    assert not any("permissions" in note for note in plan.migrations[0].edit_notes)
