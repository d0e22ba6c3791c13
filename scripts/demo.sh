#!/usr/bin/env bash
# demo.sh: install what cio needs, build it, and run the main demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCIO_BUILD_TESTS=OFF -DCIO_BUILD_BENCH=OFF >/dev/null
cmake --build build -j"$(nproc)" --target fetch_many >/dev/null
# asyncio's hello world: a server on loopback, 100 URLs fetched from it concurrently with one session and gather
./build/examples/fetch_many
