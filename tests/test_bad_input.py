"""Bad input never crashes the scan and never hides a finding in another file.

Every case scans the bad file together with a good `.npmrc` and a bad one (a token),
and checks that the bad file gets one clear `parse-error` (or none, where nothing is
wrong) while the other two files are reported as usual.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from npmrc_samples import (
    NPM_TOKEN,
    NPM_TOKEN_2,
    Runner,
    as_unprivileged,
    git,
    redacted,
    write,
)

from npm_guard.repo_files import MAX_PARSE_BYTES

TOKEN_LINE = f"//registry.npmjs.org/:_authToken={NPM_TOKEN}\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A good and a bad `.npmrc` next to whatever the test adds under `odd/`."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "good" / ".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
    write(
        tmp_path / "bad" / ".npmrc", f"# leaked\n//registry.npmjs.org/:_authToken={NPM_TOKEN_2}\n"
    )
    (tmp_path / "odd").mkdir()
    return tmp_path


def findings_of(run: Runner, *paths: str) -> tuple[int, list[dict[str, Any]], str]:
    code, out, err = run("scan", "--format", "json", *paths)
    return code, json.loads(out)["findings"], err


def by_path(findings: list[dict[str, Any]], path: str) -> list[tuple[str, int, int, str]]:
    return [
        (f["rule"], f["location"]["line"], f["location"]["column"], f["message"])
        for f in findings
        if f["location"]["path"] == path
    ]


def assert_others_still_reported(findings: list[dict[str, Any]]) -> None:
    assert by_path(findings, "good/.npmrc") == []
    ((rule, line, column, _),) = by_path(findings, "bad/.npmrc")
    assert (rule, line, column) == ("npmrc-plaintext-credential", 2, 34)


ALL = ("good/.npmrc", "bad/.npmrc", "odd/.npmrc")


def test_binary_file(run: Runner, project: Path) -> None:
    write(project / "odd" / ".npmrc", b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 4)
    code, findings, _ = findings_of(run, *ALL)
    assert code == 1
    assert by_path(findings, "odd/.npmrc") == [
        (
            "parse-error",
            1,
            1,
            "cannot scan this file: binary file (contains NUL bytes); searched for tokens only",
        )
    ]
    assert_others_still_reported(findings)


def test_binary_file_is_still_searched_for_tokens(run: Runner, project: Path) -> None:
    token = "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"
    write(project / "odd" / ".npmrc", b"\x00\x01junk\n//h/:_authToken=" + token.encode() + b"\n")
    code, findings, _ = findings_of(run, *ALL)
    assert code == 1
    rules = sorted(rule for rule, *_ in by_path(findings, "odd/.npmrc"))
    assert rules == ["npmrc-plaintext-credential", "parse-error"]
    assert_others_still_reported(findings)


def test_invalid_utf8_is_reported_and_still_searched(run: Runner, project: Path) -> None:
    write(
        project / "odd" / ".npmrc",
        b"# \xff\xfe latin-1 caf\xe9\n" + TOKEN_LINE.encode() + b"email=\xc3\x28@x\n",
    )
    code, findings, _ = findings_of(run, *ALL)
    assert code == 1
    odd = by_path(findings, "odd/.npmrc")
    assert odd[0] == (
        "parse-error",
        1,
        1,
        "cannot scan this file: not valid UTF-8 (first bad byte at offset 2)",
    )
    assert [(r, line, col) for r, line, col, _ in odd[1:]] == [
        ("npmrc-plaintext-credential", 2, 34)
    ]
    assert redacted(NPM_TOKEN) in odd[1][3]
    assert_others_still_reported(findings)


def test_ten_megabyte_file_is_reported_too_large_and_still_searched(
    run: Runner, project: Path
) -> None:
    padding = "# " + "x" * 1021 + "\n"  # 1 KiB lines
    lines = 10 * 1024
    text = padding * (lines // 2) + "  " + TOKEN_LINE + padding * (lines // 2)
    text += f"# and another one at the end {NPM_TOKEN_2}"
    write(project / "odd" / ".npmrc", text)
    assert os.path.getsize(project / "odd" / ".npmrc") > 10 * 1024 * 1024
    code, findings, _ = findings_of(run, *ALL)
    assert code == 1
    odd = by_path(findings, "odd/.npmrc")
    assert odd[0][:3] == ("parse-error", 1, 1)
    assert "file too large to parse (10.0 MiB; limit 2 MiB); searched for tokens only" in odd[0][3]
    assert [(r, line, col) for r, line, col, _ in odd[1:]] == [
        ("npmrc-plaintext-credential", lines // 2 + 1, 36),
        ("npmrc-plaintext-credential", lines + 2, 30),
    ]
    assert_others_still_reported(findings)


@pytest.mark.parametrize("content", ["too large", "binary"])
def test_token_in_an_unparseable_workflow_is_a_workflow_finding(
    run: Runner, project: Path, content: str
) -> None:
    """The token search of a file that cannot be parsed reports the rule of the file's
    kind: a workflow's token is `workflow-plaintext-credential`, with the workflow tip."""
    from npm_guard.rules import workflow_plaintext_credential

    body = f"on: push\nenv:\n  NODE_AUTH_TOKEN: {NPM_TOKEN}\n"
    if content == "binary":
        data = b"\0" + body.encode()
    else:
        data = (body + "#" * MAX_PARSE_BYTES + "\n").encode()
    write(project / ".github" / "workflows" / "release.yml", data)
    code, out, _ = run("scan", "--format", "json", ".github/workflows/release.yml")
    assert code == 1
    findings = json.loads(out)["findings"]
    assert [(f["rule"], f["location"]["line"]) for f in findings] == [
        ("parse-error", 1),
        ("workflow-plaintext-credential", 3),
    ]
    assert findings[1]["tip"] == workflow_plaintext_credential.RULE.tip
    assert ".npmrc" not in findings[1]["tip"]
    assert NPM_TOKEN not in out


