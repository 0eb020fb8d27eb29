"""The online audit, end to end: fetch concurrently, build facts, run the online rules.

Fetching is bounded (a thread pool of `concurrency` workers over one client) and every
resource is asked for once: each package's packument, collaborators and publishing
access, the token owner's profile, the token list pages, and (with a token that may
have publish access) the status of each package's recent versions. Facts are built only
after every fetch has settled, because one package's 2FA evidence can depend on the
token's properties.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any
from urllib.parse import urljoin

from npm_guard._record import dataclass, field
from npm_guard.audit.client import FetchFailure, FetchResult, RegistryClient
from npm_guard.audit.evidence import (
    OwnerProfile,
    package_facts,
    profile_evidence,
    version_facts,
)
from npm_guard.audit.facts import AuditFacts, Gap, PackageFacts, TokenFacts
from npm_guard.audit.registry_urls import (
    access_url,
    collaborators_url,
    normalise_registry,
    package_url,
    profile_url,
    tokens_url,
    version_status_url,
)
from npm_guard.audit.token_evidence import token_facts
from npm_guard.audit.workspace import PackageTarget
from npm_guard.constants import NPMJS_REGISTRY
from npm_guard.findings import Finding, Location, Suppressed, sort_key
from npm_guard.policy import Policy

MAX_TOKEN_PAGES = 200  # npm allows 1000 tokens per account, listed 10 per page


@dataclass(frozen=True)
class AuditRequest:
    """What to audit and with what; everything the edges decided."""

    targets: Sequence[PackageTarget]
    policy: Policy
    token_env: str = "NPM_TOKEN"
    token_registry: str | None = None  # the registry the token belongs to
    # The project's default registry: where attestations without a `registry` count.
    default_registry: str | None = None
    root: str = "."
    today: datetime.date = field(default_factory=datetime.date.today)
    now: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.timezone.utc)
    )
    concurrency: int = 8
    # The whole audit's time limit in seconds (`--timeout`), for messages: the client
    # holds the deadline itself. None: no limit.
    timeout: float | None = None


@dataclass
class AuditResult:
    facts: AuditFacts
    findings: list[Finding]
    notices: list[str]
    suppressed: list[Suppressed] = field(default_factory=list)  # by the policy


def fetch_token_list(
    client: RegistryClient, registry: str
) -> list[Mapping[str, Any]] | FetchFailure:
    """Every entry of the account's token list, following `urls.next` on the same origin."""
    url = tokens_url(registry)
    entries: list[Mapping[str, Any]] = []
    seen = {url}
    for _ in range(MAX_TOKEN_PAGES):
        result = client.get_json(url, "tokens")
        if isinstance(result, FetchFailure):
            return result
        entries.extend(result.data["objects"])
        following = (result.data.get("urls") or {}).get("next")
        if not following:
            return entries
        url = urljoin(url, following)
        if url in seen:
            return FetchFailure(result.endpoint, "the token list's next page points back")
        if not client.authenticates(url):
            return FetchFailure(
                result.endpoint,
                "the token list's next page is on another host; the token is not sent there",
            )
        seen.add(url)
    return FetchFailure(url, f"the token list has more than {MAX_TOKEN_PAGES} pages")


def fetch_version_statuses(
    client: RegistryClient, registry: str, name: str, versions: Sequence[str]
) -> list[tuple[str, FetchResult]]:
    """The status of each of `versions` (newest first), until the first answer that is
    not one: npm answers 404 to a token without publish access and 403 where the
    feature is off, for every version alike, so one refusal ends the asking."""
    answers: list[tuple[str, FetchResult]] = []
    for version in versions:
        result = client.get_json(version_status_url(registry, name, version), "version-status")
        answers.append((version, result))
        if isinstance(result, FetchFailure):
            break
    return answers


def _recent_versions(packument: FetchResult, name: str, recent: int) -> list[str]:
    """The `recent` newest versions of a packument that was read, newest first."""
    if isinstance(packument, FetchFailure) or packument.data["name"] != name or recent < 1:
        return []
    return [v.version for v in reversed(version_facts(packument.data)[-recent:])]


