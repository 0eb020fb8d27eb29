"""Whole trees full of hostile entries: the scan ends, reports each one, and loses nothing.

Every tree holds a clean `good/.npmrc` and a `bad/.npmrc` with a token, next to the
hostile entries; both must come out as usual whatever else the tree contains. Cases
that could hang (FIFOs, devices, symlink loops) run the CLI in a subprocess with a
timeout, so a regression fails instead of blocking the suite. `test_bad_input.py`
covers single bad files given on the command line; this file covers what a directory
walk meets.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from npmrc_samples import NPM_TOKEN, NPM_TOKEN_2, as_unprivileged, git, make_runner, write

from npm_guard import cli, scan

TOKEN_LINE = f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
MiB = 1024 * 1024


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "tree"
    write(root / "good" / ".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    write(root / "bad" / ".npmrc", f"# leaked\n//registry.npmjs.org/:_authToken={NPM_TOKEN_2}\n")
    monkeypatch.chdir(root)
    return root


def scan_subprocess(
    *args: str, prefix: Sequence[str] = ()
) -> tuple[int, list[dict[str, Any]], str]:
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "npm_guard", "scan", "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"], proc.stderr


def scan_in_process(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[dict[str, Any]], str]:
    code, out, err = make_runner(cli.main, capsys)("scan", "--format", "json", *args)
    assert code in (0, 1), err
    return code, json.loads(out)["findings"], err


def at(findings: list[dict[str, Any]], path: str) -> list[tuple[str, int, str]]:
    return [
        (f["rule"], f["location"]["line"], f["message"])
        for f in findings
        if f["location"]["path"] == path
    ]


def unlisted_message(reason: str) -> str:
    return f"cannot scan this directory: cannot list it ({reason}); nothing below it was scanned"


def assert_good_and_bad_reported(findings: list[dict[str, Any]]) -> None:
    assert at(findings, "good/.npmrc") == []
    ((rule, line, _),) = at(findings, "bad/.npmrc")
    assert (rule, line) == ("npmrc-plaintext-credential", 2)


def test_special_files_links_and_encodings_in_one_tree(
    tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    write(outside / ".npmrc", TOKEN_LINE)
    write(outside / "deep" / ".npmrc", TOKEN_LINE)

    (tree / "loops").mkdir()
    os.symlink(".", tree / "loops" / "self")  # a directory loop
    os.symlink("b", tree / "loops" / "a")  # a two-link loop
    os.symlink("a", tree / "loops" / "b")
    os.symlink(".npmrc", tree / "loops" / ".npmrc")  # a file that is a link to itself
    (tree / "zero").mkdir()
    os.symlink("/dev/zero", tree / "zero" / ".npmrc")  # endless, and out of the tree
    (tree / "device").mkdir()
    os.mknod(tree / "device" / ".npmrc", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    (tree / "fifo" / ".github" / "workflows").mkdir(parents=True)
    os.mkfifo(tree / "fifo" / ".npmrc")
    os.mkfifo(tree / "fifo" / ".github" / "workflows" / "release.yml")
    os.symlink(outside, tree / "linked")  # a directory out of the tree
    (tree / "home").mkdir()
    os.symlink(outside / ".npmrc", tree / "home" / ".npmrc")  # a file out of the tree
    write(tree / "nul" / ".npmrc", b"registry=https://r.example/\x00\n" + TOKEN_LINE.encode())
    write(tree / "utf16" / ".npmrc", ("\ufeff" + TOKEN_LINE).encode("utf-16-le"))
    write(tree / "latin1" / ".npmrc", b"# caf\xe9\n" + TOKEN_LINE.encode())

    code, findings, err = scan_subprocess(".")
    assert code == 1
    assert_good_and_bad_reported(findings)
    not_regular = "cannot scan this file: not a regular file (FIFO, socket or device); not read"
    assert at(findings, "device/.npmrc") == [("parse-error", 1, not_regular)]
    assert at(findings, "fifo/.npmrc") == [("parse-error", 1, not_regular)]
    assert at(findings, "fifo/.github/workflows/release.yml") == [("parse-error", 1, not_regular)]
    binary = "cannot scan this file: binary file (contains NUL bytes); searched for tokens only"
    # Binary files are not parsed, but a token in them is still found.
    assert [(rule, line) for rule, line, _ in at(findings, "nul/.npmrc")] == [
        ("parse-error", 1),
        ("npmrc-plaintext-credential", 2),
    ]
    assert at(findings, "nul/.npmrc")[0][2] == binary
    assert at(findings, "utf16/.npmrc")[0] == ("parse-error", 1, binary)
    latin1 = at(findings, "latin1/.npmrc")
    assert [(rule, line) for rule, line, _ in latin1] == [
        ("parse-error", 1),
        ("npmrc-plaintext-credential", 2),
    ]
    (loop,) = at(findings, "loops/.npmrc")
    assert loop[:2] == ("parse-error", 1)
    assert "cannot read" in loop[2]
    # Nothing from outside the tree, however it was linked in.
    linked_in = ("linked/", "zero/", "home/")
    assert not [f for f in findings if f["location"]["path"].startswith(linked_in)]
    assert not [f for f in findings if f["location"]["path"].startswith(("/", ".."))]
    assert "zero/.npmrc: symbolic link out of the scanned tree; not followed" in err
    assert "home/.npmrc: symbolic link out of the scanned tree; not followed" in err


def test_the_same_tree_as_a_git_work_tree(
    tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """In a git work tree the walk is `git ls-files`: links out are still not followed."""
    outside = tmp_path_factory.mktemp("outside")
    write(outside / ".npmrc", TOKEN_LINE)
    (tree / "zero").mkdir()
    os.symlink("/dev/zero", tree / "zero" / ".npmrc")
    (tree / "home").mkdir()
    os.symlink(outside / ".npmrc", tree / "home" / ".npmrc")
    os.symlink(outside, tree / "linked")
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "hostile")
    code, findings, err = scan_subprocess(".")
    assert code == 1
    assert_good_and_bad_reported(findings)
    assert sorted({f["location"]["path"] for f in findings}) == ["bad/.npmrc"]
    assert "zero/.npmrc: symbolic link out of the scanned tree; not followed" in err
    assert "home/.npmrc: symbolic link out of the scanned tree; not followed" in err


def test_tracked_file_under_a_directory_replaced_by_a_link_out_of_the_tree(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """git still lists `sub/.npmrc`, but `sub` is now a link to `../outside1`: the last
    component is no link, so only the resolved path shows it leaves the tree. Neither
    the scan nor `--fix` may touch the file out there."""
    write(tree / "sub" / ".npmrc", TOKEN_LINE)
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "tracked sub/.npmrc")
    outside = write(tree.parent / "outside1" / ".npmrc", TOKEN_LINE)
    for entry in (tree / "sub").iterdir():
        entry.unlink()
    (tree / "sub").rmdir()
    os.symlink(os.path.join(os.pardir, "outside1"), tree / "sub")
    notice = "sub/.npmrc: path through a symbolic link out of the scanned tree; not followed"

    code, findings, err = scan_subprocess(".")
    assert code == 1
    assert_good_and_bad_reported(findings)
    assert sorted({f["location"]["path"] for f in findings}) == ["bad/.npmrc"]
    assert notice in err

    code, out, err = make_runner(cli.main, capsys)("scan", "--fix", ".")
    assert code == 1
    assert outside.read_text() == TOKEN_LINE  # not rewritten through the link
    assert "sub/.npmrc" not in out
    assert notice in err
    assert "bad/.npmrc:2: replaced the npm token" in err  # the tree's own file is fixed


def test_hundred_megabyte_file_costs_time_not_memory(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sparse 100 MiB `.npmrc` (NUL bytes, then tokens in the middle and at the end)."""
    big = tree / "big" / ".npmrc"
    big.parent.mkdir()
    with open(big, "wb") as handle:
        handle.truncate(50 * MiB)
        handle.seek(50 * MiB)
        handle.write(b"\n" + TOKEN_LINE.encode())
        handle.truncate(100 * MiB)
        handle.seek(100 * MiB)
        handle.write(f"\n# {NPM_TOKEN_2}\n".encode())
    tracemalloc.start()
    try:
        code, findings, _ = scan_in_process(capsys, ".")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 1
    assert_good_and_bad_reported(findings)
    found = at(findings, "big/.npmrc")
    assert found[0][:2] == ("parse-error", 1)
    assert "file too large to parse (100.0 MiB" in found[0][2]
    assert [(rule, line) for rule, line, _ in found[1:]] == [
        ("npmrc-plaintext-credential", 2),
        ("npmrc-plaintext-credential", 4),
    ]
    assert peak < 32 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_file_vanishing_between_discovery_and_read(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tree / "vanish" / ".npmrc", TOKEN_LINE)
    real_discover = scan.discover

    def discover_then_delete(*args: Any, **kwargs: Any) -> Iterator[scan.Target]:
        for target in real_discover(*args, **kwargs):
            if target.display == "vanish/.npmrc":
                os.unlink(target.path)
            yield target

    monkeypatch.setattr(scan, "discover", discover_then_delete)
    code, findings, _ = scan_in_process(capsys, ".")
    assert code == 1
    assert at(findings, "vanish/.npmrc") == [
        ("parse-error", 1, "cannot scan this file: cannot read (No such file or directory)")
    ]
    assert_good_and_bad_reported(findings)


