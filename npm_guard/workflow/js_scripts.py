"""A publish inside a repository JavaScript or TypeScript file that a step runs.

`node scripts/release.js`, `tsx scripts/release.ts`, `ts-node`, `zx`, `bun x.ts`, `deno
run`: the file is read through the workflow's `ConsultedFiles` (inside the repository,
size-capped), together with the files it imports by relative path (at most
`MAX_JS_FILES`, `MAX_IMPORT_DEPTH` imports deep), and its text is searched for a command
that publishes:

- a string that starts with a package manager or release tool and says `publish`:
  `execSync('npm publish --tag next')`, zx's `` $`pnpm publish` ``;
- a package manager followed by an argument list that starts with `publish`:
  `execa('npm', ['publish', '--tag', tag])`, `spawn('yarn', ['npm', 'publish'])`,
  `['npm', 'publish']`, or the program in a string a few lines above
  (`const cmd = 'npm'` … `['publish'].concat(…)`);
- `libnpmpublish`, npm's own publishing library.

What is found is read like a command of the step (so `npm publish --dry-run` is no
publish), and the publish is recorded at medium confidence with the file and line: the
file's text is read, not run. A runner handed a package's binary
(`node node_modules/.bin/x`, `ts-node $(yarn bin x)`) runs that tool instead.

One file often builds, versions and publishes, as its arguments choose
(`node scripts/release.ts version` / `… publish`), which its text cannot tell: a file is
searched only where the run says it publishes or releases — in the file's name, its
arguments, the package.json scripts that lead to it, or the step's name or id.
"""

from __future__ import annotations

import posixpath

from npm_guard.lazy_pattern import lazy_compile
from npm_guard.workflow.arguments import after_positional, parse_arguments
from npm_guard.workflow.package_managers import record_publish
from npm_guard.workflow.shell_bash import read_nested
from npm_guard.workflow.shell_words import CMDSUB, LIT, Command, Part, Word

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from collections.abc import Iterator

    from npm_guard.workflow.context import CommandContext
    from npm_guard.workflow.expressions import ValueSource
    from npm_guard.workflow.positions import Span

MAX_JS_FILES = 40
MAX_IMPORT_DEPTH = 4
MAX_JS_BYTES = 512 * 1024
MAX_SCRIPT_DEPTH = 6  # as follow_scripts: a JavaScript file that runs another, …

JS_RUNNERS = frozenset(
    {
        "node",
        "nodejs",
        "tsx",
        "ts-node",
        "ts-node-esm",
        "ts-node-script",
        "esno",
        "esr",
        "babel-node",
        "zx",
        "vite-node",
        "jiti",
        "deno",
    }
)

JS_EXTENSIONS = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")

# The runners' flags that take a value (node, tsx, ts-node, babel-node, zx, deno, bun).
_VALUE_FLAGS = frozenset(
    {
        "-r",
        "--require",
        "--import",
        "--loader",
        "--experimental-loader",
        "-e",
        "--eval",
        "-p",
        "--print",
        "--env-file",
        "--conditions",
        "-C",
        "--input-type",
        "--title",
        "--tsconfig",
        "-P",
        "--project",
        "--compiler",
        "-O",
        "--compiler-options",
        "--ignore",
        "-I",
        "--ignore-diagnostics",
        "--cwd",
        "--dir",
        "--presets",
        "--plugins",
        "-x",
        "--extensions",
        "--config-file",
        "--shell",
        "--prefix",
        "--config",
        "-c",
        "--import-map",
        "--preload",
        "--filter",
        "-F",
    }
)

# A string holding a command that publishes: `'npm publish …'`, `` `pnpm publish …` ``,
# opened where an argument or a value starts (not in the middle of a sentence).
_STRING_COMMAND_RE = lazy_compile(
    r"(?:^\s*|[(\[,=:$]\s*|\breturn\s+|\bawait\s+)"
    r"(?P<q>[\"'`])\s*"
    r"(?P<command>(?:npx\s+|corepack\s+)?(?:npm|pnpm|pn|yarn|bun|lerna|changeset)\s"
    r"(?:(?!(?P=q)).)*?\bpublish\b(?:(?!(?P=q)).)*)"
    r"(?P=q)"
)
# A package manager named in a string, then an argument list: execa('npm', ['publish']).
_PROGRAM_THEN_LIST_RE = lazy_compile(
    r"(?P<q>[\"'])(?P<program>npm|pnpm|pn|yarn|bun)(?P=q)\s*,\s*(?P<list>\[[^\]\n]*\]?)"
)
# An argument list that starts with the program: spawn(…, ['npm', 'publish', …]).
_LIST_WITH_PROGRAM_RE = lazy_compile(
    r"\[\s*(?P<q>[\"'])(?P<program>npm|pnpm|pn|yarn|bun)(?P=q)\s*,(?P<rest>[^\]\n]*)\]?"
)
# An argument list that starts with `publish`, the program being named lines above.
_PUBLISH_LIST_RE = lazy_compile(r"\[\s*(?P<q>[\"'])publish(?P=q)[^\]\n]*\]?")
_PROGRAM_STRING_RE = lazy_compile(r"(?P<q>[\"'])(?P<program>npm|pnpm|pn|yarn|bun)(?P=q)")
_LIST_ITEM_RE = lazy_compile(r"(?P<q>[\"'`])(?P<item>(?:(?!(?P=q)).)*)(?P=q)")
_LIBNPMPUBLISH_RE = lazy_compile(
    r"(?:\brequire\s*\(\s*|\bfrom\s*|\bimport\s*\(?\s*)(?P<q>[\"'])libnpmpublish(?P=q)"
)
_LOGGING_RE = lazy_compile(
    r"\b(?:console\.\w+|log|warn|error|info|debug|fail|print|throw|Error)\s*\(\s*$"
)
_IMPORT_RE = lazy_compile(
    r"(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)(?P<q>[\"'])(?P<path>\.\.?/[^\"'\n]+)(?P=q)"
)
# A `${…}` of a template literal; no `$` inside, so a run of `${` is read once (linear).
_TEMPLATE_RE = lazy_compile(r"\$\{[^}\n$]*\}")
_BIN_SUBSTITUTION_RE = lazy_compile(r"(?:yarn|pnpm|npm)\s+bin\s+(?P<tool>[@\w./-]+)")
_PROGRAM_LOOKBACK = 6
_RELEASE_NAME_RE = lazy_compile(r"[Pp]ublish|[Rr]elease|[Dd]eploy")


