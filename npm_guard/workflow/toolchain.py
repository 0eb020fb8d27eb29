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

import posixpath
import re

from npm_guard._record import dataclass
from npm_guard.workflow.arguments import parse_arguments, program_name
from npm_guard.workflow.model import (
    NO_OIDC,
    NPM_UPGRADE,
    OIDC_FIRST,
    TOKEN_FIRST,
    UNKNOWN_ORDER,
    OidcUse,
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
    resolve_node,
    resolve_spec,
    shown_version,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.consulted import ConsultedFiles
    from npm_guard.workflow.model import Job, Publish, Step, Workflow
    from npm_guard.workflow.shell_words import Command, Word
    from npm_guard.workflow.yaml_loader import MappingNode, YamlNode

MAX_VERSION_FILE_BYTES = 64 * 1024
MAX_ACTION_BYTES = 1024 * 1024
NODE, NPM, PNPM, TOOL = "node", "npm", "pnpm", "tool"
_TOOLS = ("@semantic-release/npm", "semantic-release", "lerna")
_MATRIX_RE = re.compile(r"^\$\{\{\s*matrix\.([A-Za-z0-9_.-]+)\s*\}\}$")
_ENV_RE = re.compile(r"^\$\{\{\s*env\.([A-Za-z0-9_]+)\s*\}\}$")
_INPUT_RE = re.compile(r"^\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}$")
_SPEC_WORD_RE = re.compile(r"^(@?[A-Za-z0-9._/-]+?)(?:@(.*))?$")
_NPM_INSTEAD = "`npm publish` with npm >= 11.5.1 (bundled with Node >= 24.5)"
_SEMANTIC_RELEASE_UPGRADE = "semantic-release 25 (@semantic-release/npm >= 13.1)"
_NPM_INSTALL = frozenset({"install", "i", "in", "add", "isntall", "ci", "update", "up"})


@dataclass(frozen=True)
class _Event:
    """Something a job does to its toolchain, at a place in the job."""

    at: tuple[int, int, int]  # step index, line, column
    kind: str  # NODE, NPM, PNPM or TOOL
    versions: tuple[Version | None, ...]  # NODE: one per matrix value; else one
    words: str  # "actions/setup-node `node-version: 22`, line 14"
    tool: str = ""  # TOOL: "lerna", "semantic-release", "@semantic-release/npm"
    force: bool = False  # NPM: `--force` skips npm's engine check
    only_line: int | None = None  # `npx npm@11 publish`: that command only


@dataclass(frozen=True)
class _Npm:
    """The npm a publish runs: whether it tries OIDC first (None: not known), in words."""

    oidc: bool | None
    words: str


def assess_publishes(workflow: Workflow, consulted: ConsultedFiles) -> None:
    """Fill each step's `oidc_uses`: what the tool of each publish does with OIDC."""
    repository = _Repository(consulted)
    for job in workflow.jobs:
        if not any(step.facts.publishes for step in job.steps):
            continue
        events = _job_events(job, repository)
        for step in job.steps:
            for publish in step.facts.publishes:
                before = [e for e in events if _before(e, step, publish)]
                step.facts.oidc_uses.append((publish, _oidc_use(step, publish, before, repository)))


def _before(event: _Event, step: Step, publish: Publish) -> bool:
    if event.only_line is not None:
        return event.at[0] == step.index and event.only_line == publish.span.line
    return event.at < (step.index, publish.span.line, publish.span.column)


class _Repository:
    """The repository files the toolchain reads, parsed once per workflow."""

    def __init__(self, consulted: ConsultedFiles) -> None:
        self.consulted = consulted
        self._json: dict[str, dict[str, object] | None] = {}

    def text(self, path: str, limit: int = MAX_VERSION_FILE_BYTES) -> str | None:
        found = self.consulted.read(path, limit, needed_at=None, purpose="")
        return found.text if found.problem is None else None

    def exists(self, path: str) -> bool:
        found = self.consulted.read(path, MAX_VERSION_FILE_BYTES, needed_at=None, purpose="")
        return not found.missing and found.problem != "outside the repository; not read"

    def json(self, path: str) -> dict[str, object] | None:
        if path not in self._json:
            text = self.text(path, MAX_ACTION_BYTES)
            data: object = None
            if text is not None:
                import json  # only here: most workflows never need it

                try:
                    data = json.loads(text.removeprefix("\ufeff"))
                except (ValueError, RecursionError):
                    data = None
            self._json[path] = data if isinstance(data, dict) else None
        return self._json[path]

    def dependency(self, name: str) -> str | None:
        """The range the root package.json gives `name` (dependencies of any kind)."""
        package = self.json("package.json")
        for field in ("devDependencies", "dependencies", "optionalDependencies"):
            table = package.get(field) if package is not None else None
            if isinstance(table, dict) and isinstance(table.get(name), str):
                return str(table[name])
        return None

    def package_manager(self) -> tuple[str, str] | None:
        """`packageManager: "pnpm@10.8.0+sha…"` of the root package.json as (name, version)."""
        package = self.json("package.json")
        value = package.get("packageManager") if package is not None else None
        if not isinstance(value, str) or "@" not in value:
            return None
        name, _, version = value.partition("@")
        return name, version.split("+", 1)[0]


# --- what the job does to its toolchain ------------------------------------------


def _job_events(job: Job, repository: _Repository) -> list[_Event]:
    events: list[_Event] = []
    container = _container_node(job)
    if container is not None:
        events.append(container)
    for step in job.steps:
        at = (step.index, step.span.line, 0)
        if step.uses is not None:
            events.extend(
                _uses_events(step.uses, _step_inputs(step), at, job, step, repository, depth=0)
            )
        if step.run is not None:
            events.extend(_script_events(step.run.script.commands, step, repository))
    events.sort(key=lambda event: event.at)
    return events


def _step_inputs(step: Step) -> dict[str, tuple[str, int]]:
    return {name: (given.text, given.span.line) for name, given in step.inputs.items()}


def _uses_events(
    uses: str,
    inputs: dict[str, tuple[str, int]],
    at: tuple[int, int, int],
    job: Job,
    step: Step,
    repository: _Repository,
    depth: int,
) -> list[_Event]:
    action = uses.split("@", 1)[0].strip().lower()
    if action == "actions/setup-node":
        return _setup_node(inputs, at, job, step, repository)
    if action == "pnpm/action-setup":
        version = inputs.get("version")
        if version is not None and version[0].strip():
            words = f"pnpm/action-setup `version: {version[0].strip()}`, line {version[1]}"
            return [_Event(at, PNPM, (resolve_spec(version[0]),), words)]
        return []
    if action == "volta-cli/action":
        version = inputs.get("node-version")
        if version is not None and version[0].strip():
            words = f"volta-cli/action `node-version: {version[0].strip()}`, line {version[1]}"
            return [_Event(at, NODE, (resolve_node(version[0]),), words)]
        return _node_from_file("package.json", "volta-cli/action", at, repository, step)
    if action in ("cycjimmy/semantic-release-action", "codfish/semantic-release-action"):
        return _semantic_release_action(inputs, at)
    if uses.startswith("./") and depth == 0:
        return _local_action(uses, inputs, at, job, step, repository)
    return []


def _setup_node(
    inputs: dict[str, tuple[str, int]],
    at: tuple[int, int, int],
    job: Job,
    step: Step,
    repository: _Repository,
) -> list[_Event]:
    given = inputs.get("node-version")
    if given is not None and given[0].strip():
        text, line = given[0].strip(), given[1]
        values = _expression_values(text, job, step)
        words = f"actions/setup-node `node-version: {_short(text)}`, line {line}"
        if values is None:
            return [_Event(at, NODE, (None,), words)]
        if len(values) > 1:
            words += f" (the matrix: {', '.join(_short(v) for v in values)})"
        return [_Event(at, NODE, tuple(resolve_node(v) for v in values), words)]
    file = inputs.get("node-version-file")
    if file is not None and file[0].strip():
        path = file[0].strip()
        return _node_from_file(
            path, f"actions/setup-node `node-version-file: {_short(path)}`", at, repository, step
        )
    return [_Event(at, NODE, (None,), "actions/setup-node without `node-version`")]


def _expression_values(text: str, job: Job, step: Step) -> list[str] | None:
    """The values `text` takes: itself, a matrix's values, an env literal; None: unknown."""
    if "${{" not in text:
        return [text]
    env = _ENV_RE.match(text)
    if env is not None:
        source = step.env_sources().get(env.group(1))
        literal = source.literal if source is not None else ""
        return [literal] if literal and "${{" not in source.text else None  # type: ignore[union-attr]
    matrix = _MATRIX_RE.match(text)
    if matrix is None or job.node is None:
        return None
    return _matrix_values(job.node, matrix.group(1))


def _matrix_values(job_node: MappingNode, name: str) -> list[str] | None:
    from npm_guard.workflow.yaml_loader import MappingNode, ScalarNode, SequenceNode

    strategy = job_node.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, MappingNode) else None
    if not isinstance(matrix, MappingNode):
        return None
    values: list[str] = []
    listed = matrix.get(name)
    if isinstance(listed, SequenceNode):
        for item in listed.items:
            if not isinstance(item, ScalarNode):
                return None
            values.append(item.value)
    elif isinstance(listed, ScalarNode):
        values.append(listed.value)
    elif listed is not None:
        return None
    include = matrix.get("include")
    if isinstance(include, SequenceNode):
        for entry in include.items:
            value = entry.get(name) if isinstance(entry, MappingNode) else None
            if isinstance(value, ScalarNode):
                values.append(value.value)
    if not values or any("${{" in value for value in values):
        return None
    return list(dict.fromkeys(values))


