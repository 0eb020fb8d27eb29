"""Which npm and release tool publish in a job, and whether they try OIDC before a token.

npm >= 11.5.1 exchanges the job's OIDC token first and uses a configured token only when
the exchange fails; older npm never tries. Which npm a publish runs is read from what
the job says, step by step: actions/setup-node's `node-version` (a matrix value, `lts/*`,
`node-version-file` read through the repository reader), a `container: node:24` image,
`nvm`/`volta` installs, `npm install -g npm@…` (which npm refuses on a Node its engines
exclude), `npx npm@11 publish`, `corepack enable npm`. Release tools with an exchange of
their own are judged by their version: @semantic-release/npm, lerna, pnpm (from the
root package.json, the job's installs and `npx tool@x`); Yarn Berry uses a configured
token before OIDC; Yarn 1 and bun have no OIDC. Local composite actions the job uses are
read one level deep. The facts and their sources: `versions.py`, docs/workflows.md.
"""

from __future__ import annotations

from npm_guard._record import dataclass
from npm_guard.workflow.model import (
    NO_OIDC,
    NPM_UPGRADE,
    OIDC_FIRST,
    TOKEN_FIRST,
    UNKNOWN_ORDER,
    OidcUse,
)
from npm_guard.workflow.toolchain_events import (
    NODE,
    NPM,
    PNPM,
    TOOL,
    Event,
    Repository,
    job_events,
    short,
)
from npm_guard.workflow.versions import (
    LATEST,
    LERNA_OIDC,
    NEWEST,
    NPM_ENGINES_TEXT,
    NPM_LATEST_MAJOR,
    PNPM_NATIVE,
    PNPM_OIDC_FIRST,
    SEMANTIC_RELEASE_NPM_OIDC,
    SEMANTIC_RELEASE_WITH_NPM_13,
    Version,
    bundled_npm,
    npm_installs_on,
    npm_tries_oidc,
    resolve_spec,
    shown_version,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.consulted import ConsultedFiles
    from npm_guard.workflow.model import Publish, Step, Workflow

_NPM_INSTEAD = "`npm publish` with npm >= 11.5.1 (bundled with Node >= 24.5)"
_SEMANTIC_RELEASE_UPGRADE = "semantic-release 25 (@semantic-release/npm >= 13.1)"


@dataclass(frozen=True)
class _Npm:
    """The npm a publish runs: whether it tries OIDC first (None: not known), in words."""

    oidc: bool | None
    words: str


def assess_publishes(workflow: Workflow, consulted: ConsultedFiles) -> None:
    """Fill each step's `oidc_uses`: what the tool of each publish does with OIDC."""
    repository = Repository(consulted)
    for job in workflow.jobs:
        if not any(step.facts.publishes for step in job.steps):
            continue
        events = job_events(job, repository)
        for step in job.steps:
            for publish in step.facts.publishes:
                before = [e for e in events if _before(e, step, publish)]
                step.facts.oidc_uses.append((publish, _oidc_use(step, publish, before, repository)))


def _before(event: Event, step: Step, publish: Publish) -> bool:
    if event.only_line is not None:
        return event.at[0] == step.index and event.only_line == publish.span.line
    return event.at < (step.index, publish.span.line, publish.span.column)


# --- from the toolchain to the answer ----------------------------------------------


def _oidc_use(step: Step, publish: Publish, before: list[Event], repository: Repository) -> OidcUse:
    tool = _publisher(step, publish)
    if tool == "npm":
        return _npm_use(_npm(before), "")
    if tool == "pnpm":
        return _pnpm_use(before, repository, "")
    if tool == "changesets":
        return _changesets_use(before, repository)
    if tool == "yarn-berry":
        return OidcUse(
            TOKEN_FIRST,
            "Yarn Berry (`yarn npm publish`), which sends a configured npmAuthToken before it "
            "tries OIDC (Yarn before 4.10 has no OIDC at all)",
        )
    if tool == "yarn-classic":
        return OidcUse(NO_OIDC, "Yarn 1 (`yarn publish`), which has no OIDC exchange", _NPM_INSTEAD)
    if tool == "bun":
        return OidcUse(NO_OIDC, "bun (`bun publish`), which has no OIDC exchange", _NPM_INSTEAD)
    if tool == "lerna":
        return _lerna_use(before, repository)
    if tool == "semantic-release":
        return _semantic_release_use(step, before, repository)
    return OidcUse(UNKNOWN_ORDER, f"{publish.shown}, whose OIDC support is not known here")


def _publisher(step: Step, publish: Publish) -> str:
    """Which tool authenticates `publish`: npm, pnpm, yarn-berry, …, or unknown."""
    command = publish.command
    if publish.via[:1] == ("changesets/action",):
        return "changesets"
    if step.uses is not None and publish.via[:1] == (step.uses,):  # a publishing action
        action = step.action or ""
        if action in ("cycjimmy/semantic-release-action", "codfish/semantic-release-action"):
            return "semantic-release"
        return "npm" if action == "js-devtools/npm-publish" else "unknown"
    for prefix, tool in (
        ("npm ", "npm"),
        ("pnpm ", "pnpm"),
        ("pn ", "pnpm"),
        ("yarn npm ", "yarn-berry"),
        ("yarn publish", "yarn-classic"),
        ("bun ", "bun"),
        ("lerna publish", "lerna"),
        ("semantic-release", "semantic-release"),
        ("changeset", "changesets"),
        ("release-it", "npm"),
    ):
        if command.startswith(prefix) or command == prefix.strip():
            return tool
    return "unknown"


def _npm(before: list[Event]) -> _Npm:
    """The npm in use at a point of the job: the Node's own, or what was installed since."""
    last_node = max((i for i, e in enumerate(before) if e.kind == NODE), default=-1)
    node_event = before[last_node] if last_node >= 0 else None
    upgrades = [e for e in before[last_node + 1 :] if e.kind == NPM]  # a new Node has its own
    versions = node_event.versions if node_event is not None else (None,)
    states = [_npm_on(node, node_event, upgrades) for node in versions]
    first = states[0]
    if all(state.oidc == first.oidc for state in states):
        return first
    assert node_event is not None  # several versions come from a node event
    each = ", ".join(
        f"{state.words.split(' (', 1)[0]} on Node {_version_words(node)}"
        for node, state in zip(versions, states)
    )
    return _Npm(None, f"a different npm for each Node of the matrix ({each}; {node_event.words})")


def _npm_on(node: Version | None, node_event: Event | None, upgrades: list[Event]) -> _Npm:
    if node is None:
        why = (
            node_event.words
            if node_event is not None
            else ("no actions/setup-node in this job: the runner's preinstalled Node")
        )
        state = _Npm(None, f"an npm whose version is not known here ({why})")
    else:
        npm_words, oidc = bundled_npm(node)
        assert node_event is not None
        shown = "the newest Node" if node == LATEST else f"Node {shown_version(node)}"
        state = _Npm(oidc, f"{npm_words} (bundled with {shown}: {node_event.words})")
    for upgrade in upgrades:
        version = upgrade.versions[0]
        if version is None:
            state = _Npm(None, f"an npm whose version is not known here ({upgrade.words})")
            continue
        installs = upgrade.force or npm_installs_on(version, node) is not False
        if not installs:
            major = NPM_LATEST_MAJOR if version[0] == NEWEST else version[0]
            state = _Npm(
                state.oidc,
                f"{state.words}; {upgrade.words} does not install on Node {shown_version(node)}"  # type: ignore[arg-type]
                f" (npm {major} needs Node {NPM_ENGINES_TEXT[major]}), so that step fails, and "
                f"if the job goes on it keeps that npm",
            )
            continue
        shown = (
            f"npm {NPM_LATEST_MAJOR} (latest)"
            if version == LATEST
            else f"npm {shown_version(version)}"
        )
        state = _Npm(
            npm_tries_oidc(version) if version[0] != NEWEST else True, f"{shown} ({upgrade.words})"
        )
    return state


def _npm_use(npm: _Npm, via: str, upgrade: str = NPM_UPGRADE) -> OidcUse:
    order = {True: OIDC_FIRST, False: NO_OIDC, None: UNKNOWN_ORDER}[npm.oidc]
    return OidcUse(order, f"{via}{npm.words}", upgrade)


def _last(before: list[Event], kind: str, tool: str = "") -> Event | None:
    found = [e for e in before if e.kind == kind and e.tool == tool]
    return found[-1] if found else None


def _pnpm_use(before: list[Event], repository: Repository, via: str) -> OidcUse:
    event = _last(before, PNPM)
    version: Version | None = None
    if event is not None:
        version, words = (
            event.versions[0],
            f"pnpm {_version_words(event.versions[0])} ({event.words})",
        )
    else:
        manager = repository.package_manager()
        if manager is not None and manager[0] == "pnpm":
            version = resolve_spec(manager[1])
            words = f"pnpm {short(manager[1])} (packageManager in package.json)"
        else:
            words = "a pnpm whose version is not known here"
    npm = _npm(before)
    if version is not None and version >= PNPM_OIDC_FIRST:
        return OidcUse(OIDC_FIRST, f"{via}{words}, which does the OIDC exchange itself")
    if version is not None and version >= PNPM_NATIVE:
        return OidcUse(TOKEN_FIRST, f"{via}{words}, which uses a configured token before OIDC")
    if version is not None:
        return _npm_use(
            npm,
            f"{via}{words}, which runs `npm publish` with ",
            f"{NPM_UPGRADE}, or pnpm >= 11.0.7",
        )
    if npm.oidc is True:  # pnpm 11 tries OIDC itself; pnpm 10 runs this npm, which does too
        return OidcUse(OIDC_FIRST, f"{via}{words}, with {npm.words}")
    return OidcUse(
        UNKNOWN_ORDER, f"{via}{words} (pnpm 11 tries OIDC itself; pnpm 10 runs {npm.words})"
    )


def _version_words(version: Version | None) -> str:
    return shown_version(version) if version is not None else "(version not known)"


def _changesets_use(before: list[Event], repository: Repository) -> OidcUse:
    manager = repository.package_manager()
    name = manager[0] if manager is not None else ""
    if (
        name == "pnpm"
        or repository.exists("pnpm-workspace.yaml")
        or repository.exists("pnpm-lock.yaml")
    ):
        return _pnpm_use(before, repository, "changesets, which runs `pnpm publish`: ")
    cli = resolve_spec(repository.dependency("@changesets/cli") or "0")
    berry = name == "yarn" and not (manager or ("", "1"))[1].startswith("1.")
    if berry and cli is not None and cli >= (3, 0, 0):
        return OidcUse(
            TOKEN_FIRST,
            "changesets 3, which runs `yarn npm publish` here (Yarn Berry sends a configured "
            "npmAuthToken before it tries OIDC)",
        )
    return _npm_use(_npm(before), "changesets, which runs `npm publish` with ")


def _tool_version(
    before: list[Event], repository: Repository, name: str
) -> tuple[Version | None, str] | None:
    """A release tool's version: installed or run with a version in the job, else
    package.json's range; None when neither says."""
    event = _last(before, TOOL, name)
    if event is not None:
        return event.versions[0], event.words
    declared = repository.dependency(name)
    if declared is not None:
        return resolve_spec(declared), f"`{name}: {short(declared)}` in package.json"
    return None


def _lerna_use(before: list[Event], repository: Repository) -> OidcUse:
    found = _tool_version(before, repository, "lerna")
    if found is None:
        if repository.json("package.json") is None and repository.exists("package.json"):
            return OidcUse(UNKNOWN_ORDER, "a lerna whose version is not known here")
        found = (LATEST, "not in package.json, so the latest")
    version, words = found
    if version is None:
        return OidcUse(UNKNOWN_ORDER, f"a lerna whose version is not known here ({words})")
    shown = f"lerna {_version_words(version) if version != LATEST else '10 (latest)'} ({words})"
    if version >= LERNA_OIDC:
        return OidcUse(OIDC_FIRST, f"{shown}, which does the OIDC exchange itself")
    return OidcUse(NO_OIDC, f"{shown}, which has no OIDC exchange", "lerna >= 9")


def _semantic_release_use(step: Step, before: list[Event], repository: Repository) -> OidcUse:
    plugin = _tool_version(before, repository, "@semantic-release/npm")
    if plugin is None:
        core = _tool_version(before, repository, "semantic-release")
        if core is None:
            if step.uses is not None or (
                repository.json("package.json") is None and repository.exists("package.json")
            ):
                return OidcUse(
                    UNKNOWN_ORDER,
                    "a semantic-release whose @semantic-release/npm version is not known here",
                )
            core = (LATEST, "not in package.json, so the latest")
        version, words = core
        if version is None:
            return OidcUse(
                UNKNOWN_ORDER, f"a semantic-release whose version is not known here ({words})"
            )
        major = 25 if version == LATEST else version[0]
        shown = f"semantic-release {major}{' (latest)' if version == LATEST else ''} ({words})"
        if major >= SEMANTIC_RELEASE_WITH_NPM_13:
            return OidcUse(
                OIDC_FIRST,
                f"{shown}, whose @semantic-release/npm 13 does the OIDC exchange itself",
            )
        return OidcUse(
            NO_OIDC,
            f"{shown}, whose @semantic-release/npm 12 or older has no OIDC exchange",
            _SEMANTIC_RELEASE_UPGRADE,
        )
    version, words = plugin
    if version is None:
        return OidcUse(
            UNKNOWN_ORDER, f"an @semantic-release/npm whose version is not known here ({words})"
        )
    shown = f"@semantic-release/npm {shown_version(version)} ({words})"
    if version >= SEMANTIC_RELEASE_NPM_OIDC:
        return OidcUse(
            OIDC_FIRST,
            f"{shown}, which does the OIDC exchange itself",
        )
    return OidcUse(NO_OIDC, f"{shown}, which has no OIDC exchange", _SEMANTIC_RELEASE_UPGRADE)
