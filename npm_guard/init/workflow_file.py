"""`.github/workflows/npm-guard.yml`: the shipped workflow template, pinned.

The template (`templates/workflows/npm-guard.yml`) pins the Action to a placeholder
SHA and tells its reader to replace it. `init` writes the template with the placeholder
replaced by the commit this npm-guard was built from (the version in the comment), and
the paragraphs about the placeholder replaced by what init did. A template that no
longer has those parts is an internal error, caught by the tests, not a half-pinned file.
"""

from __future__ import annotations

import re

from npm_guard.errors import NpmGuardError
from npm_guard.init.pin import Pin

WORKFLOW_FILE = ".github/workflows/npm-guard.yml"

_PLACEHOLDER_RE = re.compile(
    r"^(?P<indent>[ \t]*)uses: npm-guard/npm-guard@0{40} # \S+[ \t]*$", re.MULTILINE
)


def pinned_workflow(template: str, pin: Pin) -> str:
    """The workflow `init` writes: `template` with the Action pinned by `pin.commit`."""
    if pin.commit is None:
        raise NpmGuardError("cannot pin the Action: " + " ".join(pin.notes))
    placeholders = list(_PLACEHOLDER_RE.finditer(template))
    if len(placeholders) != 1:
        raise RuntimeError("the workflow template does not have exactly one placeholder pin")
    lines = template.split("\n")
    header_end = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    paragraph = _paragraph_with(lines[:header_end], "placeholder")
    where = "a release" if pin.tag else "not released yet: the commit it was built from"
    from npm_guard.init.policy_file import comment_lines

    replacement = comment_lines(
        f"Written by `npm-guard init` (npm-guard {pin.version}). Every action is pinned by "
        "full commit SHA with its version in a comment: npm-guard by the commit of the "
        f"npm-guard that wrote this file ({where}). Dependabot or Renovate keep these pins "
        "current."
    )
    lines[paragraph[0] : paragraph[1]] = replacement
    text = "\n".join(lines)
    placeholder = _PLACEHOLDER_RE.search(text)
    assert placeholder is not None
    # The comment block above the pin explains the placeholder: replace it too.
    above = text[: placeholder.start()].split("\n")[:-1]
    kept = len(above)
    while kept > 0 and above[kept - 1].lstrip().startswith("#"):
        kept -= 1
    if kept == len(above):
        raise RuntimeError("the workflow template has no comment above its placeholder pin")
    indent = placeholder.group("indent")
    pinned = [
        *above[:kept],
        f"{indent}# A tag can be moved, a commit SHA cannot: the version is in the comment.",
        f"{indent}uses: npm-guard/npm-guard@{pin.commit} # {pin.version_comment}",
    ]
    return "\n".join(pinned) + text[placeholder.end() :]


def _paragraph_with(header: list[str], word: str) -> tuple[int, int]:
    """(first, end) line index of the header comment paragraph that mentions `word`."""
    start = 0
    for index in range(len(header) + 1):
        if index == len(header) or header[index].strip() == "#":
            if any(word in line for line in header[start:index]):
                return start, index
            start = index + 1
    raise RuntimeError(f"the workflow template's header has no paragraph about the {word}")
