"""What `npm-guard init` would write, worked out without writing anything, and the write.

`plan_init()` reads the repository (through the scan's hardened reader) and returns
every file change with its old and new text, the notes to show, what an existing
policy lacks, and the problems that stop one file (an unreadable config, a link out of
the repository): one file's problem never stops the others. `write_plan()` writes the
changes through `npm_guard.atomic_write`, which refuses any path through a symbolic
link inside the repository that leads out of it.
"""

from __future__ import annotations

import os
import re

from npm_guard._record import dataclass, field
from npm_guard.constants import POLICY_FILE, UNREAD_POLICY_FILE
from npm_guard.errors import NpmGuardError

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.build_info import BuildInfo
    from npm_guard.init.inventory import Inventory
    from npm_guard.init.pin import Pin
    from npm_guard.repo_files import RepositoryFiles

_USES_ACTION_RE = re.compile(r"^[ \t-]*uses:[ \t]*['\"]?npm-guard/npm-guard@", re.MULTILINE)


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the root, `/`-separated
    old: str | None  # None: the file does not exist yet
    new: str


@dataclass
class InitPlan:
    root: str
    changes: list[FileChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said on stderr
    missing: list[str] = field(default_factory=list)  # what the existing policy lacks
    problems: list[str] = field(default_factory=list)  # files init could not handle


def plan_init(root: str, build: BuildInfo) -> InitPlan:
    """Every change `init` would make to the repository at `root`."""
    from npm_guard.init.inventory import repository_inventory
    from npm_guard.init.pin import pin_for
    from npm_guard.repo_files import RepositoryFiles

    plan = InitPlan(os.path.abspath(root))
    files = RepositoryFiles(plan.root)
    pin = pin_for(build)
    inventory = repository_inventory(plan.root)
    for step in (_precommit_change, _workflow_change):
        try:
            change = step(plan, files, pin)
        except NpmGuardError as error:
            plan.problems.append(str(error))
            continue
        if change is not None:
            plan.changes.append(change)
    if plan.changes:
        plan.notes[:0] = list(pin.notes)
    try:
        _policy(plan, files, inventory)
    except NpmGuardError as error:
        plan.problems.append(str(error))
    plan.notes += inventory.notes
    return plan


def _existing(plan: InitPlan, files: RepositoryFiles, path: str) -> str | None:
    """The text of `path`, None when there is no such file; NpmGuardError when it cannot
    be read whole or written where it is."""
    from npm_guard.atomic_write import resolve_for_writing

    resolve_for_writing(os.path.join(plan.root, path), plan.root)
    read = files.read(path)
    if read.missing:
        return None
    if read.text is None or read.problem:
        raise NpmGuardError(f"{path}: {read.problem}; not changed")
    return read.text


def _precommit_change(plan: InitPlan, files: RepositoryFiles, pin: Pin) -> FileChange | None:
    from npm_guard.init.precommit import CONFIG_FILE, add_npm_guard
    from npm_guard.init.templates import hook_ids

    old = _existing(plan, files, CONFIG_FILE)
    edit = add_npm_guard(old, pin, hook_ids())
    if edit.text is None:
        if edit.reason:
            plan.notes.append(edit.reason)
        return None
    _check_config(edit.text)
    return FileChange(CONFIG_FILE, old, edit.text)


def _check_config(text: str) -> None:
    """The edited config still reads as one with npm-guard's entry (a bug otherwise)."""
    import yaml

    from npm_guard.init.precommit import REPO_URL

    config = yaml.safe_load(text)
    repos = config.get("repos") if isinstance(config, dict) else None
    if not isinstance(repos, list) or not any(
        isinstance(r, dict) and r.get("repo") == REPO_URL for r in repos
    ):
        raise RuntimeError("the edited .pre-commit-config.yaml lost npm-guard's entry")


def _workflow_change(plan: InitPlan, files: RepositoryFiles, pin: Pin) -> FileChange | None:
    from npm_guard.init.templates import WORKFLOW_TEMPLATE, template_text
    from npm_guard.init.workflow_file import WORKFLOW_FILE, pinned_workflow

    for path in files.glob(".github/workflows/*.y*ml"):
        text = files.text(path)
        if text is not None and _USES_ACTION_RE.search(text):
            plan.notes.append(f"{path} already runs the npm-guard Action; no workflow added")
            return None
    old = _existing(plan, files, WORKFLOW_FILE)
    if old is not None:
        raise NpmGuardError(
            f"{WORKFLOW_FILE} exists and does not run the npm-guard Action; not overwritten "
            f"(rename it, or add the job of npm-guard's templates/workflows/npm-guard.yml)"
        )
    return FileChange(WORKFLOW_FILE, None, pinned_workflow(template_text(WORKFLOW_TEMPLATE), pin))


def _policy(plan: InitPlan, files: RepositoryFiles, inventory: Inventory) -> None:
    """The starter policy, or what the existing one lacks."""
    from npm_guard.init.policy_file import missing, starter_policy
    from npm_guard.policy_load import parse_policy

    old = _existing(plan, files, POLICY_FILE)
    if old is None:
        if os.path.lexists(os.path.join(plan.root, UNREAD_POLICY_FILE)):
            raise NpmGuardError(
                f"{UNREAD_POLICY_FILE} is never read (the policy file is {POLICY_FILE}): "
                f"rename it, then run init again to see what it lacks; no policy written"
            )
        text = starter_policy(inventory)
        parse_policy(text, POLICY_FILE)  # a starter that does not validate is a bug
        plan.changes.append(FileChange(POLICY_FILE, None, text))
        return
    policy = parse_policy(old, POLICY_FILE)  # PolicyError names every problem
    plan.missing = missing(policy, inventory)


def write_change(plan: InitPlan, change: FileChange) -> None:
    """Write one change of `plan`, creating its directories; NpmGuardError when the
    path leads out of the repository through a link in it, or cannot be written."""
    from npm_guard.atomic_write import replace_file, resolve_for_writing

    path = os.path.join(plan.root, *change.path.split("/"))
    target = resolve_for_writing(path, plan.root)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
    except OSError as error:
        raise NpmGuardError(f"cannot write {change.path}: {error.strerror}") from error
    replace_file(path, change.new.encode("utf-8"), tree=plan.root, what=change.path)
