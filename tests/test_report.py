"""Reports: JSON against its shipped schema, SARIF against the official 2.1.0 schema,
fingerprints that survive edits above a finding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from npmrc_samples import EVERY_CREDENTIAL_NPMRC, NPM_TOKEN, Runner, make_runner, write

from npm_guard import cli
from npm_guard.findings import Finding, Location, number_occurrences
from npm_guard.rules import all_rules
from npm_guard.scan import scan_paths

ROOT = Path(__file__).resolve().parent.parent
REPORT_SCHEMA = ROOT / "npm_guard" / "schemas" / "report.schema.json"
SARIF_SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0-rtm.5.json"
FIXTURES = Path(__file__).parent / "fixtures" / "npmrc"

MIXED = (
    EVERY_CREDENTIAL_NPMRC
    + "//a.example/:_authToken=$NPM_TOKEN\n"
    + "_authToken=${NPM_TOKEN}\n"
    + "registry=http://npm.corp.example/\n"
    + "strict-ssl=false\n"
)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Runner:
    return make_runner(cli.main, capsys)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".npmrc", MIXED)
    write(tmp_path / "pkg" / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    write(tmp_path / "bin" / ".npmrc", b"\x00\x01binary")
    return tmp_path


def _validator(path: Path) -> jsonschema.protocols.Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_json_report_matches_its_schema(run: Runner, project: Path) -> None:
    code, out, _ = run("scan", "--format", "json", "--fail-on", "note")
    assert code == 1
    report = json.loads(out)
    assert _errors(_validator(REPORT_SCHEMA), report) == []
    rules = {f["rule"] for f in report["findings"]}
    assert rules == {
        "npmrc-plaintext-credential",
        "npmrc-unexpanded-variable",
        "npmrc-unscoped-credential",
        "npmrc-insecure-registry",
        "parse-error",
    }
    assert report["summary"]["filesScanned"] == 3
    assert report["summary"]["findings"] == len(report["findings"])
    assert sum(report["summary"]["bySeverity"].values()) == len(report["findings"])


def test_json_report_of_no_findings_matches_its_schema(run: Runner, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, _ = run("scan", "--format", "json", str(empty))
    assert code == 0
    report = json.loads(out)
    assert _errors(_validator(REPORT_SCHEMA), report) == []
    assert report["findings"] == [] and report["summary"]["filesScanned"] == 0


def test_json_schema_rejects_a_broken_report(run: Runner, project: Path) -> None:
    """The schema is strict enough to catch a reporter regression."""
    _, out, _ = run("scan", "--format", "json")
    report = json.loads(out)
    report["findings"][0]["location"]["line"] = 0
    report["findings"][0]["surprise"] = True
    report["version"] = 2
    assert len(_errors(_validator(REPORT_SCHEMA), report)) == 3


def test_sarif_matches_the_official_schema(run: Runner, project: Path) -> None:
    code, out, _ = run("scan", "--format", "sarif")
    assert code == 0
    log = json.loads(out)
    assert _errors(_validator(SARIF_SCHEMA), log) == []
    assert log["version"] == "2.1.0"
    (run_,) = log["runs"]
    descriptors = run_["tool"]["driver"]["rules"]
    assert [d["id"] for d in descriptors][: len(all_rules())] == list(all_rules())
    for result in run_["results"]:
        assert descriptors[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert location["region"]["startLine"] >= 1
        assert result["level"] in ("error", "warning", "note")
        assert len(result["partialFingerprints"]["npmGuardFingerprint/v1"]) == 32


def test_sarif_of_every_fixture_matches_the_official_schema(
    run: Runner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(FIXTURES)
    files = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("*/*.npmrc"))
    # Not this repository's own policy, which ignores its fixtures.
    no_ignores = tmp_path / "policy.yml"
    no_ignores.write_text("version: 1\n")
    code, out, _ = run("scan", "--format", "sarif", "--policy", str(no_ignores), *files)
    assert code == 0
    log = json.loads(out)
    assert _errors(_validator(SARIF_SCHEMA), log) == []
    assert len(log["runs"][0]["results"]) > 50


def test_sarif_schema_rejects_a_broken_log(run: Runner, project: Path) -> None:
    _, out, _ = run("scan", "--format", "sarif")
    log = json.loads(out)
    log["runs"][0]["results"][0]["level"] = "fatal"
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert len(_errors(_validator(SARIF_SCHEMA), log)) >= 2


def test_sarif_absolute_path_is_a_file_uri(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = write(tmp_path / "elsewhere dir" / ".npmrc", "strict-ssl=false\n")
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    _, out, _ = run("scan", "--format", "sarif", str(outside))
    log = json.loads(out)
    assert _errors(_validator(SARIF_SCHEMA), log) == []
    (result,) = log["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///") and uri.endswith("/elsewhere%20dir/.npmrc")


def _fingerprints(root: Path) -> dict[tuple[str, str], tuple[str, int]]:
    result = scan_paths([str(root)], root=str(root))
    by_key: dict[tuple[str, str], tuple[str, int]] = {}
    for finding in number_occurrences(result.findings):
        by_key[(finding.rule.id, finding.message)] = (finding.fingerprint, finding.location.line)
    return by_key


def test_fingerprints_survive_lines_inserted_above(tmp_path: Path) -> None:
    npmrc = write(tmp_path / ".npmrc", MIXED)
    before = _fingerprints(tmp_path)
    write(npmrc, "# a new comment\n\nsave-exact=true\n" + MIXED)
    after = _fingerprints(tmp_path)
    assert before.keys() == after.keys()
    assert len(before) >= 10
    for key, (fingerprint, line) in before.items():
        assert after[key] == (fingerprint, line + 3), key


def test_fingerprints_tell_findings_apart(tmp_path: Path) -> None:
    write(tmp_path / ".npmrc", MIXED)
    fingerprints = [f for f, _ in _fingerprints(tmp_path).values()]
    assert len(set(fingerprints)) == len(fingerprints)


def test_fingerprint_changes_with_the_secret_and_the_file(tmp_path: Path) -> None:
    from npmrc_samples import NPM_TOKEN_2

    write(tmp_path / "a" / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    write(tmp_path / "b" / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    write(tmp_path / "c" / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN_2}\n")
    result = scan_paths([str(tmp_path)], root=str(tmp_path))
    assert len({f.fingerprint for f in result.findings}) == 3


# The same token in two comments and the same key on two lines: four findings, each
# with a rule, path and key it shares with another one.
REPEATS = (
    f"# old: {NPM_TOKEN}\n"
    f"# older: {NPM_TOKEN}\n"
    f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
    f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
)


def _report_fingerprints(run: Runner, fmt: str) -> list[tuple[int, str]]:
    """(line, fingerprint) of every finding in a JSON or SARIF report of the cwd."""
    _, out, _ = run("scan", "--format", fmt, ".")
    if fmt == "json":
        return [(f["location"]["line"], f["fingerprint"]) for f in json.loads(out)["findings"]]
    return [
        (
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["partialFingerprints"]["npmGuardFingerprint/v1"],
        )
        for r in json.loads(out)["runs"][0]["results"]
    ]


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_repeated_findings_get_distinct_fingerprints(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.chdir(tmp_path)
    npmrc = write(tmp_path / ".npmrc", REPEATS)
    before = _report_fingerprints(run, fmt)
    assert [line for line, _ in before] == [1, 2, 3, 4]
    assert len({fingerprint for _, fingerprint in before}) == 4
    write(npmrc, "# a comment\n\nsave-exact=true\n" + REPEATS)
    after = _report_fingerprints(run, fmt)
    assert after == [(line + 3, fingerprint) for line, fingerprint in before]


def test_json_and_sarif_fingerprints_are_the_same(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / ".npmrc", REPEATS + "registry=http://npm.corp.example/\n")
    assert _report_fingerprints(run, "json") == _report_fingerprints(run, "sarif")


def test_a_single_finding_keeps_its_fingerprint(tmp_path: Path) -> None:
    """Counting occurrences does not change the fingerprint of a finding that has no twin."""
    write(tmp_path / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    (finding,) = scan_paths([str(tmp_path)], root=str(tmp_path)).findings
    (numbered,) = number_occurrences([finding])
    assert numbered.fingerprint == finding.fingerprint
    assert numbered.occurrence == 1


def test_occurrences_count_in_file_order_whatever_the_list_order() -> None:
    """Workflow and online findings are numbered the same way as .npmrc ones."""
    from npm_guard.rules import audit_incomplete, workflow_plaintext_credential

    workflow_rule, online_rule = workflow_plaintext_credential.RULE, audit_incomplete.RULE
    later = Finding(workflow_rule, Location("w.yml", 9), "m", "job / step 1/text:abcd")
    earlier = Finding(workflow_rule, Location("w.yml", 4), "m", "job / step 1/text:abcd")
    gaps = [Finding(online_rule, Location("a"), "m", "token T / incomplete") for _ in range(2)]
    numbered = number_occurrences([later, earlier, *gaps])
    assert [f.occurrence for f in numbered] == [2, 1, 1, 2]
    assert len({f.fingerprint for f in numbered}) == 4
    assert numbered[1].fingerprint == earlier.fingerprint