def _node_from_file(
    path: str, words: str, at: tuple[int, int, int], repository: _Repository, step: Step
) -> list[_Event]:
    """The Node version a version file names, read as actions/setup-node reads it."""
    relative = posixpath.normpath(path.removeprefix("./"))
    if relative.startswith("../") or "${{" in relative:
        return [_Event(at, NODE, (None,), words)]
    text = repository.text(relative)
    spec = _version_file_spec(text) if text is not None else None
    if spec is None:
        return [_Event(at, NODE, (None,), f"{words} (not read)")]
    return [_Event(at, NODE, (resolve_node(spec),), f"{words}: `{_short(spec)}`")]


def _version_file_spec(text: str) -> str | None:
    """setup-node's reading: package.json's volta.node, devEngines.runtime (node),
    engines.node; else the first `[node[js] ]v<version>` line; else the whole text."""
    import json  # only here: only version files need it

    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        volta = data.get("volta")
        if isinstance(volta, dict) and isinstance(volta.get("node"), str):
            return str(volta["node"])
        dev = data.get("devEngines")
        runtime = dev.get("runtime") if isinstance(dev, dict) else None
        for entry in runtime if isinstance(runtime, list) else [runtime]:
            if (
                isinstance(entry, dict)
                and str(entry.get("name", "")).lower() == "node"
                and isinstance(entry.get("version"), str)
            ):
                return str(entry["version"])
        engines = data.get("engines")
        if isinstance(engines, dict) and isinstance(engines.get("node"), str):
            return str(engines["node"])
        return None
    found = re.search(r"^(?:node(?:js)?\s+)?v?(\S+)$", text, re.MULTILINE)
    return found.group(1) if found is not None else (text.strip() or None)


