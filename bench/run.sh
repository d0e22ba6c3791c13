#!/usr/bin/env bash
# run.sh: builds a benchmark suite and runs cio beside its peers, pinned, printing one Markdown table per workload.
#
# Usage: bench/run.sh runtime|sync [--smoke] [--runs K] [--only W1,W2] [WORKLOAD=N ...]
#   runtime        the runtime suite: switch, yield, spawn, idle, sleep1m, timers (bench/runtime, bench/peers)
#   sync           the sync suite: lock, queue, queue1, to_thread (bench/sync, bench/peers/sync*)
#   --smoke        run each cio binary once with a tiny N and check it prints its metrics (for CI; no peers)
#   --runs K       measured runs per system after the warm-up (default 3)
#   --only LIST    run only these workloads
#   WORKLOAD=N     the iteration/task count of a workload for every system (default: sized per system)
# Environment: CIO_BENCH_BUILD (default build-bench at the top of the tree), CIO_BENCH_CPU (default 0),
#   CIO_BENCH_WORKER_CPU (default 1: the core left to the worker threads of sync's to_thread).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CIO_BENCH_BUILD:-$ROOT/build-bench}
CPU=${CIO_BENCH_CPU:-0}
PY=/usr/bin/python3
PIN=(taskset -c "$CPU")
WORKER_CPU=${CIO_BENCH_WORKER_CPU:-1}
RUN_TIMEOUT=${CIO_BENCH_TIMEOUT:-120}

die() { echo "run.sh: $*" >&2; exit 1; }
note() { echo "run.sh: $*" >&2; }

# ------------------------------------------------------------------------------------------------ building

