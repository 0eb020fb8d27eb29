"""A shell script as its readers hand it over: commands, words, parts, redirections.

A `Script` is a list of simple commands, each with its words, prefix assignments and
redirections (heredocs included). Every word keeps its parts: literal text (after quote
removal), a shell parameter that will be expanded, a `${{ … }}` expression, or a
command substitution, each with its offset in the script, so callers can tell
`'$NPM_TOKEN'` (written literally) from `"$NPM_TOKEN"` (expanded) and point at the exact
line. `shell_bash` and `shell_pwsh` build these; `shell.read_script` picks the reader.
"""

from __future__ import annotations

from npm_guard._record import dataclass, field

LIT = "lit"
PARAM = "param"
EXPR = "expr"
CMDSUB = "cmdsub"


@dataclass(frozen=True)
class Part:
    """A piece of a word: literal text, or something the shell or the runner expands."""

    kind: str  # LIT, PARAM (text = variable name), EXPR (text = inside ${{ }}), CMDSUB
    text: str
    start: int
    end: int
    quote: str = ""  # "" unquoted, "'", '"', "$'", "<<" heredoc body


@dataclass
class Word:
    parts: list[Part]
    start: int
    end: int

    @property
    def literal(self) -> str | None:
        """The word's text when it holds only literal parts, else None."""
        if all(p.kind == LIT for p in self.parts):
            return "".join(p.text for p in self.parts)
        return None

    @property
    def text(self) -> str:
        """The word as a reader would recognise it: expansions shown in `$NAME` form."""
        return "".join(render_part(p) for p in self.parts)

    @property
    def quoted(self) -> bool:
        return any(p.quote for p in self.parts)


def render_part(part: Part) -> str:
    if part.kind == LIT:
        return part.text
    if part.kind == PARAM:
        return "${" + part.text + "}"
    if part.kind == EXPR:
        return "${{ " + part.text.strip() + " }}"
    return "$(" + part.text + ")"


@dataclass
class Heredoc:
    delimiter: str
    quoted: bool  # a quoted delimiter: the body is literal text
    strip_tabs: bool
    body: Word | None = None  # filled when the body has been read


@dataclass
class Redirect:
    op: str  # ">", ">>", ">|", "<", "<<", "<<-", "<<<", "&>", "&>>", ">&", "<&", "<>"
    fd: str  # explicit descriptor ("2" in 2>), else ""
    target: Word | None = None
    heredoc: Heredoc | None = None

    @property
    def writes_stdout(self) -> bool:
        return self.op in (">", ">>", ">|", "&>", "&>>") and self.fd in ("", "1")

    @property
    def appends(self) -> bool:
        return self.op in (">>", "&>>")


@dataclass
class Command:
    """A simple command: `A=1 B=2 cmd arg… >file <<EOF`."""

    words: list[Word] = field(default_factory=list)
    assignments: list[tuple[str, Word]] = field(default_factory=list)
    redirects: list[Redirect] = field(default_factory=list)
    start: int = 0
    end: int = 0
    after: str = ""  # the operator before it: "", ";", "&&", "||", "|", "&", "\n"
    piped_from: Command | None = None  # the command whose stdout is this one's stdin
    substitution_depth: int = 0  # > 0 inside $( … ), backticks or `bash -c`

    @property
    def argv(self) -> list[str]:
        return [w.text for w in self.words]

    @property
    def name(self) -> str:
        return self.words[0].text if self.words else ""


@dataclass
class Script:
    commands: list[Command]
    shell: str  # "bash" or "pwsh"
