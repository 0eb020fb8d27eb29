"""What `npm-guard init` pins npm-guard to: the installed version's tag, or its commit.

A release build (`X.Y.Z`, `X.Y.ZrcN`, … without `.dev`) has a tag, `vX.Y.Z`. Before the
first release, and in every development build, there is no tag: the pin is the commit
the build records (`npm_guard.build_info`), and `init` says so. The Action is always
pinned by commit SHA (a tag can be moved), so it needs the commit in any case.
"""

from __future__ import annotations

import re

from npm_guard._record import dataclass
from npm_guard.build_info import CHECKOUT, BuildInfo

_RELEASE_RE = re.compile(r"^\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?$")
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Pin:
    """How the snippets refer to this npm-guard."""

    version: str
    tag: str | None  # "v0.1.0" for a release, None before one
    commit: str | None  # the full SHA, None when the build does not record one
    notes: tuple[str, ...] = ()  # what the user should know about the pin

    @property
    def rev(self) -> str | None:
        """The pre-commit `rev:`: the tag, else the commit, else None (cannot pin)."""
        return self.tag or self.commit

    @property
    def version_comment(self) -> str:
        """What follows the Action's SHA: the tag, or the version and that it is no release."""
        return self.tag if self.tag else f"{self.version} (not released)"


def is_release(version: str) -> bool:
    """A version a release tag exists for (no `.dev`, no local part)."""
    return _RELEASE_RE.match(version) is not None


def pin_for(build: BuildInfo) -> Pin:
    """The pin for the npm-guard described by `build`, with notes on what it means."""
    commit = build.commit if build.commit and _SHA_RE.match(build.commit) else None
    tag = f"v{build.version}" if is_release(build.version) else None
    notes: list[str] = []
    if tag is None and commit is not None:
        notes.append(
            f"npm-guard {build.version} is not a release, so there is no tag to pin to: "
            f"pinned to the commit it was built from, {commit}"
            + (
                " (this development checkout's HEAD: pre-commit and GitHub can fetch it "
                "only once it is pushed to github.com/npm-guard/npm-guard)"
                if build.origin == CHECKOUT
                else ""
            )
        )
    if build.modified and commit is not None:
        notes.append(
            "this npm-guard was built with uncommitted changes: the pinned commit is the "
            "one they were made on, not exactly what you run"
        )
    if commit is None:
        notes.append(
            f"npm-guard {build.version} records no commit (`npm-guard --version`), so "
            "the Action cannot be pinned by SHA"
            + ("" if tag else ", and with no release tag the pre-commit hooks cannot be pinned")
            + ": install a release, or from a git checkout"
        )
    return Pin(build.version, tag, commit, tuple(notes))
