"""YAML with positions, composed from the parser's event stream under hard limits.

PyYAML's own composer recurses once per nesting level (10 000 levels of `[` crash the
C composer's stack or hit Python's recursion limit) and hands back alias graphs that
expand exponentially when walked. So this module builds the node tree itself from
libyaml's events (the C parser when present, which is iterative): no recursion, the
nesting depth and the *expanded* node count (aliases counted as many times as they are
used) are checked as the tree grows, and the load is refused past the limits.

Scalars stay strings: `on:` is the key `on` (YAML 1.1 would make it `true`), `id-token:
write` a string, `true` is checked where a boolean is meant. Merge keys (`<<`) are an
ordinary key, as in GitHub Actions, which supports anchors but not merge keys.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from npm_guard._record import dataclass, field
from npm_guard.lazy_pattern import lazy_compile

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from typing import Protocol, Union

    class _Mark(Protocol):
        line: int
        column: int


MAX_DEPTH = 200
MAX_EXPANDED_NODES = 100_000

# libyaml's line breaks: NEL, LS and PS count as breaks too (YAML 1.1).
_BREAK_RE = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_QUOTED_RE = lazy_compile(r"'([^']*)'")


class YamlLoadError(Exception):
    """The text is not YAML we will read; `problem` never quotes the file."""

    def __init__(self, problem: str, line: int = 1, column: int = 1) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line
        self.column = column


@dataclass(eq=False, repr=False)
class Node:
    """Where a node is: 1-based line and column, and character offsets into the text."""

    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int


@dataclass(eq=False, repr=False)
class ScalarNode(Node):
    value: str = ""
    style: str = ""  # "" plain, "'", '"', "|" literal, ">" folded

    @property
    def is_block(self) -> bool:
        return self.style in ("|", ">")

    def is_true(self) -> bool:
        return self.style == "" and self.value in ("true", "True", "TRUE")


@dataclass(eq=False, repr=False)
class SequenceNode(Node):
    items: list[YamlNode] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class MappingNode(Node):
    pairs: list[tuple[YamlNode, YamlNode]] = field(default_factory=list)

    def get(self, key: str) -> YamlNode | None:
        """The value of the last pair whose key is the scalar `key` (YAML's last wins)."""
        found: YamlNode | None = None
        for k, v in self.pairs:
            if isinstance(k, ScalarNode) and k.value == key:
                found = v
        return found

    def key_node(self, key: str) -> ScalarNode | None:
        found: ScalarNode | None = None
        for k, _ in self.pairs:
            if isinstance(k, ScalarNode) and k.value == key:
                found = k
        return found

    def items(self) -> Iterator[tuple[ScalarNode, YamlNode]]:
        """Pairs with scalar keys (the only keys a workflow has), in file order."""
        for k, v in self.pairs:
            if isinstance(k, ScalarNode):
                yield k, v


if TYPE_CHECKING:
    YamlNode = Union[ScalarNode, SequenceNode, MappingNode]


@dataclass
class LoadedYaml:
    """The first document's root (None for an empty file) and what comments need."""

    text: str
    root: YamlNode | None
    line_starts: list[int]
    # (start, end) offsets of every scalar, sorted: a `#` inside one is not a comment.
    scalar_spans: list[tuple[int, int]]
    block_scalars: list[ScalarNode]

    def offset(self, line: int, column: int) -> int:
        """Character offset of a 1-based line and column."""
        line = min(max(line, 1), len(self.line_starts))
        return self.line_starts[line - 1] + column - 1

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        index = bisect.bisect_right(self.line_starts, offset) - 1
        index = max(index, 0)
        return index + 1, offset - self.line_starts[index] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        if line < 1 or line > len(self.line_starts):
            return ""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n\x85\u2028\u2029")

    def inside_scalar(self, offset: int) -> bool:
        index = bisect.bisect_right(self.scalar_spans, (offset, len(self.text) + 1)) - 1
        return index >= 0 and self.scalar_spans[index][0] <= offset < self.scalar_spans[index][1]


def line_starts_of(text: str) -> list[int]:
    """Offsets where lines start, breaking lines the way libyaml does."""
    starts = [1 if text.startswith("\ufeff") else 0]
    starts.extend(match.end() for match in _BREAK_RE.finditer(text))
    return starts


def existing_position(starts: list[int], text: str, line: int, column: int) -> tuple[int, int]:
    """(line, column), 1-based, moved back to the end of the last line when past it.

    At the end of a file that ends with a line break, the parser's mark is on the line
    after it, which no editor shows: an error there (an unclosed `[` or quote) is put
    at the end of the file's last line instead.
    """
    last = len(starts)
    if last > 1 and starts[-1] >= len(text):
        last -= 1  # the text ends with a line break: no line follows it
    if line <= last:
        return line, column
    start = starts[last - 1]
    end = starts[last] if last < len(starts) else len(text)
    return last, len(text[start:end].rstrip("\r\n\x85\u2028\u2029")) + 1


def is_nesting_limit(error: Exception) -> bool:
    """True for libyaml's own depth refusal (its scanner stops at 1000 levels since
    PyYAML 6.0.4's bundled libyaml), which can fire before our event-level check."""
    return "maximum nesting depth" in str(getattr(error, "problem", "") or "")


def _safe_problem(problem: str | None) -> str:
    """A parser message without file content: quoted fragments longer than an escape go."""
    text = (problem or "syntax error").strip()
    return _QUOTED_RE.sub(lambda m: m.group(0) if len(m.group(1)) <= 2 else "'…'", text)


def _reader_position(starts: list[int], text: str, position: int) -> tuple[int, int]:
    offset = position + (1 if text.startswith("\ufeff") else 0)
    index = max(bisect.bisect_right(starts, offset) - 1, 0)
    return index + 1, offset - starts[index] + 1


def _loader_class() -> type:
    import yaml

    loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


@dataclass
class _Open:
    """A collection being built: its node, its expanded size so far, its pending key."""

    node: SequenceNode | MappingNode
    size: int
    height: int
    key: YamlNode | None = None
    has_key: bool = False
    anchor: str | None = None
    items: list[YamlNode] | None = None  # the node's items, when it is a sequence
    pairs: list[tuple[YamlNode, YamlNode]] | None = None  # its pairs, when a mapping


def _where(starts: list[int], mark: _Mark | None) -> tuple[int, int, int]:
    """1-based line and column of a parser mark, and its character offset."""
    if mark is None:
        return 1, 1, starts[0]
    line = min(mark.line, len(starts) - 1)
    return mark.line + 1, mark.column + 1, starts[line] + mark.column


def _add(parent: _Open, node: YamlNode, size: int, height: int) -> None:
    """Put a finished node into the collection being built."""
    parent.size += size
    parent.height = max(parent.height, height + 1)
    if isinstance(parent.node, SequenceNode):
        parent.node.items.append(node)
    elif not parent.has_key:
        parent.key, parent.has_key = node, True
    else:
        assert parent.key is not None
        parent.node.pairs.append((parent.key, node))
        parent.key, parent.has_key = None, False


def load_yaml(text: str) -> LoadedYaml:
    """Compose the first YAML document of `text`, refusing hostile shapes.

    Raises YamlLoadError (with a position) for invalid YAML, nesting deeper than
    MAX_DEPTH, aliases expanding past MAX_EXPANDED_NODES, or recursive aliases.

    Every event of every workflow passes through the loop below, so it is written for
    speed: one parser call per event, dispatch on the event's exact class, positions
    and placement inline (`_where` and `_place` are the same steps, for the rare paths).
    """
    import yaml

    starts = line_starts_of(text)
    last_line = len(starts) - 1
    spans: list[tuple[int, int]] = []
    blocks: list[ScalarNode] = []
    anchors: dict[str, tuple[YamlNode, int, int]] = {}  # node, expanded size, height
    open_anchors: set[str] = set()
    stack: list[_Open] = []
    top: _Open | None = None  # stack[-1]
    root: YamlNode | None = None
    expanded = 0
    loader = _loader_class()(text)
    get_event = loader.get_event
    scalar_event = yaml.ScalarEvent
    start_events = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    end_events = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    alias_event = yaml.AliasEvent
    document_end = yaml.DocumentEndEvent

    def place(node: YamlNode, size: int, height: int, mark: _Mark | None) -> None:
        nonlocal root
        if len(stack) + height > MAX_DEPTH:
            line, column, _ = _where(starts, mark)
            raise YamlLoadError(f"YAML nested deeper than {MAX_DEPTH} levels", line, column)
        if not stack:
            root = node
            return
        _add(stack[-1], node, size, height)

    def count(size: int, mark: _Mark | None) -> None:
        nonlocal expanded
        expanded += size
        if expanded > MAX_EXPANDED_NODES:
            line, column, _ = _where(starts, mark)
            raise YamlLoadError(
                f"YAML aliases or size expand to more than {MAX_EXPANDED_NODES} nodes",
                line,
                column,
            )

    try:
        while True:
            event = get_event()
            if event is None:
                break
            kind = type(event)
            if kind is scalar_event:
                mark = event.start_mark
                line = mark.line
                column = mark.column
                start = starts[line if line < last_line else last_line] + column
                end_mark = event.end_mark
                end_line = end_mark.line
                end_column = end_mark.column
                end = starts[end_line if end_line < last_line else last_line] + end_column
                style = event.style or ""
                scalar = ScalarNode(
                    line + 1,
                    column + 1,
                    end_line + 1,
                    end_column + 1,
                    start,
                    end,
                    event.value,
                    style,
                )
                if style == "|" or style == ">":
                    blocks.append(scalar)
                    # The header line (`run: | # comment`) is not part of the text.
                    spans.append((starts[line + 1] if line + 1 < len(starts) else end, end))
                else:
                    spans.append((start, end))
                expanded += 1
                if expanded > MAX_EXPANDED_NODES:
                    count(0, mark)
                if event.anchor:
                    anchors[event.anchor] = (scalar, 1, 0)
                if top is None:
                    place(scalar, 1, 0, mark)
                elif len(stack) > MAX_DEPTH:
                    place(scalar, 1, 0, mark)  # refuses it
                else:
                    top.size += 1
                    if top.height < 1:
                        top.height = 1
                    if top.items is not None:
                        top.items.append(scalar)
                    elif not top.has_key:
                        top.key, top.has_key = scalar, True
                    else:
                        assert top.pairs is not None and top.key is not None
                        top.pairs.append((top.key, scalar))
                        top.key, top.has_key = None, False
            elif kind in start_events:
                line, column, start = _where(starts, event.start_mark)
                if len(stack) + 1 > MAX_DEPTH:
                    raise YamlLoadError(f"YAML nested deeper than {MAX_DEPTH} levels", line, column)
                count(1, event.start_mark)
                if event.anchor:
                    open_anchors.add(event.anchor)
                if kind is yaml.SequenceStartEvent:
                    sequence = SequenceNode(line, column, line, column, start, start)
                    top = _Open(sequence, 1, 0, anchor=event.anchor, items=sequence.items)
                else:
                    mapping = MappingNode(line, column, line, column, start, start)
                    top = _Open(mapping, 1, 0, anchor=event.anchor, pairs=mapping.pairs)
                stack.append(top)
            elif kind in end_events:
                done = stack.pop()
                top = stack[-1] if stack else None
                built = done.node
                built.end_line, built.end_column, built.end = _where(starts, event.end_mark)
                if done.anchor:
                    open_anchors.discard(done.anchor)
                    anchors[done.anchor] = (built, done.size, done.height)
                place(built, done.size, done.height, event.end_mark)
            elif kind is alias_event:
                if event.anchor in open_anchors:
                    line, column, _ = _where(starts, event.start_mark)
                    raise YamlLoadError("recursive YAML alias", line, column)
                target = anchors.get(event.anchor or "")
                if target is None:
                    line, column, _ = _where(starts, event.start_mark)
                    raise YamlLoadError("YAML alias to an undefined anchor", line, column)
                node, size, height = target
                count(size, event.start_mark)
                place(node, size, height, event.start_mark)
            elif kind is document_end:
                break  # a workflow is one document; the rest is not read
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        column = mark.column + 1 if mark is not None else 1
        line, column = existing_position(starts, text, line, column)
        if is_nesting_limit(error):
            problem = f"YAML nested deeper than {MAX_DEPTH} levels"
            raise YamlLoadError(problem, line, column) from None
        raise YamlLoadError(f"invalid YAML: {_safe_problem(error.problem)}", line, column) from None
    except yaml.reader.ReaderError as error:
        line, column = _reader_position(starts, text, error.position)
        code = error.character if isinstance(error.character, int) else ord(error.character)
        raise YamlLoadError(
            f"invalid YAML: character #x{code:02X} is not allowed in YAML", line, column
        ) from None
    except yaml.YAMLError:
        raise YamlLoadError("invalid YAML: the parser refused the text") from None
    finally:
        loader.dispose()
    spans.sort()
    return LoadedYaml(text, root, starts, spans, blocks)
