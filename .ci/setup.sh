#!/usr/bin/env bash
# Installs what gsr needs on a fresh machine, and nothing that is already there:
#   - etcd and openssl (.ci/install-packages.sh) when missing;
#   - the npm dependencies (npm ci) when node_modules is missing or older than package-lock.json.
# Safe to run again; `npm run setup` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "gsr needs Node.js 20.19 or later; found $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi

bash .ci/install-packages.sh

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund </dev/null
else
  echo "setup: npm dependencies are up to date"
fi
