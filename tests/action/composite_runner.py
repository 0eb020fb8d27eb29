"""A local runner for composite actions, faithful where npm-guard's action.yml needs it.

It reads `action.yml`, runs its `run:` steps in order with real bash and the runner's
`shell: bash` command line (`bash --noprofile --norc -eo pipefail {0}`), gives each step
a GitHub-like environment (`GITHUB_WORKSPACE`, `GITHUB_ACTION_PATH`, `RUNNER_TEMP`,
fresh `GITHUB_OUTPUT` / `GITHUB_STEP_SUMMARY` / `GITHUB_ENV` / `GITHUB_PATH` files),
and processes what the steps print the way the runner does: `::add-mask::` hides a
value in every later line, `::error` / `::warning` / `::notice` become annotations.

`uses:` steps cannot run here; each must have a substitute (setup-python gives the
current interpreter, upload-sarif checks the file it would upload).

Expressions are not evaluated with `eval`: a small parser understands exactly the
forms action.yml uses — `inputs.*`, `github.*`, `runner.*`, `env.*`,
`steps.<id>.outputs.*` / `.outcome`, string literals, `==`, `!=`, `!`, `&&`, `||`,
parentheses and the status functions — and refuses anything else.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BASH = ("bash", "--noprofile", "--norc", "-eo", "pipefail")
_TEMPLATE_RE = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
# The commands the runner registers (ActionCommandManager); any other name is plain text.
RUNNER_COMMANDS = frozenset(
    {
        "add-mask",
        "add-matcher",
        "add-path",
        "debug",
        "echo",
        "endgroup",
        "error",
        "group",
        "notice",
        "remove-matcher",
        "save-state",
        "set-env",
        "set-output",
        "stop-commands",
        "warning",
    }
)
_TOKEN_RE = re.compile(
    r"\s*(?:(?P<op>==|!=|&&|\|\||!|\(|\)|\.)|'(?P<str>(?:[^']|'')*)'"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_-]*))"
)
_STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


class ExpressionError(ValueError):
    """An expression this runner does not understand (so the test fails loudly)."""


@dataclass
class Annotation:
    level: str  # "error", "warning" or "notice"
    message: str
    properties: dict[str, str]


@dataclass
class StepResult:
    id: str
    name: str
    outcome: str  # "success", "failure" or "skipped"
    exit_code: int | None = None
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    """Everything a run of the action left behind, as GitHub would have it."""

    steps: list[StepResult]
    outputs: dict[str, str]
    raw_log: str  # what the steps printed, before the runner masked anything
    log: list[str]  # the lines a user sees: masked, commands not shown
    masks: list[str]
    annotations: list[Annotation]
    summary: str
    uploaded_sarif: list[Path]

    @property
    def succeeded(self) -> bool:
        return all(step.outcome != "failure" for step in self.steps)

    def step(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.id == step_id)


@dataclass
class Context:
    """What expressions can see while the action runs."""

    inputs: dict[str, str]
    github: dict[str, str]
    runner: dict[str, str]
    env: dict[str, str]
    steps: dict[str, StepResult] = field(default_factory=dict)
    failed: bool = False


Substitute = Callable[[Mapping[str, str], Context], dict[str, str]]


# --- expressions -----------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read expression at {text[position:]!r}")
        position = match.end()
        if match.group("op") is not None:
            out.append(("op", match.group("op")))
        elif match.group("str") is not None:
            out.append(("str", match.group("str").replace("''", "'")))
        else:
            out.append(("word", match.group("word")))
    return out


class _Parser:
    def __init__(self, text: str, context: Context) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.context = context
        self.text = text

    def parse(self) -> object:
        value = self._or()
        if self.position != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.position]!r} in {self.text!r}")
        return value

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, kind: str, value: str | None = None) -> str:
        token = self._peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or kind} in {self.text!r}")
        self.position += 1
        return token[1]

    def _or(self) -> object:
        value = self._and()
        while self._peek() == ("op", "||"):
            self.position += 1
            right = self._and()
            value = value if _truthy(value) else right
        return value

    def _and(self) -> object:
        value = self._not()
        while self._peek() == ("op", "&&"):
            self.position += 1
            right = self._not()
            value = right if _truthy(value) else value
        return value

    def _not(self) -> object:
        if self._peek() == ("op", "!"):
            self.position += 1
            return not _truthy(self._not())
        return self._comparison()

    def _comparison(self) -> object:
        left = self._primary()
        token = self._peek()
        if token in (("op", "=="), ("op", "!=")):
            self.position += 1
            right = self._primary()
            equal = _loose_equal(left, right)
            return equal if token == ("op", "==") else not equal
        return left

    def _primary(self) -> object:
        token = self._peek()
        if token is None:
            raise ExpressionError(f"expression ends early: {self.text!r}")
        kind, value = token
        if (kind, value) == ("op", "("):
            self.position += 1
            inner = self._or()
            self._take("op", ")")
            return inner
        if kind == "str":
            self.position += 1
            return value
        if kind != "word":
            raise ExpressionError(f"unexpected {value!r} in {self.text!r}")
        self.position += 1
        if value in ("true", "false"):
            return value == "true"
        if value in _STATUS_FUNCTIONS:
            self._take("op", "(")
            self._take("op", ")")
            return self._status(value)
        path = [value]
        while self._peek() == ("op", "."):
            self.position += 1
            path.append(self._take("word"))
        return self._lookup(path)

    def _status(self, name: str) -> bool:
        if name == "always":
            return True
        if name == "cancelled":
            return False
        if name == "failure":
            return self.context.failed
        return not self.context.failed

    def _lookup(self, path: list[str]) -> str:
        root, rest = path[0], path[1:]
        ctx = self.context
        simple: dict[str, dict[str, str]] = {
            "inputs": ctx.inputs,
            "github": ctx.github,
            "runner": ctx.runner,
            "env": ctx.env,
        }
        if root in simple and len(rest) == 1:
            table = simple[root]
            if root in ("inputs", "github", "runner") and rest[0] not in table:
                raise ExpressionError(f"unknown {root}.{rest[0]}")
            return table.get(rest[0], "")
        if root == "steps" and len(rest) >= 2:
            step = ctx.steps.get(rest[0])
            if step is None:
                raise ExpressionError(f"no step with id {rest[0]!r} has run before this one")
            if rest[1:2] == ["outputs"] and len(rest) == 3:
                return step.outputs.get(rest[2], "")
            if rest[1] in ("outcome", "conclusion") and len(rest) == 2:
                return step.outcome
        raise ExpressionError(f"unsupported context reference {'.'.join(path)!r}")


def _truthy(value: object) -> bool:
    return bool(value)


def _loose_equal(left: object, right: object) -> bool:
    """GitHub compares strings case-insensitively."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return left == right


