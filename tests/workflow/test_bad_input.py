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


UNFINISHED = [
    "on: push\njobs:\n  a:\n    runs-on: [ubuntu\n",  # an unclosed flow sequence
    "on: push\njobs:\n  a: {runs-on: x\n",  # an unclosed flow mapping
    'on: push\njobs:\n  a: "unterminated\n',  # an unclosed quote
    "on: push\r\njobs:\r\n  a: [x\r\n",  # the same with CRLF
    "on: push\njobs:\n  a: [x\n\n\n",  # blank lines after it
    "on: push\njobs:\n  a: [x",  # no line break at the end
]


def test_an_error_at_the_end_of_a_file_is_on_a_line_that_exists(tmp_path: Path) -> None:
    """The parser notices an unclosed `[`, `{` or quote at the end of the stream, one
    line past the last line when the file ends with a line break: the finding is put at
    the end of the last line instead."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for index, text in enumerate(UNFINISHED):
        path = workflows / f"w{index}.yml"
        path.write_bytes(text.encode())
        result = scan_paths([str(path)], root=str(tmp_path))
        (finding,) = [f for f in result.findings if f.rule.id == "parse-error"]
        lines = text.encode().decode().splitlines()
        line, column = finding.location.line, finding.location.column
        assert 1 <= line <= len(lines), (text, line)
        assert 1 <= column <= len(lines[line - 1]) + 1, (text, column)
    # A file whose last line is blank: the error is put at that blank line, which exists.
    assert line == len(UNFINISHED[-1].splitlines())
