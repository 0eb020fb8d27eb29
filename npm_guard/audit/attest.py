"""`npm-guard attest`: a maintainer vouches for their own 2FA mode, read from their profile.

Run locally with the maintainer's own npm login (the `_authToken` npm keeps for the
registry in the user config) or a token in `--token-env`. It reads
`GET /-/npm/v1/user` and writes an attestation entry (maintainer, mode, date, expiry,
and the registry it was read from) for the policy file. It refuses when 2FA is off,
its setup is pending, or it is `auth-only` while the policy requires
`auth-and-writes`. Attestations stay marked as self-attested in every report: they
are only as good as the review of the commit that adds them.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable, Mapping
from typing import Any, TextIO, Union

from npm_guard import console
from npm_guard.errors import NpmGuardError

# Where attest prints: console.STDOUT / console.STDERR, or a file object (tests).
Stream = Union[str, TextIO]

MAX_DAYS = 365
_ATTESTATIONS_KEY_RE = re.compile(r"^attestations:[ \t]*(?:#.*)?$")
_EMPTY_ATTESTATIONS_RE = re.compile(r"^attestations:[ \t]*\[[ \t]*\][ \t]*(?:#.*)?$")
_ITEM_RE = re.compile(r"^([ \t]*)- ")
_PLAIN_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def user_config_path(env: Mapping[str, str]) -> str:
    """npm's user config: `$NPM_CONFIG_USERCONFIG` (any case), else `~/.npmrc`."""
    for name in ("NPM_CONFIG_USERCONFIG", "npm_config_userconfig"):
        if env.get(name):
            return env[name]
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".npmrc")


def login_token(registry: str, env: Mapping[str, str]) -> str | None:
    """The `_authToken` npm would send to `registry`, from the user config.

    npm looks the key up by the registry's nerf-dart, then by each parent path.
    """
    from npm_guard.npmrc import nerf_dart, read_npm_config

    values = read_npm_config(user_config_path(env), env)
    scope = nerf_dart(registry)
    while scope.startswith("//"):
        value = values.get(f"{scope}:_authToken")
        if isinstance(value, str) and value and "${" not in value:
            return value
        if scope.count("/") <= 3:  # "//host/" is the last one
            break
        scope = scope[: scope.rstrip("/").rfind("/") + 1]
    return None


def _default_registry(root: str, env: Mapping[str, str], token_env: str | None) -> str:
    """The project `.npmrc`'s `registry`, or npm's; refused (NpmGuardError) when that URL
    would carry a credential or a variable's value to where the login is sent."""
    from npm_guard.audit.workspace import registry_settings
    from npm_guard.constants import NPMJS_REGISTRY

    secrets = [env[token_env]] if token_env and env.get(token_env) else []
    setting = registry_settings(root, env, token_env=token_env, secrets=secrets).get("")
    if setting is None:
        return NPMJS_REGISTRY
    why = setting.refusal
    if why is None and setting.expands_into_path:
        why = (
            f"`{setting.key}` expands a variable into the user info, path or query of its "
            f"URL, and npm-guard puts no variable's value into a URL that carries a login"
        )
    if why is not None:
        raise NpmGuardError(f".npmrc: {why}; name the registry with --registry")
    return setting.url


