#!/usr/bin/env python3
"""npm-guard against its peers, side by side on the same trees and the same machine.

Measures, in one run:
  1. pre-commit latency: each hook on a 10-file commit vs. a bare `python -c "import yaml"`
     (same interpreter), `detect-secrets-hook` and `secretlint`;
  2. full scans of generated trees (`--sizes`): `npm-guard scan` vs. detect-secrets,
     secretlint (npm rule) and zizmor (workflow and action files only), with files/s,
     peak memory and how time grows with the number of files;
  3. recall and false positives of each tool against the generator's manifest;
  4. the online audit of 10/100/1000 packages against the local fake registry
     (`bench/audit_bench.py`, when present).

Times are medians of `--runs` runs (commands interleaved, so drift hits every tool
alike). Peak memory is the largest resident set of the tool's processes (wait4's
ru_maxrss: for multi-process tools the largest single process, not the sum).

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

BENCH = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(BENCH, ".work")
sys.path.insert(0, BENCH)

import generate  # noqa: E402  (bench/generate.py, next to this file)

GNU_TIME = "/usr/bin/time"
TOOLS = ("npm-guard", "detect-secrets", "secretlint", "zizmor")
# npm-guard rules that claim "this is a credential" (the others are about config).
NPM_GUARD_SECRET_RULES = frozenset({"npmrc-plaintext-credential", "workflow-plaintext-credential"})


# --- running and measuring ----------------------------------------------------------


@dataclass
class Measurement:
    wall: float  # seconds
    max_rss_kb: int
    returncode: int
    timed_out: bool = False


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
        _, status, _usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if timer:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
    max_rss = 0
    if rss_file is not None:
        with open(rss_file, encoding="ascii") as handle:
            numbers = re.findall(r"^\d+$", handle.read(), re.MULTILINE)
        os.unlink(rss_file)
        max_rss = int(numbers[-1]) if numbers else 0
    return Measurement(wall, max_rss, proc.returncode, timed_out.is_set())


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


# --- the tools -----------------------------------------------------------------------


@dataclass
class Toolbox:
    bin_dir: str  # the venv's bin: python, npm-guard, hooks, detect-secrets, zizmor
    node_dir: str  # where secretlint is installed

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

    def available(self, tool: str) -> bool:
        if tool == "npm-guard":
            return self.has("npm-guard")
        if tool == "detect-secrets":
            return self.has("detect-secrets")
        if tool == "zizmor":
            return self.has("zizmor")
        if tool == "secretlint":
            return os.access(self.secretlint(), os.X_OK)
        return False

    def version(self, tool: str) -> str:
        cmd = {
            "npm-guard": [self.script("npm-guard"), "--version"],
            "detect-secrets": [self.script("detect-secrets"), "--version"],
            "zizmor": [self.script("zizmor"), "--version"],
            "secretlint": [self.secretlint(), "--version"],
        }[tool]
        try:
            text = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            return "?"
        return text.strip().split()[-1] if text.strip() else "?"

    def scan_command(self, tool: str, tree: str, workflow_files: Sequence[str]) -> list[str]:
        """The full-scan command for `tool`, run with the tree as working directory."""
        if tool == "npm-guard":
            return [self.script("npm-guard"), "scan", "--format", "json", "--fail-on", "note", "."]
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


# --- reading each tool's findings as (path, line) -------------------------------------


def _norm(path: str, tree: str) -> str:
    if os.path.isabs(path):
        path = os.path.relpath(path, tree)
    path = path.replace(os.sep, "/")
    return path[2:] if path.startswith("./") else path


def findings_of(tool: str, output: str, tree: str) -> set[tuple[str, int]]:
    """Where each tool says a secret is (npm-guard: credential rules only)."""
    try:
        with open(output, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return set()
    found: set[tuple[str, int]] = set()
    if tool == "npm-guard":
        for item in data.get("findings", []):
            if item["rule"] in NPM_GUARD_SECRET_RULES:
                loc = item["location"]
                found.add((_norm(loc["path"], tree), int(loc["line"])))
    elif tool == "detect-secrets":
        for path, items in data.get("results", {}).items():
            for item in items:
                found.add((_norm(path, tree), int(item["line_number"])))
    elif tool == "secretlint":
        for item in data:
            for message in item.get("messages", []):
                found.add((_norm(item["filePath"], tree), int(message["loc"]["start"]["line"])))
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
                    found.add((_norm(path, tree), int(row["row"]) + 1))
    return found


# --- trees ---------------------------------------------------------------------------


def ensure_tree(trees_dir: str, files: int, seed: int) -> tuple[str, dict[str, object]]:
    """A generated tree of `files` files, reused when its manifest matches."""
    tree = os.path.join(trees_dir, f"tree-{files}-s{seed}")
    manifest_file = generate.manifest_path(tree)
    if os.path.isdir(tree) and os.path.exists(manifest_file):
        with open(manifest_file, encoding="utf-8") as handle:
            manifest: dict[str, object] = json.load(handle)
        same = (manifest.get("files"), manifest.get("seed"), manifest.get("generator"))
        if same == (files, seed, generate.GENERATOR_VERSION):
            return tree, manifest
    print(f"generating {files} files in {tree} ...", file=sys.stderr)
    manifest = generate.generate(tree, files, seed, 0.2, 0.005)
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
    if "detect-secrets" in tools and box.available("detect-secrets"):
        commands[f"detect-secrets-hook ({n} .npmrc)"] = (
            [box.script("detect-secrets-hook"), *npmrc],
            bare,
        )
    if "secretlint" in tools and box.available("secretlint"):
        commands[f"secretlint ({n} .npmrc)"] = (
            [box.secretlint(), "--secretlintrc", box.secretlintrc(), *npmrc],
            bare,
        )
    series = interleaved(commands, runs, timeout=120)
    base = series['python -c "import yaml"'].wall
    lines = [
        f"### Pre-commit latency: a {n}-file commit (median of {runs} runs)",
        "",
        "| command | median wall | x `import yaml` | peak RSS |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, s in series.items():
        lines.append(f"| `{name}` | {fmt_ms(s.wall)} | {s.wall / base:.2f}x | {s.rss_mb:.0f} MB |")
    lines += ["", "Target (a hook ≤ 1.5x `import yaml` and < 100 ms):", ""]
    for name in [
        *hooks,
        *(f"{h}, with policy" for h in hooks),
        "npm-guard-policy (.npm-guard.yml)",
    ]:
        wall = series[name].wall
        verdict = "met" if wall <= 1.5 * base and wall < 0.100 else "MISSED"
        lines.append(f"- {name}: {fmt_ms(wall)} = {wall / base:.2f}x → **{verdict}**")
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
    files: int
    tool: str
    series: Series | None  # None: tool not run
    inputs: int  # files given to the tool (zizmor: workflow and action files)
    output: str


def full_scans(
    box: Toolbox,
    sizes: Sequence[int],
    runs: int,
    large_runs: int,
    tools: Sequence[str],
    trees_dir: str,
    seed: int,
    timeout: float,
    out_dir: str,
) -> tuple[list[ScanRow], dict[int, tuple[str, dict[str, object]]]]:
    rows: list[ScanRow] = []
    trees: dict[int, tuple[str, dict[str, object]]] = {}
    for size in sizes:
        tree, manifest = ensure_tree(trees_dir, size, seed)
        trees[size] = (tree, manifest)
        workflows = workflow_files(tree)
        n_runs = runs if size < 100_000 else large_runs
        commands = {}
        outputs = {}
        for tool in tools:
            if not box.available(tool):
                continue
            outputs[tool] = os.path.join(out_dir, f"{tool}-{size}.json")
            commands[tool] = box.scan_command(tool, tree, workflows)
        series = {name: Series() for name in commands}
        given_up: set[str] = set()
        for run in range(n_runs):
            for tool, cmd in commands.items():
                if tool in given_up:
                    continue
                print(f"  {size} files: {tool} run {run + 1}/{n_runs}", file=sys.stderr)
                m = measure(cmd, cwd=tree, stdout=outputs[tool], timeout=timeout)
                series[tool].runs.append(m)
                if m.timed_out:
                    given_up.add(tool)  # one time-out is enough to say "> limit"
        for tool in tools:
            inputs = len(workflows) if tool == "zizmor" else int(str(manifest["files"]))
            rows.append(
                ScanRow(size, tool, series.get(tool), inputs, outputs.get(tool, "")),
            )
    return rows, trees


def scan_table(rows: Sequence[ScanRow], timeout: float, runs: int, large_runs: int) -> list[str]:
    lines = [
        f"### Full scan (median of {runs} runs; {large_runs} at ≥ 100k files; "
        f"time limit {timeout:.0f} s)",
        "",
        "| files | tool | wall | files/s | peak RSS | x npm-guard's time |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    by_size: dict[int, dict[str, ScanRow]] = {}
    for row in rows:
        by_size.setdefault(row.files, {})[row.tool] = row
    for size, tools in by_size.items():
        ours = tools.get("npm-guard")
        base = ours.series.wall if ours and ours.series and ours.series.ok else None
        for tool, row in tools.items():
            s = row.series
            label = f"{tool} ({row.inputs} workflow/action files)" if tool == "zizmor" else tool
            if s is None:
                lines.append(f"| {size} | {label} | not installed | | | |")
            elif not s.ok:
                lines.append(
                    f"| {size} | {label} | > {timeout:.0f} s | < {row.inputs / timeout:.0f} "
                    f"| ≥ {s.rss_mb:.0f} MB | > {timeout / base:.0f}x |"
                    if base
                    else f"| {size} | {label} | > {timeout:.0f} s | | | |"
                )
            else:
                ratio = f"{s.wall / base:.1f}x" if base else ""
                lines.append(
                    f"| {size} | {label} | {fmt_s(s.wall)} | {row.inputs / s.wall:,.0f} "
                    f"| {s.rss_mb:.0f} MB | {ratio} |"
                )
    lines += ["", "Growth with N (time per 1,000 files, ms):", ""]
    tools_seen = [t for t in TOOLS if any(r.tool == t for r in rows)]
    lines.append("| tool | " + " | ".join(f"{size} files" for size in by_size) + " |")
    lines.append("| --- |" + " ---: |" * len(by_size))
    for tool in tools_seen:
        cells = []
        for tools in by_size.values():
            row = tools.get(tool)
            if row is None or row.series is None:
                cells.append("")
            elif not row.series.ok:
                cells.append(f"> {timeout * 1000 / (row.files / 1000):.0f}")
            else:
                cells.append(f"{row.series.wall * 1000 / (row.files / 1000):.1f}")
        lines.append(f"| {tool} | " + " | ".join(cells) + " |")
    return lines


def verdict_lines(rows: Sequence[ScanRow], size: int) -> list[str]:
    at = {r.tool: r for r in rows if r.files == size}
    ours = at.get("npm-guard")
    if not ours or not ours.series or not ours.series.ok:
        return []
    lines = []
    ds, sl = at.get("detect-secrets"), at.get("secretlint")
    if ds and ds.series:
        ratio = ds.series.wall / ours.series.wall
        ok = ratio >= 10 or not ds.series.ok
        lines.append(
            f"Target at {size} files (≥ 10x faster than detect-secrets): "
            f"{'> ' if not ds.series.ok else ''}{ratio:.1f}x → **{'met' if ok else 'MISSED'}**."
        )
    if sl and sl.series:
        ratio = sl.series.wall / ours.series.wall
        ok = ratio > 1 or not sl.series.ok
        lines.append(
            f"Target at {size} files (faster than secretlint): {ratio:.1f}x → "
            f"**{'met' if ok else 'MISSED'}**."
        )
    return lines


def accuracy(
    rows: Sequence[ScanRow], size: int, tree: str, manifest: dict[str, object]
) -> list[str]:
    planted = manifest["credentials"]
    assert isinstance(planted, list)
    truth = {(c["path"], int(c["line"])): c for c in planted}
    in_scope = {k for k, c in truth.items() if c["scope"] == generate.IN_SCOPE}
    source = {k for k, c in truth.items() if c["scope"] == generate.OUT_OF_SCOPE}
    kinds = sorted({c["kind"] for c in truth.values()})
    results = {}
    for row in rows:
        if row.files == size and row.series is not None and row.series.ok:
            results[row.tool] = findings_of(row.tool, row.output, tree)
    lines = [
        f"### Recall and false positives ({size}-file tree: {len(in_scope)} credentials in "
        f".npmrc/workflow/action files, {len(source)} npm tokens in ordinary source files)",
        "",
        "A credential counts as found when the tool reports its file and line. A false "
        "positive is a reported file:line where nothing was planted (the tree's decoys: "
        "`${NPM_TOKEN}`, `${{ secrets.NPM_TOKEN }}`, `<YOUR_TOKEN>` and `npm_XXXX…` in docs, "
        "lock-file integrity hashes, commit SHAs, request UUIDs). For npm-guard only the "
        "credential rules count; for zizmor every primary location.",
        "",
        "| tool | recall, npm config files | recall, source files | false positives |",
        "| --- | ---: | ---: | ---: |",
    ]
    for tool, found in results.items():
        hit_cfg = len(found & in_scope)
        hit_src = len(found & source)
        fp = len(found - set(truth))
        lines.append(
            f"| {tool} | {hit_cfg}/{len(in_scope)} ({_pct(hit_cfg, len(in_scope))}) "
            f"| {hit_src}/{len(source)} ({_pct(hit_src, len(source))}) | {fp} |"
        )
    lines += ["", "By kind of credential (found / planted):", ""]
    lines.append("| kind | planted | " + " | ".join(results) + " |")
    lines.append("| --- | ---: |" + " ---: |" * len(results))
    for kind in kinds:
        keys = {k for k, c in truth.items() if c["kind"] == kind}
        cells = [str(len(found & keys)) for found in results.values()]
        lines.append(f"| {kind} | {len(keys)} | " + " | ".join(cells) + " |")
    return lines


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
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    memory = "?"
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            kb = int(re.findall(r"\d+", handle.readline())[0])
            memory = f"{kb / 1048576:.0f} GiB"
    except (OSError, IndexError):
        pass
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
        f"Machine: {os.cpu_count()} CPUs ({model}), {memory} RAM, {platform.system()} "
        f"{platform.release()}; {python}, Node.js {node_version}.",
        f"Tools: {versions}.",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000,100000", help="tree sizes, in files")
    parser.add_argument("--runs", type=int, default=3, help="runs per scan (median)")
    parser.add_argument("--large-runs", type=int, default=3, help="runs at ≥ 100k files")
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
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a seconds-long run that only checks the scripts work: 50 files, 1 run, "
        "npm-guard only, no audit (use with --bin-dir and --output)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.runs, args.hook_runs, args.tools = "50", 1, 1, "npm-guard"
        args.audit_sizes, args.accuracy_size = "", 50
    sizes = [int(s) for s in args.sizes.split(",") if s]
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

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    report = [f"## npm-guard benchmark, {started}", "", *machine(box, tools), ""]
    with tempfile.TemporaryDirectory() as out_dir:
        rows, trees = full_scans(
            box,
            sizes,
            args.runs,
            args.large_runs,
            tools,
            args.trees_dir,
            args.seed,
            args.time_limit,
            out_dir,
        )
        smallest = trees[min(sizes)][0]
        report += [*hook_latency(box, smallest, args.hook_runs, tools, out_dir), ""]
        report += [*scan_table(rows, args.time_limit, args.runs, args.large_runs), ""]
        for size in sizes:
            verdicts = verdict_lines(rows, size)
            if verdicts:
                report += [*verdicts, ""]
        if args.accuracy_size in trees:
            tree, manifest = trees[args.accuracy_size]
            report += [*accuracy(rows, args.accuracy_size, tree, manifest), ""]
    audit_sizes = [int(s) for s in args.audit_sizes.split(",") if s]
    if audit_sizes:
        report += [*audit_section(box, audit_sizes, args.runs), ""]
    text = "\n".join(report)
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
