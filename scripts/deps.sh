#!/usr/bin/env bash
# deps.sh: install every Debian 12 package that cio's build, tests, fuzzers and benchmarks need.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
packages=(
  build-essential cmake pkg-config git libc-ares-dev libssl-dev openssl nginx
  libcriterion-dev valgrind clang clang-format libclang-rt-14-dev
  python3-httpbin gunicorn
  node-llhttp libh2o-evloop-dev
  libboost-context-dev golang-go python3 python3-uvloop libuv1-dev g++
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  curl python3-requests python3-aiohttp
  zlib1g-dev libbrotli-dev libzstd-dev python3-brotli python3-zstandard wrk h2o
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Installing nginx would start it as a service on port 80: the tests start their own, so services stay down
  # during the install (the policy file Debian's invoke-rc.d consults, removed again if we made it).
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$made_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
fi