def test_file_replaced_by_a_fifo_after_discovery(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Swapped for a FIFO between the walk and the read: refused, not opened (no hang)."""
    write(tree / "swap" / ".npmrc", TOKEN_LINE)
    real_discover = scan.discover

    def discover_then_swap(*args: Any, **kwargs: Any) -> Iterator[scan.Target]:
        for target in real_discover(*args, **kwargs):
            if target.display == "swap/.npmrc":
                os.unlink(target.path)
                os.mkfifo(target.path)
            yield target

    monkeypatch.setattr(scan, "discover", discover_then_swap)
    code, findings, _ = scan_in_process(capsys, ".")
    assert code == 1
    assert [rule for rule, _, _ in at(findings, "swap/.npmrc")] == ["parse-error"]
    assert_good_and_bad_reported(findings)


@pytest.mark.parametrize("error", [PermissionError, FileNotFoundError])
def test_directory_that_cannot_be_listed(
    tree: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    error: type[OSError],
) -> None:
    """An unreadable (or vanished) directory is a parse-error (exit 1, also in JSON and
    SARIF, where a line on stderr would read as a pass); the rest is scanned.

    The refusal is injected where os.walk meets it: `os.scandir` raising for that one
    directory (`test_directory_that_cannot_be_listed_for_real` does it with chmod).
    """
    write(tree / "locked" / ".npmrc", TOKEN_LINE)
    write(tree / "locked" / "inner" / ".npmrc", TOKEN_LINE)
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if os.path.basename(os.fspath(path)) == "locked":
            code = errno.EACCES if error is PermissionError else errno.ENOENT
            raise error(code, os.strerror(code), os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, findings, _ = scan_in_process(capsys, ".")
    assert code == 1
    assert_good_and_bad_reported(findings)
    assert not [f for f in findings if f["location"]["path"].startswith("locked/")]
    reason = "Permission denied" if error is PermissionError else "No such file or directory"
    assert at(findings, "locked") == [("parse-error", 1, unlisted_message(reason))]
    ((finding,),) = [[f for f in findings if f["location"]["path"] == "locked"]]
    assert finding["location"]["column"] == 1


def test_directory_that_cannot_be_listed_for_real(tree: Path) -> None:
    """chmod 000 on a directory and a scan process the kernel refuses (as root too)."""
    write(tree / "locked" / ".npmrc", TOKEN_LINE)
    write(tree / "locked" / "inner" / ".npmrc", TOKEN_LINE)
    (tree / "locked").chmod(0)
    try:
        code, findings, err = scan_subprocess(".", prefix=as_unprivileged())
    finally:
        (tree / "locked").chmod(0o700)
    assert code == 1
    assert_good_and_bad_reported(findings)
    assert not [f for f in findings if f["location"]["path"].startswith("locked/")]
    assert at(findings, "locked") == [("parse-error", 1, unlisted_message("Permission denied"))]
    assert "locked" not in err


def test_directory_that_cannot_be_listed_in_a_git_work_tree(tree: Path) -> None:
    """git lists what it can and only warns about the rest (exit 0): that warning is a
    parse-error too, and the file git tracks in there is one it cannot read."""
    write(tree / "locked" / ".npmrc", TOKEN_LINE)
    git(tree, "init", "-q")
    git(tree, "add", "good", "bad", "locked")
    write(tree / "locked" / "new" / ".npmrc", TOKEN_LINE)  # untracked: only a listing finds it
    (tree / "locked").chmod(0)
    try:
        code, findings, _ = scan_subprocess(".", prefix=as_unprivileged())
    finally:
        (tree / "locked").chmod(0o700)
    assert code == 1
    assert_good_and_bad_reported(findings)
    assert at(findings, "locked") == [("parse-error", 1, unlisted_message("Permission denied"))]
    assert at(findings, "locked/.npmrc") == [
        ("parse-error", 1, "cannot scan this file: cannot read (Permission denied)")
    ]
    assert "locked/new" not in json.dumps(findings)


def hostile_git_config(tree: Path, marker: Path) -> None:
    """A committed work tree whose `.git/config` runs a command whenever git reads the
    index (`core.fsmonitor`), as a cloned repository's config can after a checkout."""
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "tree")
    git(tree, "config", "core.fsmonitor", f"touch {marker}; false")