def test_token_across_a_chunk_boundary_is_found(run: Runner, project: Path) -> None:
    """Large files are read in 1 MiB chunks that overlap: a token split by a boundary counts."""
    from npm_guard.scan import CHUNK_BYTES

    head = "#" * (CHUNK_BYTES - 20) + "\n"
    write(project / "odd" / ".npmrc", head + "t=" + NPM_TOKEN + "\n" + "#\n" * (MAX_PARSE_BYTES))
    code, findings, _ = findings_of(run, "odd/.npmrc")
    assert code == 1
    assert [(r, line, col) for r, line, col, _ in by_path(findings, "odd/.npmrc")] == [
        ("parse-error", 1, 1),
        ("npmrc-plaintext-credential", 2, 3),
    ]


def test_just_under_the_parse_limit_is_parsed(run: Runner, project: Path) -> None:
    text = TOKEN_LINE + "#" * (MAX_PARSE_BYTES - len(TOKEN_LINE) - 1) + "\n"
    write(project / "odd" / ".npmrc", text)
    assert os.path.getsize(project / "odd" / ".npmrc") == MAX_PARSE_BYTES
    code, findings, _ = findings_of(run, "odd/.npmrc")
    assert code == 1
    assert [(r, line, col) for r, line, col, _ in by_path(findings, "odd/.npmrc")] == [
        ("npmrc-plaintext-credential", 1, 34)
    ]


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n\r\n", b"   \t\n"])
def test_empty_files_have_no_findings(run: Runner, project: Path, content: bytes) -> None:
    write(project / "odd" / ".npmrc", content)
    code, findings, _ = findings_of(run, *ALL)
    assert code == 1  # because of bad/.npmrc
    assert by_path(findings, "odd/.npmrc") == []
    assert_others_still_reported(findings)


def test_directory_named_npmrc(run: Runner, hook: Runner, project: Path) -> None:
    (project / "odd" / ".npmrc").mkdir()
    write(project / "odd" / ".npmrc" / "inside", TOKEN_LINE)
    expected = [("parse-error", 1, 1, "cannot scan this file: it is a directory, not a file")]
    code, findings, _ = findings_of(run, *ALL)
    assert code == 1
    assert by_path(findings, "odd/.npmrc") == expected
    assert_others_still_reported(findings)
    code, out, _ = hook("--format", "json", *ALL)
    assert code == 1
    assert by_path(json.loads(out)["findings"], "odd/.npmrc") == expected


