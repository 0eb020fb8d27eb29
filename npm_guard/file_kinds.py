"""The kinds of file the offline scan reads, each declared once: how to recognise it,
how to read it into findings, and how it takes an ignore comment.

`KINDS` is the registry. The scan walker asks it what a path is; `scan_target()` asks
the kind to read a file; a hook names the kind its files are. Adding a kind of file is
one entry here (and the rules whose `target` is its `rules`).
"""

from __future__ import annotations

import os

from npm_guard._record import dataclass
from npm_guard.constants import POLICY_FILE, UNREAD_POLICY_FILE

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from collections.abc import Callable

    from npm_guard.findings import Finding, Suppressed
    from npm_guard.policy import Policy
    from npm_guard.repo_files import RepositoryFiles

    Reader = Callable[[str, str, "ReadContext"], list[Finding]]

NPMRC = "npmrc"
WORKFLOW = "workflow"
ACTION = "action"  # a composite action's metadata, `action.yml`
POLICY = "policy"  # the policy file, searched for credentials (validated by its loader)

_YAML_SUFFIXES = (".yml", ".yaml")


@dataclass
class ReadContext:
    """What reading one file may consult besides its text, for one scan."""

    files: RepositoryFiles  # the scan's one reader of the repository (package.json
    # scripts, .npmrc, local scripts, called workflows), made once per scan
    no_ignores: bool = False
    policy: Policy | None = None  # feeds the rules that need one (the token inventory)
    silenced: list[Suppressed] | None = None  # findings an ignore comment silences
    consulted: set[str] | None = None  # receives the repository paths a workflow read


@dataclass(frozen=True)
class FileKind:
    """One kind of file: `recognise` judges a path by its name and place in the
    repository; `recognise_named` a path named on the command line, by name alone;
    `read` turns (shown path, text, context) into the findings of every rule whose
    `target` is `rules`; `plaintext_rule` is the rule id that reports tokens in a file
    of this kind too large or too binary to parse; `ignore_comment` is the inline
    suppression `read` applies, as the README's "Inline suppression" documents it."""

    name: str
    rules: str
    recognise: Callable[[str], bool]
    recognise_named: Callable[[str], bool]
    read: Reader
    plaintext_rule: str
    ignore_comment: str


def is_npmrc_path(path: str) -> bool:
    """`.npmrc` at any depth (npm's per-project and per-user config file name)."""
    return os.path.basename(path) == ".npmrc"


def _is_policy_path(path: str) -> bool:
    return os.path.basename(path) in (POLICY_FILE, UNREAD_POLICY_FILE)


# By string operations, not regular expressions: a hook pays for no compile at start-up.
def _is_workflow_path(path: str) -> bool:
    """`.github/workflows/NAME.yml` (or `.yaml`) at any depth, not in a subdirectory."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    return (
        parts[-3:-1] == [".github", "workflows"]
        and name.endswith(_YAML_SUFFIXES)
        and name not in _YAML_SUFFIXES
    )


def _is_action_path(path: str) -> bool:
    """A composite action's metadata, `action.yml` (or `.yaml`), at any depth."""
    return path.replace("\\", "/").rpartition("/")[2] in ("action.yml", "action.yaml")


