"""The hardened reader every part of the engine reads repository files through."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from npm_guard.repo_files import FileText, RepositoryFiles


def test_reads_a_regular_file_once_per_scan(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "a"}', "utf-8")
    files = RepositoryFiles(str(tmp_path))
    assert files.text("package.json") == '{"name": "a"}'
    (tmp_path / "package.json").write_text('{"name": "b"}', "utf-8")
    assert files.text("package.json") == '{"name": "a"}'  # remembered for the scan
    assert RepositoryFiles(str(tmp_path)).text("package.json") == '{"name": "b"}'


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "package.json")
    files = RepositoryFiles(str(tmp_path))
    result: list[object] = []
    reader = threading.Thread(target=lambda: result.append(files.read("package.json")))
    reader.start()
    reader.join(timeout=5)
    assert not reader.is_alive(), "reading a FIFO blocked"
    (read,) = result
    assert read.text is None and "not a regular file" in read.problem  # type: ignore[attr-defined]
    assert not files.is_file("package.json")


def test_a_device_is_refused(tmp_path: Path) -> None:
    os.symlink("/dev/zero", tmp_path / ".npmrc")
    files = RepositoryFiles(str(tmp_path))
    read = files.read(".npmrc")
    assert read.text is None
    assert read.problem is not None


def test_links_out_of_the_repository_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the scan", "utf-8")
    repo = tmp_path / "repo"
    repo.mkdir()
    os.symlink(outside / "secret.txt", repo / "package.json")
    os.symlink(outside, repo / "linked")
    files = RepositoryFiles(str(repo))
    assert files.text("package.json") is None
    assert files.text("linked/secret.txt") is None
    assert files.text("../outside/secret.txt") is None
    assert files.text(str(outside / "secret.txt")) is None
    assert not files.is_dir("linked")


def test_links_inside_the_repository_are_followed(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("{}", "utf-8")
    os.symlink("real.json", tmp_path / "package.json")
    assert RepositoryFiles(str(tmp_path)).text("package.json") == "{}"


def test_size_cap(tmp_path: Path) -> None:
    (tmp_path / "big.sh").write_text("x" * 2000, "utf-8")
    files = RepositoryFiles(str(tmp_path))
    small = files.read("big.sh", max_bytes=1000)
    assert small.text is None and "too large" in (small.problem or "")
    assert files.text("big.sh") == "x" * 2000


def test_no_root_reads_nothing(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x", "utf-8")
    assert RepositoryFiles(None).text(str(tmp_path / "a")) is None


def test_what_is_made_of_a_file_is_made_once_per_scan(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text("a=1\n", "utf-8")
    calls: list[tuple[str, str | None]] = []

    def parse(path: str, found: FileText) -> int:
        calls.append((path, found.text))
        return len(calls)

    def other(path: str, found: FileText) -> str:
        return "other"

    files = RepositoryFiles(str(tmp_path))
    assert files.parsed(".npmrc", 100, parse) == 1
    assert files.parsed(".npmrc", 100, parse) == 1  # remembered: not parsed again
    assert files.parsed(".npmrc", 100, other) == "other"  # another parse, its own answer
    assert files.parsed(".npmrc", 2, parse) == 2  # another limit: read (too large) apart
    assert files.parsed("missing", 100, parse) == 3
    assert calls == [(".npmrc", "a=1\n"), (".npmrc", None), ("missing", None)]
    assert RepositoryFiles(str(tmp_path)).parsed(".npmrc", 100, parse) == 4  # a new scan


def test_a_path_asked_again_is_not_resolved_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "package.json").write_text("{}", "utf-8")
    files = RepositoryFiles(str(tmp_path))
    resolved: list[str] = []
    real_path = files.real_path
    monkeypatch.setattr(files, "real_path", lambda p: resolved.append(p) or real_path(p))
    for _ in range(3):
        assert files.text("package.json") == "{}"
        assert files.text("../outside") is None
    assert resolved == ["package.json", "../outside"]
