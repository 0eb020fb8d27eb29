"""The bash reader: where the commands of a `run:` script really are.

Not an interpreter: it splits a bash script into simple commands the way the shell
would: quotes, backslash escapes, line continuations, `;` `&&` `||` `|` `&`, comments,
`$( … )` and backticks (read as commands of their own), heredocs (quoted delimiters
keep `$VAR` literal), and GitHub's `${{ … }}`, which the runner substitutes before any
shell runs, so it is an expansion even inside single quotes.
"""

from __future__ import annotations

import re

from npm_guard.lazy_pattern import lazy_compile
from npm_guard.workflow.shell_words import (
    CMDSUB,
    EXPR,
    LIT,
    PARAM,
    Command,
    Heredoc,
    Part,
    Redirect,
    Word,
    render_part,
)

_NAME_RE = lazy_compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_PARAM = "@*#?$!-0123456789"
# What ends a stretch of plain text when a bracket's match is looked for: the closing
# bracket, a quote (single quotes mean nothing inside `${…}`), a backslash.
_BRACKET_STOPS = {"{": lazy_compile(r'[\\"}]'), "(": lazy_compile(r"[\\\"')]")}
_DOUBLE_QUOTED_STOPS = lazy_compile(r'[\\"]')
_ASSIGNMENT_RE = re.compile(r"\A([A-Za-z_][A-Za-z0-9_]*)\+?=")  # matched at the start only
_RESERVED = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "{", "}", "!", "in"}
)
_SKIP_WHOLE = frozenset({"for", "select", "case", "esac", "function"})
# Nested command substitutions and `bash -c` strings deeper than this are not read.
MAX_NESTING = 16


def read_bash(source: str) -> list[Command]:
    """The commands of a bash script, in source order (substitutions first)."""
    reader = _BashReader(source, 0, 0)
    reader.read()
    return reader.commands


def read_nested(source: str, base: int, depth: int) -> list[Command]:
    """Commands of a string the shell will run again (`bash -c '…'`), offsets from `base`."""
    if depth > MAX_NESTING:
        return []
    reader = _BashReader(source, base, depth)
    reader.read()
    return reader.commands