def runs_file(args: list[Word]) -> bool:
    """`bun [run] <file.ts>`: bun runs a JavaScript/TypeScript file, not a script."""
    parsed = parse_arguments(args, _VALUE_FLAGS)
    positionals = parsed.positionals
    if positionals and positionals[0].text == "run":
        positionals = positionals[1:]
    return bool(positionals) and positionals[0].text.endswith(JS_EXTENSIONS)


def run_js_file(
    name: str,
    args: list[Word],
    span: Span,
    command: Command,
    ctx: CommandContext,
    extra_env: dict[str, ValueSource],
) -> None:
    """`node|tsx|ts-node|zx|bun|deno run <file> …`: search the file for a publish."""
    if ctx.depth >= MAX_SCRIPT_DEPTH:
        return
    parsed = parse_arguments(args, _VALUE_FLAGS)
    positionals = parsed.positionals
    if name == "deno" or name == "bun":
        if positionals and positionals[0].text == "run":
            positionals = positionals[1:]
        elif name == "deno":
            return  # `deno task`, `deno install`, …
    if not positionals:
        return
    target = positionals[0]
    tool = _package_binary(target)
    if tool is not None:
        first = Word([Part(LIT, tool, target.start, target.end)], target.start, target.end)
        ctx.dispatch.command(
            [first, *after_positional(args, target)], command, ctx, extra_env, span=span
        )
        return
    literal = target.literal
    if literal is None or ctx.location != "workspace":
        return
    entry = ctx.in_repository(literal)
    if entry is None:
        return
    # One file often builds, versions and publishes, chosen by its arguments: it counts
    # as a publish only where the run says it is one (the file, its arguments, the
    # scripts that lead to it, or the step's name mention publishing or releasing).
    said = [*ctx.via, literal, *(w.text for w in args), ctx.step.name or "", ctx.step.id or ""]
    if not any(_RELEASE_NAME_RE.search(text) for text in said):
        return
    _search_files(entry, f"{name} {literal}", span, ctx)


def _package_binary(word: Word) -> str | None:
    """The tool a runner is handed: `$(yarn bin x)`, `node_modules/.bin/x`."""
    if len(word.parts) == 1 and word.parts[0].kind == CMDSUB:
        match = _BIN_SUBSTITUTION_RE.fullmatch(word.parts[0].text.strip())
        return match.group("tool") if match is not None else None
    literal = word.literal
    if literal is not None and "node_modules/.bin/" in literal:
        return literal.rsplit("/", 1)[-1]
    return None


def _search_files(entry: str, shown: str, span: Span, ctx: CommandContext) -> None:
    """Read `entry` and what it imports, breadth first, until a publish is found."""
    found = _read_entry(entry, shown, span, ctx)
    if found is None:
        return
    queue: list[tuple[str, str, int]] = [(*found, 0)]
    seen = {found[0]}
    while queue:
        # Files named for releasing first: the file cap is spent where a publish is likely.
        queue.sort(key=lambda item: (not _RELEASE_NAME_RE.search(item[0]), item[2]))
        path, text, depth = queue.pop(0)
        if _search_text(path, text, span, shown, ctx):
            return
        if depth >= MAX_IMPORT_DEPTH:
            continue
        for specifier in _imports(text):
            if len(seen) >= MAX_JS_FILES:
                break
            imported = _read_import(path, specifier, seen, ctx)
            if imported is not None:
                seen.add(imported[0])
                queue.append((*imported, depth + 1))


