"""The actions npm-guard knows by name: what each publishes, ships or checks out.

`changesets/action` runs its `publish:` input, `JS-DevTools/npm-publish` publishes with
its `token` input, semantic-release wrappers read `NPM_TOKEN`, `actions/setup-node`
with `registry-url` writes an `.npmrc` that reads `NODE_AUTH_TOKEN`,
`actions/upload-artifact` and caches ship the workspace, `actions/checkout` of a pull
request's head runs untrusted code.
"""

from __future__ import annotations

import re

from npm_guard.workflow.labels import script_summary
from npm_guard.workflow.model import Publish
from npm_guard.workflow.package_managers import TOOL_READS
from npm_guard.workflow.positions import node_span
from npm_guard.workflow.shell import read_script

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import Step

# What actions/setup-node with `registry-url` writes into $RUNNER_TEMP/.npmrc (and points
# NPM_CONFIG_USERCONFIG at) refers to this variable.
SETUP_NODE_REFERENCE = "NODE_AUTH_TOKEN"

UNTRUSTED_REF_RE = re.compile(
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
    elif action in ("changesets/action",):
        publish = step.inputs.get("publish")
        if publish is not None and publish.text.strip():
            facts.publishes.append(
                Publish(
                    publish.span,
                    script_summary(read_script(publish.text)) or "…",
                    via=("changesets/action",),
                    registry=registry,
                    reads=TOOL_READS,
                )
            )
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
