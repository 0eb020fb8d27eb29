"""The benchmark scripts keep working: a tiny generated tree and a smoke run of bench/run.py.

The benchmark itself (peers, 100k-file trees) is not part of the suite; this only makes
sure the scripts do not rot, and that the generator's manifest tells the truth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def test_generator_manifest_points_at_every_planted_credential(tmp_path: Path) -> None:
    out = tmp_path / "tree"
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "generate.py"),
            "--files",
            "300",
            "--seed",
            "7",
            "--out",
            str(out),
            "--credential-share",
            "1",
            "--source-share",
            "0.05",
        ],
        check=True,
        capture_output=True,
    )
    manifest = json.loads((tmp_path / "tree.manifest.json").read_text())
    written = sum(len(files) for _, _, files in os.walk(out))
    assert manifest["files"] == written == 300
    credentials = manifest["credentials"]
    kinds = {c["kind"] for c in credentials}
    assert {"npmrc-npm-token", "source-npm-token"} <= kinds
    assert any(k.startswith("workflow-") for k in kinds)
    for credential in credentials:
        line = (out / credential["path"]).read_text().splitlines()[credential["line"] - 1]
        assert any(marker in line for marker in ("npm_", "ghp_", "_auth", "_password", "-4")), (
            credential,
            line,
        )
        assert "${" not in line


def test_credential_share_is_a_quota_not_a_coin_toss(tmp_path: Path) -> None:
    """Small trees get their share too: N eligible files hold N x share credentials (±1)."""
    for files, seed in ((200, 1), (200, 2), (1000, 3)):
        out = tmp_path / f"tree-{files}-{seed}"
        subprocess.run(
            [
                sys.executable,
                str(BENCH / "generate.py"),
                "--files",
                str(files),
                "--seed",
                str(seed),
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
        offered = manifest["files_offered_a_credential"]
        for scope, share in (("npm-config", 0.2), ("source", 0.005)):
            planted = [c for c in manifest["credentials"] if c["scope"] == scope]
            assert abs(len(planted) - offered[scope] * share) <= 1, (files, seed, scope)
        assert [c for c in manifest["credentials"] if c["scope"] == "npm-config"]


def test_run_smoke_mode_writes_the_table(tmp_path: Path) -> None:
    output = tmp_path / "latest.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--smoke",
            "--bin-dir",
            os.path.dirname(sys.executable),
            "--trees-dir",
            str(tmp_path / "trees"),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = output.read_text()
    assert report.strip() == proc.stdout.strip()
    assert "### Pre-commit latency" in report
    # Ten files per hook whatever the tree size (the 50-file tree has fewer of each).
    assert "| `npmrc-credentials (10 .npmrc)` |" in report
    assert "| `workflow-npm-credentials (10 workflows), with policy` |" in report
    for hook in ("npmrc-credentials (10 .npmrc)", "workflow-npm-credentials (10 workflows)"):
        assert f"- {hook}: " in report and f"- {hook}, with policy: " in report
    assert "- npm-guard-policy (.npm-guard.yml): " in report
    assert "| 50 | npm-guard |" in report
    assert "### Recall and false positives (50-file tree" in report
