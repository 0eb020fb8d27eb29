"""The workflow model the rules ask questions of.

workflow → jobs → steps (a composite action is one job-like list of steps), each with
its env, `permissions`, `uses`/`with`, `run` (read by the shell reader), and the facts
the analysis derives: what the step publishes and how, which `npm token create` it
runs, which npm config it writes where, what it exports to `$GITHUB_ENV`, whether it
runs dependency code. On top of that, the credential flow: every npm credential the
file hands out (env at any level, `with:` inputs, `${{ secrets.X }}` inside scripts,
`$GITHUB_ENV` exports, an `.npmrc` written with a secret in it, secrets passed to a
reusable workflow) and, for each step, the credentials it can see.

Data only: `build` fills it from the YAML nodes, the analysis adds the facts and the
credential flow, the rules read it.
"""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard._record import dataclass, field
from npm_guard.findings import Location
from npm_guard.workflow.expressions import (
    ValueSource,
)
from npm_guard.workflow.labels import script_summary, shown
from npm_guard.workflow.positions import Span, ValuePositions, key_span, node_span
from npm_guard.workflow.shell_words import Script
from npm_guard.workflow.yaml_loader import (
    LoadedYaml,
    MappingNode,
    ScalarNode,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.consulted import UnreadFile
    from npm_guard.workflow.yaml_loader import YamlNode

WORKFLOW = "workflow"
ACTION = "action"
UNKNOWN = "unknown"

UNTRUSTED_TRIGGERS = ("pull_request_target", "workflow_run", "issue_comment")
FIRST_PARTY_OWNERS = ("actions/", "github/")


@dataclass(frozen=True)
class EnvEntry:
    name: str
    level: str  # "workflow", "job", "step"
    key: ScalarNode
    value: YamlNode
    source: ValueSource

    @property
    def span(self) -> Span:
        return key_span(self.key, self.value)


@dataclass(frozen=True)
class Input:
    """A `with:` input or a `secrets:` entry of a reusable workflow call."""

    name: str
    key: ScalarNode
    value: YamlNode
    source: ValueSource

    @property
    def span(self) -> Span:
        return key_span(self.key, self.value)

    @property
    def text(self) -> str:
        return self.value.value if isinstance(self.value, ScalarNode) else ""


@dataclass(frozen=True)
class Permissions:
    span: Span
    everything: str | None  # "write-all", "read-all", or None for a mapping
    id_token: str | None  # the `id-token:` value when listed
    id_token_span: Span | None

    @property
    def grants_id_token(self) -> bool:
        return self.everything == "write-all" or self.id_token == "write"


# Credential lifetimes, from where the value comes.
STORED = "stored"  # a repository/org/environment secret or variable: long-lived
EPHEMERAL = "ephemeral"  # GITHUB_TOKEN: per job
PROVIDED = "provided"  # an input, a step output, a matrix value: unknown
LITERAL = "literal"  # written in the file: the plaintext rule's business


@dataclass(eq=False, repr=False)
class NpmCredential:
    """An npm registry credential as the workflow hands it out."""

    name: str  # variable, input or secret name ("NODE_AUTH_TOKEN", "token")
    via: str  # "env", "with", "run", "github-env", "npmrc", "secrets"
    level: str  # "workflow", "job", "step", "later steps"
    span: Span
    source: ValueSource
    key: str  # position-free
    job: Job | None = None
    step: Step | None = None  # the step that defines it (step env, with, run, exports)
    lifetime: str = STORED
    origin: str = ""  # "secret NPM_TOKEN", "${{ env.X }}", … for messages
    value_span: Span | None = None  # where the value itself is written
    # The registry host an .npmrc auth setting is scoped to (`//host/:_authToken`): npm
    # sends it to that host only. None: not scoped (an env var, an input, …).
    registry_host: str | None = None

    @property
    def description(self) -> str:
        """`NODE_AUTH_TOKEN (secret NPM_TOKEN)`: never the value."""
        return (
            f"{self.name} ({self.origin})"
            if self.origin and self.origin != self.name
            else (self.name)
        )

    @property
    def where(self) -> str:
        if self.via == "env":
            return {
                "workflow": "set in the workflow-level env",
                "job": "set in the job-level env",
                "step": "set in the step's env",
            }[self.level]
        return {
            "with": "passed as an action input",
            "run": "written into the script",
            "github-env": "exported to $GITHUB_ENV for the rest of the job",
            "npmrc": "written into an .npmrc for the rest of the job",
            "secrets": "passed to a reusable workflow",
        }.get(self.via, self.via)


@dataclass(eq=False, repr=False)
class RunBlock:
    """A `run:` script: its text, the shell that runs it, and where its lines are."""

    node: ScalarNode
    text: str
    shell: str  # "bash" or "pwsh" (others are read as bash)
    script: Script
    positions: ValuePositions

    def span(self, start: int, end: int | None = None) -> Span:
        """The file span of script offsets `start`..`end`."""
        return self.positions.span(start, end)


@dataclass(eq=False, repr=False)
class Step:
    job: Job
    index: int  # 0-based
    node: MappingNode
    id: str | None
    name: str | None
    uses: str | None
    uses_node: ScalarNode | None
    inputs: dict[str, Input]
    env: list[EnvEntry]
    run: RunBlock | None
    working_directory: str  # relative to the workspace, "." by default
    facts: StepFacts = field(default_factory=lambda: StepFacts())
    credentials: list[NpmCredential] = field(default_factory=list)  # visible to this step

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def label(self) -> str:
        """`step 'Publish'`, `step 3 (actions/checkout@v4)` or `step 2 (npm ci)`.

        An unnamed `run:` step is labelled by what it runs (`script_summary`), never by
        its text; names, ids and `uses:` are scrubbed of the file's literal credentials.
        """
        literals = self.job.workflow.literals
        if self.name:
            return f"step '{shown(self.name, secrets=literals)}'"
        if self.id:
            return f"step '{shown(self.id, secrets=literals)}'"
        if self.uses:
            return f"step {self.number} ({shown(self.uses, secrets=literals)})"
        summary = script_summary(self.run.script) if self.run is not None else None
        if summary is not None:
            return f"step {self.number} ({shown(summary, secrets=literals)})"
        return f"step {self.number}"

    @property
    def key(self) -> str:
        """Position-free: the step's id or name, its number only as a last resort."""
        ident = self.id or self.name or str(self.number)
        return f"{self.job.key}/step:{ident}"

    @property
    def span(self) -> Span:
        return Span(self.node.line, self.node.column)

    @property
    def action(self) -> str | None:
        """`owner/repo[/path]` lower-cased, without `@ref`."""
        if self.uses is None:
            return None
        return self.uses.split("@", 1)[0].strip().lower()

    def env_sources(self) -> dict[str, ValueSource]:
        """The env this step runs with: the workflow's, the job's, then its own."""
        view: dict[str, ValueSource] = {}
        for entries in (self.job.workflow.env, self.job.env, self.env):
            for entry in entries:
                view[entry.name] = entry.source
        return view

    @property
    def third_party_action(self) -> bool:
        action = self.action
        if action is None or action.startswith("./") or action.startswith("."):
            return False
        return not action.startswith(FIRST_PARTY_OWNERS)


@dataclass(eq=False, repr=False)
class Job:
    workflow: Workflow
    id: str
    node: MappingNode | None
    key_node: ScalarNode | None
    name: str | None = None
    env: list[EnvEntry] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    permissions: Permissions | None = None
    uses: str | None = None  # a reusable workflow call
    uses_node: ScalarNode | None = None
    inputs: dict[str, Input] = field(default_factory=dict)
    call_secrets: list[Input] = field(default_factory=list)
    inherit_secrets: Span | None = None
    inherited_npm_secrets: list[str] = field(default_factory=list)  # what the callee uses
    # A reusable workflow of another repository handed an npm secret: presumed to publish.
    call_publishes: list[Publish] = field(default_factory=list)
    runs_on: str = ""
    composite: bool = False
    default_shell: str | None = None
    default_working_directory: str | None = None

    @property
    def label(self) -> str:
        if self.composite:
            return "the composite action"
        return f"job '{self.id}'"

    @property
    def key(self) -> str:
        return "action" if self.composite else f"job:{self.id}"

    @property
    def span(self) -> Span:
        if self.key_node is not None:
            return node_span(self.key_node)
        return Span(1, 1)

    def id_token_write(self) -> bool | None:
        """Whether the job's GITHUB_TOKEN may request an OIDC token; None if unknowable.

        Job-level `permissions:` replaces the workflow's. A reusable workflow without
        any runs with its caller's permissions, and a composite action with its job's.
        """
        if self.composite:
            return None
        permissions = self.permissions or self.workflow.permissions
        if permissions is not None:
            return permissions.grants_id_token
        if self.workflow.reusable:
            return None
        return False

    def id_token_span(self) -> Span | None:
        permissions = self.permissions or self.workflow.permissions
        if permissions is None:
            return None
        return permissions.id_token_span or permissions.span


@dataclass(eq=False, repr=False)
class Workflow:
    path: str
    loaded: LoadedYaml
    kind: str
    name: str | None = None
    triggers: dict[str, Span] = field(default_factory=dict)
    env: list[EnvEntry] = field(default_factory=list)
    permissions: Permissions | None = None
    jobs: list[Job] = field(default_factory=list)
    default_shell: str | None = None
    default_working_directory: str | None = None
    npmrc_variables: frozenset[str] = frozenset()  # ${X} read by the repository's .npmrc
    yarnrc_variables: frozenset[str] = frozenset()  # ${X} in .yarnrc.yml's npmAuthToken
    credentials: list[NpmCredential] = field(default_factory=list)  # every one, in order
    literals: frozenset[str] = frozenset()  # literal credential values: never shown
    npmrc_unread: str | None = None  # why the repository's .npmrc, present, was not read
    unread: list[UnreadFile] = field(default_factory=list)  # files its lines needed
    # The policy declares a token inventory (`tokens:`): its rules judge install tokens.
    inventory: bool = False
    consulted: frozenset[str] = frozenset()  # repository paths its analysis asked for

    @property
    def reusable(self) -> bool:
        return "workflow_call" in self.triggers

    @property
    def untrusted_triggers(self) -> list[str]:
        return [t for t in UNTRUSTED_TRIGGERS if t in self.triggers]

    def steps(self) -> Iterator[Step]:
        for job in self.jobs:
            yield from job.steps

    def location(self, span: Span) -> Location:
        return Location(self.path, span.line, span.column, span.end_line, span.end_column)

    def context(self, line: int) -> tuple[str, str]:
        """(words, key) naming the job and step around a line: `in job 'x', step 'y'`.

        The latest-starting job and step that contain the line win: a block scalar's
        end mark sits on the first line of what follows it, so a step (or job) ending
        in `run: |` also "contains" the next one's first line.
        """
        best_job: Job | None = None  # jobs and steps are in file order: the last match
        for job in self.jobs:
            node, key = job.node, job.key_node
            if node is not None and key is not None and key.line <= line <= node.end_line:
                best_job = job
        best_step: Step | None = None
        for job in self.jobs if best_job is None else [best_job]:
            for step in job.steps:
                if step.node.line <= line <= step.node.end_line:
                    best_step = step
        if best_step is not None:
            return f"in {best_step.job.label}, {best_step.label}", best_step.key
        if best_job is not None:
            return f"in {best_job.label}", best_job.key
        return "", "workflow"


# --- facts the analysis derives for each step ------------------------------------


@dataclass(frozen=True)
class Publish:
    """A publish the step performs, directly or through scripts and actions."""

    span: Span
    command: str  # "npm publish", "changeset publish", "JS-DevTools/npm-publish"
    staged: bool = False  # `npm stage publish`: a human approves with 2FA
    via: tuple[str, ...] = ()  # "npm run release → package.json scripts.release"
    registry: str | None = None  # None: the default, registry.npmjs.org
    reads: frozenset[str] | None = None  # variables the tool reads; None: any npm credential
    token_input: Input | None = None  # an action's token input
    # Why this is only presumed to be a publish (read from a JavaScript file's text, or an
    # action npm-guard does not know that is handed an npm token), and how sure that is:
    # "medium" or "low". Empty for a publish the step visibly runs.
    inferred: str = ""
    confidence: str | None = None

    @property
    def shown(self) -> str:
        if self.via:
            return (
                f"`{self.via[0]}` (runs `{self.command}` via {' → '.join(self.via[1:])})"
                if len(self.via) > 1
                else f"`{self.via[0]}` (runs `{self.command}`)"
            )
        return f"`{self.command}`"


# Whether a publish's tool exchanges the job's OIDC token before it uses a configured one.
OIDC_FIRST = "oidc-first"  # the configured token is a fallback for a failed exchange
TOKEN_FIRST = "token-first"  # a configured token is used, OIDC only without one
NO_OIDC = "no-oidc"  # never tries OIDC: `id-token: write` only signs provenance
UNKNOWN_ORDER = "unknown"
NPM_UPGRADE = "npm >= 11.5.1 (bundled with Node >= 24.5, or `npm install -g npm@11`)"


@dataclass(frozen=True)
class OidcUse:
    """What the tool behind a publish does with OIDC, and why npm-guard thinks so."""

    order: str  # OIDC_FIRST, TOKEN_FIRST, NO_OIDC or UNKNOWN_ORDER
    tool: str  # "npm 10.9 (bundled with Node 22: actions/setup-node `node-version: 22`, line 14)"
    upgrade: str = NPM_UPGRADE  # NO_OIDC: what to move to before the token can go


@dataclass(frozen=True)
class TokenCreate:
    span: Span
    flags: dict[str, str | None]  # "--cidr" → value; boolean flags → None
    via: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnexpandedText:
    text: str
    form: str
    span: Span


@dataclass(frozen=True)
class ConfigWrite:
    """An npm auth setting a step writes: into an .npmrc file or with `npm config set`."""

    span: Span  # the start of the value
    setting: str  # the key as written (`//registry.npmjs.org/:_authToken`)
    target: str  # the file as the script names it, or "npm config (user)"
    location: str  # "workspace", "home", "temp", "global", "user-config", "unknown"
    how: str  # "heredoc", "echo", "printf", "npm config set", …
    secrets: tuple[str, ...] = ()  # ${{ secrets.X }} substituted into the value
    variables: tuple[str, ...] = ()  # shell variables expanded into the value
    command_output: bool = False  # $( … ) expanded into the value
    references: tuple[str, ...] = ()  # ${VAR} that npm will expand at run time
    unexpanded: tuple[UnexpandedText, ...] = ()
    literal: str = ""  # the literal value (for the plaintext rule; never printed)
    literal_span: Span | None = None
    # The same step deletes the setting again (`npm config delete …`, also in a
    # `trap '…' EXIT`): later steps do not find it.
    removed_by_step: bool = False

    @property
    def in_workspace(self) -> bool:
        return self.location == "workspace"

    @property
    def holds_runtime_secret(self) -> bool:
        """The file will contain a secret's value, not a reference to it."""
        return bool(self.secrets or self.variables or self.command_output)


@dataclass(frozen=True)
class EnvExport:
    """`NAME=value >> $GITHUB_ENV`: an env var for every later step of the job."""

    name: str
    span: Span
    secrets: tuple[str, ...]
    variables: tuple[str, ...]


@dataclass(frozen=True)
class DependencyCode:
    """A command that runs code from the registry: install scripts, npx, run scripts."""

    span: Span
    command: str
    lifecycle_scripts: bool  # an install that runs dependencies' lifecycle scripts


@dataclass(frozen=True)
class InlineSecret:
    name: str
    span: Span


@dataclass
class StepFacts:
    publishes: list[Publish] = field(default_factory=list)
    token_creates: list[TokenCreate] = field(default_factory=list)
    config_writes: list[ConfigWrite] = field(default_factory=list)
    env_exports: list[EnvExport] = field(default_factory=list)
    dependency_code: list[DependencyCode] = field(default_factory=list)
    registry_commands: list[str] = field(default_factory=list)  # whoami, dist-tag, view, …
    untrusted_checkout: Span | None = None
    inline_secrets: list[InlineSecret] = field(default_factory=list)
    script_credentials: list[tuple[str, Span, ValueSource]] = field(default_factory=list)
    ships_workspace: str | None = None  # "uploads an artifact", "saves a cache", …
    sets_registry: str | None = None  # actions/setup-node registry-url
    npmrc_references: frozenset[str] = frozenset()  # ${X} in .npmrc files it writes
    oidc_uses: list[tuple[Publish, OidcUse]] = field(default_factory=list)  # per publish

    def oidc_use(self, publish: Publish) -> OidcUse | None:
        """What the tool of `publish` (one of `publishes`) does with OIDC."""
        return next((use for known, use in self.oidc_uses if known is publish), None)

    config_deletes: list[str] = field(default_factory=list)  # `npm config delete <key>`