def test_git_config_of_the_scanned_repository_runs_nothing(tree: Path) -> None:
    marker = tree.parent / "fsmonitor-ran"
    hostile_git_config(tree, marker)
    git(tree, "ls-files")  # the trap is armed: plain git runs it
    assert marker.exists()
    marker.unlink()
    code, findings, _ = scan_subprocess(".")
    assert code == 1
    assert_good_and_bad_reported(findings)
    assert not marker.exists()


@pytest.mark.parametrize("work_tree", ["plain directory", "git work tree"])
def test_never_executes_what_it_reads(
    tree: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    work_tree: str,
) -> None:
    """Command substitutions, YAML tags, `run:` scripts and the repository's own git
    config are text: nothing is run.

    Every way of starting a process is watched during an in-process scan; the only
    command allowed is `git ls-files` with `core.fsmonitor` off, which lists the tree.
    """
    marker = tree.parent / "executed"
    payload = f"touch {marker}"
    write(
        tree / "sub" / ".npmrc",
        f"//r.example/:_authToken=$({payload})\nregistry=`{payload}`\ncafile=${{HOME}}/$(id)\n",
    )
    write(
        tree / "sub" / ".github" / "workflows" / "ci.yml",
        f"on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - run: {payload}\n      - run: !!python/object/apply:os.system ['{payload}']\n"
        f"x: !!python/object/new:subprocess.Popen [['{payload}']]\n",
    )
    write(
        tree / "sub" / ".github" / "actions" / "a" / "action.yml",
        f"runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: $({payload})\n",
    )
    if work_tree == "git work tree":
        hostile_git_config(tree, marker)
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    class WatchedPopen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            started.append([str(a) for a in args] if isinstance(args, list) else [str(args)])
            super().__init__(args, *rest, **kwargs)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        started.append(["refused", *map(str, args)])
        raise AssertionError("the scan tried to start a process")

    monkeypatch.setattr(subprocess, "Popen", WatchedPopen)
    for name in ("system", "popen", "execv", "execve", "execvp", "spawnv", "posix_spawn"):
        monkeypatch.setattr(os, name, refuse)
    code, findings, _ = scan_in_process(capsys, ".")
    assert code == 1
    assert_good_and_bad_reported(findings)
    assert not marker.exists()
    assert started
    assert all(
        cmd[:3] == ["git", "-c", "core.fsmonitor=false"] and "ls-files" in cmd for cmd in started
    ), started
