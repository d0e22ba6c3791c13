#!/usr/bin/env bash
# deps.sh: install every Debian 12 package that cio's build, tests, fuzzers and benchmarks need.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
packages=(
  build-essential cmake pkg-config git libc-ares-dev libssl-dev openssl nginx
  libcriterion-dev valgrind clang clang-format libclang-rt-14-dev
  node-llhttp libh2o-evloop-dev
  libboost-context-dev golang-go python3 python3-uvloop libuv1-dev g++
  gcc-aarch64-linux-gnu qemu-user
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
