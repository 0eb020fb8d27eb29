"""What the token list says about the audit's own token (`GET /-/npm/v1/tokens`).

Which entry is the token (by npm's redacted form, or a legacy key hash), and what it
may do: read-only or not, stage-only or not, CIDR ranges, bypass-2FA, expiry. What
cannot be told becomes a `Gap` on the token's facts.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from npm_guard._record import replace
from npm_guard.audit.client import FetchFailure
from npm_guard.audit.evidence import parse_time
from npm_guard.audit.facts import Gap, TokenFacts, TokenKind
from npm_guard.findings import Location
from npm_guard.policy import TokenSpec
from npm_guard.secrets import NPM_TOKEN_RE, CredentialKind, redact


def redacted_token(token: str) -> str:
    """How the audit names its own token: npm's list form for npm tokens."""
    if NPM_TOKEN_RE.fullmatch(token):
        return redact(token, CredentialKind.NPM_TOKEN)
    return redact(token)


def _redaction_parts(shown: str) -> tuple[str, str] | None:
    for separator in ("...", "…"):
        if separator in shown:
            head, _, tail = shown.partition(separator)
            return head, tail
    return None


def matching_entries(token: str, entries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Entries of a token list that are `token`: by npm's redacted form, or legacy key hash.

    npm shows the first 8 and last 4 characters (`npm_aBcD...7890`); other registries
    show other lengths (Verdaccio: 5 and 5), so any `head...tail` with at least 4
    characters each side is compared. Revoked entries never match.
    """
    legacy_key = hashlib.sha512(token.encode("utf-8")).hexdigest()
    found: list[Mapping[str, Any]] = []
    keys: set[str] = set()
    for entry in entries:
        if entry.get("revoked"):
            continue
        if entry.get("key") in keys and entry in found:
            continue  # the same entry listed twice (Verdaccio does this)
        if entry.get("key") == legacy_key:
            found.append(entry)
            keys.add(legacy_key)
            continue
        parts = _redaction_parts(str(entry.get("token", "")))
        if parts is None:
            continue
        head, tail = parts
        long_enough = len(head) >= 4 and len(tail) >= 4 and len(token) >= len(head) + len(tail)
        if long_enough and token.startswith(head) and token.endswith(tail):
            found.append(entry)
            keys.add(str(entry.get("key")))
    return found


def token_facts(
    token: str,
    *,
    env: str,
    registry: str,
    listing: Sequence[Mapping[str, Any]] | FetchFailure,
    spec: TokenSpec | None,
    location: Location,
    now: datetime.datetime,
) -> TokenFacts:
    """What the token list says about the audit's own token; unknowns become gaps."""
    base = TokenFacts(
        env=env,
        redacted=redacted_token(token),
        registry=registry,
        location=location,
        spec=spec,
        checked_at=now,
    )
    subject = base.subject
    if isinstance(listing, FetchFailure):
        if listing.status in (401, 403):
            why = (
                "the registry refused to list tokens for this token (npm lists tokens only "
                "for session tokens from npm login; granular access tokens are refused)"
            )
        else:
            why = "the token list could not be read"
        return _with_gaps(
            base,
            Gap(
                subject,
                f"{listing.endpoint}: {listing.reason}; {why}, so whether the token is "
                f"read-only, CIDR-bound, bypasses 2FA or expires in time is unknown",
            ),
        )
    matches = matching_entries(token, listing)
    if not matches:
        return _with_gaps(
            replace(base, kind=TokenKind.SESSION),
            Gap(
                subject,
                f"the token is not in the account's token list ({len(listing)} "
                f"{'entry' if len(listing) == 1 else 'entries'} checked): a session token "
                f"from npm login, or a token of another account; "
                f"its permissions are unknown",
            ),
        )
    if len(matches) > 1:
        return _with_gaps(
            base,
            Gap(
                subject,
                f"{len(matches)} entries of the token list match the token's redacted form; "
                f"the audit does not guess which one it is",
            ),
        )
    entry = matches[0]
    gaps: list[Gap] = []
    readonly = _readonly(entry)
    stage_only = _stage_only(entry)
    cidr_raw = entry["cidr"] if "cidr" in entry else entry.get("cidr_whitelist", ...)
    cidr = None if cidr_raw is ... else tuple(str(c) for c in cidr_raw or ())
    bypass = entry.get("bypass_2fa")
    expiry_known = "expiry" in entry
    expiry = parse_time(entry.get("expiry")) if expiry_known else None
    if expiry_known and entry.get("expiry") and expiry is None:
        expiry_known = False
    missing = [
        name
        for name, value in (
            ("readonly or permissions", readonly),
            ("cidr or cidr_whitelist", cidr),
            ("bypass_2fa", bypass),
        )
        if value is None
    ]
    if not expiry_known:
        missing.append("expiry")
    declared_stage_only = spec is not None and spec.permission == "stage-only"
    if declared_stage_only and readonly is False and stage_only is None:
        missing.append("publish_policy (stage-only or not)")
    if missing:
        gaps.append(
            Gap(
                subject,
                f"the registry's token list has no {', '.join(missing)} for this token, so "
                f"{'that property is' if len(missing) == 1 else 'those properties are'} "
                f"not checked",
            )
        )
    return TokenFacts(
        env=env,
        redacted=base.redacted,
        registry=registry,
        location=location,
        spec=spec,
        checked_at=now,
        found=True,
        kind=TokenKind.GRANULAR,
        readonly=readonly,
        stage_only=stage_only,
        cidr=cidr,
        bypass_2fa=bypass if isinstance(bypass, bool) else None,
        expiry_known=expiry_known,
        expiry=expiry,
        created=parse_time(entry.get("created")),
        gaps=tuple(gaps),
    )


def _readonly(entry: Mapping[str, Any]) -> bool | None:
    """`permissions` first (any `write` is not read-only, only `read` is), else `readonly`.

    An action npm-guard does not know (a new one for stage-only tokens, say) proves
    neither, so the `readonly` flag decides, or nothing does.
    """
    permissions = entry.get("permissions")
    if isinstance(permissions, list) and permissions:
        actions = {p.get("action") for p in permissions}
        if "write" in actions:
            return False
        if actions == {"read"}:
            return True
    value = entry.get("readonly")
    return value if isinstance(value, bool) else None


def _stage_only(entry: Mapping[str, Any]) -> bool | None:
    """Whether a token may only stage releases: npm's registry records a token created
    with `--packages-and-scopes-permission=read-write-stage-only` as
    `publish_policy: stage_only` (npm/cli PR #9948). npm's own `npm token list` shows no
    permission at all (`lib/commands/token.js` 71-109 in npm 12.2.3), and `--json` shows
    the registry's objects as they are, which is what the audit reads. Any other
    value means it publishes directly; no field, that the list does not say."""
    if "publish_policy" not in entry:
        return None
    value = entry["publish_policy"]
    return isinstance(value, str) and value.strip().lower().replace("-", "_") == "stage_only"


def _with_gaps(facts: TokenFacts, *gaps: Gap) -> TokenFacts:
    return replace(facts, gaps=facts.gaps + gaps)
