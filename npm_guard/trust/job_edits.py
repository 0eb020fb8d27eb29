"""The workflow edits of one migration, made with `FileEditor`.

`id-token: write` on the publishing job only: added to its `permissions:`, or, when it
has none, a job-level block that keeps what the job had (the workflow's block, or, under
GitHub's defaults, `contents: read` plus what its release tool writes), since a
job-level block replaces the rest. npm upgraded before the publish where the job's npm
cannot do the exchange. The token removed from the publish step's `env`/`with`, from
the job's or the workflow's `env` when no other step names it, and, across files, from
what a caller passes to a reusable workflow or a local action. `registry-url` stays.
"""

from __future__ import annotations

from collections.abc import Mapping

from npm_guard.trust.edits import (
    EditRefused,
    FileEditor,
    clear_value,
    contains_word,
    indent_unit,
)
from npm_guard.workflow.yaml_loader import MappingNode, ScalarNode

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.trust.model import Migration
    from npm_guard.trust.plan import Loaded
    from npm_guard.workflow.model import Job, NpmCredential, Publish, Step, Workflow

    Publishing = list[tuple[Step, Publish, list[NpmCredential]]]

NPM_UPGRADE_COMMAND = "npm install -g npm@11"
ADHOC_IGNORE = "# zizmor: ignore[adhoc-packages] trusted publishing needs npm >= 11.5.1"
# What release tools write with GITHUB_TOKEN, kept when a job-level block replaces the
# defaults (each tool's README asks for these).
_TOOL_PERMISSIONS = (
    ("changesets/action", {"contents": "write", "pull-requests": "write"}),
    ("googleapis/release-please-action", {"contents": "write", "pull-requests": "write"}),
    (
        "google-github-actions/release-please-action",
        {"contents": "write", "pull-requests": "write"},
    ),
    (
        "cycjimmy/semantic-release-action",
        {"contents": "write", "issues": "write", "pull-requests": "write"},
    ),
)
_SEMANTIC_RELEASE = {"contents": "write", "issues": "write", "pull-requests": "write"}
_RANK = {"none": 0, "read": 1, "write": 2}


class Editors:
    """One `FileEditor` per file, shared by the migrations, with rollback per migration."""

    def __init__(self, everything: Mapping[str, Loaded]) -> None:
        self.everything = everything
        self.by_path: dict[str, FileEditor] = {}

    def of(self, workflow: Workflow) -> FileEditor:
        editor = self.by_path.get(workflow.path)
        if editor is None:
            editor = FileEditor(workflow.path, workflow.loaded)
            self.by_path[workflow.path] = editor
        return editor

    def snapshot(self) -> dict[str, tuple[int, dict[int, set[int]]]]:
        return {
            p: (len(e.edits), {k: set(v) for k, v in e._removed.items()})
            for p, e in self.by_path.items()
        }

    def restore(self, saved: dict[str, tuple[int, dict[int, set[int]]]]) -> None:
        for path in list(self.by_path):
            if path not in saved:
                del self.by_path[path]
                continue
            count, removed = saved[path]
            editor = self.by_path[path]
            del editor.edits[count:]
            editor._removed = removed


def migration_edits(
    editors: Editors, migration: Migration, job: Job, publishing: Publishing
) -> tuple[str, str] | None:
    """Add the edits of one migration; on refusal none of them stays and (file, reason)
    comes back."""
    from npm_guard.trust.plan import callers

    saved = editors.snapshot()
    workflow = job.workflow
    current = workflow.path
    try:
        from npm_guard.workflow.model import ACTION

        caller_jobs = callers(workflow, editors.everything)
        if workflow.kind == ACTION or workflow.reusable:
            for caller, caller_job in caller_jobs:
                current = caller.path
                _grant_id_token(editors.of(caller), caller_job, migration, publishing)
            current = workflow.path
            if workflow.reusable and job.permissions is not None:
                _grant_id_token(editors.of(workflow), job, migration, publishing)
        else:
            _grant_id_token(editors.of(workflow), job, migration, publishing)
        _upgrade_npm(editors.of(workflow), job, migration, publishing)
        for credential in _unique(c for _, _, found in publishing for c in found):
            _remove_credential(editors, credential, job, migration, publishing, caller_jobs)
            current = workflow.path
    except EditRefused as refusal:
        editors.restore(saved)
        return current, refusal.reason
    migration.files = sorted(
        {workflow.path, *(c.path for c, _ in callers(workflow, editors.everything))}
    )
    return None


