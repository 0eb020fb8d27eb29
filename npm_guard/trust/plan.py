"""From the workflow model to the trust plan: which jobs move, and how.

A job moves when one of its publishes authenticates with a long-lived token: exactly
the publishes `workflow-publish-with-long-lived-token` reports (and, with `id-token:
write`, `workflow-publish-token-fallback`), found with the same questions
(`live_publishes`, `publishing_credentials`). For each: the packages, the trusted
publisher per package, the prerequisites and the workflow edits (`job_edits`). What
cannot move automatically is a `ManualItem` with the reason and what to do by hand.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence

from npm_guard.rules._workflow_common import is_npmjs, live_publishes, publishing_credentials
from npm_guard.trust.model import (
    JS_FILE,
    NO_OIDC_TOOL,
    OTHER_REGISTRY,
    REMOTE_WORKFLOW,
    SCRIPT_TOKEN,
    SELF_HOSTED,
    UNKNOWN_CALLER,
    ManualItem,
    Migration,
    TrustedPublisher,
    TrustPlan,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.repo_files import RepositoryFiles
    from npm_guard.workflow.model import Job, NpmCredential, Publish, Step, Workflow

MAX_WORKFLOW_BYTES = 2 * 1024 * 1024
WORKFLOW_GLOBS = (".github/workflows/*.yml", ".github/workflows/*.yaml")
EDITABLE_VIAS = ("env", "with")


class Loaded:
    """One workflow or action file of the repository: text, YAML and model (or why not)."""

    def __init__(self, path: str, text: str | None, problem: str | None) -> None:
        self.path = path
        self.text = text
        self.problem = problem
        self.workflow: Workflow | None = None


def load_file(files: RepositoryFiles, path: str) -> Loaded:
    """Read and model one file through the scan's reader; a problem is kept, not raised."""
    from npm_guard.workflow.build import build_workflow
    from npm_guard.workflow.yaml_loader import YamlLoadError, load_yaml

    found = files.read(path, MAX_WORKFLOW_BYTES)
    if found.text is None or found.problem is not None:
        return Loaded(path, None, found.problem or "cannot read")
    loaded = Loaded(path, found.text, None)
    try:
        loaded.workflow = build_workflow(path, load_yaml(found.text), files)
    except YamlLoadError as error:
        loaded.problem = f"line {error.line}: {error.problem}"
    except RecursionError:
        loaded.problem = "too deeply nested to read"
    return loaded


def repository_workflows(files: RepositoryFiles) -> list[str]:
    """The workflow files of the repository (callers of reusable workflows and actions)."""
    return sorted({path for pattern in WORKFLOW_GLOBS for path in files.glob(pattern)})


def trust_command(package: str, repository: str | None, file: str, environment: str | None) -> str:
    """The `npm trust github` command that creates the trusted publisher (npm >= 11.15.0:
    `[package] --file --repository --environment --allow-publish`, lib/commands/trust/)."""
    from shlex import quote

    words = ["npm", "trust", "github", quote(package), "--file", quote(file)]
    words += ["--repository", quote(repository) if repository else "OWNER/REPO"]
    if environment:
        words += ["--environment", quote(environment)]
    words.append("--allow-publish")
    return " ".join(words)


def plan_workflow(
    plan: TrustPlan,
    loaded: Loaded,
    everything: Mapping[str, Loaded],
    files: RepositoryFiles,
) -> list[tuple[Migration, Job, list[tuple[Step, Publish, list[NpmCredential]]]]]:
    """Add the migrations and manual items of one file to `plan`; return the migrations
    with the model parts their edits need."""
    workflow = loaded.workflow
    assert workflow is not None
    found: list[tuple[Migration, Job, list[tuple[Step, Publish, list[NpmCredential]]]]] = []
    for job in workflow.jobs:
        _remote_calls(plan, workflow, job)
        publishing: list[tuple[Step, Publish, list[NpmCredential]]] = []
        for step in job.steps:
            _other_registries(plan, workflow, step)
            for publish in live_publishes(step):
                credentials = [c for c, _ in publishing_credentials(step, publish)]
                if not credentials:
                    continue
                manual = _not_migratable(workflow, job, step, publish, credentials)
                if manual is not None:
                    plan.manual.append(manual)
                    continue
                publishing.append((step, publish, credentials))
        if not publishing:
            continue
        migration = _migration(plan, workflow, job, publishing, everything, files)
        if migration is not None:
            plan.migrations.append(migration)
            found.append((migration, job, publishing))
    return found


def _remote_calls(plan: TrustPlan, workflow: Workflow, job: Job) -> None:
    for publish in job.call_publishes:
        if not is_npmjs(publish.registry):
            continue
        plan.manual.append(
            ManualItem(
                REMOTE_WORKFLOW,
                workflow.path,
                publish.span.line,
                f"{job.label} calls {publish.shown} with an npm token",
                "the publish runs in a reusable workflow of another repository, which "
                "npm-guard cannot edit",
                "ask its owners for a version that publishes with trusted publishing (OIDC); "
                "then give this job `id-token: write`, stop passing the token, and create the "
                "trusted publisher for THIS workflow file (npm checks the calling workflow)",
            )
        )


