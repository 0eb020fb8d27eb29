"""The PowerShell reader, rougher than the bash one: statements, quoting, here-strings,
`$env:X`, redirections, and GitHub's `${{ … }}` (substituted before PowerShell runs)."""

from __future__ import annotations

import re

from npm_guard.workflow.shell_words import CMDSUB, EXPR, LIT, PARAM, Command, Part, Redirect, Word

_PWSH_VARIABLE_RE = re.compile(r"\$(?:[Ee][Nn][Vv]:)?([A-Za-z_][A-Za-z0-9_]*)")


def read_pwsh(source: str) -> list[Command]:
    """The commands of a PowerShell script, in source order."""
    return _PwshReader(source).read()


class _PwshReader:
    """PowerShell basics: statements, quoting, here-strings, `$env:X`, redirections."""

    def __init__(self, source: str) -> None:
        self.s = source
        self.n = len(source)
        self.i = 0

    def read(self) -> list[Command]:
        commands: list[Command] = []
        current = Command(start=0)
        after = ""
        previous: Command | None = None
        s = self.s
        while self.i < self.n:
            c = s[self.i]
            if c in " \t\r":
                self.i += 1
                continue
            if c == "`" and self.i + 1 < self.n and s[self.i + 1] in "\r\n":
                self.i += 3 if s.startswith("`\r\n", self.i) else 2
                continue
            if s.startswith("<#", self.i):
                end = s.find("#>", self.i + 2)
                self.i = self.n if end < 0 else end + 2
                continue
            if c == "#":
                end = s.find("\n", self.i)
                self.i = self.n if end < 0 else end
                continue
            op = next((o for o in ("&&", "||", "\n", ";", "|") if s.startswith(o, self.i)), None)
            if op is not None:
                self.i += len(op)
                if current.words or current.redirects:
                    current.after, current.piped_from = after, previous
                    current.end = self.i
                    current.start = current.words[0].start if current.words else current.start
                    commands.append(current)
                    previous = current if op == "|" else None
                else:
                    previous = None
                current, after = Command(start=self.i), op
                continue
            if c in "{}()":
                self.i += 1
                continue
            redirect = self._redirect()
            if redirect is not None:
                current.redirects.append(redirect)
                continue
            current.words.append(self._word())
        if current.words or current.redirects:
            current.after, current.piped_from = after, previous
            current.end = self.n
            current.start = current.words[0].start if current.words else current.start
            commands.append(current)
        return commands

    def _redirect(self) -> Redirect | None:
        s = self.s
        for op in (">>", ">"):
            if s.startswith(op, self.i) or (
                s[self.i : self.i + 1] in ("1", "*") and s.startswith(op, self.i + 1)
            ):
                fd = "" if s.startswith(op, self.i) else "1"
                self.i += len(op) + len(fd)
                while self.i < self.n and s[self.i] in " \t":
                    self.i += 1
                return Redirect(op, fd, self._word())
        return None

    def _word(self) -> Word:
        s = self.s
        start = self.i
        parts: list[Part] = []
        if s.startswith('@"', self.i) or s.startswith("@'", self.i):
            quote = s[self.i + 1]
            body_start = s.find("\n", self.i) + 1 or self.n
            close = s.find("\n" + quote + "@", body_start - 1)
            body_end = self.n if close < 0 else max(close, body_start)
            self.i = self.n if close < 0 else close + 3
            if quote == "'":
                parts = _split_expressions_in(s, body_start, body_end, "'")
            else:
                parts = self._expanding(body_start, body_end, '"')
            return Word(parts or [Part(LIT, "", start, self.i)], start, self.i)
        buffer: list[str] = []
        buffer_start = self.i
        while self.i < self.n and s[self.i] not in " \t\r\n;|{}()":
            c = s[self.i]
            if c == ">":
                break
            if c == "'":
                if buffer:
                    parts.append(Part(LIT, "".join(buffer), buffer_start, self.i))
                    buffer = []
                end = self.i + 1
                text: list[str] = []
                while end < self.n:
                    if s[end] == "'" and s.startswith("''", end):
                        text.append("'")
                        end += 2
                        continue
                    if s[end] == "'":
                        break
                    text.append(s[end])
                    end += 1
                parts.extend(_split_expressions_in(s, self.i + 1, end, "'"))
                self.i = min(end + 1, self.n)
                buffer_start = self.i
                continue
            if c == '"':
                if buffer:
                    parts.append(Part(LIT, "".join(buffer), buffer_start, self.i))
                    buffer = []
                end = self.i + 1
                while end < self.n and s[end] != '"':
                    end += 2 if s[end] == "`" else 1
                parts.extend(self._expanding(self.i + 1, min(end, self.n), '"'))
                self.i = min(end + 1, self.n)
                buffer_start = self.i
                continue
            if c == "$":
                part = self._variable(self.i, "")
                if part is not None:
                    if buffer:
                        parts.append(Part(LIT, "".join(buffer), buffer_start, self.i))
                        buffer = []
                    parts.append(part)
                    self.i = part.end
                    buffer_start = self.i
                    continue
            if c == "`" and self.i + 1 < self.n:
                if not buffer:
                    buffer_start = self.i
                buffer.append(s[self.i + 1])
                self.i += 2
                continue
            if not buffer:
                buffer_start = self.i
            buffer.append(c)
            self.i += 1
        if buffer:
            parts.append(Part(LIT, "".join(buffer), buffer_start, self.i))
        if self.i == start and self.i < self.n:
            self.i += 1
        return Word(parts or [Part(LIT, "", start, self.i)], start, self.i)

    def _expanding(self, start: int, end: int, quote: str) -> list[Part]:
        s = self.s
        parts: list[Part] = []
        buffer: list[str] = []
        buffer_start = start
        j = start
        while j < end:
            c = s[j]
            if c == "`" and j + 1 < end:
                if not buffer:
                    buffer_start = j
                escaped = s[j + 1]
                buffer.append({"n": "\n", "t": "\t", "r": "\r"}.get(escaped, escaped))
                j += 2
                continue
            if c == "$":
                part = self._variable(j, quote)
                if part is not None:
                    if buffer:
                        parts.append(Part(LIT, "".join(buffer), buffer_start, j, quote))
                        buffer = []
                    parts.append(part)
                    j = part.end
                    buffer_start = j
                    continue
            if not buffer:
                buffer_start = j
            buffer.append(c)
            j += 1
        if buffer:
            parts.append(Part(LIT, "".join(buffer), buffer_start, j, quote))
        return parts

    def _variable(self, at: int, quote: str) -> Part | None:
        s = self.s
        if s.startswith("${{", at):
            close = s.find("}}", at + 3)
            if close >= 0:
                return Part(EXPR, s[at + 3 : close], at, close + 2, quote)
        if s.startswith("${", at):
            close = s.find("}", at + 2)
            if close >= 0:
                name = s[at + 2 : close]
                if name.lower().startswith("env:"):
                    name = name[4:]
                return Part(PARAM, name, at, close + 1, quote)
        if s.startswith("$(", at):
            depth, j = 0, at + 1
            while j < self.n:
                if s[j] == "(":
                    depth += 1
                elif s[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            return Part(CMDSUB, s[at + 2 : j], at, min(j + 1, self.n), quote)
        match = _PWSH_VARIABLE_RE.match(s, at)
        if match is not None:
            return Part(PARAM, match.group(1), at, match.end(), quote)
        return None


def _split_expressions_in(source: str, start: int, end: int, quote: str) -> list[Part]:
    parts: list[Part] = []
    position = start
    if quote == "'" and "''" in source[start:end]:
        return [Part(LIT, source[start:end].replace("''", "'"), start, end, quote)]
    while True:
        found = source.find("${{", position, end)
        close = source.find("}}", found + 3, end) if found >= 0 else -1
        if found < 0 or close < 0:
            break
        if found > position:
            parts.append(Part(LIT, source[position:found], position, found, quote))
        parts.append(Part(EXPR, source[found + 3 : close], found, close + 2, quote))
        position = close + 2
    if end > position or not parts:
        parts.append(Part(LIT, source[position:end], position, end, quote))
    return parts
