"""The offline scan, file by file: which files to read, and reading each safely.

Which files: directories are walked (git's list of files where there is one), each
file judged by `npm_guard.file_kinds`. Reading: through the hardened reader
(`npm_guard.repo_files`), then the file's kind turns its text into findings. The
pipeline around this (policy, `--fix`, the failure threshold) is `npm_guard.engine`.

One broken file never stops the others: every problem reading or parsing a file
becomes a `parse-error` finding for that file, and the scan goes on.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Iterator, Sequence

from npm_guard._record import dataclass, field
from npm_guard.errors import NpmGuardError
from npm_guard.file_kinds import (
    ReadContext,
    classify,
    classify_named,
    is_npmrc_path,
    kind_named,
    may_be_ours,
)
from npm_guard.findings import Confidence, Finding, Location, Suppressed, sort_key
from npm_guard.paths import display_path, find_root, is_inside
from npm_guard.repo_files import RepositoryFiles, _open_regular, read_text
from npm_guard.rules import parse_error

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.policy import Policy

CHUNK_BYTES = 1024 * 1024
CHUNK_OVERLAP = 256
SKIPPED_DIRS = frozenset({"node_modules", ".git"})


@dataclass(frozen=True)
class Target:
    """A file to scan: where it is on disk, how to show it, and what kind it is."""

    path: str
    display: str
    kind: str


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    files_scanned: int = 0
    notices: list[str] = field(default_factory=list)  # things skipped, said on stderr
    suppressed: list[Suppressed] = field(default_factory=list)  # by ignore comments


def discover(
    paths: Sequence[str],
    root: str,
    notices: list[str],
    problems: list[Finding] | None = None,
) -> Iterator[Target]:
    """Targets for the given paths: directories walked, files taken by their kind.

    A directory the walk cannot list becomes a `parse-error` in `problems` (when given):
    what is below it was not scanned, and a report must not read as a pass.
    """
    seen: set[str] = set()
    for given in paths:
        unlisted: list[tuple[str, str]] = []
        # A directory named .npmrc on the command line is a broken config file to
        # report (parse-error), not a tree to walk.
        if os.path.isdir(given) and not os.path.islink(given) and not is_npmrc_path(given):
            candidates: Iterable[str] = _walk(given, unlisted)
            tree: str | None = os.path.realpath(given)
        elif os.path.lexists(given):
            candidates = [given]
            tree = None  # named on the command line: read wherever it leads
        else:
            raise NpmGuardError(f"{given}: no such file or directory")
        for candidate in candidates:
            if tree is not None and not may_be_ours(os.path.basename(candidate)):
                continue
            # Judged by its place in the repository, not by the path as typed: from
            # `.github/`, `workflows/a.yml` is still `.github/workflows/a.yml`.
            display = display_path(candidate, root)
            kind = classify_named(display) if tree is None else classify(display)
            if kind is None:
                if tree is None:
                    notices.append(f"{display}: not an .npmrc or workflow file; skipped")
                continue
            real = os.path.realpath(candidate)
            # Every path the walk (or git) lists, not only a final-component link: a
            # directory on the way may be a link out of the tree too (`sub -> ../x`).
            if tree is not None and not is_inside(real, tree):
                where = (
                    "symbolic link" if os.path.islink(candidate) else "path through a symbolic link"
                )
                notices.append(f"{display}: {where} out of the scanned tree; not followed")
                continue
            if real in seen:
                continue
            seen.add(real)
            yield Target(candidate, display, kind)
        if problems is not None:
            problems.extend(
                parse_error.directory_finding(
                    display_path(directory, root), f"cannot list it ({reason})"
                )
                for directory, reason in unlisted
            )


def _walk(directory: str, unlisted: list[tuple[str, str]]) -> Iterator[str]:
    """The files below `directory`; directories that cannot be listed go to `unlisted`
    as (path, reason)."""
    tracked = _git_files(directory, unlisted)
    if tracked is not None:
        yield from tracked
        return

    def on_error(error: OSError) -> None:
        unlisted.append((str(error.filename), error.strerror or type(error).__name__))

    for current, dirs, files in os.walk(directory, onerror=on_error):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        # A directory where a config file belongs is reported, not silently passed.
        names = sorted(files + [d for d in dirs if is_npmrc_path(d)])
        for name in names:
            yield os.path.join(current, name)


# git lists what it can and only warns (exit 0) about a directory it cannot open.
_GIT_UNLISTED = b"could not open directory '"


def _git_unlisted(stderr: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(directory, reason) of each `could not open directory 'D': REASON` line of git.

    By hand, not `could not open directory '(.*)': (.*)$`: the directory name is the
    repository's, and that pattern retries from every copy of the phrase in a line.
    """
    for line in stderr.split(b"\n"):
        start = line.find(_GIT_UNLISTED)
        if start < 0:
            continue
        start += len(_GIT_UNLISTED)
        separator = line.rfind(b"': ", start)
        if separator >= 0:
            yield line[start:separator], line[separator + 3 :]


