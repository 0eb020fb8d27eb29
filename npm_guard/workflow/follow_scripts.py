"""Following what a command runs: package.json scripts, `bash -c`, `eval`, local scripts.

`npm run release` reads the `release` script (and `prerelease`/`postrelease`) of the
package.json in the step's directory, or of the selected workspaces; `bash -c '…'` and
`eval` read their string; `./scripts/release.sh` is read from the repository. Each is
read with the step's context, through the dispatch, at most `MAX_SCRIPT_DEPTH` deep, and
a script reached again in exactly the same context is not read twice.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from npm_guard._record import replace
from npm_guard.workflow.arguments import parse_arguments
from npm_guard.workflow.context import CommandContext
from npm_guard.workflow.package_scripts import Need, Selection, resolve_script
from npm_guard.workflow.shell import read_script
from npm_guard.workflow.shell_bash import read_nested
from npm_guard.workflow.shell_words import Word

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.positions import Span

MAX_SCRIPT_DEPTH = 6
MAX_LOCAL_SCRIPT_BYTES = 256 * 1024


def run_package_script(
    script: str,
    shown_as: str,
    span: Span,
    ctx: CommandContext,
    selection: Selection,
    *,
    pre_post: bool,
    arguments: Sequence[Word] = (),
) -> None:
    """Read the package.json scripts `<pm> run <script>` runs, with the step's context.

    `arguments` are the words after the script's name (`npm run release -- --tag next`):
    the package manager appends them to the script itself (not to pre/post scripts).
    """
    directory = ctx.in_repository()
    if ctx.depth >= MAX_SCRIPT_DEPTH or directory is None:
        return
    need = Need(span, f"to follow `{shown_as}`")
    appended = " ".join(_shell_quoted(word) for word in arguments)
    for found in resolve_script(
        ctx.consulted, directory, script, selection=selection, pre_post=pre_post, need=need
    ):
        marker = (found.package_json, found.name)
        if marker in ctx.seen_scripts:
            continue
        seen = {*ctx.seen_scripts, marker}
        package_directory = posixpath.dirname(found.package_json) or "."
        via = f"{found.package_json} scripts.{found.name}"
        nested = ctx.nested(span, via)
        if not ctx.via:
            nested.via = (shown_as, via)
        nested = replace(
            nested,
            cwd=ctx.from_repository(package_directory),
            seen_scripts=seen,
            env=dict(ctx.env),
        )
        text = found.text
        if appended and found.name == script:
            text = f"{text} {appended}"
        if _already_read(nested, (marker[0], f"{marker[1]} {appended}")):
            continue
        ctx.dispatch.commands(read_script(text).commands, nested)


def _shell_quoted(word: Word) -> str:
    """A word as the package manager hands it to the script's shell: literal text quoted
    where needed, expansions (already expanded by the step's shell) as they are."""
    literal = word.literal
    if literal is None:
        return word.text
    if literal and all(c.isalnum() or c in "@%+=:,./_-" for c in literal):
        return literal
    return "'" + literal.replace("'", "'\\''") + "'"


def shell_script(name: str, words: list[Word], span: Span, ctx: CommandContext) -> None:
    """`bash -c '…'`, `eval '…'` and local `*.sh` scripts: read them too."""
    if ctx.depth >= MAX_SCRIPT_DEPTH:
        return
    if name == "eval":
        text = " ".join(w.text for w in words[1:])
        ctx.dispatch.commands(read_nested(text, 0, ctx.depth + 1), ctx.nested(span, "eval"))
        return
    args = words[1:] if name in ("bash", "sh", "zsh", "dash", "source", ".") else words
    parsed = parse_arguments(args, frozenset({"-c", "-o", "-O"}))
    command_string = parsed.flags.get("-c")
    if command_string is not None:
        word = parsed.flag_spans["-c"]
        index = args.index(word)
        source_word = args[index + 1] if index + 1 < len(args) else None
        if source_word is not None and ctx.span_override is None and len(source_word.parts) == 1:
            part = source_word.parts[0]
            base = part.start + (1 if part.quote in ("'", '"') else 0)
            commands = read_nested(command_string, base, ctx.depth + 1)
            ctx.dispatch.commands(commands, replace(ctx, depth=ctx.depth + 1))
        else:
            commands = read_nested(command_string, 0, ctx.depth + 1)
            ctx.dispatch.commands(commands, ctx.nested(span, f"{name} -c"))
        return
    target = parsed.positionals[0] if parsed.positionals else None
    if target is None or target.literal is None:
        return
    if ctx.location != "workspace":
        return
    relative = ctx.in_repository(target.literal)
    if relative is None:
        return
    shown_as = " ".join(w.text for w in words[:2])
    script = ctx.consulted.read(
        relative, MAX_LOCAL_SCRIPT_BYTES, needed_at=span, purpose=f"to follow `{shown_as}`"
    ).text
    if script is None:
        return
    marker = (relative, "")
    if marker in ctx.seen_scripts:
        return
    nested = ctx.nested(span, relative)
    if not ctx.via:
        nested.via = (shown_as, relative)
    nested = replace(nested, seen_scripts={*ctx.seen_scripts, marker})
    if _already_read(nested, marker):
        return
    ctx.dispatch.commands(read_script(script).commands, nested)


def _already_read(ctx: CommandContext, marker: tuple[str, str]) -> bool:
    """True when the script `marker` was read before in exactly this context (then what
    it records is recorded already); else remember that it is read now."""
    key = (
        marker,
        ctx.cwd,
        ctx.location,
        ctx.registry,
        ctx.span_override,
        ctx.via,
        ctx.depth,
        frozenset(ctx.seen_scripts),
        frozenset(ctx.env.items()),
    )
    if key in ctx.read_scripts:
        return True
    ctx.read_scripts.add(key)
    return False
