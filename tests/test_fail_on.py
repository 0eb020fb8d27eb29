"""`--fail-on` sets the exit-1 threshold for every format; SARIF alone defaults to 0."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from npm_guard.cli import main as cli_main
from npm_guard.hooks.npmrc_credentials import main as hook_main

FORMATS = ("text", "json", "sarif", "github")
THRESHOLDS = (None, "error", "warning", "note")
WORST = ("off", "note", "warning", "error")  # the one finding's severity, set by policy
RANK = {"off": 0, "note": 1, "warning": 2, "error": 3}


def expected_exit(fmt: str, threshold: str | None, worst: str) -> int:
    if threshold is None:
        if fmt == "sarif":
            return 0
        threshold = "error"
    return 1 if worst != "off" and RANK[worst] >= RANK[threshold] else 0


@pytest.mark.parametrize(
    ("fmt", "threshold", "worst"), list(itertools.product(FORMATS, THRESHOLDS, WORST))
)
def test_fail_on_matrix(
    fmt: str,
    threshold: str | None,
    worst: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / ".npmrc").write_text("strict-ssl=false\n")
    (tmp_path / ".npm-guard.yml").write_text(
        f"version: 1\nrules:\n  npmrc-insecure-registry: {worst}\n"
    )
    monkeypatch.chdir(tmp_path)
    args = ["--format", fmt, *(["--fail-on", threshold] if threshold else [])]
    want = expected_exit(fmt, threshold, worst)
    assert cli_main(["scan", *args, "."]) == want
    outputs = [capsys.readouterr().out]
    assert hook_main([*args, ".npmrc"]) == want
    outputs.append(capsys.readouterr().out)
    for out in outputs:
        assert reported(fmt, out) is (worst != "off")


def reported(fmt: str, out: str) -> bool:
    """Whether the finding is in the report as a live one. A rule turned off leaves a
    suppressed trace in JSON and SARIF (tests/test_suppressed.py), which is not one."""
    import json

    if fmt == "json":
        report = json.loads(out)
        silenced = [s["finding"]["rule"] for s in report["suppressed"]]
        live = [f["rule"] for f in report["findings"]]
        assert sorted(live + silenced) == ["npmrc-insecure-registry"]
        return bool(live)
    if fmt == "sarif":
        (result,) = json.loads(out)["runs"][0]["results"]
        assert result["ruleId"] == "npmrc-insecure-registry"
        return "suppressions" not in result
    return "insecure-registry" in out


def test_fail_on_rejects_unknown_severities(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        cli_main(["scan", "--fail-on", "critical", "."])
    assert raised.value.code == 2
    assert "invalid choice: 'critical'" in capsys.readouterr().err
