"""The files of the npm-guard repository that `init` builds on.

The workflow template (`templates/workflows/npm-guard.yml`) and the hooks manifest
(`.pre-commit-hooks.yaml`) live at the top of the repository, outside the package.
A build copies them into the package as `npm_guard/_templates/` (setup.py); a
development checkout reads them where they are. One copy of each in the repository.
"""

from __future__ import annotations

import os

from npm_guard.errors import NpmGuardError

WORKFLOW_TEMPLATE = "npm-guard.yml"
HOOKS_MANIFEST = "pre-commit-hooks.yaml"
PACKAGED = "_templates"
# Where each packaged file comes from, relative to the top of the repository.
SOURCES = {
    WORKFLOW_TEMPLATE: os.path.join("templates", "workflows", "npm-guard.yml"),
    HOOKS_MANIFEST: ".pre-commit-hooks.yaml",
}


def template_text(name: str) -> str:
    """The text of the shipped file `name` (one of SOURCES)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = [os.path.join(package, PACKAGED, name)]
    from npm_guard.build_info import checkout_root

    root = checkout_root()
    if root is not None:
        candidates.insert(0, os.path.join(root, SOURCES[name]))
    for path in candidates:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            continue
        except OSError as error:
            raise NpmGuardError(f"cannot read npm-guard's own {path}: {error.strerror}") from error
    raise NpmGuardError(
        f"this installation of npm-guard lacks its {SOURCES[name]} (a build copies it into "
        f"npm_guard/{PACKAGED}/): reinstall it"
    )


def hook_ids() -> list[str]:
    """The ids of the hooks `.pre-commit-hooks.yaml` declares, in its order."""
    import yaml

    hooks = yaml.safe_load(template_text(HOOKS_MANIFEST))
    ids = [
        hook["id"] for hook in hooks if isinstance(hook, dict) and isinstance(hook.get("id"), str)
    ]
    if not ids:
        raise NpmGuardError("npm-guard's own .pre-commit-hooks.yaml lists no hook")
    return ids
