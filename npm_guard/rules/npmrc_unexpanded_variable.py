"""npmrc-unexpanded-variable: `$VAR`, `%VAR%`, `{{VAR}}`… that npm sends as literal text."""

from __future__ import annotations

from collections.abc import Iterator

from npm_guard.findings import Confidence, Finding, Rule, Severity
from npm_guard.npmrc import SECRET_AUTH_KEYS, NpmrcFile, unexpanded_variables
from npm_guard.rules._npmrc_common import registry_label, setting_name, value_location

RULE = Rule(
    id="npmrc-unexpanded-variable",
    summary="A variable reference that npm does not expand",
    severity=Severity.ERROR,
    confidence=Confidence.HIGH,
    tip="npm expands only ${VAR} (or ${VAR?} for 'empty when unset'): write "
    "//registry.npmjs.org/:_authToken=${NPM_TOKEN}.",
    target="npmrc",
)


def check(npmrc: NpmrcFile) -> Iterator[Finding]:
    for entry in npmrc.entries:
        value = entry.string_value
        if value is None:
            continue
        # Judged on the value npm sees (after ini's unescaping), located in the raw text.
        for variable in unexpanded_variables(value):
            name = setting_name(entry)
            what = (
                f"the credential for {registry_label(entry)}"
                if name in SECRET_AUTH_KEYS
                else f"the value of {entry.key}"
            )
            fragment = variable.text.lstrip("\\") if variable.form == "\\${VAR}" else variable.text
            yield Finding(
                rule=RULE,
                location=value_location(npmrc, entry, fragment),
                message=(
                    f"{variable.text} ({variable.form} form) is not expanded by npm: "
                    f"{what} is sent as that literal text"
                ),
                key=f"{entry.key}:{variable.text}",
            )
