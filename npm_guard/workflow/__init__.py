"""GitHub Actions workflows and composite actions: the second hook's engine.

`is_workflow_path` is imported by the scan walker on every file, so this module must
not import yaml (or anything heavy) at import time: the parse path imports it lazily.
"""

from __future__ import annotations

import re

from npm_guard.findings import Finding

_WORKFLOW_PATH_RE = re.compile(r"(?:^|/)\.github/workflows/[^/]+\.ya?ml$|(?:^|/)action\.ya?ml$")


def is_workflow_path(path: str) -> bool:
    """A workflow (`.github/workflows/*.yml`) or an action metadata file (`action.yml`)."""
    return _WORKFLOW_PATH_RE.search(path.replace("\\", "/")) is not None


def scan_workflow(
    path: str, text: str, *, repo_root: str | None = None, no_ignores: bool = False
) -> list[Finding]:
    """Every workflow rule's findings for one file's text (parse problems are findings)."""
    return []
