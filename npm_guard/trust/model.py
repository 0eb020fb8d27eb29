"""The trust plan: what `npm-guard trust` found, and what it proposes (data only)."""

from __future__ import annotations

from npm_guard._record import dataclass, field

NPMJS = "https://registry.npmjs.org/"

# Why a publish is left to a person (ManualItem.kind).
JS_FILE = "publish-in-javascript"
SELF_HOSTED = "self-hosted-runner"
OTHER_REGISTRY = "other-registry"
REMOTE_WORKFLOW = "reusable-workflow-in-another-repository"
NO_OIDC_TOOL = "tool-without-oidc"
SCRIPT_TOKEN = "token-written-by-a-script"
UNKNOWN_CALLER = "reusable-workflow-without-caller"


@dataclass(frozen=True)
class Package:
    """A package a migrated job publishes."""

    name: str
    path: str  # its package.json, relative to the repository root ("" when not read)
    registry: str = NPMJS


@dataclass(frozen=True)
class TrustedPublisher:
    """The trusted publisher to create on npmjs.com for one package."""

    package: str
    owner_repository: str | None  # None: not known (the command then says OWNER/REPO)
    workflow_file: str  # a bare file name, as npm takes it
    environment: str | None
    command: str  # the exact `npm trust github …` command


@dataclass
class Migration:
    """One job that publishes with a long-lived token, and how it moves to OIDC."""

    workflow: str  # the file with the publish (relative to the root)
    job: str  # the job id ("action" for a composite action)
    steps: list[str]  # the publishing steps, as the scan labels them
    line: int  # the first publish's line
    tool: str  # what publishes, and what it does with OIDC, in words
    credentials: list[str]  # names, never values: "NODE_AUTH_TOKEN (secret NPM_TOKEN)"
    secrets: list[str]  # the stored secrets to revoke and delete afterwards
    trusted_workflow: str  # the workflow file npm must trust (a caller's for a callee)
    environment: str | None
    packages: list[Package] = field(default_factory=list)
    skipped_packages: list[tuple[Package, str]] = field(default_factory=list)  # and why
    publishers: list[TrustedPublisher] = field(default_factory=list)
    prerequisites: list[str] = field(default_factory=list)
    edit_notes: list[str] = field(default_factory=list)  # why each edit is what it is
    files: list[str] = field(default_factory=list)  # the files its edits touch


@dataclass(frozen=True)
class ManualItem:
    """A publish npm-guard cannot migrate: why, and what to do by hand."""

    kind: str
    workflow: str
    line: int
    what: str  # the publish, in words
    reason: str
    todo: str


@dataclass(frozen=True)
class FileChange:
    """The edited text of one file (shown as a diff; written with --write)."""

    path: str  # relative to the root
    before: str
    after: str


@dataclass(frozen=True)
class Refusal:
    """A file the edits could not be made to safely, and why."""

    path: str
    reason: str


@dataclass
class TrustPlan:
    root: str
    repository: str | None = None  # owner/repo
    repository_source: str | None = None  # "--repository", "GITHUB_REPOSITORY", "origin remote"
    migrations: list[Migration] = field(default_factory=list)
    manual: list[ManualItem] = field(default_factory=list)
    changes: list[FileChange] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files that could not be read
    written: list[str] = field(default_factory=list)  # --write: the files rewritten
    files_read: int = 0

    @property
    def has_steps(self) -> bool:
        """Something is left to do: a migration, a manual item or a refused file."""
        return bool(self.migrations or self.manual or self.refused)
