"""The credential flow: every npm credential a workflow hands out, and who sees it.

A credential is handed out in the env of the workflow, a job or a step (a step's own
env overrides the others), as a `with:` input, as `${{ secrets.X }}` inside a script or
a shell assignment in it, as a `$GITHUB_ENV` export or an `.npmrc` written by an earlier
step (seen by the later steps of the job), or as a secret passed to a reusable workflow
(`secrets: inherit` counts the secrets the local callee uses). Each step gets the list
of credentials it can see; the workflow gets every one, in order.
"""

from __future__ import annotations

from collections.abc import Sequence

from npm_guard.workflow.expressions import (
    ValueSource,
    is_credential_name,
    is_placeholder_literal,
)
from npm_guard.workflow.known_actions import token_input_of
from npm_guard.workflow.model import (
    EPHEMERAL,
    LITERAL,
    PROVIDED,
    STORED,
    ConfigWrite,
    EnvEntry,
    EnvExport,
    Input,
    Job,
    NpmCredential,
    Step,
    Workflow,
)
from npm_guard.workflow.positions import node_span
from npm_guard.workflow.script_writes import for_npmjs, setting_host


def lifetime_of(source: ValueSource) -> str | None:
    """How long-lived a credential value is; None when it holds none (empty, dummy)."""
    if source.secrets or source.all_secrets or source.variables:
        return STORED
    if source.github_token:
        return EPHEMERAL
    if source.inputs or source.other_context or source.env:
        return PROVIDED
    literal = source.literal
    if not literal or is_placeholder_literal(literal) or "$" in literal or "%" in literal:
        return None
    return LITERAL


def origin_of(source: ValueSource) -> str:
    """Where a value comes from, for messages: `secret NPM_TOKEN`, `input token`, …"""
    if source.secrets:
        return ", ".join(f"secret {name}" for name in source.secrets)
    if source.all_secrets:
        return "every secret, via toJSON(secrets)"
    if source.variables:
        return ", ".join(f"variable vars.{name}" for name in source.variables)
    if source.github_token:
        return "the job's GITHUB_TOKEN"
    if source.inputs:
        return ", ".join(f"input {name}" for name in source.inputs)
    if source.env:
        return ", ".join(f"env.{name}" for name in source.env)
    if source.other_context:
        return "an expression"
    return "a literal value"


def is_npm_credential_value(name: str, source: ValueSource) -> bool:
    """An env var or input that carries an npm credential: by its name or its secret."""
    return is_credential_name(name) or bool(source.npm_secrets) or source.all_secrets


def credential_flow(workflow: Workflow) -> None:
    """Fill `workflow.credentials` and each step's `credentials` (the ones it can see)."""
    everything: list[NpmCredential] = []
    wired = _wired_names(workflow)
    workflow_entries = {entry.name: entry for entry in workflow.env}
    workflow_creds: dict[str, NpmCredential] = {}
    for entry in workflow.env:
        cred = _env_credential(entry, None, None, {}, wired)
        if cred is not None:
            workflow_creds[entry.name] = cred
            everything.append(cred)
    for job in workflow.jobs:
        outer = dict(workflow_entries)
        job_creds: dict[str, NpmCredential] = {}
        for entry in job.env:
            cred = _env_credential(entry, job, None, workflow_entries, wired)
            if cred is not None:
                job_creds[entry.name] = cred
                everything.append(cred)
            outer[entry.name] = entry
        if job.uses is not None:
            everything.extend(_call_credentials(job))
        later: dict[str, NpmCredential] = {}
        for step in job.steps:
            visible: dict[str, NpmCredential] = {}
            for name, cred in workflow_creds.items():
                if not any(e.name == name for e in job.env):
                    visible[name] = cred
            visible.update(job_creds)
            for name, cred in later.items():
                visible.setdefault(name, cred)
            for entry in step.env:
                visible.pop(entry.name, None)
                cred = _env_credential(entry, job, step, outer, wired)
                if cred is not None:
                    visible[entry.name] = cred
                    everything.append(cred)
            for given in step.inputs.values():
                cred = _input_credential(step, given)
                if cred is not None:
                    visible[f"with:{given.name}"] = cred
                    everything.append(cred)
            for cred in _script_credentials(step):
                visible[f"run:{cred.name}"] = cred
                everything.append(cred)
            step.credentials = list(visible.values())
            view = step.env_sources()
            for export in step.facts.env_exports:
                cred = _export_credential(step, export, view)
                later[export.name] = cred
                everything.append(cred)
            for write in step.facts.config_writes:
                if (
                    write.holds_runtime_secret
                    and not write.removed_by_step
                    and not _minted_for_loopback(write, view)
                ):
                    cred = _npmrc_credential(step, write, view)
                    later[f"npmrc:{write.target}:{write.setting}"] = cred
                    everything.append(cred)
    workflow.credentials = everything


