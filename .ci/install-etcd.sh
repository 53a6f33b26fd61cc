#!/usr/bin/env bash
# Installs etcd (Debian's etcd-server and etcd-client) unless an `etcd` binary is found or GSR_ETCD_BIN
# names one. Uses sudo when not root. Needs no standard input.
set -euo pipefail
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
