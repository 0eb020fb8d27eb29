"""A short, time-bounded fuzz run of the parsers, and every crash it ever found, replayed.

The run is atheris (libFuzzer) in a subprocess for `FUZZ_SECONDS`, starting from the
seed corpus; a crash fails the test and names the file to keep under `crashes/`.
Longer runs: `python tests/fuzz/fuzz_parsers.py -max_total_time=600 tests/fuzz/corpus`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .targets import PARSERS, one_input

HERE = Path(__file__).resolve().parent
CRASHES = sorted((HERE / "crashes").iterdir())
FUZZ_SECONDS = 20


@pytest.mark.parametrize("crash", CRASHES, ids=[p.name for p in CRASHES])
def test_saved_crash_no_longer_crashes(crash: Path) -> None:
    one_input(crash.read_bytes())


def test_every_parser_has_a_seed() -> None:
    seeds = [p.read_bytes() for p in (HERE / "corpus").iterdir()]
    assert {PARSERS[seed[0] % len(PARSERS)] for seed in seeds if seed} == set(PARSERS)


@pytest.mark.slow
def test_short_fuzz_run_finds_no_crash(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(HERE / "corpus", corpus)
    proc = subprocess.run(
        [
            sys.executable,
            str(HERE / "fuzz_parsers.py"),
            f"-max_total_time={FUZZ_SECONDS}",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-max_len=4096",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=FUZZ_SECONDS + 120,
        check=False,
    )
    found = sorted(
        p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-"))
    )
    tail = "\n".join(proc.stderr.splitlines()[-30:])
    assert proc.returncode == 0 and not found, (
        f"the fuzzer found {found}: copy them to tests/fuzz/crashes/ and fix\n{tail}"
    )
    assert "Done" in proc.stderr and "runs in" in proc.stderr, tail
