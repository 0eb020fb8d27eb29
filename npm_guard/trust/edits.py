"""Byte-preserving text edits of a workflow or action file, guided by YAML positions.

Every edit replaces a range of the original text: whole lines are removed or inserted,
a scalar is replaced in place; nothing else moves, so comments, key order, quoting,
indentation and line endings stay as they were (the `--fix` standard for `.npmrc`).
What cannot be edited that way is refused with the reason (`EditRefused`): a flow
mapping that would have to be rewritten, anchors or aliases in the edited region, an
entry that starts a list item.
"""

from __future__ import annotations

import re

from npm_guard._record import dataclass
from npm_guard.workflow.yaml_loader import LoadedYaml, MappingNode, ScalarNode

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.yaml_loader import YamlNode

_ANCHOR_RE = re.compile(r"(?:^|[\s\[{,:-])([&*])[^\s,\[\]{}]+")


class EditRefused(Exception):
    """The file cannot be edited safely; `reason` says why (never quoting a value)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


class FileEditor:
    """The edits of one file, collected, then applied together."""

    def __init__(self, path: str, loaded: LoadedYaml) -> None:
        self.path = path
        self.loaded = loaded
        self.text = loaded.text
        self.newline = "\r\n" if "\r\n" in self.text else "\n"
        self.edits: list[Edit] = []
        self._removed: dict[int, set[int]] = {}  # id(mapping) -> ids of removed keys

    # --- what the edits are made of -------------------------------------------------

    def _line_start(self, offset: int) -> int:
        line, _ = self.loaded.position(offset)
        return self.loaded.line_starts[line - 1]

    def _after_line(self, offset: int) -> int:
        """The offset after the line break that ends the line holding `offset`."""
        line, _ = self.loaded.position(offset)
        starts = self.loaded.line_starts
        return starts[line] if line < len(starts) else len(self.text)

    def _content_end(self, node: YamlNode) -> int:
        """The offset just after the node's last non-blank character."""
        end = node.end
        while end > node.start and self.text[end - 1] in " \t\r\n":
            end -= 1
        return end

    def _end_of_entry(self, value: YamlNode) -> int:
        """Where the line after a pair's value starts (its trailing comment included)."""
        return self._after_line(max(self._content_end(value) - 1, value.start))

    def _check_block(self, mapping: MappingNode, what: str) -> None:
        if self.text[mapping.start : mapping.start + 1] in ("{", "["):
            raise EditRefused(f"{what} is a flow mapping (`{{ … }}`), which the edit would rewrite")

    def check_plain_region(self, node: YamlNode, what: str) -> None:
        """Refuse a region with anchors, aliases or merge keys: an edit there could change
        what another place of the file means."""
        text = self.text
        for match in _ANCHOR_RE.finditer(text, node.start, node.end):
            offset = match.start(1)
            if self._inside_text(offset) or self._in_comment(offset):
                continue
            kind = "an anchor" if match.group(1) == "&" else "an alias"
            line, _ = self.loaded.position(offset)
            raise EditRefused(f"{what} holds {kind} (line {line}), which the edit could break")
        for written in text[node.start : node.end].splitlines():
            stripped = written.lstrip()
            if stripped.startswith("<<") and stripped[2:].lstrip().startswith(":"):
                raise EditRefused(f"{what} holds a merge key (`<<:`), which the edit could break")

    def _inside_text(self, offset: int) -> bool:
        """Inside a scalar's text: a node's span starts at its anchor (`&a value`), so an
        anchor at the very start of a span is not text."""
        import bisect

        spans = self.loaded.scalar_spans
        index = bisect.bisect_right(spans, (offset, len(self.text) + 1)) - 1
        return index >= 0 and spans[index][0] < offset < spans[index][1]

    def _in_comment(self, offset: int) -> bool:
        start = self._line_start(offset)
        position = self.text.find("#", start, offset)
        while position >= 0:
            before = self.text[position - 1] if position > start else " "
            if before in " \t" and not self.loaded.inside_scalar(position):
                return True
            position = self.text.find("#", position + 1, offset)
        return False

    # --- the edits ------------------------------------------------------------------

    def remove_entry(
        self,
        mapping: MappingNode,
        key: ScalarNode,
        parents: list[tuple[MappingNode, ScalarNode]] = (),  # type: ignore[assignment]
        what: str = "the entry",
    ) -> None:
        """Remove `key: value` (whole lines). When it was the mapping's last entry, the
        key holding the mapping goes too (`parents`: innermost first)."""
        self._check_block(mapping, what)
        removed = self._removed.setdefault(id(mapping), set())
        if id(key) in removed:
            return
        removed.add(id(key))
        remaining = [k for k, _ in mapping.pairs if id(k) not in removed]
        if not remaining and parents:
            parent, parent_key = parents[0]
            self.remove_entry(parent, parent_key, list(parents[1:]), what)
            return
        if not remaining:
            raise EditRefused(f"{what} is the only entry of a mapping that must stay")
        value = next(v for k, v in mapping.pairs if k is key)
        start = self._line_start(key.start)
        if self.text[start : key.start].strip():
            raise EditRefused(f"{what} starts a list item (`- key:`), which the edit would break")
        self.edits.append(Edit(start, self._end_of_entry(value), ""))

    def set_scalar(self, node: ScalarNode, text: str, what: str) -> None:
        if node.is_block:
            raise EditRefused(f"{what} is a block scalar")
        self.edits.append(Edit(node.start, node.end, text))

    def append_entry(self, mapping: MappingNode, line: str, what: str) -> None:
        """Add `line` (`key: value`) as the mapping's last entry, at its indentation."""
        self._check_block(mapping, what)
        if not mapping.pairs:
            raise EditRefused(f"{what} is empty")
        last = mapping.pairs[-1][1]
        at = self._end_of_entry(last)
        indent = " " * (mapping.column - 1)
        prefix = "" if at == 0 or self.text[at - 1] in "\r\n" else self.newline
        self.edits.append(Edit(at, at, f"{prefix}{indent}{line}{self.newline}"))

    def insert_block_after(
        self, mapping: MappingNode, after: ScalarNode, lines: list[str], unit: int, what: str
    ) -> None:
        """Insert `lines[0]:` with `lines[1:]` one `unit` deeper after the pair of `after`."""
        self._check_block(mapping, what)
        value = next(v for k, v in mapping.pairs if k is after)
        at = self._end_of_entry(value)
        indent = " " * (mapping.column - 1)
        deeper = " " * (mapping.column - 1 + unit)
        nl = self.newline
        prefix = "" if at == 0 or self.text[at - 1] in "\r\n" else nl
        body = "".join(f"{deeper}{line}{nl}" for line in lines[1:])
        self.edits.append(Edit(at, at, f"{prefix}{indent}{lines[0]}{nl}{body}"))

    def insert_item_before(self, item: MappingNode, lines: list[str], what: str) -> None:
        """Insert a new sequence item (a step) before `item`, in the same style."""
        start = self._line_start(item.start)
        lead = self.text[start : item.start]
        if lead.strip() != "-" or not lead.rstrip().endswith("-"):
            raise EditRefused(f"{what} is not written as a `- key: value` list item")
        continuation = " " * len(lead)
        nl = self.newline
        body = f"{lead}{lines[0]}{nl}" + "".join(f"{continuation}{line}{nl}" for line in lines[1:])
        self.edits.append(Edit(start, start, body))

    # --- the result -----------------------------------------------------------------

    def apply(self) -> str:
        """The edited text; overlapping edits are refused."""
        ordered = sorted(set(self.edits), key=lambda e: (e.start, e.end, e.text))
        for first, second in zip(ordered, ordered[1:]):
            if second.start < first.end:
                raise EditRefused("two edits overlap (a bug): no edit made")
        text = self.text
        for edit in reversed(ordered):
            text = text[: edit.start] + edit.text + text[edit.end :]
        return text