# The files a workflow's analysis reads besides workflows (npm_guard.workflow.consulted):
# a commit changing one re-checks the workflows that read it. By name, like the
# `workflow-npm-credentials` hook's `files:` pattern (the README explains the choice).
WORKFLOW_DEPENDENCY_NAMES = frozenset(
    {
        "package.json",
        ".npmrc",
        POLICY_FILE,
        ".yarnrc.yml",
        "pnpm-workspace.yaml",
        ".nvmrc",
        ".node-version",
        ".tool-versions",
    }
)
SCRIPT_SUFFIXES = (".sh", ".bash", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
SCRIPT_DIRECTORIES = frozenset(
    {".github", "scripts", "script", "bin", "tools", "tool", "ci", "release"}
)


def is_workflow_dependency(path: str) -> bool:
    """A file a workflow may run or read, by its name: package.json, the `.npmrc`, the
    policy, `.yarnrc.yml`, `pnpm-workspace.yaml`, a Node version file, or a script at the
    root or below a scripts-like directory (`scripts/`, `.github/`, `bin/`, `tools/`,
    `ci/`, `release/`). Not a workflow or an action: those are scanned themselves."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    if name in WORKFLOW_DEPENDENCY_NAMES:
        return True
    if not name.endswith(SCRIPT_SUFFIXES) or name in SCRIPT_SUFFIXES:
        return False
    return len(parts) == 1 or any(part in SCRIPT_DIRECTORIES for part in parts[:-1])


def _is_yaml_name(path: str) -> bool:
    return path.endswith(_YAML_SUFFIXES)


def _is_npmrc_name(path: str) -> bool:
    return os.path.basename(path).endswith(".npmrc")


def _never(path: str) -> bool:
    return False


def _read_npmrc(path: str, text: str, context: ReadContext) -> list[Finding]:
    from npm_guard.npmrc_scan import scan_npmrc

    return scan_npmrc(path, text, no_ignores=context.no_ignores, silenced=context.silenced)


def _read_workflow(path: str, text: str, context: ReadContext) -> list[Finding]:
    from npm_guard.workflow import scan_workflow

    return scan_workflow(
        path,
        text,
        files=context.files,
        no_ignores=context.no_ignores,
        policy=context.policy,
        silenced=context.silenced,
        consulted=context.consulted,
    )


def _read_policy_file(path: str, text: str, context: ReadContext) -> list[Finding]:
    from npm_guard.rules import rules_for

    return [finding for _, check in rules_for(POLICY) for finding in check(path, text)]


_NEXT_LINE = "# npm-guard: ignore-next-line[rule-id] reason, on the line before"
_TRAILING = "# npm-guard: ignore[rule-id] reason, at the end of the line"

# In the order a path is judged: the first kind that recognises it wins (a workflow
# named action.yml is a workflow).
KINDS: tuple[FileKind, ...] = (
    FileKind(
        name=NPMRC,
        rules=NPMRC,
        recognise=is_npmrc_path,
        recognise_named=_is_npmrc_name,
        read=_read_npmrc,
        plaintext_rule="npmrc-plaintext-credential",
        ignore_comment=_NEXT_LINE,
    ),
    FileKind(
        name=POLICY,
        rules=POLICY,
        recognise=_is_policy_path,
        recognise_named=_never,
        read=_read_policy_file,
        plaintext_rule="policy-plaintext-credential",
        ignore_comment="",  # the policy file's own `ignore:` entries silence its findings
    ),
    FileKind(
        name=WORKFLOW,
        rules=WORKFLOW,
        recognise=_is_workflow_path,
        recognise_named=_is_yaml_name,
        read=_read_workflow,
        plaintext_rule="workflow-plaintext-credential",
        ignore_comment=_TRAILING,
    ),
    FileKind(
        name=ACTION,
        rules=WORKFLOW,
        recognise=_is_action_path,
        recognise_named=_never,  # a YAML file named on the command line reads as a workflow
        read=_read_workflow,
        plaintext_rule="workflow-plaintext-credential",
        ignore_comment=_TRAILING,
    ),
)
_BY_NAME = {kind.name: kind for kind in KINDS}


def kind_named(name: str) -> FileKind:
    """The kind called `name` (KeyError when there is none)."""
    return _BY_NAME[name]


def may_be_ours(name: str) -> bool:
    """Whether a file called `name` (a base name) can be of any kind: a walk asks this
    before it works out where the file is, and skips the other 80-99% of a tree for the
    price of a string comparison. Every recogniser above needs one of these names."""
    return name.endswith(_YAML_SUFFIXES) or name in _OUR_NAMES


_OUR_NAMES = frozenset({".npmrc", POLICY_FILE, UNREAD_POLICY_FILE})


def classify(path: str) -> str | None:
    """The kind of file a path is, by its name and place, or None if not ours."""
    for kind in KINDS:
        if kind.recognise(path):
            return kind.name
    return None


def classify_named(path: str) -> str | None:
    """The kind of a file named on the command line: by name, whatever its directory."""
    found = classify(path)
    if found is not None:
        return found
    for kind in KINDS:
        if kind.recognise_named(path):
            return kind.name
    return None
