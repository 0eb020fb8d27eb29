"""The release: scripts/release_notes.py, .github/workflows/release.yml as a file, its
hash-pinned build tools, and the wheel built here, installed in a fresh venv and run.

actionlint, zizmor and npm-guard's own scan run on release.yml with the other workflows
(tests/action/test_action_files.py globs .github/workflows/).
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from npmrc_samples import NPM_TOKEN, git, redacted

from npm_guard import __version__

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
REQUIREMENTS = ROOT / ".github" / "release-requirements.txt"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "release_notes", ROOT / "scripts" / "release_notes.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


notes = _load_script()

CHANGELOG = """\
# Changelog

Intro text.

## Unreleased

### Added
- something new

## [0.2.0] - 2027-01-10

### Fixed
- a bug

### Changed
- a word

## 0.1.0rc1 - 2026-12-01

- the candidate

## v0.1.0 (2026-12-08)

- the first release
"""


# scripts/release_notes.py -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "body"),
    [
        ("0.2.0", "### Fixed\n- a bug\n\n### Changed\n- a word\n"),
        ("0.1.0rc1", "- the candidate\n"),
        ("0.1.0", "- the first release\n"),
    ],
)
def test_changelog_section(version: str, body: str) -> None:
    assert notes.changelog_section(CHANGELOG, version) == body


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (CHANGELOG, "no section for 0.3.0"),
        ("## 0.3.0 - 2027-02-01\n\n## 0.2.0\n- x\n", "section for 0.3.0 is empty"),
        ("## 0.3.0rc1\n- the candidate, not the release\n", "no section for 0.3.0"),
        ("### 0.3.0\n- a level-3 heading is not a section\n", "no section for 0.3.0"),
    ],
)
def test_changelog_section_refused(text: str, problem: str) -> None:
    with pytest.raises(notes.ReleaseError, match=re.escape(problem)):
        notes.changelog_section(text, "0.3.0")


def test_the_tag_must_name_the_package_version() -> None:
    assert notes.version_of_tag("v0.1.0", "0.1.0") == "0.1.0"
    with pytest.raises(notes.ReleaseError, match=r"does not match the package version 0\.1\.0"):
        notes.version_of_tag("v0.1.1", "0.1.0")
    with pytest.raises(notes.ReleaseError, match="does not match"):
        notes.version_of_tag("v0.1.0", "0.1.0.dev0")  # the development line is no release
    for tag in ("0.1.0", "v0.1.0-beta", "vnext", "v"):
        with pytest.raises(notes.ReleaseError, match="is not a release tag"):
            notes.version_of_tag(tag, "0.1.0")


@pytest.mark.parametrize(
    ("version", "prerelease", "major"),
    [
        ("0.1.0", False, "v0"),
        ("1.2.3", False, "v1"),
        ("0.2.0rc1", True, "v0"),
        ("1.0.0.dev2", True, "v1"),
    ],
)
def test_prerelease_and_major_tag(version: str, prerelease: bool, major: str) -> None:
    assert notes.is_prerelease(version) is prerelease
    assert notes.major_tag(version) == major


def test_package_version_is_read_without_importing_the_package() -> None:
    assert notes.package_version(ROOT / "npm_guard" / "__init__.py") == __version__


def _release_tree(tmp_path: Path, version: str, changelog: str) -> Path:
    (tmp_path / "npm_guard").mkdir(parents=True)
    (tmp_path / "npm_guard" / "__init__.py").write_text(f'__version__ = "{version}"\n')
    (tmp_path / "CHANGELOG.md").write_text(changelog)
    return tmp_path


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "release_notes.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_script_check_prints_the_outputs_the_workflow_reads(tmp_path: Path) -> None:
    root = _release_tree(tmp_path, "0.2.0", CHANGELOG)
    proc = run_script("check", "v0.2.0", "--root", str(root))
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "version=0.2.0\nprerelease=false\nmajor-tag=v0\n"
    root = _release_tree(tmp_path / "rc", "0.1.0rc1", CHANGELOG)
    proc = run_script("check", "v0.1.0rc1", "--root", str(root))
    assert proc.stdout == "version=0.1.0rc1\nprerelease=true\nmajor-tag=\n"


def test_script_notes_prints_the_section(tmp_path: Path) -> None:
    root = _release_tree(tmp_path, "0.2.0", CHANGELOG)
    proc = run_script("notes", "v0.2.0", "--root", str(root))
    assert (proc.returncode, proc.stdout) == (0, "### Fixed\n- a bug\n\n### Changed\n- a word\n")


def test_script_refuses_a_tag_of_another_version(tmp_path: Path) -> None:
    root = _release_tree(tmp_path, "0.2.0.dev0", CHANGELOG)
    proc = run_script("check", "v0.2.0", "--root", str(root))
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "tag v0.2.0 does not match the package version 0.2.0.dev0" in proc.stderr


# .github/workflows/release.yml ------------------------------------------------------------


def _workflow() -> dict[Any, Any]:
    data = yaml.safe_load(RELEASE.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def _uses(job: dict[str, Any]) -> list[str]:
    return [str(step["uses"]).split("@", 1)[0] for step in job["steps"] if "uses" in step]


def test_release_runs_on_version_tags_only() -> None:
    triggers = _workflow()[True]  # YAML 1.1 reads the key `on` as true
    assert triggers == {"push": {"tags": ["v[0-9]+.[0-9]+.[0-9]+*"]}}


def test_release_permissions_per_job() -> None:
    workflow = _workflow()
    assert workflow["permissions"] == {}
    permissions = {name: job["permissions"] for name, job in workflow["jobs"].items()}
    assert permissions == {
        "build": {"contents": "read"},
        "pypi": {"id-token": "write"},
        "github-release": {"contents": "write"},
        "major-tag": {"contents": "write"},
    }


def test_release_publishes_by_trusted_publishing_from_the_pypi_environment() -> None:
    pypi = _workflow()["jobs"]["pypi"]
    assert pypi["needs"] == "build"
    assert pypi["environment"]["name"] == "pypi"
    (publish,) = [s for s in pypi["steps"] if "gh-action-pypi-publish" in str(s.get("uses"))]
    assert "with" not in publish  # no password, no token: OIDC only
    assert _uses(pypi) == ["actions/download-artifact", "pypa/gh-action-pypi-publish"]
    assert "secrets." not in RELEASE.read_text("utf-8")


def test_release_builds_with_hash_pinned_tools_and_checks_what_it_built() -> None:
    build = _workflow()["jobs"]["build"]
    runs = _runs(build)
    assert "--require-hashes" in runs and "-r .github/release-requirements.txt" in runs
    assert "-m build --no-isolation" in runs
    assert 'twine" check --strict dist/*' in runs
    # The smoke test: the wheel in a fresh venv, its version and commit, a scan, each hook.
    assert 'test "$shown" = "npm-guard $VERSION (commit $COMMIT)"' in runs
    assert "echo \"commit=$(git rev-parse 'HEAD^{commit}')\"" in runs
    for command in ('npm-guard" scan', "workflow-npm-credentials", "npm-guard-policy"):
        assert command in runs
    assert 'npmrc-credentials" --policy' in runs
    assert "scripts/release_notes.py check" in runs


def test_release_notes_and_major_tag_come_after_pypi() -> None:
    jobs = _workflow()["jobs"]
    assert jobs["github-release"]["needs"] == ["build", "pypi"]
    assert "scripts/release_notes.py notes" in _runs(jobs["github-release"])
    assert 'gh release create "$TAG" --verify-tag' in _runs(jobs["github-release"])
    assert jobs["major-tag"]["needs"] == ["build", "github-release"]
    assert jobs["major-tag"]["if"] == "needs.build.outputs.major-tag != ''"
    assert "git/refs/tags/$MAJOR" in _runs(jobs["major-tag"])
    assert '-f sha="$COMMIT"' in _runs(jobs["major-tag"])
    assert "GITHUB_SHA" not in RELEASE.read_text("utf-8")  # a tag object for annotated tags


def _requirement_blocks(text: str) -> dict[str, str]:
    """Each requirement of a pip-compile/uv output with its hashes, by name."""
    blocks: dict[str, str] = {}
    for block in re.split(r"\n(?=[A-Za-z])", text):
        if block.startswith("#") or not block.strip():
            continue
        name = re.split(r"[=<>; ]", block, maxsplit=1)[0].lower()
        blocks[name] = block
    return blocks


def test_release_tools_are_pinned_by_version_and_hash() -> None:
    from packaging.requirements import Requirement

    blocks = _requirement_blocks(REQUIREMENTS.read_text("utf-8"))
    assert {"build", "twine", "setuptools", "wheel"} <= set(blocks)
    for name, block in blocks.items():
        assert re.match(rf"{re.escape(name)}==\S+", block, re.IGNORECASE), block
        assert "--hash=sha256:" in block, f"{name} has no hash"
    setuptools = Requirement(blocks["setuptools"].split("\\")[0].strip())
    (pin,) = setuptools.specifier
    needed = re.search(r'"setuptools([^"]*)"', (ROOT / "pyproject.toml").read_text("utf-8"))
    assert needed is not None
    assert Requirement("setuptools" + needed.group(1)).specifier.contains(pin.version)


# The wheel, built and installed here -------------------------------------------------------

BUILD_TOOLS = ("build", "packaging", "pyproject-hooks", "setuptools", "wheel")


def _bin(venv: Path, name: str) -> str:
    return str(venv / "bin" / name)


def _source_tree(destination: Path) -> str:
    """This working tree as it is (tracked and new files), committed in a repository of
    its own: the build records that commit, which the test then knows."""
    listed = git(ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "what the test builds")
    return git(destination, "rev-parse", "HEAD").strip()


def _run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs this repository's git checkout")
def test_the_built_wheel_installs_and_runs(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    commit = _source_tree(source)

    # The release's build tools, at its hash-pinned versions.
    blocks = _requirement_blocks(REQUIREMENTS.read_text("utf-8"))
    (tmp_path / "tools.txt").write_text("\n".join(blocks[name] for name in BUILD_TOOLS) + "\n")
    tools = tmp_path / "tools"
    for command in (
        (sys.executable, "-m", "venv", str(tools)),
        (_bin(tools, "python"), "-m", "pip", "install", "--quiet", "--no-input", "--no-deps",
         "--require-hashes", "--only-binary", ":all:", "-r", str(tmp_path / "tools.txt")),
        # As the release does: the sdist, then the wheel from the sdist (no git there).
        (_bin(tools, "python"), "-m", "build", "--no-isolation", "--outdir",
         str(tmp_path / "dist"), str(source)),
    ):  # fmt: skip
        proc = _run(*command)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    recorded = f"COMMIT = {commit!r}\nMODIFIED = False\n"
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"{sdist.name[: -len('.tar.gz')]}/npm_guard/_build_info.py")
        assert member is not None and member.read().decode().endswith(recorded)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("npm_guard/_build_info.py").decode().endswith(recorded)
        assert "npm_guard/schemas/policy.schema.json" in archive.namelist()

    app = tmp_path / "app"
    for command in (
        (sys.executable, "-m", "venv", str(app)),
        (_bin(app, "python"), "-m", "pip", "install", "--quiet", "--no-input",
         "--constraint", str(ROOT / "action-constraints.txt"), str(wheel)),
    ):  # fmt: skip
        proc = _run(*command)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    project = tmp_path / "project"
    workflows = project / ".github" / "workflows"
    workflows.mkdir(parents=True)
    proc = _run(
        _bin(app, "python"), "-c", "import npm_guard; print(npm_guard.__file__)", cwd=project
    )
    assert proc.stdout.startswith(str(app)), proc.stdout  # the installed copy, not this one

    proc = _run(_bin(app, "npm-guard"), "--version", cwd=project)
    assert (proc.returncode, proc.stdout) == (0, f"npm-guard {__version__} (commit {commit})\n")

    (project / ".npmrc").write_text(f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n")
    proc = _run(_bin(app, "npm-guard"), "scan", cwd=project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert ".npmrc:1:34: error [npmrc-plaintext-credential]" in proc.stdout
    assert redacted(NPM_TOKEN) in proc.stdout and NPM_TOKEN not in proc.stdout

    proc = _run(_bin(app, "npmrc-credentials"), ".npmrc", cwd=project)
    assert proc.returncode == 1 and "[npmrc-plaintext-credential]" in proc.stdout
    (project / ".npmrc").write_text("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    assert _run(_bin(app, "npmrc-credentials"), ".npmrc", cwd=project).returncode == 0

    (workflows / "publish.yml").write_text(
        "on: push\n"
        "permissions: {}\n"
        "jobs:\n"
        "  publish:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: npm publish\n"
        "        env:\n"
        "          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
    )
    proc = _run(_bin(app, "workflow-npm-credentials"), ".github/workflows/publish.yml", cwd=project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "[workflow-publish-with-long-lived-token]" in proc.stdout

    # init from the wheel: its packaged templates, pinned by the commit the build records.
    git(project, "init", "-q")
    proc = _run(_bin(app, "npm-guard"), "init", "--write", cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"uses: npm-guard/npm-guard@{commit} # " in (workflows / "npm-guard.yml").read_text()
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    assert config["repos"][0]["rev"] in (commit, f"v{__version__}")  # no tag before a release
    assert [hook["id"] for hook in config["repos"][0]["hooks"]] == [
        hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    ]
    assert "NPM_TOKEN:\n    permission: read-write" in (project / ".npm-guard.yml").read_text()
    proc = _run(_bin(app, "npm-guard-policy"), ".npm-guard.yml", cwd=project)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr

    (project / ".npm-guard.yml").write_text(
        "version: 1\nrules:\n  workflow-publish-with-long-lived-token: off\n"
    )
    proc = _run(_bin(app, "npm-guard-policy"), ".npm-guard.yml", cwd=project)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    (project / ".npm-guard.yml").write_text("version: 1\nrules:\n  no-such-rule: off\n")
    proc = _run(_bin(app, "npm-guard-policy"), ".npm-guard.yml", cwd=project)
    assert proc.returncode == 1 and "no-such-rule" in proc.stdout
