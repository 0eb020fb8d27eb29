"""The repository files a workflow makes the engine read, and those it could not.

A step's `npm run release` is only understood with the package.json it runs; setup-node's
token only with the repository's `.npmrc`; `secrets: inherit` only with the called
workflow. They are read through the scan's one `RepositoryFiles` (regular files inside
the repository, size-capped, read once per scan): the only way the workflow engine
touches the file system. A file that is simply not there is no problem, nor one too
large or too binary to be worth analysing; one that is there but was refused (a FIFO, a
device, a link out of the repository, unreadable) is remembered with the line that
needed it, and becomes a `parse-error` there: what that line does could not be known.
"""

from __future__ import annotations

from npm_guard._record import dataclass
from npm_guard.repo_files import FileText

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from collections.abc import Callable

    from npm_guard.repo_files import Parsed, RepositoryFiles
    from npm_guard.workflow.package_scripts import Package
    from npm_guard.workflow.positions import Span

_NO_REPOSITORY = FileText(None, "no repository to read it from", missing=True)


@dataclass(frozen=True)
class UnreadFile:
    """A repository file a line of the workflow needed, refused by the reader."""

    path: str  # relative to the repository root
    problem: str  # why it was not read (never its content)
    span: Span  # the line that needed it
    purpose: str  # "to follow `npm run release`"


class ConsultedFiles:
    """The files one workflow's analysis reads besides the workflow itself.

    `callers` is the chain of local reusable workflows being read (a workflow calling
    itself, or a chain deeper than three, is not followed). Parsed package.json files
    are kept for the workflow; the text of every file is kept by the reader, for the scan.
    """

    def __init__(
        self,
        files: RepositoryFiles | None,
        callers: tuple[str, ...] = (),
        paths: set[str] | None = None,
    ) -> None:
        self.files = files
        self.callers = callers
        self.unread: list[UnreadFile] = []
        self.packages: dict[str, Package | None] = {}
        # Every path asked for, there or not (shared with called workflows): what the
        # workflow's findings depend on, so a commit changing one re-checks the workflow.
        self.paths: set[str] = set() if paths is None else paths

    def read(self, path: str, max_bytes: int, *, needed_at: Span | None, purpose: str) -> FileText:
        """`path` (relative to the repository root) as the reader returns it; a refusal
        is remembered against `needed_at`, when given."""
        self.paths.add(path)
        if self.files is None:
            return _NO_REPOSITORY
        found = self.files.read(path, max_bytes)
        if needed_at is not None and refused(found):
            self.remember(path, found.problem or "cannot read", needed_at, purpose)
        return found

    def parsed(
        self,
        path: str,
        max_bytes: int,
        parse: Callable[[str, FileText], Parsed],
        *,
        needed_at: Span | None,
        purpose: str,
    ) -> Parsed:
        """`parse(path, text)` of `path` as `read` returns it (asked for and refusals
        remembered as by `read`), parsed once per scan (`RepositoryFiles.parsed`)."""
        found = self.read(path, max_bytes, needed_at=needed_at, purpose=purpose)
        if self.files is None:
            return parse(path, found)
        return self.files.parsed(path, max_bytes, parse)

    def remember(self, path: str, problem: str, span: Span, purpose: str) -> None:
        """A refused file, once per path: the first line that needed it is reported."""
        if not any(unread.path == path for unread in self.unread):
            self.unread.append(UnreadFile(path, problem, span, purpose))

    def for_callee(self, path: str) -> ConsultedFiles:
        """The files of a called workflow's analysis: the same reader, one caller more,
        and its own list of refusals (a called workflow is reported when it is scanned)."""
        return ConsultedFiles(self.files, (*self.callers, path), self.paths)


def refused(found: FileText) -> bool:
    """Present but not read: not a regular file, outside the repository, unreadable.

    A missing file is not refused, nor one read only for tokens (too large, binary):
    those are the engine's own limits, and the step is judged on what it visibly runs.
    """
    return found.text is None and not found.missing and not found.token_search
