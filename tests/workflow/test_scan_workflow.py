"""scan_workflow as the engine calls it: suppressions, bad input, keys, no leaks, paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from npm_guard.file_kinds import ACTION, WORKFLOW, classify
from npm_guard.findings import Confidence, Finding, Severity
from npm_guard.workflow import scan_workflow

TOKEN = "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"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "workflows"

JOB_TOKEN = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    env:
      NODE_AUTH_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}{comment}
    steps:
      - run: npm ci
      - run: npm publish
"""


def scan(text: str, **kwargs: object) -> list[Finding]:
    return scan_workflow(".github/workflows/release.yml", text, **kwargs)  # type: ignore[arg-type]


def rules(findings: list[Finding]) -> list[tuple[int, str]]:
    return sorted((f.location.line, f.rule.id) for f in findings)


def test_trailing_comment_silences_the_named_rule_on_its_line() -> None:
    plain = scan(JOB_TOKEN.format(comment=""))
    assert (6, "workflow-token-overexposed") in rules(plain)
    quiet = scan(
        JOB_TOKEN.format(comment="  # npm-guard: ignore[workflow-token-overexposed] private deps")
    )
    assert (6, "workflow-token-overexposed") not in rules(quiet)
    assert (9, "workflow-publish-with-long-lived-token") in rules(quiet)


def test_several_rules_in_one_comment_and_no_ignores() -> None:
    text = JOB_TOKEN.format(
        comment="  # npm-guard: ignore[workflow-token-overexposed, workflow-plaintext-credential] x"
    )
    assert (6, "workflow-token-overexposed") not in rules(scan(text))
    assert (6, "workflow-token-overexposed") in rules(scan(text, no_ignores=True))


def test_other_rules_on_the_line_are_not_silenced() -> None:
    text = JOB_TOKEN.format(
        comment="  # npm-guard: ignore[workflow-publish-token-fallback] wrong id"
    )
    assert (6, "workflow-token-overexposed") in rules(scan(text))


def test_text_inside_a_block_scalar_is_not_a_comment() -> None:
    text = (
        "on: push\njobs:\n  r:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: |\n"
        "          npm publish  # npm-guard: ignore[workflow-publish-with-long-lived-token] no\n"
        "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    assert (7, "workflow-publish-with-long-lived-token") in rules(scan(text))


def test_text_inside_a_quoted_scalar_is_not_a_comment() -> None:
    text = (
        "on: push\njobs:\n  r:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: "npm publish # npm-guard: ignore[workflow-publish-with-long-lived-token] x"\n'
        "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    assert (6, "workflow-publish-with-long-lived-token") in rules(scan(text))


def test_a_comment_on_the_block_header_covers_the_block() -> None:
    text = (
        "on: push\njobs:\n  r:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: |  # npm-guard: ignore[workflow-publish-with-long-lived-token] staged later\n"
        "          npm ci\n          npm publish\n"
        "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    assert (8, "workflow-publish-with-long-lived-token") not in rules(scan(text))
    assert (8, "workflow-publish-with-long-lived-token") in rules(scan(text, no_ignores=True))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("on: [push\njobs: {}\n", "invalid YAML"),
        (
            "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n"
            + "".join(
                f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9)
            ),
            "more than",
        ),
        ("[" * 10_000 + "]" * 10_000 + "\n", "nested deeper"),
    ],
    ids=["invalid", "alias-bomb", "nesting"],
)
def test_unreadable_yaml_is_a_parse_error_and_tokens_are_still_found(
    text: str, problem: str
) -> None:
    findings = scan(text + f"# {TOKEN}\n")
    errors = [f for f in findings if f.rule.id == "parse-error"]
    assert len(errors) == 1 and problem in errors[0].message
    assert TOKEN not in errors[0].message
    assert "workflow-plaintext-credential" in {f.rule.id for f in findings}


def test_findings_keep_their_fingerprints_when_lines_are_added_above() -> None:
    text = JOB_TOKEN.format(comment="")
    shifted = text.replace("on: push\n", "name: release\n# a comment\non: push\n")
    before = {(f.rule.id, f.fingerprint) for f in scan(text)}
    after = {(f.rule.id, f.fingerprint) for f in scan(shifted)}
    assert before == after
    assert {f.location.line for f in scan(shifted)} != {f.location.line for f in scan(text)}


def all_fixture_findings() -> list[Finding]:
    found: list[Finding] = []
    for path in sorted(FIXTURES.glob("*/*.y*ml")):
        found.extend(scan_workflow(path.name, path.read_text(encoding="utf-8"), no_ignores=True))
    return found


