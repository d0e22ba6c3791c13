#!/usr/bin/env bash
# demo.sh: install what cio needs, build it, and run the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCIO_BUILD_TESTS=OFF -DCIO_BUILD_BENCH=OFF >/dev/null
cmake --build build -j"$(nproc)" --target sleepers >/dev/null
./build/examples/sleepers
