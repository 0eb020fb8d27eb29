"""The offline scan: which files to read, how to read them safely, which rules to run.

One broken file never stops the others: every problem reading or parsing a file
becomes a `parse-error` finding for that file, and the scan goes on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence

from npm_guard._record import dataclass, field
from npm_guard.errors import NpmGuardError
from npm_guard.findings import Confidence, Finding, Location, Rule, Suppressed, sort_key
from npm_guard.repo_files import RepositoryFiles, _open_regular, read_text
from npm_guard.rules import parse_error

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.policy import Policy

CHUNK_BYTES = 1024 * 1024
CHUNK_OVERLAP = 256
SKIPPED_DIRS = frozenset({"node_modules", ".git"})
NPMRC = "npmrc"
WORKFLOW = "workflow"
POLICY = "policy"  # the policy file, searched for credentials (validated by its loader)
# npm_guard.policy.POLICY_FILE, and the spelling people try that npm-guard does not read.
_POLICY_NAMES = (".npm-guard.yml", ".npm-guard.yaml")


def is_npmrc_path(path: str) -> bool:
    """`.npmrc` at any depth (npm's per-project and per-user config file name)."""
    return os.path.basename(path) == ".npmrc"


def classify(path: str) -> str | None:
    """The kind of file a path is, by its name and place, or None if not ours."""
    if is_npmrc_path(path):
        return NPMRC
    if os.path.basename(path) in _POLICY_NAMES:
        return POLICY
    from npm_guard.workflow import is_workflow_path

    if is_workflow_path(path):
        return WORKFLOW
    return None


def classify_named(path: str) -> str | None:
    """The kind of a file named on the command line: by name, whatever its directory."""
    kind = classify(path)
    if kind is None and path.endswith((".yml", ".yaml")):
        return WORKFLOW
    if kind is None and os.path.basename(path).endswith(".npmrc"):
        return NPMRC
    return kind


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


def find_root(paths: Sequence[str]) -> str:
    """The repository root a scan of `paths` belongs to (absolute).

    The top of the git work tree holding the first path (the nearest directory at or
    above it with a `.git`); outside git the first path itself when it is a directory,
    else the current directory. The policy file is looked up there, package.json
    scripts resolve from there, file kinds are judged and paths shown relative to it.
    No git command runs: looking for `.git` costs a few stat calls.
    """
    first = paths[0] if paths else os.curdir
    walked = os.path.isdir(first) and not os.path.islink(first) and not is_npmrc_path(first)
    start = os.path.abspath(first if walked else os.path.dirname(first) or os.curdir)
    directory = start
    while True:
        if os.path.lexists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return start if walked else os.path.abspath(os.curdir)


def display_path(path: str, root: str) -> str:
    """`path` relative to `root` with forward slashes, or absolute when outside it."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:
        return absolute.replace(os.sep, "/")
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return absolute.replace(os.sep, "/")
    return relative.replace(os.sep, "/")


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
            if tree is not None and not _inside(real, tree):
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


def _inside(path: str, directory: str) -> bool:
    """`path` is `directory` or below it; both already resolved by `os.path.realpath`."""
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # different drives on Windows
        return False


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


def _plaintext_rule(kind: str) -> Rule:
    if kind == WORKFLOW:
        from npm_guard.rules import workflow_plaintext_credential

        return workflow_plaintext_credential.RULE
    if kind == POLICY:
        from npm_guard.rules import policy_plaintext_credential

        return policy_plaintext_credential.RULE
    from npm_guard.rules import npmrc_plaintext_credential

    return npmrc_plaintext_credential.RULE


def _chunked_token_scan(target: Target) -> Iterator[Finding]:
    """Tokens in a file too large (or too binary) to parse, read in bounded chunks.

    The finding is the plaintext-credential rule of the file's kind, so its tip fits the
    file (an Actions secret for a workflow, a `${VAR}` reference for an `.npmrc`).
    """
    from npm_guard.secrets import LOW_CONFIDENCE_KINDS, find_tokens, short_hash

    rule = _plaintext_rule(target.kind)

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
) -> list[Finding]:
    """Every finding for one file; problems reading it are findings too.

    `policy` feeds the rules that need one (the token inventory's workflow rules); its
    severities and ignores are applied by the caller, once, to all findings. Findings an
    ignore comment in the file silences go to `silenced`, when given. `files` is the
    scan's one reader of the repository at `root` (made here when not given), through
    which the workflow engine reads the files a workflow needs.
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
    if target.kind == NPMRC:
        from npm_guard.npmrc_scan import scan_npmrc

        findings.extend(
            scan_npmrc(target.display, content.text, no_ignores=no_ignores, silenced=silenced)
        )
    elif target.kind == POLICY:
        from npm_guard.rules import POLICY_FILE_RULES

        for _, check in POLICY_FILE_RULES:
            findings.extend(check(target.display, content.text))
    else:
        from npm_guard.workflow import scan_workflow

        findings.extend(
            scan_workflow(
                target.display,
                content.text,
                files=files if files is not None else RepositoryFiles(root),
                no_ignores=no_ignores,
                policy=policy,
                silenced=silenced,
            )
        )
    return findings


def scan_paths(
    paths: Sequence[str],
    *,
    root: str | None = None,
    no_ignores: bool = False,
    policy: Policy | None = None,
) -> ScanResult:
    """Scan files and directories; the findings come back sorted by place.

    `root` defaults to `find_root(paths)`.
    """
    root = os.path.abspath(root or find_root(paths))
    result = ScanResult()
    files = RepositoryFiles(root)  # one reader, and one cache, for the whole scan
    for target in discover(paths, root, result.notices, result.findings):
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
    result.findings.sort(key=sort_key)
    return result
