"""The actions npm-guard knows by name: what each publishes, ships or checks out.

`changesets/action` runs its `publish:` (v1) or `publish-script:` (v2) input,
`JS-DevTools/npm-publish` publishes with its `token` input, semantic-release wrappers
read `NPM_TOKEN`, `actions/setup-node` with `registry-url` writes an `.npmrc` that reads
`NODE_AUTH_TOKEN`, `actions/upload-artifact` and caches ship the workspace,
`actions/checkout` of a pull request's head runs untrusted code and its `path:` says
where the repository is. An action npm-guard does not know, or a reusable workflow of
another repository, that is handed an npm token is presumed to publish with it.
"""

from __future__ import annotations

import posixpath
import re

from npm_guard.lazy_pattern import lazy_compile
from npm_guard.workflow.labels import script_summary
from npm_guard.workflow.model import Publish
from npm_guard.workflow.package_managers import TOOL_READS
from npm_guard.workflow.positions import node_span
from npm_guard.workflow.shell import read_script

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import Input, Job, Step

# What actions/setup-node with `registry-url` writes into $RUNNER_TEMP/.npmrc (and points
# NPM_CONFIG_USERCONFIG at) refers to this variable.
SETUP_NODE_REFERENCE = "NODE_AUTH_TOKEN"

UNTRUSTED_REF_RE = lazy_compile(
    r"head\.(?:sha|ref)|head_ref|head_sha|head_branch|head\.repo|refs/pull/|"
    r"pull_request\.number|issue\.number|merge_commit_sha|event\.number",
    re.IGNORECASE,
)


PUBLISH_ACTIONS: dict[str, tuple[str, frozenset[str] | None, str | None]] = {
    # action → (what it runs, variables it reads, its token input)
    "js-devtools/npm-publish": ("npm publish", None, "token"),
    "cycjimmy/semantic-release-action": ("semantic-release", TOOL_READS, None),
    "codfish/semantic-release-action": ("semantic-release", TOOL_READS, None),
    "pascalgn/npm-publish-action": ("npm publish", None, None),
    "primer/publish": ("npm publish", None, None),
    "mikeal/merge-release": ("npm publish", None, None),
    "epeli/npm-release": ("npm publish", None, None),
}

_SHIPPING_ACTIONS = {
    "actions/upload-artifact": "uploads an artifact",
    "actions/cache": "saves a cache",
    "actions/cache/save": "saves a cache",
    "docker/build-push-action": "builds a Docker image",
    "actions/upload-pages-artifact": "uploads a Pages artifact",
}


# Actions that take an npm token to install, read or audit packages, never to publish.
_READING_ACTIONS = frozenset(
    {
        "npm-guard/npm-guard",  # this project's Action: its audit reads with the token
        "bahmutov/npm-install",
        "pnpm/action-setup",
        "oven-sh/setup-bun",
        "cypress-io/github-action",
        "renovatebot/github-action",
        "dependabot/fetch-metadata",
    }
)

# Actions read by name here: an npm token handed to one of them is not a presumed publish.
KNOWN_ACTIONS = frozenset(
    {
        *PUBLISH_ACTIONS,
        *_SHIPPING_ACTIONS,
        *_READING_ACTIONS,
        "changesets/action",
        "googleapis/release-please-action",
        "google-github-actions/release-please-action",
    }
)


def analyze_uses(step: Step, action: str, registry: str | None) -> None:
    """The facts of a step's `uses:` of an action known by name."""
    facts = step.facts
    uses_span = node_span(step.uses_node) if step.uses_node is not None else step.span
    if action == "actions/setup-node":
        url = step.inputs.get("registry-url")
        if url is not None and url.text.strip():
            facts.sets_registry = url.text.strip()
    elif action == "actions/checkout":
        for name in ("ref", "repository"):
            given = step.inputs.get(name)
            if given is not None and UNTRUSTED_REF_RE.search(given.text):
                facts.untrusted_checkout = given.span
    elif action == "actions/npm":
        args = step.inputs.get("args")
        if args is not None and re.search(r"(?:^|\s)publish(?:\s|$)", args.text):
            facts.publishes.append(Publish(args.span, "npm publish", registry=registry))
    elif action in PUBLISH_ACTIONS:
        command, reads, token_input = PUBLISH_ACTIONS[action]
        given_registry = step.inputs.get("registry")
        token = step.inputs.get(token_input) if token_input else None
        facts.publishes.append(
            Publish(
                uses_span,
                command,
                via=(step.uses or action,),
                registry=given_registry.text.strip() if given_registry else registry,
                reads=reads,
                token_input=token,
            )
        )
    for prefix, what in _SHIPPING_ACTIONS.items():
        if action == prefix:
            facts.ships_workspace = what


