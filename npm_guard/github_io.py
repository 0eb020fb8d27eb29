"""Everything npm-guard says to and hears from GitHub Actions, in one place.

Inputs arrive as `GHA_NPM_GUARD_*` environment variables (action.yml passes every
input through `env:`, never into a script); masks, annotations and error lines go to
stdout as workflow commands; step outputs go to `$GITHUB_OUTPUT` in the
`name<<DELIMITER` form with a random delimiter; Markdown goes to `$GITHUB_STEP_SUMMARY`
(cut to GitHub's 1 MiB), for the Action and for the CLI's job summaries alike; links to
the commit's files come from `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY` and `GITHUB_SHA`.
Nothing happens at import time: every function takes the environment mapping or the
path it works on, and the module is cheap to import (the hooks import it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from npm_guard._record import dataclass
from npm_guard.errors import NpmGuardError
from npm_guard.findings import Severity

INPUT_PREFIX = "GHA_NPM_GUARD_"
MODES = ("scan", "audit", "all", "trust")
FAIL_ON_NEVER = "never"
FAIL_ON_CHOICES = (*(s.value for s in Severity), FAIL_ON_NEVER)
# Environment variables that hold the npm token given to the Action.
TOKEN_VARIABLES = ("NPM_TOKEN", "NODE_AUTH_TOKEN")
# GitHub refuses a step summary above 1 MiB; stay under it with room for the note.
SUMMARY_LIMIT_BYTES = 1024 * 1024 - 4096
_OUTPUT_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# Only the words action.yml's own `inputs.sarif == 'true'` understands (case-insensitively,
# as GitHub compares): anything else would make the program and the upload step disagree.
_TRUE = ("true",)
_FALSE = ("false", "")


@dataclass(frozen=True)
class ActionInputs:
    """The Action's inputs, validated; names mirror action.yml."""

    mode: str = "scan"
    paths: tuple[str, ...] = (".",)
    policy: str | None = None  # None: `.npm-guard.yml` at the workspace root, if any
    packages: tuple[str, ...] = ()  # empty: the repository's non-private packages
    registry: str | None = None  # None: from .npmrc / npm's default
    fail_on: Severity | None = Severity.ERROR  # None: never fail on findings
    sarif: bool = False
    summary: bool = True
    timeout: float = 60.0  # seconds for the whole audit

    @property
    def scans(self) -> bool:
        return self.mode in ("scan", "all")

    @property
    def audits(self) -> bool:
        return self.mode in ("audit", "all")


@dataclass(frozen=True)
class Runner:
    """Where the runner wants things written, read from its environment."""

    workspace: str
    output_path: str | None
    summary_path: str | None
    temp: str | None
    debug: bool


def input_variable(name: str) -> str:
    """The variable that carries input `name`: `fail-on` → `GHA_NPM_GUARD_FAIL_ON`."""
    return INPUT_PREFIX + name.upper().replace("-", "_")


def raw_input(environ: Mapping[str, str], name: str, default: str = "") -> str:
    return environ.get(input_variable(name), default).strip()


def read_inputs(environ: Mapping[str, str]) -> ActionInputs:
    """The inputs from `GHA_NPM_GUARD_*`; a bad value is an `NpmGuardError` naming the input."""
    mode = raw_input(environ, "mode", "scan").lower() or "scan"
    if mode not in MODES:
        raise NpmGuardError(f"input 'mode': {mode!r} is not one of {', '.join(MODES)}")
    fail_on_text = raw_input(environ, "fail-on", "error").lower() or "error"
    if fail_on_text not in FAIL_ON_CHOICES:
        raise NpmGuardError(
            f"input 'fail-on': {fail_on_text!r} is not one of {', '.join(FAIL_ON_CHOICES)}"
        )
    fail_on = None if fail_on_text == FAIL_ON_NEVER else Severity(fail_on_text)
    paths = tuple(_paths(raw_input(environ, "paths", "."))) or (".",)
    for path in paths:
        if path.startswith("-"):
            raise NpmGuardError(f"input 'paths': {path!r} looks like an option, not a path")
    return ActionInputs(
        mode=mode,
        paths=paths,
        policy=raw_input(environ, "policy") or None,
        packages=tuple(_words(raw_input(environ, "packages"))),
        registry=raw_input(environ, "registry") or None,
        fail_on=fail_on,
        sarif=_boolean(environ, "sarif", "false"),
        summary=_boolean(environ, "summary", "true"),
        timeout=_seconds(environ, "timeout", "60"),
    )


