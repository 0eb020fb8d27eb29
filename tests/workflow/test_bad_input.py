"""Hostile workflow files each give a parse-error of their own; the others are still scanned."""

from __future__ import annotations

from pathlib import Path

from npm_guard.scan import scan_paths

GOOD = """\
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}
"""
BOMB = "a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 9)
)


def test_each_bad_file_is_a_parse_error_and_the_rest_is_scanned(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "a-good.yml").write_text(GOOD)
    (workflows / "invalid.yml").write_text("on: [push\njobs: {\n")
    (workflows / "bomb.yml").write_text(BOMB)
    (workflows / "deep.yml").write_text("x: " + "[" * 10_000 + "]" * 10_000 + "\n")
    (workflows / "binary.yml").write_bytes(b"on: push\x00\x01\x02" + bytes(range(256)))
    (workflows / "latin1.yml").write_bytes(GOOD.encode() + b"# caf\xe9\n")
    (workflows / "z-good.yml").write_text(GOOD)
    result = scan_paths([str(tmp_path)], root=str(tmp_path))
    by_file: dict[str, set[str]] = {}
    for finding in result.findings:
        by_file.setdefault(finding.location.path, set()).add(finding.rule.id)
    prefix = ".github/workflows/"
    for name in ("invalid.yml", "bomb.yml", "deep.yml", "binary.yml", "latin1.yml"):
        assert "parse-error" in by_file[prefix + name], name
    for name in ("a-good.yml", "z-good.yml"):
        assert by_file[prefix + name] == {"workflow-publish-with-long-lived-token"}, name
    # Invalid UTF-8 is read the way npm would (replacement characters) and still analysed.
    assert "workflow-publish-with-long-lived-token" in by_file[prefix + "latin1.yml"]
    assert result.files_scanned == 7
