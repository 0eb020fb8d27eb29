"""What a script writes, and where: npm auth settings and `$GITHUB_ENV` exports.

The text a command writes is rebuilt from its words: a heredoc body, `echo`/`printf`
arguments (`%s` filled in), a here-string, PowerShell's `Out-File`/`Set-Content`/
`Add-Content` and a string piped into them, `tee`. Written into an `.npmrc` (or
`$NPM_CONFIG_USERCONFIG`) or set with `npm config set`, an auth setting becomes a
`ConfigWrite` saying where the file is and what the value holds (a secret, a shell
variable, a `${VAR}` npm expands, a literal); `NAME=value >> $GITHUB_ENV` becomes an
`EnvExport`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from npm_guard.lazy_pattern import lazy_compile
from npm_guard.npmrc_env import ENV_REFERENCE_RE, unexpanded_variables
from npm_guard.secrets import is_placeholder
from npm_guard.workflow.arguments import Arguments, parse_arguments, program_name
from npm_guard.workflow.context import CommandContext, path_location
from npm_guard.workflow.expressions import is_credential_name, value_source
from npm_guard.workflow.labels import program_word
from npm_guard.workflow.model import ConfigWrite, EnvExport, UnexpandedText
from npm_guard.workflow.shell_words import (
    CMDSUB,
    EXPR,
    LIT,
    PARAM,
    Command,
    Part,
    Word,
    render_part,
)

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.positions import Span

AUTH_SETTINGS = ("_authToken", "_auth", "_password")

# `[Ee][Nn][Vv]`, not re.IGNORECASE: case-folding the name ranges costs start-up time.
_PWSH_ENV_RE = lazy_compile(
    r"\$\{[Ee][Nn][Vv]:[A-Za-z_][A-Za-z0-9_]*\}|\$[Ee][Nn][Vv]:[A-Za-z_][A-Za-z0-9_]*"
)


NPMJS_HOSTS = ("registry.npmjs.org", "registry.npmjs.com", "registry.yarnpkg.com")


def setting_host(setting: str) -> str | None:
    """The registry host of a nerf-darted auth setting (`//host/path/:_authToken`),
    lower-cased; None for one without a registry."""
    if not setting.startswith("//"):
        return None
    return setting[2:].split("/", 1)[0].split(":", 1)[0].lower() or None


def for_npmjs(setting: str) -> bool:
    """An auth setting for the public registry: `//registry.npmjs.org/:_authToken`, or
    one without a registry (npm >= 9 refuses those, older npm sends them everywhere)."""
    host = setting_host(setting)
    return host is None or host in NPMJS_HOSTS


def analyze_writes(command: Command, words: list[Word], ctx: CommandContext) -> None:
    """What `command` writes into an `.npmrc` or `$GITHUB_ENV`, recorded in the step's facts.

    Inside a package.json script or a local script (not this file's lines) only which
    variables an `.npmrc` is given is recorded: what a publish of the step reads.
    """
    nested = ctx.span_override is not None
    targets: list[tuple[Word, bool]] = [
        (r.target, r.appends) for r in command.redirects if r.writes_stdout and r.target is not None
    ]
    name = program_name(words[0]).lower() if words else ""
    if name == "tee":
        parsed = parse_arguments(words[1:], frozenset())
        appends = "-a" in parsed.flags or "--append" in parsed.flags
        targets.extend((w, appends) for w in parsed.positionals)
    elif name in ("out-file", "set-content", "add-content"):
        path_word, _ = _pwsh_file_args(words[1:])
        if path_word is not None:
            targets.append((path_word, name == "add-content"))
    if not targets:
        return
    content = _content(command, words, ctx)
    if content is None:
        return
    for target, _appends in targets:
        kind = _target_kind(target)
        if kind == "github-env" and not nested:
            _env_exports(content, ctx)
        elif kind == "npmrc":
            location = path_location(target, ctx)
            how = _how(command, words)
            _npmrc_content(content, ctx, shown_target(target), location, how, nested)


def shown_target(word: Word) -> str:
    """A written file's name for messages, cut at 80 characters."""
    return word.text if len(word.text) <= 80 else word.text[:79] + "…"


def _target_kind(word: Word) -> str | None:
    parts = word.parts
    if len(parts) == 1 and parts[0].kind == PARAM and parts[0].text.upper() == "GITHUB_ENV":
        return "github-env"
    if (
        len(parts) == 1
        and parts[0].kind == PARAM
        and parts[0].text.upper() == ("NPM_CONFIG_USERCONFIG")
    ):
        return "npmrc"
    last = parts[-1] if parts else None
    if last is not None and last.kind == LIT:
        base = re.split(r"[\\/]", last.text)[-1]
        if base == ".npmrc":
            return "npmrc"
    return None


def _how(command: Command, words: list[Word]) -> str:
    if any(r.heredoc is not None for r in command.redirects):
        return "a heredoc"
    if command.piped_from is not None and command.piped_from.words:
        # A PowerShell string piped into Out-File is no program: never quote its text.
        writer = program_word(command.piped_from.words[0].literal) or "a string"
        return f"`{writer} … | {program_word(words[0].literal) or '…'}`" if words else writer
    if words:
        return f"`{program_word(words[0].literal) or '…'}`"
    return "a redirection"


def _content(command: Command, words: list[Word], ctx: CommandContext) -> list[Part] | None:
    """The text a command writes to its output, as parts (None when unknowable)."""
    for redirect in command.redirects:
        if redirect.heredoc is not None and redirect.heredoc.body is not None:
            return redirect.heredoc.body.parts
        if redirect.op == "<<<" and redirect.target is not None:
            return [*redirect.target.parts, _newline(redirect.target.end)]
    name = program_name(words[0]).lower() if words else ""
    if name in ("tee", "out-file", "set-content", "add-content"):
        if name in ("set-content", "add-content"):
            _, value_word = _pwsh_file_args(words[1:])
            if value_word is not None:
                return [*value_word.parts, _newline(value_word.end)]
        source = command.piped_from
        if source is None or not source.words:
            return None
        return _content(source, source.words, ctx)
    if name in ("echo", "write-output", "write-host"):
        args = words[1:]
        while args and args[0].text in ("-n", "-e", "-E", "-ne", "-en"):
            args = args[1:]
        return _joined(args)
    if name == "printf":
        args = words[1:]
        if not args:
            return None
        return _printf(args)
    if name == "cat":
        return None
    if words and words[0].quoted and ctx.run is not None and ctx.run.shell == "pwsh":
        return _joined(words)
    return None


def _pwsh_file_args(args: list[Word]) -> tuple[Word | None, Word | None]:
    """The path and value of `Out-File` / `Set-Content` / `Add-Content` (any case)."""
    path: Word | None = None
    value: Word | None = None
    positional: list[Word] = []
    index = 0
    while index < len(args):
        text = args[index].text.lower()
        if text in ("-filepath", "-path", "-literalpath") and index + 1 < len(args):
            path = args[index + 1]
            index += 2
        elif text == "-value" and index + 1 < len(args):
            value = args[index + 1]
            index += 2
        elif text == "-encoding":
            index += 2
        elif text.startswith("-"):
            index += 1
        else:
            positional.append(args[index])
            index += 1
    if path is None and positional:
        path = positional.pop(0)
    if value is None and positional:
        value = positional[0]
    return path, value


def _newline(at: int) -> Part:
    return Part(LIT, "\n", at, at)


def _joined(args: list[Word]) -> list[Part]:
    parts: list[Part] = []
    for index, word in enumerate(args):
        if index:
            parts.append(Part(LIT, " ", word.start, word.start))
        parts.extend(word.parts)
    if args:
        parts.append(_newline(args[-1].end))
    return parts


def _printf(args: list[Word]) -> list[Part]:
    """printf FORMAT ARGS: `%s` takes the next argument; `\\n` is a line break."""
    parts: list[Part] = []
    values = list(args[1:])
    for part in args[0].parts:
        if part.kind != LIT:
            parts.append(part)
            continue
        text = part.text.replace("\\n", "\n")
        pieces = re.split(r"(%s|%b|%d)", text)
        offset = part.start
        for piece in pieces:
            if piece in ("%s", "%b", "%d"):
                if values:
                    parts.extend(values.pop(0).parts)
            elif piece:
                parts.append(Part(LIT, piece, offset, offset + len(piece), part.quote))
            offset += len(piece)
    return parts


def _lines(parts: list[Part]) -> Iterator[list[Part]]:
    """Split content parts into lines (literal parts cut at their line breaks)."""
    line: list[Part] = []
    for part in parts:
        if part.kind != LIT or "\n" not in part.text:
            line.append(part)
            continue
        position = 0
        for piece in part.text.split("\n")[:-1]:
            start = part.start + position
            if piece:
                line.append(Part(LIT, piece, start, start + len(piece), part.quote))
            yield line
            line = []
            position += len(piece) + 1
        tail = part.text.rsplit("\n", 1)[1]
        if tail:
            start = part.start + position
            line.append(Part(LIT, tail, start, start + len(tail), part.quote))
    if line:
        yield line


def _split_at(parts: list[Part], char: str) -> tuple[list[Part], list[Part]] | None:
    """Cut a line's parts at the first `char` in a literal part."""
    for index, part in enumerate(parts):
        if part.kind == LIT and char in part.text:
            cut = part.text.index(char)
            before = parts[:index]
            if cut:
                before.append(Part(LIT, part.text[:cut], part.start, part.start + cut, part.quote))
            after = parts[index + 1 :]
            if cut + 1 < len(part.text):
                rest = part.text[cut + 1 :]
                after.insert(
                    0,
                    Part(
                        LIT,
                        rest,
                        part.start + cut + 1,
                        part.start + cut + 1 + len(rest),
                        part.quote,
                    ),
                )
            return before, after
    return None


def _text(parts: list[Part]) -> str:
    return "".join(render_part(p) for p in parts)


def _env_exports(content: list[Part], ctx: CommandContext) -> None:
    for line in _lines(content):
        split = _split_at(line, "=")
        heredoc_name = None
        if split is None:
            text = _text(line).strip()
            match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)<<\S+", text)
            if match is None:
                continue
            heredoc_name = match.group(1)
            key_parts, value_parts = line, list[Part]()
        else:
            key_parts, value_parts = split
        name = heredoc_name or _text(key_parts).strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            continue
        secrets: list[str] = []
        variables: list[str] = []
        for part in value_parts:
            if part.kind == EXPR:
                secrets.extend(value_source("${{" + part.text + "}}").secrets)
            elif part.kind == PARAM:
                variables.append(part.text)
        npm_related = is_credential_name(name) or any(is_credential_name(s) for s in secrets)
        npm_related = npm_related or any(
            is_credential_name(v) or bool(ctx.env.get(v, value_source("")).npm_secrets)
            for v in variables
        )
        if not npm_related or not (secrets or variables or heredoc_name):
            continue
        start = line[0].start
        ctx.facts.env_exports.append(
            EnvExport(name, ctx.span(start), tuple(secrets), tuple(variables))
        )


