#!/bin/sh
# run.sh SECONDS: build the libFuzzer targets with clang in build-fuzz and run each for SECONDS on its corpus.
# Exits non-zero if any target crashes, leaks or times out; the input that did it is kept in build-fuzz/crashes/.
# Under CI (CI=true) the differential target only replays its corpus: a new disagreement with llhttp that a
# search happens to find is a decision to take (a fix, or a named deviation in tests/http/diff.h), not a reason
# for one build to fail and the next to pass. The crash-safety targets search in CI as everywhere.
set -eu
secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${CIO_FUZZ_BUILD_DIR:-$root/build-fuzz}
CC=${CC:-clang}
export CC
cmake -S "$root" -B "$build" -DCIO_FUZZ=ON -DCIO_BUILD_TESTS=OFF -DCIO_BUILD_BENCH=OFF -DCIO_BUILD_EXAMPLES=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets="request response chunked url values multipart web client coding differential"
for t in $targets; do
    cmake --build "$build" --target "fuzz_$t" -j2 >/dev/null
done
mkdir -p "$build/crashes"
status=0
for t in $targets; do
    work="$build/corpus/$t" # new inputs go here; the seeds in fuzz/corpus/ stay as committed
    mkdir -p "$work"
    limit="-max_total_time=$secs"
    if [ "$t" = differential ] && [ "${CI:-}" = true ]; then
        limit="-runs=0"
        echo "== fuzz_$t: replaying the corpus"
    else
        echo "== fuzz_$t: ${secs}s"
    fi
    if ! "$build/fuzz/fuzz_$t" "$limit" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -dict="$root/fuzz/http.dict" -artifact_prefix="$build/crashes/$t-" "$work" "$root/fuzz/corpus/$t" \
        >"$build/fuzz_$t.log" 2>&1; then
        echo "fuzz_$t FAILED; see $build/fuzz_$t.log and $build/crashes/" >&2
        tail -30 "$build/fuzz_$t.log" >&2
        status=1
    else
        grep -E "stat::number_of_executed_units|cov:" "$build/fuzz_$t.log" | tail -2
    fi
done
exit $status
