#!/usr/bin/env python3
"""What the release workflow needs to know about a tag, from the repository's own files.

    release_notes.py check TAG   the tag names the package's version, and CHANGELOG.md
                                 has a section for it; prints `version=`, `prerelease=`
                                 and `major-tag=` lines (for $GITHUB_OUTPUT)
    release_notes.py notes TAG   prints that CHANGELOG.md section: the release notes

A changelog section starts at a level-2 heading that names the version, as Keep a
Changelog writes it (`## 0.1.0 - 2026-12-08`, `## [0.1.0] - 2026-12-08`, `## v0.1.0`),
and runs to the next level-2 heading. Exit 1, with the reason on stderr, when the tag is
not `v` + the version in npm_guard/__init__.py, or the section is missing or empty.
Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# PEP 440 as npm-guard uses it: X.Y.Z, then a pre-release (a, b, rc), a post-release
# and a development release, each optional.
VERSION_RE = re.compile(
    r"^(?P<release>\d+(?:\.\d+)*)(?P<pre>(?:a|b|rc)\d+)?(?:\.post\d+)?(?P<dev>\.dev\d+)?$"
)
HEADING_RE = re.compile(r"^##(?!#)\s*(?P<title>.*?)\s*$")


class ReleaseError(Exception):
    """The tag cannot be released as it is; the message says why."""


def package_version(init: Path) -> str:
    """`__version__` of npm_guard/__init__.py, read without importing the package."""
    tree = ast.parse(init.read_text(encoding="utf-8"), str(init))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise ReleaseError(f"{init}: no __version__ = '...' assignment")


def version_of_tag(tag: str, version: str) -> str:
    """The version `tag` releases; it must be `v` + the package's version."""
    if not tag.startswith("v") or not VERSION_RE.match(tag[1:]):
        raise ReleaseError(f"tag {tag!r} is not a release tag (v, then a version like 1.2.3)")
    if tag[1:] != version:
        raise ReleaseError(
            f"tag {tag} does not match the package version {version} (npm_guard/__init__.py): "
            f"set __version__ = {tag[1:]!r} in the commit you tag"
        )
    return version


def is_prerelease(version: str) -> bool:
    match = VERSION_RE.match(version)
    return match is not None and bool(match.group("pre") or match.group("dev"))


def major_tag(version: str) -> str:
    """The tag Action users may follow: `v0` for every 0.x.y, `v1` for 1.x.y."""
    return "v" + version.split(".", 1)[0]


def _names_version(title: str, version: str) -> bool:
    """Whether a level-2 heading's text is about `version` (not `0.1.0` for `0.1.0rc1`)."""
    words = title.split()
    return bool(words) and words[0].strip("[]").removeprefix("v") == version


def changelog_section(text: str, version: str) -> str:
    """The body of the changelog section of `version`, without its heading, trimmed."""
    lines = text.splitlines()
    start = None
    for index, line in enumerate(lines):
        heading = HEADING_RE.match(line)
        if heading is None:
            continue
        if start is not None:
            lines = lines[start:index]
            break
        if _names_version(heading.group("title"), version):
            start = index + 1
    else:
        if start is None:
            raise ReleaseError(f"CHANGELOG.md has no section for {version} (## {version} - date)")
        lines = lines[start:]
    body = "\n".join(lines).strip()
    if not body:
        raise ReleaseError(f"the CHANGELOG.md section for {version} is empty")
    return body + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="release_notes.py", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("check", "notes"))
    parser.add_argument("tag", help="the pushed tag, e.g. v0.1.0")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        version = version_of_tag(args.tag, package_version(args.root / "npm_guard" / "__init__.py"))
        notes = changelog_section((args.root / "CHANGELOG.md").read_text("utf-8"), version)
    except (ReleaseError, OSError) as error:
        print(f"release_notes.py: error: {error}", file=sys.stderr)
        return 1
    if args.command == "notes":
        sys.stdout.write(notes)
    else:
        prerelease = is_prerelease(version)
        print(f"version={version}")
        print(f"prerelease={'true' if prerelease else 'false'}")
        print(f"major-tag={'' if prerelease else major_tag(version)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