def _npmrc_content(
    content: list[Part],
    ctx: CommandContext,
    target: str,
    location: str,
    how: str,
    references_only: bool = False,
) -> None:
    for line in _lines(content):
        stripped = _text(line).lstrip()
        if not stripped or stripped[0] in "#;":
            continue
        split = _split_at(line, "=")
        if split is None:
            continue
        key_parts, value_parts = split
        setting = _text(key_parts).strip()
        if references_only:
            _record_references(setting, value_parts, ctx)
        else:
            _record_setting(setting, value_parts, ctx, target, location, how, ini=True)


def _record_references(setting: str, value_parts: list[Part], ctx: CommandContext) -> None:
    """The variables an auth setting written by a nested script is given."""
    name = setting.rsplit(":", 1)[-1] if ":" in setting else setting
    if name not in AUTH_SETTINGS:
        return
    names = [p.text for p in value_parts if p.kind == PARAM]
    for part in value_parts:
        if part.kind == LIT:
            names.extend(m.group(2) for m in ENV_REFERENCE_RE.finditer(part.text))
    if names:
        ctx.facts.npmrc_references = ctx.facts.npmrc_references | frozenset(names)


def _record_setting(
    setting: str,
    value_parts: list[Part],
    ctx: CommandContext,
    target: str,
    location: str,
    how: str,
    *,
    ini: bool,
) -> None:
    name = setting.rsplit(":", 1)[-1] if ":" in setting else setting
    if name not in AUTH_SETTINGS:
        return
    parts = _trim(value_parts, ini=ini)
    secrets: list[str] = []
    variables: list[str] = []
    command_output = False
    literal_chunks: list[Part] = []
    for part in parts:
        if part.kind == EXPR:
            source = value_source("${{" + part.text + "}}")
            if source.secrets:
                secrets.extend(source.secrets)
            elif not source.github_token:
                variables.append("${{" + part.text + "}}")
        elif part.kind == PARAM:
            variables.append(part.text)
        elif part.kind == CMDSUB:
            command_output = True
        else:
            literal_chunks.append(part)
    literal = "".join(p.text for p in literal_chunks)
    unexpanded: list[UnexpandedText] = []
    if ctx.run is not None and ctx.run.shell == "pwsh" and ctx.span_override is None:
        # `'…=$env:NPM_TOKEN'`: PowerShell leaves it in single quotes, npm never expands
        # it. One variable, not `$env` plus a literal `:NPM_TOKEN`; blanked (offsets kept)
        # so the rest of the reading sees neither.
        for match in _PWSH_ENV_RE.finditer(literal):
            span = _literal_span(literal_chunks, match.start(), match.end(), ctx)
            unexpanded.append(UnexpandedText(match.group(), "$env:VAR", span))
        literal = _PWSH_ENV_RE.sub(lambda m: " " * len(m.group()), literal)
    references = tuple(m.group(2) for m in ENV_REFERENCE_RE.finditer(literal))
    for variable in unexpanded_variables(literal):
        span = _literal_span(literal_chunks, variable.start, variable.end, ctx)
        unexpanded.append(UnexpandedText(variable.text, variable.form, span))
    unexpanded.sort(key=lambda u: (u.span.line, u.span.column))
    remainder = ENV_REFERENCE_RE.sub("", literal)
    for variable in unexpanded_variables(remainder):
        remainder = remainder.replace(variable.text, "")
    remainder = remainder.strip().strip("\"'")
    literal_value = "" if not remainder or is_placeholder(remainder) else remainder
    literal_span = None
    if literal_value and literal_chunks:
        index = literal.find(literal_value)
        literal_span = _literal_span(
            literal_chunks, max(index, 0), max(index, 0) + len(literal_value), ctx
        )
    start = parts[0].start if parts else (value_parts[0].start if value_parts else 0)
    ctx.facts.config_writes.append(
        ConfigWrite(
            span=ctx.span(start),
            setting=setting,
            target=target,
            location=location,
            how=how,
            secrets=tuple(dict.fromkeys(secrets)),
            variables=tuple(dict.fromkeys(variables)),
            command_output=command_output,
            references=references,
            unexpanded=tuple(unexpanded),
            literal=literal_value,
            literal_span=literal_span,
        )
    )
    # The variables whose value the file will hold (`…:_authToken=$NPM_TOKEN`) are what a
    # publish in this step or a later one authenticates with, as much as the `${X}` npm
    # expands when it reads the file.
    shell_variables = tuple(v for v in variables if not v.startswith("${{"))
    if references or shell_variables:
        ctx.facts.npmrc_references = ctx.facts.npmrc_references | frozenset(
            (*references, *shell_variables)
        )


