#!/usr/bin/env python3
"""Write a realistic tree of N files with planted npm credentials, and a manifest of them.

The tree looks like a checkout of an organisation's JavaScript repositories: each
`repo-NNNNN/` has a `package.json`, usually an `.npmrc`, GitHub workflows, sometimes a
composite action, sources, tests, docs and a lock file. A share of the `.npmrc`,
workflow and action files hold a real-looking credential (npm tokens with a valid
checksum, legacy UUID tokens, GitHub tokens, `_auth`, `_password`, opaque registry
tokens); a small share of ordinary source files hold one too (outside what npm-guard
reads, on purpose: the benchmark reports it). Each share is a quota, not a coin toss
per file: N eligible files hold N x share credentials, give or take one. Decoys that
are *not* credentials are everywhere: `${NPM_TOKEN}` references, `${{ secrets.NPM_TOKEN
}}`, `<YOUR_TOKEN>` placeholders in docs, lock-file integrity hashes, commit SHAs and
UUIDs in code.

`--npm-share S` fixes the share of npm-relevant files instead of leaving it to the
shape of each repository (about 7% by default): S x N of the N files are npm
configuration, half of them `.npmrc` files (a root one, then one per workspace package
under `packages/`) and half workflow and composite-action files (45% CI, 35% publishing
workflows, 20% composite actions, at every share). `--npm-share 0.2` on 20,000 files writes
2,000 `.npmrc` and 2,000 workflow/action files (each count within one file of S x N / 2).
It is a quota like the credential shares, carried from one repository to the next.

`manifest.json` (next to the tree, not in it) lists every planted credential with its
path, 1-based line and kind, so recall and false positives can be counted exactly.

    python bench/generate.py --files 20000 --seed 1 --out /tmp/tree-20k
    python bench/generate.py --files 20000 --seed 1 --npm-share 0.2 --out /tmp/tree-20k-npm20
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import sys
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HEX = "0123456789abcdef"

# Where a planted credential is, and whether npm-guard claims to cover that place.
IN_SCOPE = "npm-config"  # .npmrc, workflows, composite actions
OUT_OF_SCOPE = "source"  # ordinary source files: general secret scanners' ground
# Bumped when the same seed and size would write a different tree (bench/run.py reuses
# a tree only when its manifest has this version).
GENERATOR_VERSION = 2
# --npm-share: above half, a repository would be left no room for its package.json.
MAX_NPM_SHARE = 0.5


@dataclass
class Planted:
    path: str
    line: int
    kind: str
    scope: str


@dataclass
class Tree:
    root: str
    rng: random.Random
    credential_share: float
    source_share: float
    npm_share: float | None = None  # None: each repository's own shape decides
    files: int = 0
    planted: list[Planted] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Credit towards the next planted credential, per scope: the share is a quota, not a
    # coin toss per file, so a tree of N config files holds floor(phase + N * share)
    # credentials (a 200-file tree gets its share too), spread evenly, with a random phase.
    owed: dict[str, float] = field(default_factory=dict)
    offered: dict[str, int] = field(default_factory=dict)  # files that could get one

    def due(self, scope: str = IN_SCOPE) -> bool:
        """Whether the file being written gets a credential of `scope`."""
        share = self.credential_share if scope == IN_SCOPE else self.source_share
        if scope not in self.owed:
            self.owed[scope] = self.rng.random()
        self.offered[scope] = self.offered.get(scope, 0) + 1
        self.owed[scope] += share
        if self.owed[scope] >= 1:
            self.owed[scope] -= 1
            return True
        return False

    def quota(self, name: str, amount: float) -> int:
        """Whole files owed under a named quota after adding `amount` (a random phase first)."""
        if name not in self.owed:
            self.owed[name] = self.rng.random()
        self.owed[name] += amount
        whole = int(self.owed[name])
        self.owed[name] -= whole
        return whole

    def write(self, relative: str, lines: list[str]) -> None:
        path = os.path.join(self.root, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write("\n".join(lines) + "\n")
        self.files += 1
        base = os.path.basename(relative)
        kind = (
            ".npmrc"
            if base == ".npmrc"
            else "workflow"
            if "/.github/workflows/" in "/" + relative
            else "action"
            if base in ("action.yml", "action.yaml")
            else "other"
        )
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def plant(self, relative: str, line: int, kind: str, scope: str = IN_SCOPE) -> None:
        self.planted.append(Planted(relative, line, kind, scope))


# --- credentials -----------------------------------------------------------------


def base62(number: int, width: int = 6) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, "0")


def checksummed(rng: random.Random, prefix: str) -> str:
    """A token in the 2021 GitHub/npm format: prefix + 30 random + base62(CRC32)."""
    body = "".join(rng.choice(BASE62) for _ in range(30))
    return prefix + body + base62(zlib.crc32(body.encode()) & 0xFFFFFFFF)


def npm_token(rng: random.Random) -> str:
    return checksummed(rng, "npm_")


def github_token(rng: random.Random) -> str:
    return checksummed(rng, "ghp_")


def legacy_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def opaque_token(rng: random.Random) -> str:
    # Artifactory/Nexus-style API keys: long, mixed alphabet, no well-known prefix.
    return "AKCp8" + "".join(rng.choice(BASE62) for _ in range(68))


def basic_auth(rng: random.Random) -> str:
    password = "".join(rng.choice(BASE62) for _ in range(20))
    return base64.b64encode(f"ci-bot:{password}".encode()).decode()


def sha(rng: random.Random, n: int = 40) -> str:
    return "".join(rng.choice(HEX) for _ in range(n))


def integrity(rng: random.Random) -> str:
    return "sha512-" + base64.b64encode(rng.randbytes(64)).decode()


# --- files -----------------------------------------------------------------------

NPMRC_CREDENTIALS: list[tuple[str, Callable[[random.Random], list[str]]]] = [
    ("npmrc-npm-token", lambda r: [f"//registry.npmjs.org/:_authToken={npm_token(r)}"]),
    ("npmrc-legacy-uuid", lambda r: [f"//registry.npmjs.org/:_authToken={legacy_uuid(r)}"]),
    ("npmrc-github-token", lambda r: [f"//npm.pkg.github.com/:_authToken={github_token(r)}"]),
    (
        "npmrc-basic-auth",
        lambda r: [f"//artifactory.corp.example/api/npm/npm-virtual/:_auth={basic_auth(r)}"],
    ),
    (
        "npmrc-opaque-token",
        lambda r: [f"//nexus.corp.example/repository/npm-group/:_authToken={opaque_token(r)}"],
    ),
]


def npmrc_file(tree: Tree, repo: str, scope: str, folder: str = "") -> None:
    rng = tree.rng
    lines = []
    if rng.random() < 0.4:
        lines.append("# registry settings for CI and local development")
    lines.append(f"@{scope}:registry=https://npm.pkg.github.com/")
    if rng.random() < 0.5:
        lines.append("engine-strict=true")
    if rng.random() < 0.3:
        lines.append("save-exact=true")
    lines.append("//registry.npmjs.org/:_authToken=${NPM_TOKEN}")
    lines.append("//npm.pkg.github.com/:_authToken=${GITHUB_TOKEN}")
    relative = f"{repo}/{folder}.npmrc"
    if tree.due():
        if rng.random() < 0.15:
            # username + _password: the _password line is the secret.
            password = base64.b64encode(
                "".join(rng.choice(BASE62) for _ in range(16)).encode()
            ).decode()
            lines.append("//nexus.corp.example/repository/npm-group/:username=ci-bot")
            lines.append(f"//nexus.corp.example/repository/npm-group/:_password={password}")
            tree.plant(relative, len(lines), "npmrc-password")
        else:
            kind, make = rng.choice(NPMRC_CREDENTIALS)
            lines.extend(make(rng))
            tree.plant(relative, len(lines), kind)
    if rng.random() < 0.3:
        lines.append("fund=false")
    tree.write(relative, lines)


def ci_workflow(tree: Tree, repo: str, extension: str, name: str = "ci") -> None:
    rng = tree.rng
    node = rng.choice(["18", "20", "22"])
    lines = [
        "name: CI",
        "on:",
        "  push:",
        "    branches: [main]",
        "  pull_request:",
        "permissions:",
        "  contents: read",
        "jobs:",
        "  test:",
        "    runs-on: ubuntu-latest",
        "    steps:",
        f"      - uses: actions/checkout@{sha(rng)}",
        "        with:",
        "          persist-credentials: false",
        f"      - uses: actions/setup-node@{sha(rng)}",
        "        with:",
        f"          node-version: {node}",
        "          cache: npm",
        "      - run: npm ci",
        "      - run: npm test",
    ]
    if rng.random() < 0.3:
        lines += ["      - run: npm run lint", "      - run: npm run build"]
    tree.write(f"{repo}/.github/workflows/{name}.{extension}", lines)


def release_workflow(tree: Tree, repo: str, extension: str, name: str = "release") -> None:
    rng = tree.rng
    relative = f"{repo}/.github/workflows/{name}.{extension}"
    lines = [
        "name: Release",
        "on:",
        "  release:",
        "    types: [published]",
        "permissions:",
        "  contents: read",
        "jobs:",
        "  publish:",
        "    runs-on: ubuntu-latest",
        "    environment: npm",
        "    steps:",
        f"      - uses: actions/checkout@{sha(rng)}",
        "        with:",
        "          persist-credentials: false",
        f"      - uses: actions/setup-node@{sha(rng)}",
        "        with:",
        "          node-version: 22",
        "          registry-url: https://registry.npmjs.org",
        "      - run: npm ci --ignore-scripts",
    ]
    if tree.due():
        style = rng.randrange(3)
        if style == 0:
            lines += ["      - run: npm publish", "        env:"]
            lines.append(f"          NODE_AUTH_TOKEN: {npm_token(rng)}")
            tree.plant(relative, len(lines), "workflow-env-npm-token")
        elif style == 1:
            lines.append("      - run: |")
            lines.append(
                f'          echo "//registry.npmjs.org/:_authToken={npm_token(rng)}" > ~/.npmrc'
            )
            tree.plant(relative, len(lines), "workflow-run-npmrc-token")
            lines.append("          npm publish")
        else:
            lines += ["      - run: npm publish --access public", "        env:"]
            lines.append(f"          NODE_AUTH_TOKEN: {legacy_uuid(rng)}")
            tree.plant(relative, len(lines), "workflow-env-legacy-uuid")
    else:
        lines += [
            "      - run: npm publish --provenance --access public",
            "        env:",
            "          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}",
        ]
    tree.write(relative, lines)


def composite_action(tree: Tree, repo: str, name: str = "setup") -> None:
    rng = tree.rng
    relative = f"{repo}/.github/actions/{name}/action.yml"
    lines = [
        "name: Set up the workspace",
        "description: Node, the npm cache and the private registry",
        "inputs:",
        "  node-version:",
        "    description: Node.js version",
        "    default: '22'",
        "runs:",
        "  using: composite",
        "  steps:",
        f"    - uses: actions/setup-node@{sha(rng)}",
        "      with:",
        "        node-version: ${{ inputs.node-version }}",
        "    - shell: bash",
        "      run: npm ci",
        "      env:",
    ]
    if tree.due():
        lines.append(f"        NPM_TOKEN: {npm_token(rng)}")
        tree.plant(relative, len(lines), "action-env-npm-token")
    else:
        lines.append("        NPM_TOKEN: ${{ env.NPM_TOKEN }}")
    tree.write(relative, lines)


def package_json(tree: Tree, relative: str, name: str) -> None:
    rng = tree.rng
    deps = rng.sample(
        ["react", "lodash", "express", "zod", "axios", "chalk", "commander", "yaml", "semver"],
        k=rng.randint(1, 5),
    )
    data = {
        "name": name,
        "version": f"{rng.randint(0, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
        "description": "An internal package",
        "main": "src/index.js",
        "scripts": {"test": "node --test", "lint": "eslint .", "build": "tsc -p ."},
        "publishConfig": {"registry": "https://registry.npmjs.org/", "provenance": True},
        "dependencies": {d: f"^{rng.randint(1, 9)}.{rng.randint(0, 9)}.0" for d in deps},
        "license": "MIT",
    }
    tree.write(relative, json.dumps(data, indent=2).splitlines())


def lock_file(tree: Tree, relative: str) -> None:
    rng = tree.rng
    lines = ["{", '  "lockfileVersion": 3,', '  "packages": {']
    for i in range(rng.randint(5, 30)):
        lines += [
            f'    "node_modules/dep-{i}": {{',
            f'      "version": "1.{i}.0",',
            f'      "resolved": "https://registry.npmjs.org/dep-{i}/-/dep-{i}-1.{i}.0.tgz",',
            f'      "integrity": "{integrity(rng)}"',
            "    },",
        ]
    lines += ['    "": {}', "  }", "}"]
    tree.write(relative, lines)


WORDS = [
    "user",
    "order",
    "cart",
    "item",
    "price",
    "total",
    "request",
    "response",
    "config",
    "client",
    "server",
    "cache",
    "stream",
    "buffer",
    "event",
    "handler",
    "route",
    "token",
    "session",
    "account",
    "invoice",
    "report",
    "parser",
]


def source_file(tree: Tree, relative: str) -> None:
    rng = tree.rng
    lines = ["'use strict';", ""]
    if rng.random() < 0.3:
        lines.append(f"// generated from schema {sha(rng)}")
    if rng.random() < 0.2:
        lines.append(f"const REQUEST_ID = '{uuid.UUID(int=rng.getrandbits(128), version=4)}';")
    for _ in range(rng.randint(2, 12)):
        a, b = rng.sample(WORDS, 2)
        lines += [
            f"function {a}To{b.capitalize()}({a}, options = {{}}) {{",
            f"  const {b} = {{ ...options, id: {a}.id, at: Date.now() }};",
            f"  if (!{a}) throw new Error('missing {a}');",
            f"  return {b};",
            "}",
            "",
        ]
    if tree.due(OUT_OF_SCOPE):
        lines.append(f"const NPM_TOKEN = '{npm_token(rng)}';")
        tree.plant(relative, len(lines), "source-npm-token", OUT_OF_SCOPE)
    lines.append("module.exports = {};")
    tree.write(relative, lines)


def markdown(tree: Tree, relative: str, name: str) -> None:
    lines = [
        f"# {name}",
        "",
        "## Publishing",
        "",
        "Put your token in `~/.npmrc`, never in the repository:",
        "",
        "```ini",
        "//registry.npmjs.org/:_authToken=<YOUR_TOKEN>",
        "```",
        "",
        "Tokens look like `npm_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`.",
    ]
    tree.write(relative, lines)


def repository(tree: Tree, index: int, budget: int) -> None:
    """One repository of `budget` files (at least 1)."""
    rng = tree.rng
    repo = f"repo-{index:05d}"
    scope = f"team{index % 97}"
    plan: list[Callable[[], None]] = [
        lambda: package_json(tree, f"{repo}/package.json", f"@{scope}/{repo}")
    ]
    extension = "yaml" if rng.random() < 0.15 else "yml"
    if rng.random() < 0.8:
        plan.append(lambda: npmrc_file(tree, repo, scope))
    if rng.random() < 0.85:
        plan.append(lambda: ci_workflow(tree, repo, extension))
    if rng.random() < 0.6:
        plan.append(lambda: release_workflow(tree, repo, extension))
    if rng.random() < 0.25:
        plan.append(lambda: composite_action(tree, repo))
    plan.append(lambda: markdown(tree, f"{repo}/README.md", repo))
    if rng.random() < 0.5:
        plan.append(lambda: lock_file(tree, f"{repo}/package-lock.json"))
    plan = plan[:budget]
    for make in plan:
        make()
    ordinary_files(tree, repo, budget - len(plan))


def ordinary_files(tree: Tree, repo: str, count: int) -> None:
    """`count` sources, tests and docs pages: what only general secret scanners read."""
    rng = tree.rng
    for i in range(count):
        folder = rng.choice(["src", "src/lib", "src/api", "test", "scripts"])
        if rng.random() < 0.05:
            markdown(tree, f"{repo}/docs/page-{i}.md", repo)
        else:
            ext = rng.choice(["js", "js", "ts", "mjs"])
            source_file(tree, f"{repo}/{folder}/{rng.choice(WORDS)}-{i}.{ext}")


def npm_share_repository(tree: Tree, index: int, budget: int, share: float) -> None:
    """One repository of `budget` files of which the `--npm-share` quota are npm files.

    Half the npm files are `.npmrc` (the root one, then one per workspace package with
    its own package.json), half workflows and composite actions, drawn 45% CI, 35%
    publishing, 20% composite action whatever the share. What is owed but does not fit
    (the package.json needs a file) is carried to the next repository.
    """
    rng = tree.rng
    repo = f"repo-{index:05d}"
    scope = f"team{index % 97}"
    extension = "yaml" if rng.random() < 0.15 else "yml"
    owed = tree.quota("npm", budget * share)
    room = budget - 1 if budget > 1 else budget
    npm = min(owed, room)
    tree.owed["npm"] += owed - npm
    npmrc_count = tree.quota("npm-npmrc", npm / 2)
    npmrc_count = min(npmrc_count, npm)
    workflow_count = npm - npmrc_count
    left = budget - npm
    if left:
        package_json(tree, f"{repo}/package.json", f"@{scope}/{repo}")
        left -= 1
    for k in range(npmrc_count):
        if k == 0:
            npmrc_file(tree, repo, scope)
            continue
        folder = f"packages/pkg-{k}/"
        npmrc_file(tree, repo, scope, folder)
        if left:
            package_json(tree, f"{repo}/{folder}package.json", f"@{scope}/{repo}-pkg-{k}")
            left -= 1
    # The same mix at every share, so shares differ in how many files, not which kinds.
    written = {"ci": 0, "release": 0, "action": 0}
    for k in range(workflow_count):
        pick = rng.random()
        kind = "ci" if pick < 0.45 else "release" if pick < 0.8 else "action"
        first = written[kind] == 0
        written[kind] += 1
        if kind == "ci":
            name = "ci" if first else f"{rng.choice(['lint', 'test-node', 'e2e', 'nightly'])}-{k}"
            ci_workflow(tree, repo, extension, name)
        elif kind == "release":
            name = "release" if first else f"{rng.choice(['publish-canary', 'release-next'])}-{k}"
            release_workflow(tree, repo, extension, name)
        else:
            composite_action(tree, repo, "setup" if first else f"setup-{k}")
    if left:
        markdown(tree, f"{repo}/README.md", repo)
        left -= 1
    if left and rng.random() < 0.5:
        lock_file(tree, f"{repo}/package-lock.json")
        left -= 1
    ordinary_files(tree, repo, left)


def generate(
    out: str,
    files: int,
    seed: int,
    credential_share: float,
    source_share: float,
    npm_share: float | None = None,
) -> dict[str, object]:
    if npm_share is not None and not 0 < npm_share <= MAX_NPM_SHARE:
        raise ValueError(f"npm_share must be in (0, {MAX_NPM_SHARE}], not {npm_share}")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    tree = Tree(out, random.Random(seed), credential_share, source_share, npm_share)
    index = 0
    while tree.files < files:
        budget = min(files - tree.files, tree.rng.randint(12, 60))
        if npm_share is None:
            repository(tree, index, budget)
        else:
            npm_share_repository(tree, index, budget, npm_share)
        index += 1
    npm_files = sum(tree.counts.get(kind, 0) for kind in (".npmrc", "workflow", "action"))
    manifest: dict[str, object] = {
        "files": tree.files,
        "seed": seed,
        "generator": GENERATOR_VERSION,
        "repositories": index,
        "credential_share": credential_share,
        "source_share": source_share,
        "npm_share": npm_share,
        "npm_files": npm_files,
        "file_kinds": tree.counts,
        "files_offered_a_credential": tree.offered,
        "credentials": [p.__dict__ for p in tree.planted],
    }
    with open(manifest_path(out), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
    return manifest


def manifest_path(out: str) -> str:
    """The manifest lives beside the tree so that no scanner reads it."""
    return os.path.abspath(out).rstrip(os.sep) + ".manifest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, required=True, help="number of files to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True, help="directory to (re)create")
    parser.add_argument(
        "--credential-share",
        type=float,
        default=0.2,
        help="share of .npmrc/workflow/action files that get a credential (default 0.2)",
    )
    parser.add_argument(
        "--source-share",
        type=float,
        default=0.005,
        help="share of ordinary source files that get an npm token (default 0.005)",
    )
    parser.add_argument(
        "--npm-share",
        type=float,
        default=None,
        help="share of all files that are .npmrc (half) or workflow/action files (half), "
        f"0 < S <= {MAX_NPM_SHARE}; 0.2 on 20000 files: 2000 of each "
        "(default: left to each repository's shape, about 0.07)",
    )
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be at least 1")
    if args.npm_share is not None and not 0 < args.npm_share <= MAX_NPM_SHARE:
        parser.error(f"--npm-share must be above 0 and at most {MAX_NPM_SHARE}")
    manifest = generate(
        args.out,
        args.files,
        args.seed,
        args.credential_share,
        args.source_share,
        args.npm_share,
    )
    planted = manifest["credentials"]
    assert isinstance(planted, list)
    print(
        f"{manifest['files']} files in {manifest['repositories']} repositories "
        f"({manifest['npm_files']} .npmrc/workflow/action files), "
        f"{len(planted)} credentials planted; manifest: {manifest_path(args.out)}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
