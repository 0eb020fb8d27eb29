"""`npm-guard --version`: the version, and the commit a build recorded or the checkout
is at; nothing of it on the hooks' start-up path."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest
from npmrc_samples import git

from npm_guard import __version__, build_info, cli

ROOT = Path(__file__).resolve().parent.parent
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("info", "line"),
    [
        (
            build_info.BuildInfo("0.1.0", SHA, build_info.BUILT),
            f"npm-guard 0.1.0 (commit {SHA})",
        ),
        (
            build_info.BuildInfo("0.2.0.dev0", SHA, build_info.CHECKOUT, modified=True),
            f"npm-guard 0.2.0.dev0 (commit {SHA}, development checkout, with uncommitted changes)",
        ),
        (
            build_info.BuildInfo("0.1.0", None, build_info.BUILT),
            "npm-guard 0.1.0 (commit unknown)",
        ),
        (
            build_info.BuildInfo("0.1.0", None, build_info.CHECKOUT),
            "npm-guard 0.1.0 (commit unknown, development checkout)",
        ),
    ],
)
def test_describe(info: build_info.BuildInfo, line: str) -> None:
    assert info.describe() == line


def test_a_build_is_read_from_what_it_recorded_without_running_git(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorded = types.ModuleType("npm_guard._build_info")
    recorded.COMMIT = SHA  # type: ignore[attr-defined]
    recorded.MODIFIED = False  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "npm_guard._build_info", recorded)

    def no_git(*args: object, **kwargs: object) -> None:
        raise AssertionError("git must not run for a recorded build")

    monkeypatch.setattr(subprocess, "run", no_git)
    info = build_info.build_info()
    assert (info.version, info.commit, info.origin) == (__version__, SHA, build_info.BUILT)


def test_a_build_made_outside_git_says_the_commit_is_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorded = types.ModuleType("npm_guard._build_info")
    recorded.COMMIT = None  # type: ignore[attr-defined]
    recorded.MODIFIED = False  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "npm_guard._build_info", recorded)
    assert build_info.build_info().describe() == f"npm-guard {__version__} (commit unknown)"


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs this repository's git checkout")
def test_version_of_this_checkout_names_its_commit(capsys: pytest.CaptureFixture[str]) -> None:
    head = git(ROOT, "rev-parse", "HEAD").strip()
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"npm-guard {__version__} (commit {head}, development checkout")
    assert out.count("\n") == 1


def test_checkout_state_reads_head_and_uncommitted_changes(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "file").write_text("one\n")
    git(tmp_path, "add", "file")
    git(tmp_path, "commit", "-q", "-m", "one")
    head = git(tmp_path, "rev-parse", "HEAD").strip()
    assert build_info.checkout_state(str(tmp_path)) == (head, False)
    (tmp_path / "untracked").write_text("not a change to what was built\n")
    assert build_info.checkout_state(str(tmp_path)) == (head, False)
    (tmp_path / "file").write_text("two\n")
    assert build_info.checkout_state(str(tmp_path)) == (head, True)


def test_checkout_state_is_none_below_the_top_of_a_work_tree(tmp_path: Path) -> None:
    """A package directory inside someone else's repository (a virtual environment in
    a project) is not a checkout of npm-guard: its commit is not npm-guard's."""
    git(tmp_path, "init", "-q")
    (tmp_path / "file").write_text("one\n")
    git(tmp_path, "add", "file")
    git(tmp_path, "commit", "-q", "-m", "one")
    inner = tmp_path / "venv" / "lib"
    inner.mkdir(parents=True)
    assert build_info.checkout_state(str(inner)) is None
    assert build_info.checkout_state(str(tmp_path / "venv")) is None


def test_checkout_state_without_commits_or_outside_git(tmp_path: Path) -> None:
    assert build_info.checkout_state(str(tmp_path)) is None
    git(tmp_path, "init", "-q")
    assert build_info.checkout_state(str(tmp_path)) is None


def test_the_hooks_never_work_out_the_version(tmp_path: Path) -> None:
    """No git command (nor the module that runs one) on a hook's or a scan's path."""
    (tmp_path / ".npmrc").write_text("registry=https://registry.npmjs.org/\n")
    code = (
        "import sys\n"
        "from npm_guard.hooks.npmrc_credentials import main\n"
        "assert main(['.npmrc']) == 0\n"
        "from npm_guard import cli\n"
        "assert cli.main(['scan', '.npmrc']) == 0\n"
        "assert 'npm_guard.build_info' not in sys.modules\n"
        "assert 'subprocess' not in sys.modules\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("version", "semantic"),
    [
        ("0.1.0", {"semanticVersion": "0.1.0"}),
        ("0.1.0.dev0", {"semanticVersion": "0.1.0-dev.0"}),
        ("0.2.0rc1", {"semanticVersion": "0.2.0-rc.1"}),
        ("0.1", {}),  # SARIF wants SemVer: no field rather than a wrong one
    ],
)
def test_sarif_semantic_version_is_semver(version: str, semantic: dict[str, str]) -> None:
    from npm_guard.report.sarif import _semantic_version

    assert _semantic_version(version) == semantic