def _unique(items: object) -> list[NpmCredential]:
    found: list[NpmCredential] = []
    for item in items:  # type: ignore[attr-defined]
        if not any(item is known for known in found):
            found.append(item)
    return found


# --- permissions ---------------------------------------------------------------------


def _grant_id_token(
    editor: FileEditor, job: Job, migration: Migration, publishing: Publishing
) -> None:
    node = job.node
    if node is None:
        raise EditRefused(f"{job.label} is not a mapping")
    editor.check_plain_region(node, job.label)
    where = f"{job.label} in {job.workflow.path}"
    permissions = node.get("permissions")
    if isinstance(permissions, MappingNode):
        current = permissions.get("id-token")
        if isinstance(current, ScalarNode):
            if current.value.strip() == "write":
                return
            editor.set_scalar(current, "write", f"`id-token:` of {job.label}")
        else:
            editor.append_entry(permissions, "id-token: write", f"the permissions of {job.label}")
        migration.edit_notes.append(f"{where}: `id-token: write` added; its other permissions stay")
        return
    if isinstance(permissions, ScalarNode):
        value = permissions.value.strip()
        if value == "write-all":
            return  # grants id-token already (and far more: not this command's business)
        raise EditRefused(
            f"{job.label} has `permissions: {value or '(empty)'}`; write its permissions as a "
            "mapping first, then run npm-guard trust again"
        )
    entries, note = _job_block(job, publishing)
    if entries is None:
        return
    anchor = node.key_node("runs-on") or node.key_node("uses") or node.pairs[0][0]
    assert isinstance(anchor, ScalarNode)
    unit = indent_unit(job.key_node, node)
    lines = ["permissions:", *(f"{k}: {v}" for k, v in entries.items())]
    editor.insert_block_after(node, anchor, lines, unit, f"{job.label}")
    migration.edit_notes.append(f"{where}: {note}")


def _job_block(job: Job, publishing: Publishing) -> tuple[dict[str, str] | None, str]:
    """The permissions of a new job-level block, and why; None: nothing to add."""
    workflow = job.workflow
    root = workflow.loaded.root
    level = root.get("permissions") if isinstance(root, MappingNode) else None
    if isinstance(level, ScalarNode):
        value = level.value.strip()
        if value == "write-all":
            return None, ""
        raise EditRefused(
            f"the workflow has `permissions: {value or '(empty)'}` and {job.label} none; a "
            "job-level block would replace it: write the job's permissions first"
        )
    if isinstance(level, MappingNode):
        granted = level.get("id-token")
        if isinstance(granted, ScalarNode) and granted.value.strip() == "write":
            return None, ""  # the job has it from the workflow already: nothing to change
        entries = {
            k.value: v.value.strip()
            for k, v in level.items()
            if isinstance(v, ScalarNode) and k.value != "id-token"
        }
        entries["id-token"] = "write"
        kept = ", ".join(f"`{k}: {v}`" for k, v in entries.items() if k != "id-token")
        return entries, (
            "a job-level `permissions:` block added; it replaces the workflow's, so it repeats "
            f"them ({kept or 'none'}) and adds `id-token: write`"
        )
    entries = {"contents": "read"}
    needed = _tool_permissions(job, publishing)
    for name, access in needed.items():
        if _RANK[access] > _RANK.get(entries.get(name, "none"), 0):
            entries[name] = access
    entries["id-token"] = "write"
    tools = ", ".join(f"`{k}: {v}`" for k, v in needed.items())
    return entries, (
        "a job-level `permissions:` block added. The job ran with GitHub's default "
        "permissions, which any `permissions:` block drops: the block gives `contents: read` "
        + (f"and what its release tool writes ({tools}) " if tools else "")
        + "besides `id-token: write`. Check that the job needs nothing else"
    )


def _tool_permissions(job: Job, publishing: Publishing) -> dict[str, str]:
    needed: dict[str, str] = {}

    def merge(more: Mapping[str, str]) -> None:
        for name, access in more.items():
            if _RANK[access] > _RANK.get(needed.get(name, "none"), 0):
                needed[name] = access

    for step in job.steps:
        for action, more in _TOOL_PERMISSIONS:
            if step.action == action:
                merge(more)
    for _, publish, _ in publishing:
        if publish.command.startswith("semantic-release"):
            merge(_SEMANTIC_RELEASE)
    return needed


# --- npm -------------------------------------------------------------------------------


