"""How findings name steps: never by quoting a script, and always the right step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from npmrc_samples import make_runner

from npm_guard import cli
from npm_guard.hooks import workflow_npm_credentials
from npm_guard.report import FORMATS
from npm_guard.workflow import scan_workflow
from npm_guard.workflow.build import build_workflow
from npm_guard.workflow.labels import program_word, subcommand_word
from npm_guard.workflow.yaml_loader import load_yaml

# Opaque secrets (no npm or GitHub token shape: only the file's own literals can tell
# them apart from ordinary words), each at the start of an unnamed step.
SECRETS = {
    "assignment": "Qx7pL2mN9vR4tY8w",
    "export": "Zr5Tg8Bn1McXq7Lp",
    "config-set": "Hk3Jd9Lq2WzPa5Ns",
    "echo": "Wm4Rt7Yu2IoKj8Df",
    "heredoc": "Tn3Bv6Cx9ZqHs2Gm",
    "pwsh": "Pq8Wm3Nv7Xc2LkR5",
    "positional": "Gh5Jk8Lz2Xc4Vb7N",
}
LEAKY = f"""\
on: push
jobs:
  bash:
    runs-on: ubuntu-latest
    env:
      NODE_AUTH_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}
    steps:
      - run: NPM_TOKEN={SECRETS["assignment"]} npm publish
      - run: export NODE_AUTH_TOKEN={SECRETS["export"]}
      - run: npm config set //registry.npmjs.org/:_authToken={SECRETS["config-set"]}
      - run: echo '//registry.npmjs.org/:_authToken={SECRETS["echo"]}' > ~/.npmrc
      - run: |
          cat > ~/.npmrc <<EOF
          //registry.npmjs.org/:_authToken={SECRETS["heredoc"]}
          EOF
      - run: yarn {SECRETS["positional"]}
  pwsh:
    runs-on: windows-latest
    steps:
      - run: |
          '//registry.npmjs.org/:_authToken=$NPM_TOKEN
          //r.example.com/:_authToken={SECRETS["pwsh"]}' | Out-File ~/.npmrc
"""


def _readable(output: str, fmt: str) -> str:
    if fmt in ("json", "sarif"):
        return output + json.dumps(json.loads(output), ensure_ascii=False)
    return output


def test_the_leaky_workflow_reports_every_step() -> None:
    """Not vacuous: each secret's step is reported, so its label is in the output."""
    findings = scan_workflow(".github/workflows/leaky.yml", LEAKY, no_ignores=True)
    plaintext = [f for f in findings if f.rule.id == "workflow-plaintext-credential"]
    assert len(plaintext) == 6
    assert "by step 1 of job 'pwsh'" in plaintext[-1].message
    messages = "\n".join(f.message for f in findings)
    assert "step 1 (npm publish)" in messages
    assert "step 2 (export)" in messages
    assert "step 3 (npm config)" in messages
    assert "step 6 (yarn)" in messages and "`yarn <script>`" in messages
    assert "`a string … | Out-File`" in messages
    assert not [s for s in SECRETS.values() if s in messages]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_shows_a_secret_from_an_unnamed_step(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workflow = tmp_path / ".github" / "workflows" / "leaky.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(LEAKY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for main, argv in (
        (cli.main, ["scan", "--format", fmt, "--fail-on", "note", "."]),
        (workflow_npm_credentials.main, ["--format", fmt, "--fail-on", "note", str(workflow)]),
    ):
        code, out, err = make_runner(main, capsys)(*argv)
        assert code == 1
        shown = _readable(out, fmt) + err
        leaked = [name for name, secret in SECRETS.items() if secret in shown]
        assert not leaked, f"{fmt}: secrets of {leaked} shown whole"
        assert "step 1 (npm publish)" in shown


def test_names_and_ids_are_scrubbed_of_the_files_literals() -> None:
    secret = "Yt6Re3Wq8Lk2Mn5B"
    text = (
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - name: publish with {secret}\n"
        f"        run: npm publish --//registry.npmjs.org/:_authToken={secret}\n"
    )
    findings = scan_workflow(".github/workflows/a.yml", text)
    assert findings and all(secret not in f.message for f in findings)
    assert any("step 'publish with <redacted, 16 chars" in f.message for f in findings)


CONTEXT = """\
on: push
jobs:
  first:
    runs-on: ubuntu-latest
    steps:
      - name: Lint
        run: |
          echo lint
      - run: echo 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
      - name: Tail
        run: |
          echo done
  second:
    runs-on: ubuntu-latest
    steps:
      - name: Only
        run: echo 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
"""


def test_a_line_right_after_a_block_scalar_belongs_to_the_next_step() -> None:
    """`run: |` ends on the next step's first line; that line is the next step's."""
    findings = scan_workflow(".github/workflows/c.yml", CONTEXT)
    where = {f.location.line: f.message for f in findings}
    assert "in job 'first', step 2 (echo)" in where[9]
    assert "'Lint'" not in where[9]
    assert "in job 'second', step 'Only'" in where[17]


def test_a_job_after_a_block_scalar_is_the_next_job() -> None:
    model = build_workflow("c.yml", load_yaml(CONTEXT), None)
    assert model.context(13) == ("in job 'second'", "job:second")
    assert model.context(10)[0] == "in job 'first', step 'Tail'"
    assert model.context(2) == ("", "workflow")


@pytest.mark.parametrize(
    ("word", "program", "subcommand"),
    [
        ("npm", "npm", "npm"),
        ("semantic-release", "semantic-release", "semantic-release"),
        ("release:production", None, "release:production"),
        ("./scripts/release.sh", "release.sh", None),
        ("Out-File", "Out-File", None),
        ("Qx7pL2mN9vR4tY8w", None, None),  # capitals and digits: generated
        ("qxplmnvrtywkzbdfgh", None, None),  # 18 letters, no separator: generated
        ("NPM_TOKEN=abc", None, None),
        ("--otp", None, None),
    ],
)
def test_only_command_shaped_words_are_shown(
    word: str, program: str | None, subcommand: str | None
) -> None:
    assert program_word(word) == program
    assert subcommand_word(word) == subcommand
