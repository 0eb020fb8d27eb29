"""What GitHub makes of npm-guard's Markdown, and whether a name from the repository can
change it: the job summary and the audit's tables rendered by cmark-gfm (the parser
GitHub renders Markdown with, `cmarkgfm`), raw HTML let through so that any that gets
in shows, then reduced to the sequence of its HTML tags. The same document rendered
with hostile names and with plain ones must have the same tags: a name can add text,
never a heading, an image, a link, a table cell or a line of its own.
"""

from __future__ import annotations

import datetime
import functools
from html.parser import HTMLParser
from typing import Any

import cmarkgfm
from cmarkgfm.cmark import Options

from npm_guard.audit.facts import (
    Account,
    AuditFacts,
    Evidence,
    EvidenceKind,
    PackageFacts,
    TokenFacts,
    TokenKind,
    TwoFactorMode,
)
from npm_guard.findings import Finding, Location, Severity
from npm_guard.policy import AuditSettings
from npm_guard.rules import npmrc_plaintext_credential, parse_error

# Names a repository (or a registry) could choose, each trying to break out of its place.
HOSTILE_NAMES = [
    "x\n\n## Passed ✅ <img src=x onerror=alert(1)>",
    "a | b | c",
    "`a | b` and `c`",
    "```<img src=x>`",
    "x` <img src=y> `y",
    "[link](https://evil.example/) ![i](https://evil.example/i.png)",
    "<details open><summary>Passed</summary>",
    "**bold** _em_ ~~s~~ # not a heading",
    "\\`\\| \\<b>",
    "&lt;img src=x&gt; &#60;b&#62;",
    "line\rbreak\u2028and\u2029more\x85end",
    "- [x] task\n1. item",
    "::stop-commands::pwned",
    "##[set-output name=verdict;]pass",
    "https://evil.example/<script>",
    " leading and trailing ",
    "",
    # found by the fuzz target: user info redacted, escaped, then redacted again as `***`
    "https://deploy@registry.example/ and //ci:pw@host/",
    # found by the fuzz target: a fence longer than cmark reads (80) is no code span
    "`" * 90 + " https://evil.example/ <img src=x>",
]


_GITHUB_EXTENSIONS = ("table", "autolink", "tagfilter", "strikethrough", "tasklist")
_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG


@functools.cache
def _cmark() -> tuple[Any, Any, Any, list[Any]]:
    """cmark-gfm's library, and the two functions its Python wrapper does not free with:
    `cmarkgfm.github_flavored_markdown_to_html` leaks the document tree and the HTML of
    every call (hundreds of MB over a fuzz run), so this renders the same way and frees."""
    import cffi
    from cmarkgfm import _cmark as compiled

    lib = compiled.lib
    lib.cmark_gfm_core_extensions_ensure_registered()
    extensions = [lib.cmark_find_syntax_extension(name.encode()) for name in _GITHUB_EXTENSIONS]
    extra = cffi.FFI()
    extra.cdef("void cmark_node_free(void *node); void free(void *ptr);")
    return lib, extra.dlopen(compiled.__file__), extra.dlopen(None), extensions


def html_of(markdown: str) -> str:
    """GitHub-flavoured Markdown to HTML, as `cmarkgfm.github_flavored_markdown_to_html`
    renders it, raw HTML kept (to be seen)."""
    lib, own, libc, extensions = _cmark()
    parser = lib.cmark_parser_new(_OPTIONS)
    try:
        for extension in extensions:
            lib.cmark_parser_attach_syntax_extension(parser, extension)
        data = markdown.encode("utf-8", "surrogatepass")
        lib.cmark_parser_feed(parser, data, len(data))
        root = lib.cmark_parser_finish(parser)
        try:
            attached = lib.cmark_parser_get_syntax_extensions(parser)
            raw = lib.cmark_render_html(root, _OPTIONS, attached)
            try:
                return cmarkgfm.cmark._cmark.ffi.string(raw).decode("utf-8", "replace")
            finally:
                libc.free(raw)
        finally:
            own.cmark_node_free(root)
    finally:
        lib.cmark_parser_free(parser)


# Code spans: rules put values in backticks on purpose, and a name with backticks can only
# move where such a span starts and ends; inside one nothing is Markdown or HTML.
_INLINE_TEXT = frozenset({"code"})


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.mailto = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and (dict(attrs).get("href") or "").startswith("mailto:"):
            self.mailto += 1  # GitHub links an e-mail address to itself: text, not structure
            return
        if tag not in _INLINE_TEXT:
            self.tags.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.mailto:
            self.mailto -= 1
            return
        if tag not in _INLINE_TEXT:
            self.tags.append(f"</{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(f"<{tag}/>")

    def handle_comment(self, data: str) -> None:
        self.tags.append("<!---->")

    def handle_decl(self, decl: str) -> None:
        self.tags.append("<!decl>")

    def handle_pi(self, data: str) -> None:
        self.tags.append("<?pi>")


def skeleton(markdown: str) -> list[str]:
    """The HTML tags GitHub would render `markdown` into, in order."""
    parser = _Tags()
    parser.feed(html_of(markdown))
    parser.close()
    return parser.tags


def plain_stand_in(name: str, index: int) -> str:
    """A harmless name in the place of a hostile one (absolute paths stay absolute, so
    that the summary links the same findings)."""
    return f"/plain{index}" if name.startswith("/") else f"plain{index}"


def findings_named(paths: list[str], messages: list[str]) -> list[Finding]:
    rules = [npmrc_plaintext_credential.RULE, parse_error.RULE]
    return [
        Finding(
            rule=rules[i % 2],
            location=Location(path or "x", i + 1, 1),
            message=messages[i % len(messages)] or "m",
            key=f"k{i}",
            severity=Severity.ERROR if i % 2 else Severity.WARNING,
            tip=f"tip for {messages[i % len(messages)]}",
        )
        for i, path in enumerate(paths)
    ]


def facts_named(packages: list[str], accounts: list[str]) -> AuditFacts:
    """Audit facts whose package, account, evidence and token texts are `packages` and
    `accounts` (one package per name, every account on each)."""
    evidence = Evidence(EvidenceKind.NONE, TwoFactorMode.UNKNOWN, "detail", accounts[0] or "e")
    people = tuple(
        Account(name or "a", (f"published {name}", "maintainer"), evidence) for name in accounts
    )
    return AuditFacts(
        packages=tuple(
            PackageFacts(
                name=name or "p",
                registry=f"https://registry.example/{name}",
                location=Location("package.json"),
                policy=None,
                settings=AuditSettings(),
                maintainers=tuple(a.name for a in people),
                collaborators=None,
                accounts=people,
            )
            for name in packages
        ),
        token=TokenFacts(
            env="NPM_TOKEN",
            redacted=accounts[-1] or "t",
            registry="https://registry.example/",
            location=Location("package.json"),
            spec=None,
            checked_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc),
            found=True,
            kind=TokenKind.GRANULAR,
            readonly=True,
            cidr=(accounts[0] or "c",),
            bypass_2fa=False,
            expiry_known=True,
        ),
    )
