"""From YAML nodes to the workflow model: jobs, steps, env, inputs, permissions, scripts.

`build_workflow` walks the nodes `yaml_loader` composed (it never imports yaml itself),
reads each `run:` with the shell reader, follows local reusable workflows that inherit
secrets, and hands the model to the analysis, which fills in each step's facts and the
credential flow.
"""

from __future__ import annotations

import posixpath

from npm_guard.lazy_pattern import lazy_compile
from npm_guard.workflow.consulted import ConsultedFiles, refused
from npm_guard.workflow.expressions import value_source
from npm_guard.workflow.model import (
    ACTION,
    EPHEMERAL,
    UNKNOWN,
    WORKFLOW,
    EnvEntry,
    Input,
    Job,
    Permissions,
    RunBlock,
    Step,
    Workflow,
)
from npm_guard.workflow.positions import Span, ValuePositions, node_span
from npm_guard.workflow.shell import read_script
from npm_guard.workflow.shell_words import Script
from npm_guard.workflow.steps import analyze_workflow
from npm_guard.workflow.yaml_loader import (
    LoadedYaml,
    MappingNode,
    ScalarNode,
    SequenceNode,
    YamlLoadError,
    load_yaml,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.repo_files import FileText, RepositoryFiles
    from npm_guard.workflow.yaml_loader import YamlNode

MAX_NPMRC_BYTES = 1024 * 1024
MAX_CALLED_WORKFLOW_BYTES = 2 * 1024 * 1024


def _scalar(node: YamlNode | None) -> str | None:
    return node.value if isinstance(node, ScalarNode) else None


def _mapping(node: YamlNode | None) -> MappingNode | None:
    return node if isinstance(node, MappingNode) else None


def _env_entries(node: YamlNode | None, level: str) -> list[EnvEntry]:
    mapping = _mapping(node)
    if mapping is None:
        return []
    entries = []
    for key, value in mapping.items():
        text = value.value if isinstance(value, ScalarNode) else ""
        entries.append(EnvEntry(key.value, level, key, value, value_source(text)))
    return entries


def _inputs(node: YamlNode | None) -> dict[str, Input]:
    mapping = _mapping(node)
    if mapping is None:
        return {}
    found = {}
    for key, value in mapping.items():
        text = value.value if isinstance(value, ScalarNode) else ""
        found[key.value] = Input(key.value, key, value, value_source(text))
    return found


def _permissions(node: YamlNode | None, key: ScalarNode | None) -> Permissions | None:
    if node is None or key is None:
        return None
    span = node_span(key)
    if isinstance(node, ScalarNode):
        return Permissions(span, node.value.strip() or None, None, None)
    mapping = _mapping(node)
    if mapping is None:
        return Permissions(span, None, None, None)
    id_key = mapping.key_node("id-token")
    id_value = _scalar(mapping.get("id-token"))
    return Permissions(
        span,
        None,
        id_value.strip() if id_value is not None else None,
        node_span(id_key) if id_key is not None else None,
    )


def _triggers(node: YamlNode | None) -> dict[str, Span]:
    found: dict[str, Span] = {}
    if isinstance(node, ScalarNode):
        found[node.value] = node_span(node)
    elif isinstance(node, SequenceNode):
        for item in node.items:
            if isinstance(item, ScalarNode):
                found[item.value] = node_span(item)
    elif isinstance(node, MappingNode):
        for key, _ in node.items():
            found[key.value] = node_span(key)
    return found


def _defaults(node: YamlNode | None) -> tuple[str | None, str | None]:
    defaults = _mapping(node)
    run = _mapping(defaults.get("run")) if defaults is not None else None
    if run is None:
        return None, None
    return _scalar(run.get("shell")), _scalar(run.get("working-directory"))


def shell_kind(shell: str | None, runs_on: str) -> str:
    """`bash`/`sh`/custom → bash; `pwsh`/`powershell` → pwsh; Windows runners default to pwsh."""
    if shell:
        word = shell.strip().split()[0].lower() if shell.strip() else ""
        if word in ("pwsh", "powershell"):
            return "pwsh"
        if word in ("python", "cmd"):
            return word
        return "bash"
    return "pwsh" if "windows" in runs_on.lower() else "bash"


def _repository_npmrc_variables(workflow: Workflow, consulted: ConsultedFiles) -> frozenset[str]:
    """`${X}` the repository's own `.npmrc` feeds into an auth setting.

    Read whatever the workflow does; a refusal is reported only against a publish (the
    one thing the variables decide), by the step driver. Parsed once per scan.
    """
    found = consulted.read(".npmrc", MAX_NPMRC_BYTES, needed_at=None, purpose="")
    if refused(found):
        workflow.npmrc_unread = found.problem
    return consulted.parsed(
        ".npmrc", MAX_NPMRC_BYTES, _npmrc_auth_variables, needed_at=None, purpose=""
    )


def _npmrc_auth_variables(path: str, found: FileText) -> frozenset[str]:
    """`${X}` an `.npmrc`'s text feeds into an auth setting."""
    text = found.text
    if text is None:
        return frozenset()
    from npm_guard.constants import SECRET_AUTH_KEYS
    from npm_guard.npmrc import parse_npmrc, split_scoped_key
    from npm_guard.npmrc_env import env_references

    names: set[str] = set()
    for entry in parse_npmrc(text, path).entries:
        value = entry.string_value
        if value is not None and split_scoped_key(entry.key).name in SECRET_AUTH_KEYS:
            names.update(ref.name for ref in env_references(value))
    return frozenset(names)


_YARN_REFERENCE_RE = lazy_compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_YARN_AUTH_KEYS = ("npmAuthToken", "npmAuthIdent")
_NPMJS_REGISTRIES = ("registry.npmjs.org", "registry.npmjs.com", "registry.yarnpkg.com")


def _repository_yarnrc_variables(consulted: ConsultedFiles) -> frozenset[str]:
    """`${X}` (also `${X:-default}`) Yarn Berry puts into `npmAuthToken` / `npmAuthIdent`
    for the public registry: at the top of the repository's `.yarnrc.yml`, under
    `npmRegistries` for registry.npmjs.org / registry.yarnpkg.com, or under `npmScopes`
    for a scope that keeps the default registry."""
    return consulted.parsed(
        ".yarnrc.yml", MAX_NPMRC_BYTES, _yarnrc_auth_variables, needed_at=None, purpose=""
    )


def _yarnrc_auth_variables(path: str, found: FileText) -> frozenset[str]:
    """`${X}` a `.yarnrc.yml`'s text puts into auth settings for the public registry."""
    if found.text is None or "npmAuth" not in found.text:
        return frozenset()
    try:
        root = _mapping(load_yaml(found.text).root)
    except (YamlLoadError, RecursionError):
        return frozenset()
    if root is None:
        return frozenset()
    blocks: list[MappingNode] = [root]
    registries = _mapping(root.get("npmRegistries"))
    for key, value in registries.items() if registries is not None else ():
        registry = _mapping(value)
        if registry is not None and any(host in key.value for host in _NPMJS_REGISTRIES):
            blocks.append(registry)
    scopes = _mapping(root.get("npmScopes"))
    for _, value in scopes.items() if scopes is not None else ():
        scope = _mapping(value)
        server = _scalar(scope.get("npmRegistryServer")) if scope is not None else None
        if scope is not None and (server is None or any(h in server for h in _NPMJS_REGISTRIES)):
            blocks.append(scope)
    names: set[str] = set()
    for block in blocks:
        for auth_key in _YARN_AUTH_KEYS:
            text = _scalar(block.get(auth_key))
            if text is not None:
                names.update(_YARN_REFERENCE_RE.findall(text))
    return frozenset(names)


def build_workflow(path: str, loaded: LoadedYaml, files: RepositoryFiles | None) -> Workflow:
    """The model of one workflow or action file.

    Nothing is read but the file itself and, through `files` (the scan's one reader;
    None: nothing else), the repository's package.json files, `.npmrc`, local scripts
    and local reusable workflows.
    """
    return _build(path, loaded, ConsultedFiles(files))


def _build(path: str, loaded: LoadedYaml, consulted: ConsultedFiles) -> Workflow:
    root = _mapping(loaded.root)
    workflow = Workflow(path, loaded, UNKNOWN)
    if root is None:
        return workflow
    workflow.npmrc_variables = _repository_npmrc_variables(workflow, consulted)
    workflow.yarnrc_variables = _repository_yarnrc_variables(consulted)
    workflow.name = _scalar(root.get("name"))
    runs = _mapping(root.get("runs"))
    if runs is not None and root.get("jobs") is None:
        workflow.kind = ACTION
        _build_composite(workflow, runs)
    elif root.get("jobs") is not None or root.get("on") is not None:
        workflow.kind = WORKFLOW
        _build_jobs(workflow, root)
    for job in workflow.jobs:
        if job.inherit_secrets is not None and job.uses is not None:
            job.inherited_npm_secrets = _callee_npm_secrets(
                consulted, job.uses, job.inherit_secrets
            )
    analyze_workflow(workflow, consulted)
    workflow.unread = consulted.unread
    workflow.consulted = frozenset(consulted.paths)
    return workflow


def _callee_npm_secrets(consulted: ConsultedFiles, uses: str, needed_at: Span) -> list[str]:
    """The npm secrets a local reusable workflow (`./.github/workflows/x.yml`) uses.

    A workflow calling itself, or a chain of calls deeper than three, is not followed.
    """
    if not uses.startswith("./") or len(consulted.callers) > 2:
        return []
    relative = posixpath.normpath(uses.split("@", 1)[0][2:])
    if relative.startswith("../") or relative in ("..", ".") or relative in consulted.callers:
        return []
    found = consulted.read(
        relative,
        MAX_CALLED_WORKFLOW_BYTES,
        needed_at=needed_at,
        purpose="to know which secrets it uses",
    )
    if found.text is None or found.problem is not None:
        return []
    try:
        callee = _build(relative, load_yaml(found.text), consulted.for_callee(relative))
    except YamlLoadError:
        return []
    names: list[str] = []
    for cred in callee.credentials:
        if cred.lifetime != EPHEMERAL:
            names.extend(cred.source.secrets)
    return list(dict.fromkeys(names))


def _build_jobs(workflow: Workflow, root: MappingNode) -> None:
    workflow.triggers = _triggers(root.get("on"))
    workflow.env = _env_entries(root.get("env"), "workflow")
    workflow.permissions = _permissions(root.get("permissions"), root.key_node("permissions"))
    workflow.default_shell, workflow.default_working_directory = _defaults(root.get("defaults"))
    jobs = _mapping(root.get("jobs"))
    if jobs is None:
        return
    for job_key, job_node in jobs.items():
        job_map = _mapping(job_node)
        job = Job(workflow, job_key.value, job_map, job_key)
        workflow.jobs.append(job)
        if job_map is None:
            continue
        job.name = _scalar(job_map.get("name"))
        job.env = _env_entries(job_map.get("env"), "job")
        job.permissions = _permissions(job_map.get("permissions"), job_map.key_node("permissions"))
        job.runs_on = _runs_on_text(job_map.get("runs-on"))
        job.default_shell, job.default_working_directory = _defaults(job_map.get("defaults"))
        uses = job_map.get("uses")
        if isinstance(uses, ScalarNode):
            job.uses, job.uses_node = uses.value, uses
            job.inputs = _inputs(job_map.get("with"))
            secrets = job_map.get("secrets")
            if isinstance(secrets, ScalarNode) and secrets.value.strip() == "inherit":
                key = job_map.key_node("secrets")
                job.inherit_secrets = node_span(key) if key is not None else node_span(secrets)
            else:
                job.call_secrets = list(_inputs(secrets).values())
        steps = job_map.get("steps")
        if isinstance(steps, SequenceNode):
            _build_steps(job, steps)


def _runs_on_text(node: YamlNode | None) -> str:
    if isinstance(node, ScalarNode):
        return node.value
    if isinstance(node, SequenceNode):
        return " ".join(item.value for item in node.items if isinstance(item, ScalarNode))
    if isinstance(node, MappingNode):
        labels = node.get("labels")
        return _runs_on_text(labels)
    return ""


def _build_composite(workflow: Workflow, runs: MappingNode) -> None:
    job = Job(workflow, "action", None, None, composite=True)
    workflow.jobs.append(job)
    if (_scalar(runs.get("using")) or "").strip().lower() != "composite":
        return
    steps = runs.get("steps")
    if isinstance(steps, SequenceNode):
        _build_steps(job, steps)


def _build_steps(job: Job, steps: SequenceNode) -> None:
    workflow = job.workflow
    for index, item in enumerate(steps.items):
        step_map = _mapping(item)
        if step_map is None:
            continue
        uses = step_map.get("uses")
        run = step_map.get("run")
        working_directory = (
            _scalar(step_map.get("working-directory"))
            or job.default_working_directory
            or workflow.default_working_directory
            or "."
        )
        step = Step(
            job=job,
            index=index,
            node=step_map,
            id=_scalar(step_map.get("id")),
            name=_scalar(step_map.get("name")),
            uses=uses.value if isinstance(uses, ScalarNode) else None,
            uses_node=uses if isinstance(uses, ScalarNode) else None,
            inputs=_inputs(step_map.get("with")),
            env=_env_entries(step_map.get("env"), "step"),
            run=None,
            working_directory=working_directory.strip() or ".",
        )
        if isinstance(run, ScalarNode):
            kind = shell_kind(
                _scalar(step_map.get("shell")) or job.default_shell or workflow.default_shell,
                job.runs_on,
            )
            script_text = run.value
            script = read_script(script_text, "pwsh" if kind == "pwsh" else "bash")
            if kind in ("python", "cmd"):
                script = Script([], kind)
            positions = ValuePositions(run, script_text, workflow.loaded)
            step.run = RunBlock(run, script_text, kind, script, positions)
        job.steps.append(step)
