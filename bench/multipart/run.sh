#!/bin/sh
# run.sh [BUILD_DIR]: build bench_multipart (Release, in build-bench-multipart unless a build dir is given) and print
# a Markdown table: MB/s of cio's multipart parser per body and feed size, median of 5 runs after a warm-up, on CPU 0.
# RUNS and MB (megabytes parsed per run) override the defaults.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-bench-multipart}
if [ ! -x "$build/bench/multipart/bench_multipart" ] || [ $# -eq 0 ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCIO_BUILD_BENCH=ON -DCIO_BUILD_TESTS=OFF \
        -DCIO_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build "$build" --target bench_multipart -j2 >/dev/null
fi
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "command: bench/multipart/run.sh $*   ($(date -u +%Y-%m-%d))"
echo
taskset -c 0 "$build/bench/multipart/bench_multipart" "${RUNS:-5}" "${MB:-512}"