# Configure the Release tree and build the given cio targets one by one (a target that fails is left out and
# its workload reported as n/a). Returns non-zero if none could be built.
build_cio() {
    local t built=0
    note "building cio in $BUILD (log: $BUILD/build.log)"
    if ! cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCIO_BUILD_TESTS=OFF -DCIO_BUILD_EXAMPLES=OFF \
        >"$BUILD/build.log" 2>&1; then
        note "cmake configure failed"
        tail -n 20 "$BUILD/build.log" >&2
        return 1
    fi
    for t in "$@"; do
        if cmake --build "$BUILD" -j2 --target "$t" >>"$BUILD/build.log" 2>&1; then
            built=$((built + 1))
        else
            note "$t failed to build (see $BUILD/build.log)"
            rm -f "$BUILD"/bench/*/"$t" # never run a stale binary
        fi
    done
    [ "$built" -gt 0 ]
}

# Go peers: plain stdlib, built file by file in GOPATH mode with a cache inside the build dir.
build_go() {
    local src=$1 out=$2
    command -v go >/dev/null || { note "go not found: Go peer skipped"; return 1; }
    mkdir -p "$BUILD/peers"
    GO111MODULE=off GOFLAGS="" GOCACHE="$BUILD/peers/gocache" GOPATH="$BUILD/peers/gopath" \
        go build -o "$out" "$src" || { note "go build $src failed"; return 1; }
}

# ------------------------------------------------------------------------------------------------ running

RESULTS=
# The pinning prefix of the next run_one as words ("taskset -c 0,1"); empty: "${PIN[@]}".
PIN_NOW=
# run_one WORKLOAD SYSTEM KEEP CMD...: run one pinned process; with KEEP=1 append its metrics to $RESULTS.
run_one() {
    local workload=$1 system=$2 keep=$3 out
    local -a pin=("${PIN[@]}")
    shift 3
    [ -z "$PIN_NOW" ] || read -r -a pin <<<"$PIN_NOW"
    if ! out=$(timeout "$RUN_TIMEOUT" "${pin[@]}" "$@" 2>"$BUILD/last-stderr"); then
        note "$system $workload failed: $(tail -n 3 "$BUILD/last-stderr" | tr '\n' ' ')"
        [ "$keep" = 1 ] && echo "$workload $system - FAILED" >>"$RESULTS"
        return 0
    fi
    if [ "$keep" = 1 ]; then
        echo "$out" | sed -n "s/^metric=\([a-z0-9_]*\) value=\([-0-9.e+]*\)$/$workload $system \1 \2/p" >>"$RESULTS"
    fi
}

# ------------------------------------------------------------------------------------------------ runtime

RT_WORKLOADS=(switch yield spawn idle sleep1m timers)

# The default count of a workload for a system: each run takes a few hundred ms at most (Python runs fewer
# iterations; every figure is per operation, so the counts need not match). idle and sleep1m are fixed counts.
rt_default_n() {
    case "$1:$2" in
    switch:*) echo 10000000 ;;
    yield:cio) echo 5000000 ;;
    yield:go) echo 1000000 ;;
    yield:*) echo 50000 ;;
    spawn:cio | spawn:go) echo 1000000 ;;
    spawn:*) echo 50000 ;;
    idle:*) echo 100000 ;;
    sleep1m:*) echo 1000000 ;;
    timers:cio | timers:go) echo 1000000 ;;
    timers:*) echo 200000 ;;
    esac
}

declare -A RT_N=()

rt_n() {
    local w=$1 s=$2
    if [ -n "${RT_N[$w]:-}" ]; then echo "${RT_N[$w]}"; else rt_default_n "$w" "$s"; fi
}

# The command line of a workload for a system, or nothing if that system has no such workload / isn't built.
rt_cmd() {
    local w=$1 s=$2 n
    n=$(rt_n "$w" "$s")
    case "$s" in
    cio) [ -x "$BUILD/bench/runtime/cio_rt_$w" ] && echo "$BUILD/bench/runtime/cio_rt_$w $n" ;;
    fcontext) [ "$w" = switch ] && [ -x "$BUILD/peers/runtime_fcontext" ] && echo "$BUILD/peers/runtime_fcontext $n" ;;
    go) [ "$w" != switch ] && [ -x "$BUILD/peers/runtime_go" ] &&
        echo "env GOMAXPROCS=1 $BUILD/peers/runtime_go $w $n" ;;
    asyncio) [ "$w" != switch ] && [ -n "$HAVE_PY" ] && echo "$PY $ROOT/bench/peers/runtime_asyncio.py $w $n" ;;
    uvloop) [ "$w" != switch ] && [ -n "$HAVE_UVLOOP" ] &&
        echo "$PY $ROOT/bench/peers/runtime_asyncio.py --uvloop $w $n" ;;
    esac
    return 0
}

rt_smoke() {
    local w bin out fail=0
    build_cio "${RT_WORKLOADS[@]/#/cio_rt_}" || exit 1
    for w in "${RT_WORKLOADS[@]}"; do
        bin=$BUILD/bench/runtime/cio_rt_$w
        if [ ! -x "$bin" ]; then
            if [ "$w" = switch ] && [ ! -f "$ROOT/src/core/switch.h" ]; then
                note "smoke: switch skipped (no src/core/switch.h)"
                continue
            fi
            note "smoke: $w not built"
            fail=1
            continue
        fi
        if out=$(timeout 20 "${PIN[@]}" "$bin" 1000) && echo "$out" | grep -q '^metric=[a-z0-9_]* value=[-0-9.]*$'; then
            printf '%s\n' "$out" | while read -r line; do echo "$w: $line"; done
        else
            note "smoke: $w failed"
            fail=1
        fi
    done
    return $fail
}

rt_run() {
    local runs=$1 w s r cmd systems=(cio fcontext go asyncio uvloop) heavy
    HAVE_PY=
    HAVE_UVLOOP=
    mkdir -p "$BUILD/peers"
    build_cio "${ONLY[@]/#/cio_rt_}" || note "no cio benchmark built: continuing with the peers only"
    build_go "$ROOT/bench/peers/runtime.go" "$BUILD/peers/runtime_go" || true
    if command -v g++ >/dev/null && [ -f /usr/include/boost/context/detail/fcontext.hpp ]; then
        g++ -std=c++17 -O2 -Wall -Wextra -o "$BUILD/peers/runtime_fcontext" "$ROOT/bench/peers/runtime_fcontext.cpp" \
            -Wl,-Bstatic -lboost_context -Wl,-Bdynamic || note "fcontext peer failed to build"
    else
        note "g++ or libboost-context-dev missing: fcontext peer skipped"
    fi
    [ -x "$PY" ] && HAVE_PY=1
    [ -n "$HAVE_PY" ] && "$PY" -c 'import uvloop' 2>/dev/null && HAVE_UVLOOP=1
    [ -n "$HAVE_UVLOOP" ] || note "python3-uvloop missing: uvloop peer skipped"

    RESULTS=$BUILD/runtime-results.txt
    : >"$RESULTS"
    for w in "${ONLY[@]}"; do
        # Round-robin: the warm-up (r=0) of every system, then run 1 of each, and so on, so drift hits all alike.
        # Python's 1M sleepers take ~20 s a run: one run, no warm-up (CIO_BENCH_FULL=1 runs them all).
        for r in $(seq 0 "$runs"); do
            for s in "${systems[@]}"; do
                cmd=$(rt_cmd "$w" "$s")
                [ -n "$cmd" ] || continue
                heavy=
                [ "$w" = sleep1m ] && { [ "$s" = asyncio ] || [ "$s" = uvloop ]; } && heavy=1
                if [ -n "$heavy" ] && [ -z "${CIO_BENCH_FULL:-}" ] && [ "$r" != 1 ]; then continue; fi
                note "$w: $s run $r/$runs"
                # shellcheck disable=SC2086
                run_one "$w" "$s" "$([ "$r" = 0 ] && echo 0 || echo 1)" $cmd
            done
        done
    done
    report runtime "$RESULTS" "$runs"
}

# report SUITE RESULTS RUNS: medians, min-max and ratios cio/peer, one Markdown table per workload.
report() {
    "$PY" - "$1" "$2" "$3" <<'PYEOF'
import statistics, sys
from collections import defaultdict

suite, path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
vals = defaultdict(list)      # (workload, system, metric) -> values
failed = set()
for line in open(path):
    w, s, m, v = line.split()
    if v == "FAILED":
        failed.add((w, s))
    else:
        vals[(w, s, m)].append(float(v))

NAMES = {"cio": "cio", "fcontext": "Boost.Context fcontext", "go": "Go (GOMAXPROCS=1)",
         "asyncio": "Python asyncio", "uvloop": "Python uvloop", "libuv": "libuv (C)"}
# Per workload: name, title, [(metric, unit)], target (metric, peer or None, limit), and for sync a note.
RUNTIME = [
    ("switch", "Raw context switch (ping-pong)", [("switch_ns", "ns/switch")], ("switch_ns", "fcontext", 1.0)),
    ("yield", "Yield through the scheduler (2 tasks)", [("yield_ns", "ns/yield")], ("yield_ns", "go", 0.25)),
    ("spawn", "Spawn + run + join, one at a time", [("spawn_join_ns", "ns/spawn+join")],
     ("spawn_join_ns", "go", 0.2)),
    ("idle", "Idle task RSS (100k tasks waiting)", [("idle_kib", "KiB/task")], ("idle_kib", None, 4.3)),
    ("sleep1m", "1M concurrently sleeping tasks (100 ms)",
     [("sleep1m_ms", "total ms"), ("sleep1m_hwm_mib", "peak RSS MiB")], ("sleep1m_ms", None, None)),
    ("timers", "Timer churn: call_later(10 s) + cancel", [("timer_ns", "ns/pair")], None),
]
SYNC = [
    ("lock", "Uncontended lock acquire + release, one task", [("lock_ns", "ns/pair")], None,
     "cio_lock_acquire+release; Go sync.Mutex Lock+Unlock; Python `async with asyncio.Lock()`."),
    ("queue", "Queue hand-off between two tasks, maxsize 128", [("queue_ns", "ns/item")], ("queue_ns", "go", 0.25),
     "Producer puts N items, consumer gets them: cio_queue; Go buffered channel (cap 128) between two "
     "goroutines; asyncio.Queue(128)."),
    ("queue1", "Queue hand-off between two tasks, maxsize 1", [("queue_ns", "ns/item")], ("queue_ns", "go", 0.25),
     "As above with maxsize / channel capacity 1: every item is a hand-off between the two tasks."),
    ("to_thread", "to_thread round trip, one call at a time", [("to_thread_ns", "ns/call")],
     ("to_thread_ns", "libuv", 1.0),
     "cio_to_thread(trivial); libuv uv_queue_work, the next submitted by after_work_cb; "
     "`await asyncio.to_thread(f)`. Every system has a one-thread pool (cio_pool_set_size(1), "
     "UV_THREADPOOL_SIZE=1, ThreadPoolExecutor(1)); the process may run on both CPUs of the header and its loop "
     "thread alone pins itself to the first after the warm-up, leaving the worker free to use the other."),
]
SYSTEMS, WORKLOADS = {
    "runtime": (["cio", "fcontext", "go", "asyncio", "uvloop"], [w + (None,) for w in RUNTIME]),
    "sync": (["cio", "go", "libuv", "asyncio", "uvloop"], SYNC),
}[suite]


def fmt(x):
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}" if x < 10 else f"{x:.1f}"


for w, title, metrics, target, note in WORKLOADS:
    present = [s for s in SYSTEMS if any(vals.get((w, s, m)) for m, _ in metrics) or (w, s) in failed]
    if not present:
        continue
    if "cio" not in present:
        present.insert(0, "cio")  # shown as n/a: not built
    print(f"\n### {title}\n")
    if note:
        print(f"{note}\n")
    head = "| system | " + " | ".join(f"{label} median (min-max) | cio/peer" for _, label in metrics) + " |"
    print(head)
    print("|" + "---|" * (1 + 2 * len(metrics)))
    med = {}
    for s in present:
        for m, _ in metrics:
            v = vals.get((w, s, m))
            if v:
                med[(s, m)] = statistics.median(v)
    for s in present:
        cells = []
        for m, _ in metrics:
            v = vals.get((w, s, m))
            if not v:
                cells += ["failed" if (w, s) in failed else "n/a", ""]
                continue
            n = f" ({len(v)} run)" if len(v) < runs else ""
            cells.append(f"{fmt(med[(s, m)])} ({fmt(min(v))}-{fmt(max(v))}){n}")
            c = med.get(("cio", m))
            cells.append("" if s == "cio" or c is None or med[(s, m)] == 0 else f"{c / med[(s, m)]:.2f}x")
        print(f"| {NAMES[s]} | " + " | ".join(cells) + " |")
    if target:
        m, peer, limit = target
        c = med.get(("cio", m))
        if peer:
            p = med.get((peer, m))
            goal = f"cio <= {limit}x {NAMES[peer]}"
            got = "not measured" if c is None or p is None else \
                ("met" if c / p <= limit else "not met") + f" ({c / p:.2f}x)"
        elif limit is not None:
            goal = f"cio <= {limit} KiB/task"
            got = "not measured" if c is None else ("met" if c <= limit else "not met") + f" ({fmt(c)})"
        else:
            goal = "cio completes"
            got = "met" if c is not None else ("failed" if ("sleep1m", "cio") in failed else "not measured")
        print(f"\nTarget: {goal}: **{got}**.")
PYEOF
}

# ------------------------------------------------------------------------------------------------ sync

SY_WORKLOADS=(lock queue queue1 to_thread)

# As rt_default_n: a few hundred ms a run at most.
sy_default_n() {
    case "$1:$2" in
    lock:cio | lock:go) echo 20000000 ;;
    lock:*) echo 1000000 ;;
    queue:cio | queue:go | queue1:cio | queue1:go) echo 2000000 ;;
    queue:*) echo 200000 ;;
    queue1:*) echo 50000 ;;
    to_thread:cio | to_thread:libuv) echo 20000 ;;
    to_thread:*) echo 5000 ;;
    esac
}

sy_n() {
    local w=$1 s=$2
    if [ -n "${RT_N[$w]:-}" ]; then echo "${RT_N[$w]}"; else sy_default_n "$w" "$s"; fi
}

# The command line of a sync workload for a system, or nothing. queue1 is queue with maxsize (capacity) 1;
# to_thread tells the program which CPU its loop thread pins itself to (sy_pin gives the process's mask).
sy_cmd() {
    local w=$1 s=$2 n bin arg=$1 extra='' env=''
    n=$(sy_n "$w" "$s")
    [ "$w" = queue1 ] && { arg=queue; extra=1; }
    [ "$w" = to_thread ] && env="env CIO_BENCH_LOOP_CPU=$CPU "
    case "$s" in
    cio)
        bin=$BUILD/bench/sync/cio_sync_$arg
        [ -x "$bin" ] && echo "$env$bin $n${extra:+ $extra}" ;;
    go) { [ "$arg" = lock ] || [ "$arg" = queue ]; } && [ -x "$BUILD/peers/sync_go" ] &&
        echo "env GOMAXPROCS=1 $BUILD/peers/sync_go $arg $n${extra:+ $extra}" ;;
    libuv) [ "$w" = to_thread ] && [ -x "$BUILD/peers/sync_libuv" ] && echo "$env$BUILD/peers/sync_libuv $n" ;;
    asyncio) [ -n "$HAVE_PY" ] && echo "$env$PY $ROOT/bench/peers/sync_asyncio.py $arg $n${extra:+ $extra}" ;;
    uvloop) [ -n "$HAVE_UVLOOP" ] &&
        echo "$env$PY $ROOT/bench/peers/sync_asyncio.py --uvloop $arg $n${extra:+ $extra}" ;;
    esac
    return 0
}

# The pinning of a sync workload (as PIN_NOW): to_thread's process may use the worker's core too.
sy_pin() {
    if [ "$1" = to_thread ] && [ "$WORKER_CPU" != "$CPU" ]; then echo "taskset -c $CPU,$WORKER_CPU"; fi
    return 0
}

sy_smoke() {
    local w cmd out fail=0
    build_cio cio_sync_lock cio_sync_queue cio_sync_to_thread || exit 1
    for w in "${SY_WORKLOADS[@]}"; do
        RT_N[$w]=1000
        cmd=$(sy_cmd "$w" cio)
        PIN_NOW=$(sy_pin "$w")
        if [ -z "$cmd" ]; then
            note "smoke: $w not built"
            fail=1
            continue
        fi
        # shellcheck disable=SC2086
        if out=$(timeout 20 ${PIN_NOW:-${PIN[*]}} $cmd) &&
            echo "$out" | grep -q '^metric=[a-z0-9_]* value=[-0-9.]*$'; then
            printf '%s\n' "$out" | while read -r line; do echo "$w: $line"; done
        else
            note "smoke: $w failed"
            fail=1
        fi
    done
    PIN_NOW=
    return $fail
}

sy_run() {
    local runs=$1 w s r cmd b targets=() systems=(cio go libuv asyncio uvloop)
    HAVE_PY=
    HAVE_UVLOOP=
    mkdir -p "$BUILD/peers"
    for w in "${ONLY[@]}"; do
        case "$w" in
        queue1) b=queue ;;
        *) b=$w ;;
        esac
        [[ " ${targets[*]} " == *" cio_sync_$b "* ]] || targets+=("cio_sync_$b")
    done
    build_cio "${targets[@]}" || note "no cio benchmark built: continuing with the peers only"
    build_go "$ROOT/bench/peers/sync.go" "$BUILD/peers/sync_go" || true
    if command -v cc >/dev/null && [ -f /usr/include/uv.h ]; then
        cc -std=c11 -O2 -Wall -Wextra -o "$BUILD/peers/sync_libuv" "$ROOT/bench/peers/sync_libuv.c" -luv ||
            note "libuv peer failed to build"
    else
        note "cc or libuv1-dev missing: libuv peer skipped"
    fi
    [ -x "$PY" ] && HAVE_PY=1
    [ -n "$HAVE_PY" ] && "$PY" -c 'import uvloop' 2>/dev/null && HAVE_UVLOOP=1
    [ -n "$HAVE_UVLOOP" ] || note "python3-uvloop missing: uvloop peer skipped"

    RESULTS=$BUILD/sync-results.txt
    : >"$RESULTS"
    for w in "${ONLY[@]}"; do
        PIN_NOW=$(sy_pin "$w")
        # Round-robin, as in rt_run: the warm-up of every system, then run 1 of each, and so on.
        for r in $(seq 0 "$runs"); do
            for s in "${systems[@]}"; do
                cmd=$(sy_cmd "$w" "$s")
                [ -n "$cmd" ] || continue
                note "$w: $s run $r/$runs"
                # shellcheck disable=SC2086
                run_one "$w" "$s" "$([ "$r" = 0 ] && echo 0 || echo 1)" $cmd
            done
        done
    done
    PIN_NOW=
    report sync "$RESULTS" "$runs"
}

# ------------------------------------------------------------------------------------------------ main

[ $# -ge 1 ] || die "usage: bench/run.sh runtime|sync [--smoke] [--runs K] [--only W1,W2] [WORKLOAD=N ...]"
SUITE=$1
shift
ARGS="$*"
SMOKE=
RUNS=3
ONLY=()
while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) SMOKE=1 ;;
    --runs) RUNS=${2:?--runs needs a count}; shift ;;
    --only) IFS=, read -r -a ONLY <<<"${2:?--only needs a list}"; shift ;;
    *=*) RT_N[${1%%=*}]=${1#*=} ;;
    *) die "unknown argument '$1'" ;;
    esac
    shift
done
[ "$RUNS" -ge 1 ] 2>/dev/null || die "--runs needs a count >= 1"
mkdir -p "$BUILD"

case "$SUITE" in
runtime)
    [ ${#ONLY[@]} -gt 0 ] || ONLY=("${RT_WORKLOADS[@]}")
    if [ -n "$SMOKE" ]; then
        rt_smoke
        exit $?
    fi
    echo "## cio runtime suite"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
        "Linux $(uname -r); pinned to CPU $CPU; median of $RUNS runs after one warm-up (min-max)."
    echo "Command: \`bench/run.sh runtime${ARGS:+ $ARGS}\`"
    start=$SECONDS
    rt_run "$RUNS"
    echo
    echo "Suite time: $((SECONDS - start)) s."
    ;;
sync)
    [ ${#ONLY[@]} -gt 0 ] || ONLY=("${SY_WORKLOADS[@]}")
    if [ -n "$SMOKE" ]; then
        sy_smoke
        exit $?
    fi
    echo "## cio sync suite"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
        "Linux $(uname -r); pinned to CPU $CPU (to_thread: the process on CPUs $CPU,$WORKER_CPU, its loop thread" \
        "on CPU $CPU); median of $RUNS runs after one warm-up (min-max)."
    echo "Command: \`bench/run.sh sync${ARGS:+ $ARGS}\`"
    start=$SECONDS
    sy_run "$RUNS"
    echo
    echo "Suite time: $((SECONDS - start)) s."
    ;;
*) die "unknown suite '$SUITE' (known: runtime, sync)" ;;
esac