class _BashReader:
    """One pass over the script; `base` shifts offsets for nested strings."""

    def __init__(self, source: str, base: int, depth: int) -> None:
        self.s = source
        self.n = len(source)
        self.i = 0
        self.base = base
        self.depth = depth
        self.commands: list[Command] = []
        self.pending_heredocs: list[Heredoc] = []

    # --- command assembly -------------------------------------------------------

    def read(self, stop_at_paren: bool = False) -> int:
        """Read commands until the end (or an unmatched `)`); returns the stop offset."""
        current = Command(start=self.base + self.i, substitution_depth=self.depth)
        after = ""
        previous_in_pipe: Command | None = None
        skipping = False
        paren_depth = 0
        while True:
            self._skip_blanks()
            if self.i >= self.n:
                break
            c = self.s[self.i]
            if c == "#":
                self._skip_comment()
                continue
            if c == "\n":
                self.i += 1
                self._read_heredoc_bodies()
                self._finish(current, after, previous_in_pipe, "\n")
                previous_in_pipe = None
                current, after, skipping = self._new(), "\n", False
                continue
            op = self._operator()
            if op is not None:
                if op == ")" and stop_at_paren and paren_depth == 0:
                    self._finish(current, after, previous_in_pipe, ")")
                    return self.i - 1
                if op == "(":
                    paren_depth += 1
                elif op == ")":
                    paren_depth = max(paren_depth - 1, 0)
                piped = op in ("|", "|&")
                finished = self._finish(current, after, previous_in_pipe, op)
                previous_in_pipe = finished if piped else None
                current, after = self._new(), op
                skipping = False
                continue
            redirect = self._redirect()
            if redirect is not None:
                current.redirects.append(redirect)
                continue
            word = self._word()
            if word is None:  # a character no rule consumed: step over it
                self.i += 1
                continue
            if skipping:
                continue
            literal = word.literal
            if not current.words and not current.assignments:
                if literal in _SKIP_WHOLE:
                    skipping = True
                    continue
                if literal in _RESERVED:
                    current.start = self.base + self.i
                    continue
            if not current.words:
                assignment = self._assignment(word)
                if assignment is not None:
                    current.assignments.append(assignment)
                    continue
            current.words.append(word)
        self._finish(current, after, previous_in_pipe, "")
        return self.n

    def _new(self) -> Command:
        return Command(start=self.base + self.i, substitution_depth=self.depth)

    def _finish(
        self, command: Command, after: str, piped_from: Command | None, op: str
    ) -> Command | None:
        if command.words or command.assignments or command.redirects:
            command.after = after
            command.piped_from = piped_from
            command.end = self.base + self.i
            if command.words:
                command.start = command.words[0].start
            elif command.assignments:
                command.start = command.assignments[0][1].start
            self.commands.append(command)
            return command
        return None

    @staticmethod
    def _assignment(word: Word) -> tuple[str, Word] | None:
        first = word.parts[0] if word.parts else None
        if first is None or first.kind != LIT or first.quote:
            return None
        match = _ASSIGNMENT_RE.match(first.text)
        if match is None:
            return None
        rest_text = first.text[match.end() :]
        value_parts = []
        if rest_text:
            value_parts.append(
                Part(LIT, rest_text, first.start + match.end(), first.end, first.quote)
            )
        value_parts.extend(word.parts[1:])
        start = value_parts[0].start if value_parts else word.end
        return match.group(1), Word(value_parts, start, word.end)

    # --- lexing -------------------------------------------------------------------

    def _skip_blanks(self) -> None:
        s, n = self.s, self.n
        while self.i < n:
            c = s[self.i]
            if c in " \t\r":
                self.i += 1
            elif c == "\\" and self.i + 1 < n and s[self.i + 1] == "\n":
                self.i += 2
            else:
                break

    def _skip_comment(self) -> None:
        end = self.s.find("\n", self.i)
        self.i = self.n if end < 0 else end

    def _operator(self) -> str | None:
        s, i = self.s, self.i
        for op in ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")"):
            if s.startswith(op, i):
                if op == "&" and s.startswith("&>", i):
                    return None  # &> is a redirection
                self.i += len(op)
                return op
        return None

    def _redirect(self) -> Redirect | None:
        s, i = self.s, self.i
        j = i
        while j < self.n and s[j].isdigit():
            j += 1
        fd = s[i:j]
        for op in ("&>>", "<<<", "<<-", "&>", ">>", ">|", ">&", "<&", "<>", "<<", ">", "<"):
            if s.startswith(op, j):
                if fd and op.startswith("&"):
                    return None
                self.i = j + len(op)
                self._skip_blanks()
                if op in ("<<", "<<-"):
                    return self._heredoc_start(op, fd)
                target = self._word()
                return Redirect(op, fd, target)
        return None

    def _heredoc_start(self, op: str, fd: str) -> Redirect:
        word = self._word()
        if word is None:
            return Redirect(op, fd)
        delimiter = "".join(p.text if p.kind == LIT else render_part(p) for p in word.parts)
        raw = self.s[word.start - self.base : word.end - self.base]
        quoted = any(ch in raw for ch in "'\"\\")
        heredoc = Heredoc(delimiter, quoted, op == "<<-")
        self.pending_heredocs.append(heredoc)
        return Redirect(op, fd, word, heredoc)

    def _read_heredoc_bodies(self) -> None:
        for heredoc in self.pending_heredocs:
            heredoc.body = self._heredoc_body(heredoc)
        self.pending_heredocs = []

    def _heredoc_body(self, heredoc: Heredoc) -> Word:
        s = self.s
        start = self.i
        parts: list[Part] = []
        while self.i < self.n:
            line_end = s.find("\n", self.i)
            if line_end < 0:
                line_end = self.n
            line = s[self.i : line_end]
            check = line.lstrip("\t") if heredoc.strip_tabs else line
            if check.rstrip("\r") == heredoc.delimiter:
                self.i = min(line_end + 1, self.n)
                break
            line_start = self.i
            if heredoc.strip_tabs:
                line_start += len(line) - len(line.lstrip("\t"))
            body_end = min(line_end + 1, self.n)
            if heredoc.quoted:
                text = s[line_start:body_end]
                parts.append(Part(LIT, text, self.base + line_start, self.base + body_end, "<<"))
            else:
                parts.extend(self._expanding_text(line_start, body_end, "<<"))
            self.i = body_end
        return Word(parts, self.base + start, self.base + self.i)

    def _expanding_text(self, start: int, end: int, quote: str) -> list[Part]:
        """Parts of text where `$…`, backticks and `\\` are live (heredoc bodies)."""
        saved_i, saved_n = self.i, self.n
        self.i, self.n = start, end
        parts: list[Part] = []
        buffer: list[str] = []
        buffer_start = start
        s = self.s
        while self.i < self.n:
            c = s[self.i]
            if c == "\\" and self.i + 1 < self.n and s[self.i + 1] in "$`\\\n":
                if s[self.i + 1] != "\n":
                    buffer.append(s[self.i + 1])
                self.i += 2
                continue
            expansion = self._expansion(quote) if c in "$`" else None
            if expansion is not None:
                if buffer:
                    parts.append(
                        Part(LIT, "".join(buffer), self.base + buffer_start, self.base + self.i)
                    )
                    buffer = []
                parts.append(expansion)
                buffer_start = self.i
                continue
            if not buffer:
                buffer_start = self.i
            buffer.append(c)
            self.i += 1
        if buffer:
            parts.append(Part(LIT, "".join(buffer), self.base + buffer_start, self.base + self.i))
        self.i, self.n = saved_i, saved_n
        return [Part(p.kind, p.text, p.start, p.end, quote) for p in parts]

    def _word(self) -> Word | None:
        s = self.s
        start = self.i
        parts: list[Part] = []
        buffer: list[str] = []
        buffer_start = self.i

        def flush(quote: str = "") -> None:
            nonlocal buffer, buffer_start
            if buffer:
                parts.append(
                    Part(LIT, "".join(buffer), self.base + buffer_start, self.base + self.i, quote)
                )
                buffer = []

        while self.i < self.n:
            c = s[self.i]
            if c in " \t\r\n;&|()<>":
                if c == "\r" and self.i + 1 < self.n and s[self.i + 1] != "\n":
                    buffer.append(c)
                    self.i += 1
                    continue
                break
            if c == "\\":
                if self.i + 1 < self.n and s[self.i + 1] == "\n":
                    self.i += 2
                    continue
                if not buffer:
                    buffer_start = self.i
                if self.i + 1 < self.n:
                    buffer.append(s[self.i + 1])
                self.i = min(self.i + 2, self.n)
                continue
            if c == "'":
                flush()
                parts.extend(self._single_quoted())
                buffer_start = self.i
                continue
            if c == '"':
                flush()
                parts.extend(self._double_quoted())
                buffer_start = self.i
                continue
            if c == "$" and s.startswith("$'", self.i):
                flush()
                parts.append(self._ansi_quoted())
                buffer_start = self.i
                continue
            if c in "$`":
                expansion = self._expansion("")
                if expansion is not None:
                    flush()
                    parts.append(expansion)
                    buffer_start = self.i
                    continue
            if not buffer:
                buffer_start = self.i
            buffer.append(c)
            self.i += 1
        flush()
        if self.i == start:
            return None
        if not parts:
            parts = [Part(LIT, "", self.base + start, self.base + self.i)]
        return Word(parts, self.base + start, self.base + self.i)

    def _single_quoted(self) -> list[Part]:
        """'…': literal, except `${{ … }}`, which the runner has substituted already."""
        s = self.s
        self.i += 1
        end = s.find("'", self.i)
        if end < 0:
            end = self.n
        parts = self._split_expressions(self.i, end, "'")
        self.i = min(end + 1, self.n)
        return parts

    def _split_expressions(self, start: int, end: int, quote: str) -> list[Part]:
        parts: list[Part] = []
        position = start
        while True:
            found = self.s.find("${{", position, end)
            if found < 0:
                break
            close = self.s.find("}}", found + 3, end)
            if close < 0:
                break
            if found > position:
                parts.append(
                    Part(
                        LIT, self.s[position:found], self.base + position, self.base + found, quote
                    )
                )
            parts.append(
                Part(
                    EXPR, self.s[found + 3 : close], self.base + found, self.base + close + 2, quote
                )
            )
            position = close + 2
        if end > position or not parts:
            parts.append(
                Part(LIT, self.s[position:end], self.base + position, self.base + end, quote)
            )
        return parts

    def _ansi_quoted(self) -> Part:
        s = self.s
        start = self.i
        self.i += 2
        text: list[str] = []
        while self.i < self.n and s[self.i] != "'":
            if s[self.i] == "\\" and self.i + 1 < self.n:
                escaped = s[self.i + 1]
                text.append({"n": "\n", "t": "\t", "r": "\r"}.get(escaped, escaped))
                self.i += 2
                continue
            text.append(s[self.i])
            self.i += 1
        self.i = min(self.i + 1, self.n)
        return Part(LIT, "".join(text), self.base + start, self.base + self.i, "$'")

    def _double_quoted(self) -> list[Part]:
        s = self.s
        self.i += 1
        parts: list[Part] = []
        buffer: list[str] = []
        buffer_start = self.i
        while self.i < self.n and s[self.i] != '"':
            c = s[self.i]
            if c == "\\" and self.i + 1 < self.n and s[self.i + 1] in '$`"\\\n':
                if not buffer:
                    buffer_start = self.i
                if s[self.i + 1] != "\n":
                    buffer.append(s[self.i + 1])
                self.i += 2
                continue
            if c in "$`":
                expansion = self._expansion('"')
                if expansion is not None:
                    if buffer:
                        parts.append(
                            Part(
                                LIT,
                                "".join(buffer),
                                self.base + buffer_start,
                                self.base + self.i,
                                '"',
                            )
                        )
                        buffer = []
                    parts.append(expansion)
                    buffer_start = self.i
                    continue
            if not buffer:
                buffer_start = self.i
            buffer.append(c)
            self.i += 1
        if buffer or not parts:
            parts.append(
                Part(LIT, "".join(buffer), self.base + buffer_start, self.base + self.i, '"')
            )
        self.i = min(self.i + 1, self.n)
        return parts

    def _expansion(self, quote: str) -> Part | None:
        """`${{ … }}`, `$NAME`, `${…}`, `$(…)`, `$((…))` or a backtick substitution."""
        s, i = self.s, self.i
        if s.startswith("${{", i):
            close = s.find("}}", i + 3, self.n)
            if close >= 0:
                self.i = close + 2
                return Part(EXPR, s[i + 3 : close], self.base + i, self.base + self.i, quote)
        if s.startswith("$((", i):
            end = self._matching(i + 1, "(", ")")
            self.i = end
            return Part(
                CMDSUB, s[i + 3 : max(end - 2, i + 3)], self.base + i, self.base + end, quote
            )
        if s.startswith("$(", i):
            inner = _BashReader(s[: self.n], self.base, self.depth + 1)
            inner.i = i + 2
            if self.depth < MAX_NESTING:
                stop = inner.read(stop_at_paren=True)
                self.commands.extend(inner.commands)
            else:
                stop = self._matching(i + 1, "(", ")") - 1
            self.i = min(stop + 1, self.n)
            return Part(CMDSUB, s[i + 2 : stop], self.base + i, self.base + self.i, quote)
        if s.startswith("${", i):
            end = self._matching(i + 1, "{", "}")
            body = s[i + 2 : max(end - 1, i + 2)]
            self.i = end
            name = body.lstrip("#!")
            match = _NAME_RE.match(name)
            name = match.group() if match else name[:1]
            return Part(PARAM, name, self.base + i, self.base + end, quote)
        if s.startswith("`", i):
            end = i + 1
            while end < self.n and s[end] != "`":
                end += 2 if s[end] == "\\" else 1
            end = min(end, self.n)
            if self.depth < MAX_NESTING:
                self.commands.extend(read_nested(s[i + 1 : end], self.base + i + 1, self.depth + 1))
            self.i = min(end + 1, self.n)
            return Part(CMDSUB, s[i + 1 : end], self.base + i, self.base + self.i, quote)
        if s.startswith("$", i) and i + 1 < self.n:
            match = _NAME_RE.match(s, i + 1)
            if match is not None:
                self.i = match.end()
                return Part(PARAM, match.group(), self.base + i, self.base + self.i, quote)
            if s[i + 1] in _SPECIAL_PARAM:
                self.i = i + 2
                return Part(PARAM, s[i + 1], self.base + i, self.base + self.i, quote)
        return None

    def _matching(self, open_at: int, opening: str, closing: str) -> int:
        """Offset just past the bracket matching the one at `open_at` (quotes respected).

        From one closing bracket, quote or backslash to the next (found by a search, in
        C), counting the opening brackets between them at once: a `${{${{${{…` of two
        MiB is one search and one count, not two million steps of Python.
        """
        s, n = self.s, self.n
        stops = _BRACKET_STOPS[opening]
        depth = 0
        j = open_at
        while j < n:
            found = stops.search(s, j, n)
            stop = found.start() if found is not None else n
            depth += s.count(opening, j, stop)
            if stop >= n:
                return n
            c = s[stop]
            if c == "\\":
                j = stop + 2
            elif c == "'":
                close = s.find("'", stop + 1, n)
                j = n if close < 0 else close + 1
            elif c == '"':
                j = stop + 1
                while j < n:
                    inner = _DOUBLE_QUOTED_STOPS.search(s, j, n)
                    if inner is None:
                        j = n
                    elif s[inner.start()] == "\\":
                        j = inner.start() + 2
                        continue
                    else:
                        j = inner.start()
                    break
                j += 1
            else:  # the closing bracket
                depth -= 1
                if depth == 0:
                    return stop + 1
                j = stop + 1
        return n
