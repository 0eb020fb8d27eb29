"""Nothing a repository (or a registry) names can change the structure of the job summary
or the audit's tables (issue 12): rendered by GitHub's own Markdown parser, a document
with hostile names has exactly the HTML tags of the same document with plain names."""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_structure import (
    HOSTILE_NAMES,
    facts_named,
    findings_named,
    html_of,
    plain_stand_in,
    skeleton,
)

from npm_guard.audit.table import render_markdown_tables, render_text_tables
from npm_guard.cli import main as cli_main
from npm_guard.findings import Severity
from npm_guard.report.summary import Verdict, escape_markdown, render_summary

BASE = "https://github.com/acme/widgets/blob/0123abc/"


def summary(paths: list[str], messages: list[str], *, extra: list[str] = ()) -> str:  # type: ignore[assignment]
    return render_summary(
        findings_named(paths, messages),
        verdict=Verdict(True, Severity.ERROR),
        files_scanned=len(paths),
        link_base=BASE,
        extra_sections=list(extra),
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_path_or_message_changes_no_tag_of_the_summary(name: str) -> None:
    paths = [f"{name}/.npmrc", f"/abs/{name}", name]
    plain = [plain_stand_in(p, i) for i, p in enumerate(paths)]
    assert skeleton(summary(paths, [name])) == skeleton(summary(plain, ["plain message"]))


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_package_or_account_name_changes_no_tag_of_the_tables(name: str) -> None:
    hostile = render_markdown_tables(facts_named([name, "b"], [name, "alice"]))
    plain = render_markdown_tables(facts_named(["p1", "b"], ["a1", "alice"]))
    assert skeleton(hostile) == skeleton(plain)
    # and inside the job summary, where the tables are an extra section
    assert skeleton(summary(["a"], ["m"], extra=[hostile])) == skeleton(
        summary(["a"], ["m"], extra=[plain])
    )


def test_the_issue_example_in_a_scan_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory named `x\\n\\n## Passed ✅ <img …>` was written raw into the summary."""
    name = "x\n\n## Passed ✅ <img src=x>"
    directory = tmp_path / name
    directory.mkdir()
    (directory / ".npmrc").write_text("_authToken=${NPM_TOKEN}\n")
    monkeypatch.chdir(tmp_path)
    summary_file = tmp_path / "summary.md"
    cli_main(["scan", "--summary", str(summary_file), "."])
    html = html_of(summary_file.read_text())
    assert "<img" not in html and "<h2>Passed" not in html
    assert html.count("<h2>") == 1  # the title


def test_text_tables_keep_a_name_on_its_line() -> None:
    text = render_text_tables(facts_named(["x\nnpm-guard: no findings"], ["a\nb"]))
    assert not any(line.startswith("npm-guard: no findings") for line in text.splitlines())


@pytest.mark.parametrize(
    "text", ["a", "`", "``x`", "a | b", " x ", "", "x\ny", "`` ` ``", "<img src=x>"]
)
def test_a_code_span_shows_the_text_as_written(text: str) -> None:
    from npm_guard.report.summary import code_span

    html = html_of(f"A {code_span(text)} B")
    shown = " ".join(text.splitlines()) or " "
    import html as html_module

    inner = html.split("<code>", 1)[1].split("</code>", 1)[0]
    assert html_module.unescape(inner) == shown
    cell = html_of(f"| h |\n| --- |\n| {code_span(text, in_table=True)} |")
    assert cell.count("<td>") == 1


def test_escape_markdown_keeps_no_span_that_is_no_span() -> None:
    """```` ```<img>` ```` is no code span at all in CommonMark: the `<img>` would be HTML."""
    assert "<img" not in html_of(escape_markdown("```<img src=x>`"))
    assert "<code>" in html_of(escape_markdown("run `npm ci` first"))
