"""`npm-guard trust` end to end: read the workflows, plan, edit, and write when asked."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from npm_guard.trust.model import FileChange, Refusal, TrustPlan


def make_plan(
    paths: Sequence[str],
    *,
    repository: str | None = None,
    environ: Mapping[str, str] | None = None,
    write: bool = False,
) -> TrustPlan:
    """The plan for the workflow and action files under `paths`; with `write`, the
    edits are applied (atomically, file by file; refused files are left alone).

    Raises NpmGuardError for bad input (a path that does not exist, a bad --repository).
    """
    from npm_guard.file_kinds import ACTION, WORKFLOW
    from npm_guard.paths import find_root
    from npm_guard.repo_files import RepositoryFiles
    from npm_guard.scan import discover
    from npm_guard.trust.job_edits import Editors, migration_edits
    from npm_guard.trust.plan import load_file, plan_workflow, repository_workflows
    from npm_guard.trust.repository import find_repository

    root = find_root(paths)
    plan = TrustPlan(root)
    plan.repository, plan.repository_source = find_repository(
        repository, os.environ if environ is None else environ, root
    )
    notices: list[str] = []
    targets = [t.display for t in discover(paths, root, notices) if t.kind in (WORKFLOW, ACTION)]
    plan.problems += notices
    files = RepositoryFiles(root)
    everything = {
        p: load_file(files, p) for p in dict.fromkeys([*targets, *repository_workflows(files)])
    }
    editors = Editors(everything)
    plan.files_read = len(targets)
    for path in targets:
        loaded = everything[path]
        if loaded.workflow is None:
            plan.refused.append(Refusal(path, f"cannot be read: {loaded.problem}"))
            continue
        for migration, job, publishing in plan_workflow(plan, loaded, everything, files):
            refused = migration_edits(editors, migration, job, publishing)
            if refused is not None:
                plan.refused.append(Refusal(*refused))
    for path, editor in sorted(editors.by_path.items()):
        if not editor.edits:
            continue
        change = _checked_change(path, editor.text, editor)
        if isinstance(change, Refusal):
            plan.refused.append(change)
        else:
            plan.changes.append(change)
    if write:
        _write(plan)
    return plan


def _checked_change(path: str, before: str, editor: object) -> FileChange | Refusal:
    """The edited text, once it is known to parse; else a refusal (never a broken file)."""
    from npm_guard.trust.edits import EditRefused, FileEditor
    from npm_guard.workflow.yaml_loader import YamlLoadError, load_yaml

    assert isinstance(editor, FileEditor)
    try:
        after = editor.apply()
    except EditRefused as refusal:
        return Refusal(path, refusal.reason)
    try:
        load_yaml(after)
    except YamlLoadError as error:
        return Refusal(path, f"the edited file would not parse ({error.problem}): not edited")
    return FileChange(path, before, after)


def _write(plan: TrustPlan) -> None:
    from npm_guard.atomic_write import replace_file

    refused = {r.path for r in plan.refused}
    for change in plan.changes:
        if change.path in refused:
            continue
        replace_file(
            os.path.join(plan.root, change.path),
            change.after.encode("utf-8"),
            tree=plan.root,
            what=change.path,
        )
        plan.written.append(change.path)


def unified_diff(change: FileChange) -> str:
    """The change as a unified diff (`a/` and `b/` paths, as git shows it)."""
    import difflib

    lines = difflib.unified_diff(
        change.before.splitlines(keepends=True),
        change.after.splitlines(keepends=True),
        fromfile=f"a/{change.path}",
        tofile=f"b/{change.path}",
    )
    text = ""
    for line in lines:
        text += line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
    return text
