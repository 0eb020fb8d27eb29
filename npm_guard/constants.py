"""Names and numbers several parts of npm-guard share, spelled once.

This module imports nothing, so any module can read it, the hooks' start-up path
included (a hook run without a policy file imports none of the policy modules, yet must
know the policy file's name).
"""

from __future__ import annotations

# The policy file, at the repository root; `.npm-guard.yaml` is the spelling people try,
# which npm-guard does not read as its policy (it says so, and still searches it for tokens).
POLICY_FILE = ".npm-guard.yml"
UNREAD_POLICY_FILE = ".npm-guard.yaml"

# npm's default registry, as a URL and as the `//host/path/` prefix ("nerf dart") that
# scopes a credential to it in an `.npmrc`.
NPMJS_REGISTRY = "https://registry.npmjs.org/"
NPMJS_NERF_DART = "//registry.npmjs.org/"

# `.npmrc` keys whose value is a secret, and the keys that make a setting a credential.
SECRET_AUTH_KEYS = ("_authToken", "_auth", "_password")
CREDENTIAL_KEYS = (*SECRET_AUTH_KEYS, "username")

# Report formats, for the scan, the hooks and the audit.
REPORT_FORMATS = ("text", "json", "sarif", "github")
JSON_FORMATS = ("json", "sarif")

# Exit codes (README, "Exit codes").
EXIT_CLEAN = 0
EXIT_FINDINGS = 1  # findings at or above the failure threshold, or files fixed
EXIT_USAGE = 2  # usage or policy error
EXIT_INTERNAL = 3  # anything else: a bug
EXIT_INTERRUPTED = 130
