"""The trust plan as text (for people), JSON (for tools; npm_guard/schemas/
trust-plan.schema.json) and Markdown (a pull-request description or a job summary).

Everything shown comes from the repository (file names, job ids, package names) and is
escaped for Markdown like the rest of npm-guard's Markdown (`npm_guard.report.summary`);
no credential value is ever part of the plan, only variable and secret names.
"""

from __future__ import annotations

import json
from typing import Any

from npm_guard.trust.model import Migration, TrustPlan

SCHEMA_VERSION = 1
BEFORE_MERGING = (
    "Create the trusted publishers listed for each job on npmjs.com (`npm trust github …` "
    "needs npm >= 11.15.0, write access to the package and two-factor authentication: "
    "run it yourself; the package must already exist on npmjs.com).",
    "Meet the prerequisites listed for each job.",
)
GENERAL = (
    "Trusted publishing runs on GitHub-hosted runners; npm on the runner must be >= 11.5.1 "
    "(the edits upgrade it where the job's npm is older).",
    "Provenance is added automatically only from a public repository, for a public package.",
    "npm takes one trusted publisher per package: the workflow file named for it is the "
    "only one that can publish it.",
)


def after_merging(plan: TrustPlan) -> list[str]:
    """The steps after the edits are merged, in order."""
    secrets = sorted({s for m in plan.migrations for s in m.secrets})
    named = ", ".join(secrets) if secrets else "the token's secret"
    return [
        "Release once, so that a version is published through trusted publishing (OIDC).",
        "Run `npm-guard audit`: the new version must carry `trustedPublisher` (published "
        "through OIDC, not with the token).",
        "On npmjs.com, set each package's publishing access to \"Require two-factor "
        'authentication and disallow tokens".',
        f"Revoke the token (`npm token revoke <id>`; `npm token list` shows the ids) and "
        f"delete the secret ({named}) from the repository, its environments and the "
        "organisation.",
        "From then on `npm-guard audit` reports `publish-trust-downgrade` if a version is "
        "ever published without trusted publishing again.",
    ]


# --- JSON ----------------------------------------------------------------------------


def plan_dict(plan: TrustPlan) -> dict[str, Any]:
    from npm_guard.trust.run import unified_diff

    refused = {r.path for r in plan.refused}
    return {
        "version": SCHEMA_VERSION,
        "repository": plan.repository,
        "repository_source": plan.repository_source,
        "files_read": plan.files_read,
        "migrations": [_migration_dict(m) for m in plan.migrations],
        "not_migratable": [
            {
                "kind": manual.kind,
                "workflow": manual.workflow,
                "line": manual.line,
                "what": manual.what,
                "reason": manual.reason,
                "todo": manual.todo,
            }
            for manual in plan.manual
        ],
        "edits": [
            {
                "path": change.path,
                "diff": unified_diff(change),
                "written": change.path in plan.written,
                "refused": change.path in refused,
            }
            for change in plan.changes
        ],
        "refused": [{"path": r.path, "reason": r.reason} for r in plan.refused],
        "problems": list(plan.problems),
        "before_merging": list(BEFORE_MERGING) if plan.migrations else [],
        "general_prerequisites": list(GENERAL) if plan.migrations else [],
        "after_merging": after_merging(plan) if plan.migrations else [],
    }


def _migration_dict(migration: Migration) -> dict[str, Any]:
    return {
        "workflow": migration.workflow,
        "job": migration.job,
        "steps": migration.steps,
        "line": migration.line,
        "tool": migration.tool,
        "credentials": migration.credentials,
        "secrets": migration.secrets,
        "trusted_workflow": migration.trusted_workflow,
        "environment": migration.environment,
        "packages": [
            {"name": p.name, "path": p.path, "registry": p.registry} for p in migration.packages
        ],
        "skipped_packages": [
            {"name": p.name, "path": p.path, "registry": p.registry, "reason": why}
            for p, why in migration.skipped_packages
        ],
        "trusted_publishers": [
            {
                "package": t.package,
                "provider": "github",
                "repository": t.owner_repository,
                "workflow_file": t.workflow_file,
                "environment": t.environment,
                "command": t.command,
            }
            for t in migration.publishers
        ],
        "prerequisites": migration.prerequisites,
        "edit_notes": migration.edit_notes,
        "files": migration.files,
    }


def render_json(plan: TrustPlan) -> str:
    return json.dumps(plan_dict(plan), indent=2, ensure_ascii=False) + "\n"


# --- text ----------------------------------------------------------------------------


