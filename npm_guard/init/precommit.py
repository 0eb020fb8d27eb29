"""The npm-guard entry of `.pre-commit-config.yaml`, added to what is there.

An existing file is edited as text, not re-serialised: the entry is inserted after the
last item of `repos:`, in that list's indentation and line endings, and every other
byte of the file (comments, blank lines, quoting, order) stays as it was. A file that
already runs npm-guard's hooks (from this repository or under the same hook ids, such
as a `repo: local` entry) is left alone. The positions come from PyYAML's pure-Python
composer, whose marks count characters of the text it is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from npm_guard._record import dataclass
from npm_guard.errors import NpmGuardError
from npm_guard.init.pin import Pin

REPO_URL = "https://github.com/npm-guard/npm-guard"
CONFIG_FILE = ".pre-commit-config.yaml"

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from yaml.nodes import Node


@dataclass(frozen=True)
class ConfigEdit:
    """The new text of the config, or None with the reason it is left as it is."""

    text: str | None
    reason: str | None = None


@dataclass(frozen=True)
class _Layout:
    dash: int  # column of a `repos:` item's `-`
    content: int  # column of its keys
    hook_dash: int  # column of a `hooks:` item's `-`
    hook_content: int  # column of its keys


_FRESH = _Layout(2, 4, 6, 8)


def entry_text(
    pin: Pin, hook_ids: Sequence[str], layout: _Layout = _FRESH, newline: str = "\n"
) -> str:
    """The npm-guard item of `repos:`, as lines ending in `newline`."""
    if pin.rev is None:
        raise NpmGuardError("cannot pin the pre-commit hooks: " + " ".join(pin.notes))
    inner = " " * layout.content
    lines = [
        " " * layout.dash + "-" + " " * (layout.content - layout.dash - 1) + f"repo: {REPO_URL}"
    ]
    if pin.tag is None:
        # On the line above `rev:`: `pre-commit autoupdate` keeps a trailing comment.
        lines.append(
            f"{inner}# npm-guard {pin.version} is not released yet: the commit it was built from."
        )
        lines.append(
            f"{inner}# `pre-commit autoupdate --freeze` moves it to a release once one exists."
        )
    lines.append(f"{inner}rev: {pin.rev}")
    lines.append(f"{inner}hooks:")
    gap = " " * (layout.hook_content - layout.hook_dash - 1)
    lines += [" " * layout.hook_dash + "-" + gap + f"id: {hook}" for hook in hook_ids]
    return "".join(line + newline for line in lines)


def fresh_config(pin: Pin, hook_ids: Sequence[str]) -> str:
    """A whole `.pre-commit-config.yaml` with npm-guard's entry only."""
    return (
        "# pre-commit (https://pre-commit.com) runs these hooks on every commit once\n"
        "# `pre-commit install` has set it up in this clone.\n"
        "repos:\n" + entry_text(pin, hook_ids)
    )


def add_npm_guard(text: str | None, pin: Pin, hook_ids: Sequence[str]) -> ConfigEdit:
    """`text` (None: no file) with npm-guard's entry added, or why it is left alone.

    Raises NpmGuardError when the file cannot be read as a pre-commit config.
    """
    if text is None:
        return ConfigEdit(fresh_config(pin, hook_ids))
    import yaml
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise NpmGuardError(f"{CONFIG_FILE} is not valid YAML{where}; not changed") from error
    newline = "\r\n" if "\r\n" in text else "\n"
    if root is None:  # empty, or comments only
        return ConfigEdit(
            _append(text, "repos:" + newline + entry_text(pin, hook_ids, newline=newline), newline)
        )
    if not isinstance(root, MappingNode):
        raise NpmGuardError(f"{CONFIG_FILE} is not a mapping with a `repos:` list; not changed")
    repos_key: ScalarNode | None = None
    repos: Node | None = None
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == "repos":
            repos_key, repos = key, value
    if repos_key is None or repos is None:
        return ConfigEdit(
            _append(text, "repos:" + newline + entry_text(pin, hook_ids, newline=newline), newline)
        )
    if isinstance(repos, ScalarNode) and repos.value in ("", "~", "null", "Null", "NULL"):
        if repos.end_mark.index > repos.start_mark.index:
            raise NpmGuardError(
                f"{CONFIG_FILE}: `repos:` is {repos.value}, not a list; add the npm-guard "
                f"entry by hand (`npm-guard init` prints it)"
            )
        at = _line_end(text, repos_key.end_mark.index)
        return ConfigEdit(_insert(text, at, entry_text(pin, hook_ids, newline=newline), newline))
    if not isinstance(repos, SequenceNode):
        raise NpmGuardError(f"{CONFIG_FILE}: `repos:` is not a list; not changed")
    present = _npm_guard_entry(repos, hook_ids)
    if present is not None:
        return ConfigEdit(
            None, f"{CONFIG_FILE} already runs npm-guard's hooks ({present}); left as it is"
        )
    if repos.flow_style:
        if repos.value:
            raise NpmGuardError(
                f"{CONFIG_FILE}: `repos:` is written in flow style (`[...]`); add the npm-guard "
                f"entry by hand"
            )
        start, end = repos.start_mark.index, repos.end_mark.index
        without = text[:start] + text[end:]
        at = _line_end(without, start)
        return ConfigEdit(_insert(without, at, entry_text(pin, hook_ids, newline=newline), newline))
    layout = _layout(text, repos)
    at = _after_trailing_comments(text, _line_end(text, _content_end(repos)))
    return ConfigEdit(_insert(text, at, entry_text(pin, hook_ids, layout, newline), newline))