def _container_node(job: Job) -> _Event | None:
    """`container: node:24-alpine`: the job runs in that image's Node."""
    from npm_guard.workflow.yaml_loader import MappingNode, ScalarNode

    if job.node is None:
        return None
    container = job.node.get("container")
    image = container.get("image") if isinstance(container, MappingNode) else container
    if not isinstance(image, ScalarNode):
        return None
    match = re.match(
        r"^(?:docker\.io/)?(?:library/)?node:([0-9]+(?:\.[0-9]+)*|lts|current)\b", image.value
    )
    if match is None:
        return None
    words = f"`container: {_short(image.value)}`, line {image.line}"
    return _Event((-1, image.line, 0), NODE, (resolve_node(match.group(1)),), words)


def _semantic_release_action(
    inputs: dict[str, tuple[str, int]], at: tuple[int, int, int]
) -> list[_Event]:
    events: list[_Event] = []
    version = inputs.get("semantic_version")
    if version is not None and version[0].strip():
        events.append(
            _Event(
                at,
                TOOL,
                (resolve_spec(version[0]),),
                f"`semantic_version: {_short(version[0].strip())}`, line {version[1]}",
                tool="semantic-release",
            )
        )
    plugins = inputs.get("extra_plugins")
    for word in (plugins[0] if plugins is not None else "").split():
        name, spec = _name_and_spec(word)
        if name == "@semantic-release/npm":
            events.append(
                _Event(
                    at,
                    TOOL,
                    (resolve_spec(spec or ""),),
                    f"`extra_plugins: {_short(word)}`, line {plugins[1]}",  # type: ignore[index]
                    tool=name,
                )
            )
    return events