def _other_registries(plan: TrustPlan, workflow: Workflow, step: Step) -> None:
    for publish in step.facts.publishes:
        if publish.staged or is_npmjs(publish.registry):
            continue
        if not publishing_credentials(step, publish):
            continue
        plan.manual.append(
            ManualItem(
                OTHER_REGISTRY,
                workflow.path,
                publish.span.line,
                f"{step.job.label}, {step.label}: {publish.shown} to {publish.registry}",
                "trusted publishing exists on npmjs.com only; this publish goes to another "
                "registry",
                "keep a token for it, scoped to that registry and as short-lived as the "
                "registry allows; nothing to change for trusted publishing",
            )
        )


def _not_migratable(
    workflow: Workflow, job: Job, step: Step, publish: Publish, credentials: list[NpmCredential]
) -> ManualItem | None:
    from npm_guard.workflow.model import NO_OIDC, NPM_UPGRADE

    what = f"{job.label}, {step.label}: {publish.shown}"
    line = publish.span.line

    def item(kind: str, reason: str, todo: str) -> ManualItem:
        return ManualItem(kind, workflow.path, line, what, reason, todo)

    if publish.inferred:
        return item(
            JS_FILE,
            f"the publish is presumed, not seen: {publish.inferred}",
            "find the code that publishes; run it with npm >= 11.5.1 in a job with "
            "`id-token: write`, then remove the token it is given",
        )
    if "self-hosted" in job.runs_on.lower():
        return item(
            SELF_HOSTED,
            "the job runs on a self-hosted runner; npm documents trusted publishing for "
            "GitHub-hosted runners only (its provenance check refuses self-hosted ones)",
            "move the publishing job to a GitHub-hosted runner (`runs-on: ubuntu-latest`), "
            "then run `npm-guard trust` again",
        )
    use = step.facts.oidc_use(publish)
    if (
        use is not None
        and use.order == NO_OIDC
        and not use.upgrade.startswith(NPM_UPGRADE.split(" (")[0])
        and "semantic-release" not in use.upgrade
        and "lerna" not in use.upgrade
    ):
        return item(
            NO_OIDC_TOOL,
            f"it runs {use.tool}",
            f"switch to {use.upgrade}; then run `npm-guard trust` again",
        )
    if any(c.via not in EDITABLE_VIAS for c in credentials):
        credential = next(c for c in credentials if c.via not in EDITABLE_VIAS)
        return item(
            SCRIPT_TOKEN,
            f"the token, {credential.description}, is {credential.where} (line "
            f"{credential.span.line}), which npm-guard does not rewrite",
            "give the job `id-token: write`, remove the lines that write or export the "
            "token, and create the trusted publisher shown by `npm-guard trust` once the "
            "script no longer hands it a token",
        )
    return None


def _migration(
    plan: TrustPlan,
    workflow: Workflow,
    job: Job,
    publishing: list[tuple[Step, Publish, list[NpmCredential]]],
    everything: Mapping[str, Loaded],
    files: RepositoryFiles,
) -> Migration | None:
    from npm_guard.trust.packages import packages_of
    from npm_guard.workflow.model import ACTION

    first_step, first_publish, _ = publishing[0]
    trusted, environment, note = _trusted_workflow(workflow, job, everything)
    if trusted is None:
        plan.manual.append(
            ManualItem(
                UNKNOWN_CALLER,
                workflow.path,
                first_publish.span.line,
                f"{job.label}, {first_step.label}: {first_publish.shown}",
                note,
                "create the trusted publisher for the workflow file that calls this one "
                "(npm checks the calling workflow's file), give the calling job "
                "`id-token: write`, and stop passing the token",
            )
        )
        return None
    credentials: list[NpmCredential] = []
    for _, _, found in publishing:
        credentials += [c for c in found if not any(c is k for k in credentials)]
    migration = Migration(
        workflow=workflow.path,
        job=job.id if workflow.kind != ACTION else "action",
        steps=list(dict.fromkeys(step.label for step, _, _ in publishing)),
        line=first_publish.span.line,
        tool=_tool_words(publishing),
        credentials=[c.description for c in credentials],
        secrets=_secrets(credentials, everything, workflow),
        trusted_workflow=trusted,
        environment=environment,
    )
    if note:
        migration.prerequisites.append(note)
    for step, publish, _ in publishing:
        packages, skipped, problem = packages_of(files, step, publish)
        for package in packages:
            if all(p.name != package.name for p in migration.packages):
                migration.packages.append(package)
        migration.skipped_packages += [s for s in skipped if s not in migration.skipped_packages]
        if problem is not None:
            migration.prerequisites.append(f"packages not known: {problem}")
    migration.publishers = [
        TrustedPublisher(
            p.name,
            plan.repository,
            trusted,
            environment,
            trust_command(p.name, plan.repository, trusted, environment),
        )
        for p in migration.packages
    ]
    if plan.repository is None:
        migration.prerequisites.append(
            "the GitHub repository is not known (no --repository, GITHUB_REPOSITORY or "
            "github.com origin remote): replace OWNER/REPO in the commands"
        )
    migration.prerequisites += _tool_prerequisites(workflow, publishing, credentials)
    return migration


