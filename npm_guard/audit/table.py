"""The per-package verdict tables: maintainer, can publish, evidence, mode, verdict.

As text for the terminal, Markdown for the job summary, and data for the JSON report's
`audit` section (`verdict_data`), which shows every account, passing ones included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from npm_guard.audit.facts import (
    AccessState,
    AuditFacts,
    EvidenceKind,
    PackageFacts,
    TokenFacts,
    Verdict,
    VersionState,
)

HEADER = ("maintainer", "can publish", "evidence", "mode", "verdict")


def _rows(package: PackageFacts) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            account.name,
            account.can_publish,
            account.evidence.label,
            account.evidence.mode.value,
            verdict.value,
        )
        for account, verdict in package.verdicts()
    ]


def _package_notes(package: PackageFacts) -> list[str]:
    notes = []
    if not package.maintainers:
        notes.append("maintainers unknown (see audit-incomplete)")
    if package.collaborators is None:
        notes.append("collaborators not checked")
    recent = package.recent
    if recent:
        trusted = sum(1 for v in recent if v.trusted_publisher)
        provenance = sum(1 for v in recent if v.provenance)
        unrecorded = sum(1 for v in recent if v.publisher is None and not v.trusted_publisher)
        parts = [f"{len(recent)} recent version{'s' if len(recent) != 1 else ''}"]
        parts.append(f"{trusted} by trusted publishing")
        parts.append(f"{provenance} with provenance")
        if unrecorded:
            parts.append(f"{unrecorded} with no recorded publisher")
        notes.append(", ".join(parts))
    access = package.access
    if access is not None:
        if access.state is AccessState.UNKNOWN:
            notes.append(f"publishing access unknown: {access.detail}")
        elif access.proves_2fa:
            notes.append(
                f"publishing access: {access.state.value}, so every publishing account passes"
            )
        else:
            notes.append(f"publishing access: {access.state.value}")
    if package.statuses is not None:
        counts: dict[str, int] = {}
        for status in package.statuses:
            if status.state is not None:
                counts[status.state.value] = counts.get(status.state.value, 0) + 1
        unknown = [s for s in package.statuses if s.state is None]
        if counts:
            order = [state.value for state in VersionState]
            shown = ", ".join(f"{counts[k]} {k}" for k in order if k in counts)
            notes.append(f"version status: {shown}")
        if unknown:
            notes.append(f"version status unknown: {unknown[0].reason}")
    return notes


def _token_line(token: TokenFacts | None) -> str | None:
    if token is None:
        return None
    if not token.found:
        return f"{token.subject}: properties unknown (see audit-incomplete)"

    def show(value: bool | None, yes: str, no: str) -> str:
        return "unknown" if value is None else (yes if value else no)

    permission = show(token.readonly, "read-only", "read-write")
    if token.readonly is False and token.stage_only is not None:
        permission += " (stage-only)" if token.stage_only else " (publishes directly)"
    cidr = "unknown" if token.cidr is None else (", ".join(token.cidr) or "none")
    if not token.expiry_known:
        expiry = "unknown"
    else:
        expiry = token.expiry.date().isoformat() if token.expiry else "never"
    return (
        f"{token.subject}: {permission}, "
        f"CIDR {cidr}, bypass 2FA {show(token.bypass_2fa, 'yes', 'no')}, expires {expiry}"
    )


def render_text_tables(facts: AuditFacts) -> str:
    """Plain-text tables, one per package, for the terminal (a name with a line break
    in it stays on its line)."""
    from npm_guard.report.summary import one_line

    out: list[str] = []
    for package in facts.packages:
        out.append(one_line(f"{package.name}  ({package.registry})"))
        rows = _rows(package)
        if rows:
            widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
            for row in [HEADER, *rows]:
                cells = (one_line(c).ljust(w) for c, w in zip(row, widths))
                out.append("  " + "  ".join(cells).rstrip())
        else:
            out.append("  no publishing accounts known")
        out.extend(f"  note: {one_line(note)}" for note in _package_notes(package))
        out.append("")
    line = _token_line(facts.token)
    if line:
        out.append(line)
        out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    """A table cell or list item: names come from the repository and the registry, so
    they are scrubbed first (escaping `_` would hide a token from a later scrub)."""
    from npm_guard.report.summary import table_cell
    from npm_guard.secrets import scrub

    return table_cell(scrub(text))


_ICON = {
    Verdict.PASS: "✅",
    Verdict.AUTH_ONLY: "🔴",
    Verdict.DISABLED: "🔴",
    Verdict.PROVEN_MODE_UNKNOWN: "🔵",
    Verdict.UNVERIFIED: "🟡",
}


def render_markdown_tables(facts: AuditFacts) -> str:
    """The same tables in GitHub Markdown, for the job summary."""
    out = ["### Publishing maintainers and their 2FA", ""]
    from npm_guard.report.summary import code_span
    from npm_guard.secrets import scrub

    for package in facts.packages:
        out.append(f"#### {code_span(scrub(package.name))}")
        out.append("")
        rows = package.verdicts()
        if rows:
            out.append("| " + " | ".join(HEADER) + " |")
            out.append("|" + "---|" * len(HEADER))
            for account, verdict in rows:
                cells: Sequence[str] = (
                    _cell(account.name),
                    _cell(account.can_publish),
                    _cell(account.evidence.label),
                    _cell(account.evidence.mode.value),
                    f"{_ICON[verdict]} {_cell(verdict.value)}",
                )
                out.append("| " + " | ".join(cells) + " |")
        else:
            out.append("No publishing accounts known.")
        notes = _package_notes(package)
        if notes:
            out.append("")
            out.extend(f"- {_cell(note)}" for note in notes)
        out.append("")
    line = _token_line(facts.token)
    if line:
        out.append(_cell(line))
    return "\n".join(out).rstrip("\n") + "\n"


def _token_data(token: TokenFacts) -> dict[str, Any]:
    expires: str | None = None
    if token.expiry_known:
        expires = token.expiry.isoformat() if token.expiry else "never"
    return {
        "env": token.env,
        "token": token.redacted,
        "registry": token.registry,
        "found": token.found,
        "kind": token.kind.value,
        "readOnly": token.readonly,
        "stageOnly": token.stage_only,
        "cidr": list(token.cidr) if token.cidr is not None else None,
        "bypass2fa": token.bypass_2fa,
        "expires": expires,
    }


def _access_data(package: PackageFacts) -> dict[str, Any] | None:
    access = package.access
    if access is None:
        return None
    return {
        "state": access.state.value,
        "provesTwoFactor": access.proves_2fa,
        "endpoint": access.endpoint,
        "detail": access.detail,
    }


def _status_data(package: PackageFacts) -> list[dict[str, Any]] | None:
    if package.statuses is None:
        return None
    return [
        {
            "version": status.version,
            "status": status.state.value if status.state else None,
            "reason": status.reason,
        }
        for status in package.statuses
    ]


def verdict_data(facts: AuditFacts) -> dict[str, Any]:
    """The verdict tables as data: every package, every publishing account and its verdict.

    Findings only show what failed; this shows what passed too, and on what evidence
    (a self-attestation says so in `evidence` and `selfAttested`).
    """
    packages = []
    for package in facts.packages:
        accounts = [
            {
                "name": account.name,
                "canPublish": list(account.roles),
                "evidence": account.evidence.kind.value,
                "evidenceDetail": account.evidence.detail,
                "selfAttested": account.evidence.kind is EvidenceKind.ATTESTATION,
                "mode": account.evidence.mode.value,
                "verdict": verdict.value,
            }
            for account, verdict in package.verdicts()
        ]
        packages.append(
            {
                "name": package.name,
                "registry": package.registry,
                "location": {"path": package.location.path, "line": package.location.line},
                "require2fa": package.settings.require_2fa,
                "maintainersKnown": package.maintainers is not None,
                "collaboratorsChecked": package.collaborators is not None,
                "accounts": accounts,
                "notes": _package_notes(package),
                "publishingAccess": _access_data(package),
                "versionStatus": _status_data(package),
            }
        )
    token = _token_data(facts.token) if facts.token is not None else None
    return {"packages": packages, "token": token}
