"""Large scans on every core: the files of one scan analysed by a pool of processes.

Reading a workflow is pure Python, so threads would share one core; processes do not.
Below `PARALLEL_THRESHOLD` candidate files (a hook's commit, a small repository) the
scan stays in one process: starting workers costs more than they save. Above it the
targets are cut into runs of neighbouring files (one repository's files stay together,
so a worker's reader reads its `package.json` once), handed to `jobs` workers, and the
results are taken back in the targets' order: the findings, the suppressed findings and
the parse errors are exactly those of a serial scan, in the same order.

A file that cannot be read or parsed is a `parse-error` in the worker, as it is in one
process. A worker that dies (killed, out of memory, a crash in the YAML library) loses
no file silently: the files it had not returned are analysed again one at a time in a
fresh worker, and a file during which a worker dies again is a `parse-error` of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from npm_guard.findings import Finding, Suppressed

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing.context import BaseContext
    from typing import Protocol

    from npm_guard.policy import Policy
    from npm_guard.repo_files import RepositoryFiles
    from npm_guard.scan import Target

    class Analyse(Protocol):
        """`npm_guard.scan.analyse_one`: passed in, so that this module does not import
        the scan (which imports this one)."""

        def __call__(
            self,
            target: Target,
            *,
            root: str,
            files: RepositoryFiles,
            no_ignores: bool,
            policy: Policy | None,
        ) -> FileResult: ...


# Candidate files (.npmrc, workflows, actions) from which a scan uses worker processes.
PARALLEL_THRESHOLD = 300
# Files per task: enough to amortise the hand-over, few enough to balance the workers.
MAX_CHUNK = 64

FileResult = tuple[list[Finding], list[Suppressed]]
WORKER_STOPPED = (
    "the worker process reading it stopped abruptly (killed, out of memory, or crashed)"
)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(jobs: int | None, targets: int) -> int:
    """How many processes analyse `targets` files: 1 below the threshold (whatever
    `jobs` says, unless `jobs` asks for more explicitly), else `jobs` (0 or None: every
    available core), never more than there are files."""
    if jobs is None and targets < PARALLEL_THRESHOLD:
        return 1
    wanted = jobs if jobs else available_cores()
    return max(1, min(wanted, targets))


# --- the worker's side ------------------------------------------------------------

_worker: _WorkerState | None = None


class _WorkerState:
    """What a worker keeps between tasks: the scan's settings and its own reader."""

    def __init__(
        self, analyse: Analyse, root: str, no_ignores: bool, policy: Policy | None
    ) -> None:
        from npm_guard.repo_files import RepositoryFiles

        self.analyse = analyse
        self.root = root
        self.no_ignores = no_ignores
        self.policy = policy
        self.files: RepositoryFiles = RepositoryFiles(root)  # one per worker, per scan


def _start_worker(analyse: Analyse, root: str, no_ignores: bool, policy: Policy | None) -> None:
    global _worker
    _worker = _WorkerState(analyse, root, no_ignores, policy)


def _analyse_chunk(targets: Sequence[Target]) -> list[FileResult]:
    """In a worker: each target's findings and suppressed findings, in order."""
    assert _worker is not None, "worker not started"
    return [
        _worker.analyse(
            target,
            root=_worker.root,
            files=_worker.files,
            no_ignores=_worker.no_ignores,
            policy=_worker.policy,
        )
        for target in targets
    ]


# --- the scan's side --------------------------------------------------------------


def _context() -> BaseContext:
    import multiprocessing

    # fork: workers start in a millisecond with the engine already imported. Elsewhere
    # (Windows, macOS) spawn, which imports npm-guard afresh in each worker.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _executor(
    workers: int, analyse: Analyse, root: str, no_ignores: bool, policy: Policy | None
) -> ProcessPoolExecutor:
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(),
        initializer=_start_worker,
        initargs=(analyse, root, no_ignores, policy),
    )


def chunks(targets: Sequence[Target], workers: int) -> list[Sequence[Target]]:
    """Runs of neighbouring targets, about eight per worker, at most `MAX_CHUNK` each."""
    size = max(1, min(MAX_CHUNK, -(-len(targets) // (workers * 8))))
    return [targets[start : start + size] for start in range(0, len(targets), size)]


def analyse_parallel(
    targets: Sequence[Target],
    analyse: Analyse,
    *,
    root: str,
    no_ignores: bool,
    policy: Policy | None,
    workers: int,
) -> Iterator[FileResult]:
    """Each target's (findings, suppressed) as `analyse` gives them, in the targets'
    order, from `workers` processes. A worker that dies costs no file (see above)."""
    from concurrent.futures.process import BrokenProcessPool

    runs = chunks(targets, workers)
    executor = _executor(workers, analyse, root, no_ignores, policy)
    unfinished: list[Target] = []
    try:
        futures: list[Future[list[FileResult]]] = [
            executor.submit(_analyse_chunk, run) for run in runs
        ]
        for run, future in zip(runs, futures):
            try:
                results = future.result()
            except BrokenProcessPool:
                unfinished.extend(run)
                continue
            if unfinished:  # in order: the lost files before this run's
                yield from _one_by_one(unfinished, analyse, root, no_ignores, policy)
                unfinished = []
            yield from results
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    if unfinished:
        yield from _one_by_one(unfinished, analyse, root, no_ignores, policy)


def _one_by_one(
    targets: Sequence[Target],
    analyse: Analyse,
    root: str,
    no_ignores: bool,
    policy: Policy | None,
) -> Iterator[FileResult]:
    """After a worker died: each target alone in a worker, so that the one file during
    which a worker dies again is named, and every other file is still analysed."""
    from concurrent.futures.process import BrokenProcessPool

    from npm_guard.rules import parse_error

    executor = _executor(1, analyse, root, no_ignores, policy)
    try:
        for target in targets:
            try:
                (result,) = executor.submit(_analyse_chunk, [target]).result()
            except BrokenProcessPool:
                executor.shutdown(wait=True)
                executor = _executor(1, analyse, root, no_ignores, policy)
                result = ([parse_error.finding(target.display, WORKER_STOPPED)], [])
            yield result
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
