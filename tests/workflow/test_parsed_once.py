"""The repository files every workflow consults are parsed once per scan, not once per
workflow (issue 18), and what each workflow reports about them stays its own."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import npm_guard.npmrc
from npm_guard.repo_files import RepositoryFiles
from npm_guard.workflow import scan_workflow

PUBLISH = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    env:
      NODE_AUTH_TOKEN: ${{{{ secrets.NPM_TOKEN }}}}
    steps:
      - uses: actions/setup-node@v4
        with:
          registry-url: https://registry.npmjs.org
      - run: npm run release
      - run: npm publish  # {n}
"""


def rules_of(findings: list) -> list[tuple[str, int]]:  # type: ignore[type-arg]
    return sorted((f.rule.id, f.location.line) for f in findings)


def test_the_root_npmrc_and_package_json_are_parsed_once_for_many_workflows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".npmrc").write_text("//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n", "utf-8")
    (tmp_path / "package.json").write_text('{"scripts": {"release": "npm publish"}}', "utf-8")
    texts = [PUBLISH.format(n=n) for n in range(5)]
    alone = [
        rules_of(scan_workflow(f"w{n}.yml", t, repo_root=str(tmp_path)))
        for n, t in enumerate(texts)
    ]

    npmrc_parses: list[str] = []
    json_parses: list[str] = []
    parse_npmrc, loads = npm_guard.npmrc.parse_npmrc, json.loads
    monkeypatch.setattr(
        npm_guard.npmrc, "parse_npmrc", lambda t, p: npmrc_parses.append(p) or parse_npmrc(t, p)
    )
    monkeypatch.setattr(json, "loads", lambda t: json_parses.append(t) or loads(t))
    files = RepositoryFiles(str(tmp_path))  # one scan's reader
    shared = [rules_of(scan_workflow(f"w{n}.yml", t, files=files)) for n, t in enumerate(texts)]

    assert shared == alone and alone[0]  # the same findings, and some
    assert npmrc_parses == [".npmrc"]
    assert len(json_parses) == 1


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_refused_root_npmrc_is_reported_for_every_workflow_of_the_scan(tmp_path: Path) -> None:
    os.symlink("/dev/zero", tmp_path / ".npmrc")
    files = RepositoryFiles(str(tmp_path))
    texts = [PUBLISH.format(n=n) for n in range(3)]
    alone = [
        rules_of(scan_workflow(f"w{n}.yml", t, repo_root=str(tmp_path)))
        for n, t in enumerate(texts)
    ]
    shared = [rules_of(scan_workflow(f"w{n}.yml", t, files=files)) for n, t in enumerate(texts)]
    assert shared == alone
    assert all(("parse-error", 12) in found for found in shared), shared
