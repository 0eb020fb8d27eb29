"""The policy file's YAML, read into plain values with the line of every key and value.

Scalars are read the YAML 1.2 way (as editors using the schema read them): only
`true`/`false` are booleans, so `off` stays the word `off`, and dates stay text. Alias
bombs and absurd nesting are refused with a problem, never expanded.
"""

from __future__ import annotations

import re

from npm_guard.policy_problems import PolicyDocument, PolicyProblem, key_text

TYPE_CHECKING = False  # mypy reads the branch
if TYPE_CHECKING:
    from typing import Any

    import yaml

    from npm_guard.policy_problems import Path

# Aliases let a small file describe a huge tree ("billion laughs"); a real policy file
# has a few hundred nodes.
MAX_NODES = 20_000
MAX_DEPTH = 40

_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_FLOAT_RE = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")


def compose(text: str, display: str, problems: list[PolicyProblem]) -> PolicyDocument:
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        too_deep = _nesting_beyond(loader, MAX_DEPTH)
        if too_deep is not None:
            problems.append(
                PolicyProblem(
                    display,
                    too_deep,
                    "",
                    f"the document is nested more than {MAX_DEPTH} levels deep; a policy "
                    "file is a few levels of plain mappings and lists",
                )
            )
            return PolicyDocument()
        loader.dispose()
        loader = loader_class(text)
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        from npm_guard.workflow.yaml_loader import existing_position, line_starts_of

        starts = line_starts_of(text)

        def line_of(mark: Any) -> int:
            """The mark's line, or the last line when the mark is past the end."""
            return existing_position(starts, text, mark.line + 1, mark.column + 1)[0]

        mark = error.problem_mark or error.context_mark
        line = line_of(mark) if mark is not None else 1
        problem = error.problem or error.context or "invalid YAML"
        if error.problem and error.context and error.context_mark is not None:
            problem += f" ({error.context} on line {line_of(error.context_mark)})"
        problems.append(PolicyProblem(display, line, "", f"not valid YAML: {problem}"))
        return PolicyDocument()
    except yaml.YAMLError as error:
        problems.append(PolicyProblem(display, 1, "", f"not valid YAML: {type(error).__name__}"))
        return PolicyDocument()
    finally:
        loader.dispose()
    document = PolicyDocument()
    if node is None:
        problems.append(
            PolicyProblem(display, 1, "", "the file is empty; expected a mapping with version: 1")
        )
        return document
    converter = _Converter(display, document, problems)
    document.data = converter.convert(node, (), 0)
    document.complete = not converter.gave_up
    return document


def _nesting_beyond(loader: Any, limit: int) -> int | None:
    """The line where collections nest deeper than `limit`, from the event stream.

    Composing a deeply nested document recurses (libyaml's composer can overflow the
    C stack), so the depth is measured first, without recursion.
    """
    import yaml

    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > limit:
                    mark = event.start_mark
                    return mark.line + 1 if mark is not None else 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as error:
        from npm_guard.workflow.yaml_loader import is_nesting_limit

        if not is_nesting_limit(error):
            raise
        mark = error.problem_mark or error.context_mark
        return mark.line + 1 if mark is not None else 1
    return None


class _Converter:
    """YAML nodes to Python values, recording lines and refusing alias bombs."""

    def __init__(self, display: str, document: PolicyDocument, problems: list[PolicyProblem]):
        self.display = display
        self.document = document
        self.problems = problems
        self.nodes = 0
        self.gave_up = False

    def convert(self, node: yaml.Node, path: Path, depth: int) -> Any:
        import yaml

        if self.gave_up:
            return None
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            self.gave_up = True
            self.problems.append(
                PolicyProblem(
                    self.display,
                    node.start_mark.line + 1,
                    "",
                    f"the document is too large or too deeply nested (more than {MAX_NODES} "
                    f"values or {MAX_DEPTH} levels, YAML aliases included); a policy file is "
                    "a few screens of plain mappings and lists",
                )
            )
            return None
        self.document.value_lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        import yaml

        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    PolicyProblem(self.display, line, key_text(path), "keys must be plain text")
                )
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in out:
                first = self.document.key_lines.get(child, 0)
                self.problems.append(
                    PolicyProblem(
                        self.display,
                        line,
                        key_text(child),
                        f"duplicate key (first at line {first}); each key may appear once",
                    )
                )
                continue
            self.document.key_lines[child] = line
            out[key] = self.convert(value_node, child, depth + 1)
        return out

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        value: str = node.value
        tag: str = node.tag
        if tag.startswith("!") and not tag.startswith("!!"):
            self.problems.append(
                PolicyProblem(
                    self.display,
                    node.start_mark.line + 1,
                    key_text(path),
                    "custom YAML tags are not supported; write a plain value",
                )
            )
            return value
        if node.style:  # quoted or block scalars are always text
            return value
        if tag.endswith(":null"):
            return None
        if tag.endswith(":bool") and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if tag.endswith(":int") and _INT_RE.match(value):
            return int(value, 10)
        if tag.endswith(":float") and _FLOAT_RE.match(value):
            return float(value)
        return value
