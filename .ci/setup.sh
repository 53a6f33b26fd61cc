#!/usr/bin/env bash
# Installs what gsr needs on a fresh machine, and nothing that is already there:
#   - etcd (Debian's etcd-server and etcd-client) when no `etcd` binary is found and GSR_ETCD_BIN is unset;
#   - the npm dependencies (npm ci) when node_modules is missing or older than package-lock.json.
# Safe to run again; `npm run setup` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "gsr needs Node.js 20.19 or later; found $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi

if [ -z "${GSR_ETCD_BIN:-}" ] && ! command -v etcd >/dev/null 2>&1; then
  echo "setup: installing etcd (Debian packages etcd-server, etcd-client)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq </dev/null
  $sudo apt-get install -y -qq etcd-server etcd-client </dev/null >/dev/null
fi
if [ -n "${GSR_ETCD_BIN:-}" ]; then
  echo "setup: etcd: ${GSR_ETCD_BIN} ($("${GSR_ETCD_BIN}" --version | head -n 1))"
else
  echo "setup: etcd: $(command -v etcd) ($(etcd --version | head -n 1))"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund </dev/null
else
  echo "setup: npm dependencies are up to date"
fi