def _tool_words(publishing: list[tuple[Step, Publish, list[NpmCredential]]]) -> str:
    words = []
    for step, publish, _ in publishing:
        use = step.facts.oidc_use(publish)
        words.append(f"{publish.shown} runs {use.tool}" if use is not None else publish.shown)
    return "; ".join(dict.fromkeys(words))


def _secrets(
    credentials: Sequence[NpmCredential], everything: Mapping[str, Loaded], workflow: Workflow
) -> list[str]:
    names: list[str] = []
    for credential in credentials:
        names += list(credential.source.secrets)
    if not names:  # a composite action's input or a callee's secret: the callers say
        for caller, node in _callers(workflow, everything):
            del node
            for other in caller.credentials:
                names += list(other.source.secrets)
    return list(dict.fromkeys(names))


def _callers(workflow: Workflow, everything: Mapping[str, Loaded]) -> list[tuple[Workflow, Job]]:
    """The jobs of the repository's workflows that call this reusable workflow or use
    this local action (`uses: ./path`)."""
    from npm_guard.workflow.model import ACTION

    target = workflow.path
    directory = posixpath.dirname(target) if workflow.kind == ACTION else None
    found: list[tuple[Workflow, Job]] = []
    for loaded in everything.values():
        caller = loaded.workflow
        if caller is None or caller is workflow:
            continue
        for job in caller.jobs:
            uses = [job.uses] if job.uses else [s.uses for s in job.steps if s.uses]
            for text in uses:
                if text is None or not text.startswith("./"):
                    continue
                local = posixpath.normpath(text.split("@", 1)[0][2:])
                if local == target or (directory is not None and local == directory):
                    found.append((caller, job))
                    break
    return found


def callers(workflow: Workflow, everything: Mapping[str, Loaded]) -> list[tuple[Workflow, Job]]:
    """The jobs that call this reusable workflow or use this local action."""
    return _callers(workflow, everything)


def _trusted_workflow(
    workflow: Workflow, job: Job, everything: Mapping[str, Loaded]
) -> tuple[str | None, str | None, str]:
    """(workflow file npm must trust, environment, a note); file None: not known.

    npm checks the workflow file of the run: for a reusable workflow that is the
    CALLER's (npm docs, trusted-publishers; facts C3), for a composite action the
    workflow whose job uses it.
    """
    from npm_guard.workflow.model import ACTION

    environment = job_environment(job)
    if workflow.kind != ACTION and not workflow.reusable:
        return posixpath.basename(workflow.path), environment, ""
    found = _callers(workflow, everything)
    kind = "local action" if workflow.kind == ACTION else "reusable workflow"
    if not found:
        return (
            None,
            environment,
            (
                f"this {kind} is not used by any workflow of this repository, and npm checks the "
                "workflow file of the run"
            ),
        )
    caller, caller_job = found[0]
    if workflow.kind == ACTION:
        environment = job_environment(caller_job)
    files = list(dict.fromkeys(posixpath.basename(c.path) for c, _ in found))
    note = ""
    if len(files) > 1:
        note = (
            f"this {kind} is used by {len(files)} workflows ({', '.join(files)}); npm takes one "
            f"trusted publisher per package, so only {files[0]} can publish with it: publish "
            "from one workflow"
        )
    return posixpath.basename(caller.path), environment, note


def job_environment(job: Job) -> str | None:
    """The job's `environment:` name (a mapping's `name:`); None when it has none."""
    from npm_guard.workflow.yaml_loader import MappingNode, ScalarNode

    node = job.node.get("environment") if job.node is not None else None
    if isinstance(node, MappingNode):
        node = node.get("name")
    if isinstance(node, ScalarNode) and node.value.strip():
        return node.value.strip()
    return None


def _tool_prerequisites(
    workflow: Workflow,
    publishing: list[tuple[Step, Publish, list[NpmCredential]]],
    credentials: list[NpmCredential],
) -> list[str]:
    from npm_guard.workflow.model import NO_OIDC, TOKEN_FIRST

    found: list[str] = []
    for step, publish, _ in publishing:
        use = step.facts.oidc_use(publish)
        if use is None:
            continue
        if use.order == NO_OIDC and ("semantic-release" in use.upgrade or "lerna" in use.upgrade):
            found.append(
                f"before merging: upgrade to {use.upgrade} (the job runs {use.tool}); with the "
                "token gone, an older version cannot publish"
            )
        if use.order == TOKEN_FIRST and publish.command.startswith("yarn"):
            found.append(
                "Yarn >= 4.10 (the first Yarn Berry with the OIDC exchange; the job runs "
                f"{use.tool}); and no `npmAuthToken` left in .yarnrc.yml, which Yarn sends "
                "before it tries OIDC"
            )
    for credential in credentials:
        if credential.name in workflow.npmrc_variables:
            found.append(
                f"the repository's .npmrc refers to ${{{credential.name}}}: remove that auth "
                'line, or npm stops with "Failed to replace env in config" once the variable '
                "is gone"
            )
    return list(dict.fromkeys(found))
