"""Every write npm-guard makes goes through `npm_guard.atomic_write`: never through a
link the repository committed that leads out of it, never into a planted file, and
atomically (issue 12, "Must not write outside what it means to write")."""

from __future__ import annotations

import ast
import datetime
import io
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_registry import FakeRegistry, npm_token, profile_doc
from npmrc_samples import NPM_TOKEN, Runner, write

from npm_guard.audit.attest import attest
from npm_guard.errors import NpmGuardError

PACKAGE = Path(__file__).resolve().parent.parent / "npm_guard"
SESSION = npm_token("SessionTokenForWriteTests01")
VICTIM_TEXT = "ssh-ed25519 AAAA the maintainer's own key\n"


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(repository, victim): a repository, and a file outside it a link could aim at."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").mkdir()
    outside = tmp_path / "home" / ".ssh"
    outside.mkdir(parents=True)
    victim = outside / "authorized_keys"
    victim.write_text(VICTIM_TEXT)
    monkeypatch.chdir(repo)
    return repo, victim


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    with FakeRegistry() as registry:
        registry.profile(profile_doc("alice", {"pending": False, "mode": "auth-and-writes"}))
        yield registry


def _attest(fake: FakeRegistry, root: Path) -> int:
    userconfig = root.parent / "user.npmrc"
    userconfig.write_text(f"//127.0.0.1:{fake.port}/:_authToken=${{MY_SESSION}}\n")
    return attest(
        root=str(root),
        env={"NPM_CONFIG_USERCONFIG": str(userconfig), "MY_SESSION": SESSION},
        registry=fake.url,
        policy_path=None,
        token_env=None,
        days=90,
        write=True,
        out=io.StringIO(),
        err=io.StringIO(),
        today=datetime.date(2026, 3, 1),
    )


# attest --write


def test_attest_never_writes_through_a_link_at_the_old_temporary_name(
    fake: FakeRegistry, layout: tuple[Path, Path]
) -> None:
    """The old code opened `.npm-guard.yml.npm-guard-tmp` with open(..., "w"): a link
    committed there made it overwrite the maintainer's authorized_keys."""
    repo, victim = layout
    (repo / ".npm-guard.yml").write_text("version: 1\n")
    os.symlink(victim, repo / ".npm-guard.yml.npm-guard-tmp")
    assert _attest(fake, repo) == 0
    assert victim.read_text() == VICTIM_TEXT
    policy = repo / ".npm-guard.yml"
    assert not policy.is_symlink() and "maintainer: alice" in policy.read_text()
    assert (repo / ".npm-guard.yml.npm-guard-tmp").is_symlink()  # left alone
    leftovers = [p.name for p in repo.iterdir() if ".npm-guard-" in p.name and not p.is_symlink()]
    assert leftovers == []


def test_attest_refuses_a_policy_file_that_links_out_of_the_repository(
    fake: FakeRegistry, layout: tuple[Path, Path]
) -> None:
    repo, victim = layout
    victim.write_text("version: 1\n")
    os.symlink(victim, repo / ".npm-guard.yml")
    with pytest.raises(NpmGuardError, match=r"symbolic link to .*outside the repository"):
        _attest(fake, repo)
    assert victim.read_text() == "version: 1\n"
    assert (repo / ".npm-guard.yml").is_symlink()


def test_attest_through_a_link_inside_the_repository_updates_its_target(
    fake: FakeRegistry, layout: tuple[Path, Path]
) -> None:
    repo, _ = layout
    (repo / "config").mkdir()
    real = repo / "config" / "npm-guard.yml"
    real.write_text("version: 1\n")
    real.chmod(0o640)
    os.symlink("config/npm-guard.yml", repo / ".npm-guard.yml")
    assert _attest(fake, repo) == 0
    assert (repo / ".npm-guard.yml").is_symlink()
    assert "maintainer: alice" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


# --fix


def test_fix_refuses_an_npmrc_that_links_out_of_the_repository(
    run: Runner, layout: tuple[Path, Path]
) -> None:
    """The old code rewrote the link's target wherever it was (a staged `.npmrc` link to
    the maintainer's ~/.npmrc had its tokens replaced)."""
    repo, victim = layout
    content = f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"
    victim.write_text(content)
    os.symlink(victim, repo / ".npmrc")
    code, _, err = run("scan", "--fix", ".npmrc")
    assert code == 2
    assert "refusing to write .npmrc" in err and "outside the repository" in err
    assert victim.read_text() == content


