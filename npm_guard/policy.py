"""The policy file `.npm-guard.yml`: its model.

Loading and validation (schema `schemas/policy.schema.json`, errors with file, line
and key) live in `npm_guard.policy_load`; everything else reads only these types.
"""

from __future__ import annotations

from collections.abc import Mapping

from npm_guard._record import dataclass, field
from npm_guard.constants import POLICY_FILE as POLICY_FILE
from npm_guard.findings import Severity

TYPE_CHECKING = False  # datetime is only named in annotations; mypy reads the branch
if TYPE_CHECKING:
    import datetime


@dataclass(frozen=True)
class IgnoreEntry:
    """`ignore:` item: silence `rule` (or `*`) for paths matching the glob `path`."""

    rule: str
    path: str
    reason: str
    line: int = 0


@dataclass(frozen=True)
class TokenSpec:
    """An npm credential kept as a CI secret, as the team declares it."""

    name: str
    permission: str  # "read-only" | "read-write" | "stage-only"
    cidr: tuple[str, ...] = ()
    max_expiry_days: int | None = None
    bypass_2fa: bool = False
    line: int = 0


@dataclass(frozen=True)
class TrustedPublisher:
    repository: str
    workflow: str | None = None
    environment: str | None = None


@dataclass(frozen=True)
class PackagePolicy:
    """`packages:` entry; `pattern` is a package name or a glob such as `@acme/*`."""

    pattern: str
    maintainers: tuple[str, ...] | None = None  # None: no restriction declared
    trusted: TrustedPublisher | None = None
    accounts: tuple[str, ...] | None = None  # accounts allowed to publish without OIDC
    provenance: str = "optional"  # "required" | "optional"
    line: int = 0

    def matches(self, package: str) -> bool:
        """`fnmatch.fnmatchcase(package, pattern)`, in time linear in the name."""
        from npm_guard.glob_match import name_glob

        return name_glob(self.pattern).matches(package)


@dataclass(frozen=True)
class AuditSettings:
    recent_versions: int = 10
    require_2fa: str = "auth-and-writes"  # "auth-and-writes" | "auth-only"
    unverified_2fa: Severity = Severity.WARNING


@dataclass(frozen=True)
class Attestation:
    """A maintainer's self-attested 2FA mode, written by `npm-guard attest`."""

    maintainer: str
    mode: str  # "auth-and-writes" | "auth-only"
    date: datetime.date
    expires: datetime.date
    line: int = 0
    registry: str | None = None  # None: the project's default registry

    def valid_on(self, today: datetime.date) -> bool:
        return self.date <= today < self.expires


@dataclass(frozen=True)
class Policy:
    """A loaded, validated policy; `Policy()` is the default when there is no file."""

    path: str | None = None
    rules: Mapping[str, Severity | None] = field(default_factory=dict)  # None means off
    ignore: tuple[IgnoreEntry, ...] = ()
    tokens: Mapping[str, TokenSpec] | None = None  # None: no inventory declared
    packages: tuple[PackagePolicy, ...] = ()
    audit: AuditSettings = AuditSettings()
    attestations: tuple[Attestation, ...] = ()

    def package_policy(self, package: str) -> PackagePolicy | None:
        """The first `packages:` entry whose name or glob matches `package`."""
        for entry in self.packages:
            if entry.matches(package):
                return entry
        return None

    def attestation_for(self, maintainer: str, today: datetime.date) -> Attestation | None:
        """The newest attestation of `maintainer` still valid on `today`."""
        valid = [a for a in self.attestations if a.maintainer == maintainer and a.valid_on(today)]
        return max(valid, key=lambda a: a.date) if valid else None
