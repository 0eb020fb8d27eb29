"""publish-trust-downgrade: a version published with less trust than the ones before it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.rules._online_common import package_finding

if TYPE_CHECKING:
    from npm_guard.audit.facts import AuditFacts, VersionFacts

RULE = Rule(
    id="publish-trust-downgrade",
    summary="A recent version was published with a token after earlier versions came "
    "through trusted publishing or with provenance",
    severity=Severity.ERROR,
    confidence=Confidence.MEDIUM,
    tip="This is the pattern of a stolen token: check the version now (npm view "
    "<package>@<version> _npmUser dist), revoke tokens that can publish, and set the "
    "package to require 2FA and disallow tokens so only trusted publishing remains.",
    target="online",
)

_LEVEL = {2: "trusted publishing", 1: "provenance attestations", 0: "neither"}


def check(audit: AuditFacts) -> Iterator[Finding]:
    for package in audit.packages:
        recent = {id(v) for v in package.recent}
        best: VersionFacts | None = None
        for version in package.versions:
            if version.publisher is None and not version.trusted_publisher:
                continue  # unrecorded: neither raises nor lowers the bar
            if (
                best is not None
                and version.trust_level < best.trust_level
                and id(version) in recent
            ):
                yield package_finding(
                    RULE,
                    package,
                    subject=f"version {version.version}",
                    message=f"{package.name}@{version.version} was published by "
                    f"{version.how}, after {best.version} came with "
                    f"{_LEVEL[best.trust_level]}",
                    extra={
                        "version": version.version,
                        "previous_version": best.version,
                        "publisher": version.publisher or "",
                    },
                )
            if best is None or version.trust_level >= best.trust_level:
                best = version