def render_text(plan: TrustPlan, *, diffs: bool = True) -> str:
    from npm_guard.trust.run import unified_diff

    out: list[str] = []
    if not plan.has_steps:
        out.append(
            f"npm-guard trust: nothing to migrate ({_files(plan.files_read)} read; no publish "
            "authenticates with a long-lived token)"
        )
        out += [f"note: {p}" for p in plan.problems]
        return "\n".join(out) + "\n"
    repo = plan.repository or "OWNER/REPO (not known: pass --repository)"
    source = f" (from {plan.repository_source})" if plan.repository_source else ""
    out.append(f"npm-guard trust: plan for {repo}{source}")
    for number, migration in enumerate(plan.migrations, start=1):
        out.append("")
        out.append(
            f"{number}. {migration.workflow}:{migration.line}: job '{migration.job}' "
            f"publishes with {', '.join(migration.credentials)}"
        )
        out.append(f"   publishing: {migration.tool}")
        out.append(
            f"   trusted workflow file: {migration.trusted_workflow}"
            + (f", environment: {migration.environment}" if migration.environment else "")
        )
        if migration.packages:
            out.append("   create on npmjs.com (the maintainer runs these, with 2FA):")
            out += [f"     {p.command}" for p in migration.publishers]
        else:
            out.append("   packages: none found; name them by hand")
        for package, why in migration.skipped_packages:
            out.append(f"   skipped {package.name}: {why}")
        for item in migration.prerequisites:
            out.append(f"   prerequisite: {item}")
        for note in migration.edit_notes:
            out.append(f"   edit: {note}")
    if plan.manual:
        out.append("")
        out.append("Not migrated automatically:")
        for manual in plan.manual:
            out.append(f"  {manual.workflow}:{manual.line}: {manual.what}")
            out.append(f"    why: {manual.reason}")
            out.append(f"    by hand: {manual.todo}")
    if plan.refused:
        out.append("")
        out.append("Files not edited:")
        out += [f"  {r.path}: {r.reason}" for r in plan.refused]
    if plan.changes and diffs:
        out.append("")
        verb = "Edits written" if plan.written else "Workflow edits (apply with --write)"
        out.append(f"{verb}:")
        for change in plan.changes:
            out.append(unified_diff(change).rstrip("\n"))
    if plan.migrations:
        out.append("")
        out.append("Before merging:")
        out += [f"  - {line}" for line in (*BEFORE_MERGING, *GENERAL)]
        out.append("After merging, in order:")
        out += [f"  {n}. {line}" for n, line in enumerate(after_merging(plan), start=1)]
    out += [f"note: {p}" for p in plan.problems]
    return "\n".join(out) + "\n"


def _files(count: int) -> str:
    return f"{count} workflow file{'s' if count != 1 else ''}"


# --- Markdown --------------------------------------------------------------------------


def render_markdown(plan: TrustPlan) -> str:
    from npm_guard.report.summary import code_span, escape_markdown
    from npm_guard.trust.run import unified_diff

    md: list[str] = ["## npm-guard trust: move publishing to trusted publishing", ""]
    if not plan.has_steps:
        md.append(
            f"Nothing to migrate: no publish in the {_files(plan.files_read)} read "
            "authenticates with a long-lived token."
        )
        return "\n".join(md) + "\n"
    if plan.repository:
        md.append(f"Repository: {code_span(plan.repository)}")
    else:
        md.append("Repository: not known (pass `--repository OWNER/REPO`).")
    md.append("")
    for migration in plan.migrations:
        where = f"{migration.workflow}:{migration.line}"
        md.append(f"### Job {code_span(migration.job)} in {code_span(where)}")
        md.append("")
        md.append(f"- Publishes with: {escape_markdown(', '.join(migration.credentials))}")
        md.append(f"- Publishing tool: {escape_markdown(migration.tool)}")
        trusted = f"- Trusted workflow file: {code_span(migration.trusted_workflow)}"
        if migration.environment:
            trusted += f", environment {code_span(migration.environment)}"
        md.append(trusted)
        names = ", ".join(code_span(p.name) for p in migration.packages) or "none found"
        md.append(f"- Packages: {names}")
        for package, why in migration.skipped_packages:
            md.append(f"- Skipped {code_span(package.name)}: {escape_markdown(why)}")
        for item in migration.prerequisites:
            md.append(f"- Prerequisite: {escape_markdown(item)}")
        for note in migration.edit_notes:
            md.append(f"- Edit: {escape_markdown(note)}")
        if migration.publishers:
            md.append("")
            md.append("Create the trusted publishers (a maintainer runs this, with 2FA):")
            md.append("")
            md += _fenced("\n".join(p.command for p in migration.publishers), "sh")
        md.append("")
    if plan.manual:
        md.append("### Not migrated automatically")
        md.append("")
        for manual in plan.manual:
            md.append(
                f"- {code_span(f'{manual.workflow}:{manual.line}')}: "
                f"{escape_markdown(manual.what)}. "
                f"Why: {escape_markdown(manual.reason)}. By hand: {escape_markdown(manual.todo)}."
            )
        md.append("")
    if plan.refused:
        md.append("### Files not edited")
        md.append("")
        md += [f"- {code_span(r.path)}: {escape_markdown(r.reason)}" for r in plan.refused]
        md.append("")
    if plan.changes:
        md.append("### Workflow edits" + (" (written)" if plan.written else ""))
        md.append("")
        for change in plan.changes:
            md += _fenced(unified_diff(change).rstrip("\n"), "diff")
            md.append("")
    if plan.migrations:
        md.append("### Before merging")
        md.append("")
        md += [f"- {line}" for line in (*BEFORE_MERGING, *GENERAL)]
        md.append("")
        md.append("### After merging, in order")
        md.append("")
        md += [f"{n}. {line}" for n, line in enumerate(after_merging(plan), start=1)]
        md.append("")
    for problem in plan.problems:
        md.append(f"> {escape_markdown(problem)}")
    return "\n".join(md).rstrip("\n") + "\n"


def _fenced(text: str, info: str) -> list[str]:
    """A fenced code block that no line of `text` can close (the fence is longer than
    any run of backticks or tildes in it)."""
    longest = 0
    for char in "`~":
        run = 0
        for c in text:
            run = run + 1 if c == char else 0
            longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", text, fence]