def _local_action(
    uses: str,
    inputs: dict[str, tuple[str, int]],
    at: tuple[int, int, int],
    job: Job,
    step: Step,
    repository: _Repository,
) -> list[_Event]:
    """The toolchain a local composite action (`uses: ./path`) sets up, one level deep."""
    from npm_guard.workflow.yaml_loader import (
        MappingNode,
        ScalarNode,
        SequenceNode,
        YamlLoadError,
        load_yaml,
    )

    directory = posixpath.normpath(uses.split("@", 1)[0][2:])
    if directory.startswith("..") or "${{" in directory:
        return []
    text = None
    for name in ("action.yml", "action.yaml"):
        text = repository.text(posixpath.join(directory, name), MAX_ACTION_BYTES)
        if text is not None:
            break
    if text is None:
        return []
    try:
        root = load_yaml(text).root
    except (YamlLoadError, RecursionError, MemoryError):
        return []
    runs = root.get("runs") if isinstance(root, MappingNode) else None
    steps = runs.get("steps") if isinstance(runs, MappingNode) else None
    if not isinstance(steps, SequenceNode):
        return []
    defaults = _action_input_defaults(root)  # type: ignore[arg-type]
    events: list[_Event] = []
    where = f"{uses.split('@', 1)[0]}"
    for item in steps.items:
        if not isinstance(item, MappingNode):
            continue
        inner_uses = item.get("uses")
        if isinstance(inner_uses, ScalarNode):
            inner = {
                name: (_substitute(value, inputs, defaults), step.span.line)
                for name, value in _scalar_inputs(item.get("with")).items()
            }
            for event in _uses_events(inner_uses.value, inner, at, job, step, repository, 1):
                events.append(_in_action(event, where))
        run = item.get("run")
        if isinstance(run, ScalarNode):
            from npm_guard.workflow.shell import read_script

            script = read_script(_substitute(run.value, inputs, defaults), "bash")
            for command in script.commands:
                for event in _command_events(command, repository, at, None):
                    events.append(_in_action(event, where))
    return events


def _in_action(event: _Event, where: str) -> _Event:
    return _Event(
        event.at,
        event.kind,
        event.versions,
        f"{event.words} in the local action {where}",
        event.tool,
        event.force,
        None,
    )


def _action_input_defaults(root: MappingNode) -> dict[str, str]:
    from npm_guard.workflow.yaml_loader import MappingNode, ScalarNode

    found: dict[str, str] = {}
    declared = root.get("inputs")
    if isinstance(declared, MappingNode):
        for key, spec in declared.items():
            default = spec.get("default") if isinstance(spec, MappingNode) else None
            if isinstance(default, ScalarNode):
                found[key.value] = default.value
    return found


