"""What can be wrong with a policy file, said in the user's terms.

`PolicyError` carries every `PolicyProblem` of a file, each as `FILE:LINE: key.path:
what was expected`; `PolicyDocument` is the file read into plain values with the line
of every key and value (`npm_guard.policy_yaml` builds it). The checks here are the
ones the schema cannot express (a CIDR range that is not one, a read-write token that
outlives npm's limit, an attestation that expires before it starts); the schema's own
are explained by `npm_guard.policy_schema`. A value or key that could be a secret is
never shown, only its length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

from npm_guard._record import dataclass, field
from npm_guard.errors import NpmGuardError

TYPE_CHECKING = False  # mypy reads the branch
if TYPE_CHECKING:
    import datetime
    from typing import Any

    Path = tuple[Any, ...]  # keys (str) and list indexes (int) from the document root

# npm refuses read-write granular tokens that live longer than this.
MAX_WRITE_TOKEN_DAYS = 90

_CIDR_SHAPE_RE = re.compile(r"^[0-9A-Fa-f:.]+/[0-9]{1,3}$")
_BARE_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_MIXED_CASE_RUN_RE = re.compile(r"[A-Za-z0-9]{20,}")


class PolicyError(NpmGuardError):
    """An unreadable or invalid policy file; `problems` holds every problem found."""

    def __init__(self, display: str, problems: Sequence[PolicyProblem]) -> None:
        self.display = display
        self.problems = tuple(sorted(problems, key=lambda p: (p.line, p.key)))
        count = len(self.problems)
        head = f"{display}: invalid policy file, {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong in a policy file, at a line, about a key."""

    file: str
    line: int
    key: str
    expected: str

    def __str__(self) -> str:
        where = f"{self.key}: " if self.key else ""
        return f"{self.file}:{self.line}: {where}{self.expected}"


@dataclass
class PolicyDocument:
    """A policy file read into plain Python values, with the line of every key and value."""

    data: Any = None
    complete: bool = False  # False when the YAML could not be read whole
    key_lines: dict[Path, int] = field(default_factory=dict)
    value_lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int:
        return self.key_lines.get(path) or self.value_lines.get(path) or 1


def show_value(value: Any) -> str:
    """A value for an error message, unless it could be a secret: then only its shape."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    if _could_be_secret(text):
        return f"a {len(text)}-character value (not shown)"
    return repr(text)


def _could_be_secret(text: str) -> bool:
    from npm_guard.secrets import find_tokens

    if len(text) > 60 or any(True for _ in find_tokens(text, uuids=True)):
        return True
    # Long runs of letters and digits with no spaces look like keys, not words; so does
    # a long run mixing upper and lower case (rule ids, secret names and package names
    # are single-case), such as a GitLab or Slack token's body.
    if len(text) >= 24 and " " not in text and sum(c.isdigit() for c in text) >= 4:
        return True
    return any(not run.isupper() and not run.islower() for run in _MIXED_CASE_RUN_RE.findall(text))


def key_text(path: Iterable[Any]) -> str:
    """A key path for a message; a key that could be a secret is shown by its length only
    (a token pasted as a `tokens:` key is a key, and keys are printed in every message)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _could_be_secret(part):
            hidden = f"<a {len(part)}-character key (not shown)>"
            out += f".{hidden}" if out else hidden
        elif _BARE_KEY_RE.match(part):
            out += f".{part}" if out else part
        else:
            import json

            quoted = json.dumps(part)
            out += f".{quoted}" if out else quoted
    return out


# --- checks the schema cannot express ------------------------------------------


def semantic_problems(document: PolicyDocument, display: str) -> Iterator[PolicyProblem]:
    """The problems the schema cannot express. ipaddress and datetime are imported only
    for a policy with CIDR ranges or attestations: a cached policy file is checked on
    every hook run."""
    data = document.data if isinstance(document.data, Mapping) else {}

    def at(path: Path, expected: str) -> PolicyProblem:
        return PolicyProblem(display, document.line(path), key_text(path), expected)

    tokens = data.get("tokens")
    for name, token in tokens.items() if isinstance(tokens, Mapping) else ():
        if not isinstance(token, Mapping):
            continue
        cidrs = token.get("cidr")
        for i, cidr in enumerate(cidrs if isinstance(cidrs, list) else ()):
            if not isinstance(cidr, str) or not _CIDR_SHAPE_RE.match(cidr):
                continue  # the schema already said what is wrong
            import ipaddress

            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                yield at(
                    ("tokens", name, "cidr", i),
                    f"expected an IPv4 or IPv6 range such as 192.0.2.0/24, got {show_value(cidr)}",
                )
        days = token.get("max-expiry-days")
        too_long = isinstance(days, int) and days > MAX_WRITE_TOKEN_DAYS
        if token.get("permission") == "read-write" and too_long:
            yield at(
                ("tokens", name, "max-expiry-days"),
                f"expected at most {MAX_WRITE_TOKEN_DAYS}: npm refuses read-write tokens that "
                f"live longer, got {days}",
            )
    attestations = data.get("attestations")
    for i, attestation in enumerate(attestations if isinstance(attestations, list) else ()):
        if not isinstance(attestation, Mapping):
            continue
        dates = [_date(attestation.get("date")), _date(attestation.get("expires"))]
        if dates[0] is not None and dates[1] is not None and dates[1] <= dates[0]:
            yield at(
                ("attestations", i, "expires"),
                f"expected a date after the attestation's date ({dates[0]}), got {dates[1]}",
            )


def _date(value: Any) -> datetime.date | None:
    import datetime

    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
