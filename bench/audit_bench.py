#!/usr/bin/env python3
"""How long the online audit takes for 100 packages against local registries.

Two registries on loopback: the test suite's fake npmjs (every response npmjs-shaped:
profile with 2FA, collaborators, provenance, a paginated token list) and a real
Verdaccio (packages published with the same PUT `npm publish` sends). Each run audits
N packages with a token, the default concurrency (8), in process and (fake npmjs) as an
`npm-guard audit` process, and asserts one request per resource: the fake registry
counts what it served, the Verdaccio run counts the client's own request trace.
Target (DESIGN.md): under 10 s for 100 packages.

    .venv/bin/python bench/audit_bench.py [--packages 100] [--runs 3] [--no-verdaccio]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fake_registry import (  # noqa: E402
    FakeRegistry,
    npm_token,
    packument_doc,
    profile_doc,
    token_entry,
    version_doc,
)

from npm_guard.audit.command import audit_repository  # noqa: E402
from npm_guard.policy import Policy  # noqa: E402


def _time(run: object, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times


def bench_fake(count: int, runs: int) -> tuple[list[float], int]:
    token = npm_token("BenchmarkTokenForTheFakeReg01")
    names = [f"@bench/pkg-{i:03d}" for i in range(count)]
    with FakeRegistry() as fake:
        for name in names:
            versions = [
                version_doc(name, f"1.{v}.0", trusted="github", provenance=True) for v in range(12)
            ]
            fake.packument(packument_doc(name, ["alice", "bob"], versions))
            fake.collaborators(name, {"alice": "write", "bob": "write", "ci": "read"})
            fake.access(
                name, {"publish_requires_tfa": True, "automation_token_overrides_tfa": False}
            )
        fake.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
        fake.token_pages(
            [token_entry(npm_token(f"Other{i:02d}TokenOfAlice"), key=f"k{i}") for i in range(25)]
            + [token_entry(token, key="mine")]
        )
        # Per package its packument, collaborators and publishing access; once the
        # profile and the three pages of the token list. The token is read-only, so no
        # version status is asked.
        requests_per_run = 3 * count + 1 + 3

        def run() -> None:
            before = len(fake.requests)
            result = audit_repository(
                "/nonexistent", Policy(), {"NPM_TOKEN": token}, packages=names, registry=fake.url
            )
            assert len(result.facts.packages) == count
            assert len(fake.requests) - before == requests_per_run, "one request per resource"

        def run_cli() -> None:
            # What a user waits for: `npm-guard audit` as a process, start-up and report
            # included (the fake serves from this process's threads meanwhile).
            before = len(fake.requests)
            with tempfile.TemporaryDirectory() as cwd:
                proc = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "npm_guard",
                        "audit",
                        "--registry",
                        fake.url,
                        "--format",
                        "json",
                        *names,
                    ],
                    cwd=cwd,
                    env={**os.environ, "NPM_TOKEN": token},
                    capture_output=True,
                    text=True,
                    check=False,
                )
            assert proc.returncode == 0, proc.stderr[-2000:]
            assert len(json.loads(proc.stdout)["audit"]["packages"]) == count
            assert len(fake.requests) - before == requests_per_run, "one request per resource"

        return _time(run, runs), _time(run_cli, runs), requests_per_run


_REQUEST_LINE_RE = re.compile(r"^GET \S+ \((?:with token|anonymous)\) -> \d+ in ")


def bench_verdaccio(count: int, runs: int) -> tuple[list[float], float, int]:
    from verdaccio import Verdaccio

    with tempfile.TemporaryDirectory(prefix="npm-guard-bench-") as workdir:
        server = Verdaccio(Path(workdir))
        server.start()
        try:
            server.add_user("alice", "alice-password-1")
            token = server.create_token("alice", readonly=True, cidr=["127.0.0.1/32"])
            names = [f"@bench/pkg-{i:03d}" for i in range(count)]
            started = time.perf_counter()
            for name in names:
                server.publish_over_http("alice", name, "1.0.0")
            publish_time = time.perf_counter() - started

            # Per package its packument, collaborators and publishing access (Verdaccio
            # answers 404 to both, which is not retried), and once the profile and the
            # one-page token list. The token is read-only: no version status.
            requests_per_run = 3 * count + 2

            def run() -> None:
                sent: list[str] = []
                result = audit_repository(
                    workdir,
                    Policy(),
                    {"NPM_TOKEN": token},
                    packages=names,
                    registry=server.url,
                    trace=lambda line: sent.append(line) if _REQUEST_LINE_RE.match(line) else None,
                )
                assert len(result.facts.packages) == count
                assert all(p.maintainers == ("alice",) for p in result.facts.packages)
                assert len(sent) == requests_per_run, "one request per resource"

            return _time(run, runs), publish_time, requests_per_run
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-verdaccio", action="store_true")
    args = parser.parse_args()
    times, cli_times, requests = bench_fake(args.packages, args.runs)
    print(
        f"fake npmjs:  {args.packages} packages, {requests} requests per audit: "
        f"median {statistics.median(times):.2f} s, best {min(times):.2f} s"
    )
    print(
        f"fake npmjs, npm-guard audit:  {args.packages} packages, {requests} requests per "
        f"audit: median {statistics.median(cli_times):.2f} s, best {min(cli_times):.2f} s"
    )
    if not args.no_verdaccio:
        times, publish, requests = bench_verdaccio(args.packages, args.runs)
        print(
            f"Verdaccio:   {args.packages} packages, {requests} requests per audit "
            f"(published in {publish:.1f} s): "
            f"median {statistics.median(times):.2f} s, best {min(times):.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
