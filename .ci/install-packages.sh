#!/usr/bin/env bash
# Installs the system packages gsr's tests and demo need, unless already there:
#   - etcd (Debian's etcd-server and etcd-client), unless an `etcd` binary is found or GSR_ETCD_BIN names one;
#     etcdctl (etcd-client) in any case, the bench's baseline for `gsr endpoints`;
#   - openssl, with which the TLS tests make a throwaway CA;
#   - chromium (Debian's), which the dashboard's browser tests drive, unless GSR_CHROMIUM names one;
#   - firefox-esr (Debian's), which they drive too, unless GSR_FIREFOX names one;
#   - prometheus (Debian's), which the HTTP service discovery's test runs, unless GSR_PROMETHEUS names one;
#   - Go with grpc-go and etcd's client and resolver (Debian's golang-go, golang-google-grpc-dev,
#     golang-etcd-server-dev), for the test of a grpc-go client on etcd's resolver against a Node server.
# Uses sudo when not root. Needs no standard input.
set -euo pipefail
missing=()
if [ -z "${GSR_ETCD_BIN:-}" ] && ! command -v etcd >/dev/null 2>&1; then
  missing+=(etcd-server etcd-client)
fi
if ! command -v etcdctl >/dev/null 2>&1 && [[ " ${missing[*]} " != *" etcd-client "* ]]; then
  missing+=(etcd-client) # the bench's baseline for `gsr endpoints`
fi
if ! command -v openssl >/dev/null 2>&1; then
  missing+=(openssl)
fi
if [ -z "${GSR_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
if [ -z "${GSR_FIREFOX:-}" ] && ! command -v firefox-esr >/dev/null 2>&1; then
  missing+=(firefox-esr)
fi
if [ -z "${GSR_PROMETHEUS:-}" ] && ! command -v prometheus >/dev/null 2>&1; then
  missing+=(prometheus)
fi
if ! command -v go >/dev/null 2>&1; then
  missing+=(golang-go)
fi
if [ ! -d /usr/share/gocode/src/go.etcd.io/etcd/clientv3/naming/resolver ]; then
  missing+=(golang-google-grpc-dev golang-etcd-server-dev)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]} (apt-get)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq </dev/null
  $sudo apt-get install -y -qq "${missing[@]}" </dev/null >/dev/null
fi
if [ -n "${GSR_ETCD_BIN:-}" ]; then
  echo "setup: etcd: ${GSR_ETCD_BIN} ($("${GSR_ETCD_BIN}" --version | head -n 1))"
else
  echo "setup: etcd: $(command -v etcd) ($(etcd --version | head -n 1))"
fi
echo "setup: chromium: ${GSR_CHROMIUM:-$(command -v chromium)}"
echo "setup: firefox: ${GSR_FIREFOX:-$(command -v firefox-esr)}"
echo "setup: prometheus: ${GSR_PROMETHEUS:-$(command -v prometheus)}"
echo "setup: go: $(go version)"
