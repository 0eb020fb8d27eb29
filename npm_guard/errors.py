"""The one exception type for expected errors (exit 2)."""

from __future__ import annotations


class NpmGuardError(Exception):
    """An expected error: bad usage, a bad policy file, a path that does not exist.

    `main()` prints its message as one line on stderr and exits 2. Messages must
    never contain a credential.
    """
