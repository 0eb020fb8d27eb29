"""Turning validated registry responses into facts (`npm_guard.audit.facts`).

No network here: the callers hand in what `RegistryClient` returned (data that matched
its schema, or a `FetchFailure`). Each piece of 2FA evidence says where it comes from;
what could not be established becomes a `Gap`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from npm_guard._record import dataclass
from npm_guard.audit.client import FetchFailure, FetchResult
from npm_guard.audit.facts import (
    NO_EVIDENCE,
    AccessState,
    Account,
    Evidence,
    EvidenceKind,
    Gap,
    PackageFacts,
    PublishingAccess,
    TokenFacts,
    TokenKind,
    TwoFactorMode,
    VersionFacts,
    VersionState,
    VersionStatus,
    same_registry,
)
from npm_guard.audit.workspace import PackageTarget
from npm_guard.findings import Location, Severity
from npm_guard.policy import Attestation, Policy


@dataclass(frozen=True)
class OwnerProfile:
    """The token owner's own profile: the only first-hand 2FA evidence there is.

    It speaks for the account of that name on `registry` only: the same name on another
    registry is another account.
    """

    name: str | None
    evidence: Evidence | None  # None when the profile is unusable as 2FA evidence
    gap: Gap | None = None
    registry: str | None = None


def profile_evidence(
    result: FetchResult, token: TokenFacts | None, *, registry: str | None = None
) -> OwnerProfile:
    """2FA evidence from `GET /-/npm/v1/user` on `registry`, read with the audit's `token`.

    `tfa.pending == false` with a `mode` is verified 2FA, and `pending: true` verified
    "not enabled". `tfa: false` (or missing) is evidence of "disabled" only through a
    session token (npm login) or a granular token known not to bypass 2FA: npm answers
    granular tokens, bypass-2FA ones above all, with `tfa: false` whatever the account
    has, so through any other token that answer proves nothing.
    """
    if isinstance(result, FetchFailure):
        return OwnerProfile(
            None,
            None,
            Gap(
                "token owner's profile",
                f"{result.endpoint}: {result.reason}; the 2FA of the token's own account "
                f"cannot be verified",
            ),
            registry,
        )
    data: Mapping[str, Any] = result.data
    name = str(data["name"])
    tfa = data.get("tfa")
    source = f"{name}'s own profile ({result.endpoint})"

    def verified(mode: TwoFactorMode) -> OwnerProfile:
        return OwnerProfile(name, Evidence(EvidenceKind.PROFILE, mode, source), registry=registry)

    if isinstance(tfa, dict) and tfa.get("pending") is False and tfa.get("mode"):
        return verified(TwoFactorMode(tfa["mode"]))
    if isinstance(tfa, dict) and tfa.get("pending") is True:
        return verified(TwoFactorMode.PENDING)
    if isinstance(tfa, (list, str)):
        # A recovery-code list or an otpauth:// string: the account is mid-way through setup.
        return verified(TwoFactorMode.PENDING)
    if token is not None and token.found and token.bypass_2fa is True:
        return OwnerProfile(
            name,
            None,
            Gap(
                f"maintainer {name}",
                f"{result.endpoint} reports no 2FA, but the audit's token bypasses 2FA and "
                f"npm answers such tokens with tfa: false regardless; read the profile "
                f"with a session token (npm-guard attest) instead",
                Severity.WARNING,
            ),
            registry,
        )
    unknown = _why_token_type_unknown(token)
    if unknown is None:
        return verified(TwoFactorMode.DISABLED)
    detail = (
        f"{source} reports 2FA disabled, but it was read with a token of unknown type "
        f"({unknown}); npm may answer granular access tokens with tfa: false whatever "
        f"the account has, so only a session token from npm login makes that answer "
        f"evidence: run npm-guard attest with one"
    )
    short = "none (profile read with a token of unknown type)"
    return OwnerProfile(
        name, Evidence(EvidenceKind.NONE, TwoFactorMode.UNKNOWN, detail, short), registry=registry
    )


def _why_token_type_unknown(token: TokenFacts | None) -> str | None:
    """None when `token` is a session token or a granular one that does not bypass 2FA."""
    if token is None or token.kind is TokenKind.UNKNOWN:
        return "the token list did not say which token it is"
    if token.kind is TokenKind.GRANULAR and token.bypass_2fa is None:
        return "the token list does not say whether it bypasses 2FA"
    return None


def _person_name(value: object) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("name"), str) and value["name"]:
        return str(value["name"])
    return None


def version_facts(packument: Mapping[str, Any]) -> tuple[VersionFacts, ...]:
    """Every version of a (validated) full packument, oldest publish first."""
    times: Mapping[str, Any] = packument.get("time") or {}
    facts: list[VersionFacts] = []
    for key, doc in packument["versions"].items():
        user = doc.get("_npmUser") if isinstance(doc.get("_npmUser"), dict) else None
        trusted = user.get("trustedPublisher") if user else None
        approver = _person_name(user.get("approver")) if user else None
        approver = approver or _person_name(doc.get("approver"))
        attestations = (doc.get("dist") or {}).get("attestations") or {}
        published = times.get(key)
        facts.append(
            VersionFacts(
                version=str(doc.get("version") or key),
                published=published if isinstance(published, str) else None,
                publisher=_person_name(user),
                trusted_publisher=str(trusted["id"]) if isinstance(trusted, dict) else None,
                approver=approver,
                provenance=isinstance(attestations.get("provenance"), dict),
            )
        )
    # Stable: versions without a time keep their document order, ahead of timed ones.
    facts.sort(key=lambda v: _sortable_time(v.published))
    return tuple(facts)


def _sortable_time(value: str | None) -> float:
    parsed = parse_time(value)
    return parsed.timestamp() if parsed else float("-inf")


def parse_time(value: str | None) -> datetime.datetime | None:
    """An ISO 8601 time from the registry as an aware datetime, or None."""
    if not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _maintainer_names(packument: Mapping[str, Any]) -> tuple[str, ...] | None:
    people = packument.get("maintainers")
    if people is None:
        latest = (packument.get("dist-tags") or {}).get("latest")
        doc = packument["versions"].get(latest) if isinstance(latest, str) else None
        people = doc.get("maintainers") if isinstance(doc, dict) else None
    if people is None:
        return None
    names = [n for n in (_person_name(p) for p in people) if n]
    return tuple(dict.fromkeys(names))


def attestations_on(
    policy: Policy, registry: str, default_registry: str
) -> tuple[Attestation, ...]:
    """The policy's attestations that speak for accounts on `registry`.

    An attestation names its registry; one without counts on the project's default
    registry only, never on a registry that publishConfig or a scope picks.
    """
    return tuple(
        a for a in policy.attestations if same_registry(a.registry or default_registry, registry)
    )


def account_evidence(
    name: str,
    *,
    owner: OwnerProfile | None,
    policy: Policy,
    today: datetime.date,
    approvals: Mapping[str, Sequence[str]],
    registry: str,
    default_registry: str,
) -> Evidence:
    """The strongest 2FA evidence for `name` on `registry`: own profile, attestation,
    approval, none."""
    key = name.lower()
    own: Evidence | None = None  # the own profile's answer, when it is not evidence
    if (
        owner is not None
        and owner.evidence is not None
        and (owner.name or "").lower() == key
        and owner.registry is not None
        and same_registry(owner.registry, registry)
    ):
        if owner.evidence.kind is EvidenceKind.PROFILE:
            return owner.evidence
        own = owner.evidence
    attested = attestations_on(policy, registry, default_registry)
    valid = [a for a in attested if a.maintainer == name and a.valid_on(today)]
    attestation = max(valid, key=lambda a: a.date) if valid else None
    if attestation is not None:
        mode = TwoFactorMode(attestation.mode)
        detail = (
            f"self-attested with npm-guard attest on {attestation.date.isoformat()}, "
            f"valid until {attestation.expires.isoformat()}"
        )
        short = f"self-attested, until {attestation.expires.isoformat()}"
        return Evidence(EvidenceKind.ATTESTATION, mode, detail, short)
    approved = approvals.get(key)
    if approved:
        shown = ", ".join(approved[:3]) + (" …" if len(approved) > 3 else "")
        return Evidence(
            EvidenceKind.APPROVAL,
            TwoFactorMode.UNKNOWN,
            f"approved the staged publish of {shown} (an interactive 2FA challenge)",
            f"approved staged publish {approved[0]}",
        )
    expired = [a for a in attested if a.maintainer.lower() == key]
    if expired:
        last = max(expired, key=lambda a: a.expires)
        when = "expired on" if last.expires <= today else "is dated in the future:"
        stamp = last.expires.isoformat() if last.expires <= today else last.date.isoformat()
        return Evidence(
            EvidenceKind.NONE,
            TwoFactorMode.UNKNOWN,
            f"no evidence: the self-attestation {when} {stamp}",
            f"none (attestation {'expired' if last.expires <= today else 'dated'} {stamp})",
        )
    return own or NO_EVIDENCE


# Publishing access: `GET /-/package/{name}/access`. npm documents no GET there (its
# OpenAPI `access.yaml` has POST only, and libnpmaccess can only set it); pnpm's
# `pnpm access get status` reads this answer, and npm's `npm access set mfa=…` sets the
# two fields it is read for (libnpmaccess `setMfa`: publish = requires 2FA and
# automation tokens may not override it; automation = they may). Undocumented: any
# answer but one that matches the schema is "unknown", never a failure.


def access_facts(result: FetchResult) -> PublishingAccess:
    """What the package's publishing access says, from a validated answer or a failure."""
    if isinstance(result, FetchFailure):
        return PublishingAccess(
            AccessState.UNKNOWN,
            result.endpoint,
            f"{result.reason} (the endpoint is undocumented; unknown is not a failure)",
        )
    data: Mapping[str, Any] = result.data
    required = data["publish_requires_tfa"]
    override = data.get("automation_token_overrides_tfa")
    said = f"publish_requires_tfa: {str(required).lower()}"
    if override is not None:
        said += f", automation_token_overrides_tfa: {str(override).lower()}"
    if not required:
        state = AccessState.NOT_REQUIRED
    elif override is False:
        state = AccessState.TWO_FACTOR_NO_TOKENS
    elif override is True:
        state = AccessState.TWO_FACTOR_OR_TOKEN
    else:
        state = AccessState.TWO_FACTOR_TOKENS_UNSAID
    return PublishingAccess(state, result.endpoint, said)


