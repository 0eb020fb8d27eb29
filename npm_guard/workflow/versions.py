"""What each version of Node, npm and the release tools does about OIDC: the facts table.

A version spec as a workflow writes it (`24`, `22.x`, `^11.5.1`, `lts/*`, `latest`) is
resolved the way installers resolve it, to the newest release it allows: a part it
leaves open reads as `NEWEST`, so `24` is "the newest 24.x" and compares above 24.5.0.
Each fact below is cited, with the file it was read in, in docs/workflows.md
("Which npm publishes, and whether it tries OIDC first").
"""

from __future__ import annotations

import re

NEWEST = 9999  # a part the spec leaves open: the newest release there
Version = tuple[int, int, int]
LATEST: Version = (NEWEST, NEWEST, NEWEST)  # `latest`, `node`, `>=x`: the newest release

# npm >= 11.5.1 exchanges the job's OIDC token before it reads a configured token
# (npm's docs name 11.5.1; lib/utils/oidc.js first shipped in 11.5.0).
NPM_OIDC: Version = (11, 5, 1)
# npm's own `latest` dist-tag when these facts were read (npm 12.2.3).
NPM_LATEST_MAJOR = 12

# Node line → the npm it bundles (newest release of the line), and from which Node
# release on that npm tries OIDC first. Node 24 bundles npm 11.5.1 from 24.5.0 on.
_NODE_NPM: dict[int, str] = {
    16: "npm 8",
    18: "npm 10.8 or older",
    20: "npm 10.8",
    22: "npm 10.9",
    24: "npm 11",
    25: "npm 11",
    26: "npm 11",
}
NODE_OIDC: Version = (24, 5, 0)
_UNVERIFIED_NODE = frozenset({19, 21, 23})  # odd lines not checked: no answer

# `lts/<codename>` → the Node line (Node's release schedule).
LTS_CODENAMES = {
    "argon": 4,
    "boron": 6,
    "carbon": 8,
    "dubnium": 10,
    "erbium": 12,
    "fermium": 14,
    "gallium": 16,
    "hydrogen": 18,
    "iron": 20,
    "jod": 22,
    "krypton": 24,
}

# npm's `engines.node`, checked strictly when npm installs npm itself (`npm i -g npm@x`
# fails on another Node unless `--force`): each range is (lowest, below this major).
_NPM_ENGINES: dict[int, tuple[tuple[Version, int], ...]] = {
    12: (((22, 22, 2), 23), ((24, 15, 0), 25), ((26, 0, 0), NEWEST + 1)),
    11: (((20, 17, 0), 21), ((22, 9, 0), NEWEST + 1)),
    10: (((18, 17, 0), 19), ((20, 5, 0), NEWEST + 1)),
}
NPM_ENGINES_TEXT = {
    12: "^22.22.2 || ^24.15.0 || >=26.0.0",
    11: "^20.17.0 || >=22.9.0",
    10: "^18.17.0 || >=20.5.0",
}

# Release tools with an OIDC exchange of their own, and from which version.
SEMANTIC_RELEASE_NPM_OIDC: Version = (13, 1, 0)  # @semantic-release/npm
SEMANTIC_RELEASE_WITH_NPM_13 = 25  # semantic-release 25 depends on @semantic-release/npm ^13
LERNA_OIDC: Version = (9, 0, 0)
PNPM_NATIVE: Version = (11, 0, 0)  # pnpm publishes itself; 10.x runs `npm publish`
PNPM_OIDC_FIRST: Version = (11, 0, 7)  # before it, a configured _authToken won

_SPEC_RE = re.compile(
    r"^(?:v|=|\^|~|>=?\s*)?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(?:[-+][0-9A-Za-z.+-]*)?$"
)


def resolve_spec(spec: str) -> Version | None:
    """The newest version `spec` allows, open parts as NEWEST; None when not simple.

    `24` → (24, NEWEST, NEWEST); `24.4` and `~24.4.1` → (24, 4, NEWEST); `24.4.1` →
    (24, 4, 1); `^11.5.1` and `11` → (11, NEWEST, NEWEST); `latest`, `*`, `>=20` → LATEST.
    """
    text = spec.strip().strip("'\"").strip()
    lower = text.lower()
    if lower in ("", "latest", "*", "x", "current", "node", "stable"):
        return LATEST
    if lower.startswith(">"):
        return LATEST if _SPEC_RE.match(text) else None
    match = _SPEC_RE.match(text)
    if match is None:
        return None
    major = int(match.group(1))
    minor, patch = match.group(2), match.group(3)
    if text.startswith("^"):
        return (major, NEWEST, NEWEST)
    if minor is None or not minor.isdigit():
        return (major, NEWEST, NEWEST)
    if text.startswith("~") or patch is None or not patch.isdigit():
        return (major, int(minor), NEWEST)
    return (major, int(minor), int(patch))


def resolve_node(spec: str) -> Version | None:
    """A Node version spec as actions/setup-node resolves it (aliases included)."""
    lower = spec.strip().strip("'\"").strip().lower()
    if lower in ("lts/*", "lts"):
        return LATEST  # the newest LTS line: 24 or later, all bundling npm >= 11.5.1
    if lower.startswith("lts/"):
        major = LTS_CODENAMES.get(lower[4:])
        return (major, NEWEST, NEWEST) if major is not None else None
    return resolve_spec(spec)


def shown_version(version: Version) -> str:
    """`24`, `24.4`, `24.4.1` or `latest`: the spec as far as it goes."""
    if version == LATEST:
        return "latest"
    return ".".join(str(part) for part in version if part != NEWEST)


def bundled_npm(node: Version) -> tuple[str, bool | None]:
    """The npm a Node release bundles, in words, and whether it tries OIDC first."""
    if node == LATEST:
        return "npm 11 or later", True
    major = node[0]
    if major > 26:
        return "its bundled npm", True
    if major in _UNVERIFIED_NODE:
        return "its bundled npm", None
    if major < 24:
        return _NODE_NPM.get(major, "npm 9 or older"), False
    if major > 24:
        return _NODE_NPM[major], True
    if node < NODE_OIDC:
        return "npm 11.4 or older", False
    return _NODE_NPM[major], True


def npm_installs_on(npm: Version, node: Version | None) -> bool | None:
    """Whether `npm i -g npm@<npm>` installs on this Node (None: not known)."""
    if node is None:
        return None
    major = NPM_LATEST_MAJOR if npm[0] == NEWEST else npm[0]
    ranges = _NPM_ENGINES.get(major)
    if ranges is None:
        return True
    return any(low <= node and node[0] < below for low, below in ranges)


def npm_tries_oidc(npm: Version) -> bool:
    """npm >= 11.5.1 exchanges the OIDC token before it reads a configured token."""
    return npm >= NPM_OIDC