def evaluate(expression: str, context: Context) -> object:
    return _Parser(expression, context).parse()


def expand(template: str, context: Context) -> str:
    """`template` with every `${{ expr }}` replaced by its value as text."""

    def one(match: re.Match[str]) -> str:
        value = evaluate(match.group(1), context)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return _TEMPLATE_RE.sub(one, template)


def condition(text: str | bool | None, context: Context) -> bool:
    """A step's `if:`; without one, `success()`."""
    if text is None:
        return not context.failed
    if isinstance(text, bool):
        return text
    stripped = text.strip()
    match = re.fullmatch(r"\$\{\{(.*)\}\}", stripped, re.DOTALL)
    expression = match.group(1) if match else stripped
    if not any(f"{name}(" in expression for name in _STATUS_FUNCTIONS):
        expression = f"success() && ({expression})"
    return _truthy(evaluate(expression, context))


# --- files the runner reads after a step -----------------------------------------


def parse_file_commands(text: str) -> dict[str, str]:
    """`$GITHUB_OUTPUT` / `$GITHUB_ENV` content: `name=value` lines and `name<<DELIM` blocks."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            while True:
                if index >= len(lines):
                    raise ValueError(f"no closing delimiter {delimiter!r} for {name!r}")
                if lines[index] == delimiter:
                    index += 1
                    break
                body.append(lines[index])
                index += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise ValueError(f"invalid file command line: {line!r}")
    return values


def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def _unescape_legacy(text: str) -> str:
    for escaped, raw in (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%")):
        text = text.replace(escaped, raw)
    return text


@dataclass
class Command:
    name: str  # lower case: the runner compares command names case-insensitively
    properties: dict[str, str]
    data: str


def parse_command(line: str) -> Command | None:
    """The workflow command in a log line, read the way the runner reads it, or None.

    As actions/runner's ActionCommand: first `::name k=v,k=v::data` after the line's
    leading whitespace is trimmed, else the legacy `##[name k=v;k=v]data` anywhere in
    the line; only registered command names count, anything else is plain text.
    """
    text = line.lstrip()
    if text.startswith("::"):
        end = text.find("::", 2)
        if end >= 0:
            name, _, props = text[2:end].partition(" ")
            if name.lower() in RUNNER_COMMANDS:
                properties = {}
                for part in filter(None, props.strip().split(",")):
                    key, sep, value = part.partition("=")
                    if sep and key and value:
                        properties[key] = _unescape_property(value)
                return Command(name.lower(), properties, _unescape_data(text[end + 2 :]))
    start = line.find("##[")
    end = line.find("]", start) if start >= 0 else -1
    if end < 0:
        return None
    name, _, props = line[start + 3 : end].partition(" ")
    if name.lower() not in RUNNER_COMMANDS:
        return None
    properties = {}
    for part in filter(None, props.split(";")):
        key, sep, value = part.partition("=")
        if sep and key and value:
            properties[key] = _unescape_legacy(value)
    return Command(name.lower(), properties, _unescape_legacy(line[end + 1 :]))


# --- running ---------------------------------------------------------------------


@dataclass
class _Log:
    masks: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    def mask(self, text: str) -> str:
        for secret in sorted(self.masks, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def feed(self, output: str) -> None:
        self.raw.append(output)
        if not output:
            return
        # The runner reads lines split at CR, LF or CRLF, nothing else.
        for line in re.split(r"\r\n|\r|\n", re.sub(r"(?:\r\n|\r|\n)$", "", output)):
            command = parse_command(line)
            if command is None:
                self.lines.append(self.mask(line))
                continue
            name, data = command.name, command.data
            if name == "add-mask":
                if data:
                    self.masks.append(data)
            elif name in ("error", "warning", "notice"):
                properties = {key: self.mask(value) for key, value in command.properties.items()}
                self.annotations.append(Annotation(name, self.mask(data), properties))
            elif name in ("group", "endgroup", "debug"):
                self.lines.append(self.mask(f"[{name}] {data}"))
            else:
                raise ValueError(f"workflow command this runner does not handle: {line!r}")


def run_action(
    action_dir: Path,
    *,
    workspace: Path,
    temp: Path,
    inputs: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    substitutes: Mapping[str, Substitute] | None = None,
    base_env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> ActionRun:
    """Run the composite action in `action_dir` as a workflow step `uses: ./…` would.

    `inputs` are the step's `with:`, `env` its `env:`; `base_env` is the job's
    environment (by default a minimal one: PATH, HOME, LANG).
    """
    metadata = load_action(action_dir)
    runs = metadata["runs"]
    if runs.get("using") != "composite":
        raise ValueError("not a composite action")
    declared = metadata.get("inputs") or {}
    given = dict(inputs or {})
    unknown = set(given) - set(declared)
    if unknown:
        raise ValueError(f"inputs the action does not declare: {sorted(unknown)}")
    input_values = {
        name: _text(given.get(name, spec.get("default", ""))) for name, spec in declared.items()
    }
    temp.mkdir(parents=True, exist_ok=True)
    github = {
        "action_path": str(action_dir),
        "workspace": str(workspace),
        "event_name": "pull_request",
        "repository": "octo-org/octo-repo",
        "sha": "0" * 40,
        "server_url": "https://github.com",
    }
    runner = {"temp": str(temp), "os": "Linux"}
    job_env = dict(base_env if base_env is not None else _minimal_env())
    job_env.update(
        {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ACTION_PATH": str(action_dir),
            "GITHUB_EVENT_NAME": github["event_name"],
            "GITHUB_REPOSITORY": github["repository"],
            "GITHUB_SHA": github["sha"],
            "GITHUB_SERVER_URL": github["server_url"],
            "RUNNER_TEMP": str(temp),
            "RUNNER_OS": runner["os"],
        }
    )
    job_env.update(env or {})
    context = Context(inputs=input_values, github=github, runner=runner, env=dict(env or {}))
    subs = dict(substitutes or {})
    log = _Log()
    summaries: list[str] = []
    uploaded: list[Path] = []
    extra_path: list[str] = []

    for index, step in enumerate(runs["steps"]):
        step_id = str(step.get("id") or f"__step{index}")
        result = StepResult(id=step_id, name=str(step.get("name", step_id)), outcome="skipped")
        context.steps[step_id] = result
        if not condition(step.get("if"), context):
            continue
        if "uses" in step:
            ref = str(step["uses"]).split("@", 1)[0]
            substitute = subs.get(ref)
            if substitute is None:
                raise ValueError(f"no substitute for `uses: {step['uses']}`")
            with_values = {
                key: expand(_text(value), context)
                for key, value in (step.get("with") or {}).items()
            }
            if ref.endswith("upload-sarif"):
                uploaded.append(Path(with_values["sarif_file"]))
            result.outputs = substitute(with_values, context)
            result.outcome = "success"
            continue
        if step.get("shell") != "bash":
            raise ValueError(f"step {step_id}: only `shell: bash` run steps are supported")
        files = {
            name: temp / f"_runner_{index}_{name.lower()}"
            for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH")
        }
        for path in files.values():
            path.write_text("", encoding="utf-8")
        step_env = dict(job_env)
        step_env.update({name: str(path) for name, path in files.items()})
        for key, value in (step.get("env") or {}).items():
            step_env[str(key)] = expand(_text(value), context)
        if extra_path:
            step_env["PATH"] = os.pathsep.join([*extra_path, step_env.get("PATH", "")])
        script = temp / f"_runner_{index}.sh"
        script.write_text(expand(str(step["run"]), context), encoding="utf-8")
        process = subprocess.run(
            [*BASH, str(script)],
            cwd=workspace,
            env=step_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        log.feed(process.stdout.decode("utf-8", errors="replace"))
        result.exit_code = process.returncode
        result.outcome = "success" if process.returncode == 0 else "failure"
        result.outputs = parse_file_commands(files["GITHUB_OUTPUT"].read_text(encoding="utf-8"))
        summaries.append(files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"))
        job_env.update(parse_file_commands(files["GITHUB_ENV"].read_text(encoding="utf-8")))
        extra_path[:0] = [
            line for line in files["GITHUB_PATH"].read_text(encoding="utf-8").splitlines() if line
        ]
        if result.outcome == "failure":
            context.failed = True

    outputs = {
        name: expand(str(spec.get("value", "")), context)
        for name, spec in (metadata.get("outputs") or {}).items()
    }
    return ActionRun(
        steps=list(context.steps.values()),
        outputs=outputs,
        raw_log="".join(log.raw),
        log=log.lines,
        masks=log.masks,
        annotations=log.annotations,
        summary="".join(summaries),
        uploaded_sarif=uploaded,
    )


def _text(value: object) -> str:
    """A YAML scalar as the runner passes it on: `false` is the text "false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _minimal_env() -> dict[str, str]:
    """A job's environment: the basics, plus what pip needs to reach its index here."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    keep += ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    keep += ("NPM_GUARD_CACHE_DIR",)  # the test's own policy cache, not the real ~/.cache
    return {
        name: value for name, value in os.environ.items() if name in keep or name.startswith("PIP_")
    }


def load_action(action_dir: Path) -> dict[str, Any]:
    """The action's metadata, `action.yml`, as plain data."""
    data = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{action_dir / 'action.yml'} is not a mapping")
    return data
