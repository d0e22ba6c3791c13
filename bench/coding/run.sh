#!/bin/sh
# run.sh [BUILD_DIR]: build bench_coding (Release) and print a Markdown table: decode and encode MB/s of each coding,
# cio against the library used directly, median of RUNS (5) after a warm-up, on CPU 0. MB sets the payload size.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-bench-coding}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCIO_BUILD_BENCH=ON -DCIO_BUILD_TESTS=OFF \
    -DCIO_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" --target bench_coding -j2 >/dev/null
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "command: bench/coding/run.sh $*   ($(date -u +%Y-%m-%d))"
echo
taskset -c 0 "$build/bench/coding/bench_coding" "${RUNS:-5}" "${MB:-64}"