def run_audit(
    request: AuditRequest,
    client: RegistryClient,
    *,
    token: str | None,
    progress: Callable[[int, int], None] | None = None,
) -> AuditResult:
    """Audit `request.targets` through `client`; `token` is only used to find its entry.

    Two rounds of fetching: first every packument, collaborator list and publishing
    access, the token list and the token owner's profile; then, with a token that may
    have publish access (not one the token list shows read-only), the status of each
    package's recent versions, which the first round names.
    """
    from npm_guard.policy_apply import apply_policy
    from npm_guard.rules import ONLINE_RULES

    notices: list[str] = []
    token_registry = request.token_registry or client.token_registry
    workers = max(1, min(request.concurrency, 3 * len(request.targets) + 2))
    packuments: dict[str, Future[FetchResult]] = {}
    collaborators: dict[str, Future[FetchResult]] = {}
    accesses: dict[str, Future[FetchResult]] = {}
    status_futures: dict[str, Future[list[tuple[str, FetchResult]]]] = {}
    policy_path = policy_display_path(request.policy, request.root)
    gap_location = fallback_location(request.root, policy_path)
    token_info: TokenFacts | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="npm-guard-audit") as pool:
        listing_future = profile_future = None
        if token:
            listing_future = pool.submit(fetch_token_list, client, token_registry)
            profile_future = pool.submit(client.get_json, profile_url(token_registry), "profile")
        for target in request.targets:
            if target.refusal is not None:
                continue  # its registry URL is never asked (see below)
            packuments[target.name] = pool.submit(
                client.get_json, package_url(target.registry, target.name), "packument"
            )
            url = collaborators_url(target.registry, target.name)
            if client.authenticates(url):
                collaborators[target.name] = pool.submit(client.get_json, url, "collaborators")
                accesses[target.name] = pool.submit(
                    client.get_json, access_url(target.registry, target.name), "access"
                )
        if progress is not None:
            # Counted here, in the calling thread, so the count only ever goes up.
            for done, _ in enumerate(as_completed(packuments.values()), start=1):
                progress(done, len(packuments))
        listing = listing_future.result() if listing_future else None
        profile = profile_future.result() if profile_future else None
        fetched: dict[str, FetchResult] = {name: f.result() for name, f in packuments.items()}
        collabs = {name: f.result() for name, f in collaborators.items()}
        access = {name: f.result() for name, f in accesses.items()}
        if token and listing is not None:
            token_info = _token_info(request, token, token_registry, listing, policy_path)
        read_only = token_info is not None and token_info.readonly is True
        if token and not read_only:
            for target in request.targets:
                if target.name not in collaborators:
                    continue  # not on the token's registry (or refused): never asked
                recent = request.policy.audit.recent_versions
                versions = _recent_versions(fetched[target.name], target.name, recent)
                if versions:
                    status_futures[target.name] = pool.submit(
                        fetch_version_statuses, client, target.registry, target.name, versions
                    )
        statuses = {name: f.result() for name, f in status_futures.items()}
    for target in request.targets:
        if target.refusal is not None:
            fetched[target.name] = FetchFailure(".npmrc", target.refusal)

    if not token:
        notices.append(
            f"no token in ${request.token_env}: public data only; collaborators, publishing "
            f"access, version status, the token owner's 2FA and the token's own properties "
            f"are not checked"
        )
    elif len(collaborators) < len(request.targets):
        others = sorted(t.name for t in request.targets if t.name not in collaborators)
        notices.append(
            f"collaborators and publishing access not checked for {', '.join(others)}: the "
            f"audit's token is sent only to {token_registry}, the registry it belongs to"
        )
    if token and read_only:
        notices.append(
            "version status not checked: the audit's token is read-only, as it should be, "
            "and npm shows a version's status only to a token with publish access"
        )

    owner: OwnerProfile | None = None
    run_gaps = []
    if profile is not None:
        owner = profile_evidence(profile, token_info, registry=token_registry)
        if owner.gap is not None:
            run_gaps.append(owner.gap)
    unchecked = not_checked_in_time(
        packuments=fetched,
        collaborators=collabs,
        listing=listing,
        profile=profile,
        access=access,
        statuses=statuses,
    )
    if unchecked:
        limit = (
            ""
            if request.timeout is None
            else f" of {request.timeout:g} s (--timeout, the Action's timeout input)"
        )
        run_gaps.append(
            Gap("time limit", f"the audit's time limit{limit} ran out; not checked: {unchecked}")
        )
        notices.append(
            f"the audit's time limit{limit} ran out before everything was checked; "
            f"the report says what was not (audit-incomplete)"
        )

    default_registry = normalise_registry(request.default_registry or NPMJS_REGISTRY)
    package_list: list[PackageFacts] = []
    for target in request.targets:
        facts = package_facts(
            target,
            packument=fetched[target.name],
            collaborators=collabs.get(target.name),
            owner=owner,
            policy=request.policy,
            policy_path=policy_path,
            today=request.today,
            default_registry=default_registry,
            fallback=gap_location,
            access=access.get(target.name),
            statuses=statuses.get(target.name),
        )
        package_list.append(facts)
    facts_all = AuditFacts(
        packages=tuple(package_list),
        token=token_info,
        gaps=tuple(run_gaps),
        gap_location=gap_location,
        token_registry=token_registry if token else None,
    )
    findings: list[Finding] = []
    for _rule, check in ONLINE_RULES:
        findings.extend(check(facts_all))
    suppressed: list[Suppressed] = []
    findings = sorted(apply_policy(findings, request.policy, silenced=suppressed), key=sort_key)
    return AuditResult(facts_all, findings, notices, suppressed)