def package_setting_evidence(access: PublishingAccess, own: Evidence) -> Evidence:
    """A pass for every account of a package that requires 2FA and refuses tokens: a
    human publish needs 2FA whatever the account's own setting, and everything else goes
    through trusted publishing. The account's own evidence stays in the detail."""
    detail = (
        f"the package requires 2FA for every publish and refuses tokens ({access.endpoint}: "
        f"{access.detail}), so every human publish needs 2FA and the rest goes through "
        f"trusted publishing; own evidence: {own.detail}"
    )
    return Evidence(
        EvidenceKind.PACKAGE_SETTING, own.mode, detail, "package requires 2FA, refuses tokens"
    )


def status_facts(
    name: str, answers: Sequence[tuple[str, FetchResult]]
) -> tuple[VersionStatus, ...]:
    """Recent versions' status from `GET …/version/{v}/status`; an answer for another
    package or version, or a failure, is unknown (never a failure of the audit)."""
    statuses = []
    for version, result in answers:
        if isinstance(result, FetchFailure):
            reason = result.reason
            if result.status == 404:
                reason += " (npm answers 404 when the token has no publish access)"
            elif result.status == 403:
                reason += " (npm answers 403 when version status is not enabled for the package)"
            statuses.append(VersionStatus(version, None, result.endpoint, reason))
            continue
        data: Mapping[str, Any] = result.data
        if data["packageName"] != name or data["version"] != version:
            statuses.append(
                VersionStatus(
                    version, None, result.endpoint, "the answer is about another package or version"
                )
            )
            continue
        statuses.append(VersionStatus(version, VersionState(data["status"]), result.endpoint))
    return tuple(statuses)