def _upgrade_npm(
    editor: FileEditor, job: Job, migration: Migration, publishing: Publishing
) -> None:
    from npm_guard.workflow.model import ACTION, NO_OIDC, NPM_UPGRADE, UNKNOWN_ORDER
    from npm_guard.workflow.toolchain import _publisher

    for step, publish, _ in publishing:
        use = step.facts.oidc_use(publish)
        if use is None:
            continue
        npm_based = _publisher(step, publish) in ("npm", "changesets", "pnpm")
        needs = (use.order == NO_OIDC and use.upgrade.startswith(NPM_UPGRADE.split(" (")[0])) or (
            use.order == UNKNOWN_ORDER and npm_based
        )
        if not needs:
            continue
        if _already_upgrades(job, step):
            return
        lines = ["name: Use npm 11 for trusted publishing (npm >= 11.5.1)"]
        condition = step.node.get("if")
        if isinstance(condition, ScalarNode) and not condition.is_block:
            lines.append(f"if: {job.workflow.loaded.text[condition.start : condition.end]}")
        # zizmor's adhoc-packages audit flags every global install; this one is the point
        # of the edit, and the comment says so where the reader of the workflow sees it.
        lines.append(f"run: {NPM_UPGRADE_COMMAND} {ADHOC_IGNORE}")
        if job.workflow.kind == ACTION:
            lines.append("shell: bash")
        editor.check_plain_region(step.node, step.label)
        editor.insert_item_before(step.node, lines, step.label)
        migration.edit_notes.append(
            f"{job.label}: `{NPM_UPGRADE_COMMAND}` added before {step.label}: the job runs "
            f"{use.tool}; npm 11 needs Node ^20.17.0 or >= 22.9.0 (npm refuses to install "
            "itself on another Node, and npm@latest, 12, needs ^22.22.2, ^24.15.0 or >= 26)"
        )
        return


def _already_upgrades(job: Job, step: Step) -> bool:
    for other in job.steps[: step.index]:
        if other.run is not None and NPM_UPGRADE_COMMAND in other.run.text:
            return True
    return False


# --- the token ---------------------------------------------------------------------------


def _entry(mapping: object, name: str) -> ScalarNode | None:
    if not isinstance(mapping, MappingNode):
        return None
    return mapping.key_node(name)


def _remove_credential(
    editors: Editors,
    credential: NpmCredential,
    job: Job,
    migration: Migration,
    publishing: Publishing,
    caller_jobs: list[tuple[Workflow, Job]],
) -> None:
    workflow = job.workflow
    editor = editors.of(workflow)
    step = credential.step
    name = credential.name
    if credential.via == "with" and step is not None:
        _remove_from(editor, step.node, "with", name, step.label)
    elif credential.level == "step" and step is not None:
        _remove_from(editor, step.node, "env", name, step.label)
    elif credential.level == "job" and job.node is not None:
        if _named_elsewhere(workflow, name, publishing, job):
            migration.prerequisites.append(
                f"{name} stays in the env of {job.label}: another step names it. Remove it "
                "from there by hand once that step no longer needs a publish token"
            )
            return
        else:
            _remove_from(editor, job.node, "env", name, job.label)
            _note_installs(migration, job, name, publishing)
    elif credential.level == "workflow":
        root = workflow.loaded.root
        if not isinstance(root, MappingNode):
            raise EditRefused("the file is not a mapping")
        if _named_elsewhere(workflow, name, publishing, None):
            migration.prerequisites.append(
                f"{name} stays in the workflow's env: another job or step names it. Remove it "
                "by hand once nothing else needs a publish token"
            )
            return
        else:
            _remove_from(editor, root, "env", name, "the workflow")
            _note_installs(migration, job, name, publishing)
    else:
        raise EditRefused(f"the token {credential.description} is {credential.where}")
    migration.edit_notes.append(
        f"{credential.description} removed ({credential.where}); `registry-url` stays"
    )
    _passed_in(editors, credential, job, caller_jobs, migration)


def _remove_from(editor: FileEditor, owner: MappingNode, block: str, name: str, label: str) -> None:
    mapping = owner.get(block)
    key = _entry(mapping, name)
    block_key = owner.key_node(block)
    if key is None or block_key is None or not isinstance(mapping, MappingNode):
        raise EditRefused(f"the `{block}:` entry {name} of {label} is not where the model put it")
    editor.remove_entry(mapping, key, [(owner, block_key)], f"`{block}: {name}` of {label}")