def without_userinfo(url: str) -> str:
    """`url` without `user:password@`: an attestation names a registry, not a login."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def attestation_entry(
    name: str, mode: str, today: datetime.date, days: int, registry: str | None = None
) -> str:
    """The YAML list item for `attestations:` (indented for a top-level list).

    `registry` binds the attestation to the registry whose account was read: the same
    user name on another registry is another account.
    """
    import json

    shown = name if _PLAIN_NAME_RE.match(name) else '"' + name.replace('"', '\\"') + '"'
    expires = today + datetime.timedelta(days=days)
    entry = (
        f"  - maintainer: {shown}\n"
        f"    mode: {mode}\n"
        f'    date: "{today.isoformat()}"\n'
        f'    expires: "{expires.isoformat()}"\n'
    )
    if registry is not None:
        entry += f"    registry: {json.dumps(registry)}\n"  # a JSON string is YAML too
    return entry


def add_to_policy_text(text: str, entry: str) -> str:
    """`text` of a policy file with `entry` appended to its `attestations:` list."""
    if not text.strip():
        return "version: 1\n\nattestations:\n" + entry  # a new policy file
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    for i, line in enumerate(lines):
        if _EMPTY_ATTESTATIONS_RE.match(line.rstrip("\r\n")):
            lines[i] = "attestations:\n" + entry
            return "".join(lines)
        if not _ATTESTATIONS_KEY_RE.match(line.rstrip("\r\n")):
            continue
        end = i + 1
        indent = None
        for j in range(i + 1, len(lines)):
            body = lines[j].rstrip("\r\n")
            if not body.strip() or body.lstrip().startswith("#"):
                continue
            if body[0] in " \t" or body.startswith("- "):
                item = _ITEM_RE.match(body)
                if item is not None and indent is None:
                    indent = item.group(1)
                end = j + 1
                continue
            break
        if indent is not None and indent != "  ":
            entry = "".join(
                indent + line[2:] if line.startswith("  ") else line
                for line in entry.splitlines(keepends=True)
            )
        lines[end:end] = [entry]
        return "".join(lines)
    separator = "" if not lines or lines[-1].strip() == "" else "\n"
    return "".join(lines) + separator + "attestations:\n" + entry


def attest(
    *,
    root: str,
    env: Mapping[str, str],
    registry: str | None,
    policy_path: str | None,
    token_env: str | None,
    days: int,
    write: bool,
    out: Stream,
    err: Stream,
    trace: Callable[[str], None] | None = None,
    today: datetime.date | None = None,
    client_options: Mapping[str, Any] | None = None,
) -> int:
    """Read the caller's own profile and print or record their attestation; exit code."""
    from npm_guard.audit.client import FetchFailure, RegistryClient
    from npm_guard.audit.registry_urls import normalise_registry, profile_url
    from npm_guard.policy import POLICY_FILE
    from npm_guard.policy_load import load_policy, parse_policy
    from npm_guard.policy_load import policy_path as find_policy

    if not 1 <= days <= MAX_DAYS:
        raise NpmGuardError(f"--days must be between 1 and {MAX_DAYS}")
    target = normalise_registry(registry or _default_registry(root, env, token_env))
    if token_env is not None:
        token = env.get(token_env) or None
        if token is None:
            raise NpmGuardError(f"${token_env} is not set")
    else:
        token = login_token(target, env)
        if token is None:
            raise NpmGuardError(
                f"no npm login for {target} in {user_config_path(env)}: run "
                f"`npm login --registry {target}` first, or pass --token-env NAME"
            )
    console.register_secrets([token])  # no line printed from here on may show it
    policy = load_policy(policy_path, root)
    required = policy.audit.require_2fa
    with RegistryClient(
        token=token, token_registry=target, trace=trace, **(client_options or {})
    ) as client:
        result = client.get_json(profile_url(target), "profile")
    if isinstance(result, FetchFailure):
        raise NpmGuardError(f"cannot read your profile: {result.endpoint}: {result.reason}")
    name = str(result.data["name"])
    tfa = result.data.get("tfa")
    refusal = None
    mode = None
    if isinstance(tfa, dict) and tfa.get("pending") is False and tfa.get("mode"):
        mode = str(tfa["mode"])
        if mode == "auth-only" and required == "auth-and-writes":
            refusal = (
                f"{name} has 2FA in auth-only mode and the policy requires auth-and-writes: "
                f"switch with `npm profile enable-2fa auth-and-writes` (or on npmjs.com), "
                f"then attest"
            )
    elif (isinstance(tfa, dict) and tfa.get("pending") is True) or isinstance(tfa, (list, str)):
        refusal = f"{name} started 2FA setup and has not finished it: 2FA is not enabled"
    else:
        refusal = (
            f"2FA is disabled on {name}: turn it on (a security key on npmjs.com, or "
            f"`npm profile enable-2fa auth-and-writes`), then attest"
        )
    if refusal is not None or mode is None:
        console.write(f"npm-guard: refusing to attest: {refusal}\n", err, secrets=[token])
        return 1
    day = today or datetime.date.today()
    entry = attestation_entry(name, mode, day, days, without_userinfo(target))
    if not write:
        console.write("# add to attestations: in " + POLICY_FILE + "\n" + entry, out)
        return 0
    path = find_policy(policy_path, root) or os.path.join(root, POLICY_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = ""
    except OSError as error:
        raise NpmGuardError(f"cannot read {path}: {error.strerror}") from error
    updated = add_to_policy_text(text, entry)
    parse_policy(updated, path)  # never write a policy file the loader would refuse
    from npm_guard.atomic_write import replace_file

    # Never through a link the repository committed that leads out of it.
    replace_file(path, updated, tree=root)
    console.write(f"npm-guard: added the attestation of {name} ({mode}) to {path}\n", err)
    return 0