def _scalar_inputs(node: YamlNode | None) -> dict[str, str]:
    from npm_guard.workflow.yaml_loader import MappingNode, ScalarNode

    if not isinstance(node, MappingNode):
        return {}
    return {key.value: value.value for key, value in node.items() if isinstance(value, ScalarNode)}


def _substitute(text: str, inputs: dict[str, tuple[str, int]], defaults: dict[str, str]) -> str:
    """`${{ inputs.x }}` in a composite action: the caller's value, else the default."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        given = inputs.get(name)
        if given is not None:
            return given[0]
        return defaults.get(name, match.group(0))

    return re.sub(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", value, text)


def _script_events(commands: list[Command], step: Step, repository: _Repository) -> list[_Event]:
    run = step.run
    assert run is not None
    events: list[_Event] = []
    for command in commands:
        if command.substitution_depth:
            continue
        span = run.span(command.start, command.end)
        at = (step.index, span.line, span.column)
        events.extend(_command_events(command, repository, at, span.line))
    return events


def _command_events(
    command: Command, repository: _Repository, at: tuple[int, int, int], line: int | None
) -> list[_Event]:
    """What one command does to the toolchain: installs of npm, pnpm, Node, release tools."""
    words = _unwrapped(command.words)
    if not words:
        return []
    program = program_name(words[0])
    args = words[1:]
    texts = [w.literal or "" for w in args]
    where = f"line {line}" if line is not None else "run"
    if program == "npm" and texts[:1] and texts[0] in _NPM_INSTALL:
        return _install_events(args[1:], at, where, "npm " + texts[0])
    if program in ("npx", "pnpx", "bunx") or (program == "npm" and texts[:1] in (["exec"], ["x"])):
        return _exec_events(args if program != "npm" else args[1:], at, where, line)
    if program == "corepack":
        return _corepack_events(texts, at, where, repository)
    if program in ("nvm", "fnm") and texts[:1] in (["install"], ["use"]) and len(texts) > 1:
        wanted = texts[1]
        shown = f"`{program} {texts[0]} {_short(wanted)}`, {where}"
        return [_Event(at, NODE, (resolve_node(wanted),), shown)]
    if program == "volta" and texts[:1] == ["install"]:
        for text in texts[1:]:
            name, spec = _name_and_spec(text)
            if name == "node" and spec:
                return [
                    _Event(
                        at, NODE, (resolve_node(spec),), f"`volta install {_short(text)}`, {where}"
                    )
                ]
    return []


def _unwrapped(words: list[Word]) -> list[Word]:
    index = 0
    while index < len(words) and (
        program_name(words[index]) in ("sudo", "env", "time", "command")
        or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[index].text)
    ):
        index += 1
    return words[index:]


def _install_events(
    args: list[Word], at: tuple[int, int, int], where: str, how: str
) -> list[_Event]:
    from npm_guard.workflow.package_managers import NPM_VALUE_FLAGS

    parsed = parse_arguments(args, NPM_VALUE_FLAGS)
    global_ = (
        any(f in parsed.flags for f in ("-g", "--global"))
        or parsed.flags.get("--location") == "global"
    )
    force = "--force" in parsed.flags or "-f" in parsed.flags
    events: list[_Event] = []
    for word in parsed.positionals:
        text = word.text  # `npm@$VERSION`: npm, at a version not known here
        name, spec = _name_and_spec(text)
        shown = f"`{how}{' -g' if global_ else ''} {_short(text)}`, {where}"
        if name == "npm" and global_:
            events.append(_Event(at, NPM, (resolve_spec(spec or ""),), shown, force=force))
        elif name == "pnpm" and global_:
            events.append(_Event(at, PNPM, (resolve_spec(spec or ""),), shown))
        elif name in _TOOLS:
            events.append(_Event(at, TOOL, (resolve_spec(spec or ""),), shown, tool=name))
    return events


def _exec_events(
    args: list[Word], at: tuple[int, int, int], where: str, line: int | None
) -> list[_Event]:
    """`npx npm@11 publish`, `npx semantic-release@24`: that command's own versions."""
    parsed = parse_arguments(args, frozenset({"-p", "--package", "-c", "--call"}))
    specs = [parsed.flags.get("-p") or parsed.flags.get("--package") or ""]
    specs += [w.literal or "" for w in parsed.positionals[:1]]
    events: list[_Event] = []
    for text in specs:
        name, spec = _name_and_spec(text)
        if spec is None:
            continue
        shown = f"`npx {_short(text)}`, {where}"
        if name == "npm":
            events.append(_Event(at, NPM, (resolve_spec(spec),), shown, only_line=line))
        elif name in _TOOLS:
            events.append(_Event(at, TOOL, (resolve_spec(spec),), shown, tool=name, only_line=line))
    return events


