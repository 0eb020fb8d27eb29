"""The benchmark scripts keep working: a tiny generated tree and a smoke run of bench/run.py.

The benchmark itself (peers, 100k-file trees) is not part of the suite; this only makes
sure the scripts do not rot, and that the generator's manifest tells the truth.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def bench_run() -> ModuleType:
    """bench/run.py as a module (it imports bench/generate.py from beside itself)."""
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


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


@pytest.mark.parametrize(("files", "share"), [(1000, 0.2), (1000, 0.05), (1000, 0.01), (499, 0.5)])
def test_npm_share_fixes_the_count_of_npmrc_and_workflow_files(
    tmp_path: Path, files: int, share: float
) -> None:
    """--npm-share S: S x N of the files are npm files, half .npmrc, half workflow/action."""
    out = tmp_path / "tree"
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "generate.py"),
            "--files",
            str(files),
            "--npm-share",
            str(share),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    manifest = json.loads((tmp_path / "tree.manifest.json").read_text())
    npmrc = workflows = 0
    for current, _, names in os.walk(out):
        for name in names:
            relative = os.path.relpath(os.path.join(current, name), out).replace(os.sep, "/")
            if name == ".npmrc":
                npmrc += 1
            elif "/.github/workflows/" in relative or name == "action.yml":
                workflows += 1
    assert manifest["files"] == files
    assert manifest["npm_share"] == share
    assert manifest["npm_files"] == npmrc + workflows
    assert abs(npmrc - files * share / 2) <= 1, (npmrc, files * share / 2)
    assert abs(workflows - files * share / 2) <= 1, (workflows, files * share / 2)
    # Workflows come in the same mix at every share, publishing ones included.
    if workflows >= 20:
        assert manifest["file_kinds"]["action"] >= workflows // 10
        kinds = {c["kind"].split("-")[0] for c in manifest["credentials"]}
        assert {"npmrc", "workflow"} <= kinds


def test_npm_share_out_of_range_is_refused(tmp_path: Path) -> None:
    for share in ("0", "0.6", "-0.1"):
        proc = subprocess.run(
            [
                sys.executable,
                str(BENCH / "generate.py"),
                "--files",
                "100",
                "--npm-share",
                share,
                "--out",
                str(tmp_path / "tree"),
            ],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2, (share, proc.stderr)
        assert "--npm-share must be above 0 and at most 0.5" in proc.stderr
        assert not (tmp_path / "tree").exists()


def test_peer_reports_are_read_as_file_and_line(tmp_path: Path) -> None:
    """betterleaks' and Kingfisher's JSON reports (shapes of betterleaks 2.0.0-rc.4 and
    Kingfisher 2.14.0), without the peers installed; an unreadable report is a failure."""
    run = bench_run()
    betterleaks = tmp_path / "betterleaks.json"
    betterleaks.write_text(
        json.dumps(
            {
                "schema_version": "1",
                "findings": [
                    {
                        "rule_id": "npm-access-token",
                        "location": {"path": "./repo-1/.npmrc", "start_line": 4, "end_line": 4},
                    },
                    {
                        "rule_id": "generic-api-key",
                        "location": {"path": "./repo-1/.npmrc", "start_line": 4, "end_line": 4},
                    },
                ],
                "scan": {"state": "complete", "bytes_scanned": 1234},
            }
        )
    )
    assert run.findings_of("betterleaks", str(betterleaks), str(tmp_path)) == {
        ("repo-1/.npmrc", 4): {"npm-access-token", "generic-api-key"}
    }
    assert run.bytes_read("betterleaks", str(betterleaks)) == (None, 1234)
    kingfisher = tmp_path / "kingfisher.json"
    report = {
        "findings": [
            {
                "rule": {"id": "veles.secrets/npmjsaccesstoken"},
                "finding": {"path": "./repo-2/src/a.js", "line": 9},
            }
        ],
        "metadata": {"summary": {"blobs_scanned": 3, "bytes_scanned": 99}},
    }
    # Without --quiet Kingfisher prints a summary document after the report.
    kingfisher.write_text(json.dumps(report) + "\n" + json.dumps({"findings": 1}) + "\n")
    assert run.findings_of("kingfisher", str(kingfisher), str(tmp_path)) == {
        ("repo-2/src/a.js", 9): {"veles.secrets/npmjsaccesstoken"}
    }
    assert run.bytes_read("kingfisher", str(kingfisher)) == (3, 99)
    broken = tmp_path / "broken.json"
    broken.write_text("panic: runtime error\n")
    for tool in ("betterleaks", "kingfisher", "npm-guard", "detect-secrets", "secretlint"):
        assert run.findings_of(tool, str(broken), str(tmp_path)) is None
    assert run.findings_of("kingfisher", str(betterleaks), str(tmp_path)) is None


def test_ratio_is_the_median_of_per_round_ratios() -> None:
    """Rounds interleave the tools: a slow round slows both sides of its own ratio."""
    run = bench_run()

    def series(*walls: float) -> object:
        return run.Series([run.Measurement(wall, 0, 0) for wall in walls])

    # Round 2 ran while the machine was busy: both tools took twice as long.
    assert run.ratio(series(1.0, 4.0, 1.1), series(2.0, 8.0, 2.0)) == pytest.approx(0.5)
    # Different run counts (detect-secrets runs once): the ratio of the medians.
    assert run.ratio(series(1.0, 3.0, 2.0), series(8.0)) == pytest.approx(0.25)


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
    assert "### Recall and false positives (50-file trees)" in report
    # Every share of npm files is measured, with the machine and load in the header.
    for share in ("1%", "5%", "20%"):
        assert f"#### {share} of the files are `.npmrc` and workflow/action files" in report
        assert f"| {share} | npm-guard |" in report
    assert "Machine: " in report and " cores (" in report and "Node.js " in report
    # The version line names the commit npm-guard says it was built from.
    version = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "npm-guard"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert f"Tools: {version}." in report
    assert "Load average (1, 5, 15 min) at the start: " in report
    assert "Growth with N (time per 1,000 files, ms" in report
    assert "Peak memory (MB) as the tree grows:" in report
    # npm-guard's worker counts: measured when the CLI has --jobs, otherwise said so.
    if (
        "--jobs"
        in subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "npm-guard"), "scan", "--help"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    ):
        assert "| 50 | npm-guard --jobs 1 |" in report
    else:
        assert "npm-guard has no --jobs yet" in report
        assert "npm-guard --jobs" not in report


def test_run_passes_jobs_to_an_npm_guard_that_has_it(tmp_path: Path) -> None:
    """The --jobs plumbing, ahead of npm-guard's worker pool: a stand-in npm-guard whose
    help lists --jobs (and which records it, then scans as usual) gets 1, 2 and every core."""
    real = Path(sys.executable).parent
    shims = tmp_path / "bin"
    shims.mkdir()
    calls = tmp_path / "jobs.log"
    for name in ("python", "npmrc-credentials", "workflow-npm-credentials", "npm-guard-policy"):
        (shims / name).write_text(f'#!/bin/sh\nexec "{real / name}" "$@"\n')
    (shims / "npm-guard").write_text(
        "#!/bin/sh\n"
        'if [ "$1 $2" = "scan --help" ]; then\n'
        f'  "{real / "npm-guard"}" scan --help; echo "  --jobs N  worker processes"; exit 0\n'
        "fi\n"
        "args=\n"
        'for a in "$@"; do\n'
        '  if [ "$skip" = 1 ]; then echo "$a" >> "' + str(calls) + '"; skip=; continue; fi\n'
        '  if [ "$a" = --jobs ]; then skip=1; continue; fi\n'
        '  args="$args $a"\n'
        "done\n"
        f'exec "{real / "npm-guard"}" $args\n'
    )
    for shim in shims.iterdir():
        shim.chmod(0o755)
    output = tmp_path / "latest.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--smoke",
            "--npm-shares",
            "0.2",
            "--bin-dir",
            str(shims),
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
    cores = os.cpu_count()
    # 1, 2 and every core, each once (on a 2-core machine "2" is "all").
    assert sorted(calls.read_text().split(), key=int) == [str(n) for n in sorted({1, 2, cores})]
    assert "npm-guard has no --jobs yet" not in report
    assert f"| 50 | npm-guard --jobs {cores} (all) |" in report
    assert "| 50 | npm-guard --jobs 1 |" in report
    assert "| 50 | npm-guard --jobs 1 |" in report.split("### npm-guard with 1, 2 and all")[1]


def test_real_repository_evaluation_counts_labels_and_publish_steps(tmp_path: Path) -> None:
    """bench/realrepos/evaluate.py on a corpus of one repository written here: a labelled
    TP, a labelled FP, and a token-based publish step found or missed."""
    spec = importlib.util.spec_from_file_location("evaluate", BENCH / "realrepos" / "evaluate.py")
    assert spec is not None and spec.loader is not None
    evaluate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(evaluate)
    clone = tmp_path / "corpus" / "acme+widget"
    workflow = clone / ".github" / "workflows" / "release.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: push\n"
        "jobs:\n"
        "  release:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/setup-node@v4\n"
        "        with:\n"
        "          registry-url: https://registry.npmjs.org\n"
        "      - run: npm publish\n"
        "        env:\n"
        "          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n",
        "utf-8",
    )
    npm_guard = str(Path(sys.executable).parent / "npm-guard")
    findings = evaluate.scan(npm_guard, clone)
    (publish,) = [f for f in findings if f["rule"] == "workflow-publish-with-long-lived-token"]
    line = publish["location"]["line"]
    corpus = [{"repo": "acme/widget"}, {"repo": "acme/absent"}]
    step = {
        "file": ".github/workflows/release.yml",
        "step_line": 9,
        "command_line": 9,
        "registry": "npmjs",
        "auth": "token",
        "via": "direct",
    }
    for verdict, expected_tp, expected_fp in (("TP", 1, 0), ("FP", 0, 1)):
        labels = {
            "acme/widget": {
                "publish_steps": [step],
                "findings": [
                    {
                        "rule": "workflow-publish-with-long-lived-token",
                        "file": ".github/workflows/release.yml",
                        "line": line,
                        "label": verdict,
                        "reason": "test",
                    }
                ],
            }
        }
        result = evaluate.evaluate(corpus, labels, tmp_path / "corpus", npm_guard)
        assert (result["tp"], result["fp"]) == (expected_tp, expected_fp)
        assert result["absent"] == ["acme/absent"]
        assert (result["token_publish_steps"], result["token_publish_steps_found"]) == (1, 1)
    # The same step said to be elsewhere in the file: not found, and listed as missed.
    labels["acme/widget"]["publish_steps"] = [{**step, "step_line": 6, "command_line": 6}]
    result = evaluate.evaluate(corpus, labels, tmp_path / "corpus", npm_guard)
    assert result["token_publish_steps_found"] == 0
    assert [m["line"] for m in result["missed_publish_steps"]] == [6]
    assert "Missed token-based publish steps" in evaluate.render(result)


def test_real_repository_evaluation_follows_a_step_into_its_composite_action() -> None:
    spec = importlib.util.spec_from_file_location("evaluate", BENCH / "realrepos" / "evaluate.py")
    assert spec is not None and spec.loader is not None
    evaluate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(evaluate)
    places = evaluate.via_files({"via": "composite action ./.github/actions/publish (line 3)"})
    assert ".github/actions/publish/action.yml" in places
    assert evaluate.via_files({"via": "reusable workflow .github/workflows/r.yml"}) == {
        ".github/workflows/r.yml"
    }
