"""GitHub Actions workflows and composite actions: the second hook's engine.

This module must not import yaml (or anything heavy) at import time: the parse path
imports it lazily. The rules run through the registry (`npm_guard.rules`), never by
importing a rule module here: the rule modules import the workflow model.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.findings import Finding, Suppressed
    from npm_guard.policy import Policy
    from npm_guard.repo_files import RepositoryFiles
    from npm_guard.suppress import Suppression
    from npm_guard.workflow.model import Workflow
    from npm_guard.workflow.yaml_loader import LoadedYaml

_MARKER_RE = re.compile(r"npm-guard:\s*ignore\[")


def scan_workflow(
    path: str,
    text: str,
    *,
    files: RepositoryFiles | None = None,
    repo_root: str | None = None,
    no_ignores: bool = False,
    policy: Policy | None = None,
    silenced: list[Suppressed] | None = None,
    consulted: set[str] | None = None,
    shortcut: bool = True,
) -> list[Finding]:
    """Every workflow rule's findings for one file's text; those an ignore comment
    silences go to `silenced`, when given.

    Never raises for bad input: YAML that cannot be read (invalid, an alias bomb,
    absurd nesting) is a `parse-error` for the file, and the file is still searched for
    literal tokens. `path` is the path to show. `files` is the scan's one reader of the
    repository (package.json scripts, the repository's `.npmrc`, local scripts and
    reusable workflows are read through it, and nothing else); `repo_root` makes one for
    a single file. A file one of the workflow's lines needs that the reader refuses (a
    FIFO, a device, a link out of the repository) is a `parse-error` on that line.
    `consulted`, when given, receives the repository paths (relative to its root) the
    analysis asked for, present or not: what the findings depend on besides the file.

    A workflow that mentions nothing npm-related (`npm_text.mentions_npm`) and holds no
    literal token has no findings but its parse errors: it is only parsed, never
    modelled (`shortcut=False` models it anyway; the tests compare the two).
    """
    from npm_guard.rules import parse_error
    from npm_guard.workflow.yaml_loader import YamlLoadError, load_yaml

    try:
        loaded = load_yaml(text)
    except YamlLoadError as error:
        return [
            parse_error.finding(path, error.problem, error.line, error.column),
            *_tokens_only(path, text),
        ]
    except (RecursionError, MemoryError) as error:
        return [
            parse_error.finding(path, f"YAML too complex to read ({type(error).__name__})"),
            *_tokens_only(path, text),
        ]
    if shortcut and consulted is None and _nothing_to_model(loaded):
        return []  # and the model, its analysis and the rules are never imported
    from npm_guard.rules import WORKFLOW_RULES
    from npm_guard.suppress import apply
    from npm_guard.workflow.build import build_workflow

    try:
        if files is None and repo_root is not None:
            from npm_guard.repo_files import RepositoryFiles

            files = RepositoryFiles(repo_root)
        workflow = build_workflow(path, loaded, files)
        workflow.inventory = policy is not None and policy.tokens is not None
        if consulted is not None:
            consulted.update(workflow.consulted)
        findings = [finding for _, check in WORKFLOW_RULES for finding in check(workflow)]
        findings += _unread_findings(workflow)
        if policy is not None and policy.tokens is not None:  # the inventory's rules
            from npm_guard.rules import POLICY_WORKFLOW_RULES

            findings += [f for _, check in POLICY_WORKFLOW_RULES for f in check(workflow, policy)]
    except RecursionError:
        return [
            parse_error.finding(path, "workflow too deeply nested to analyse"),
            *_tokens_only(path, text),
        ]
    if no_ignores:
        return findings
    return apply(findings, workflow_suppressions(loaded), silenced)


def _nothing_to_model(loaded: LoadedYaml) -> bool:
    """No npm-related text and no literal token: no workflow rule can report anything."""
    from npm_guard.secrets import find_tokens
    from npm_guard.workflow.npm_text import mentions_npm, scalar_text

    if mentions_npm(scalar_text(loaded.root)):
        return False
    return next(iter(find_tokens(loaded.text)), None) is None


def _unread_findings(workflow: Workflow) -> list[Finding]:
    """A `parse-error` on each line that needed a repository file the reader refused."""
    from npm_guard.findings import Finding
    from npm_guard.rules import parse_error
    from npm_guard.workflow.labels import shown

    return [
        Finding(
            rule=parse_error.RULE,
            location=workflow.location(unread.span),
            message=(
                f"could not read {shown(unread.path, 200)} "
                f"{shown(unread.purpose, 200, workflow.literals)}: {unread.problem}"
            ),
            key=f"unread:{unread.path}",
        )
        for unread in workflow.unread
    ]


def _tokens_only(path: str, text: str) -> list[Finding]:
    """Literal tokens in a file that could not be parsed: still worth reporting."""
    from npm_guard.rules import check_of
    from npm_guard.workflow.model import UNKNOWN, Workflow
    from npm_guard.workflow.yaml_loader import LoadedYaml, line_starts_of

    loaded = LoadedYaml(text, None, line_starts_of(text), [], [])
    workflow = Workflow(path, loaded, UNKNOWN)
    return list(check_of("workflow-plaintext-credential")(workflow))


def workflow_suppressions(loaded: LoadedYaml) -> list[Suppression]:
    """Trailing `# npm-guard: ignore[rule-id] reason` comments that YAML sees as comments.

    Text inside a scalar (a `run: |` script, a quoted string) is not a comment. A comment
    on a block scalar's header line (`run: | # npm-guard: ignore[...]`) also covers the
    lines of that block, which cannot carry YAML comments of their own.
    """
    from npm_guard.suppress import TRAILING_RE, Suppression, parse_rule_list

    found: list[Suppression] = []
    text = loaded.text
    for match in _MARKER_RE.finditer(text):
        line, _ = loaded.position(match.start())
        line_start = loaded.offset(line, 1)
        comment_start = _comment_start(loaded, line_start, match.start())
        if comment_start is None:
            continue
        rule = TRAILING_RE.search(text, comment_start, _line_end(text, match.start()))
        if rule is None:
            continue
        rules = parse_rule_list(rule.group(1))
        reason = rule.group(2).strip()
        found.append(Suppression(line, rules, reason))
        for block in loaded.block_scalars:
            if block.line == line:
                for covered in range(block.line + 1, block.end_line + 1):
                    found.append(Suppression(covered, rules, reason))
    return found


def _line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end < 0 else end


def _comment_start(loaded: LoadedYaml, line_start: int, marker: int) -> int | None:
    """The offset of the YAML comment that holds `marker`, or None if it is not in one."""
    text = loaded.text
    position = text.find("#", line_start, marker)
    while position >= 0:
        before = text[position - 1] if position > 0 else "\n"
        if before in " \t\r\n\ufeff" and not loaded.inside_scalar(position):
            return position
        position = text.find("#", position + 1, marker)
    return None