def _npm_guard_entry(repos: Node, hook_ids: Sequence[str]) -> str | None:
    """What in `repos:` already runs npm-guard, in words, or None."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    ours = set(hook_ids)
    for item in repos.value:
        if not isinstance(item, MappingNode):
            continue
        fields = {k.value: v for k, v in item.value if isinstance(k, ScalarNode)}
        repo = fields.get("repo")
        url = repo.value if isinstance(repo, ScalarNode) else ""
        bare = url.strip().lower().rstrip("/")
        bare = bare[: -len(".git")] if bare.endswith(".git") else bare
        if bare.endswith("github.com/npm-guard/npm-guard"):
            rev = fields.get("rev")
            at = f" at {rev.value}" if isinstance(rev, ScalarNode) and rev.value else ""
            return f"repo {url}{at}, line {item.start_mark.line + 1}"
        hooks = fields.get("hooks")
        if isinstance(hooks, SequenceNode):
            for hook in hooks.value:
                if not isinstance(hook, MappingNode):
                    continue
                for key, value in hook.value:
                    if (
                        isinstance(key, ScalarNode)
                        and key.value == "id"
                        and isinstance(value, ScalarNode)
                        and value.value in ours
                    ):
                        return f"hook {value.value} of repo {url}, line {value.start_mark.line + 1}"
    return None


def _dash_column(text: str, content: int) -> tuple[int, bool]:
    """(column of the `-` of the block item whose content starts at offset `content`,
    whether the content is on the dash's line)."""
    at = content - 1
    same_line = True
    while at >= 0 and text[at] in " \t\r\n":
        if text[at] in "\r\n":
            same_line = False
        at -= 1
    if at < 0 or text[at] != "-":
        raise NpmGuardError(f"{CONFIG_FILE}: cannot tell how `repos:` is indented; not changed")
    return at - _line_start(text, at), same_line


def _layout(text: str, repos: Node) -> _Layout:
    """The indentation of the existing `repos:` items and of their `hooks:` items."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    first = repos.value[0]
    dash, same = _dash_column(text, first.start_mark.index)
    content = first.start_mark.column if same else dash + 2
    hook_dash, hook_content = content + 2, content + 4
    for item in repos.value:
        if not isinstance(item, MappingNode):
            continue
        for key, value in item.value:
            if (
                isinstance(key, ScalarNode)
                and key.value == "hooks"
                and isinstance(value, SequenceNode)
                and not value.flow_style
                and value.value
            ):
                hook = value.value[0]
                column, same_hook = _dash_column(text, hook.start_mark.index)
                offset = hook.start_mark.column - column if same_hook else 2
                return _Layout(
                    dash,
                    content,
                    column - item.start_mark.column + content,
                    column - item.start_mark.column + content + offset,
                )
    return _Layout(dash, content, hook_dash, hook_content)


def _content_end(node: Node) -> int:
    """The offset just after the last character of `node`'s content (comments after it
    are not content; an empty value ends where its key does)."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1])
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        key, value = node.value[-1]
        if isinstance(value, ScalarNode) and value.start_mark.index == value.end_mark.index:
            return _content_end(key)
        return _content_end(value)
    return int(node.end_mark.index)


def _line_start(text: str, at: int) -> int:
    return max(text.rfind("\n", 0, at), text.rfind("\r", 0, at)) + 1


def _line_end(text: str, at: int) -> int:
    """The offset of the line after the one holding offset `at` (the end of text if none)."""
    if at > 0 and text[at - 1] == "\n":
        return at  # a block scalar's content ends with its line break
    found = text.find("\n", at)
    return len(text) if found < 0 else found + 1


def _after_trailing_comments(text: str, at: int) -> int:
    """Past the indented comment lines that follow the list (commented-out hooks and
    repos belong to it); blank lines only when an indented comment follows them."""
    end = at
    position = at
    while position < len(text):
        found = text.find("\n", position)
        line_end = len(text) if found < 0 else found + 1
        line = text[position:line_end].rstrip("\r\n")
        stripped = line.lstrip(" \t")
        if not stripped:
            position = line_end
            continue
        if stripped.startswith("#") and len(stripped) < len(line):
            end = position = line_end
            continue
        break
    return end


def _insert(text: str, at: int, entry: str, newline: str) -> str:
    if at == len(text) and text and not text.endswith(("\n", "\r")):
        entry = newline + entry
    return text[:at] + entry + text[at:]


def _append(text: str, block: str, newline: str) -> str:
    return _insert(text, len(text), block, newline)
