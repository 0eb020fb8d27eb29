"""Severity overrides, `off` and path ignores: in `apply_policy`, and through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from npm_guard.cli import main as cli_main
from npm_guard.findings import Finding, Location, Severity
from npm_guard.hooks.npmrc_credentials import main as hook_main
from npm_guard.policy import IgnoreEntry, Policy
from npm_guard.policy_apply import apply_policy, path_matches
from npm_guard.rules import npmrc_insecure_registry, npmrc_plaintext_credential

FAKE_TOKEN = "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"


def finding(path: str, rule: object = npmrc_plaintext_credential.RULE, **kw: object) -> Finding:
    return Finding(rule=rule, location=Location(path, 3, 5), message="m", key="k", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("tests/fixtures/**", "tests/fixtures/a/b/.npmrc", True),
        ("tests/fixtures/**", "tests/fixtures-old/.npmrc", False),
        ("tests/fixtures/", "tests/fixtures/deep/er/.npmrc", True),
        ("**/.npmrc", ".npmrc", True),
        ("**/.npmrc", "a/b/.npmrc", True),
        ("*.npmrc", "a/.npmrc", False),
        ("*/.npmrc", "a/.npmrc", True),
        ("*/.npmrc", "a/b/.npmrc", False),
        (".github/workflows/releas?.yml", ".github/workflows/release.yml", True),
        (".github/workflows/[rp]*.yml", ".github/workflows/publish.yml", True),
        (".github/workflows/[!rp]*.yml", ".github/workflows/publish.yml", False),
        ("./examples/**", "examples/x/.npmrc", True),
        ("examples/**", "./examples/x/.npmrc", True),
        ("a+b(c)/.npmrc", "a+b(c)/.npmrc", True),
        ("docs/**/bad.npmrc", "docs/bad.npmrc", True),
        ("docs/**/bad.npmrc", "docs/x/y/bad.npmrc", True),
    ],
)
def test_path_globs(glob: str, path: str, matches: bool) -> None:
    assert path_matches(glob, path) is matches


def test_severity_override_applies_to_every_finding_of_the_rule() -> None:
    findings = [
        finding("a/.npmrc"),
        finding("b/.npmrc", npmrc_insecure_registry.RULE, severity=Severity.WARNING),
        finding("c/.npmrc", npmrc_insecure_registry.RULE),
    ]
    policy = Policy(rules={"npmrc-insecure-registry": Severity.NOTE})
    out = apply_policy(findings, policy)
    assert [f.effective_severity for f in out] == [Severity.ERROR, Severity.NOTE, Severity.NOTE]


def test_off_removes_the_rule_and_leaves_the_rest() -> None:
    findings = [finding("a/.npmrc"), finding("a/.npmrc", npmrc_insecure_registry.RULE)]
    out = apply_policy(findings, Policy(rules={"npmrc-plaintext-credential": None}))
    assert [f.rule.id for f in out] == ["npmrc-insecure-registry"]


def test_ignore_by_rule_and_path_and_star() -> None:
    findings = [
        finding("test/fixtures/x/.npmrc"),
        finding("test/fixtures/x/.npmrc", npmrc_insecure_registry.RULE),
        finding("src/.npmrc"),
        finding("examples/.npmrc", npmrc_insecure_registry.RULE),
    ]
    policy = Policy(
        ignore=(
            IgnoreEntry("npmrc-plaintext-credential", "test/fixtures/**", "fake tokens"),
            IgnoreEntry("*", "examples/**", "examples of what not to do"),
        )
    )
    out = apply_policy(findings, policy)
    assert [(f.location.path, f.rule.id) for f in out] == [
        ("test/fixtures/x/.npmrc", "npmrc-insecure-registry"),
        ("src/.npmrc", "npmrc-plaintext-credential"),
    ]


def test_default_policy_changes_nothing() -> None:
    findings = [finding("a/.npmrc"), finding("b/.npmrc", npmrc_insecure_registry.RULE)]
    assert apply_policy(findings, Policy()) == findings


# --- wired into the scan ---------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "test" / "fixtures").mkdir(parents=True)
    (tmp_path / "test" / "fixtures" / ".npmrc").write_text(
        f"//registry.npmjs.org/:_authToken={FAKE_TOKEN}\n"
    )
    (tmp_path / ".npmrc").write_text("strict-ssl=false\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def scan_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = cli_main(["scan", "--format", "json", *args])
    report = json.loads(capsys.readouterr().out)
    return code, [
        f"{f['location']['path']} {f['rule']} {f['severity']}" for f in report["findings"]
    ]


def test_scan_without_policy_reports_everything(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, found = scan_json(["."], capsys)
    assert code == 1
    assert found == [
        ".npmrc npmrc-insecure-registry warning",
        "test/fixtures/.npmrc npmrc-plaintext-credential error",
    ]


def test_policy_file_in_the_root_is_applied(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".npm-guard.yml").write_text(
        "version: 1\n"
        "rules:\n  npmrc-insecure-registry: error\n"
        "ignore:\n  - {rule: npmrc-plaintext-credential, path: test/fixtures/**, reason: fake}\n"
    )
    code, found = scan_json(["."], capsys)
    assert code == 1
    assert found == [".npmrc npmrc-insecure-registry error"]


def test_policy_option_names_another_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".npm-guard.yml").write_text("version: 1\n")
    (repo / "strict.yml").write_text(
        "version: 1\nrules: {npmrc-insecure-registry: off, npmrc-plaintext-credential: off}\n"
    )
    code, found = scan_json(["--policy", "strict.yml", "."], capsys)
    assert (code, found) == (0, [])


def test_invalid_policy_stops_the_scan_with_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".npm-guard.yml").write_text("version: 1\nrules:\n  no-such-rule: off\n")
    assert cli_main(["scan", "."]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "npm-guard: error: .npm-guard.yml: invalid policy file, 1 problem:" in captured.err
    assert ".npm-guard.yml:3: rules.no-such-rule: unknown rule id 'no-such-rule'" in captured.err


def test_hook_honours_the_policy_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / ".npm-guard.yml").write_text(
        "version: 1\nignore:\n  - {rule: '*', path: test/fixtures/, reason: fake tokens}\n"
    )
    assert hook_main(["test/fixtures/.npmrc"]) == 0
    assert "no findings" in capsys.readouterr().out
    assert hook_main(["--policy", "missing.yml", "test/fixtures/.npmrc"]) == 2
    assert "missing.yml: no such policy file" in capsys.readouterr().err
