"""What the fuzzer calls: one input, one parser, and the invariants that must hold.

Kept free of atheris so that `test_fuzz.py` can replay saved crashes without it. The
first byte picks the parser, the rest is the text (UTF-8, bad bytes replaced, as the
scan reads files). Any exception, including a broken invariant, is a crash.
"""

from __future__ import annotations

from collections.abc import Callable

PARSERS = ("npmrc", "yaml", "bash", "pwsh", "workflow")


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


TARGETS: dict[str, Callable[[str], None]] = {
    "npmrc": _npmrc,
    "yaml": _yaml,
    "bash": lambda text: _shell(text, "bash"),
    "pwsh": lambda text: _shell(text, "pwsh"),
    "workflow": _workflow,
}


def one_input(data: bytes) -> None:
    """Run the parser that the first byte selects on the rest of `data`."""
    if not data:
        return
    name = PARSERS[data[0] % len(PARSERS)]
    TARGETS[name](data[1:].decode("utf-8", errors="replace"))