def _token_info(
    request: AuditRequest,
    token: str,
    registry: str,
    listing: Sequence[Mapping[str, Any]] | FetchFailure,
    policy_path: str | None,
) -> TokenFacts:
    spec = (request.policy.tokens or {}).get(request.token_env)
    location = (
        Location(policy_path, max(spec.line, 1))
        if spec is not None and policy_path
        else fallback_location(request.root, policy_path)
    )
    return token_facts(
        token,
        env=request.token_env,
        registry=registry,
        listing=listing,
        spec=spec,
        location=location,
        now=request.now,
    )


def not_checked_in_time(
    *,
    packuments: Mapping[str, FetchResult],
    collaborators: Mapping[str, FetchResult],
    listing: object,
    profile: FetchResult | None,
    access: Mapping[str, FetchResult],
    statuses: Mapping[str, Sequence[tuple[str, FetchResult]]],
) -> str:
    """What the audit's deadline left unchecked, in words ("" when nothing): the
    resources whose fetch was never asked, or cut, because the audit's time ran out."""

    def late(result: object) -> bool:
        return isinstance(result, FetchFailure) and result.out_of_time

    parts: list[str] = []
    if late(listing):
        parts.append("the token list")
    if late(profile):
        parts.append("the token owner's profile")
    groups = [
        ("packuments (maintainers, publishers, provenance) of", packuments),
        ("collaborators of", collaborators),
    ]
    for what, results in groups:
        names = sorted(name for name, result in results.items() if late(result))
        if names:
            parts.append(f"{what} {_some(names)}")
    names = sorted(name for name, result in access.items() if late(result))
    if names:
        parts.append(f"publishing access of {_some(names)}")
    names = sorted(name for name, answers in statuses.items() if any(late(r) for _, r in answers))
    if names:
        parts.append(f"version status of {_some(names)}")
    return "; ".join(parts)


def _some(names: Sequence[str], shown: int = 5) -> str:
    """Up to `shown` names, then how many more."""
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def fallback_location(root: str, policy_path: str | None) -> Location:
    """Where findings go that have no place of their own: a file that exists.

    The policy file, else the repository's package.json, else the repository root
    itself (`.`), never a package.json that is not there.
    """
    if policy_path is not None:
        return Location(policy_path)
    if os.path.isfile(os.path.join(root, "package.json")):
        return Location("package.json")
    return Location(".")


def policy_display_path(policy: Policy, root: str) -> str | None:
    """The policy file as findings show it: relative to `root` when inside it."""
    if policy.path is None:
        return None
    path = policy.path
    if os.path.isabs(path):
        rel = os.path.relpath(path, root)
        path = path if rel.startswith("..") else rel
    return path.replace(os.sep, "/")