def _seconds(environ: Mapping[str, str], name: str, default: str) -> float:
    text = raw_input(environ, name, default) or default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:  # also refuses nan and inf
        raise NpmGuardError(
            f"input {name!r}: {text!r} is not a number of seconds (more than 0, at most 86400)"
        )
    return value


def _words(text: str) -> list[str]:
    """Items separated by whitespace (new lines too) or commas."""
    return [word for word in re.split(r"[\s,]+", text) if word]


def _paths(text: str) -> list[str]:
    """Paths: one per line when the value has several lines (a YAML block scalar), so a
    path may hold spaces and commas; on one line, separated by whitespace or commas."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines if len(lines) > 1 else _words(text)


def _boolean(environ: Mapping[str, str], name: str, default: str) -> bool:
    text = raw_input(environ, name, default).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise NpmGuardError(f"input {name!r}: {text!r} is not true or false")


def read_runner(environ: Mapping[str, str], cwd: str) -> Runner:
    """The runner's files and directories; outside Actions the paths are None."""
    return Runner(
        workspace=environ.get("GITHUB_WORKSPACE") or cwd,
        output_path=environ.get("GITHUB_OUTPUT") or None,
        summary_path=environ.get("GITHUB_STEP_SUMMARY") or None,
        temp=environ.get("RUNNER_TEMP") or None,
        debug=environ.get("RUNNER_DEBUG") == "1",
    )


def token_values(environ: Mapping[str, str], names: Iterable[str] = TOKEN_VARIABLES) -> list[str]:
    """The non-empty values of the named variables: the secrets nothing may print."""
    values = []
    for name in names:
        value = environ.get(name, "")
        if value.strip() and value not in values:
            values.append(value)
    return values


def is_placeholder_token(value: str) -> bool:
    """A token variable that holds no token: empty, or a dummy such as the
    `XXXXX-XXXXX-XXXXX-XXXXX` actions/setup-node sets with a registry-url."""
    from npm_guard.workflow.expressions import is_placeholder_literal

    return not value.strip() or is_placeholder_literal(value)