def _trim(parts: list[Part], *, ini: bool) -> list[Part]:
    """The value as npm's ini reader keeps it: trimmed, cut at `;` or `#`."""
    kept: list[Part] = []
    for part in parts:
        if part.kind == LIT and ini:
            cut = re.search(r"(?<!\\)[;#]", part.text)
            if cut is not None:
                if cut.start():
                    kept.append(
                        Part(
                            LIT,
                            part.text[: cut.start()],
                            part.start,
                            part.start + cut.start(),
                            part.quote,
                        )
                    )
                break
        kept.append(part)
    while kept and kept[0].kind == LIT and not kept[0].text.strip():
        kept.pop(0)
    if kept and kept[0].kind == LIT:
        first = kept[0]
        lead = len(first.text) - len(first.text.lstrip())
        kept[0] = Part(LIT, first.text[lead:], first.start + lead, first.end, first.quote)
    while kept and kept[-1].kind == LIT and not kept[-1].text.strip():
        kept.pop()
    if kept and kept[-1].kind == LIT:
        last = kept[-1]
        kept[-1] = Part(LIT, last.text.rstrip(), last.start, last.end, last.quote)
    return kept


def _literal_span(chunks: list[Part], start: int, end: int, ctx: CommandContext) -> Span:
    """The file span of `literal[start:end]`, where literal joins `chunks`."""
    position = 0
    for chunk in chunks:
        if position + len(chunk.text) > start:
            offset = chunk.start + (start - position)
            return ctx.span(offset, offset + (end - start))
        position += len(chunk.text)
    return ctx.span(chunks[-1].start if chunks else 0)


