#!/usr/bin/env bash
# Installs the benchmark's pinned peers into bench/.work (gitignored):
#   bench/.work/venv   Python venv: npm-guard from this checkout, detect-secrets, zizmor
#   bench/.work/node   secretlint with its npm rule
# Rerun it after changing npm-guard's dependencies; it is idempotent and quick.
set -euo pipefail
cd "$(dirname "$0")"

DETECT_SECRETS_VERSION=1.5.0
ZIZMOR_VERSION=1.32.0
SECRETLINT_VERSION=13.0.6
SECRETLINT_RULE_NPM_VERSION=13.0.4

python="${PYTHON:-python3}"
mkdir -p .work
if [ ! -x .work/venv/bin/python ]; then
  "$python" -m venv .work/venv
fi
pip=(.work/venv/bin/python -m pip install --quiet --disable-pip-version-check)
"${pip[@]}" "detect-secrets==$DETECT_SECRETS_VERSION" "zizmor==$ZIZMOR_VERSION"
# A plain (non-editable) install: the console scripts start exactly as a user's would,
# without the import hooks of an editable install. --force-reinstall picks up edits.
"${pip[@]}" --force-reinstall --no-deps ..
"${pip[@]}" ..

mkdir -p .work/node
cat > .work/node/package.json <<JSON
{
  "name": "npm-guard-bench-peers",
  "private": true,
  "dependencies": {
    "secretlint": "$SECRETLINT_VERSION",
    "@secretlint/secretlint-rule-npm": "$SECRETLINT_RULE_NPM_VERSION"
  }
}
JSON
cat > .work/node/.secretlintrc.json <<JSON
{ "rules": [{ "id": "@secretlint/secretlint-rule-npm" }] }
JSON
npm install --prefix .work/node --no-audit --no-fund --loglevel=error >/dev/null

echo "bench peers installed:"
.work/venv/bin/python --version
.work/venv/bin/detect-secrets --version | sed 's/^/detect-secrets /'
.work/venv/bin/zizmor --version
echo "secretlint $(.work/node/node_modules/.bin/secretlint --version)"
node --version | sed 's/^/node /'
