"""A large scan on worker processes gives exactly what one process gives.

The tree is generated here: repositories with `.npmrc` files and workflows holding
tokens (valid and bad checksums), ignore comments, invalid YAML, a binary file, invalid
UTF-8 and a directory named `.npmrc`, so that findings, suppressed findings and parse
errors all have to come back from the workers, in order.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from npmrc_samples import make_token

from npm_guard import scan as scanner
from npm_guard import scan_pool
from npm_guard.cli import main
from npm_guard.findings import Finding
from npm_guard.scan import ScanResult, scan_paths

REPOSITORIES = 60  # 8 files each: 480 candidate files, above PARALLEL_THRESHOLD


def write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def make_tree(root: Path, repositories: int = REPOSITORIES) -> Path:
    for number in range(repositories):
        repo = root / f"repo-{number:03d}"
        token = make_token("npm_", 1000 + number)
        github = make_token("ghp_", 2000 + number)
        write(repo / "package.json", '{"name": "x", "scripts": {"release": "npm publish"}}\n')
        write(repo / "README.md", "not read\n")
        write(repo / ".npmrc", f"//registry.npmjs.org/:_authToken={token}\nstrict-ssl=false\n")
        write(
            repo / "packages" / "a" / ".npmrc",
            "# npm-guard: ignore-next-line[npmrc-plaintext-credential] fixture\n"
            f"//registry.npmjs.org/:_authToken={token}\n_authToken=$NPM_TOKEN\n",
        )
        write(
            repo / ".github" / "workflows" / "release.yml",
            "on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    env:\n"
            "      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}\n    steps:\n"
            "      - run: npm ci\n      - run: npm publish\n"
            f"      - run: echo {github}  # npm-guard: ignore[workflow-plaintext-credential] t\n",
        )
        write(
            repo / ".github" / "workflows" / "ci.yml",
            "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - run: go test\n        env:\n          KEY: {github}\n",
        )
        kind = number % 4
        broken = repo / ".github" / "workflows" / "broken.yml"
        if kind == 0:
            write(broken, f"on: [push\njobs: {token}\n")  # invalid YAML, a token in it
        elif kind == 1:
            write(broken, b"on: push\n\0\0binary " + token.encode() + b"\n")
        elif kind == 2:
            write(broken, b"on: push\nname: \xff\xfe bad\njobs: {}\n")
        else:
            (repo / "sub" / ".npmrc").mkdir(parents=True)  # a directory: parse-error
            write(broken, "on: push\njobs: {}\n")
        write(repo / "action.yml", "runs:\n  using: composite\n  steps:\n    - run: npm whoami\n")
    return root


def comparable(result: ScanResult) -> tuple[object, ...]:
    return (
        [_finding(f) for f in result.findings],
        [(_finding(s.finding), s.kind, s.justification) for s in result.suppressed],
        result.files_scanned,
        result.notices,
    )


def _finding(finding: Finding) -> tuple[object, ...]:
    return (finding.rule.id, finding.location, finding.message, finding.key, finding.occurrence)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tree(tmp_path_factory.mktemp("pool"))


@pytest.fixture(scope="module")
def serial(tree: Path) -> ScanResult:
    return scan_paths([str(tree)], root=str(tree), jobs=1)


def test_the_tree_has_every_kind_of_result(serial: ScanResult) -> None:
    rules = {f.rule.id for f in serial.findings}
    assert {"npmrc-plaintext-credential", "workflow-plaintext-credential", "parse-error"} <= rules
    assert "workflow-publish-with-long-lived-token" in rules
    assert len(serial.suppressed) == 2 * REPOSITORIES
    assert serial.files_scanned >= scan_pool.PARALLEL_THRESHOLD


@pytest.mark.parametrize("jobs", [2, 3, 0, None])
def test_workers_find_what_one_process_finds(
    tree: Path, serial: ScanResult, jobs: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[int] = []
    parallel = scan_pool.analyse_parallel

    def spy(*args: object, **kwargs: object) -> object:
        used.append(int(kwargs["workers"]))  # type: ignore[call-overload]
        return parallel(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scan_pool, "analyse_parallel", spy)
    monkeypatch.setattr(scan_pool, "available_cores", lambda: 2)
    result = scan_paths([str(tree)], root=str(tree), jobs=jobs)
    assert used == [jobs or 2]  # really on workers, however many were asked for
    assert comparable(result) == comparable(serial)


def test_the_report_is_byte_for_byte_the_same(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = []
    for jobs in ("1", "2"):
        out = tmp_path / f"report-{jobs}.json"
        assert main(["scan", "--jobs", jobs, "--format", "json", "-o", str(out), str(tree)]) == 1
        reports.append(out.read_bytes())
    assert reports[0] == reports[1]
    assert json.loads(reports[0])["findings"]


def test_a_small_scan_stays_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path, repositories=3)

    def no_workers(*args: object, **kwargs: object) -> None:
        raise AssertionError("a small scan started workers")

    monkeypatch.setattr(scan_pool, "analyse_parallel", no_workers)
    assert scan_paths([str(tmp_path)], root=str(tmp_path)).findings


def test_worker_count() -> None:
    threshold = scan_pool.PARALLEL_THRESHOLD
    assert scan_pool.worker_count(None, threshold - 1) == 1
    assert scan_pool.worker_count(None, threshold) == scan_pool.available_cores()
    assert scan_pool.worker_count(1, 10_000) == 1
    assert scan_pool.worker_count(4, 3) == 3  # never more workers than files
    assert scan_pool.worker_count(4, 10) == 4  # asked for explicitly: even when small
    assert scan_pool.worker_count(0, 10) == min(10, scan_pool.available_cores())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the crash is injected through fork")
def test_a_worker_that_dies_loses_no_file(
    tree: Path, serial: ScanResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed while reading one file: that file is a parse-error naming what
    happened, and every other file's findings are still there, in order."""
    victim = "repo-007/.github/workflows/release.yml"
    scan_target = scanner.scan_target

    def dies_on_victim(target: scanner.Target, **kwargs: object) -> list[Finding]:
        if target.display == victim and os.getpid() != parent:
            os._exit(1)  # as the kernel's OOM killer would: no exception, no cleanup
        return scan_target(target, **kwargs)  # type: ignore[arg-type]

    parent = os.getpid()
    monkeypatch.setattr(scanner, "scan_target", dies_on_victim)
    result = scan_paths([str(tree)], root=str(tree), jobs=2)

    lost = [f for f in result.findings if f.location.path == victim]
    assert [f.rule.id for f in lost] == ["parse-error"]
    assert lost[0].message.endswith(scan_pool.WORKER_STOPPED)
    expected = [f for f in serial.findings if f.location.path != victim]
    assert [_finding(f) for f in result.findings if f.location.path != victim] == [
        _finding(f) for f in expected
    ]
    victim_silenced = [s for s in serial.suppressed if s.finding.location.path == victim]
    assert len(victim_silenced) == 1
    assert [_finding(s.finding) for s in result.suppressed] == [
        _finding(s.finding) for s in serial.suppressed if s not in victim_silenced
    ]


def test_jobs_must_be_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", "--jobs", "-1", "."])
    assert exit_info.value.code == 2
    assert "not a number of processes" in capsys.readouterr().err


def test_a_hook_never_imports_the_pool(tmp_path: Path) -> None:
    import subprocess

    write(tmp_path / ".npmrc", "_authToken=$NPM_TOKEN\n")
    code = (
        "import sys\n"
        "from npm_guard.hooks.npmrc_credentials import main\n"
        "main(['.npmrc'])\n"
        "print('npm_guard.scan_pool' in sys.modules, 'concurrent.futures' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.stdout.splitlines()[-1].split() == ["False", "False"], proc.stderr