def test_fix_refused_for_one_file_rewrites_no_file(run: Runner, layout: tuple[Path, Path]) -> None:
    repo, victim = layout
    victim.write_text(f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    first = write(repo / "a" / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    os.mkdir(repo / "b")
    os.symlink(victim, repo / "b" / ".npmrc")
    code, _, _ = run("scan", "--fix", "a/.npmrc", "b/.npmrc")
    assert code == 2
    assert NPM_TOKEN in first.read_text()


def test_fix_keeps_the_mode_of_the_file(run: Runner, layout: tuple[Path, Path]) -> None:
    repo, _ = layout
    npmrc = write(repo / ".npmrc", f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    npmrc.chmod(0o600)
    assert run("scan", "--fix", ".npmrc")[0] == 1
    assert npmrc.read_text() == "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"
    assert stat.S_IMODE(npmrc.stat().st_mode) == 0o600


# --output and --summary


@pytest.mark.parametrize("option", ["--output", "--summary"])
def test_report_files_are_not_written_through_a_link_out_of_the_repository(
    run: Runner, layout: tuple[Path, Path], option: str
) -> None:
    repo, victim = layout
    write(repo / ".npmrc", "registry=https://registry.npmjs.org/\n")
    os.symlink(victim, repo / "report.txt")
    code, _, err = run("scan", option, "report.txt", ".")
    assert code == 2
    assert "refusing to write report.txt" in err
    assert victim.read_text() == VICTIM_TEXT


@pytest.mark.parametrize("option", ["--output", "--summary"])
def test_report_files_through_a_linked_directory_out_of_the_repository(
    run: Runner, layout: tuple[Path, Path], option: str
) -> None:
    repo, victim = layout
    os.symlink(victim.parent, repo / "reports")
    code, _, err = run("scan", option, "reports/authorized_keys", ".")
    assert code == 2 and "reports is a symbolic link" in err
    assert victim.read_text() == VICTIM_TEXT


def test_a_report_file_outside_the_repository_named_plainly_is_written(
    run: Runner, layout: tuple[Path, Path]
) -> None:
    """What the user names is written, also outside the repository, also through links
    that are not the repository's (a directory link of the user's own)."""
    repo, victim = layout
    own_link = repo.parent / "reports-link"
    os.symlink(victim.parent, own_link)
    code, _, err = run("scan", "--output", str(own_link / "report.txt"), ".")
    assert code == 0, err
    assert "no findings" in (victim.parent / "report.txt").read_text()
    code, _, err = run("scan", "--format", "json", "--output", os.devnull, ".")
    assert code == 0, err


def test_the_audit_output_goes_through_the_same_checks(
    run: Runner, layout: tuple[Path, Path]
) -> None:
    repo, victim = layout
    os.symlink(victim, repo / "audit.json")
    code, _, err = run("audit", "--format", "json", "--output", "audit.json", "left-pad")
    assert code == 2 and "refusing to write audit.json" in err
    assert victim.read_text() == VICTIM_TEXT


# $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT: appended, never through a link


def test_the_step_summary_is_appended_to_not_replaced(
    run: Runner, layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, _ = layout
    summary = repo.parent / "runner" / "step_summary"
    summary.parent.mkdir()
    summary.write_text("earlier output of this step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run("scan", ".")[0] == 0
    text = summary.read_text()
    assert text.startswith("earlier output of this step\n") and "## npm-guard" in text


def test_the_step_summary_is_never_written_through_a_link(
    run: Runner, layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, victim = layout
    link = repo.parent / "step_summary"
    os.symlink(victim, link)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(link))
    code, _, err = run("scan", ".")
    assert code == 2 and "it is a symbolic link" in err
    assert victim.read_text() == VICTIM_TEXT


def test_the_step_summary_is_never_a_fifo_to_block_on(layout: tuple[Path, Path]) -> None:
    repo, _ = layout
    fifo = repo.parent / "step_summary"
    os.mkfifo(fifo)
    proc = subprocess.run(
        [sys.executable, "-m", "npm_guard", "scan", "."],
        cwd=repo,
        env={**os.environ, "GITHUB_STEP_SUMMARY": str(fifo)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and "not a regular file" in proc.stderr


# the helper itself


def test_a_name_taken_by_a_planted_link_is_never_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from npm_guard import atomic_write

    victim = tmp_path / "victim"
    victim.write_text("keep")
    target = tmp_path / "dir" / "file"
    target.parent.mkdir()
    draws = iter([b"\x00" * 8, b"\x01" * 8])
    monkeypatch.setattr(atomic_write.os, "urandom", lambda n: next(draws))
    planted = target.parent / f".file.npm-guard-{'00' * 8}.tmp"
    os.symlink(victim, planted)
    atomic_write.replace_file(str(target), "new", tree=str(tmp_path))
    assert victim.read_text() == "keep" and planted.is_symlink()
    assert target.read_text() == "new"


def test_a_new_file_gets_the_umask_and_a_replaced_one_keeps_its_mode(tmp_path: Path) -> None:
    from npm_guard import atomic_write

    old = os.umask(0o027)
    try:
        new = tmp_path / "new"
        atomic_write.replace_file(str(new), "x", tree=str(tmp_path))
        assert stat.S_IMODE(new.stat().st_mode) == 0o640
        kept = tmp_path / "kept"
        kept.write_text("old")
        kept.chmod(0o604)
        atomic_write.replace_file(str(kept), "y", tree=str(tmp_path))
        assert stat.S_IMODE(kept.stat().st_mode) == 0o604 and kept.read_text() == "y"
    finally:
        os.umask(old)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from npm_guard import atomic_write

    target = tmp_path / "file"
    target.write_text("old")

    def broken(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic_write.os, "write", broken)
    with pytest.raises(NpmGuardError, match="No space left"):
        atomic_write.replace_file(str(target), "new", tree=str(tmp_path))
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_the_policy_cache_replaces_a_planted_link_instead_of_following_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from npm_guard import policy_cache

    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    monkeypatch.setenv(policy_cache.CACHE_ENV, str(cache))
    victim = tmp_path / "victim"
    victim.write_text("keep")
    text = "version: 1\n"
    entry = Path(policy_cache._entry_path(str(cache), text, b"schema"))
    os.symlink(victim, entry)
    policy_cache.remember_document(text, b"schema", {"version": 1}, {}, {})
    assert victim.read_text() == "keep"
    assert entry.is_file() and not entry.is_symlink()
    assert policy_cache.cached_document(text, b"schema") is not None


# The class stays closed: nothing else in the package writes a file.

_WRITE_FUNCTIONS = {
    ("os", "replace"),
    ("os", "rename"),
    ("os", "renames"),
    ("os", "mkfifo"),
    ("shutil", "copy"),
    ("shutil", "copyfile"),
    ("shutil", "move"),
    ("tempfile", "mkstemp"),
    ("tempfile", "NamedTemporaryFile"),
}
_WRITE_METHODS = {"write_text", "write_bytes"}


def _writes_in(source: str, filename: str) -> list[str]:
    """Every call in `source` that creates, replaces or opens a file for writing."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        owner = (
            func.value.id
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            else None
        )
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        where = f"{filename}:{node.lineno}"
        if (owner, name) in _WRITE_FUNCTIONS or name in _WRITE_METHODS:
            found.append(f"{where}: {owner}.{name}()")
        elif name in ("open", "fdopen") and owner in (None, "os", "io", "builtins"):
            modes = list(node.args[1:2]) + [k.value for k in node.keywords if k.arg == "mode"]
            flags = [n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)]
            if owner == "os" and name == "open":
                if {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND"} & set(flags):
                    found.append(f"{where}: os.open for writing")
                continue
            for mode in modes:
                text = mode.value if isinstance(mode, ast.Constant) else None
                if not isinstance(text, str) or set(text) & set("wax+"):
                    found.append(f"{where}: {name}(…, {text!r})")
    return found


_SAMPLE = """
import os, tempfile
open(path, "w").write(text)
os.fdopen(fd, mode="ab")
tempfile.mkstemp(dir=here)
os.replace(a, b)
os.open(path, os.O_WRONLY | os.O_CREAT)
Path(path).write_text(text)
open(path, "rb").read()
open(path).read()
"""


def test_the_guard_sees_every_kind_of_write() -> None:
    assert len(_writes_in(_SAMPLE, "sample.py")) == 6


def test_no_module_but_atomic_write_writes_files() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "atomic_write.py":
            continue
        offenders.extend(_writes_in(path.read_text(encoding="utf-8"), path.name))
    assert offenders == []
