"""`npm-guard audit` and `npm-guard attest`: the edges of the online audit.

This module reads the environment (the token), prints, and picks the registry; the
work happens in `run` (audit) and `attest`. `audit_repository()` is the entry point
for other front ends (the GitHub Action). Importing this module is cheap: requests and
jsonschema are only imported when a command runs.
"""

from __future__ import annotations

import argparse
import datetime
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from npm_guard.errors import NpmGuardError

if TYPE_CHECKING:
    from npm_guard.audit.run import AuditResult
    from npm_guard.audit.workspace import PackageTarget, RegistrySetting
    from npm_guard.findings import Severity
    from npm_guard.github_io import SummaryDestination
    from npm_guard.policy import Policy

DEFAULT_TOKEN_ENV = "NPM_TOKEN"
PROGRESS_THRESHOLD = 5  # more packages than this, on a terminal: show progress
DEFAULT_TIMEOUT = 60.0  # seconds for the whole audit (--timeout, the Action's `timeout`)
MAX_TIMEOUT = 86400.0


def add_audit_commands(commands: Any) -> None:
    """Add `audit` and `attest` to the CLI's sub-command parsers."""
    from npm_guard.constants import REPORT_FORMATS
    from npm_guard.frontend import add_fail_on_option

    audit = commands.add_parser(
        "audit",
        help="online audit: who can publish each package, their 2FA, publishers, the token",
        description="Audit the repository's non-private packages (the root package.json "
        "and its workspaces), or the PACKAGEs named, against the npm registry: the "
        "publishing maintainers and the evidence for their 2FA, who published recent "
        "versions and how, and what the audit's own token may do. See docs/audit.md.",
    )
    audit.add_argument("packages", nargs="*", metavar="PACKAGE")
    audit.add_argument(
        "--registry",
        metavar="URL",
        help="registry for every package (default: publishConfig.registry, the .npmrc "
        "@scope:registry or registry, else https://registry.npmjs.org/)",
    )
    audit.add_argument(
        "--policy",
        metavar="FILE",
        help="policy file (default: .npm-guard.yml in the current directory, if present)",
    )
    audit.add_argument("--format", dest="fmt", choices=REPORT_FORMATS, default="text")
    audit.add_argument(
        "--token-env",
        metavar="NAME",
        default=DEFAULT_TOKEN_ENV,
        help="environment variable holding the npm token (default: NPM_TOKEN); optional "
        "for public data; sent in a header to the token's registry only (--registry, or "
        "the one the packages use), over https, never in a URL",
    )
    add_fail_on_option(audit)
    audit.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    audit.add_argument(
        "--summary",
        metavar="FILE",
        help="also write the Markdown job summary with the verdict tables to FILE (it is "
        "appended to $GITHUB_STEP_SUMMARY whenever that is set)",
    )
    audit.add_argument(
        "--concurrency",
        type=int,
        default=8,
        metavar="N",
        help="registry requests in flight at once (default: 8)",
    )
    audit.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="time limit for the whole audit (default: 60); what is not checked by then "
        "is reported as audit-incomplete, and the report is still written",
    )
    audit.set_defaults(handler=_cmd_audit)

    attest = commands.add_parser(
        "attest",
        help="attest your own 2FA mode for the policy file, from your npm login",
        description="Read your own npm profile with your npm login (or the token in "
        "--token-env) and print the attestation entry for the policy file's "
        "attestations:, or add it with --write. Refuses when 2FA is off, pending, or "
        "auth-only under an auth-and-writes policy.",
    )
    attest.add_argument("--registry", metavar="URL", help="default: the .npmrc registry or npm's")
    attest.add_argument("--policy", metavar="FILE", help="default: .npm-guard.yml if present")
    attest.add_argument(
        "--token-env",
        metavar="NAME",
        default=None,
        help="read the token from this variable instead of your npm user config",
    )
    attest.add_argument(
        "--days",
        type=int,
        default=90,
        metavar="N",
        help="how long the attestation counts (default: 90, at most 365)",
    )
    attest.add_argument(
        "--write",
        action="store_true",
        help="add the entry to the policy file instead of printing it",
    )
    attest.set_defaults(handler=_cmd_attest)


def token_registry_for(
    targets: Sequence[PackageTarget], root: str, env: Mapping[str, str], override: str | None
) -> str:
    """The registry the token belongs to: --registry, the packages' one registry, or the default."""
    from npm_guard.audit.workspace import registry_settings

    return _token_registry(targets, registry_settings(root, env), override)[0]


def _token_registry(
    targets: Sequence[PackageTarget],
    settings: Mapping[str, RegistrySetting],
    override: str | None,
) -> tuple[str, RegistrySetting | None]:
    """(the registry the token belongs to, the `.npmrc` setting that named it, if one did):
    --registry, else the one registry every usable package uses, else the project default."""
    from npm_guard.constants import NPMJS_REGISTRY

    if override:
        return override, None
    usable = [t for t in targets if t.refusal is None]
    registries = {t.registry for t in usable}
    if len(registries) == 1:
        registry = registries.pop()
        named = [t.setting for t in usable if t.setting is not None]
        worst = next((s for s in named if s.expands_into_path), named[0] if named else None)
        return registry, worst
    default = settings.get("")
    if default is None:
        return NPMJS_REGISTRY, None
    return (NPMJS_REGISTRY if default.refusal else default.url), default