def token_input_of(action: str) -> str | None:
    """The input through which a known publishing action takes its npm token."""
    known = PUBLISH_ACTIONS.get(action)
    return known[2] if known is not None else None


def changesets_script(step: Step) -> tuple[Input, bool] | None:
    """changesets/action's publish script and whether it is v2 (`publish-script:`).

    v1 writes NPM_TOKEN into `~/.npmrc` before it runs `publish:`; v2 (2026-08-11)
    renamed the input and removed every `.npmrc` handling (changesets/action
    `CHANGELOG.md` 2.0.0, #695), so there npm reads only what an `.npmrc` refers to.
    """
    for name, v2 in (("publish-script", True), ("publish", False)):
        given = step.inputs.get(name)
        if given is not None and given.text.strip():
            return given, v2
    return None


def changesets_fallback(step: Step, given: Input, v2: bool, registry: str | None) -> Publish:
    """The publish of changesets/action when its script could not be followed."""
    return Publish(
        given.span,
        script_summary(read_script(given.text)) or "…",
        via=("changesets/action",),
        registry=registry,
        reads=changesets_reads(v2),
    )


def changesets_reads(v2: bool) -> frozenset[str]:
    """What changesets/action itself hands the publish: v1 writes NPM_TOKEN into
    `~/.npmrc` (v1.9.0 `src/index.ts` 73-121); v2 nothing."""
    return frozenset() if v2 else frozenset({"NPM_TOKEN"})


def checkout_target(step: Step) -> tuple[bool, str] | None:
    """What an `actions/checkout` step checks out where: (this repository?, its
    directory relative to the workspace, "." for the workspace itself); None for any
    other step."""
    if step.action != "actions/checkout":
        return None
    repository = step.inputs.get("repository")
    this = repository is None or repository.text.replace(" ", "") in (
        "",
        "${{github.repository}}",
    )
    path = step.inputs.get("path")
    text = path.text.strip() if path is not None else ""
    if not text or "${{" in text:
        return this, "."
    directory = posixpath.normpath(text)
    if directory.startswith(("../", "/")) or directory == "..":
        return this, "."
    return this, directory


_RELEASE_ACTION_RE = lazy_compile(r"publish|release|changeset|semantic|deploy")


def presumed_action_publish(
    step: Step, handed: list[str], token_input: Input | None, registry: str | None
) -> Publish:
    """An action npm-guard does not know, handed an npm token at the step (in its env,
    or as `token_input`): most such actions publish with it (a release or changesets
    action of another repository)."""
    action = step.action or ""
    uses = step.uses or action
    likely = _RELEASE_ACTION_RE.search(action) is not None
    return Publish(
        node_span(step.uses_node) if step.uses_node is not None else step.span,
        uses.strip(),
        registry=registry,
        reads=None,
        token_input=token_input,
        inferred=(
            f"{action} is an action npm-guard does not know; it is handed "
            f"{_names(handed)}, so it presumably publishes with it, and the token leaves "
            "this repository's control"
        ),
        confidence="medium" if likely else "low",
    )


def presumed_call_publish(job: Job, handed: list[str]) -> Publish:
    """A reusable workflow of another repository handed an npm secret: it presumably
    publishes with it (its steps cannot be read here)."""
    uses = (job.uses or "").strip()
    return Publish(
        node_span(job.uses_node) if job.uses_node is not None else job.span,
        uses,
        reads=None,
        inferred=(
            f"{uses.split('@', 1)[0]} is a reusable workflow of another repository, which "
            f"cannot be read here; it is handed {_names(handed)}, so it presumably "
            "publishes with it, and the token leaves this repository's control"
        ),
        confidence="medium",
    )


def _names(handed: list[str]) -> str:
    shown = ", ".join(dict.fromkeys(handed))
    return f"the npm credential{'s' if len(set(handed)) > 1 else ''} {shown}"
