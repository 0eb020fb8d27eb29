"""What a job does to its toolchain, step by step: the events `toolchain.py` judges.

Each event is a Node, npm, pnpm or release-tool version a step sets up or installs, with
the words a message shows for it: actions/setup-node (`node-version`, a matrix value,
`node-version-file` read through the repository reader), a `container: node:…` image,
`nvm`/`fnm`/`volta`, `npm install -g npm@…`, `npx tool@x`, `corepack`, and local
composite actions one level deep. A local install of a release tool without a version
(`npm install @semantic-release/npm`) keeps the range package.json already gives it, as
npm does, so it is no event of its own.
"""

from __future__ import annotations

import posixpath
import re

from npm_guard._record import dataclass
from npm_guard.lazy_pattern import lazy_compile
from npm_guard.repo_files import json_object
from npm_guard.workflow.arguments import parse_arguments, program_name
from npm_guard.workflow.versions import (
    Version,
    resolve_node,
    resolve_spec,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.consulted import ConsultedFiles
    from npm_guard.workflow.model import Job, Step
    from npm_guard.workflow.shell_words import Command, Word
    from npm_guard.workflow.yaml_loader import MappingNode, YamlNode

MAX_VERSION_FILE_BYTES = 64 * 1024
MAX_ACTION_BYTES = 1024 * 1024
NODE, NPM, PNPM, TOOL = "node", "npm", "pnpm", "tool"
_TOOLS = ("@semantic-release/npm", "semantic-release", "lerna")
_MATRIX_RE = lazy_compile(r"^\$\{\{\s*matrix\.([A-Za-z0-9_.-]+)\s*\}\}$")
_ENV_RE = lazy_compile(r"^\$\{\{\s*env\.([A-Za-z0-9_]+)\s*\}\}$")
_INPUT_RE = lazy_compile(r"^\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}$")
_NPM_INSTALL = frozenset({"install", "i", "in", "add", "isntall", "ci", "update", "up"})


@dataclass(frozen=True)
class Event:
    """Something a job does to its toolchain, at a place in the job."""

    at: tuple[int, int, int]  # step index, line, column
    kind: str  # NODE, NPM, PNPM or TOOL
    versions: tuple[Version | None, ...]  # NODE: one per matrix value; else one
    words: str  # "actions/setup-node `node-version: 22`, line 14"
    tool: str = ""  # TOOL: "lerna", "semantic-release", "@semantic-release/npm"
    force: bool = False  # NPM: `--force` skips npm's engine check
    only_line: int | None = None  # `npx npm@11 publish`: that command only


class Repository:
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
            self._json[path] = json_object(self.text(path, MAX_ACTION_BYTES))
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


def job_events(job: Job, repository: Repository) -> list[Event]:
    events: list[Event] = []
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
    repository: Repository,
    depth: int,
) -> list[Event]:
    action = uses.split("@", 1)[0].strip().lower()
    if action == "actions/setup-node":
        return _setup_node(inputs, at, job, step, repository)
    if action == "pnpm/action-setup":
        version = inputs.get("version")
        if version is not None and version[0].strip():
            words = f"pnpm/action-setup `version: {version[0].strip()}`, line {version[1]}"
            return [Event(at, PNPM, (resolve_spec(version[0]),), words)]
        return []
    if action == "volta-cli/action":
        version = inputs.get("node-version")
        if version is not None and version[0].strip():
            words = f"volta-cli/action `node-version: {version[0].strip()}`, line {version[1]}"
            return [Event(at, NODE, (resolve_node(version[0]),), words)]
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
    repository: Repository,
) -> list[Event]:
    given = inputs.get("node-version")
    if given is not None and given[0].strip():
        text, line = given[0].strip(), given[1]
        values = _expression_values(text, job, step)
        words = f"actions/setup-node `node-version: {short(text)}`, line {line}"
        if values is None:
            return [Event(at, NODE, (None,), words)]
        if len(values) > 1:
            words += f" (the matrix: {', '.join(short(v) for v in values)})"
        return [Event(at, NODE, tuple(resolve_node(v) for v in values), words)]
    file = inputs.get("node-version-file")
    if file is not None and file[0].strip():
        path = file[0].strip()
        return _node_from_file(
            path, f"actions/setup-node `node-version-file: {short(path)}`", at, repository, step
        )
    return [Event(at, NODE, (None,), "actions/setup-node without `node-version`")]


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
    path: str, words: str, at: tuple[int, int, int], repository: Repository, step: Step
) -> list[Event]:
    """The Node version a version file names, read as actions/setup-node reads it."""
    relative = posixpath.normpath(path.removeprefix("./"))
    if relative.startswith("../") or "${{" in relative:
        return [Event(at, NODE, (None,), words)]
    text = repository.text(relative)
    spec = _version_file_spec(text) if text is not None else None
    if spec is None:
        return [Event(at, NODE, (None,), f"{words} (not read)")]
    return [Event(at, NODE, (resolve_node(spec),), f"{words}: `{short(spec)}`")]


def _version_file_spec(text: str) -> str | None:
    """setup-node's reading: package.json's volta.node, devEngines.runtime (node),
    engines.node; else the first `[node[js] ]v<version>` line; else the whole text."""
    data = json_object(text)
    if data is not None:
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


def _container_node(job: Job) -> Event | None:
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
    words = f"`container: {short(image.value)}`, line {image.line}"
    return Event((-1, image.line, 0), NODE, (resolve_node(match.group(1)),), words)


