"""What the online audit knows about each package and about its own token.

Plain data, gathered by `npm_guard.audit.evidence` from validated registry responses
and read by the online rules. Nothing here touches the network, the environment or the
clock: "today" and "now" are fields, so rules stay pure and tests stay deterministic.
Every fact that could not be established is either `None` (unknown) or a `Gap`, never
a guess, so "registry unreachable" can never read as "2FA disabled".
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from enum import Enum

from npm_guard._record import dataclass, field
from npm_guard.findings import Location, Severity
from npm_guard.policy import AuditSettings, PackagePolicy, TokenSpec


class TwoFactorMode(str, Enum):
    """A 2FA state as evidence shows it."""

    AUTH_AND_WRITES = "auth-and-writes"
    AUTH_ONLY = "auth-only"
    DISABLED = "disabled"
    PENDING = "pending"  # setup started, never finished: not enabled
    UNKNOWN = "unknown"


class EvidenceKind(str, Enum):
    """Where a 2FA statement comes from, strongest first."""

    # The package requires 2FA for every publish and refuses tokens (its publishing
    # access, GET /-/package/{name}/access): no human publishes it without 2FA.
    PACKAGE_SETTING = "package setting"
    PROFILE = "own profile"  # GET /-/npm/v1/user read with the account's own credential
    ATTESTATION = "self-attested"  # `npm-guard attest` entry in the policy file
    APPROVAL = "staged-publish approval"  # `_npmUser.approver`: an interactive 2FA challenge
    NONE = "none"


class Verdict(str, Enum):
    """The 2FA verdict for one publishing account under the policy's requirement."""

    PASS = "pass"
    AUTH_ONLY = "auth-only"
    DISABLED = "disabled"
    PROVEN_MODE_UNKNOWN = "2FA proven, mode unknown"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Evidence:
    kind: EvidenceKind
    mode: TwoFactorMode
    detail: str  # what exactly the evidence is, for messages
    short: str = ""  # the same in a few words, for tables; defaults to the kind

    @property
    def label(self) -> str:
        return self.short or self.kind.value


NO_EVIDENCE = Evidence(EvidenceKind.NONE, TwoFactorMode.UNKNOWN, "no evidence", "none")


def verdict(evidence: Evidence, required: str) -> Verdict:
    """What `evidence` means under a policy that requires 2FA mode `required`."""
    if evidence.kind is EvidenceKind.PACKAGE_SETTING:
        return Verdict.PASS  # whatever the account's own mode: the package demands 2FA
    mode = evidence.mode
    if mode is TwoFactorMode.AUTH_AND_WRITES:
        return Verdict.PASS
    if mode is TwoFactorMode.AUTH_ONLY:
        return Verdict.PASS if required == "auth-only" else Verdict.AUTH_ONLY
    if mode in (TwoFactorMode.DISABLED, TwoFactorMode.PENDING):
        return Verdict.DISABLED
    if evidence.kind is EvidenceKind.APPROVAL:
        return Verdict.PASS if required == "auth-only" else Verdict.PROVEN_MODE_UNKNOWN
    return Verdict.UNVERIFIED


@dataclass(frozen=True)
class Account:
    """A human account that can publish the package, or recently did."""

    name: str
    roles: tuple[str, ...]  # "maintainer", "collaborator (write)", "published 1.2.0"
    evidence: Evidence

    @property
    def can_publish(self) -> str:
        return ", ".join(self.roles)


@dataclass(frozen=True)
class VersionFacts:
    """How one version was published, from the full packument."""

    version: str
    published: str | None  # ISO time from `time`, if the registry gave one
    publisher: str | None  # `_npmUser.name`; None when the registry records no publisher
    trusted_publisher: str | None  # `_npmUser.trustedPublisher.id` ("github", "gitlab", …)
    approver: str | None  # who approved a staged publish with 2FA
    provenance: bool  # `dist.attestations.provenance` present

    @property
    def trust_level(self) -> int:
        """2 trusted publishing, 1 provenance only, 0 neither (pnpm's no-downgrade order)."""
        if self.trusted_publisher:
            return 2
        return 1 if self.provenance else 0

    @property
    def how(self) -> str:
        """How the version was published, in words."""
        if self.trusted_publisher:
            how = f"trusted publishing ({self.trusted_publisher})"
        elif self.publisher:
            how = f"a token or session of {self.publisher}"
        else:
            how = "an unrecorded publisher"
        if self.provenance:
            how += " with provenance"
        if self.approver:
            how += f", staged and approved by {self.approver}"
        return how


@dataclass(frozen=True)
class Gap:
    """Something the audit could not verify; becomes an `audit-incomplete` finding."""

    subject: str  # "packument", "collaborators", "maintainer alice", "token NPM_TOKEN"
    reason: str  # names the endpoint where one was involved; never a credential
    severity: Severity | None = None  # None: the rule's default (error)


