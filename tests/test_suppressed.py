"""Findings the policy or an ignore comment silences leave a trace: counted on the summary
line, listed in JSON, suppressed results in SARIF (`external` for the policy file,
`inSource` for a comment, the reason as justification). They never fail a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from npmrc_samples import NPM_TOKEN, make_token, redacted, write
from test_sarif import SARIF_SCHEMA, multitool_problems

from npm_guard import cli

POLICY = (
    "version: 1\n"
    "rules:\n"
    "  npmrc-insecure-registry: off\n"
    "ignore:\n"
    "  - rule: '*'\n"
    "    path: fixtures/**\n"
    "    reason: fake tokens for the tests\n"
)
COMMENTED = (
    "# npm-guard: ignore-next-line[npmrc-plaintext-credential] the test registry's token\n"
    f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
    "strict-ssl=false\n"
)
REPORT_SCHEMA = Path(__file__).parent.parent / "npm_guard" / "schemas" / "report.schema.json"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose policy turns a rule off and ignores fixtures/, and whose
    .npmrc silences its token with a comment."""
    root = tmp_path / "repo"
    write(root / ".npm-guard.yml", POLICY)
    write(root / ".npmrc", COMMENTED)
    write(root / "fixtures" / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    monkeypatch.chdir(root)
    return root


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["scan", *args])
    return code, capsys.readouterr().out


