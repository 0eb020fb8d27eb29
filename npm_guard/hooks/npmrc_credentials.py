"""pre-commit hook `npmrc-credentials`: npm credentials and unsafe auth in `.npmrc` files."""

from __future__ import annotations

from collections.abc import Sequence

from npm_guard.file_kinds import NPMRC
from npm_guard.frontend import (
    Parser,
    add_debug_option,
    add_scan_options,
    guarded,
    options_from,
    run_scan,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(
        prog="npmrc-credentials",
        description="Find npm credentials and unsafe auth settings in .npmrc files.",
    )
    add_scan_options(parser)
    add_debug_option(parser)
    parser.add_argument("filenames", nargs="*", help=".npmrc files to check")
    args = parser.parse_args(argv)
    return guarded(
        lambda: run_scan(args.filenames, options_from(args), kind=NPMRC),
        debug=args.debug,
        fmt=args.fmt,
    )


if __name__ == "__main__":
    raise SystemExit(main())