def _git_files(directory: str, unlisted: list[tuple[str, str]]) -> list[str] | None:
    """Files git tracks under `directory`, plus untracked ones it does not ignore.

    None when `directory` is not inside a git work tree (or git is not installed).
    The scanned repository's own `.git/config` must not run anything: `ls-files` reads
    the index, and with `core.fsmonitor` set git runs that command to refresh it.
    """
    import subprocess

    try:
        proc = subprocess.run(
            [
                "git",
                "-c",
                "core.fsmonitor=false",
                "-C",
                directory,
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=False,
            timeout=120,
            env={**os.environ, "LC_ALL": "C"},  # the warning below, untranslated
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    for name, reason in _git_unlisted(proc.stderr):
        relative = os.fsdecode(name).rstrip("/")
        path = os.path.join(directory, relative) if directory != "." else relative
        unlisted.append((path, reason.decode("utf-8", "replace").strip()))
    out = []
    for raw in proc.stdout.split(b"\0"):
        if not raw:
            continue
        relative = os.fsdecode(raw)
        parts = relative.split("/")
        if any(part in SKIPPED_DIRS for part in parts[:-1]):
            continue
        path = os.path.join(directory, relative) if directory != "." else relative
        # Deleted from the work tree but still in the index: nothing to read, no error.
        # (Not lexists(): a file in a directory we may not enter is a parse-error.)
        if _deleted(path):
            continue
        out.append(path)
        # git lists files only: a directory named .npmrc shows up as `pkg/.npmrc/x`. It
        # is reported (parse-error), as the walk outside git reports it.
        for depth, part in enumerate(parts[:-1]):
            if is_npmrc_path(part):
                inner = "/".join(parts[: depth + 1])
                out.append(os.path.join(directory, inner) if directory != "." else inner)
    return sorted(set(out))


def _deleted(path: str) -> bool:
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _chunked_token_scan(target: Target) -> Iterator[Finding]:
    """Tokens in a file too large (or too binary) to parse, read in bounded chunks.

    The finding is the plaintext-credential rule of the file's kind, so its tip fits the
    file (an Actions secret for a workflow, a `${VAR}` reference for an `.npmrc`).
    """
    from npm_guard.rules import rule_by_id
    from npm_guard.secrets import LOW_CONFIDENCE_KINDS, find_tokens, short_hash

    rule = rule_by_id(kind_named(target.kind).plaintext_rule)

    opened = _open_regular(target.path)
    if isinstance(opened, str):
        return
    seen: set[str] = set()
    with os.fdopen(opened[0], "rb") as handle:
        line = 1
        carry = b""
        while True:
            block = handle.read(CHUNK_BYTES)
            if not block:
                break
            data = carry + block
            text = data.decode("utf-8", errors="replace")
            for credential in find_tokens(text):
                if credential.value in seen:
                    continue
                seen.add(credential.value)
                at_line = line + text.count("\n", 0, credential.start)
                line_start = text.rfind("\n", 0, credential.start) + 1
                # The column is known when its line starts inside this chunk (or the file).
                known = line_start > 0 or carry == b""
                column = credential.start - line_start + 1 if known else 1
                yield Finding(
                    rule=rule,
                    location=Location(target.display, at_line, column),
                    message=f"{credential.description} is written in this file",
                    key=f"text:{short_hash(credential.value)}",
                    confidence=Confidence.LOW if credential.kind in LOW_CONFIDENCE_KINDS else None,
                    properties={"credential_kind": credential.kind.value},
                )
            keep = data[-CHUNK_OVERLAP:]
            line += data[: len(data) - len(keep)].count(b"\n")
            carry = keep


def scan_target(
    target: Target,
    *,
    root: str,
    files: RepositoryFiles | None = None,
    no_ignores: bool = False,
    policy: Policy | None = None,
    silenced: list[Suppressed] | None = None,
    consulted: set[str] | None = None,
) -> list[Finding]:
    """Every finding for one file; problems reading it are findings too.

    `policy` feeds the rules that need one (the token inventory's workflow rules); its
    severities and ignores are applied by the caller, once, to all findings. Findings an
    ignore comment in the file silences go to `silenced`, when given. `files` is the
    scan's one reader of the repository at `root` (made here when not given), through
    which the workflow engine reads the files a workflow needs; `consulted`, when given,
    receives the repository paths a workflow's analysis read (see `scan_dependents`).
    """
    content = read_text(target.path)
    findings: list[Finding] = []
    if content.problem is not None:
        findings.append(parse_error.finding(target.display, content.problem))
        if content.text is None:
            if content.token_search:
                findings.extend(_chunked_token_scan(target))
            return findings
    assert content.text is not None
    context = ReadContext(
        files if files is not None else RepositoryFiles(root),
        no_ignores=no_ignores,
        policy=policy,
        silenced=silenced,
        consulted=consulted,
    )
    findings.extend(kind_named(target.kind).read(target.display, content.text, context))
    return findings


def analyse_one(
    target: Target,
    *,
    root: str,
    files: RepositoryFiles,
    no_ignores: bool,
    policy: Policy | None,
) -> tuple[list[Finding], list[Suppressed]]:
    """One file's findings and the findings its ignore comments silence."""
    silenced: list[Suppressed] = []
    findings = scan_target(
        target, root=root, files=files, no_ignores=no_ignores, policy=policy, silenced=silenced
    )
    return findings, silenced


def scan_paths(
    paths: Sequence[str],
    *,
    root: str | None = None,
    no_ignores: bool = False,
    policy: Policy | None = None,
    jobs: int | None = None,
) -> ScanResult:
    """Scan files and directories; the findings come back sorted by place.

    `root` defaults to `find_root(paths)`. `jobs` is the number of worker processes
    (0: every available core; None: every core for a large scan, one process for a
    small one; see `npm_guard.scan_pool`): the result is the same whatever it is.
    """
    from npm_guard.scan_pool import analyse_parallel, worker_count

    root = os.path.abspath(root or find_root(paths))
    result = ScanResult()
    targets = list(discover(paths, root, result.notices, result.findings))
    result.files_scanned = len(targets)
    workers = worker_count(jobs, len(targets))
    if workers > 1:
        results: Iterable[tuple[list[Finding], list[Suppressed]]] = analyse_parallel(
            targets,
            analyse_one,
            root=root,
            no_ignores=no_ignores,
            policy=policy,
            workers=workers,
        )
    else:
        files = RepositoryFiles(root)  # one reader, and one cache, for the whole scan
        results = (
            analyse_one(target, root=root, files=files, no_ignores=no_ignores, policy=policy)
            for target in targets
        )
    for findings, silenced in results:
        result.findings.extend(findings)
        result.suppressed.extend(silenced)
    result.findings.sort(key=sort_key)
    return result


def scan_named(
    paths: Sequence[str],
    kind: str,
    *,
    root: str,
    no_ignores: bool = False,
    policy: Policy | None = None,
) -> ScanResult:
    """Scan exactly the files named, each read as `kind`, whatever its name (a hook's
    files: pre-commit already chose them); the findings are in the order of `paths`."""
    result = ScanResult()
    files = RepositoryFiles(root)  # one reader, and one cache, for the whole scan
    for path in paths:
        target = Target(path, display_path(path, root), kind)
        result.files_scanned += 1
        result.findings.extend(
            scan_target(
                target,
                root=root,
                files=files,
                no_ignores=no_ignores,
                policy=policy,
                silenced=result.suppressed,
            )
        )
    return result


def scan_dependents(
    changed: Sequence[str],
    *,
    root: str,
    named: Sequence[str] = (),
    no_ignores: bool = False,
    policy: Policy | None = None,
) -> ScanResult:
    """The workflows and composite actions under `root` whose findings depend on one of
    the `changed` files (a hook's staged package.json, `.npmrc`, script…): those whose
    analysis read it (`Workflow.consulted`), and every one when the root's policy file
    changed. Those in `named` (scanned already) are left out. Each finding stays where
    the problem shows, in the workflow, and its message says which changed file made
    the commit re-check it (`properties["rechecked_for"]`, too).
    """
    from npm_guard.constants import POLICY_FILE
    from npm_guard.file_kinds import ACTION, WORKFLOW

    result = ScanResult()
    wanted = {_repository_path(path, root) for path in changed}
    every = POLICY_FILE in wanted
    skip = {os.path.realpath(path) for path in named}
    files = RepositoryFiles(root)
    for target in discover([root], root, []):
        if target.kind not in (WORKFLOW, ACTION) or os.path.realpath(target.path) in skip:
            continue
        consulted: set[str] = set()
        silenced: list[Suppressed] = []
        findings = scan_target(
            target,
            root=root,
            files=files,
            no_ignores=no_ignores,
            policy=policy,
            silenced=silenced,
            consulted=consulted,
        )
        read = sorted(wanted & {posixpath.normpath(path) for path in consulted})
        if not read and not every:
            continue
        result.files_scanned += 1
        result.suppressed.extend(silenced)
        result.findings.extend(_rechecked(finding, read, every) for finding in findings)
    result.findings.sort(key=sort_key)
    return result


def _repository_path(path: str, root: str) -> str:
    return posixpath.normpath(display_path(path, root))


def _rechecked(finding: Finding, read: list[str], policy_changed: bool) -> Finding:
    """`finding` with why a commit of other files shows it: the files it changes that
    this workflow's analysis reads (or the policy every workflow is judged by)."""
    from npm_guard._record import replace
    from npm_guard.constants import POLICY_FILE

    reasons = []
    if read:
        shown = read[:3] if len(read) <= 3 else [*read[:2], f"{len(read) - 2} more files"]
        named = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
        reasons.append(f"{named}, which this workflow's analysis reads")
    if policy_changed:
        reasons.append(f"{POLICY_FILE}, the policy every workflow is checked against")
    return replace(
        finding,
        message=f"{finding.message} (re-checked because this commit changes "
        f"{'; and '.join(reasons)})",
        properties={
            **finding.properties,
            "rechecked_for": " ".join([*read, *([POLICY_FILE] if policy_changed else [])]),
        },
    )