def test_the_summary_line_counts_what_was_silenced(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = scan(capsys, ".")
    assert code == 0
    assert out == (
        "npm-guard: no findings (3 files scanned; "
        "3 suppressed: 2 by the policy, 1 by an ignore comment)\n"
    )
    write(project / ".npm-guard.yml", "version: 1\n")
    code, out = scan(capsys, ".npmrc")
    assert code == 0  # a warning
    assert out.endswith("(1 warning; 1 file scanned; 1 suppressed by an ignore comment)\n")


def test_no_ignores_reports_what_comments_silence(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = scan(capsys, "--no-ignores", ".npmrc")
    assert code == 1
    assert "[npmrc-plaintext-credential]" in out
    assert out.endswith("(1 error; 1 file scanned; 1 suppressed by the policy)\n")


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out = scan(capsys, "--format", "json", *args)
    assert code == 0
    report: dict[str, Any] = json.loads(out)
    return report


def test_json_lists_them_with_kind_and_reason(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jsonschema import Draft202012Validator

    report = _json(capsys, ".")
    Draft202012Validator(json.loads(REPORT_SCHEMA.read_text())).validate(report)
    assert report["findings"] == []
    assert report["summary"]["findings"] == 0 and report["summary"]["suppressed"] == 3
    listed = [
        (s["finding"]["location"]["path"], s["finding"]["rule"], s["suppression"])
        for s in report["suppressed"]
    ]
    assert listed == [
        (
            ".npmrc",
            "npmrc-plaintext-credential",
            {"kind": "inSource", "justification": "the test registry's token"},
        ),
        (
            ".npmrc",
            "npmrc-insecure-registry",
            {
                "kind": "external",
                "justification": "the policy turns npmrc-insecure-registry off "
                "(rules: npmrc-insecure-registry: off)",
            },
        ),
        (
            "fixtures/.npmrc",
            "npmrc-plaintext-credential",
            {"kind": "external", "justification": "fake tokens for the tests"},
        ),
    ]
    assert NPM_TOKEN not in json.dumps(report)
    assert redacted(NPM_TOKEN) in report["suppressed"][0]["finding"]["message"]


def test_the_report_schema_refuses_a_malformed_suppression() -> None:
    """The schema check above can fail: an unknown kind is refused."""
    from jsonschema import Draft202012Validator

    schema = json.loads(REPORT_SCHEMA.read_text())
    report = {
        "version": 1,
        "tool": {"name": "npm-guard", "version": "0"},
        "summary": {"filesScanned": 0, "findings": 0, "bySeverity": {}, "suppressed": 1},
        "findings": [],
        "suppressed": [{"finding": {}, "suppression": {"kind": "baseline", "justification": ""}}],
    }
    assert list(Draft202012Validator(schema).iter_errors(report))


def _sarif(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out = scan(capsys, "--format", "sarif", *args)
    assert code == 0
    log: dict[str, Any] = json.loads(out)
    return log


def test_sarif_has_them_as_suppressed_results(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jsonschema import Draft202012Validator

    log = _sarif(capsys, ".")
    schema = json.loads(SARIF_SCHEMA.read_text("utf-8-sig"))
    assert [e.message for e in Draft202012Validator(schema).iter_errors(log)] == []
    results = log["runs"][0]["results"]
    seen = [
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["ruleId"],
            r["suppressions"],
        )
        for r in results
    ]
    assert seen == [
        (
            ".npmrc",
            "npmrc-plaintext-credential",
            [
                {
                    "kind": "inSource",
                    "status": "accepted",
                    "justification": "the test registry's token",
                }
            ],
        ),
        (
            ".npmrc",
            "npmrc-insecure-registry",
            [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": "the policy turns npmrc-insecure-registry off "
                    "(rules: npmrc-insecure-registry: off)",
                }
            ],
        ),
        (
            "fixtures/.npmrc",
            "npmrc-plaintext-credential",
            [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": "fake tokens for the tests",
                }
            ],
        ),
    ]
    assert NPM_TOKEN not in json.dumps(log)


def test_a_fingerprint_does_not_depend_on_what_is_silenced(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two findings of one rule, file and key: the second keeps its fingerprint whether
    the first is silenced by a comment or not, so code scanning keeps one alert."""
    write(
        project / ".npmrc",
        "# npm-guard: ignore-next-line[npmrc-plaintext-credential] the first is a fake\n"
        f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
        f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n",
    )

    def fingerprints(*args: str) -> dict[tuple[int, bool], str]:
        log = _sarif(capsys, *args, ".npmrc")
        return {
            (
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
                "suppressions" in r,
            ): r["partialFingerprints"]["npmGuardFingerprint/v1"]
            for r in log["runs"][0]["results"]
            if r["ruleId"] == "npmrc-plaintext-credential"
        }

    silenced = fingerprints()
    shown = fingerprints("--no-ignores")
    assert set(silenced) == {(2, True), (3, False)} and set(shown) == {(2, False), (3, False)}
    assert silenced[(3, False)] == shown[(3, False)]
    assert silenced[(2, True)] == shown[(2, False)]


def test_a_token_in_a_reason_is_redacted(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pasted = make_token("npm_", 777)
    write(
        project / ".npm-guard.yml",
        POLICY.replace("fake tokens for the tests", f"fake tokens such as {pasted}"),
    )
    for fmt in ("json", "sarif"):
        _, out = scan(capsys, "--format", fmt, ".")
        assert pasted not in out
        assert redacted(pasted) in json.dumps(json.loads(out), ensure_ascii=False), fmt


def test_the_hooks_count_them_too(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from npm_guard.hooks import npmrc_credentials

    assert npmrc_credentials.main([".npmrc", "fixtures/.npmrc"]) == 0
    assert capsys.readouterr().out == (
        "npm-guard: no findings (2 files scanned; "
        "3 suppressed: 2 by the policy, 1 by an ignore comment)\n"
    )


@pytest.mark.slow
def test_sarif_with_suppressed_results_passes_the_multitool(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One result that is not suppressed.
    write(project / "live" / ".npmrc", "//registry.npmjs.org/:_authToken=$NPM_TOKEN\n")
    log = _sarif(capsys, ".")
    assert any("suppressions" not in r for r in log["runs"][0]["results"])
    path = tmp_path / "suppressed.sarif"
    path.write_text(json.dumps(log), "utf-8")
    problems = multitool_problems(path, tmp_path)
    assert [p for p in problems if p[0] in ("error", "warning")] == []