def _read_entry(entry: str, shown: str, span: Span, ctx: CommandContext) -> tuple[str, str] | None:
    """The file a runner is given, resolved as Node resolves it: `scripts/release` may
    be `scripts/release.js`, or a directory with an `index.js`."""
    files = ctx.consulted.files
    if files is not None and files.is_dir(entry):
        candidates = [f"{entry}/index{ext}" for ext in (".js", ".mjs", ".cjs", ".ts")]
        reported = ""
    else:
        candidates = [entry]
        if not entry.endswith(JS_EXTENSIONS):
            candidates += [entry + ext for ext in (".js", ".mjs", ".cjs", ".ts")]
        reported = entry
    for candidate in candidates:
        found = ctx.consulted.read(
            candidate,
            MAX_JS_BYTES,
            needed_at=span if candidate == reported else None,
            purpose=f"to follow `{shown}`",
        )
        if found.text is not None and found.problem is None:
            return candidate, found.text
        if not found.missing:
            return None
    return None


def _read_import(
    importer: str, specifier: str, seen: set[str], ctx: CommandContext
) -> tuple[str, str] | None:
    """A relatively imported file, resolved as Node and TypeScript resolve it."""
    base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))
    if base == ".." or base.startswith(("../", "/")):
        return None
    name = base.rsplit("/", 1)[-1]
    extension = name[name.rfind(".") :] if name.rfind(".") > 0 else ""
    stem = base[: len(base) - len(extension)]
    if extension in (".js", ".jsx"):
        candidates = [base, stem + ".ts", stem + ".tsx"]
    elif extension == ".mjs":
        candidates = [base, stem + ".mts"]
    elif extension == ".cjs":
        candidates = [base, stem + ".cts"]
    elif extension in JS_EXTENSIONS:
        candidates = [base]
    else:
        candidates = [base + ext for ext in (".ts", ".js", ".mjs", ".cjs", ".tsx", ".mts")]
        candidates += [f"{base}/index{ext}" for ext in (".ts", ".js", ".mjs")]
    for candidate in candidates:
        if candidate in seen:
            return None
        found = ctx.consulted.read(candidate, MAX_JS_BYTES, needed_at=None, purpose="")
        if found.text is not None and found.problem is None:
            return candidate, found.text
    return None


def _imports(text: str) -> list[str]:
    return list(dict.fromkeys(m.group("path") for m in _IMPORT_RE.finditer(text)))


def _search_text(path: str, text: str, span: Span, shown: str, ctx: CommandContext) -> bool:
    """Read each publish command found in `text` until one is a publish; True then."""
    lines = text.splitlines()
    for number, command_text in _publish_commands(lines):
        before = len(ctx.facts.publishes)
        where = f"{path} line {number}"
        nested = ctx.nested(span, shown)
        nested.via = (*nested.via, where)
        nested.inferred = (
            f"found in the text of {path} (line {number}), which `{shown}` runs: "
            "npm-guard reads the file, it does not run it"
        )
        if command_text is None:  # libnpmpublish: no npm config, the script's own token
            record_publish(nested, span, "libnpmpublish", reads=None)
        else:
            commands = read_nested(_TEMPLATE_RE.sub("X", command_text), 0, ctx.depth + 1)
            ctx.dispatch.commands(commands, nested)
        if len(ctx.facts.publishes) > before:
            return True
    return False


def _publish_commands(lines: list[str]) -> Iterator[tuple[int, str | None]]:
    """(line number, command text) of each publishing command in a file's lines; the
    text is None for libnpmpublish."""
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("//", "*", "/*", "#")):
            continue
        for match in _STRING_COMMAND_RE.finditer(line):
            if not _LOGGING_RE.search(line[: match.start("q")]):
                yield index + 1, match.group("command")
        for match in _PROGRAM_THEN_LIST_RE.finditer(line):
            items = _items(match.group("list"))
            if _publishes(match.group("program"), items):
                yield index + 1, " ".join([match.group("program"), *items])
        for match in _LIST_WITH_PROGRAM_RE.finditer(line):
            items = _items(match.group("rest"))
            if _publishes(match.group("program"), items):
                yield index + 1, " ".join([match.group("program"), *items])
        publish_list = _PUBLISH_LIST_RE.search(line)
        if publish_list is not None and _PROGRAM_THEN_LIST_RE.search(line) is None:
            program = _program_above(lines, index)
            if program is not None:
                yield index + 1, " ".join([program, *_items(publish_list.group())])
        if _LIBNPMPUBLISH_RE.search(line):
            yield index + 1, None


def _items(text: str) -> list[str]:
    """The string literals of an argument list (the others are left out)."""
    return [m.group("item") for m in _LIST_ITEM_RE.finditer(text) if m.group("item")]


def _publishes(program: str, items: list[str]) -> bool:
    head = items[:2] if program == "yarn" else items[:1]
    return head[-1:] == ["publish"] and (program != "yarn" or head[0] in ("npm", "publish"))


def _program_above(lines: list[str], index: int) -> str | None:
    """A package manager named as a whole string on this line or a few lines above."""
    for line in reversed(lines[max(0, index - _PROGRAM_LOOKBACK) : index + 1]):
        match = _PROGRAM_STRING_RE.search(line)
        if match is not None:
            return match.group("program")
    return None