def _semantic_release_action(
    inputs: dict[str, tuple[str, int]], at: tuple[int, int, int]
) -> list[Event]:
    events: list[Event] = []
    version = inputs.get("semantic_version")
    if version is not None and version[0].strip():
        events.append(
            Event(
                at,
                TOOL,
                (resolve_spec(version[0]),),
                f"`semantic_version: {short(version[0].strip())}`, line {version[1]}",
                tool="semantic-release",
            )
        )
    plugins = inputs.get("extra_plugins")
    for word in (plugins[0] if plugins is not None else "").split():
        name, spec = _name_and_spec(word)
        if name == "@semantic-release/npm":
            events.append(
                Event(
                    at,
                    TOOL,
                    (resolve_spec(spec or ""),),
                    f"`extra_plugins: {short(word)}`, line {plugins[1]}",  # type: ignore[index]
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
    repository: Repository,
) -> list[Event]:
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
    events: list[Event] = []
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


def _in_action(event: Event, where: str) -> Event:
    return Event(
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


def _script_events(commands: list[Command], step: Step, repository: Repository) -> list[Event]:
    run = step.run
    assert run is not None
    events: list[Event] = []
    for command in commands:
        if command.substitution_depth:
            continue
        span = run.span(command.start, command.end)
        at = (step.index, span.line, span.column)
        events.extend(_command_events(command, repository, at, span.line))
    return events


def _command_events(
    command: Command, repository: Repository, at: tuple[int, int, int], line: int | None
) -> list[Event]:
    """What one command does to the toolchain: installs of npm, pnpm, Node, release tools."""
    words = _unwrapped(command.words)
    if not words:
        return []
    program = program_name(words[0])
    args = words[1:]
    texts = [w.literal or "" for w in args]
    where = f"line {line}" if line is not None else "run"
    if program == "npm" and texts[:1] and texts[0] in _NPM_INSTALL:
        return _install_events(args[1:], at, where, "npm " + texts[0], repository)
    if program in ("npx", "pnpx", "bunx") or (program == "npm" and texts[:1] in (["exec"], ["x"])):
        return _exec_events(args if program != "npm" else args[1:], at, where, line)
    if program == "corepack":
        return _corepack_events(texts, at, where, repository)
    if program in ("nvm", "fnm") and texts[:1] in (["install"], ["use"]) and len(texts) > 1:
        wanted = texts[1]
        shown = f"`{program} {texts[0]} {short(wanted)}`, {where}"
        return [Event(at, NODE, (resolve_node(wanted),), shown)]
    if program == "volta" and texts[:1] == ["install"]:
        for text in texts[1:]:
            name, spec = _name_and_spec(text)
            if name == "node" and spec:
                return [
                    Event(
                        at, NODE, (resolve_node(spec),), f"`volta install {short(text)}`, {where}"
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
    args: list[Word], at: tuple[int, int, int], where: str, how: str, repository: Repository
) -> list[Event]:
    from npm_guard.workflow.package_managers import NPM_VALUE_FLAGS

    parsed = parse_arguments(args, NPM_VALUE_FLAGS)
    global_ = (
        any(f in parsed.flags for f in ("-g", "--global"))
        or parsed.flags.get("--location") == "global"
    )
    force = "--force" in parsed.flags or "-f" in parsed.flags
    events: list[Event] = []
    for word in parsed.positionals:
        text = word.text  # `npm@$VERSION`: npm, at a version not known here
        name, spec = _name_and_spec(text)
        shown = f"`{how}{' -g' if global_ else ''} {short(text)}`, {where}"
        if name == "npm" and global_:
            events.append(Event(at, NPM, (resolve_spec(spec or ""),), shown, force=force))
        elif name == "pnpm" and global_:
            events.append(Event(at, PNPM, (resolve_spec(spec or ""),), shown))
        elif name in _TOOLS:
            if spec is None and not global_ and repository.dependency(name) is not None:
                continue  # npm keeps the range package.json gives it (lib/commands/install.js)
            events.append(Event(at, TOOL, (resolve_spec(spec or ""),), shown, tool=name))
    return events


def _exec_events(
    args: list[Word], at: tuple[int, int, int], where: str, line: int | None
) -> list[Event]:
    """`npx npm@11 publish`, `npx semantic-release@24`: that command's own versions."""
    parsed = parse_arguments(args, frozenset({"-p", "--package", "-c", "--call"}))
    specs = [parsed.flags.get("-p") or parsed.flags.get("--package") or ""]
    specs += [w.literal or "" for w in parsed.positionals[:1]]
    events: list[Event] = []
    for text in specs:
        name, spec = _name_and_spec(text)
        if spec is None:
            continue
        shown = f"`npx {short(text)}`, {where}"
        if name == "npm":
            events.append(Event(at, NPM, (resolve_spec(spec),), shown, only_line=line))
        elif name in _TOOLS:
            events.append(Event(at, TOOL, (resolve_spec(spec),), shown, tool=name, only_line=line))
    return events


def _corepack_events(
    texts: list[str], at: tuple[int, int, int], where: str, repository: Repository
) -> list[Event]:
    if texts[:1] in (["prepare"], ["use"], ["install"]):
        for text in texts[1:]:
            name, spec = _name_and_spec(text)
            if name == "pnpm" and spec:
                shown = f"`corepack {texts[0]} {short(text)}`, {where}"
                return [Event(at, PNPM, (resolve_spec(spec),), shown)]
    if texts[:1] == ["enable"] and "npm" in texts[1:]:
        # corepack shims npm only when asked by name; it then runs packageManager's npm.
        manager = repository.package_manager()
        shown = f"`corepack enable npm`, {where}"
        if manager is not None and manager[0] == "npm":
            return [
                Event(
                    at,
                    NPM,
                    (resolve_spec(manager[1]),),
                    f"{shown} (packageManager npm@{short(manager[1])})",
                )
            ]
        return [Event(at, NPM, (None,), shown)]
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


def short(text: str) -> str:
    """A version or a value from the file, cut short for messages."""
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"