def _wired_names(workflow: Workflow) -> frozenset[str]:
    """Variables an auth setting for the public registry is wired to, whatever their
    names: `npm config set //registry.npmjs.org/:_authToken=\\${PUBLISH_TOKEN}`, a
    `$X` or `${X}` a step writes into an .npmrc, `npmAuthToken` in .yarnrc.yml."""
    names = set(workflow.yarnrc_variables)
    for step in workflow.steps():
        for write in step.facts.config_writes:
            if for_npmjs(write.setting):
                names.update(write.references)
                names.update(v for v in write.variables if not v.startswith("${{"))
    return frozenset(names)


def _env_credential(
    entry: EnvEntry,
    job: Job | None,
    step: Step | None,
    outer: dict[str, EnvEntry],
    wired: frozenset[str] = frozenset(),
) -> NpmCredential | None:
    source = entry.source
    credential = is_npm_credential_value(entry.name, source) or entry.name in wired
    if source.env and not (source.secrets or source.variables or source.github_token):
        # `${{ env.X }}`: the value is X's. A literal X stays reported where it is written.
        referenced = [outer[name] for name in source.env if name in outer]
        if referenced:
            merged = referenced[0].source
            if is_npm_credential_value(referenced[0].name, merged):
                credential = True
            if lifetime_of(merged) not in (None, LITERAL):
                source = merged
    if not credential:
        return None
    lifetime = lifetime_of(source)
    if lifetime is None:
        return None
    owner = step.key if step is not None else job.key if job is not None else "workflow"
    return NpmCredential(
        name=entry.name,
        via="env",
        level=entry.level,
        span=entry.span,
        source=source,
        key=f"{owner}/env:{entry.name}",
        job=job,
        step=step,
        lifetime=lifetime,
        origin=origin_of(source),
        value_span=node_span(entry.value),
    )


def _input_credential(step: Step, given: Input) -> NpmCredential | None:
    action = step.action or ""
    token_input = token_input_of(action)
    npm_input = is_credential_name(given.name) or given.name == token_input
    if not (npm_input or given.source.npm_secrets):
        return None
    lifetime = lifetime_of(given.source)
    if lifetime is None:
        return None
    return NpmCredential(
        name=given.name,
        via="with",
        level="step",
        span=given.span,
        source=given.source,
        key=f"{step.key}/with:{given.name}",
        job=step.job,
        step=step,
        lifetime=lifetime,
        origin=origin_of(given.source),
        value_span=node_span(given.value),
    )


def _script_credentials(step: Step) -> list[NpmCredential]:
    found: list[NpmCredential] = []
    named: set[str] = set()
    for name, span, source in step.facts.script_credentials:
        lifetime = lifetime_of(source)
        if lifetime is None:
            continue
        named.update(source.secrets)
        found.append(
            NpmCredential(
                name,
                "run",
                "step",
                span,
                source,
                f"{step.key}/run:{name}",
                step.job,
                step,
                lifetime,
                origin_of(source),
                span,
            )
        )
    written = {s for w in step.facts.config_writes for s in w.secrets}
    for inline in step.facts.inline_secrets:
        if inline.name in named or not (is_credential_name(inline.name) or inline.name in written):
            continue
        named.add(inline.name)
        source = ValueSource("${{ secrets." + inline.name + " }}", secrets=(inline.name,))
        found.append(
            NpmCredential(
                f"secrets.{inline.name}",
                "run",
                "step",
                inline.span,
                source,
                f"{step.key}/run:secrets.{inline.name}",
                step.job,
                step,
                lifetime_of(source) or LITERAL,
                f"secret {inline.name}",
            )
        )
    return found


