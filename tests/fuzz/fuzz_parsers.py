"""Coverage-guided fuzzing of the parsers with atheris (libFuzzer).

    python tests/fuzz/fuzz_parsers.py -max_total_time=60 tests/fuzz/corpus

libFuzzer flags pass through. A crash is written as `crash-<sha1>` (see
`-artifact_prefix`); keep it under tests/fuzz/crashes/, where `test_fuzz.py` replays
every file on each test run.
"""

from __future__ import annotations

import os
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

with atheris.instrument_imports(include=["npm_guard"]):
    import targets

    import npm_guard.audit.table
    import npm_guard.console
    import npm_guard.npmrc
    import npm_guard.npmrc_scan
    import npm_guard.report.github
    import npm_guard.report.summary
    import npm_guard.workflow
    import npm_guard.workflow.shell
    import npm_guard.workflow.shell_bash
    import npm_guard.workflow.shell_pwsh
    import npm_guard.workflow.shell_words
    import npm_guard.workflow.yaml_loader  # noqa: F401


def main() -> None:
    atheris.Setup(sys.argv, targets.one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