def npm_config_set(
    parsed: Arguments, sub: str, command: Command, ctx: CommandContext, tool: str = "npm"
) -> None:
    """`npm config set KEY=VALUE` (or `KEY VALUE`, also `pnpm config set`): an auth
    setting written to a config file."""
    positionals = parsed.positionals[1:]
    if sub in ("config", "c"):
        if positionals and positionals[0].text in ("delete", "rm", "remove"):
            ctx.facts.config_deletes.extend(w.text for w in positionals[1:])
            return
        if not positionals or positionals[0].text != "set":
            return
        positionals = positionals[1:]
    if not positionals:
        return
    location_flag = parsed.flags.get("--location") or parsed.flags.get("-L")
    if "--global" in parsed.flags or "-g" in parsed.flags or location_flag == "global":
        location, target = "global", f"{tool} config (global)"
    elif location_flag == "project":
        location, target = ctx.location, f"{tool} config (project .npmrc)"
    elif "--userconfig" in parsed.flags:
        word = parsed.flag_spans["--userconfig"]
        index = command.words.index(word) if word in command.words else -1
        given = command.words[index + 1] if 0 <= index < len(command.words) - 1 else None
        location = path_location(given, ctx) if given is not None else "unknown"
        target = f"{tool} config ({parsed.flags['--userconfig']})"
    else:
        location, target = "user-config", f"{tool} config (user)"
    pairs: list[tuple[str, list[Part]]] = []
    index = 0
    while index < len(positionals):
        word = positionals[index]
        split = _split_at(word.parts, "=")
        if split is not None and _text(split[0]).strip():
            pairs.append((_text(split[0]).strip(), split[1]))
            index += 1
        elif index + 1 < len(positionals):
            pairs.append((word.text, positionals[index + 1].parts))
            index += 2
        else:
            index += 1
    for setting, value in pairs:
        how = f"`{tool} config set`"
        _record_setting(setting, value, ctx, target, location, how, ini=False)
