"""The build steps that record which commit a package was built from, and ship the
templates `npm-guard init` writes from.

Metadata, dependencies and entry points are in setup.cfg. This file only adds
`npm_guard/_build_info.py` and `npm_guard/_templates/` to what is built. The templates
(`templates/workflows/npm-guard.yml`, `.pre-commit-hooks.yaml`) live at the top of the
repository, outside the package: the sdist and the wheel get copies; an editable
install reads them in the checkout.

`npm_guard/_build_info.py`: the sdist gets it with the commit of the git checkout it is
made from, and a wheel built from that sdist (where there is no git)
keeps it; a wheel built straight from a checkout gets it too. `npm-guard --version`
reads it (npm_guard/build_info.py). An editable install gets none: it reads the
checkout's commit when asked.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_INFO = os.path.join("npm_guard", "_build_info.py")
TEMPLATES = os.path.join("npm_guard", "_templates")
# The packaged name of each template, and where it is in the repository
# (npm_guard/init/templates.py reads them under these names).
TEMPLATE_SOURCES = {
    "npm-guard.yml": os.path.join("templates", "workflows", "npm-guard.yml"),
    "pre-commit-hooks.yaml": ".pre-commit-hooks.yaml",
}


def _checkout_state() -> tuple[str, bool] | None:
    """(commit, modified) of the checkout this file is the top of, if it is one."""
    sys.path.insert(0, HERE)
    try:
        from npm_guard.build_info import checkout_state
    finally:
        sys.path.remove(HERE)
    return checkout_state(HERE)


def _write_build_info(path: str, state: tuple[str, bool] | None) -> None:
    commit, modified = state if state is not None else (None, False)
    text = (
        "# Written by setup.py when this package was built: the commit it was built from\n"
        "# (None: built outside a git checkout). Not part of the repository.\n"
        f"COMMIT = {commit!r}\n"
        f"MODIFIED = {modified!r}\n"
    )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)  # a hard link into the source tree (sdist) is replaced, not written through
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _copy_templates(destination: str) -> None:
    """The repository's templates into `destination` (npm_guard/_templates of a build
    or an sdist); nothing when building from an sdist, which has them there already."""
    sources = {name: os.path.join(HERE, path) for name, path in TEMPLATE_SOURCES.items()}
    if not all(os.path.isfile(path) for path in sources.values()):
        return
    os.makedirs(destination, exist_ok=True)
    for name, source in sources.items():
        target = os.path.join(destination, name)
        if os.path.lexists(target):
            os.unlink(target)  # a hard link into the source tree is replaced, not written through
        with open(source, "rb") as handle:
            data = handle.read()
        with open(target, "wb") as handle:
            handle.write(data)


class BuildPyWithCommit(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the checkout itself is imported: --version asks git
        _copy_templates(os.path.join(self.build_lib, TEMPLATES))
        state = _checkout_state()
        if state is None and os.path.isfile(os.path.join(HERE, BUILD_INFO)):
            return  # built from an sdist: its recorded commit was copied above
        _write_build_info(os.path.join(self.build_lib, BUILD_INFO), state)


class SdistWithCommit(sdist):
    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        _copy_templates(os.path.join(base_dir, TEMPLATES))
        state = _checkout_state()
        if state is None and os.path.isfile(os.path.join(HERE, BUILD_INFO)):
            return  # an sdist made from an sdist keeps the file it has
        _write_build_info(os.path.join(base_dir, BUILD_INFO), state)


setup(cmdclass={"build_py": BuildPyWithCommit, "sdist": SdistWithCommit})
