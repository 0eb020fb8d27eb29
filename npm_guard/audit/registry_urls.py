"""The registry URLs the audit asks, built the way npm builds them.

A scoped name is escaped as npm's `escapedName` (`@scope%2fname`); every URL starts
from a registry normalised to one trailing slash; `same_origin` says where a request
that carries the token may go.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from npm_guard.errors import NpmGuardError


def escape_name(name: str) -> str:
    """npm's `escapedName`: only the first `/` becomes `%2f`, the `@` stays.

    urllib3 rewrites percent-escapes to upper-case hex (`%2F`); the transport below puts
    the escaped slash back in npm's lower case, so registries see what npm sends.
    """
    return name.replace("/", "%2f", 1)


def npm_request_target(target: str) -> str:
    """The request target as npm sends it: the escaped slash of a scoped name as `%2f`."""
    return target.replace("%2F", "%2f")


def normalise_registry(url: str) -> str:
    """A registry URL with exactly one trailing slash; raises NpmGuardError if unusable."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NpmGuardError(f"registry {url!r} is not an http(s) URL")
    return url.strip().rstrip("/") + "/"


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def same_origin(one: str, other: str) -> bool:
    """Scheme, host and port alike: where a request carrying the token may go."""
    return origin(one) == origin(other)


def package_url(registry: str, name: str) -> str:
    return normalise_registry(registry) + escape_name(name)


def collaborators_url(registry: str, name: str) -> str:
    return f"{normalise_registry(registry)}-/package/{escape_name(name)}/collaborators"


def access_url(registry: str, name: str) -> str:
    """The package's publishing access (undocumented GET: pnpm's `access get status`)."""
    return f"{normalise_registry(registry)}-/package/{escape_name(name)}/access"


def version_status_url(registry: str, name: str, version: str) -> str:
    """One version's lifecycle status; the version is escaped whole (it comes from the
    registry, and a `/` or `?` in it must not change the path)."""
    from urllib.parse import quote

    escaped = quote(version, safe="+")
    return f"{normalise_registry(registry)}-/package/{escape_name(name)}/version/{escaped}/status"


def profile_url(registry: str) -> str:
    return normalise_registry(registry) + "-/npm/v1/user"


def tokens_url(registry: str) -> str:
    """The first page of the token list, as npm's CLI asks for it (its own page size)."""
    return normalise_registry(registry) + "-/npm/v1/tokens"
