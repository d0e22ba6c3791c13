#!/bin/sh
# run.sh [BUILD_DIR]: build bench_parser (Release, in build-bench-parser unless a build dir is given) and print a
# Markdown table: ns/msg and MB/s of cio, picohttpparser and llhttp, median of 5 runs after a warm-up, on CPU 0.
# CIO_HTTP_SIMD=scalar|sse2|avx2 caps cio's scan path; RUNS and MESSAGES override the defaults.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-bench-parser}
if [ ! -x "$build/bench/parser/bench_parser" ] || [ $# -eq 0 ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCIO_BUILD_BENCH=ON -DCIO_BUILD_TESTS=OFF \
        -DCIO_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build "$build" --target bench_parser -j2 >/dev/null
fi
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "command: bench/parser/run.sh $*   ($(date -u +%Y-%m-%d))"
echo
taskset -c 0 "$build/bench/parser/bench_parser" "${RUNS:-5}" "${MESSAGES:-1000000}"