def _named_elsewhere(
    workflow: Workflow, name: str, publishing: Publishing, job: Job | None
) -> bool:
    """Whether a step other than the publishing ones names the variable, or publishes,
    or changes the registry (`npm dist-tag`, …: it would read it through an .npmrc)."""
    from npm_guard.rules._workflow_common import writes_to_registry

    text = workflow.loaded.text
    publishing_steps = [s for s, _, _ in publishing]
    for other_job in workflow.jobs if job is None else [job]:
        for step in other_job.steps:
            if any(step is s for s in publishing_steps):
                continue
            if writes_to_registry(step):
                return True
            if contains_word(text, name, step.node.start, step.node.end):
                return True
        if job is None and other_job.node is not None and other_job is not publishing[0][0].job:
            env = other_job.node.get("env")
            if env is not None and contains_word(text, name, env.start, env.end):
                return True
    return False


def _note_installs(migration: Migration, job: Job, name: str, publishing: Publishing) -> None:
    installs = [
        s.label
        for s in job.steps
        if not any(s is p for p, _, _ in publishing) and s.facts.dependency_code
    ]
    if installs:
        migration.edit_notes.append(
            f"{name} was also visible to {', '.join(installs)}: if an install there needs a "
            "token (private packages), give that step its own read-only token"
        )


def _passed_in(
    editors: Editors,
    credential: NpmCredential,
    job: Job,
    caller_jobs: list[tuple[Workflow, Job]],
    migration: Migration,
) -> None:
    """A callee's secret or an action's input: the declaration and what callers pass."""
    from npm_guard.workflow.model import ACTION

    workflow = job.workflow
    root = workflow.loaded.root
    if not isinstance(root, MappingNode):
        return
    editor = editors.of(workflow)
    if workflow.kind == ACTION:
        for inputs_name in _references(credential, "inputs"):
            if _still_named(editor, workflow, f"inputs.{inputs_name}"):
                continue
            inputs = root.get("inputs")
            key = _entry(inputs, inputs_name)
            inputs_key = root.key_node("inputs")
            if key is not None and isinstance(inputs, MappingNode) and inputs_key is not None:
                editor.remove_entry(inputs, key, [(root, inputs_key)], f"input {inputs_name}")
            for caller, caller_job in caller_jobs:
                for step in caller_job.steps:
                    passes = _entry(step.node.get("with"), inputs_name) is not None
                    if step.uses and _uses_action(step.uses, workflow.path) and passes:
                        _remove_from(editors.of(caller), step.node, "with", inputs_name, step.label)
                        migration.edit_notes.append(
                            f"{caller.path}: {step.label} no longer passes `{inputs_name}`"
                        )
    elif workflow.reusable:
        for secret in _references(credential, "secrets"):
            if _still_named(editor, workflow, f"secrets.{secret}"):
                continue
            _undeclare_secret(editor, root, secret)
            for caller, caller_job in caller_jobs:
                node = caller_job.node
                if node is not None and _entry(node.get("secrets"), secret) is not None:
                    _remove_from(editors.of(caller), node, "secrets", secret, caller_job.label)
                    migration.edit_notes.append(
                        f"{caller.path}: {caller_job.label} no longer passes the secret {secret}"
                    )


def _references(credential: NpmCredential, context: str) -> list[str]:
    value = credential.source
    names = value.inputs if context == "inputs" else value.secrets
    return list(names)


def _still_named(editor: FileEditor, workflow: Workflow, reference: str) -> bool:
    """Whether the text, with this migration's removals made, still names `reference`."""
    text = editor.apply()
    return contains_word(text, reference)


def _uses_action(uses: str, action_path: str) -> bool:
    import posixpath

    local = posixpath.normpath(uses.split("@", 1)[0].removeprefix("./"))
    return uses.startswith("./") and local == posixpath.dirname(action_path)


def _undeclare_secret(editor: FileEditor, root: MappingNode, secret: str) -> None:
    on = root.get("on")
    call = on.get("workflow_call") if isinstance(on, MappingNode) else None
    secrets = call.get("secrets") if isinstance(call, MappingNode) else None
    key = _entry(secrets, secret)
    if key is None or not isinstance(call, MappingNode) or not isinstance(secrets, MappingNode):
        return
    secrets_key = call.key_node("secrets")
    assert secrets_key is not None
    others = [k for k, _ in secrets.pairs if k is not key]
    if not others and len(call.pairs) == 1 and isinstance(on, MappingNode):
        call_key = on.key_node("workflow_call")
        assert call_key is not None
        clear_value(editor, on, call_key, "`on: workflow_call:`")
        return
    editor.remove_entry(secrets, key, [(call, secrets_key)], f"the secret {secret}")
