"""What the workflow rules share: questions about credentials, publishes and steps."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from npm_guard.findings import Confidence, Finding, Rule

TYPE_CHECKING = False  # importing typing costs start-up time; mypy reads the branch
if TYPE_CHECKING:
    from npm_guard.workflow.model import NpmCredential, Publish, Step, TokenCreate, Workflow

# Credential lifetimes (the values of npm_guard.workflow.model.LITERAL / EPHEMERAL: the
# model is not imported here, so registering the rules costs the .npmrc hook nothing).
LITERAL = "literal"
EPHEMERAL = "ephemeral"

SETUP_NODE_VARIABLE = "NODE_AUTH_TOKEN"  # what actions/setup-node's `.npmrc` refers to
NPMJS_HOSTS = ("registry.npmjs.org", "registry.npmjs.com", "registry.yarnpkg.com")
NPM_CONFIG_AUTH = ("_authtoken", "_auth", "_password")

TOKEN_CREATE_TIP = (
    "Create CI tokens read-only, limited to the runner's addresses and short-lived: "
    "`npm token create --name ci-install --packages-and-scopes-permission read-only "
    "--packages <package> --cidr <runner range, e.g. 203.0.113.0/24> --expires 30`; "
    "publish with trusted publishing instead of a write token."
)

TRUSTED_PUBLISHING_TIP = (
    "Publish with trusted publishing instead: give the publishing job `permissions: "
    "id-token: write`, keep actions/setup-node's `registry-url`, drop the token and run "
    "`npm publish` with npm >= 11.5.1 (configure the package once: `npm trust github "
    "<package> --file <workflow>.yml --allow-publish`). Where OIDC is not available, "
    "`npm stage publish` lets a maintainer approve each release with 2FA."
)


def is_npmjs(registry: str | None) -> bool:
    """The public registry, where trusted publishing exists (None: npm's default)."""
    if registry is None or not registry.strip():
        return True
    text = registry.strip()
    if "${{" in text:
        return True  # an expression: most likely the default, judged as such
    bare = text.lower().rstrip("/")
    for scheme in ("https://", "http://"):
        if bare.startswith(scheme):
            bare = bare[len(scheme) :]
            break
    if bare in NPMJS_HOSTS:
        return True  # the usual spelling, answered without urlsplit
    from urllib.parse import urlsplit  # only here: it and ipaddress cost start-up time

    try:
        host = urlsplit(text if "//" in text else "https://" + text).hostname or ""
    except ValueError:  # not a URL npm could use either
        return False
    return host in NPMJS_HOSTS


def flowing(credential: NpmCredential) -> bool:
    """A credential the flow rules judge: stored or provided (literals are plaintext's)."""
    return credential.lifetime not in (EPHEMERAL, LITERAL)


def read_by(credential: NpmCredential, publish: Publish, step: Step) -> bool:
    """Whether the publishing tool is known to read this credential.

    npm reads NODE_AUTH_TOKEN through setup-node's `.npmrc`, `npm_config_…` auth
    variables directly, and any variable an `.npmrc` of the repository or of an earlier
    step refers to; release tools also read NPM_TOKEN; inputs, inline flags, exported
    variables and written `.npmrc` files are read by construction.
    """
    if credential.via in ("with", "run", "npmrc", "secrets"):
        return True
    name = credential.name
    if name.lower().startswith("npm_config_") and name.lower().endswith(NPM_CONFIG_AUTH):
        return True
    if name in step.facts.npmrc_references:
        return True
    if publish.reads is None:
        return True
    return name in publish.reads


def publishing_credentials(step: Step, publish: Publish) -> list[tuple[NpmCredential, bool]]:
    """The long-lived credentials a publish can authenticate with, and whether it reads each."""
    found: list[tuple[NpmCredential, bool]] = []
    if publish.token_input is not None:
        for credential in step.credentials:
            if (
                credential.via == "with"
                and credential.name == publish.token_input.name
                and credential.lifetime != EPHEMERAL
            ):
                found.append((credential, True))
    for credential in step.credentials:
        if credential.lifetime == EPHEMERAL or any(c is credential for c, _ in found):
            continue
        if not _sent_to(credential, publish):
            continue
        if credential.via == "with" and (
            publish.token_input is None or credential.name != publish.token_input.name
        ):
            continue
        read = read_by(credential, publish, step)
        if not read and wired_to_another(credential, publish, step):
            continue
        found.append((credential, read))
    found.sort(key=lambda pair: not pair[1])
    return found


def wired_to_another(credential: NpmCredential, publish: Publish, step: Step) -> bool:
    """npm is known to take its npmjs token from another variable, so this one is unused.

    actions/setup-node's `registry-url` points npm's user config at an `.npmrc` whose
    token for that registry is `${NODE_AUTH_TOKEN}`: a publish there with only
    `NPM_TOKEN` in the env sends nothing from it (and with `id-token: write` and npm >=
    11.5.1, publishes through OIDC).
    """
    return (
        credential.via == "env"
        and credential.name != SETUP_NODE_VARIABLE
        and publish.registry is not None
        and is_npmjs(publish.registry)
        and any(s.facts.sets_registry for s in step.job.steps[: step.index + 1])
        and SETUP_NODE_VARIABLE in step.facts.npmrc_references
    )


def presumed_confidence(publish: Publish, otherwise: Confidence | None) -> Confidence | None:
    """The lower of a publish's own confidence (one read from a file's text or presumed
    from a token handed to an unknown action) and `otherwise`."""
    order = [Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH]
    own = Confidence(publish.confidence) if publish.confidence else None
    candidates = [c for c in (own, otherwise) if c is not None]
    return min(candidates, key=order.index) if candidates else None


def _sent_to(credential: NpmCredential, publish: Publish) -> bool:
    """Whether npm would send this credential to the publish's registry: an .npmrc auth
    setting scoped to another host (`//firewall.example/:_authToken`) is not sent."""
    host = credential.registry_host
    if host is None:
        return True
    if is_npmjs(publish.registry):
        return host in NPMJS_HOSTS
    target = (publish.registry or "").lower()
    return f"//{host}/" in target or f"//{host}:" in target or target.rstrip("/").endswith(host)


def live_publishes(step: Step) -> Iterator[Publish]:
    """Publishes to npmjs that authenticate like a plain publish (staged ones excluded)."""
    for publish in step.facts.publishes:
        if not publish.staged and is_npmjs(publish.registry):
            yield publish


# npm sub-commands that change the registry: a token they need is a write token.
WRITE_COMMANDS = frozenset(
    f"npm {sub}"
    for sub in ("dist-tag", "dist-tags", "access", "owner", "deprecate", "unpublish", "trust")
)


def writes_to_registry(step: Step) -> bool:
    """The step publishes, creates a token or changes the registry (`npm dist-tag`, …)."""
    facts = step.facts
    return bool(
        facts.publishes or facts.token_creates or WRITE_COMMANDS & set(facts.registry_commands)
    )


def writes_with(step: Step, credential: NpmCredential) -> bool:
    """The step writes to the registry `credential` is sent to: a token scoped to another
    host (`//firewall.example/npm/:_authToken`) is not what a publish to npmjs uses, and a
    token npm sends to npmjs is not used by a publish elsewhere."""
    if not writes_to_registry(step):
        return False
    if credential.registry_host is None:
        return True
    if step.facts.token_creates or WRITE_COMMANDS & set(step.facts.registry_commands):
        return credential.registry_host in NPMJS_HOSTS  # npm's default registry
    return any(_sent_to(credential, publish) for publish in step.facts.publishes)


def steps_seeing(workflow: Workflow, credential: NpmCredential) -> list[Step]:
    return [step for step in workflow.steps() if any(c is credential for c in step.credentials)]


def exposure(step: Step) -> tuple[str, bool] | None:
    """Why a step seeing a credential it does not need matters, and whether badly."""
    for code in step.facts.dependency_code:
        if code.lifecycle_scripts:
            return f"`{code.command}` runs dependencies' install scripts", True
    for code in step.facts.dependency_code:
        return f"`{code.command}` runs code from packages", True
    if step.third_party_action:
        return f"third-party action {step.uses}", True
    return None


def token_creates(workflow: Workflow) -> Iterator[tuple[Step, TokenCreate, int, str]]:
    """Every `npm token create` with a numbering per step and words saying where it is."""
    for step in workflow.steps():
        for number, create in enumerate(step.facts.token_creates, start=1):
            where = f"in {step.job.label}, {step.label}"
            if create.via:
                where += f" (through {' → '.join(create.via)})"
            yield step, create, number, where


def token_create_findings(
    workflow: Workflow, rule: Rule, problem: Callable[[TokenCreate], str | None]
) -> Iterator[Finding]:
    """One finding of `rule` per `npm token create` for which `problem` says what is wrong.

    The four `workflow-token-create-*` rules differ only in that question.
    """
    for step, create, number, where in token_creates(workflow):
        wrong = problem(create)
        if wrong is None:
            continue
        yield Finding(
            rule=rule,
            location=workflow.location(create.span),
            message=f"`npm token create` {where} {wrong}",
            key=f"{step.key}/token-create:{number}",
        )