def token_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` without the token variables that hold no token, so that no placeholder
    is ever sent to a registry as a token."""
    return {
        name: value
        for name, value in environ.items()
        if name not in TOKEN_VARIABLES or not is_placeholder_token(value)
    }


def mask_commands(value: str) -> list[str]:
    """`::add-mask::` lines that hide `value` in the log, one per line of it.

    The runner masks line by line, so a multi-line secret needs every line masked
    (and the whole value masked once would never match a log line).
    """
    from npm_guard.report.github import escape_data

    commands = []
    for line in value.splitlines():
        line = line.strip()
        if line:
            commands.append(f"::add-mask::{escape_data(line)}")
    return commands


def error_command(
    message: str, *, title: str = "npm-guard", file: str | None = None, line: int | None = None
) -> str:
    """An `::error::` line for a problem that is not a finding (bad input, internal error),
    on a file and line when there is one (a policy file problem)."""
    from npm_guard.report.github import workflow_command

    return workflow_command("error", {"file": file, "line": line, "title": title}, message)


def format_outputs(
    outputs: Mapping[str, str], new_delimiter: Callable[[], str] | None = None
) -> str:
    """Step outputs in the `name<<DELIMITER` form, each with a fresh random delimiter.

    The heredoc form keeps a value with newlines from ending early or setting a second
    output; the delimiter is random so no value can contain it by design, and is checked
    anyway.
    """
    make = new_delimiter or _random_delimiter
    chunks = []
    for name, value in outputs.items():
        if not _OUTPUT_NAME_RE.match(name):
            raise ValueError(f"not a valid output name: {name!r}")
        delimiter = make()
        while delimiter in value:
            delimiter = make()
        chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(chunks)


def _random_delimiter() -> str:
    import secrets

    return f"ghadelimiter_{secrets.token_hex(16)}"


def write_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
    """Append `outputs` to `$GITHUB_OUTPUT`; without the file (not in Actions) do nothing."""
    if path is None:
        return
    _append(path, format_outputs(outputs), "GITHUB_OUTPUT")


def fit_summary(markdown: str, limit: int = SUMMARY_LIMIT_BYTES) -> str:
    """`markdown` cut at a line boundary under `limit` bytes, saying it was cut."""
    data = markdown.encode("utf-8")
    if len(data) <= limit:
        return markdown
    cut = data[:limit].decode("utf-8", errors="ignore")
    cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else ""
    return cut + (
        "\n_The summary was cut here: GitHub keeps at most 1 MiB per step. "
        "The log and the SARIF report have every finding._\n"
    )


def append_summary(path: str | None, markdown: str) -> None:
    """Append Markdown to `$GITHUB_STEP_SUMMARY`; without the file do nothing."""
    if path is None or not markdown:
        return
    _append(path, fit_summary(markdown), "GITHUB_STEP_SUMMARY")


@dataclass(frozen=True)
class SummaryDestination:
    """Where a job summary goes: `--summary FILE` (rewritten) or the step summary (appended)."""

    path: str
    step_summary: bool

    @property
    def name(self) -> str:
        """How a report names it: `the job summary`, or the file."""
        return "the job summary" if self.step_summary else self.path


def summary_destination(
    option: str | None, environ: Mapping[str, str], *, step_summary: bool = True
) -> SummaryDestination | None:
    """`--summary FILE` if given, else `$GITHUB_STEP_SUMMARY` when it is set and
    `step_summary` allows it (the CLI's commands do, the pre-commit hooks do not)."""
    if option is not None:
        return SummaryDestination(option, step_summary=False)
    path = environ.get("GITHUB_STEP_SUMMARY") if step_summary else None
    return SummaryDestination(path, step_summary=True) if path else None


def write_summary(
    destination: SummaryDestination, markdown: str, *, tree: str | None = None
) -> None:
    """Write the summary: appended and cut to GitHub's limit for the step summary (the
    runner's file: other commands of the step append to it too), the whole file,
    replaced atomically, for `--summary FILE`.

    `tree` is the repository (default: the current directory): `--summary FILE` is
    never written through a symbolic link in it that leads out of it."""
    if destination.step_summary:
        append_summary(destination.path, markdown)
        return
    import os

    from npm_guard.atomic_write import replace_file

    replace_file(
        destination.path,
        markdown,
        tree=tree if tree is not None else os.getcwd(),
        what=f"the summary {destination.path}",
    )


PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")
GIT_TIMEOUT_SECONDS = 30


def changed_files(environ: Mapping[str, str], workspace: str) -> frozenset[str] | None:
    """The files the pull request changes, relative to `workspace`; None when the event
    is not a pull request or git cannot tell (a shallow checkout without the base).

    `git diff --name-only origin/$GITHUB_BASE_REF...HEAD`: what the head changed since
    it left the base. Never an error: without the answer annotations keep their order.
    """
    if environ.get("GITHUB_EVENT_NAME") not in PULL_REQUEST_EVENTS:
        return None
    base = environ.get("GITHUB_BASE_REF", "").strip()
    if not base:
        return None
    import os
    import subprocess

    command = [
        "git",
        "-c",
        "core.fsmonitor=false",  # the repository's config must not run a program here
        "diff",
        "--name-only",
        "--relative",
        "--no-ext-diff",
        "-z",
        f"origin/{base}...HEAD",
        "--",
    ]
    try:
        proc = subprocess.run(
            command,
            cwd=workspace,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    names = proc.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    return frozenset(name for name in names if name)


def blob_url(environ: Mapping[str, str]) -> str | None:
    """`https://github.com/OWNER/REPO/blob/SHA/` from a GitHub Actions environment, if any."""
    server = environ.get("GITHUB_SERVER_URL", "").rstrip("/")
    repository = environ.get("GITHUB_REPOSITORY", "")
    sha = environ.get("GITHUB_SHA", "")
    if not (server and repository and sha):
        return None
    return f"{server}/{repository}/blob/{sha}/"


def _append(path: str, text: str, what: str) -> None:
    """Append to a file the runner names: never through a symbolic link, never into a
    FIFO or device (see `npm_guard.atomic_write.append_file`)."""
    from npm_guard.atomic_write import append_file

    append_file(path, text, what=f"{what} ({path})")


def emit(lines: Sequence[str] | str, write: Callable[[str], object]) -> None:
    """Write workflow-command lines (or a block of text) through `write`, newline-terminated."""
    text = lines if isinstance(lines, str) else "".join(f"{line}\n" for line in lines)
    if text and not text.endswith("\n"):
        text += "\n"
    if text:
        write(text)
