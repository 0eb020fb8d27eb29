"""What the fuzzer calls: one input, one parser, and the invariants that must hold.

Kept free of atheris so that `test_fuzz.py` can replay saved crashes without it. The
first byte picks the parser, the rest is the text (UTF-8, bad bytes replaced, as the
scan reads files). Any exception, including a broken invariant, is a crash.
"""

from __future__ import annotations

from collections.abc import Callable

PARSERS = ("npmrc", "yaml", "bash", "pwsh", "workflow", "writers")


def _npmrc(text: str) -> None:
    from npm_guard.npmrc import parse_npmrc
    from npm_guard.npmrc_scan import scan_npmrc

    npmrc = parse_npmrc(text)
    for entry in npmrc.entries:
        if entry.value_start is not None:
            assert entry.value_end is not None
            assert text[entry.value_start : entry.value_end] == entry.value_text
    for finding in scan_npmrc(".npmrc", text, no_ignores=True):
        assert finding.location.line >= 1 and finding.location.column >= 1


def _yaml(text: str) -> None:
    from npm_guard.workflow.yaml_loader import YamlLoadError, load_yaml

    try:
        loaded = load_yaml(text)
    except YamlLoadError as error:
        assert error.line >= 1 and error.column >= 1
        return
    assert loaded.line_starts[0] in (0, 1)


def _shell(text: str, shell: str) -> None:
    from npm_guard.workflow.shell import read_script

    for command in read_script(text, shell).commands:
        assert 0 <= command.start <= command.end <= len(text), (command.start, command.end)
        words = [*command.words, *(word for _, word in command.assignments)]
        words += [r.target for r in command.redirects if r.target is not None]
        for word in words:
            assert 0 <= word.start <= word.end <= len(text), (word.start, word.end)
            for part in word.parts:
                assert 0 <= part.start <= part.end <= len(text), (part.start, part.end)


def _workflow(text: str) -> None:
    from npm_guard.workflow import scan_workflow

    for finding in scan_workflow(".github/workflows/fuzz.yml", text):
        assert finding.location.line >= 1 and finding.location.column >= 1


# A token (checksum valid) that the writers target puts into names: it must never come out.
SECRET = "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"


def _writers(text: str) -> None:
    """The job summary, the audit's tables and the annotations with hostile names.

    The input is split at NUL into names (paths, messages, package and account names,
    a token put into some of them). Invariants: no line of the annotations, nor of the
    text and JSON reports as printed inside Actions, starts a workflow command npm-guard
    did not build, and `##[` appears in no other line (in an annotation's message it is
    data: the runner reads the line as that annotation, actions/runner's
    ActionCommandManager tries the legacy form only when the `::` form fails); the
    Markdown has the HTML tags GitHub's parser gives the same document with plain
    names; the token appears in no output, in no escaped form.
    """
    import os

    from leaks import leaked_forms
    from markdown_structure import facts_named, findings_named, plain_stand_in, skeleton

    from npm_guard import console
    from npm_guard.audit.table import render_markdown_tables
    from npm_guard.findings import Severity
    from npm_guard.report import render
    from npm_guard.report.summary import Verdict, render_summary

    names = (text.split("\x00") + [""] * 6)[:6]
    names[1] = names[1].replace("TOKEN", SECRET)
    names[3] = f"{names[3]}{SECRET}" if len(names[3]) % 2 else names[3]
    paths, messages, packages, accounts = names[:3], names[1:4], names[2:5], names[3:6]
    plain_paths = [plain_stand_in(p, i) for i, p in enumerate(paths)]

    findings = findings_named(paths, messages)
    plain = findings_named(plain_paths, ["m"])
    tables = render_markdown_tables(facts_named(packages, accounts))
    plain_tables = render_markdown_tables(facts_named(["p1", "p2", "p3"], ["a1", "a2", "a3"]))
    verdict = Verdict(True, Severity.ERROR)
    base = "https://github.com/o/r/blob/0/"
    summary = render_summary(findings, verdict=verdict, link_base=base, extra_sections=[tables])
    expected = render_summary(plain, verdict=verdict, link_base=base, extra_sections=[plain_tables])
    assert skeleton(summary) == skeleton(expected), (summary, expected)
    assert skeleton(tables) == skeleton(plain_tables), tables

    annotations = render("github", findings)
    before = os.environ.get("GITHUB_ACTIONS")
    os.environ["GITHUB_ACTIONS"] = "true"
    try:
        printed = console.clean(render("text", findings), fmt="text")
        printed_json = console.clean(render("json", findings), fmt="json")
    finally:
        if before is None:
            del os.environ["GITHUB_ACTIONS"]
        else:
            os.environ["GITHUB_ACTIONS"] = before
    for output in (annotations, printed, printed_json):
        for line in output.split("\n"):
            if output is annotations and _own_annotation(line):
                continue  # read as this command: the runner then never looks for `##[`
            assert not _starts_command(line) and "##[" not in line, line
    for output in (summary, tables, annotations, printed, printed_json):
        assert leaked_forms(SECRET, output) == [], output


def _starts_command(line: str) -> bool:
    """What the runner would read as a `::command` (after white space it trims)."""
    start = line.find("::")
    return start >= 0 and all(c.isspace() or not c.isprintable() for c in line[:start])


def _own_annotation(line: str) -> bool:
    import re

    shape = r"::(error|warning|notice) file=[^,:]*,line=\d+,col=1,title=npm-guard [a-z-]+::[^\r\n]*"
    return re.fullmatch(shape, line) is not None


TARGETS: dict[str, Callable[[str], None]] = {
    "npmrc": _npmrc,
    "yaml": _yaml,
    "bash": lambda text: _shell(text, "bash"),
    "pwsh": lambda text: _shell(text, "pwsh"),
    "workflow": _workflow,
    "writers": _writers,
}


def one_input(data: bytes) -> None:
    """Run the parser that the first byte selects on the rest of `data`."""
    if not data:
        return
    name = PARSERS[data[0] % len(PARSERS)]
    TARGETS[name](data[1:].decode("utf-8", errors="replace"))
