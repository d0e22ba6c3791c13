#!/usr/bin/env bash
# callgrind.sh: user-space instructions per message of echo servers under callgrind, 1 KiB x 10 connections.
#
# Usage: bench/echo/callgrind.sh [SECS] SERVER...   (each SERVER a cio_echo_server-like binary taking a PORT)
# Instruction counts repeat from run to run whatever else the machine does, so they judge a hot-path change
# where msgs/s drift. Each server runs twice under callgrind: once started and stopped with no client (its
# start-up and exit), once under bench/echo/echo_client for SECS seconds; the difference over the messages the
# client counted is the figure. The client is not under valgrind.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${CIO_BENCH_BUILD:-$ROOT/build-bench}
secs=3
if [[ ${1:-} =~ ^[0-9]+$ ]]; then secs=$1; shift; fi
[ $# -ge 1 ] || { echo "usage: $0 [SECS] SERVER..." >&2; exit 2; }
client=$BUILD/bench/echo/echo_client
[ -x "$client" ] || { echo "build echo_client first (bench/run.sh echo builds it)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
port=${CIO_BENCH_ECHO_PORT:-19300}

# ir SERVER PORT LOAD: start SERVER under callgrind, run the client if LOAD, stop it; prints "IR MSGS".
ir() {
    local bin=$1 p=$2 load=$3 out=$dir/cg.$2 log=$dir/log.$2 msgs=0 pid
    valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$p" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do grep -q '^listening' "$log" && break; sleep 0.05; done
    if [ "$load" = 1 ]; then
        rate=$(taskset -c 1 "$client" -c 10 -s 1024 -d "$secs" -w 0 127.0.0.1 "$p" |
            sed -n 's/^metric=msgs_per_s value=//p')
        msgs=$(python3 -c "print(round($rate * $secs))")
    fi
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$(sed -n 's/^totals: //p;s/^summary: //p' "$out" | head -n 1) $msgs"
}

echo "| server | instructions per message | messages counted |"
echo "|---|---|---|"
for bin in "$@"; do
    read -r idle _ < <(ir "$bin" "$port" 0)
    read -r load msgs < <(ir "$bin" $((port + 1)) 1)
    port=$((port + 2))
    echo "| $bin | $(python3 -c "print(f'{($load - $idle) / $msgs:.1f}')") | $msgs |"
done
