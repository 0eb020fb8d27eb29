"""Whether a workflow's text gives the engine anything to analyse besides literal tokens.

Every workflow rule but `workflow-plaintext-credential`'s token search reports on one of
these: an npm credential (a variable or secret named for npm or `NODE_AUTH_TOKEN`,
`toJSON(secrets)`, an npm auth setting such as `_authToken`, `_auth`, `_password` or
Yarn's `npmAuthToken`, a secret inherited by a local reusable workflow, a publishing
action's token input), a publish (npm, pnpm, yarn, bun, npx and the release tools and
actions the engine knows), `npm token create`, or an `.npmrc` a step writes. The engine
also follows what a step runs into other files of the repository (a local reusable
workflow or action, a shell, PowerShell or JavaScript file, package.json scripts), whose
text it cannot see from here. `mentions_npm()` is True when the text holds anything
that could lead to one of those: a word in `_MARKERS` anywhere (case-insensitive), a
command word in `_PROGRAMS`, a relative path, or a script's file name. When it is False
the model and its analysis can be skipped: the findings are those of the token search.

This errs towards True (`release` in a job name, `node` in a matrix, `./...` in `go
test` make a workflow "mention npm"): a false True costs time, a false False a finding.
`tests/workflow/test_npm_text.py` checks both ways on every workflow fixture.
"""

from __future__ import annotations

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.yaml_loader import YamlNode

# Substrings, lower-cased. `npm` covers pnpm, npmrc, npmjs, NPM_TOKEN, npmAuthToken;
# `node` covers setup-node, NODE_AUTH_TOKEN and the JavaScript runners named for it;
# `auth` and `password` npm's auth settings.
_MARKERS = (
    "npm",
    "npx",
    "pnx",
    "node",
    "yarn",
    "deno",
    "auth",
    "password",
    "publish",
    "release",  # semantic-release, release-it, nx release, merge-release actions
    "registry",
    "changeset",
    "lerna",
    "monodeploy",
    "corepack",
    "tojson",  # toJSON(secrets) hands out every secret, npm's among them
    "inherit",  # `secrets: inherit` into a local reusable workflow
    "./",  # a local action, reusable workflow or script
    ".\\",  # the same, PowerShell's way
    "../",
)
# Whole words (a run's command names), where a substring would match everyday text:
# `bun` is in `ubuntu`, `sh` in `push`.
_PROGRAMS = frozenset(
    {
        "bun",
        "bunx",
        "pn",
        "np",
        "nx",
        "sh",
        "bash",
        "zsh",
        "dash",
        "source",
        ".",
        "eval",
        "tsx",
        "esno",
        "esr",
        "zx",
        "jiti",
        "pwsh",
        "powershell",
    }
)
_SCRIPT_SUFFIXES = (
    ".sh",
    ".bash",
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".mts",
    ".cts",
    ".jsx",
    ".tsx",
    ".ps1",
)
_PUNCTUATION = "\"'`;|&(){}[]<>,=:$"


def mentions_npm(text: str) -> bool:
    """Whether `text` (a workflow's scalars as YAML decodes them, one per line) may hold
    anything but literal tokens for the workflow rules (see the module's docstring);
    False only when nothing in it can."""
    lowered = text.lower()
    if "$'" in lowered or any(marker in lowered for marker in _MARKERS):
        return True
    # What a shell makes of `n"p"m`, `n\pm`, PowerShell's `n`pm`: npm. ($'\156pm' is
    # refused above.) Then the markers again, and the words.
    for quote in _QUOTING:
        lowered = lowered.replace(quote, "")
    if any(marker in lowered for marker in _MARKERS):
        return True
    for raw in lowered.split():
        word = raw.strip(_PUNCTUATION)
        if word in _PROGRAMS or word.endswith(_SCRIPT_SUFFIXES):
            return True
    return False


_QUOTING = ("\\\n", "\\", '"', "'", "`")


def scalar_text(root: YamlNode | None) -> str:
    """Every scalar of a document (keys too) as YAML decodes it, one per line: what the
    engine reads, whatever escapes or folding the file spells it with."""
    from npm_guard.workflow.yaml_loader import MappingNode, ScalarNode, SequenceNode

    values: list[str] = []
    pending: list[YamlNode] = [] if root is None else [root]
    seen: set[int] = set()
    while pending:
        node = pending.pop()
        if id(node) in seen:  # an alias: its nodes were read where the anchor is
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            values.append(node.value)
        elif isinstance(node, SequenceNode):
            pending.extend(node.items)
        elif isinstance(node, MappingNode):
            for key, value in node.pairs:
                pending.append(key)
                pending.append(value)
    return "\n".join(values)