class AccessState(str, Enum):
    """A package's publishing access, as `GET /-/package/{name}/access` answers."""

    TWO_FACTOR_NO_TOKENS = "requires 2FA, refuses tokens"  # npm access set mfa=publish
    TWO_FACTOR_OR_TOKEN = "requires 2FA or a bypass-2FA token"  # mfa=automation
    TWO_FACTOR_TOKENS_UNSAID = "requires 2FA; whether tokens are refused is not said"
    NOT_REQUIRED = "does not require 2FA"  # mfa=none
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PublishingAccess:
    """What the undocumented access endpoint said about a package, or why it said nothing."""

    state: AccessState
    endpoint: str
    detail: str = ""  # the fields it answered with, or why the answer is unknown

    @property
    def proves_2fa(self) -> bool:
        return self.state is AccessState.TWO_FACTOR_NO_TOKENS


class VersionState(str, Enum):
    """`GET /-/package/{name}/version/{version}/status` (npm's OpenAPI)."""

    PUBLISHED = "published"
    VALIDATING = "validating"
    STAGED = "staged"
    BLOCKED = "blocked"
    DELETED = "deleted"


@dataclass(frozen=True)
class VersionStatus:
    """One recent version's status, or why it is unknown (`state` None)."""

    version: str
    state: VersionState | None
    endpoint: str
    reason: str = ""


@dataclass(frozen=True)
class PackageFacts:
    """Everything the audit established about one package."""

    name: str
    registry: str
    location: Location  # its package.json, else its policy entry, else a file that exists
    policy: PackagePolicy | None
    settings: AuditSettings
    maintainers: tuple[str, ...] | None  # None: unknown
    collaborators: Mapping[str, str] | None  # user → "read"/"write"; None: not visible
    versions: tuple[VersionFacts, ...] = ()  # every version, oldest publish first
    recent: tuple[VersionFacts, ...] = ()  # the last `settings.recent_versions` of them
    accounts: tuple[Account, ...] = ()
    gaps: tuple[Gap, ...] = ()
    access: PublishingAccess | None = None  # None: not asked (no token for this registry)
    # Recent versions' status, newest first; None: not asked. Asking stops at the first
    # answer that is not a status, so it may hold fewer than the recent versions.
    statuses: tuple[VersionStatus, ...] | None = None

    def verdicts(self) -> list[tuple[Account, Verdict]]:
        return [(a, verdict(a.evidence, self.settings.require_2fa)) for a in self.accounts]


class TokenKind(str, Enum):
    """What kind of token the audit holds, as far as the account's token list tells."""

    SESSION = "session"  # not in the token list: npm login's session token (never listed)
    GRANULAR = "granular"  # exactly one entry of the token list
    UNKNOWN = "unknown"  # the list could not be read, or more than one entry matches


@dataclass(frozen=True)
class TokenFacts:
    """The properties of the token the audit holds, from the account's token list."""

    env: str  # the environment variable it came from
    redacted: str  # as npm's token list shows it; never the token
    registry: str
    location: Location  # the policy's token entry, else the policy file or package.json, or .
    spec: TokenSpec | None  # the policy's declaration for `env`, if any
    checked_at: datetime.datetime
    found: bool = False
    kind: TokenKind = TokenKind.UNKNOWN
    readonly: bool | None = None  # None: unknown
    # Read-write, but only to stage releases for a maintainer to approve with 2FA
    # (`publish_policy: stage_only`); False: it publishes directly; None: not said.
    stage_only: bool | None = None
    cidr: tuple[str, ...] | None = None  # () no allow-list; None unknown
    bypass_2fa: bool | None = None
    expiry_known: bool = False
    expiry: datetime.datetime | None = None  # None with expiry_known: never expires
    created: datetime.datetime | None = None
    gaps: tuple[Gap, ...] = ()

    @property
    def subject(self) -> str:
        return f"token {self.env} ({self.redacted})"

    @property
    def publishes_directly(self) -> bool:
        """It may publish a version without staging it, as far as the token list says
        (a read-write token whose list entry does not say stage-only counts)."""
        return self.readonly is False and self.stage_only is not True


def same_registry(one: str, other: str) -> bool:
    """Two registry URLs name the same registry: scheme and host in any case, one `/`,
    whatever `user:password@` either carries."""
    from urllib.parse import urlsplit

    a, b = urlsplit(one.strip()), urlsplit(other.strip())
    return (a.scheme.lower(), a.netloc.rpartition("@")[2].lower(), a.path.rstrip("/")) == (
        b.scheme.lower(),
        b.netloc.rpartition("@")[2].lower(),
        b.path.rstrip("/"),
    )


@dataclass(frozen=True)
class AuditFacts:
    """The input of every online rule."""

    packages: tuple[PackageFacts, ...]
    token: TokenFacts | None = None
    gaps: tuple[Gap, ...] = ()  # run-wide gaps (the token owner's profile)
    gap_location: Location = field(default_factory=lambda: Location("."))
    token_registry: str | None = None  # where the token went; None without a token

    @property
    def token_packages(self) -> tuple[str, ...]:
        """The audited packages on the token's registry: those the token was used for."""
        registry = self.token_registry
        if registry is None:
            return ()
        return tuple(p.name for p in self.packages if same_registry(p.registry, registry))