def indent_unit(outer: YamlNode | None, inner: YamlNode | None) -> int:
    """The file's indentation step, from a key and its nested mapping (2 when unclear)."""
    if outer is None or inner is None:
        return 2
    step = inner.column - outer.column
    return step if 0 < step <= 8 else 2


def clear_value(editor: FileEditor, mapping: MappingNode, key: ScalarNode, what: str) -> None:
    """Leave `key:` with no value (YAML null): the lines of its block value go."""
    editor._check_block(mapping, what)
    value = next(v for k, v in mapping.pairs if k is key)
    start = editor._after_line(key.end)
    if value.start < start:
        raise EditRefused(f"{what} is written on the line of its key")
    editor.edits.append(Edit(start, editor._end_of_entry(value), ""))


def contains_word(text: str, word: str, start: int = 0, end: int | None = None) -> bool:
    """Whether `word` occurs in `text[start:end]` with no letter, digit, `_` or `-`
    right before or after it (a variable, secret or input name, found without building
    a regular expression from it)."""
    stop = len(text) if end is None else end
    position = text.find(word, start, stop)
    while position >= 0:
        before = text[position - 1] if position > 0 else " "
        after_at = position + len(word)
        after = text[after_at] if after_at < len(text) else " "
        if not (before.isalnum() or before in "_-") and not (after.isalnum() or after in "_-"):
            return True
        position = text.find(word, position + 1, stop)
    return False
