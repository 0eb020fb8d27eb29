"""npmrc-insecure-registry: registries over plain http, and `strict-ssl=false`."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.constants import CREDENTIAL_KEYS
from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.hosts import is_loopback
from npm_guard.npmrc import NpmrcFile, nerf_dart, split_scoped_key
from npm_guard.rules._npmrc_common import value_location
from npm_guard.secrets import redact_url

RULE = Rule(
    id="npmrc-insecure-registry",
    summary="A registry reached over plain http, or TLS verification turned off",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="Use an https:// registry URL and keep strict-ssl on; for a private CA set "
    "cafile=/path/to/ca.pem instead of strict-ssl=false.",
    target="npmrc",
)


def check(npmrc: NpmrcFile) -> Iterator[Finding]:
    entries = list(npmrc.top_level())
    credential_scopes = {
        scoped.scope
        for scoped in (split_scoped_key(e.key) for e in entries)
        if scoped.scope is not None and scoped.name in CREDENTIAL_KEYS
    }
    for entry in entries:
        value = entry.string_value
        if entry.key == "strict-ssl" and (entry.value is False or value == "false"):
            yield Finding(
                rule=RULE,
                location=value_location(npmrc, entry),
                message="strict-ssl=false turns off TLS certificate checks for every registry: "
                "anyone on the network path can serve packages and read tokens",
                key="strict-ssl",
                severity=Severity.WARNING,
            )
            continue
        if value is None or not (entry.key == "registry" or entry.key.endswith(":registry")):
            continue
        url = value.strip()
        if url[:6].lower() == "https:":
            continue  # most files: answered without importing urllib.parse and ipaddress
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme.lower() != "http" or is_loopback(parts.hostname or ""):
            continue
        scope = nerf_dart(url)
        shown = redact_url(url)  # a user:password@ in it is the other rule's finding
        sends_credentials = any(
            scope.startswith(c) or c.startswith(scope) for c in credential_scopes
        )
        if sends_credentials:
            message = (
                f"{entry.key} is plain http ({shown}) and this file has credentials "
                f"for it: the token crosses the network unencrypted"
            )
            severity = Severity.ERROR
        else:
            message = (
                f"{entry.key} is plain http ({shown}): packages can be tampered with "
                f"in transit, and any credential configured later is sent unencrypted"
            )
            severity = Severity.WARNING
        yield Finding(
            rule=RULE,
            location=value_location(npmrc, entry),
            message=message,
            key=entry.key,
            severity=severity,
            properties={"registry": shown},
        )