def package_facts(
    target: PackageTarget,
    *,
    packument: FetchResult,
    collaborators: FetchResult | None,
    owner: OwnerProfile | None,
    policy: Policy,
    policy_path: str | None,
    today: datetime.date,
    default_registry: str,
    fallback: Location,
    access: FetchResult | None = None,
    statuses: Sequence[tuple[str, FetchResult]] | None = None,
) -> PackageFacts:
    """All facts about one package; `collaborators`, `access` or `statuses` None means
    not asked.

    `policy_path` is the policy file as findings show it (relative to the root);
    `default_registry` is the project's, where attestations without a registry count;
    `fallback` is where findings go without a manifest or a policy file.
    """
    entry = policy.package_policy(target.name)
    settings = policy.audit
    location = _package_location(target, policy_path, entry.line if entry else 0, fallback)
    gaps: list[Gap] = []
    publishing = access_facts(access) if access is not None else None
    version_statuses = status_facts(target.name, statuses) if statuses is not None else None
    if isinstance(packument, FetchFailure):
        gaps.append(
            Gap(
                "packument",
                f"{packument.endpoint}: {packument.reason}; maintainers, publishers and "
                f"provenance of {target.name} are not checked",
            )
        )
        return PackageFacts(
            target.name,
            target.registry,
            location,
            entry,
            settings,
            None,
            None,
            gaps=tuple(gaps),
            access=publishing,
        )
    doc: Mapping[str, Any] = packument.data
    if doc["name"] != target.name:
        gaps.append(
            Gap(
                "packument",
                f"{packument.endpoint}: the registry answered with the document of "
                f"{doc['name']!r}, not {target.name!r}",
            )
        )
        return PackageFacts(
            target.name,
            target.registry,
            location,
            entry,
            settings,
            None,
            None,
            gaps=tuple(gaps),
            access=publishing,
        )
    maintainers = _maintainer_names(doc)
    if maintainers is None:
        gaps.append(
            Gap(
                "maintainers",
                f"{packument.endpoint}: the packument lists no maintainers (this registry "
                f"does not record them), so who can publish {target.name} is unknown",
            )
        )
    elif not maintainers:
        # Every published package has a maintainer: a registry that names none tells
        # nothing, and nothing is not a pass.
        gaps.append(
            Gap(
                "maintainers",
                f"{packument.endpoint}: the packument's list of maintainers is empty, so who "
                f"can publish {target.name} is unknown",
            )
        )
    collab_map: dict[str, str] | None = None
    if isinstance(collaborators, FetchFailure):
        gaps.append(
            Gap(
                "collaborators",
                f"{collaborators.endpoint}: {collaborators.reason}; accounts with write access "
                f"through teams or collaborator grants are not checked",
                Severity.WARNING,
            )
        )
    elif collaborators is not None:
        collab_map = {str(k): str(v) for k, v in collaborators.data.items()}
    versions = version_facts(doc)
    recent = versions[-settings.recent_versions :] if settings.recent_versions > 0 else ()
    unrecorded = [v.version for v in recent if v.publisher is None and not v.trusted_publisher]
    if unrecorded:
        expects = entry is not None and (entry.trusted is not None or entry.accounts is not None)
        gaps.append(
            Gap(
                "publishers",
                f"{packument.endpoint}: {len(unrecorded)} of the {len(recent)} most recent "
                f"versions have no _npmUser (this registry does not record who published "
                f"them), so their publishers are not checked",
                None if expects else Severity.WARNING,
            )
        )

    approvals: dict[str, list[str]] = {}
    for version in reversed(versions):
        if version.approver:
            approvals.setdefault(version.approver.lower(), []).append(version.version)
    roles: dict[str, list[str]] = {}
    display: dict[str, str] = {}

    def add(name: str, role: str) -> None:
        display.setdefault(name.lower(), name)
        bucket = roles.setdefault(name.lower(), [])
        if role not in bucket:
            bucket.append(role)

    for name in maintainers or ():
        add(name, "maintainer")
    for name, permission in (collab_map or {}).items():
        if permission == "write":
            add(name, "collaborator (write)")
    published: dict[str, list[str]] = {}
    for version in reversed(recent):
        if version.publisher and not version.trusted_publisher:
            published.setdefault(version.publisher, []).append(version.version)
    for name, shipped in published.items():
        shown = ", ".join(shipped[:3]) + (" …" if len(shipped) > 3 else "")
        add(name, f"published {shown}")
    accounts = []
    for key, role_list in roles.items():
        evidence = account_evidence(
            display[key],
            owner=owner,
            policy=policy,
            today=today,
            approvals=approvals,
            registry=target.registry,
            default_registry=default_registry,
        )
        if publishing is not None and publishing.proves_2fa:
            evidence = package_setting_evidence(publishing, evidence)
        accounts.append(Account(display[key], tuple(role_list), evidence))
    return PackageFacts(
        name=target.name,
        registry=target.registry,
        location=location,
        policy=entry,
        settings=settings,
        maintainers=maintainers,
        collaborators=collab_map,
        versions=versions,
        recent=tuple(recent),
        accounts=tuple(accounts),
        gaps=tuple(gaps),
        access=publishing,
        statuses=version_statuses,
    )


def _package_location(
    target: PackageTarget, policy_path: str | None, entry_line: int, fallback: Location
) -> Location:
    """The package's package.json, else its policy entry (or the policy file), else
    `fallback`."""
    if target.manifest is not None:
        return Location(target.manifest, target.line)
    if policy_path is not None:
        return Location(policy_path, max(entry_line, 1))
    return fallback
