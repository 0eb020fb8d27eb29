"""docs/policy.md stays true: its examples validate, its error example is what npm-guard
prints, every schema key is documented, and the templates use the same schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from npm_guard.policy_load import PolicyError, parse_policy, policy_schema

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "policy.md"
INVALID_MARK = "<!-- invalid policy example -->"
FENCE_RE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
SCHEMA_LINE_RE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def blocks(text: str) -> list[tuple[str, str, int, bool]]:
    """(language, body, line, marked invalid) of every fenced block."""
    out = []
    for match in FENCE_RE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        line = text.count("\n", 0, match.start()) + 1
        out.append((match.group(1), match.group(2), line, before.strip() == INVALID_MARK))
    return out


DOC_BLOCKS = blocks(DOC.read_text("utf-8"))
VALID_EXAMPLES = [
    (body, line) for lang, body, line, bad in DOC_BLOCKS if lang == "yaml" and not bad
]


def as_policy(body: str) -> str:
    """A fragment (one section) becomes a whole policy file."""
    data = yaml.safe_load(body)
    return body if isinstance(data, dict) and "version" in data else "version: 1\n" + body


def test_the_doc_has_examples() -> None:
    assert len(VALID_EXAMPLES) >= 8


@pytest.mark.parametrize(
    "body", [b for b, _ in VALID_EXAMPLES], ids=[f"line-{n}" for _, n in VALID_EXAMPLES]
)
def test_every_example_validates(body: str) -> None:
    parse_policy(as_policy(body), "docs/policy.md")


def test_policy_examples_in_the_readme_validate() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    examples = [
        body
        for lang, body, _, _ in blocks(readme)
        if lang == "yaml" and re.search(r"^version: 1$", body, re.MULTILINE)
    ]
    assert examples
    for body in examples:
        parse_policy(body, "README.md")


def test_the_invalid_example_prints_what_the_doc_says() -> None:
    index = next(i for i, block in enumerate(DOC_BLOCKS) if block[3])
    _, body, _, _ = DOC_BLOCKS[index]
    _, shown, _, _ = next(b for b in DOC_BLOCKS[index + 1 :] if b[0] == "text")
    with pytest.raises(PolicyError) as raised:
        parse_policy(body, ".npm-guard.yml")
    assert f"npm-guard: error: {raised.value}\n" == shown


def test_every_schema_key_is_documented() -> None:
    text = DOC.read_text("utf-8")
    schema = policy_schema()
    for key in schema["properties"]:
        assert f"## `{key}`" in text, key
    defs = schema["$defs"]
    nested = [
        *defs["token"]["properties"],
        *defs["package"]["properties"],
        *defs["package"]["properties"]["publishers"]["properties"],
        *schema["properties"]["audit"]["properties"],
        *defs["attestation"]["properties"],
    ]
    for key in nested:
        # `key`, or a dotted path through it such as `publishers.trusted`
        assert re.search(rf"`(?:[\w-]+\.)*{re.escape(key)}(?:\.[\w-]+)*`", text), key


def test_the_editor_line_is_documented_and_matches_the_templates() -> None:
    doc_urls = SCHEMA_LINE_RE.findall(DOC.read_text("utf-8"))
    assert doc_urls, "docs/policy.md must show the yaml-language-server line"
    template_urls = SCHEMA_LINE_RE.findall((ROOT / "templates" / "npm-guard.yml").read_text())
    assert template_urls == doc_urls[:1]
    assert doc_urls[0].endswith("/npm_guard/schemas/policy.schema.json")
    # The repository's own policy points at the schema file that ships.
    (own,) = SCHEMA_LINE_RE.findall((ROOT / ".npm-guard.yml").read_text())
    assert (ROOT / own).is_file()
