"""A secret in every form a reporter's escaping could turn it into, to look for leaks."""

from __future__ import annotations

import json
from urllib.parse import quote

from npm_guard.report.github import escape_data, escape_property
from npm_guard.report.summary import escape_html, escape_markdown

# Characters that Markdown, HTML, workflow commands, JSON and URLs each escape.
HOSTILE_SECRET = 'tok_s3cr*t|v%l:u,e"q\\`b<&>1234'


def escaped_forms(secret: str) -> dict[str, str]:
    """The secret as each output format would write it, by the escaping's name."""
    forms = {
        "raw": secret,
        "markdown": escape_markdown(secret),
        "html": escape_html(secret),
        "command data": escape_data(secret),
        "command property": escape_property(secret),
        "json": json.dumps(secret)[1:-1],
        "url": quote(secret, safe="/"),
    }
    forms["json of markdown"] = json.dumps(forms["markdown"])[1:-1]
    forms["json of command data"] = json.dumps(forms["command data"])[1:-1]
    return forms


def leaked_forms(secret: str, text: str) -> list[str]:
    """The names of the forms of `secret` found in `text` (never the secret itself)."""
    return sorted({name for name, form in escaped_forms(secret).items() if form in text})