def _resolve(variables: Sequence[str], view: dict[str, ValueSource]) -> ValueSource:
    secrets: list[str] = []
    for name in variables:
        source = view.get(name)
        if source is not None:
            secrets.extend(source.secrets)
    return ValueSource(" ".join(variables), secrets=tuple(dict.fromkeys(secrets)))


def _export_credential(
    step: Step, export: EnvExport, view: dict[str, ValueSource]
) -> NpmCredential:
    resolved = _resolve(export.variables, view)
    source = ValueSource(
        export.name, secrets=tuple(dict.fromkeys((*export.secrets, *resolved.secrets)))
    )
    lifetime = lifetime_of(source) or "provided"
    origin = origin_of(source) if source.secrets else "a value from the script"
    return NpmCredential(
        export.name,
        "github-env",
        "later steps",
        export.span,
        source,
        f"{step.key}/github-env:{export.name}",
        step.job,
        step,
        lifetime,
        origin,
    )


def _minted_for_loopback(write: ConfigWrite, view: dict[str, ValueSource]) -> bool:
    """A token for a registry on this machine (an end-to-end test's verdaccio), minted at
    run time (`TOKEN=$(curl … localhost:4873/-/user/…)`): no stored secret, no credential.
    A stored secret written there is still one."""
    from npm_guard.hosts import is_loopback_setting

    if not is_loopback_setting(write.setting) or write.secrets:
        return False
    return not _resolve(write.variables, view).secrets


def _npmrc_credential(
    step: Step, write: ConfigWrite, view: dict[str, ValueSource]
) -> NpmCredential:
    resolved = _resolve(write.variables, view)
    secrets = tuple(dict.fromkeys((*write.secrets, *resolved.secrets)))
    source = ValueSource(write.setting, secrets=secrets)
    lifetime = lifetime_of(source) or "provided"
    if secrets:
        origin = origin_of(source)
    elif write.variables:
        origin = ", ".join(f"${v}" if not v.startswith("${{") else v for v in write.variables)
    else:
        origin = "a command's output"
    return NpmCredential(
        f"{write.setting} in {write.target}",
        "npmrc",
        "later steps",
        write.span,
        source,
        f"{step.key}/npmrc:{write.target}:{write.setting}",
        step.job,
        step,
        lifetime,
        origin,
        registry_host=setting_host(write.setting),
    )


def _call_credentials(job: Job) -> list[NpmCredential]:
    found: list[NpmCredential] = []
    for secret in job.call_secrets:
        if not is_npm_credential_value(secret.name, secret.source):
            continue
        lifetime = lifetime_of(secret.source)
        if lifetime is None or lifetime == EPHEMERAL:
            continue
        found.append(
            NpmCredential(
                secret.name,
                "secrets",
                "job",
                secret.span,
                secret.source,
                f"{job.key}/secrets:{secret.name}",
                job,
                None,
                lifetime,
                origin_of(secret.source),
            )
        )
    if job.inherit_secrets is not None and job.uses is not None:
        used = job.inherited_npm_secrets
        if used:
            source = ValueSource("inherit", secrets=tuple(used))
            found.append(
                NpmCredential(
                    "secrets: inherit",
                    "secrets",
                    "job",
                    job.inherit_secrets,
                    source,
                    f"{job.key}/secrets:inherit",
                    job,
                    None,
                    "stored",
                    ", ".join(f"secret {name}" for name in used) + f" used by {job.uses}",
                )
            )
    return found
