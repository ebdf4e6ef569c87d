#!/usr/bin/env bash
# Install the Debian packages sluice needs that are missing.
#   scripts/deps.sh build   compilers and libraries
#   scripts/deps.sh test    + the real clients the test suite drives
#   scripts/deps.sh bench   + the peers the benchmarks compare against
set -euo pipefail

build=(build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev liblmdb-dev
       libssl-dev libnghttp2-dev libcmocka-dev python3 python3-yaml)
test=(awscli python3-boto3 python3-requests python3-jsonschema curl procps nghttp2-client
      # the fuzz targets (test.sh builds and runs them with clang's libFuzzer)
      clang libclang-rt-dev
      # the docker runtime's tests: a private dockerd, Podman's Docker-compatible
      # service (runc named: apt would pick crun, which fails on cgroups v1
      # "hybrid"; catatonit for initProcessEnabled), busybox for the test image
      docker.io podman runc catatonit busybox-static iptables iproute2
      # the dashboard's test (headless, through the DevTools protocol) and
      # the access logs' GoAccess check
      chromium goaccess)
bench=(haproxy nginx wrk hey)

want=("${build[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${test[@]}") ;;
  bench) want+=("${test[@]}" "${bench[@]}") ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
