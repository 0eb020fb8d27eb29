"""What the annotated fixtures cannot say: how sure a publish finding is, and why.

The fixtures under tests/fixtures/workflows say which lines are reported; these tests
pin the confidence and the words of the findings for publishes found in a file's text,
presumed from a token handed to an action or a reusable workflow, or authenticated by an
`.npmrc` the same step writes.
"""

from __future__ import annotations

from pathlib import Path

from npm_guard.findings import Confidence, Finding, Severity
from npm_guard.workflow import scan_workflow

RULE = "workflow-publish-with-long-lived-token"


def publish_findings(text: str, root: Path | None = None) -> list[Finding]:
    findings = scan_workflow(
        ".github/workflows/release.yml", text, repo_root=str(root) if root else None
    )
    return [f for f in findings if f.rule.id == RULE]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


SAME_STEP = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "//registry.npmjs.org/:_authToken=$NPM_TOKEN" >> ~/.npmrc
          npm publish
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
"""


def test_a_token_written_into_an_npmrc_by_the_publishing_step_is_what_it_publishes_with() -> None:
    (finding,) = publish_findings(SAME_STEP)
    assert finding.location.line == 8
    assert finding.effective_confidence is Confidence.HIGH
    assert "none is known here" not in finding.message


def test_so_is_one_a_local_script_of_the_step_writes(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "scripts/publish.sh": (
                "#!/usr/bin/env bash\n"
                'echo "//registry.npmjs.org/:_authToken=\\${NPM_TOKEN}" > .npmrc\n'
                'npm publish "$TARBALL"\n'
            )
        },
    )
    text = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: bash scripts/publish.sh
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
"""
    (finding,) = publish_findings(text, root)
    assert finding.effective_confidence is Confidence.HIGH
    assert "none is known here" not in finding.message


def test_a_publish_read_from_a_release_script_names_the_file_and_line(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "scripts/release.ts": "import { publish } from './tasks';\nawait publish();\n",
            "scripts/tasks.ts": (
                "import { execa } from 'execa';\n"
                "export async function publish() {\n"
                "  await execa('pnpm', ['publish', '--no-git-checks']);\n"
                "}\n"
            ),
        },
    )
    text = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: npx tsx scripts/release.ts
        env:
          NPM_CONFIG__AUTHTOKEN: ${{ secrets.NPM_TOKEN }}
"""
    (finding,) = publish_findings(text, root)
    assert finding.effective_confidence is Confidence.MEDIUM
    assert "scripts/tasks.ts line 3" in finding.message
    assert "`pnpm publish`" in finding.message


def test_a_log_line_or_a_dry_run_in_a_script_is_no_publish(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "scripts/release.js": (
                "const { execSync } = require('child_process');\n"
                "console.log('npm publish is next');\n"
                "execSync('npm publish --dry-run');\n"
                "// execSync('npm publish')\n"
            )
        },
    )
    text = SAME_STEP.replace("npm publish\n", "node scripts/release.js\n")
    assert publish_findings(text, root) == []


def test_an_unknown_action_handed_an_npm_token_presumably_publishes() -> None:
    text = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/snapshot@v1
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
      - uses: acme/release-action@v1
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
"""
    snapshot, release = publish_findings(text)
    assert snapshot.effective_confidence is Confidence.LOW
    assert snapshot.severity is Severity.WARNING
    assert release.effective_confidence is Confidence.MEDIUM
    assert release.severity is None  # the rule's: an error
    assert "acme/release-action is an action npm-guard does not know" in release.message


def test_a_reusable_workflow_of_another_repository_handed_an_npm_secret() -> None:
    text = """\
on: push
jobs:
  release:
    uses: acme/workflows/.github/workflows/publish.yml@v1
    secrets:
      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
"""
    (finding,) = publish_findings(text)
    assert finding.location.line == 4
    assert finding.effective_confidence is Confidence.MEDIUM
    assert finding.message.startswith("job 'release' passes a long-lived token, NPM_TOKEN")


def test_the_arguments_of_npm_run_reach_the_script(tmp_path: Path) -> None:
    root = write(tmp_path, {"package.json": '{"scripts": {"release": "changeset publish"}}'})
    text = SAME_STEP.replace("npm publish\n", "npm run release -- --dry-run\n")
    assert publish_findings(text, root) == []
    text = SAME_STEP.replace("npm publish\n", "npm run release -- --tag next\n")
    assert len(publish_findings(text, root)) == 1


CHANGESETS = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: changesets/action@{version}
        with:
          {input}: pnpm release
        env:
          NPM_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}
"""


def test_changesets_action_v1_writes_npm_token_into_an_npmrc_v2_does_not() -> None:
    (v1,) = publish_findings(CHANGESETS.format(version="v1", input="publish"))
    assert v1.effective_confidence is Confidence.HIGH
    (v2,) = publish_findings(CHANGESETS.format(version="v2", input="publish-script"))
    assert v2.effective_confidence is Confidence.MEDIUM
    assert "none is known here" in v2.message