def _withheld_because(setting: RegistrySetting) -> str | None:
    """Why the token is not sent to the registry `setting` names, if it is not."""
    if setting.refusal is not None:
        return setting.refusal
    if setting.expands_into_path:
        return (
            f"`{setting.key}` expands a variable into the user info, path or query of its "
            f"URL, and npm-guard puts no variable's value into a URL that carries its token"
        )
    return None


def audit_repository(
    root: str,
    policy: Policy,
    env: Mapping[str, str],
    *,
    packages: Sequence[str] = (),
    registry: str | None = None,
    token_env: str = DEFAULT_TOKEN_ENV,
    concurrency: int = 8,
    trace: Callable[[str], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
    client_options: Mapping[str, Any] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> AuditResult:
    """Audit the repository at `root` (or `packages`) with the token in `env[token_env]`,
    within `timeout` seconds from now (None: no limit)."""
    import time

    from npm_guard._record import replace
    from npm_guard.audit.client import RegistryClient
    from npm_guard.audit.registry_urls import normalise_registry, same_origin
    from npm_guard.audit.run import AuditRequest, run_audit
    from npm_guard.audit.workspace import (
        named_packages,
        registry_settings,
        repository_packages,
    )
    from npm_guard.constants import NPMJS_REGISTRY

    if concurrency < 1 or concurrency > 64:
        raise NpmGuardError("--concurrency must be between 1 and 64")
    if timeout is not None and not 0 < timeout <= MAX_TIMEOUT:
        raise NpmGuardError(f"--timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    deadline = None if timeout is None else time.monotonic() + timeout
    override = normalise_registry(registry) if registry else None
    token = env.get(token_env) or None
    # The repository's .npmrc is untrusted: a registry URL that would carry a credential
    # is refused (audit-incomplete for its packages), never fetched.
    settings = registry_settings(root, env, token_env=token_env, secrets=[token] if token else [])
    if packages:
        targets = named_packages(packages, root, override=override, env=env, settings=settings)
    else:
        targets = repository_packages(root, override=override, env=env, settings=settings)
    targets = [
        t if t.refusal else replace(t, registry=normalise_registry(t.registry)) for t in targets
    ]
    notices: list[str] = []
    chosen, named_by = _token_registry(targets, settings, override)
    token_registry = normalise_registry(chosen)
    withheld = _withheld_because(named_by) if named_by is not None else None
    if token and withheld is not None:
        notices.append(
            f"the token in ${token_env} is not sent anywhere: {withheld}; public data only"
        )
        token = None
    if token:
        # A variable's value in the path of a URL on the token's origin would go out
        # with the token: that package's registry is refused instead.
        targets = [
            replace(t, refusal=_withheld_because(t.setting))
            if t.refusal is None
            and t.setting is not None
            and t.setting.expands_into_path
            and same_origin(t.registry, token_registry)
            else t
            for t in targets
        ]
    default = settings.get("")
    default_url = default.url if default is not None and default.refusal is None else None
    default_registry = normalise_registry(default_url or NPMJS_REGISTRY)
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    request = AuditRequest(
        targets=targets,
        policy=policy,
        token_env=token_env,
        token_registry=token_registry,
        default_registry=default_registry,
        root=root,
        today=today or moment.date(),
        now=moment,
        concurrency=concurrency,
        timeout=timeout,
    )
    options: dict[str, Any] = {"deadline": deadline}
    options.update(client_options or {})
    with RegistryClient(
        token=token,
        token_registry=token_registry,
        pool_size=concurrency,
        trace=trace,
        **options,
    ) as client:
        result = run_audit(request, client, token=token, progress=progress)
    result.notices[:0] = notices
    return result


def _load_policy(path: str | None, root: str) -> Policy:
    from npm_guard.policy_load import load_policy

    return load_policy(path, root)


def _progress_printer() -> Callable[[int, int], None]:
    """Progress on stderr, only on a terminal and for more than a handful of packages."""
    from npm_guard import console

    interactive = console.stderr_is_terminal()

    def show(done: int, total: int) -> None:
        if not interactive or total <= PROGRESS_THRESHOLD:
            return
        end = "\n" if done == total else ""
        console.write(f"\rnpm-guard: audited {done}/{total} packages{end}", console.STDERR)
        console.flush_stderr()

    return show


def _trace_printer(debug: bool) -> Callable[[str], None] | None:
    if not debug:
        return None

    import threading

    from npm_guard import console

    lock = threading.Lock()

    def trace(line: str) -> None:  # the client scrubs every line, and so does console
        with lock:
            console.err(f"npm-guard: debug: {line}")
            console.flush_stderr()

    return trace


def _cmd_audit(args: argparse.Namespace) -> int:
    from npm_guard import console
    from npm_guard.engine import exit_class, threshold
    from npm_guard.findings import Severity
    from npm_guard.frontend import emit_report, env_name, print_notice, report_written

    root = os.getcwd()
    token_env = env_name(args.token_env, "--token-env")
    token = os.environ.get(token_env) or None
    secrets = [token] if token else []
    # From here on no line printed, whatever prints it (errors too), shows the token.
    console.register_secrets(secrets)
    policy = _load_policy(args.policy, root)
    result = audit_repository(
        root,
        policy,
        os.environ,
        packages=args.packages,
        registry=args.registry,
        token_env=token_env,
        concurrency=args.concurrency,
        trace=_trace_printer(bool(getattr(args, "debug", False))),
        progress=_progress_printer(),
        timeout=args.timeout,
    )
    for notice in result.notices:
        print_notice(f"npm-guard: {notice}", args.fmt)
    from npm_guard.github_io import summary_destination

    summary = summary_destination(args.summary, os.environ)
    report = render_audit(
        args.fmt, result, secrets=secrets, summary=summary.name if summary else None
    )
    emit_report(_scrub(report, secrets), args.output, args.fmt)
    if args.output is not None:
        print_notice(report_written(args.output, args.fmt, result.findings), args.fmt)
    limit = threshold(Severity(args.fail_on) if args.fail_on else None, args.fmt)
    code = exit_class(result.findings, limit)
    if summary is not None:
        _write_summary(summary, result, limit, code != 0, secrets)
    return code


def _scrub(text: str, secrets: Sequence[str]) -> str:
    from npm_guard.secrets import scrub

    return scrub(text, list(secrets))


def render_audit(
    fmt: str, result: AuditResult, *, secrets: Sequence[str] = (), summary: str | None = None
) -> str:
    """The audit report: verdict tables then findings (text), findings plus the tables'
    data in `audit` (json), or findings only (sarif, github); `secrets` are redacted from
    each finding before any format escapes it, `summary` names the summary the run writes
    (see `npm_guard.report.render`)."""
    from npm_guard.report import render, scrub_findings, scrub_suppressed

    if fmt == "text":
        from npm_guard.audit.table import render_text_tables
        from npm_guard.report.text import format_finding

        parts = [render_text_tables(result.facts)]
        parts.extend(format_finding(f) + "\n" for f in scrub_findings(result.findings, secrets))
        parts.append(audit_summary_line(result) + "\n")
        return "".join(parts)
    if fmt == "json":
        import json

        from npm_guard.audit.table import verdict_data
        from npm_guard.report.json_report import report_dict
        from npm_guard.secrets import scrub

        report = report_dict(
            scrub_findings(result.findings, secrets),
            suppressed=scrub_suppressed(result.suppressed, secrets),
        )
        report["audit"] = verdict_data(result.facts)
        return scrub(json.dumps(report, indent=2) + "\n", list(secrets))
    return render(
        fmt,
        result.findings,
        secrets=secrets,
        summary=summary,
        suppressed=result.suppressed,
        checked=_packages_audited(result),
    )


def audit_summary_line(result: AuditResult) -> str:
    from npm_guard.report.text import findings_line

    return findings_line(result.findings, _packages_audited(result), result.suppressed)


def _packages_audited(result: AuditResult) -> str:
    count = len(result.facts.packages)
    return f"{count} package{'s' if count != 1 else ''} audited"


def audit_summary_markdown(
    result: AuditResult, *, failed: bool, threshold: Any, secrets: Sequence[str] = ()
) -> str:
    """The job summary: the shared verdict and findings, with the verdict tables added."""
    from npm_guard.audit.table import render_markdown_tables
    from npm_guard.report.summary import Verdict, count_phrase, render_summary

    return render_summary(
        result.findings,
        verdict=Verdict(failed=failed, threshold=threshold),
        extra_sections=[render_markdown_tables(result.facts)],
        title="npm-guard audit",
        checked=count_phrase(len(result.facts.packages), "package", "audited"),
        secrets=secrets,
    )


def _write_summary(
    destination: SummaryDestination,
    result: AuditResult,
    threshold: Severity | None,
    failed: bool,
    secrets: list[str],
) -> None:
    from npm_guard.github_io import write_summary

    text = audit_summary_markdown(result, failed=failed, threshold=threshold, secrets=secrets)
    write_summary(destination, _scrub(text, secrets))


def _cmd_attest(args: argparse.Namespace) -> int:
    from npm_guard import console
    from npm_guard.audit.attest import attest
    from npm_guard.frontend import env_name

    return attest(
        root=os.getcwd(),
        env=os.environ,
        registry=args.registry,
        policy_path=args.policy,
        token_env=env_name(args.token_env, "--token-env") if args.token_env else None,
        days=args.days,
        write=args.write,
        trace=_trace_printer(bool(getattr(args, "debug", False))),
        out=console.STDOUT,
        err=console.STDERR,
    )