def _corepack_events(
    texts: list[str], at: tuple[int, int, int], where: str, repository: _Repository
) -> list[_Event]:
    if texts[:1] in (["prepare"], ["use"], ["install"]):
        for text in texts[1:]:
            name, spec = _name_and_spec(text)
            if name == "pnpm" and spec:
                shown = f"`corepack {texts[0]} {_short(text)}`, {where}"
                return [_Event(at, PNPM, (resolve_spec(spec),), shown)]
    if texts[:1] == ["enable"] and "npm" in texts[1:]:
        # corepack shims npm only when asked by name; it then runs packageManager's npm.
        manager = repository.package_manager()
        shown = f"`corepack enable npm`, {where}"
        if manager is not None and manager[0] == "npm":
            return [
                _Event(
                    at,
                    NPM,
                    (resolve_spec(manager[1]),),
                    f"{shown} (packageManager npm@{_short(manager[1])})",
                )
            ]
        return [_Event(at, NPM, (None,), shown)]
    return []


def _name_and_spec(text: str) -> tuple[str, str | None]:
    """`npm@11` → ("npm", "11"); `@semantic-release/npm@13` → (…, "13"); `lerna` → (…, None)."""
    if text.startswith("@"):
        scope_end = text.find("/")
        at = text.find("@", scope_end if scope_end > 0 else 1)
    else:
        at = text.find("@")
    if at <= 0:
        return text, None
    return text[:at], text[at + 1 :]


def _short(text: str) -> str:
    """A version or a value from the file, cut short for messages."""
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"


# --- from the toolchain to the answer ----------------------------------------------


def _oidc_use(
    step: Step, publish: Publish, before: list[_Event], repository: _Repository
) -> OidcUse:
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


def _npm(before: list[_Event]) -> _Npm:
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


def _npm_on(node: Version | None, node_event: _Event | None, upgrades: list[_Event]) -> _Npm:
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


def _last(before: list[_Event], kind: str, tool: str = "") -> _Event | None:
    found = [e for e in before if e.kind == kind and e.tool == tool]
    return found[-1] if found else None


def _pnpm_use(before: list[_Event], repository: _Repository, via: str) -> OidcUse:
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
            words = f"pnpm {_short(manager[1])} (packageManager in package.json)"
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


def _changesets_use(before: list[_Event], repository: _Repository) -> OidcUse:
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
    before: list[_Event], repository: _Repository, name: str
) -> tuple[Version | None, str] | None:
    """A release tool's version: installed or run with a version in the job, else
    package.json's range; None when neither says."""
    event = _last(before, TOOL, name)
    if event is not None:
        return event.versions[0], event.words
    declared = repository.dependency(name)
    if declared is not None:
        return resolve_spec(declared), f"`{name}: {_short(declared)}` in package.json"
    return None


def _lerna_use(before: list[_Event], repository: _Repository) -> OidcUse:
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


def _semantic_release_use(step: Step, before: list[_Event], repository: _Repository) -> OidcUse:
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
