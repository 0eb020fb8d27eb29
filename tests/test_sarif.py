"""`--format sarif`: valid against the official SARIF 2.1.0 schema and Microsoft's
SARIF multitool, stable fingerprints, `%SRCROOT%`-relative URIs, rule metadata.

The schema is the one shipped inside `@microsoft/sarif-multitool-linux`, and the
multitool is its self-contained Linux binary; both come from `npm ci --prefix tests/node`
(scripts/test runs it).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from npm_guard.cli import main as cli_main
from npm_guard.report.sarif import FINGERPRINT_NAME, SRCROOT
from npm_guard.rules import all_rules

NODE = Path(__file__).parent / "node" / "node_modules" / "@microsoft" / "sarif-multitool-linux"
MULTITOOL = NODE / "Sarif.Multitool"
SARIF_SCHEMA = NODE / "sarif-2.1.0.json"
FAKE_TOKEN = "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"
NOT_INSTALLED = (
    "run `npm ci --prefix tests/node` (scripts/test does) to install the SARIF multitool"
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tree with findings of several rules and severities, and awkward file names."""
    (tmp_path / ".npmrc").write_text(
        f"//registry.npmjs.org/:_authToken={FAKE_TOKEN}\n"
        "_authToken=${NPM_TOKEN}\n"
        "registry=http://registry.example.com/\n"
        "strict-ssl=false\n"
    )
    odd = tmp_path / "pack ages" / "ünï #1"
    odd.mkdir(parents=True)
    (odd / ".npmrc").write_text("//registry.npmjs.org/:_authToken=$NPM_TOKEN\n")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / ".npmrc").write_bytes(b"\0\1\2binary")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sarif_of(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = cli_main(["scan", "--format", "sarif", *args])
    return code, json.loads(capsys.readouterr().out)


def results(log: dict[str, Any]) -> list[dict[str, Any]]:
    return list(log["runs"][0]["results"])


def test_sarif_validates_against_the_official_schema(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jsonschema import Draft202012Validator

    assert SARIF_SCHEMA.is_file(), NOT_INSTALLED
    schema = json.loads(SARIF_SCHEMA.read_text("utf-8-sig"))
    _, log = sarif_of(["."], capsys)
    assert len(results(log)) >= 5
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(log)]
    assert errors == []


def test_the_schema_check_catches_a_broken_log() -> None:
    """The check above can fail: a log without `runs` is refused."""
    from jsonschema import Draft202012Validator

    schema = json.loads(SARIF_SCHEMA.read_text("utf-8-sig"))
    assert list(Draft202012Validator(schema).iter_errors({"version": "2.1.0"}))


def multitool_problems(sarif_path: Path, tmp_path: Path) -> list[tuple[str, str, str]]:
    """(level, rule id, message) of everything `Sarif.Multitool validate` reports."""
    assert MULTITOOL.is_file() and os.access(MULTITOOL, os.X_OK), NOT_INSTALLED
    out = tmp_path / "validation.sarif"
    proc = subprocess.run(
        [str(MULTITOOL), "validate", str(sarif_path), "-o", str(out), "--log", "ForceOverwrite"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        # Invariant globalization: the self-contained binary then needs no libicu.
        env={
            **os.environ,
            "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
            "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1",
        },
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = json.loads(out.read_text("utf-8-sig"))
    run = log["runs"][0]
    rules = run["tool"]["driver"].get("rules", [])
    problems = []
    for result in run.get("results", []):
        rule = rules[result["ruleIndex"]] if "ruleIndex" in result else {}
        level = result.get("level") or rule.get("defaultConfiguration", {}).get("level", "warning")
        message = result["message"].get("text") or " ".join(result["message"].get("arguments", []))
        problems.append((level, result["ruleId"], message))
    return problems


@pytest.mark.slow
def test_sarif_passes_the_multitool_without_errors_or_warnings(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, log = sarif_of(["."], capsys)
    path = tmp_path / "npm-guard.sarif"
    path.write_text(json.dumps(log), "utf-8")
    problems = multitool_problems(path, tmp_path)
    assert [p for p in problems if p[0] in ("error", "warning")] == []


@pytest.mark.slow
def test_sarif_with_no_findings_passes_the_multitool(tmp_path: Path) -> None:
    from npm_guard.report.sarif import render_sarif

    path = tmp_path / "empty.sarif"
    path.write_text(render_sarif([]), "utf-8")
    assert [p for p in multitool_problems(path, tmp_path) if p[0] != "note"] == []


@pytest.mark.slow
def test_the_multitool_check_catches_a_broken_log(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check above can fail: a region on line 0 and a dangling ruleIndex are errors."""
    _, log = sarif_of(["."], capsys)
    first = results(log)[0]
    first["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    first["ruleIndex"] = 10_000
    path = tmp_path / "broken.sarif"
    path.write_text(json.dumps(log), "utf-8")
    errors = {rule for level, rule, _ in multitool_problems(path, tmp_path) if level == "error"}
    assert {"JSON1008", "SARIF1009"} <= errors


def test_rules_carry_help_text_help_uri_and_levels(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, log = sarif_of(["."], capsys)
    driver = log["runs"][0]["tool"]["driver"]
    descriptors = {rule["id"]: rule for rule in driver["rules"]}
    assert set(all_rules()) <= set(descriptors)
    for rule_id, rule in all_rules().items():
        descriptor = descriptors[rule_id]
        assert descriptor["helpUri"] == rule.docs_url
        assert descriptor["helpUri"].endswith(f"docs/rules.md#{rule_id}")
        assert rule.tip.rstrip(".") in descriptor["help"]["text"]
        assert descriptor["help"]["markdown"]
        assert descriptor["defaultConfiguration"]["level"] == rule.severity.value
        assert descriptor["fullDescription"]["text"].endswith(".")
    for result in results(log):
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_severity_maps_to_level(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, log = sarif_of(["."], capsys)
    levels = {(r["ruleId"], r["level"]) for r in results(log)}
    assert ("npmrc-plaintext-credential", "error") in levels
    assert ("npmrc-insecure-registry", "warning") in levels  # strict-ssl=false
    (repo / ".npm-guard.yml").write_text("version: 1\nrules: {npmrc-plaintext-credential: note}\n")
    _, log = sarif_of(["."], capsys)
    assert {r["level"] for r in results(log) if r["ruleId"] == "npmrc-plaintext-credential"} == {
        "note"
    }


def test_uris_are_relative_to_srcroot_and_percent_encoded(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, log = sarif_of(["."], capsys)
    run = log["runs"][0]
    assert SRCROOT in run["originalUriBaseIds"]
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in results(log)]
    assert all(loc["uriBaseId"] == SRCROOT for loc in locations)
    uris = {loc["uri"] for loc in locations}
    assert ".npmrc" in uris
    assert "pack%20ages/%C3%BCn%C3%AF%20%231/.npmrc" in uris
    assert not any(uri.startswith(("/", "file:")) for uri in uris)


def test_no_credential_in_the_sarif(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli_main(["scan", "--format", "sarif", "."])
    out = capsys.readouterr().out
    assert FAKE_TOKEN not in out
    assert "npm_UEui" in out  # shown the way `npm token list` shows it


def test_partial_fingerprints_survive_edits_above_the_finding(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def fingerprints() -> dict[tuple[str, str], tuple[str, int]]:
        _, log = sarif_of([".npmrc"], capsys)
        out = {}
        for result in results(log):
            region = result["locations"][0]["physicalLocation"]["region"]
            key = (result["ruleId"], result["message"]["text"])
            out[key] = (result["partialFingerprints"][FINGERPRINT_NAME], region["startLine"])
        return out

    before = fingerprints()
    original = (repo / ".npmrc").read_text()
    (repo / ".npmrc").write_text("; a comment\n\n# and another\nfund=false\n" + original)
    after = fingerprints()
    assert before.keys() == after.keys()
    for key, (fingerprint, line) in before.items():
        assert after[key] == (fingerprint, line + 4)
    assert len({fp for fp, _ in before.values()}) == len(before)


def test_sarif_exits_0_unless_fail_on_is_given(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sarif_of(["."], capsys)[0] == 0
    assert sarif_of(["--fail-on", "error", "."], capsys)[0] == 1
    (repo / "clean").mkdir()
    assert sarif_of(["--fail-on", "note", "clean"], capsys)[0] == 0
