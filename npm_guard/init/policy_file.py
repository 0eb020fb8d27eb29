"""The starter `.npm-guard.yml`, and what an existing one lacks.

The starter lists the repository's packages under `packages:` and every secret its
workflows hand to npm under `tokens:` (see `inventory`), each under a `review:` comment
that says why init put it there: the entries are guesses from the files, for a person
to confirm. `init` never rewrites a policy file that exists; `missing()` says what it
would add to it.
"""

from __future__ import annotations

import json

from npm_guard.init.inventory import READ_WRITE, STAGE_ONLY, Inventory, SecretUse

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.policy import Policy

DOCS = "https://github.com/npm-guard/npm-guard/blob/main/docs/policy.md"
# Where a publish token should go instead. One place, so that a future `npm-guard
# trust` (which plans the move) can be named here once it exists.
TRUSTED_PUBLISHING = (
    "trusted publishing (OIDC) needs no token: `npm-guard trust` plans the move (the "
    "`npm trust github` command per package, the workflow edits, the order), see "
    "https://docs.npmjs.com/trusted-publishers; then delete this secret"
)
STAGED_PUBLISHING = (
    "a stage-only token can only stage a publish, which a maintainer approves with 2FA"
)


def _comment(text: str) -> str:
    """`text` as one comment line's content: no line break can end the comment early."""
    from npm_guard.secrets import scrub

    return " ".join(scrub(text).split())


def comment_lines(text: str, indent: str = "", width: int = 88) -> list[str]:
    """`text` as comment lines of at most `width` columns (a long word stays whole)."""
    import textwrap

    return textwrap.wrap(
        _comment(text),
        width=width,
        initial_indent=f"{indent}# ",
        subsequent_indent=f"{indent}# ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def _secret_lines(use: SecretUse) -> list[str]:
    lines = comment_lines(f"review: {use.permission}: {'; '.join(use.reasons)}.", "  ")
    if use.permission == READ_WRITE and use.publishes:
        lines += comment_lines(f"Better: {TRUSTED_PUBLISHING}.", "  ")
    elif use.permission == STAGE_ONLY:
        lines += comment_lines(f"{STAGED_PUBLISHING}.", "  ")
    lines += [f"  {use.name}:", f"    permission: {use.permission}"]
    return lines


def starter_policy(inventory: Inventory) -> str:
    """The text of a starter `.npm-guard.yml` for `inventory`; valid against the schema."""
    from npm_guard.policy_schema import policy_schema

    lines = [
        f"# yaml-language-server: $schema={policy_schema()['$id']}",
        "#",
        "# npm-guard policy, started by `npm-guard init` from the repository's package.json",
        "# files and workflows. Each entry under a `review:` comment is a guess from those",
        "# files: confirm it, correct it, then delete the comment. Every key is described in",
        f"# {DOCS}",
        "version: 1",
        "",
        "# The packages this repository publishes (root and workspaces, not private). Add",
        "# who may maintain them and who publishes them (`maintainers:`, `publishers:`).",
    ]
    if inventory.packages:
        lines.append("packages:")
        for package in inventory.packages:
            lines += comment_lines(f"review: from {package.manifest}", "  ")
            lines.append(f"  {json.dumps(package.name)}: {{}}")
    else:
        lines += ["# (init found none: no package.json that is not private)", "packages: {}"]
    lines += [
        "",
        "# The npm credentials the workflows use, by secret name, with what each may do.",
        "# With this section a workflow that uses any other secret as an npm credential is",
        "# a finding, and so is a token used beyond the permission declared here.",
    ]
    if inventory.secrets:
        lines.append("tokens:")
        for use in inventory.secrets:
            lines += _secret_lines(use)
    else:
        lines += ["# (init found none: no workflow hands npm a secret)", "tokens: {}"]
    return "\n".join(lines) + "\n"


def missing(policy: Policy, inventory: Inventory) -> list[str]:
    """What `policy` lacks of `inventory`, one line each."""
    from npm_guard.rules.workflow_undeclared_npm_token import declared_token

    lines = []
    for package in inventory.packages:
        if policy.package_policy(package.name) is None:
            lines.append(f"packages: {package.name} (from {package.manifest})")
    for use in inventory.secrets:
        if policy.tokens is None or declared_token(policy, use.name) is None:
            lines.append(
                f"tokens: {use.name}, permission {use.permission} ({'; '.join(use.reasons)})"
            )
    return [_comment(line) for line in lines]
