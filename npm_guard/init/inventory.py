"""What the starter policy lists: the packages a repository publishes and the npm
secrets its workflows use, with the permission each one needs.

The secrets come from the workflow model's credential flow (`npm_guard.workflow`), the
same facts the scan's rules judge: every stored credential a workflow hands to npm, and
for each secret the strongest thing a step that uses it does. A publish that
authenticates with it needs read-write (a staged publish, `npm stage publish`, only
stage-only); a step that changes the registry otherwise (`npm dist-tag`, `npm token
create`, …) read-write; a secret that only reaches installs and other reads, read-only.
That is what `workflow-token-exceeds-declared-permission` later holds the workflows to.
"""

from __future__ import annotations

import os
import re

from npm_guard._record import dataclass, field
from npm_guard.errors import NpmGuardError

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.repo_files import RepositoryFiles
    from npm_guard.workflow.model import NpmCredential, Workflow

READ_ONLY = "read-only"
STAGE_ONLY = "stage-only"
READ_WRITE = "read-write"
_RANK = {READ_ONLY: 0, STAGE_ONLY: 1, READ_WRITE: 2}
_SECRET_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class SecretUse:
    """One secret the workflows hand to npm, the permission it needs, and why."""

    name: str
    permission: str = READ_ONLY
    reasons: list[str] = field(default_factory=list)  # for the strongest permission
    publishes: bool = False  # a publish authenticates with it

    def need(self, permission: str, reason: str, *, publishes: bool = False) -> None:
        """Record a use; the strongest permission wins, and keeps its reasons."""
        if _RANK[permission] > _RANK[self.permission]:
            self.permission, self.reasons = permission, []
        if permission == self.permission and reason not in self.reasons:
            self.reasons.append(reason)
        self.publishes = self.publishes or publishes


@dataclass(frozen=True)
class PackageEntry:
    name: str
    manifest: str  # its package.json, relative to the root


@dataclass
class Inventory:
    packages: list[PackageEntry] = field(default_factory=list)
    secrets: list[SecretUse] = field(default_factory=list)
    workflows: int = 0  # workflow files read
    notes: list[str] = field(default_factory=list)  # what could not be read, and so is missing


def repository_inventory(root: str) -> Inventory:
    """The packages and npm secrets of the repository at `root`."""
    from npm_guard.repo_files import RepositoryFiles

    inventory = Inventory()
    inventory.packages = _packages(root, inventory.notes)
    files = RepositoryFiles(root)
    found: dict[str, SecretUse] = {}
    for display, workflow in _workflows(root, files, inventory.notes):
        inventory.workflows += 1
        _secrets_of(workflow, display, found)
    for use in found.values():
        if _SECRET_NAME_RE.match(use.name) is None or _looks_like_a_token(use.name):
            inventory.notes.append(
                "a workflow names a secret that is not a secret name (or looks like a "
                "token); it is left out of `tokens:`"
            )
            continue
        inventory.secrets.append(use)
    inventory.secrets.sort(key=lambda use: use.name.upper())
    return inventory


def _looks_like_a_token(name: str) -> bool:
    from npm_guard.secrets import scrub

    return scrub(name) != name


def _packages(root: str, notes: list[str]) -> list[PackageEntry]:
    """The non-private packages: root package.json and its npm workspaces."""
    from npm_guard.audit.workspace import repository_packages

    if not os.path.isfile(os.path.join(root, "package.json")):
        return []
    try:
        targets = repository_packages(root, override=None, env={})
    except NpmGuardError as error:
        notes.append(f"packages not listed: {error}")
        return []
    from npm_guard.policy import PackagePolicy

    entries = []
    for target in targets:
        if not PackagePolicy(target.name).matches(target.name):
            continue  # a name with glob characters would stand for other packages too
        entries.append(PackageEntry(target.name, target.manifest or "package.json"))
    return sorted(entries, key=lambda entry: entry.name)


def _workflows(root: str, files: RepositoryFiles, notes: list[str]) -> list[tuple[str, Workflow]]:
    """The workflow model of every workflow file the scan would read."""
    from npm_guard.file_kinds import WORKFLOW
    from npm_guard.scan import discover
    from npm_guard.workflow.build import build_workflow
    from npm_guard.workflow.yaml_loader import YamlLoadError, load_yaml

    found = []
    walk_notes: list[str] = []
    for target in discover([root], root, walk_notes):
        if target.kind != WORKFLOW:
            continue
        read = files.read(target.path)
        if read.text is None or read.problem:
            notes.append(f"{target.display}: {read.problem}; its secrets are not listed")
            continue
        try:
            loaded = load_yaml(read.text)
        except YamlLoadError as error:
            notes.append(
                f"{target.display}:{error.line}: {error.problem}; its secrets are not listed"
            )
            continue
        except (RecursionError, MemoryError):
            notes.append(f"{target.display}: YAML too complex to read; its secrets are not listed")
            continue
        try:
            found.append((target.display, build_workflow(target.display, loaded, files)))
        except RecursionError:
            notes.append(f"{target.display}: too deeply nested; its secrets are not listed")
    return found


def _secrets_of(workflow: Workflow, display: str, found: dict[str, SecretUse]) -> None:
    """Every secret `workflow` hands to npm, into `found` (by upper-case name)."""
    from npm_guard.rules._workflow_common import (
        flowing,
        publishing_credentials,
        steps_seeing,
        writes_to_registry,
    )

    def need(credential: NpmCredential, permission: str, reason: str, publishes: bool) -> None:
        for secret in credential.source.secrets:
            use = found.setdefault(secret.upper(), SecretUse(secret))
            use.need(permission, reason, publishes=publishes)

    for credential in workflow.credentials:
        if not flowing(credential):
            continue
        jobs = []
        for step in steps_seeing(workflow, credential):
            if step.job.label not in jobs:
                jobs.append(step.job.label)
        if jobs:
            verbs = "installs or reads" if len(jobs) == 1 else "install or read"
            reason = f"{', '.join(jobs)} in {display} only {verbs} with it"
        else:
            reason = f"{credential.where} in {display}"
        need(credential, READ_ONLY, reason, False)
    for step in workflow.steps():
        for publish in step.facts.publishes:
            # Also a credential npm is not known to read there (NODE_AUTH_TOKEN without
            # an .npmrc that refers to it): handed to a publish, it is meant to publish.
            for credential, reads in publishing_credentials(step, publish):
                if not flowing(credential):
                    continue
                permission = STAGE_ONLY if publish.staged else READ_WRITE
                verb = "stages a publish" if publish.staged else "publishes"
                how = "with it" if reads else "and is handed it"
                need(
                    credential,
                    permission,
                    f"{step.job.label} in {display} {verb} {how} ({publish.shown})",
                    True,
                )
        if writes_to_registry(step) and not step.facts.publishes:
            commands = [c for c in step.facts.registry_commands if c.startswith("npm ")]
            what = (
                "`npm token create`"
                if step.facts.token_creates
                else ", ".join(f"`{c}`" for c in commands[:2])
            )
            for credential in step.credentials:
                if flowing(credential):
                    need(
                        credential,
                        READ_WRITE,
                        f"{step.job.label} in {display} changes the registry with it ({what})",
                        False,
                    )
    for job in workflow.jobs:
        if not job.call_publishes:
            continue
        for credential in workflow.credentials:
            if credential.job is job and credential.via == "secrets" and flowing(credential):
                need(
                    credential,
                    READ_WRITE,
                    f"{job.label} in {display} passes it to {job.uses}, presumed to publish",
                    True,
                )