def test_no_credential_is_ever_shown_whole() -> None:
    findings = all_fixture_findings()
    assert findings
    texts = [
        " ".join([f.message, f.effective_tip, f.key, *f.properties.keys(), *f.properties.values()])
        for f in findings
    ]
    for secret in (TOKEN, "AKCp8kqX7T3vLm9ZRb2Wd4YcNf6Hs1Gu", "QmFzZTY0U2VjcmV0VmFsdWVYeXo"):
        assert not [t for t in texts if secret in t]


def test_every_fixture_key_survives_lines_added_above() -> None:
    for path in sorted(FIXTURES.glob("*/*.y*ml")):
        text = path.read_text(encoding="utf-8")
        keys = sorted((f.rule.id, f.key) for f in scan_workflow(path.name, text))
        shifted = sorted(
            (f.rule.id, f.key) for f in scan_workflow(path.name, "# added\n# lines\n" + text)
        )
        assert keys == shifted, path.name


def test_a_command_continued_over_lines_is_reported_on_its_first_line() -> None:
    text = (
        "on: workflow_dispatch\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: |\n          echo start\n          npm token create \\\n"
        "            --name ci \\\n            --cidr 203.0.113.0/24\n"
    )
    (finding,) = [f for f in scan(text) if f.rule.id == "workflow-token-create-not-read-only"]
    assert (finding.location.line, finding.location.column) == (8, 11)


def test_overexposure_severity_depends_on_who_can_read_it() -> None:
    install = scan(JOB_TOKEN.format(comment=""))
    (bad,) = [f for f in install if f.rule.id == "workflow-token-overexposed"]
    assert bad.effective_severity is Severity.ERROR
    assert "npm ci" in bad.message and "install scripts" in bad.message
    harmless = scan(JOB_TOKEN.format(comment="").replace("npm ci", "echo hello"))
    (mild,) = [f for f in harmless if f.rule.id == "workflow-token-overexposed"]
    assert mild.effective_severity is Severity.WARNING


def test_messages_name_the_job_and_step() -> None:
    findings = scan(JOB_TOKEN.format(comment=""))
    (publish,) = [f for f in findings if f.rule.id == "workflow-publish-with-long-lived-token"]
    assert "job 'release'" in publish.message and "step 2" in publish.message


def test_not_a_workflow_gives_nothing_but_literal_tokens() -> None:
    assert scan("just: a mapping\nlist: [1, 2]\n") == []
    assert scan("- a\n- b\n") == []
    found = scan(f"x: {TOKEN}\n")
    assert [f.rule.id for f in found] == ["workflow-plaintext-credential"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".github/workflows/release.yml", True),
        (".github/workflows/release.yaml", True),
        ("packages/app/.github/workflows/ci.yml", True),
        ("action.yml", True),
        ("actions/publish/action.yaml", True),
        (".github\\workflows\\release.yml", True),
        (".github/workflows/nested/release.yml", False),
        (".github/workflows/README.md", False),
        ("my-action.yml", False),
        ("tests/fixtures/workflows/x/composite.action.yml", False),
        ("docs/examples/release.yml", False),
    ],
)
def test_is_workflow_path(path: str, expected: bool) -> None:
    assert (classify(path) in (WORKFLOW, ACTION)) is expected


