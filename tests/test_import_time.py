"""The hook starts fast because it imports only what it uses.

Not a timing test: `python -X importtime` lists every module imported, and the heavy
dependencies of other features (PyYAML, requests, jsonschema) must not be among them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = ("yaml", "_yaml", "requests", "urllib3", "jsonschema")


def imported_modules(code: str, cwd: Path) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
    modules = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name)
    assert "npm_guard" in modules, proc.stderr[-2000:]
    return modules


def imports_any_of(names: tuple[str, ...], code: str, cwd: Path) -> set[str]:
    """Which of `names` running `code` imports, even where the interpreter's start-up
    (an editable install's path finder imports urllib.parse) has imported them already:
    they are dropped from sys.modules first, so an `import` of them by `code` shows."""
    probe = (
        "import sys\n"
        f"for name in {names!r}: sys.modules.pop(name, None)\n"
        f"{code}\n"
        f"print(sorted(n for n in {names!r} if n in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(eval(proc.stdout.strip().splitlines()[-1]))


URL_PARSER = ("urllib.parse", "ipaddress")


def _top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_importing_the_hook(tmp_path: Path) -> None:
    modules = imported_modules("import npm_guard.hooks.npmrc_credentials", tmp_path)
    assert "npm_guard.hooks.npmrc_credentials" in modules
    assert not _top_level(modules) & set(FORBIDDEN)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_running_the_hook(tmp_path: Path, fmt: str) -> None:
    (tmp_path / ".npmrc").write_text("_authToken=$NPM_TOKEN\nstrict-ssl=false\n")
    code = (
        "from npm_guard.hooks.npmrc_credentials import main\n"
        f"assert main(['--format', '{fmt}', '.npmrc']) == 1"
    )
    modules = imported_modules(code, tmp_path)
    assert "npm_guard.rules.npmrc_plaintext_credential" in modules
    assert not _top_level(modules) & set(FORBIDDEN)
    # Nor the parts of npm-guard that only other features need.
    assert not {m for m in modules if m.startswith(("npm_guard.workflow", "npm_guard.audit"))}


WORKFLOW = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
"""


def test_running_the_workflow_hook(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "release.yml").write_text(WORKFLOW)
    code = (
        "from npm_guard.hooks.workflow_npm_credentials import main\n"
        "assert main(['.github/workflows/release.yml']) == 1"
    )
    modules = imported_modules(code, tmp_path)
    assert "npm_guard.workflow.steps" in modules
    # typing costs about 2 ms of start-up; the engine uses it for mypy only.
    assert "typing" not in modules
    # The .npmrc rules are the other hook's; urllib.parse (with ipaddress, about 3 ms)
    # is not needed for setup-node's usual `registry-url: https://registry.npmjs.org`.
    assert not {m for m in modules if m.startswith("npm_guard.rules.npmrc_")}
    assert imports_any_of(URL_PARSER, code, tmp_path) == set()


def test_an_https_only_npmrc_needs_no_url_parser(tmp_path: Path) -> None:
    (tmp_path / ".npmrc").write_text(
        "@acme:registry=https://npm.pkg.github.com/\n"
        "//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}\n"
    )
    code = "from npm_guard.hooks.npmrc_credentials import main\nassert main(['.npmrc']) == 0"
    assert "npm_guard.rules.npmrc_insecure_registry" in imported_modules(code, tmp_path)
    assert imports_any_of(URL_PARSER, code, tmp_path) == set()
    # …while a plain-http registry is parsed (and reported).
    (tmp_path / ".npmrc").write_text("registry=http://npm.corp.example/\n")
    code = code.replace("assert main(['.npmrc']) == 0", "main(['.npmrc'])")
    assert imports_any_of(URL_PARSER, code, tmp_path) == set(URL_PARSER)


def test_the_powershell_reader_only_for_powershell(tmp_path: Path) -> None:
    """A bash-only workflow does not pay for the PowerShell reader at start-up."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "release.yml").write_text(WORKFLOW)
    code = (
        "from npm_guard.hooks.workflow_npm_credentials import main\n"
        "assert main(['.github/workflows/release.yml']) == 1"
    )
    assert "npm_guard.workflow.shell_pwsh" not in imported_modules(code, tmp_path)
    windows = WORKFLOW.replace("runs-on: ubuntu-latest", "runs-on: windows-latest")
    (tmp_path / ".github" / "workflows" / "release.yml").write_text(windows)
    assert "npm_guard.workflow.shell_pwsh" in imported_modules(code, tmp_path)


def test_the_workflow_hook_compiles_no_pattern_it_does_not_use(tmp_path: Path) -> None:
    """Patterns for JavaScript files, ignore comments, unexpanded variables and the
    like compile on first use (npm_guard.lazy_pattern): an ordinary publishing workflow
    compiles none of them."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "release.yml").write_text(WORKFLOW)
    code = (
        "import re\n"
        "from npm_guard.hooks.workflow_npm_credentials import main\n"
        "assert main(['.github/workflows/release.yml']) == 1\n"
        "from npm_guard import console, suppress\n"
        "from npm_guard.lazy_pattern import is_compiled\n"
        "from npm_guard.workflow import js_scripts, toolchain_events\n"
        "names = [f'{m.__name__}.{n}' for m in (console, suppress, js_scripts, toolchain_events)"
        " for n, p in vars(m).items() if n.endswith('_RE') and not is_compiled(p)]\n"
        "print(sorted(names))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lazy = set(eval(proc.stdout.strip().splitlines()[-1]))
    assert {
        "npm_guard.console._OWN_COMMAND_RE",
        "npm_guard.suppress.TRAILING_RE",
        "npm_guard.workflow.js_scripts._STRING_COMMAND_RE",
        "npm_guard.workflow.js_scripts._IMPORT_RE",
        "npm_guard.workflow.toolchain_events._MATRIX_RE",
    } <= lazy, lazy
