"""Places in a workflow file: spans, and where a scalar's characters are.

A `Span` is what a finding points at. `ValuePositions` maps an offset in a scalar's
value (a `run:` script as the shell reader sees it) back to the file's line and column,
through YAML's block, folded and quoted styles.
"""

from __future__ import annotations

from npm_guard._record import dataclass
from npm_guard.workflow.yaml_loader import LoadedYaml, ScalarNode

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.yaml_loader import YamlNode


@dataclass(frozen=True)
class Span:
    """A 1-based place in the workflow file."""

    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None


def node_span(node: YamlNode) -> Span:
    return Span(node.line, node.column, node.end_line, node.end_column)


def key_span(key: ScalarNode, value: YamlNode | None = None) -> Span:
    """From a key to the end of its value when that is on the same line."""
    if value is not None and value.end_line == key.line and isinstance(value, ScalarNode):
        return Span(key.line, key.column, value.end_line, value.end_column)
    return Span(key.line, key.column, key.end_line, key.end_column)


@dataclass(eq=False, repr=False)
class ValuePositions:
    """Where each character of a scalar's value (a `run:` script) is in the file.

    A literal block (`|`) keeps its lines, so an offset is found by its line; any other
    style (folded, quoted, plain) is aligned character by character, once.
    """

    node: ScalarNode
    text: str  # the scalar's value
    loaded: LoadedYaml
    _map: list[int] | None = None

    def span(self, start: int, end: int | None = None) -> Span:
        """The file span of value offsets `start`..`end`."""
        line, column = self.position(start)
        if end is None or end <= start:
            return Span(line, column)
        end_line, end_column = self.position(max(end - 1, start))
        return Span(line, column, end_line, end_column + 1)

    def position(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.text)))
        if self.node.style == "|":
            exact = self._literal_position(offset)
            if exact is not None:
                return exact
        if self._map is None:
            self._map = self._align()
        if not self._map:
            return self.node.line, self.node.column
        file_offset = self._map[min(offset, len(self._map) - 1)]
        return self.loaded.position(file_offset)

    def _literal_position(self, offset: int) -> tuple[int, int] | None:
        line_index = self.text.count("\n", 0, offset)
        line_start = self.text.rfind("\n", 0, offset) + 1
        line_end = self.text.find("\n", offset)
        value_line = self.text[line_start : line_end if line_end >= 0 else len(self.text)]
        file_line = self.node.line + 1 + line_index
        raw = self.loaded.line_text(file_line)
        if value_line and raw.endswith(value_line):
            indent = len(raw) - len(value_line)
            return file_line, indent + (offset - line_start) + 1
        if not value_line:
            return file_line, len(raw) + 1
        return None

    def _align(self) -> list[int]:
        """Value offset → file offset, matching non-blank characters in order.

        The file's characters are matched as the scalar decodes them: in a double-quoted
        scalar `\\n` is one character (so its `n` is not taken for the `n` of `npm`),
        `\\x41` is `A`; in a single-quoted one `''` is `'`.
        """
        start, end = self.node.start, self.node.end
        if self.node.is_block:
            header_end = self.loaded.text.find("\n", start)
            start = end if header_end < 0 else header_end + 1
        source = _decoded_source(self.loaded.text, start, end, self.node.style)
        offsets = [offset for _, offset in source] + [end]
        last = max(end - 1, start)
        mapping: list[int] = []
        j = 0  # index into source
        for char in self.text:
            if char in " \t\n":
                mapping.append(min(offsets[j], last))
                continue
            probe = j
            while probe < len(source) and source[probe][0] != char:
                probe += 1
            if probe < len(source):
                j = probe
            mapping.append(offsets[j])
            j = min(j + 1, len(source))
        mapping.append(offsets[j])
        return mapping


# YAML's double-quoted escapes that stand for one character (\x, \u, \U are read apart).
_YAML_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_WIDTH = {"x": 2, "u": 4, "U": 8}


def _decoded_source(raw: str, start: int, end: int, style: str) -> list[tuple[str, int]]:
    """The characters of `raw[start:end]` as the scalar's style decodes them, each with
    the file offset it comes from (line folding is left to the blank-skipping caller)."""
    if style not in ('"', "'"):
        return [(raw[i], i) for i in range(start, end)]
    chars: list[tuple[str, int]] = []
    i = start
    while i < end:
        c = raw[i]
        if style == "'" and c == "'" and raw.startswith("''", i) and i + 2 < end:
            chars.append(("'", i))
            i += 2
            continue
        if style == '"' and c == "\\" and i + 1 < end:
            escape = raw[i + 1]
            width = _HEX_WIDTH.get(escape)
            if width is not None:
                digits = raw[i + 2 : i + 2 + width]
                try:
                    chars.append((chr(int(digits, 16)), i))
                except (ValueError, OverflowError):
                    chars.append((escape, i))
                i += 2 + width
                continue
            if escape in "\r\n":  # an escaped line break: nothing
                i += 2
                continue
            chars.append((_YAML_ESCAPES.get(escape, escape), i))
            i += 2
            continue
        chars.append((c, i))
        i += 1
    return chars