def test_classifying_paths_does_not_import_yaml() -> None:
    code = (
        "import sys, npm_guard.file_kinds as k; k.classify('action.yml'); "
        "print('yaml' in sys.modules, "
        "any(m.startswith('npm_guard.workflow.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_an_unparseable_registry_url_is_not_npmjs() -> None:
    text = (
        "on: push\njobs:\n  p:\n    runs-on: ubuntu-latest\n    env:\n"
        "      NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n    steps:\n"
        "      - uses: actions/setup-node@v4\n        with:\n          registry-url: https://[x\n"
        "      - run: npm publish\n"
    )
    assert "workflow-publish-with-long-lived-token" not in {f.rule.id for f in scan(text)}


def test_a_pwsh_env_variable_in_single_quotes_is_one_unexpanded_variable() -> None:
    text = (
        "on: push\njobs:\n  w:\n    runs-on: windows-latest\n    steps:\n"
        "      - run: |\n"
        "          '//registry.npmjs.org/:_authToken=$env:NPM_TOKEN' | Out-File ~/.npmrc\n"
    )
    findings = scan(text)
    assert [f.rule.id for f in findings] == ["workflow-unexpanded-npm-variable"]
    (finding,) = findings
    assert "with $env:NPM_TOKEN into ~/.npmrc" in finding.message
    assert "literal text $env:NPM_TOKEN" in finding.message
    assert finding.properties["form"] == "$env:VAR"
    assert (finding.location.line, finding.location.column) == (7, 45)


@pytest.mark.parametrize(
    ("run", "position"),
    [
        ('"echo one\\n\n          npm publish"', (7, 11)),  # the `n` of `\n` is no `n` of npm
        ('"echo \\"n\\" \\x6e\\u006e; npm publish"', (6, 38)),  # \x6e and \u006e decode to `n`
        ('"echo \\tn; \\\n          npm publish"', (7, 11)),  # an escaped line break
        ("'echo ''n''; npm publish'", (6, 27)),
    ],
    ids=["newline-escape", "quote-and-hex-escapes", "escaped-line-break", "single-quoted"],
)
def test_positions_in_quoted_run_strings_follow_their_escapes(
    run: str, position: tuple[int, int]
) -> None:
    text = (
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - run: {run}\n"
        "        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    (finding,) = [f for f in scan(text) if f.rule.id == "workflow-publish-with-long-lived-token"]
    assert (finding.location.line, finding.location.column) == position


SETUP_NODE = """\
      - uses: actions/setup-node@v4
        with:
          node-version: 24{registry}
"""
NODE_AUTH_PUBLISH = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    env:
      NODE_AUTH_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}
    steps:
{before}      - run: npm publish
{after}"""
REGISTRY_URL = "\n          registry-url: https://registry.npmjs.org"
WRITES_REFERENCE = (
    "      - run: echo '//registry.npmjs.org/:_authToken=${NODE_AUTH_TOKEN}' > ~/.npmrc\n"
)


@pytest.mark.parametrize(
    ("before", "after", "confidence"),
    [
        (SETUP_NODE.format(registry=REGISTRY_URL), "", Confidence.HIGH),
        (WRITES_REFERENCE, "", Confidence.HIGH),
        ("", "", Confidence.MEDIUM),
        (SETUP_NODE.format(registry=""), "", Confidence.MEDIUM),  # no registry-url: no .npmrc
        ("", SETUP_NODE.format(registry=REGISTRY_URL), Confidence.MEDIUM),  # too late
    ],
    ids=["setup-node-registry-url", "written-npmrc", "nothing", "no-registry-url", "after"],
)
def test_node_auth_token_is_read_by_npm_only_through_an_npmrc(
    before: str, after: str, confidence: Confidence
) -> None:
    text = NODE_AUTH_PUBLISH.format(before=before, after=after)
    (finding,) = [f for f in scan(text) if f.rule.id == "workflow-publish-with-long-lived-token"]
    assert finding.effective_confidence is confidence
    hedged = "only through an .npmrc that refers to ${NODE_AUTH_TOKEN}" in finding.message
    assert hedged is (confidence is Confidence.MEDIUM)
    if hedged:
        assert "no actions/setup-node step with `registry-url` earlier" in finding.message


def test_the_repositorys_npmrc_reference_makes_node_auth_token_read(tmp_path: Path) -> None:
    text = NODE_AUTH_PUBLISH.format(before="", after="")
    (tmp_path / ".npmrc").write_text("//registry.npmjs.org/:_authToken=${NODE_AUTH_TOKEN}\n")
    (finding,) = [
        f
        for f in scan(text, repo_root=str(tmp_path))
        if f.rule.id == "workflow-publish-with-long-lived-token"
    ]
    assert finding.effective_confidence is Confidence.HIGH


UNTRUSTED = """\
on:
  issue_comment:
jobs:
  remote:
    uses: octo-org/release/.github/workflows/publish.yml@v1
    secrets: inherit
  local:
    uses: ./.github/workflows/missing.yml
    secrets: inherit
  build:
    runs-on: ubuntu-latest
    steps:
      - run: npm ci
      - name: Publish
        run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
      - run: echo "NPM_TOKEN=${{ secrets.NPM_TOKEN }}" >> "$GITHUB_ENV"
      - run: npx semantic-release
"""


def untrusted_findings() -> dict[int, Finding]:
    found = scan(UNTRUSTED)
    return {f.location.line: f for f in found if f.rule.id == "workflow-token-in-untrusted-trigger"}


def test_secrets_inherit_to_another_repositorys_workflow_is_reported_with_low_confidence() -> None:
    findings = untrusted_findings()
    remote = findings[6]
    assert remote.effective_confidence is Confidence.LOW
    assert "octo-org/release/.github/workflows/publish.yml@v1" in remote.message
    assert "every secret, npm tokens included" in remote.message
    assert "`issue_comment`" in remote.message
    assert 9 not in findings  # a local callee is read (here: missing, so it uses nothing)


def test_a_step_level_token_in_an_untrusted_trigger_names_its_step() -> None:
    findings = untrusted_findings()
    assert "is reachable from step 'Publish' of job 'build'" in findings[17].message
    assert "the steps after step 3 (echo) of job 'build'" in findings[18].message