def test_unreadable_file(run: Runner, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A permission error while reading.

    The error is injected at `os.open()` for that one path: the same OSError the kernel
    gives a user. `test_unreadable_file_for_real` does it with chmod (as root too).
    """
    unreadable = write(project / "odd" / ".npmrc", TOKEN_LINE)
    real_open = os.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)) and os.path.abspath(file) == str(unreadable):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    code, findings, _ = findings_of(run, *ALL)
    assert code == 1
    assert by_path(findings, "odd/.npmrc") == [
        ("parse-error", 1, 1, "cannot scan this file: cannot read (Permission denied)")
    ]
    assert_others_still_reported(findings)


def test_unreadable_file_for_real(run: Runner, project: Path) -> None:
    """chmod 000 and a real scan process that the kernel refuses (as root too)."""
    unreadable = write(project / "odd" / ".npmrc", TOKEN_LINE)
    unreadable.chmod(0)
    try:
        proc = subprocess.run(
            [
                *as_unprivileged(),
                sys.executable,
                "-m",
                "npm_guard",
                "scan",
                "--format",
                "json",
                *ALL,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        unreadable.chmod(0o600)
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert by_path(findings, "odd/.npmrc") == [
        ("parse-error", 1, 1, "cannot scan this file: cannot read (Permission denied)")
    ]
    assert_others_still_reported(findings)


def test_fifo_named_npmrc_does_not_block(project: Path) -> None:
    """Opening a FIFO for reading waits for a writer: the scan must not open it.

    Run in a subprocess with a timeout, so a regression fails instead of hanging the suite;
    the directory walk meets the FIFO as well as the command line.
    """
    os.mkfifo(project / "odd" / ".npmrc")
    for argv in (list(ALL), ["."]):
        proc = subprocess.run(
            [sys.executable, "-m", "npm_guard", "scan", "--format", "json", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 1, proc.stderr
        findings = json.loads(proc.stdout)["findings"]
        assert by_path(findings, "odd/.npmrc") == [
            (
                "parse-error",
                1,
                1,
                "cannot scan this file: not a regular file (FIFO, socket or device); not read",
            )
        ]
        assert_others_still_reported(findings)


# Runs the CLI with the file at argv[1] swapped (argv[2]: for a FIFO, or for a link to
# argv[3]) right after read_text's stat of it: the race a check-then-open reader loses.
SWAP_AFTER_STAT = """
import os, sys
from npm_guard import cli, scan
target, how, outside = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
real_read_text, real_stat = scan.read_text, os.stat

def stat_then_swap(path, *args, **kwargs):
    result = real_stat(path, *args, **kwargs)
    if os.path.abspath(path) == target:
        os.stat = real_stat
        os.unlink(target)
        os.mkfifo(target) if how == "fifo" else os.symlink(outside, target)
    return result

def read_text(path):
    os.stat = stat_then_swap
    try:
        return real_read_text(path)
    finally:
        os.stat = real_stat

scan.read_text = read_text
raise SystemExit(cli.main(["scan", "--format", "json", *sys.argv[4:]]))
"""


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("fifo", "not a regular file (FIFO, socket or device); not read"),
        ("link", "cannot read (Too many levels of symbolic links)"),
    ],
)
def test_file_swapped_after_its_check_is_refused(
    project: Path, tmp_path_factory: pytest.TempPathFactory, how: str, problem: str
) -> None:
    """Swapped between stat and open: the FIFO must not block the scan, the link must
    not be followed out of the tree (what was opened is checked, not what was stat'ed)."""
    write(project / "odd" / ".npmrc", "registry=https://registry.npmjs.org/\n")
    outside = write(tmp_path_factory.mktemp("outside") / ".npmrc", TOKEN_LINE)
    proc = subprocess.run(
        [sys.executable, "-c", SWAP_AFTER_STAT, "odd/.npmrc", how, str(outside), *ALL],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    assert by_path(findings, "odd/.npmrc") == [
        ("parse-error", 1, 1, f"cannot scan this file: {problem}")
    ]
    assert_others_still_reported(findings)


def test_symlink_to_outside_the_tree_is_not_followed(
    run: Runner, project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = write(tmp_path_factory.mktemp("home") / ".npmrc", TOKEN_LINE)
    os.symlink(outside, project / "odd" / ".npmrc")
    code, findings, err = findings_of(run, ".")
    assert code == 1
    assert by_path(findings, "odd/.npmrc") == []
    assert "odd/.npmrc: symbolic link out of the scanned tree; not followed" in err
    assert_others_still_reported(findings)


def test_dangling_symlink_named_on_the_command_line(run: Runner, project: Path) -> None:
    os.symlink(project / "nowhere", project / "odd" / ".npmrc")
    code, findings, _ = findings_of(run, *ALL)
    assert code == 1
    ((rule, line, column, message),) = by_path(findings, "odd/.npmrc")
    assert (rule, line, column) == ("parse-error", 1, 1)
    assert message == "cannot scan this file: cannot read (No such file or directory)"
    assert_others_still_reported(findings)


def test_hook_reports_each_bad_file_and_goes_on(hook: Runner, project: Path) -> None:
    write(project / "odd" / ".npmrc", b"\x00binary")
    write(project / "odd2" / ".npmrc", b"# \xff\n" + TOKEN_LINE.encode())
    code, out, _ = hook("good/.npmrc", "odd/.npmrc", "bad/.npmrc", "odd2/.npmrc")
    assert code == 1
    assert "odd/.npmrc:1:1: error [parse-error] cannot scan this file: binary file" in out
    assert "odd2/.npmrc:1:1: error [parse-error] cannot scan this file: not valid UTF-8" in out
    assert "odd2/.npmrc:2:34: error [npmrc-plaintext-credential]" in out
    assert "bad/.npmrc:2:34: error [npmrc-plaintext-credential]" in out
    assert "good/.npmrc" not in out
    assert out.endswith("(4 errors; 4 files scanned)\n")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000 + "\n",
        "=" * 10_000 + "\n",
        "a=" + '"' * 10_000 + "\n",
        "\\" * 10_000 + "\n",
        "${" * 5_000 + "\n",
        "//" + "/" * 10_000 + ":_authToken=x\n",
        "\r" * 10_000,
        "\u2028" * 1000 + TOKEN_LINE,
    ],
    ids=["brackets", "equals", "quotes", "backslashes", "refs", "slashes", "cr", "ls"],
)
def test_pathological_text_parses(run: Runner, project: Path, text: str) -> None:
    write(project / "odd" / ".npmrc", text)
    code, findings, _ = findings_of(run, *ALL)
    assert code == 1
    assert not [f for f in by_path(findings, "odd/.npmrc") if f[0] == "parse-error"]
    assert_others_still_reported(findings)


def test_directory_named_npmrc_found_by_the_walk_is_reported(tmp_path: Path) -> None:
    from npm_guard.scan import scan_paths

    (tmp_path / "pkg" / ".npmrc").mkdir(parents=True)
    result = scan_paths([str(tmp_path)], root=str(tmp_path))
    assert [(f.rule.id, f.location.path) for f in result.findings] == [
        ("parse-error", "pkg/.npmrc")
    ]
    assert "directory" in result.findings[0].message


def test_directory_named_npmrc_in_a_git_work_tree_is_reported(tmp_path: Path) -> None:
    """git lists `pkg/.npmrc/inside`, never the directory: it is still a parse-error."""
    from npm_guard.scan import scan_paths

    write(tmp_path / "pkg" / ".npmrc" / "inside", TOKEN_LINE)
    write(tmp_path / "other" / ".npmrc" / "untracked", TOKEN_LINE)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "pkg")
    result = scan_paths([str(tmp_path)], root=str(tmp_path))
    assert [(f.rule.id, f.location.path, f.message) for f in result.findings] == [
        ("parse-error", "other/.npmrc", "cannot scan this file: it is a directory, not a file"),
        ("parse-error", "pkg/.npmrc", "cannot scan this file: it is a directory, not a file"),
    ]
    assert result.files_scanned == 2
