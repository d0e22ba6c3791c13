#!/usr/bin/env bash
# run.sh: builds a benchmark suite and runs cio beside its peers, pinned, printing one Markdown table per workload.
#
# Usage: bench/run.sh runtime|sync|echo|tls|http-server|http-client|bench [--smoke] [--runs K] [--only W1,W2] [WORKLOAD=N ...]
#   runtime        the runtime suite: switch, yield, spawn, idle, sleep1m, timers (bench/runtime, bench/peers)
#   sync           the sync suite: lock, queue, queue1, to_thread (bench/sync, bench/peers/sync*)
#   echo           the echo suite: 1k_10, 1k_100, 100k_10, 100k_100 (size_conns), idle (bench/echo, peers/echo*)
#   tls            the tls suite: 1k_10, 100k_10 (TLS echo), handshake; also 1k_100, 100k_100 with --only
#                  (bench/tls, bench/peers/tls_echo*)
#   http-server    the http-server suite under wrk: plaintext, pipelined, routes1000, workers, idle10k, and the
#                  static files: static13, static1m (keep-alive, -c64), static100m (one connection)
#                  (bench/http_server, bench/peers/http*)
#   http-client    the http-client suite against nginx: get13, get13tls (20,000 GETs, 100 at once, keep-alive;
#                  get13=N, get13tls=N), get1g, get1gfile (one 1 GiB download, dropped or to a file; hc1g=BYTES)
#                  (bench/http_client, bench/peers/http_client*, curl)
#   bench          cio-bench beside wrk as load generators, on nginx and cio-serve: req/s, p50/p99, and the
#                  generator's own CPU per request (tools/cio-bench, wrk)
#   --smoke        run each cio binary once with a tiny N and check it prints its metrics (for CI; no peers)
#   --runs K       measured runs per system after the warm-up (default 3)
#   --only LIST    run only these workloads
#   WORKLOAD=N     the iteration/task count of a workload for every system (default: sized per system)
# Environment: CIO_BENCH_BUILD (default build-bench at the top of the tree), CIO_BENCH_CPU (default 0),
#   CIO_BENCH_WORKER_CPU (default 1: the core left to the worker threads of sync's to_thread).
#   echo: CIO_BENCH_CLIENT_CPU (default 1: the load client's core), CIO_BENCH_ECHO_SECS (default 1: seconds
#   counted per run), CIO_BENCH_ECHO_PORT (default 19100: the first server port); idle=N connections (10000).
#   tls: the same client CPU and seconds, CIO_BENCH_TLS_PORT (default 19200); handshake=N concurrent (20).
#   http-server: the same client CPU (wrk's), CIO_BENCH_HTTP_SECS (default 5: seconds per wrk run),
#   CIO_BENCH_HTTP_CONNS (64), CIO_BENCH_HTTP_DEPTH (16: pipelining), CIO_BENCH_HTTP_PORT (19300: the first port);
#   idle10k=N connections (10000).
#   http-client: CIO_BENCH_SERVER_CPU (default 1: nginx's core; the client runs on CIO_BENCH_CPU),
#   CIO_BENCH_HTTP_CLIENT_PORT (19400, and the next for TLS), CIO_BENCH_HTTP_CLIENT_CONC (100).
#   echo, tls: CIO_BENCH_BASELINE=DIR adds "cio_base", the servers of an earlier build tree (DIR is its
#   CIO_BENCH_BUILD), run beside the current ones: before and after a change, in one run.
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

# Configure the Release tree and build the given cio targets one by one (a target that fails is removed, never
# run stale). Returns non-zero unless every one was built.
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
    [ "$built" -eq $# ] # every target: a benchmark that does not build is a failure, never a skip
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
    printf '%s\n' "$out" >"$BUILD/last-stdout" # for lines other than metrics (tls: what was negotiated)
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
    build_cio "${ONLY[@]/#/cio_rt_}" || die "a cio benchmark failed to build (see $BUILD/build.log)"
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
    build_cio "${targets[@]}" || die "a cio benchmark failed to build (see $BUILD/build.log)"
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

# ------------------------------------------------------------------------------------------------ echo

# Load points (message size x connections) and the idle workload; the servers, the system under test first.
EC_POINTS=(1k_10 1k_100 100k_10 100k_100)
EC_WORKLOADS=("${EC_POINTS[@]}" idle)
EC_SYSTEMS=(cio libuv go node uvloop uvloop_streams asyncio)
BASELINE=${CIO_BENCH_BASELINE:-}
[ -n "$BASELINE" ] && EC_SYSTEMS=(cio cio_base "${EC_SYSTEMS[@]:1}")
EC_CLIENT_CPU=${CIO_BENCH_CLIENT_CPU:-1}
# Seconds counted per run (after the client's own 0.2 s warm-up), and the first port the servers listen on.
EC_SECS=${CIO_BENCH_ECHO_SECS:-1}
EC_PORT=${CIO_BENCH_ECHO_PORT:-19100}
declare -A EC_PID=() EC_PORT_OF=()

ec_size() { case "$1" in 1k_*) echo 1024 ;; 100k_*) echo 102400 ;; esac; }
ec_conns() { echo "${1#*_}"; }

# The function giving a system's server command line (ec_server_cmd; the tls suite sets tl_server_cmd).
EC_SERVER_CMD=ec_server_cmd

# h2o's configuration: one thread, no access log, /plaintext from a 13-byte file (h2o's fastest answer: its file
# handler with its open-file cache; a mruby handler runs a VM per request) and /static/ from $HS_STATIC.
hs_h2o_conf() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    printf '%s' "$HS_BODY" >"$dir/plaintext"
    {
        [ "$(id -u)" = 0 ] && echo "user: $(id -un)"
        cat <<H2O
num-threads: 1
pid-file: $dir/h2o.pid
error-log: $dir/error.log
max-connections: 20000
listen:
  host: 127.0.0.1
  port: $port
hosts:
  default:
    paths:
      /plaintext:
        file.file: $dir/plaintext
      /static:
        file.dir: $HS_STATIC
H2O
    } >"$dir/h2o.conf"
}

# The command line of a system's server on a port, or nothing if it is not available.
ec_server_cmd() {
    local s=$1 port=$2
    case "$s" in
    cio) [ -x "$BUILD/bench/echo/cio_echo_server" ] && echo "$BUILD/bench/echo/cio_echo_server $port" ;;
    cio_base) [ -x "$BASELINE/bench/echo/cio_echo_server" ] && echo "$BASELINE/bench/echo/cio_echo_server $port" ;;
    epoll) [ -x "$BUILD/bench/echo/epoll_echo_server" ] && echo "$BUILD/bench/echo/epoll_echo_server $port" ;;
    libuv) [ -x "$BUILD/peers/echo_libuv" ] && echo "$BUILD/peers/echo_libuv $port" ;;
    go) [ -x "$BUILD/peers/echo_go" ] && echo "env GOMAXPROCS=1 $BUILD/peers/echo_go $port" ;;
    node) command -v node >/dev/null && echo "node $ROOT/bench/peers/echo_node.js $port" ;;
    uvloop) [ -n "$HAVE_UVLOOP" ] && echo "$PY $ROOT/bench/peers/echo_uvloop.py $port" ;;
    uvloop_streams) [ -n "$HAVE_UVLOOP" ] && echo "$PY $ROOT/bench/peers/echo_uvloop.py --streams $port" ;;
    asyncio) [ -n "$HAVE_PY" ] && echo "$PY $ROOT/bench/peers/echo_uvloop.py --asyncio $port" ;;
    esac
    return 0
}

# ec_start SYSTEM: start its server pinned to $CPU on the next free port and wait for "listening". The pinning
# and env wrappers exec, so $! is the server itself (the PID whose /proc figures the client reads).
ec_start() {
    local s=$1 cmd out=$BUILD/$SUITE-server-$1.log
    cmd=$("$EC_SERVER_CMD" "$s" "$EC_PORT")
    [ -n "$cmd" ] || return 1
    : >"$out" # an earlier server's "listening" must not pass for this one's
    # shellcheck disable=SC2086
    "${PIN[@]}" $cmd >"$out" 2>&1 &
    EC_PID[$s]=$!
    EC_PORT_OF[$s]=$EC_PORT
    EC_PORT=$((EC_PORT + 1))
    for _ in $(seq 100); do
        grep -q '^listening' "$out" 2>/dev/null && return 0
        kill -0 "${EC_PID[$s]}" 2>/dev/null || break
        sleep 0.05
    done
    note "$s server did not start: $(tail -n 3 "$out" | tr '\n' ' ')"
    ec_stop "$s"
    return 1
}

ec_stop() {
    local pid=${EC_PID[$1]:-}
    unset 'EC_PID[$1]'
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
}

ec_stop_all() {
    local s
    for s in "${!EC_PID[@]}"; do ec_stop "$s"; done
}

# ec_client WORKLOAD SYSTEM KEEP SECS: one client run against a running server, pinned to the client CPU.
ec_client() {
    local w=$1 s=$2 keep=$3 secs=$4 args
    if [ "$w" = idle ]; then
        args="-i -c ${RT_N[idle]:-10000} -w 0.3 -d 0"
    else
        args="-c $(ec_conns "$w") -s $(ec_size "$w") -w 0.2 -d $secs"
    fi
    PIN_NOW="taskset -c $EC_CLIENT_CPU"
    # shellcheck disable=SC2086
    run_one "$w" "$s" "$keep" "$BUILD/bench/echo/echo_client" $args -p "${EC_PID[$s]}" 127.0.0.1 "${EC_PORT_OF[$s]}"
    PIN_NOW=
}

# Descriptors for 10,000 idle connections on each side, inherited by the servers and the client.
ec_raise_nofile() {
    local want=$((${RT_N[idle]:-10000} + 1000)) hard
    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
        note "hard RLIMIT_NOFILE is $hard (< $want): idle connections will fail"
        want=$hard
    fi
    ulimit -n "$want"
}

ec_smoke() {
    local out fail=0 w m v
    build_cio cio_echo_server echo_client || exit 1
    RT_N[idle]=${RT_N[idle]:-200}
    ec_raise_nofile
    trap ec_stop_all EXIT
    ec_start cio || exit 1
    RESULTS=$BUILD/echo-smoke.txt
    : >"$RESULTS"
    for w in 1k_10 idle; do
        ec_client "$w" cio 1 0.2
    done
    ec_stop_all
    out=$(cat "$RESULTS")
    for w in 1k_10:msgs_per_s idle:idle_kib_per_conn; do
        grep -q "^${w%%:*} cio ${w#*:} [-0-9.]*$" <<<"$out" || { note "smoke: echo ${w%%:*} failed"; fail=1; }
    done
    while read -r w _ m v; do echo "$w: metric=$m value=$v"; done <<<"$out"
    return $fail
}

ec_run() {
    local runs=$1 w s r p
    local -a points=() up=()
    HAVE_PY=
    HAVE_UVLOOP=
    mkdir -p "$BUILD/peers"
    build_cio cio_echo_server echo_client epoll_echo_server || die "the echo client or server failed to build"
    build_go "$ROOT/bench/peers/echo.go" "$BUILD/peers/echo_go" || true
    if command -v cc >/dev/null && [ -f /usr/include/uv.h ]; then
        cc -std=c11 -O2 -Wall -Wextra -o "$BUILD/peers/echo_libuv" "$ROOT/bench/peers/echo_libuv.c" -luv ||
            note "libuv peer failed to build"
    else
        note "cc or libuv1-dev missing: libuv peer skipped"
    fi
    command -v node >/dev/null || note "node missing: Node peer skipped"
    [ -x "$PY" ] && HAVE_PY=1
    [ -n "$HAVE_PY" ] && "$PY" -c 'import uvloop' 2>/dev/null && HAVE_UVLOOP=1
    [ -n "$HAVE_UVLOOP" ] || note "python3-uvloop missing: uvloop peers skipped"
    ec_raise_nofile
    trap ec_stop_all EXIT
    for w in "${ONLY[@]}"; do [ "$w" = idle ] || points+=("$w"); done

    RESULTS=$BUILD/echo-results.txt
    : >"$RESULTS"
    # The client's ceiling: each load point once against the trivial epoll server (bench/echo).
    if [ ${#points[@]} -gt 0 ] && ec_start epoll; then
        for w in "${points[@]}"; do
            note "$w: client ceiling (trivial epoll server)"
            ec_client "$w" epoll 1 "$EC_SECS"
        done
        ec_stop epoll
    fi
    # Load: every server up at once (idle ones sleep in epoll), then round-robin per point as in rt_run: the
    # warm-up (r=0, short) of every system, then run 1 of each, and so on, so drift hits all alike.
    if [ ${#points[@]} -gt 0 ]; then
        for s in "${EC_SYSTEMS[@]}"; do ec_start "$s" && up+=("$s"); done
        for w in "${points[@]}"; do
            for r in $(seq 0 "$runs"); do
                for s in "${up[@]}"; do
                    note "$w: $s run $r/$runs"
                    if [ "$r" = 0 ]; then ec_client "$w" "$s" 0 0.3; else ec_client "$w" "$s" 1 "$EC_SECS"; fi
                    kill -0 "${EC_PID[$s]}" 2>/dev/null || { note "$s server died"; ec_start "$s" || true; }
                done
            done
        done
        ec_stop_all
    fi
    # Idle: a fresh server per run (a second run in the same process would reuse the first one's freed memory).
    if [[ " ${ONLY[*]} " == *" idle "* ]]; then
        for r in $(seq 1 "$runs"); do
            for s in "${EC_SYSTEMS[@]}"; do
                ec_start "$s" || continue
                note "idle: $s run $r/$runs"
                ec_client idle "$s" 1 0
                ec_stop "$s"
            done
        done
    fi
    trap - EXIT
    p=${RT_N[idle]:-10000}
    ec_report "$RESULTS" "$runs" "$p"
}

# ec_report RESULTS RUNS N [SUITE NEGOTIATED]: one Markdown table per load point, the client's ceiling, the idle
# RSS table. SUITE is echo (the default; N: the idle connections) or tls (N: the concurrent handshakes);
# NEGOTIATED (tls) holds lines "SYSTEM what the client negotiated".
ec_report() {
    "$PY" - "$@" <<'PYEOF'
import statistics, sys
from collections import defaultdict

path, runs, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
suite = sys.argv[4] if len(sys.argv) > 4 else "echo"
idle_n = n
vals, failed = defaultdict(list), set()
for line in open(path):
    w, s, m, v = line.split()
    if v == "FAILED":
        failed.add((w, s))
    else:
        vals[(w, s, m)].append(float(v))

POINTS = [("1k_10", "1 KiB messages, 10 connections"), ("1k_100", "1 KiB messages, 100 connections"),
          ("100k_10", "100 KiB messages, 10 connections"), ("100k_100", "100 KiB messages, 100 connections")]
if suite == "echo":
    SYSTEMS = ["cio", "cio_base", "libuv", "go", "node", "uvloop", "uvloop_streams", "asyncio"]
    NAMES = {"cio": "cio (streams)", "cio_base": "cio before (CIO_BENCH_BASELINE)", "libuv": "libuv C, fixed buffer", "go": "Go net (GOMAXPROCS=1)",
             "node": "Node net", "uvloop": "uvloop protocol", "uvloop_streams": "uvloop streams",
             "asyncio": "asyncio streams", "epoll": "trivial epoll server"}
    # (point prefix, peer, minimum cio/peer in msgs/s)
    TARGETS = [("1k", "uvloop", 1.3), ("1k", "libuv", 1.0), ("1k", "go", 1.2), ("100k", "go", 1.2)]
    KIND, CEILING = "TCP echo", "echo_client against the trivial epoll server (bench/echo)"
else:
    SYSTEMS = ["cio", "cio_base", "go", "uvloop", "uvloop_streams", "asyncio"]
    NAMES = {"cio": "cio (streams)", "cio_base": "cio before (CIO_BENCH_BASELINE)", "go": "Go crypto/tls (GOMAXPROCS=1)", "uvloop": "uvloop protocol + ssl",
             "uvloop_streams": "uvloop streams + ssl", "asyncio": "asyncio streams + ssl",
             "epoll": "trivial OpenSSL epoll server"}
    POINTS.append(("handshake", f"{n} connections at a time: connect, full handshake, 16-byte round trip, close"))
    # (workload or point prefix, peer, minimum cio/peer in msgs or handshakes/s, and in server CPU per operation)
    TARGETS = [("handshake", "go", 1.0), ("1k", "go", 1.2), ("100k", "go", 1.2), ("1k", "uvloop", 2.0),
               ("100k", "uvloop", 2.0)]
    KIND, CEILING = "TLS echo", "tls_client against the trivial OpenSSL epoll server (bench/tls)"
    neg = defaultdict(list)
    if len(sys.argv) > 5:
        for line in open(sys.argv[5]):
            s, _, what = line.strip().partition(" ")
            neg[what].append(NAMES.get(s, s))
    if neg:
        print("\nNegotiated (as the client saw it): " +
              "; ".join(f"{what} ({', '.join(who)})" for what, who in neg.items()) + ".")


def rate(w):
    return "handshakes_per_s" if w == "handshake" else "msgs_per_s"


def cpu(w):
    return "cpu_us_per_hs" if w == "handshake" else "cpu_us_per_msg"


def fmt(x):
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}" if x < 10 else f"{x:.1f}"


def med(w, s, m):
    v = vals.get((w, s, m))
    return statistics.median(v) if v else None


def cell(w, s, m):
    v = vals.get((w, s, m))
    if not v:
        return "failed" if (w, s) in failed else "n/a"
    n = f" ({len(v)} run)" if len(v) < runs else ""
    return f"{fmt(statistics.median(v))} ({fmt(min(v))}-{fmt(max(v))}){n}"


def ratio(a, b):
    return "" if a is None or not b else f"{a / b:.2f}x"


ceil = [w for w, _ in POINTS if med(w, "epoll", rate(w)) is not None]
if ceil:
    print(f"\n### Client ceiling: {CEILING}, one run each\n")
    if suite == "echo":
        print("| point | msgs/s | client CPU % | server CPU % | server µs/msg |")
    else:
        print("| point | msgs/s or handshakes/s | client CPU % | server CPU % | server µs/msg or µs/handshake |")
    print("|---|---|---|---|---|")
    for w, title in POINTS:
        if w in ceil:
            print(f"| {title} | {fmt(med(w, 'epoll', rate(w)))} | {fmt(med(w, 'epoll', 'client_cpu_pct'))} | "
                  f"{fmt(med(w, 'epoll', 'server_cpu_pct'))} | {fmt(med(w, 'epoll', cpu(w)))} |")

for w, title in POINTS:
    present = [s for s in SYSTEMS if vals.get((w, s, rate(w))) or (w, s) in failed]
    if not present:
        continue
    if suite == "tls" and "cio" not in present:
        present.insert(0, "cio")  # shown as n/a: not built
    if w == "handshake":
        print(f"\n### Full TLS handshakes, {title}\n")
        print("| server | handshakes/s median (min-max) | cio/peer | p50 µs | p99 µs | server CPU µs/handshake | "
              "cio/peer | server CPU % | client CPU % |")
    else:
        print(f"\n### {KIND}, {title} (ping-pong)\n")
        print("| server | msgs/s median (min-max) | cio/peer | p50 µs | p99 µs | server CPU µs/msg | cio/peer | "
              "server CPU % | client CPU % |")
    print("|---|---|---|---|---|---|---|---|---|")
    c_tp, c_cpu = med(w, "cio", rate(w)), med(w, "cio", cpu(w))
    for s in present:
        tp, sc = med(w, s, rate(w)), med(w, s, cpu(w))
        r1 = "" if s == "cio" else ratio(c_tp, tp)
        r2 = "" if s == "cio" else ratio(c_cpu, sc)
        print(f"| {NAMES[s]} | {cell(w, s, rate(w))} | {r1} | {fmt(med(w, s, 'p50_us') or 0)} | "
              f"{fmt(med(w, s, 'p99_us') or 0)} | {cell(w, s, cpu(w))} | {r2} | "
              f"{fmt(med(w, s, 'server_cpu_pct') or 0)} | {fmt(med(w, s, 'client_cpu_pct') or 0)} |")
    goals = []
    for prefix, peer, limit in TARGETS:
        if w == prefix or w.startswith(prefix + "_"):
            p = med(w, peer, rate(w))
            got = "not measured" if c_tp is None or p is None else \
                ("met" if c_tp / p >= limit else "not met") + f" ({c_tp / p:.2f}x)"
            goal = f"cio >= {limit}x {NAMES[peer]}: **{got}**"
            if suite == "tls":
                # The same target by server CPU per operation: the peer's over cio's.
                pc = med(w, peer, cpu(w))
                got = "not measured" if c_cpu is None or pc is None else \
                    ("met" if pc / c_cpu >= limit else "not met") + f" (the peer spends {pc / c_cpu:.2f}x cio's)"
                goal += f", by server CPU per {'handshake' if w == 'handshake' else 'message'} **{got}**"
            goals.append(goal)
    if goals:
        print(f"\nTargets ({'handshakes' if w == 'handshake' else 'msgs'}/s): " + "; ".join(goals) + ".")
    bound = [NAMES[s] for s in present if (med(w, s, "client_cpu_pct") or 0) >= 90]
    if suite == "tls" and bound:
        print(f"\nThe client ran at 90% or more of its core against {', '.join(bound)}: there the rate is the "
              "client's ceiling as much as the server's, and server CPU per operation is the fairer figure.")

present = [s for s in SYSTEMS if vals.get(("idle", s, "idle_kib_per_conn")) or ("idle", s) in failed]
if present:
    print(f"\n### {idle_n:,} idle connections: server RSS growth (fresh server per run)\n")
    print("Each connection echoes one byte first, so every server has accepted and served it; VmRSS is read "
          "before connecting and 0.3 s after the last echo.\n")
    print("| server | RSS growth MiB median (min-max) | KiB/conn | cio/peer | peak RSS (VmHWM) MiB |")
    print("|---|---|---|---|---|")
    c = med("idle", "cio", "idle_rss_mib")
    for s in present:
        v = med("idle", s, "idle_rss_mib")
        kib = med("idle", s, "idle_kib_per_conn")
        print(f"| {NAMES[s]} | {cell('idle', s, 'idle_rss_mib')} | {fmt(kib) if kib is not None else ''} | "
              f"{'' if s == 'cio' else ratio(c, v)} | {fmt(med('idle', s, 'server_hwm_mib') or 0)} |")
    goals = []
    for peer in ("uvloop", "uvloop_streams"):
        p = med("idle", peer, "idle_rss_mib")
        got = "not measured" if c is None or not p else ("met" if c / p <= 0.25 else "not met") + f" ({c / p:.2f}x)"
        goals.append(f"cio <= 0.25x {NAMES[peer]}: **{got}**")
    print("\nTarget (RSS): " + "; ".join(goals) + ".")
PYEOF
}

# ------------------------------------------------------------------------------------------------ tls

# Load points as in echo (size_conns) and the handshake workload; the servers, the system under test first.
TL_POINTS=(1k_10 1k_100 100k_10 100k_100)
TL_WORKLOADS=(1k_10 100k_10 handshake)
TL_SYSTEMS=(cio go uvloop uvloop_streams asyncio)
[ -n "${CIO_BENCH_BASELINE:-}" ] && TL_SYSTEMS=(cio cio_base "${TL_SYSTEMS[@]:1}")
TL_PORT=${CIO_BENCH_TLS_PORT:-19200}
TL_DIR=$BUILD/tls

# The command line of a system's TLS server on a port, or nothing if it is not available.
tl_server_cmd() {
    local s=$1 port=$2 keys="$TL_DIR/cert.pem $TL_DIR/key.pem"
    case "$s" in
    cio) [ -x "$BUILD/bench/tls/cio_tls_echo_server" ] && echo "$BUILD/bench/tls/cio_tls_echo_server $port $keys" ;;
    cio_base) [ -x "$BASELINE/bench/tls/cio_tls_echo_server" ] &&
        echo "$BASELINE/bench/tls/cio_tls_echo_server $port $keys" ;;
    epoll) [ -x "$BUILD/bench/tls/tls_epoll_server" ] && echo "$BUILD/bench/tls/tls_epoll_server $port $keys" ;;
    go) [ -x "$BUILD/peers/tls_echo_go" ] && echo "env GOMAXPROCS=1 $BUILD/peers/tls_echo_go $port $keys" ;;
    uvloop) [ -n "$HAVE_UVLOOP" ] && echo "$PY $ROOT/bench/peers/tls_echo_uvloop.py $port $keys" ;;
    uvloop_streams) [ -n "$HAVE_UVLOOP" ] && echo "$PY $ROOT/bench/peers/tls_echo_uvloop.py --streams $port $keys" ;;
    asyncio) [ -n "$HAVE_PY" ] && echo "$PY $ROOT/bench/peers/tls_echo_uvloop.py --asyncio $port $keys" ;;
    esac
    return 0
}

# A throwaway EC P-256 key and self-signed certificate for localhost, made afresh each run, for every server.
tl_certs() {
    mkdir -p "$TL_DIR"
    if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 -subj /CN=localhost \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$TL_DIR/key.pem" -out "$TL_DIR/cert.pem" \
        >"$TL_DIR/openssl.log" 2>&1; then
        note "openssl could not make the certificate: $(tail -n 3 "$TL_DIR/openssl.log" | tr '\n' ' ')"
        return 1
    fi
}

# tl_client WORKLOAD SYSTEM KEEP SECS: one tls_client run against a running server, pinned to the client CPU.
# The first run against each server records what it negotiated in $TL_NEG.
tl_client() {
    local w=$1 s=$2 keep=$3 secs=$4 args line
    if [ "$w" = handshake ]; then
        args="-m handshake -c ${RT_N[handshake]:-20}"
    else
        args="-m echo -c $(ec_conns "$w") -s $(ec_size "$w")"
    fi
    PIN_NOW="taskset -c $EC_CLIENT_CPU"
    : >"$BUILD/last-stdout"
    # shellcheck disable=SC2086
    run_one "$w" "$s" "$keep" "$BUILD/bench/tls/tls_client" $args -w 0.2 -d "$secs" -p "${EC_PID[$s]}" \
        127.0.0.1 "${EC_PORT_OF[$s]}"
    PIN_NOW=
    line=$(sed -n 's/^# tls: //p' "$BUILD/last-stdout" | head -n 1)
    if [ -n "$line" ] && [ -n "${TL_NEG:-}" ] && ! grep -q "^$s " "$TL_NEG"; then
        echo "$s $line" >>"$TL_NEG"
    fi
}

tl_smoke() {
    local out fail=0 w m v
    build_cio tls_client cio_tls_echo_server || { note "smoke: the TLS benchmarks failed to build"; return 1; }
    tl_certs || return 1
    EC_SERVER_CMD=tl_server_cmd
    EC_PORT=$TL_PORT
    trap ec_stop_all EXIT
    ec_start cio || exit 1
    RESULTS=$BUILD/tls-smoke.txt
    : >"$RESULTS"
    for w in 1k_10 handshake; do
        tl_client "$w" cio 1 0.2
    done
    ec_stop_all
    out=$(cat "$RESULTS")
    for w in 1k_10:msgs_per_s handshake:handshakes_per_s; do
        grep -q "^${w%%:*} cio ${w#*:} [-0-9.]*$" <<<"$out" || { note "smoke: tls ${w%%:*} failed"; fail=1; }
    done
    while read -r w _ m v; do echo "$w: metric=$m value=$v"; done <<<"$out"
    return $fail
}

tl_run() {
    local runs=$1 w s r
    local -a up=()
    HAVE_PY=
    HAVE_UVLOOP=
    mkdir -p "$BUILD/peers"
    build_cio tls_client tls_epoll_server cio_tls_echo_server || die "the TLS benchmarks failed to build (see $BUILD/build.log)"
    build_go "$ROOT/bench/peers/tls_echo.go" "$BUILD/peers/tls_echo_go" || true
    [ -x "$PY" ] && HAVE_PY=1
    [ -n "$HAVE_PY" ] && "$PY" -c 'import uvloop' 2>/dev/null && HAVE_UVLOOP=1
    [ -n "$HAVE_UVLOOP" ] || note "python3-uvloop missing: uvloop peers skipped"
    tl_certs || die "no certificate"
    EC_SERVER_CMD=tl_server_cmd
    EC_PORT=$TL_PORT
    trap ec_stop_all EXIT

    RESULTS=$BUILD/tls-results.txt
    TL_NEG=$BUILD/tls-negotiated.txt
    : >"$RESULTS"
    : >"$TL_NEG"
    # The client's ceiling: each workload once against the trivial OpenSSL server.
    if ec_start epoll; then
        for w in "${ONLY[@]}"; do
            note "$w: client ceiling (trivial OpenSSL epoll server)"
            tl_client "$w" epoll 1 "$EC_SECS"
        done
        ec_stop epoll
    fi
    # Every server up at once, then round-robin per workload as in ec_run: the warm-up (r=0, short) of every
    # system, then run 1 of each, and so on.
    for s in "${TL_SYSTEMS[@]}"; do ec_start "$s" && up+=("$s"); done
    for w in "${ONLY[@]}"; do
        for r in $(seq 0 "$runs"); do
            for s in "${up[@]}"; do
                note "$w: $s run $r/$runs"
                if [ "$r" = 0 ]; then tl_client "$w" "$s" 0 0.3; else tl_client "$w" "$s" 1 "$EC_SECS"; fi
                kill -0 "${EC_PID[$s]}" 2>/dev/null || { note "$s server died"; ec_start "$s" || true; }
            done
        done
    done
    ec_stop_all
    trap - EXIT
    ec_report "$RESULTS" "$runs" "${RT_N[handshake]:-20}" tls "$TL_NEG"
}

# ------------------------------------------------------------------------------------------------ http-server

# Workloads, and the servers of each, the system under test first. plaintext and pipelined run every peer;
# routes1000 runs cio with 1 route and with 1,000; workers runs cio with 1 and 2 worker threads beside nginx with
# 2 worker processes, everything (wrk too) on both cores; idle10k is a fresh server per run.
# static13, static1m and static100m serve a 13-byte, a 1 MiB and a 100 MiB file from $HS_STATIC (made by hs_run)
# through cio_web_add_static, nginx's location with sendfile and open_file_cache on, and aiohttp's add_static.
HS_WORKLOADS=(plaintext pipelined routes1000 workers idle10k static13 static1m static100m)
HS_PEERS=(nginx h2o go node aiohttp)
HS_CLIENT_CPU=${CIO_BENCH_CLIENT_CPU:-1}
# Seconds per measured wrk run (the warm-up runs 1 s), connections, pipelining depth, and the first port.
HS_SECS=${CIO_BENCH_HTTP_SECS:-5}
HS_CONNS=${CIO_BENCH_HTTP_CONNS:-64}
HS_DEPTH=${CIO_BENCH_HTTP_DEPTH:-16}
HS_PORT=${CIO_BENCH_HTTP_PORT:-19300}
HS_DIR=$BUILD/http-server
HS_STATIC=$BUILD/http-server/static
HS_BODY='Hello, World!'
declare -A HS_PID=() HS_SPID=() HS_PORT_OF=()

# The servers a workload runs (those not available are skipped when they fail to start).
hs_systems() {
    case "$1" in
    plaintext | pipelined) echo cio "${HS_PEERS[@]}" ;;
    routes1000) echo cio cio_r1000 ;;
    workers) echo cio_w1 cio_w2 nginx_w2 ;;
    idle10k) echo cio aiohttp nginx h2o go node ;;
    static13 | static1m | static100m) echo cio cio_serve nginx h2o go node aiohttp pyhttp ;;
    esac
}

# The path wrk asks for: routes1000 hits a variable route, the last one registered on the 1,000-route server.
hs_path() {
    case "$1:$2" in
    routes1000:cio) echo /r0/x ;;
    routes1000:cio_r1000) echo /r999/x ;;
    static13:*) echo /static/13.txt ;;
    static1m:*) echo /static/1m.bin ;;
    static100m:*) echo /static/100m.bin ;;
    *) echo /plaintext ;;
    esac
}

# nginx's configuration for a port and a worker count, in a directory of its own (its -p prefix): `return 200`,
# no access log, run as the current user; keepalive_requests raised so that, like every other server here, it
# never closes a busy keep-alive connection (nginx's default closes one after 1,000 requests).
hs_nginx_conf() {
    local dir=$1 port=$2 workers=$3
    mkdir -p "$dir/tmp"
    {
        [ "$(id -u)" = 0 ] && echo "user $(id -un);"
        cat <<NGINX
worker_processes $workers;
worker_rlimit_nofile 30000;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    default_type text/plain;
    keepalive_requests 100000000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "$HS_BODY"; }
        location /static/ {
            alias $HS_STATIC/;
            sendfile on;
            tcp_nopush on;
            open_file_cache max=1000 inactive=60s;
            open_file_cache_valid 60s;
        }
    }
}
NGINX
    } >"$dir/nginx.conf"
}

# The command line of a system's server on a port (for eval: it may hold quotes), or nothing if not available.
hs_server_cmd() {
    local s=$1 port=$2 bin=$BUILD/bench/http_server dir
    case "$s" in
    cio) [ -x "$bin/cio_http_server" ] && echo "$bin/cio_http_server --port $port --routes 1 --static $HS_STATIC" ;;
    cio_r1000) [ -x "$bin/cio_http_server" ] && echo "$bin/cio_http_server --port $port --routes 1000" ;;
    cio_w1) [ -x "$bin/cio_http_server" ] && echo "$bin/cio_http_server --port $port --workers 1" ;;
    cio_w2) [ -x "$bin/cio_http_server" ] && echo "$bin/cio_http_server --port $port --workers 2" ;;
    epoll) [ -x "$bin/http_epoll_server" ] && echo "$bin/http_epoll_server $port" ;;
    nginx | nginx_w2)
        command -v nginx >/dev/null || return 0
        dir=$HS_DIR/$s-$port
        hs_nginx_conf "$dir" "$port" "$([ "$s" = nginx ] && echo 1 || echo 2)"
        echo "nginx -p $dir -c $dir/nginx.conf -e $dir/error.log -g 'daemon off;'" ;;
    h2o)
        command -v h2o >/dev/null || return 0
        dir=$HS_DIR/h2o-$port
        hs_h2o_conf "$dir" "$port"
        echo "h2o -c $dir/h2o.conf" ;;
    # cio-serve and python -m http.server as their users run them, on the suite's directory (which holds
    # static/ and a plaintext file for the readiness check)
    cio_serve)
        [ -x "$BUILD/tools/cio-serve" ] || return 0
        printf '%s' "$HS_BODY" >"$HS_DIR/plaintext"
        echo "$BUILD/tools/cio-serve -q -p $port -b 127.0.0.1 --workers 1 $HS_DIR" ;;
    pyhttp)
        printf '%s' "$HS_BODY" >"$HS_DIR/plaintext"
        echo "$PY -m http.server --bind 127.0.0.1 --directory $HS_DIR $port" ;;
    go) [ -x "$BUILD/peers/http_go" ] && echo "env GOMAXPROCS=1 $BUILD/peers/http_go $port $HS_STATIC" ;;
    node) command -v node >/dev/null && echo "node $ROOT/bench/peers/http_node.js $port $HS_STATIC" ;;
    aiohttp) [ -n "$HAVE_AIOHTTP" ] && echo "$PY $ROOT/bench/peers/http_aiohttp.py $port $HS_STATIC" ;;
    esac
    return 0
}

# The CPU mask of a system's server, and of wrk against it: the workers workload shares both cores.
hs_server_pin() { case "$1" in *_w[0-9]*) echo "taskset -c $CPU,$HS_CLIENT_CPU" ;; *) echo "${PIN[*]}" ;; esac; }
hs_client_pin() { case "$1" in *_w[0-9]*) echo "taskset -c $CPU,$HS_CLIENT_CPU" ;; *) echo "taskset -c $HS_CLIENT_CPU" ;; esac; }

# The processes that serve: the server itself, or nginx's worker processes (its master only waits). h2o's one
# child is its crash handler's backtrace annotator (perl), which serves nothing.
hs_serving_pids() {
    local pid=$1 s=$2 kids=
    case "$s" in nginx*) kids=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ') || true ;; esac
    if [ -n "$kids" ]; then echo "$kids"; else echo "$pid"; fi
}

# hs_start SYSTEM: start its server on the next free port and wait until it answers GET /plaintext with the
# 13 bytes. The pinning and env wrappers exec, so $! is the server itself.
hs_start() {
    local s=$1 cmd out=$HS_DIR/server-$1.log port=$HS_PORT pin body
    cmd=$(hs_server_cmd "$s" "$port")
    [ -n "$cmd" ] || return 1
    HS_PORT=$((HS_PORT + 1))
    pin=$(hs_server_pin "$s")
    : >"$out"
    (eval "exec $pin $cmd") >"$out" 2>&1 &
    HS_PID[$s]=$!
    HS_PORT_OF[$s]=$port
    for _ in $(seq 200); do
        body=$(curl -s --max-time 1 "http://127.0.0.1:$port/plaintext" 2>/dev/null) || body=
        if [ "$body" = "$HS_BODY" ]; then
            HS_SPID[$s]=$(hs_serving_pids "${HS_PID[$s]}" "$s")
            return 0
        fi
        kill -0 "${HS_PID[$s]}" 2>/dev/null || break
        sleep 0.05
    done
    note "$s server did not start or answer: $(tail -n 3 "$out" | tr '\n' ' ')"
    hs_stop "$s"
    return 1
}

hs_stop() {
    local pid=${HS_PID[$1]:-}
    unset 'HS_PID[$1]' 'HS_SPID[$1]'
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
}

hs_stop_all() {
    local s
    for s in "${!HS_PID[@]}"; do hs_stop "$s"; done
}

# The utime+stime of the serving processes, in clock ticks (every thread of each: /proc/PID/stat).
hs_ticks() {
    local pid t=0 f
    for pid in $1; do
        f=$(cut -d')' -f2- "/proc/$pid/stat" 2>/dev/null) || continue
        # shellcheck disable=SC2086
        set -- $f
        t=$((t + ${12} + ${13}))
    done
    echo "$t"
}

# The sum of a /proc/PID/status field (VmHWM, VmRSS) over the serving processes, in KiB.
hs_status_kib() {
    local pid k=0 v
    for pid in $1; do
        v=$(sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB$/\1/p" "/proc/$pid/status" 2>/dev/null) || v=
        k=$((k + ${v:-0}))
    done
    echo "$k"
}

# This shell's children's CPU time so far in ms (bash's `times`: what every waited-for child used), into the
# variable named $1. `times` must run in this shell itself, not a subshell, whose own children start at zero.
hs_child_ms() {
    times >"$HS_DIR/times"
    printf -v "$1" '%s' "$(sed -n 2p "$HS_DIR/times" | awk '{ t = 0
        for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60000 + a[2] * 1000 }
        printf "%d\n", t }')"
}

# hs_wrk WORKLOAD SYSTEM KEEP SECS: one wrk run against a running server, pinned to the client CPU; with KEEP=1
# its figures go to $RESULTS: req/s, p50 and p99 (µs), the server's CPU µs per request (its utime+stime over the
# run over the requests wrk counted), its CPU %, its VmHWM after the run, wrk's own CPU %, and socket errors and
# non-2xx answers.
hs_wrk() {
    local w=$1 s=$2 keep=$3 secs=$4 url t0 t1 c0 c1 out pids
    local conns=$HS_CONNS
    [ "$w" = static100m ] && conns=1 # throughput on one connection
    local -a pin args=(-t1 "-c$conns" "-d${secs}s" --latency)
    read -r -a pin <<<"$(hs_client_pin "$s")"
    local -a tail=()
    url="http://127.0.0.1:${HS_PORT_OF[$s]}$(hs_path "$w" "$s")"
    case "$w" in *pipelined) args+=(-s "$ROOT/bench/http_server/pipeline.lua") tail=(-- "$HS_DEPTH") ;; esac
    pids=${HS_SPID[$s]}
    t0=$(hs_ticks "$pids")
    hs_child_ms c0
    if ! out=$(timeout $((secs + 30)) "${pin[@]}" wrk "${args[@]}" "$url" "${tail[@]}" 2>&1); then
        note "wrk against $s ($w) failed: $(tail -n 3 <<<"$out" | tr '\n' ' ')"
        [ "$keep" = 1 ] && echo "$w $s - FAILED" >>"$RESULTS"
        return 0
    fi
    hs_child_ms c1
    t1=$(hs_ticks "$pids")
    printf '%s\n' "$out" >"$HS_DIR/wrk-$w-$s.txt"
    [ "$keep" = 1 ] || return 0
    awk -v w="$w" -v s="$s" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v cms=$((c1 - c0)) \
        -v hwm="$(hs_status_kib "$pids" VmHWM)" '
        function us(x) { if (x ~ /us$/) return x + 0; if (x ~ /ms$/) return x * 1000; if (x ~ /s$/) return x * 1e6
                         if (x ~ /m$/) return x * 6e7; return x + 0 }
        $1 == "50%" { p50 = us($2) }
        $1 == "99%" { p99 = us($2) }
        $2 == "requests" && $3 == "in" { n = $1; d = $4 + 0 }
        $1 == "Requests/sec:" { rps = $2 }
        $1 == "Transfer/sec:" { mbps = $2 + 0; if ($2 ~ /GB$/) mbps *= 1024; else if ($2 ~ /KB$/) mbps /= 1024
                                else if ($2 ~ /[0-9]B$/) mbps /= 1048576 }
        /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx/ { err += $NF }
        END {
            if (n == 0 || d == 0) { print w, s, "-", "FAILED"; exit }
            printf "%s %s req_per_s %.1f\n%s %s p50_us %.1f\n%s %s p99_us %.1f\n", w, s, rps, w, s, p50, w, s, p99
            printf "%s %s cpu_us_per_req %.3f\n", w, s, ticks / hz * 1e6 / n
            printf "%s %s server_cpu_pct %.1f\n", w, s, 100 * ticks / hz / d
            printf "%s %s client_cpu_pct %.1f\n", w, s, cms / 10 / d
            printf "%s %s hwm_mib %.2f\n%s %s errors %d\n", w, s, hwm / 1024, w, s, err
            printf "%s %s mib_per_s %.1f\n", w, s, mbps
        }' <<<"$out" >>"$RESULTS"
}

# hs_idle SYSTEM: 10,000 (idle10k=N) keep-alive connections that each made one request, held by a fresh server.
hs_idle() {
    local s=$1 pids out
    pids=${HS_SPID[$s]}
    if ! out=$(timeout 90 taskset -c "$HS_CLIENT_CPU" "$BUILD/bench/http_server/http_idle_client" \
        -c "${RT_N[idle10k]:-10000}" -p "${pids%% *}" -w 0.5 127.0.0.1 "${HS_PORT_OF[$s]}" /plaintext \
        2>"$BUILD/last-stderr"); then
        note "idle client against $s failed: $(tail -n 3 "$BUILD/last-stderr" | tr '\n' ' ')"
        echo "idle10k $s - FAILED" >>"$RESULTS"
        return 0
    fi
    echo "$out" | sed -n "s/^metric=\([a-z0-9_]*\) value=\([-0-9.e+]*\)$/idle10k $s \1 \2/p" >>"$RESULTS"
}

hs_raise_nofile() {
    local want=$((${RT_N[idle10k]:-10000} + 1000)) hard
    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
        note "hard RLIMIT_NOFILE is $hard (< $want): idle connections will fail"
        want=$hard
    fi
    ulimit -n "$want"
}

# The files the static workloads serve (every cio server is started with --static on this directory).
hs_static_files() {
    mkdir -p "$HS_STATIC"
    printf '%s' "$HS_BODY" >"$HS_STATIC/13.txt"
    [ -s "$HS_STATIC/1m.bin" ] || head -c 1048576 /dev/urandom >"$HS_STATIC/1m.bin"
    [ -s "$HS_STATIC/100m.bin" ] || head -c 104857600 /dev/urandom >"$HS_STATIC/100m.bin"
}

hs_smoke() {
    local out fail=0 w m v
    build_cio cio_http_server http_idle_client || exit 1
    mkdir -p "$HS_DIR"
    hs_static_files
    command -v curl >/dev/null || { note "smoke: curl missing"; return 1; }
    trap hs_stop_all EXIT
    hs_start cio || exit 1
    [ "$(curl -s --max-time 5 "http://127.0.0.1:${HS_PORT_OF[cio]}/static/13.txt")" = "$HS_BODY" ] ||
        { note "smoke: the static file was not served"; fail=1; }
    RESULTS=$HS_DIR/smoke.txt
    : >"$RESULTS"
    if command -v wrk >/dev/null; then
        HS_CONNS=4
        hs_wrk plaintext cio 1 1
        hs_wrk pipelined cio 1 1
    else
        note "smoke: wrk missing: the server was checked with curl only"
    fi
    hs_stop cio
    RT_N[idle10k]=${RT_N[idle10k]:-100}
    hs_start cio || exit 1
    hs_idle cio
    hs_stop_all
    trap - EXIT
    out=$(cat "$RESULTS")
    if command -v wrk >/dev/null; then
        for w in plaintext pipelined; do
            grep -q "^$w cio req_per_s [0-9.]*$" <<<"$out" || { note "smoke: $w failed"; fail=1; }
            grep -q "^$w cio errors 0$" <<<"$out" || { note "smoke: $w had errors"; fail=1; }
        done
    fi
    grep -q "^idle10k cio idle_kib_per_conn [-0-9.]*$" <<<"$out" || { note "smoke: idle10k failed"; fail=1; }
    while read -r w _ m v; do echo "$w: metric=$m value=$v"; done <<<"$out"
    return $fail
}

hs_run() {
    local runs=$1 w s r
    local -a loads=() up=()
    HAVE_AIOHTTP=
    mkdir -p "$BUILD/peers" "$HS_DIR"
    command -v wrk >/dev/null || die "wrk missing (apt-get install wrk)"
    command -v curl >/dev/null || die "curl missing"
    build_cio cio_http_server http_epoll_server http_idle_client cio-serve || die "the http-server benchmarks failed to build"
    build_go "$ROOT/bench/peers/http.go" "$BUILD/peers/http_go" || true
    command -v nginx >/dev/null || note "nginx missing: nginx peer skipped"
    command -v h2o >/dev/null || note "h2o not installed: h2o peer skipped"
    command -v node >/dev/null || note "node missing: Node peer skipped"
    [ -x "$PY" ] && "$PY" -c 'import aiohttp, uvloop' 2>/dev/null && HAVE_AIOHTTP=1
    [ -n "$HAVE_AIOHTTP" ] || note "python3-aiohttp or python3-uvloop missing: aiohttp peer skipped"
    hs_raise_nofile
    hs_static_files
    trap hs_stop_all EXIT
    for w in "${ONLY[@]}"; do [ "$w" = idle10k ] || loads+=("$w"); done

    RESULTS=$BUILD/http-server-results.txt
    : >"$RESULTS"
    # wrk's ceiling: plaintext and pipelined once each against the trivial epoll server, after a warm-up.
    if [ ${#loads[@]} -gt 0 ] && hs_start epoll; then
        hs_wrk plaintext epoll 0 1
        for w in plaintext pipelined; do
            note "$w: wrk's ceiling (trivial epoll server)"
            hs_wrk "ceiling_$w" epoll 1 "$HS_SECS" 2>/dev/null || true
        done
        hs_stop epoll
    fi
    # Load: a workload's servers up at once (idle ones sleep in epoll), then round-robin as in the other suites:
    # the warm-up (r=0, 1 s) of every server, then run 1 of each, and so on, so drift hits all alike.
    for w in "${loads[@]}"; do
        up=()
        for s in $(hs_systems "$w"); do hs_start "$s" && up+=("$s"); done
        for r in $(seq 0 "$runs"); do
            for s in "${up[@]}"; do
                note "$w: $s run $r/$runs"
                if [ "$r" = 0 ]; then hs_wrk "$w" "$s" 0 1; else hs_wrk "$w" "$s" 1 "$HS_SECS"; fi
                kill -0 "${HS_PID[$s]}" 2>/dev/null || { note "$s server died"; hs_start "$s" || true; }
            done
        done
        hs_stop_all
    done
    # Idle: a fresh server per run (a second run in the same process would reuse the first one's freed memory).
    if [[ " ${ONLY[*]} " == *" idle10k "* ]]; then
        for r in $(seq 1 "$runs"); do
            for s in $(hs_systems idle10k); do
                hs_start "$s" || continue
                note "idle10k: $s run $r/$runs"
                hs_idle "$s"
                hs_stop "$s"
            done
        done
    fi
    trap - EXIT
    hs_report "$RESULTS" "$runs" "${RT_N[idle10k]:-10000}"
}

# hs_report RESULTS RUNS IDLE_N: wrk's ceiling, one Markdown table per workload, the targets.
hs_report() {
    HS_CONNS=$HS_CONNS HS_DEPTH=$HS_DEPTH HS_SECS=$HS_SECS "$PY" - "$@" <<'PYEOF'
import os, statistics, sys
from collections import defaultdict

path, runs, idle_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
conns, depth, secs = os.environ["HS_CONNS"], os.environ["HS_DEPTH"], os.environ["HS_SECS"]
vals, failed = defaultdict(list), set()
for line in open(path):
    w, s, m, v = line.split()
    if v == "FAILED":
        failed.add((w, s))
    else:
        vals[(w, s, m)].append(float(v))

NAMES = {"cio": "cio (cio.web, router + coroutine handler)", "cio_r1000": "cio, 1,000 routes (/r999/{x})",
         "cio_w1": "cio, 1 worker", "cio_w2": "cio, 2 workers", "nginx": "nginx (1 worker)",
         "nginx_w2": "nginx, 2 workers", "h2o": "h2o (1 thread)", "cio_serve": "cio-serve DIR (1 worker)",
         "pyhttp": "python -m http.server", "go": "Go net/http (GOMAXPROCS=1)",
         "node": "Node http", "aiohttp": "aiohttp + uvloop", "epoll": "trivial epoll server"}
WORKLOADS = [
    ("plaintext", f"Plaintext: 13 bytes on keep-alive, `wrk -t1 -c{conns}`",
     ["cio", "nginx", "h2o", "go", "node", "aiohttp"], "nginx",
     "nginx answers with `return 200`, h2o with its file handler (its fastest: a mruby handler runs a VM per "
     "request), the others with a handler of their own."),
    ("pipelined", f"Pipelined: the same, {depth} requests per write (`-s pipeline.lua`)",
     ["cio", "nginx", "h2o", "go", "node", "aiohttp"], "nginx",
     f"p50 and p99 are wrk's per batch of {depth} requests."),
    ("routes1000", "Routes: one route against 1,000 (/r0/{x} ... /r999/{x} plus /plaintext)",
     ["cio", "cio_r1000"], "cio",
     "cio hits /r0/x on a server with /plaintext and /r0/{x}, cio_r1000 hits /r999/x on one with /plaintext and "
     "/r0/{x} ... /r999/{x}; the ratio is to the first."),
    ("workers", "Workers: 1 and 2 worker threads, with wrk sharing the cores",
     ["cio_w1", "cio_w2", "nginx_w2"], "nginx_w2",
     "Server and wrk (one thread) all on CPUs 0-1: wrk takes a core's worth of the two, so a second worker has "
     "less than a core to gain; CPU per request is summed over every thread (cio) or worker process (nginx)."),
    ("static13", f"Static file, 13 bytes, keep-alive, `wrk -t1 -c{conns}`",
     ["cio", "cio_serve", "nginx", "h2o", "go", "node", "aiohttp", "pyhttp"],
     "nginx", "cio_web_add_static with its defaults; nginx with sendfile and open_file_cache; h2o's file.dir; "
     "Go's http.FileServer; "
     "Node's http with fs.createReadStream; aiohttp's add_static; cio-serve and python -m http.server on the "
     "suite's directory, as their users run them."),
    ("static1m", f"Static file, 1 MiB, keep-alive, `wrk -t1 -c{conns}`",
     ["cio", "cio_serve", "nginx", "h2o", "go", "node", "aiohttp", "pyhttp"],
     "nginx", ""),
    ("static100m", "Static file, 100 MiB, one connection (`wrk -t1 -c1`): throughput",
     ["cio", "cio_serve", "nginx", "h2o", "go", "node", "aiohttp", "pyhttp"],
     "nginx", "MiB/s is wrk's Transfer/sec."),
]


def fmt(x):
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}" if x < 10 else f"{x:.1f}"


def med(w, s, m):
    v = vals.get((w, s, m))
    return statistics.median(v) if v else None


def cell(w, s, m):
    v = vals.get((w, s, m))
    if not v:
        return "failed" if (w, s) in failed else "n/a"
    n = f" ({len(v)} run)" if len(v) < runs else ""
    return f"{fmt(statistics.median(v))} ({fmt(min(v))}-{fmt(max(v))}){n}"


def ratio(a, b):
    return "" if a is None or not b else f"{a / b:.2f}x"


def opt(x):
    return "" if x is None else fmt(x)


def lat(w, s, m):
    x = med(w, s, m)  # wrk prints 0 for its percentiles when it kept too few samples
    return "n/a" if not x else fmt(x)


ceil = [w for w in ("plaintext", "pipelined") if med("ceiling_" + w, "epoll", "req_per_s") is not None]
if ceil:
    print(f"\n### wrk's ceiling: the trivial epoll server (bench/http_server/http_epoll_server.c), one run each\n")
    print("| workload | req/s | p50 µs | p99 µs | wrk CPU % | server CPU % | server CPU µs/req |")
    print("|---|---|---|---|---|---|---|")
    for w in ceil:
        c = "ceiling_" + w
        print(f"| {w} | {fmt(med(c, 'epoll', 'req_per_s'))} | {opt(med(c, 'epoll', 'p50_us'))} | "
              f"{opt(med(c, 'epoll', 'p99_us'))} | {opt(med(c, 'epoll', 'client_cpu_pct'))} | "
              f"{opt(med(c, 'epoll', 'server_cpu_pct'))} | {opt(med(c, 'epoll', 'cpu_us_per_req'))} |")

for w, title, systems, ref, note in WORKLOADS:
    present = [s for s in systems if vals.get((w, s, "req_per_s")) or (w, s) in failed]
    if not present:
        continue
    print(f"\n### {title}\n")
    if note:
        print(note + "\n")
    rl = "x " + ("nginx" if ref.startswith("nginx") else "1 route")
    print(f"| system | req/s median (min-max) | {rl} | p50 µs | p99 µs | server CPU µs/req median (min-max) | {rl} | "
          "server CPU % | peak RSS MiB | wrk CPU % | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    r_tp, r_cpu = med(w, ref, "req_per_s"), med(w, ref, "cpu_us_per_req")
    for s in present:
        tp, cpu = med(w, s, "req_per_s"), med(w, s, "cpu_us_per_req")
        err = sum(vals.get((w, s, "errors"), []))
        print(f"| {NAMES[s]} | {cell(w, s, 'req_per_s')} | {ratio(tp, r_tp)} | {lat(w, s, 'p50_us')} | "
              f"{lat(w, s, 'p99_us')} | {cell(w, s, 'cpu_us_per_req')} | {ratio(cpu, r_cpu)} | "
              f"{opt(med(w, s, 'server_cpu_pct'))} | {opt(med(w, s, 'hwm_mib'))} | "
              f"{opt(med(w, s, 'client_cpu_pct'))} | {err:.0f} |")
    if w.startswith("static"):
        print("\n| system | MiB/s median | x nginx |\n|---|---|---|")
        for s in present:
            print(f"| {NAMES[s]} | {opt(med(w, s, 'mib_per_s'))} | "
                  f"{ratio(med(w, s, 'mib_per_s'), med(w, 'nginx', 'mib_per_s'))} |")
    c_tp, c_cpu = med(w, "cio", "req_per_s"), med(w, "cio", "cpu_us_per_req")
    goals = []
    if w == "plaintext":
        got = "not measured" if c_tp is None or not r_tp else \
            ("met" if c_tp / r_tp >= 1.0 else "not met") + f" ({c_tp / r_tp:.2f}x)"
        goals.append(f"cio >= 1.0x nginx req/s: **{got}**")
        got = "not measured" if c_cpu is None or not r_cpu else \
            ("met" if c_cpu <= r_cpu else "not met") + f" (cio spends {c_cpu / r_cpu:.2f}x nginx's CPU per request)"
        goals.append(f"cio's CPU per request <= nginx's: **{got}**")
    elif w == "pipelined":
        got = "not measured" if c_tp is None or not r_tp else \
            ("met" if c_tp / r_tp >= 1.2 else "not met") + f" ({c_tp / r_tp:.2f}x)"
        goals.append(f"cio >= 1.2x nginx req/s: **{got}**")
    elif w == "static13":
        got = "not measured" if c_tp is None or not r_tp else \
            ("met" if c_tp / r_tp >= 1.1 else "not met") + f" ({c_tp / r_tp:.2f}x)"
        goals.append(f"cio >= 1.1x nginx req/s: **{got}**")
        got = "not measured" if c_cpu is None or not r_cpu else \
            ("met" if c_cpu * 1.1 <= r_cpu else "not met") + f" (cio spends {c_cpu / r_cpu:.2f}x nginx's CPU per request)"
        goals.append(f"cio's CPU per request <= nginx's / 1.1: **{got}**")
    elif w == "static100m":
        a, b = med(w, "cio", "mib_per_s"), med(w, "nginx", "mib_per_s")
        got = "not measured" if not a or not b else ("met" if a / b >= 1.0 else "not met") + f" ({a / b:.2f}x)"
        goals.append(f"cio >= nginx's throughput: **{got}**")
    elif w == "workers":
        one, two = med(w, "cio_w1", "req_per_s"), med(w, "cio_w2", "req_per_s")
        if one and two:
            goals.append(f"2 workers / 1 worker: {two / one:.2f}x req/s, "
                         f"{ratio(med(w, 'cio_w2', 'cpu_us_per_req'), med(w, 'cio_w1', 'cpu_us_per_req'))} CPU "
                         "per request")
    if goals:
        print("\nTargets: " + "; ".join(goals) + ".")

present = [s for s in ("cio", "aiohttp", "nginx", "h2o", "go", "node")
           if vals.get(("idle10k", s, "idle_kib_per_conn")) or ("idle10k", s) in failed]
if present:
    print(f"\n### {idle_n:,} idle keep-alive connections: server RSS (fresh server per run)\n")
    print("Each connection made one GET /plaintext and read the whole response, then stays open and idle; VmRSS "
          "is read before connecting (the baseline) and 0.5 s after the last response (nginx: its worker's).\n")
    print("| server | baseline RSS MiB | RSS growth MiB median (min-max) | KiB/conn above baseline | x aiohttp | "
          "peak RSS (VmHWM) MiB |")
    print("|---|---|---|---|---|---|")
    a = med("idle10k", "aiohttp", "idle_kib_per_conn")
    for s in present:
        k = med("idle10k", s, "idle_kib_per_conn")
        print(f"| {NAMES[s]} | {opt(med('idle10k', s, 'base_rss_mib'))} | {cell('idle10k', s, 'idle_rss_mib')} | "
              f"{opt(k)} | {'' if s == 'aiohttp' else ratio(k, a)} | {opt(med('idle10k', s, 'server_hwm_mib'))} |")
    c = med("idle10k", "cio", "idle_kib_per_conn")
    got = "not measured" if c is None or not a else ("met" if c / a <= 0.25 else "not met") + f" ({c / a:.2f}x)"
    print(f"\nTarget (RSS per connection): cio <= 0.25x aiohttp: **{got}**.")
PYEOF
}

# ------------------------------------------------------------------------------------------------ http-client

# Workloads: get13 is N (20,000) GETs of nginx's 13-byte `return 200` at C (100) concurrent over keep-alive;
# get13tls the same over TLS (connections reused: about C handshakes, not N); get1g one 1 GiB download (a sparse
# file nginx serves with sendfile) dropped (curl: to /dev/null), get1gfile the same written to a file in the
# build dir (deleted after each run). The client is the system under test: on CPU $CPU, nginx (one worker) on
# $HC_SERVER_CPU. The ceiling of the downloads is a plain recv loop (bench/http_client/http_recv_client.c).
HC_WORKLOADS=(get13 get13tls get1g get1gfile)
HC_SYSTEMS=(cio go curl aiohttp node)
HC_SERVER_CPU=${CIO_BENCH_SERVER_CPU:-1}
HC_PORT=${CIO_BENCH_HTTP_CLIENT_PORT:-19400}
HC_CONC=${CIO_BENCH_HTTP_CLIENT_CONC:-100}
HC_DIR=$BUILD/http-client
HC_FILES=$HC_DIR/files
HC_NGINX_PID=

# nginx for the suite, in a directory of its own: one worker, `return 200` on / over plain http ($HC_PORT) and
# TLS ($HC_PORT + 1), /files/ from $HC_FILES with sendfile; keepalive_requests raised so that it never closes
# a busy keep-alive connection.
hc_nginx_conf() {
    local dir=$1
    mkdir -p "$dir/tmp"
    {
        [ "$(id -u)" = 0 ] && echo "user $(id -un);"
        cat <<NGINX
worker_processes 1;
worker_rlimit_nofile 30000;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    default_type text/plain;
    keepalive_requests 100000000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$HC_PORT;
        listen 127.0.0.1:$((HC_PORT + 1)) ssl;
        ssl_certificate $HC_DIR/cert.pem;
        ssl_certificate_key $HC_DIR/key.pem;
        location / { return 200 "$HS_BODY"; }
        location /files/ {
            alias $HC_FILES/;
            sendfile on;
            tcp_nopush on;
        }
    }
}
NGINX
    } >"$dir/nginx.conf"
}

# A throwaway CA (EC P-256) and a certificate for 127.0.0.1 and localhost it signs, made afresh each run: nginx
# serves the certificate, every client is given the CA (ca.pem) and verifies the chain and the address.
hc_certs() {
    local d=$HC_DIR
    mkdir -p "$d"
    {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 -subj /CN=cio-bench-ca \
            -keyout "$d/ca-key.pem" -out "$d/ca.pem" &&
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 \
                -keyout "$d/key.pem" -out "$d/server.csr" &&
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$d/ext.cnf" &&
            openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 7 \
                -extfile "$d/ext.cnf" -out "$d/cert.pem"
    } >"$d/openssl.log" 2>&1 || { note "openssl could not make the certificates: $(tail -n 3 "$d/openssl.log")"; return 1; }
}

# The file the downloads fetch: 1 GiB (hc1g=BYTES to change it), sparse: nginx reads zeros from the page cache.
hc_files() {
    local size=${RT_N[hc1g]:-1073741824}
    mkdir -p "$HC_FILES"
    printf '%s' "$HS_BODY" >"$HC_FILES/13.txt"
    [ "$(stat -c %s "$HC_FILES/1g.bin" 2>/dev/null)" = "$size" ] || { rm -f "$HC_FILES/1g.bin"; truncate -s "$size" "$HC_FILES/1g.bin"; }
}

hc_start_nginx() {
    local dir=$HC_DIR/nginx body
    command -v nginx >/dev/null || { note "nginx missing (apt-get install nginx)"; return 1; }
    hc_nginx_conf "$dir"
    (exec taskset -c "$HC_SERVER_CPU" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;') \
        >"$HC_DIR/nginx.log" 2>&1 &
    HC_NGINX_PID=$!
    for _ in $(seq 200); do
        body=$(curl -s --max-time 1 --cacert "$HC_DIR/ca.pem" "https://127.0.0.1:$((HC_PORT + 1))/" 2>/dev/null) || body=
        [ "$body" = "$HS_BODY" ] && return 0
        kill -0 "$HC_NGINX_PID" 2>/dev/null || break
        sleep 0.05
    done
    note "nginx did not start or answer: $(tail -n 3 "$HC_DIR/nginx.log" "$dir/error.log" 2>/dev/null | tr '\n' ' ')"
    hc_stop_nginx
    return 1
}

hc_stop_nginx() {
    local pid=$HC_NGINX_PID
    HC_NGINX_PID=
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
}

# The URL, request count and output of a workload.
hc_url() {
    case "$1" in
    get13) echo "http://127.0.0.1:$HC_PORT/plaintext" ;;
    get13tls) echo "https://127.0.0.1:$((HC_PORT + 1))/plaintext" ;;
    get1g*) echo "http://127.0.0.1:$HC_PORT/files/1g.bin" ;;
    esac
}
hc_n() { case "$1" in get13*) echo "${RT_N[$1]:-20000}" ;; *) echo 1 ;; esac; }
hc_out() { case "$1" in get1gfile) echo "$HC_DIR/out.bin" ;; get1g) [ "$2" = curl ] && echo /dev/null ;; esac; return 0; }

# The command line of a client for a workload (for eval), or nothing if that client is not available. curl gets
# a config file of N `url`/`output` pairs (hc_curl_config) and runs them --parallel.
hc_cmd() {
    local w=$1 s=$2 n=$3 url out ca='' conc=$HC_CONC
    url=$(hc_url "$w")
    out=$(hc_out "$w" "$s")
    [ "$w" = get13tls ] && ca=$HC_DIR/ca.pem
    [ "$n" -lt "$conc" ] && conc=$n
    case "$s" in
    cio) [ -x "$BUILD/bench/http_client/cio_http_client" ] &&
        echo "$BUILD/bench/http_client/cio_http_client $url $n $conc${ca:+ --cafile $ca}${out:+ -o $out}" ;;
    go) [ -x "$BUILD/peers/http_client_go" ] && echo "$BUILD/peers/http_client_go $url $n $conc${ca:+ --cafile $ca}${out:+ -o $out}" ;;
    aiohttp) [ -n "$HAVE_AIOHTTP" ] &&
        echo "$PY $ROOT/bench/peers/http_client_aiohttp.py $url $n $conc${ca:+ --cafile $ca}${out:+ -o $out}" ;;
    node) command -v node >/dev/null &&
        echo "env${ca:+ NODE_EXTRA_CA_CERTS=$ca} node $ROOT/bench/peers/http_client_node.js $url $n $conc${ca:+ --cafile $ca}${out:+ -o $out}" ;;
    curl)
        if [ "$n" = 1 ]; then
            echo "curl -s -S -f${ca:+ --cacert $ca} -o ${out:-/dev/null} $url"
        else
            hc_curl_config "$url" "$n" >"$HC_DIR/curl-$w.conf"
            echo "curl -s -S -f --parallel --parallel-max $conc${ca:+ --cacert $ca} --config $HC_DIR/curl-$w.conf"
        fi ;;
    ceiling) [ "$n" = 1 ] && [ -x "$BUILD/bench/http_client/http_recv_client" ] &&
        echo "$BUILD/bench/http_client/http_recv_client $HC_PORT /files/1g.bin${out:+ -o $out}" ;;
    esac
    return 0
}

hc_curl_config() {
    local url=$1 n=$2
    awk -v u="$url" -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "url = \"%s\"\noutput = \"/dev/null\"\n", u }'
}

# hc_one WORKLOAD SYSTEM KEEP N: one pinned client run under GNU time. Its figures: req/s and CPU µs per request
# from the client's own metrics over its requests (wall clock and getrusage from the first request to the
# last), or for curl (which prints none) from time's elapsed and user+sys of the whole process; peak RSS from
# time's maxrss for every client; MiB/s and CPU ms per GiB for the downloads; errors.
hc_one() {
    local w=$1 s=$2 keep=$3 n=$4 cmd out tf=$HC_DIR/time.txt
    cmd=$(hc_cmd "$w" "$s" "$n")
    [ -n "$cmd" ] || return 0
    : >"$tf"
    # shellcheck disable=SC2086
    if ! out=$(timeout "$RUN_TIMEOUT" /usr/bin/time -f 'time wall=%e user=%U sys=%S maxrss=%M' -o "$tf" \
        "${PIN[@]}" $cmd 2>"$BUILD/last-stderr"); then
        note "$s $w failed: $(grep -v '^time ' "$BUILD/last-stderr" | tail -n 3 | tr '\n' ' ')$(grep -v '^time ' "$tf" | tr '\n' ' ')"
        [ "$keep" = 1 ] && echo "$w $s - FAILED" >>"$RESULTS"
        rm -f "$HC_DIR/out.bin"
        return 0
    fi
    printf '%s\n' "$out" >"$HC_DIR/last-$w-$s.txt"
    if [ "$w" = get1gfile ]; then
        [ "$(stat -c %s "$HC_DIR/out.bin" 2>/dev/null)" = "$(stat -c %s "$HC_FILES/1g.bin")" ] ||
            { note "$s $w: the file written is not the file served"; out="metric=errors value=1"$'\n'"$out"; }
        rm -f "$HC_DIR/out.bin"
    fi
    [ "$keep" = 1 ] || return 0
    awk -v w="$w" -v s="$s" -v n="$n" -v gib="$(stat -c %s "$HC_FILES/1g.bin")" '
        /^metric=/ { split($1, a, "="); split($2, b, "="); m[a[2]] = b[2] + 0; if (a[2] == "errors") err += b[2] }
        /^time / { for (i = 2; i <= NF; i++) { split($i, a, "="); t[a[1]] = a[2] + 0 } }
        END {
            wall = ("wall_s" in m) ? m["wall_s"] : t["wall"]
            cpu = ("cpu_us_per_req" in m) ? m["cpu_us_per_req"] * n : (t["user"] + t["sys"]) * 1e6
            if (wall <= 0) wall = 0.001
            printf "%s %s req_per_s %.1f\n%s %s cpu_us_per_req %.3f\n", w, s, n / wall, w, s, cpu / n
            printf "%s %s hwm_mib %.2f\n%s %s errors %d\n", w, s, t["maxrss"] / 1024, w, s, err
            printf "%s %s wall_s %.3f\n", w, s, wall
            if (w ~ /^get1g/) printf "%s %s mib_per_s %.1f\n%s %s cpu_ms_per_gib %.1f\n", w, s, gib / 1048576 / wall,
                                      w, s, cpu / 1000 / (gib / 1073741824)
        }' <(printf '%s\n' "$out") "$tf" >>"$RESULTS"
}

hc_smoke() {
    local out fail=0 base files=/files s=nginx n w
    local -a extra
    build_cio cio_http_client http_recv_client || exit 1
    mkdir -p "$HC_DIR"
    command -v curl >/dev/null || { note "smoke: curl missing"; return 1; }
    RT_N[hc1g]=${RT_N[hc1g]:-1048576}
    hc_files
    trap 'hc_stop_nginx; hs_stop_all' EXIT
    base=http://127.0.0.1:$HC_PORT
    # nginx when installed (as CI has it), else cio's own bench server (plain http only).
    if ! { hc_certs && hc_start_nginx; }; then
        note "smoke: nginx unavailable: against bench/http_server/cio_http_server, without TLS"
        s=cio
        build_cio cio_http_server || exit 1
        HS_DIR=$HC_DIR HS_STATIC=$HC_FILES HS_PORT=$((HC_PORT + 2))
        hs_start cio || exit 1
        base=http://127.0.0.1:${HS_PORT_OF[cio]} files=/static
    fi
    for w in get13 get13tls get1gfile; do
        extra=()
        n=200
        case "$w" in
        get13) url=$base/plaintext ;;
        get13tls)
            [ "$s" = nginx ] || continue
            url=https://127.0.0.1:$((HC_PORT + 1))/plaintext extra=(--cafile "$HC_DIR/ca.pem") ;;
        get1gfile) url=$base$files/1g.bin n=1 extra=(-o "$HC_DIR/out.bin") ;;
        esac
        if out=$(timeout 30 "${PIN[@]}" "$BUILD/bench/http_client/cio_http_client" "$url" "$n" 10 "${extra[@]}") &&
            grep -q '^metric=req_per_s value=[0-9.]*$' <<<"$out" && grep -q '^metric=errors value=0.000$' <<<"$out"; then
            while read -r line; do echo "$w: $line"; done <<<"$out"
        else
            note "smoke: $w failed"
            fail=1
        fi
        if [ "$w" = get1gfile ]; then
            cmp -s "$HC_DIR/out.bin" "$HC_FILES/1g.bin" || { note "smoke: the file saved differs"; fail=1; }
            rm -f "$HC_DIR/out.bin"
        fi
    done
    hc_stop_nginx
    hs_stop_all
    trap - EXIT
    return $fail
}

hc_run() {
    local runs=$1 w s r n systems
    HAVE_AIOHTTP=
    mkdir -p "$BUILD/peers" "$HC_DIR"
    command -v curl >/dev/null || die "curl missing"
    [ -x /usr/bin/time ] || die "GNU time missing (apt-get install time)"
    build_cio cio_http_client http_recv_client || die "the http-client benchmarks failed to build"
    build_go "$ROOT/bench/peers/http_client.go" "$BUILD/peers/http_client_go" || true
    command -v node >/dev/null || note "node missing: Node peer skipped"
    [ -x "$PY" ] && "$PY" -c 'import aiohttp, uvloop' 2>/dev/null && HAVE_AIOHTTP=1
    [ -n "$HAVE_AIOHTTP" ] || note "python3-aiohttp or python3-uvloop missing: aiohttp peer skipped"
    hc_files
    hc_certs || die "no certificates for the TLS workload"
    trap hc_stop_nginx EXIT
    hc_start_nginx || die "nginx did not start"
    RESULTS=$BUILD/http-client-results.txt
    : >"$RESULTS"
    # Round-robin as in the other suites: the warm-up (r=0; a quarter of the requests) of every client, then run 1
    # of each, and so on, so drift hits all alike.
    for w in "${ONLY[@]}"; do
        systems=("${HC_SYSTEMS[@]}")
        case "$w" in get1g*) systems+=(ceiling) ;; esac
        for r in $(seq 0 "$runs"); do
            for s in "${systems[@]}"; do
                n=$(hc_n "$w")
                [ "$r" = 0 ] && [ "$n" -gt 4 ] && n=$((n / 4))
                note "$w: $s run $r/$runs"
                hc_one "$w" "$s" "$([ "$r" = 0 ] && echo 0 || echo 1)" "$n"
                kill -0 "$HC_NGINX_PID" 2>/dev/null || { note "nginx died"; hc_start_nginx || die "nginx did not restart"; }
            done
        done
    done
    hc_stop_nginx
    trap - EXIT
    hc_report "$RESULTS" "$runs" "$(hc_n get13)" "$(hc_n get13tls)"
}

# hc_report RESULTS RUNS N N_TLS: one Markdown table per workload, ratios to Go (requests) or curl (downloads),
# the targets.
hc_report() {
    HC_CONC=$HC_CONC "$PY" - "$@" <<'PYEOF'
import os, statistics, sys
from collections import defaultdict

path, runs, n13, n13tls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
conc = int(os.environ["HC_CONC"])
vals, failed = defaultdict(list), set()
for line in open(path):
    w, s, m, v = line.split()
    if v == "FAILED":
        failed.add((w, s))
    else:
        vals[(w, s, m)].append(float(v))

NAMES = {"cio": "cio (cio_client_get, one session, limit 100)", "go": "Go net/http (MaxIdleConnsPerHost 100)",
         "curl": "curl --parallel --parallel-max 100", "aiohttp": "aiohttp + uvloop (TCPConnector(limit=100))",
         "node": "Node 20 fetch (undici)", "ceiling": "ceiling: a plain recv loop (C, not cio)"}
SYSTEMS = ["cio", "go", "curl", "aiohttp", "node"]


def fmt(x):
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}" if x < 10 else f"{x:.1f}"


def med(w, s, m):
    v = vals.get((w, s, m))
    return statistics.median(v) if v else None


def cell(w, s, m):
    v = vals.get((w, s, m))
    if not v:
        return "failed" if (w, s) in failed else "n/a"
    n = f" ({len(v)} run)" if len(v) < runs else ""
    return f"{fmt(statistics.median(v))} ({fmt(min(v))}-{fmt(max(v))}){n}"


def ratio(a, b):
    return "" if a is None or not b else f"{a / b:.2f}x"


def opt(x):
    return "n/a" if x is None else fmt(x)


def judge(ok, text):
    return ("met" if ok else "not met") + f" ({text})"


REQS = [("get13", f"{n13:,} GETs of a 13-byte body from nginx, {conc} at once, keep-alive"),
        ("get13tls", f"The same over TLS 1.3: {n13tls:,} GETs, {conc} at once, connections reused")]
for w, title in REQS:
    present = [s for s in SYSTEMS if vals.get((w, s, "req_per_s")) or (w, s) in failed]
    if not present:
        continue
    print(f"\n### {title}\n")
    print("| client | req/s median (min-max) | cio/peer | client CPU µs/req median (min-max) | cio/peer | "
          "peak RSS MiB | errors |")
    print("|---|---|---|---|---|---|---|")
    c_tp, c_cpu = med(w, "cio", "req_per_s"), med(w, "cio", "cpu_us_per_req")
    for s in present:
        tp, cpu = med(w, s, "req_per_s"), med(w, s, "cpu_us_per_req")
        err = sum(vals.get((w, s, "errors"), []))
        print(f"| {NAMES[s]} | {cell(w, s, 'req_per_s')} | {'' if s == 'cio' else ratio(c_tp, tp)} | "
              f"{cell(w, s, 'cpu_us_per_req')} | {'' if s == 'cio' else ratio(c_cpu, cpu)} | "
              f"{opt(med(w, s, 'hwm_mib'))} | {err:.0f} |")
    goals = []
    if w == "get13":
        g, rss = med(w, "go", "req_per_s"), med(w, "cio", "hwm_mib")
        goals.append("cio >= 1.2x Go req/s: **" + ("not measured" if not c_tp or not g else
                                                  judge(c_tp / g >= 1.2, f"{c_tp / g:.2f}x")) + "**")
        goals.append("cio's peak RSS <= 16 MiB: **" + ("not measured" if rss is None else
                                                      judge(rss <= 16, f"{rss:.1f} MiB")) + "**")
    else:
        a = med(w, "aiohttp", "req_per_s")
        goals.append("cio >= 5x aiohttp + uvloop req/s: **" + ("not measured" if not c_tp or not a else
                                                              judge(c_tp / a >= 5, f"{c_tp / a:.2f}x")) + "**")
    print("\nTargets: " + "; ".join(goals) + ".")

DLS = [("get1g", "One 1 GiB download (nginx, sendfile), the body dropped (curl: `-o /dev/null`)"),
       ("get1gfile", "One 1 GiB download written to a file in the build directory (deleted after each run)")]
for w, title in DLS:
    present = [s for s in SYSTEMS + ["ceiling"] if vals.get((w, s, "mib_per_s")) or (w, s) in failed]
    if not present:
        continue
    print(f"\n### {title}\n")
    print("| client | MiB/s median (min-max) | x ceiling | client CPU ms per GiB median (min-max) | x curl | "
          "peak RSS MiB | errors |")
    print("|---|---|---|---|---|---|---|")
    ceil, ccpu = med(w, "ceiling", "mib_per_s"), med(w, "curl", "cpu_ms_per_gib")
    for s in present:
        err = sum(vals.get((w, s, "errors"), []))
        print(f"| {NAMES[s]} | {cell(w, s, 'mib_per_s')} | {ratio(med(w, s, 'mib_per_s'), ceil)} | "
              f"{cell(w, s, 'cpu_ms_per_gib')} | {ratio(med(w, s, 'cpu_ms_per_gib'), ccpu)} | "
              f"{opt(med(w, s, 'hwm_mib'))} | {err:.0f} |")
    c, cc = med(w, "cio", "mib_per_s"), med(w, "cio", "cpu_ms_per_gib")
    goals = ["cio at the loopback ceiling (>= 0.9x the plain recv loop's MiB/s): **" +
             ("not measured" if not c or not ceil else judge(c / ceil >= 0.9, f"{c / ceil:.2f}x")) + "**",
             "cio's CPU <= 1.0x curl's: **" +
             ("not measured" if not cc or not ccpu else judge(cc <= ccpu, f"{cc / ccpu:.2f}x")) + "**"]
    print("\nTargets: " + "; ".join(goals) + ".")
PYEOF
}

# ------------------------------------------------------------------------------------------------ bench suite

# The load generators side by side: cio-bench and wrk, each with one thread and CIO_BENCH_HTTP_CONNS connections
# for CIO_BENCH_HTTP_SECS, against nginx (`return 200`) and cio-serve (a 13-byte file), the servers on CPU
# $CPU and the generator on CIO_BENCH_CLIENT_CPU. Figures: req/s, p50 and p99 as each generator reports them,
# and the generator's own CPU per request (its utime+stime, from bash's `times`, over the requests it counted).
# When both generators reach the same req/s the server is the limit; the CPU per request then says which
# generator has the margin.
BN_TARGETS=(nginx cio_serve)
BN_GENS=(wrk cio_bench)

# bn_one TARGET GEN KEEP SECS: one run; with KEEP=1 its figures go to $RESULTS.
bn_one() {
    local t=$1 g=$2 keep=$3 secs=$4 url c0 c1 out
    local -a pin
    read -r -a pin <<<"taskset -c $HS_CLIENT_CPU"
    url="http://127.0.0.1:${HS_PORT_OF[$t]}/plaintext"
    hs_child_ms c0
    if [ "$g" = wrk ]; then
        out=$(timeout $((secs + 30)) "${pin[@]}" wrk -t1 "-c$HS_CONNS" "-d${secs}s" --latency "$url" 2>&1) || out=
    else
        out=$(timeout $((secs + 30)) "${pin[@]}" "$BUILD/tools/cio-bench" -t 1 -c "$HS_CONNS" -d "${secs}s" --json \
            "$url" 2>&1) || out=
    fi
    hs_child_ms c1
    printf '%s\n' "$out" >"$HS_DIR/bench-$t-$g.txt"
    [ "$keep" = 1 ] || return 0
    if [ -z "$out" ]; then
        note "$g against $t failed"
        echo "$t $g - FAILED" >>"$RESULTS"
        return 0
    fi
    if [ "$g" = wrk ]; then
        awk -v t="$t" -v g="$g" -v cms=$((c1 - c0)) '
            function us(x) { if (x ~ /us$/) return x + 0; if (x ~ /ms$/) return x * 1000; if (x ~ /s$/) return x * 1e6
                             return x + 0 }
            $1 == "50%" { p50 = us($2) }
            $1 == "99%" { p99 = us($2) }
            $2 == "requests" && $3 == "in" { n = $1 }
            $1 == "Requests/sec:" { rps = $2 }
            /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
            /Non-2xx or 3xx/ { err += $NF }
            END {
                if (n == 0) { print t, g, "-", "FAILED"; exit }
                printf "%s %s req_per_s %.1f\n%s %s p50_us %.1f\n%s %s p99_us %.1f\n", t, g, rps, t, g, p50, t, g, p99
                printf "%s %s gen_cpu_us_per_req %.3f\n%s %s errors %d\n", t, g, cms * 1000 / n, t, g, err
            }' <<<"$out" >>"$RESULTS"
    else
        "$PY" -c '
import json, sys
t, g, cms = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = json.loads(sys.stdin.read())
n = d["ok"]
if not n:
    print(t, g, "-", "FAILED"); sys.exit()
print(t, g, "req_per_s", "%.1f" % d["requests_per_s"])
print(t, g, "p50_us", d["latency_us"]["p50"])
print(t, g, "p99_us", d["latency_us"]["p99"])
print(t, g, "gen_cpu_us_per_req", "%.3f" % (cms * 1000 / n))
print(t, g, "errors", d["errors"] + sum(v for k, v in d["status"].items() if not k.startswith("2")))
' "$t" "$g" $((c1 - c0)) <<<"$out" >>"$RESULTS"
    fi
}

bn_run() {
    local runs=$1 t g r
    local -a up=()
    mkdir -p "$HS_DIR"
    command -v wrk >/dev/null || die "wrk missing (apt-get install wrk)"
    command -v curl >/dev/null || die "curl missing"
    command -v nginx >/dev/null || note "nginx missing: the nginx target skipped"
    build_cio cio-serve cio-bench || die "cio-serve and cio-bench failed to build"
    hs_static_files
    trap hs_stop_all EXIT
    RESULTS=$BUILD/bench-results.txt
    : >"$RESULTS"
    for t in "${BN_TARGETS[@]}"; do hs_start "$t" && up+=("$t"); done
    # round-robin (target, generator) pairs after a 1 s warm-up of each, so drift hits all alike
    for r in $(seq 0 "$runs"); do
        for t in "${up[@]}"; do
            for g in "${BN_GENS[@]}"; do
                note "$t: $g run $r/$runs"
                if [ "$r" = 0 ]; then bn_one "$t" "$g" 0 1; else bn_one "$t" "$g" 1 "$HS_SECS"; fi
            done
        done
    done
    hs_stop_all
    trap - EXIT
    "$PY" - "$RESULTS" <<'PYEOF'
import statistics, sys
from collections import defaultdict
vals, failed = defaultdict(list), set()
for line in open(sys.argv[1]):
    t, g, m, v = line.split()
    if v == "FAILED":
        failed.add((t, g))
    else:
        vals[(t, g, m)].append(float(v))
def cell(t, g, m, fmt):
    v = vals.get((t, g, m))
    if not v:
        return "FAILED" if (t, g) in failed else "-"
    return (fmt % statistics.median(v)) + " (" + (fmt % min(v)) + "-" + (fmt % max(v)) + ")"
def med(t, g, m):
    v = vals.get((t, g, m))
    return statistics.median(v) if v else None
for t in sorted({k[0] for k in vals} | {k[0] for k in failed}):
    print()
    print("### %s" % t.replace("cio_serve", "cio-serve"))
    print()
    print("| generator | req/s | p50 µs | p99 µs | generator CPU µs/req | errors |")
    print("|---|---|---|---|---|---|")
    for g in ("wrk", "cio_bench"):
        print("| %s | %s | %s | %s | %s | %s |" % (g.replace("_", "-"), cell(t, g, "req_per_s", "%.0f"),
              cell(t, g, "p50_us", "%.0f"), cell(t, g, "p99_us", "%.0f"),
              cell(t, g, "gen_cpu_us_per_req", "%.2f"), cell(t, g, "errors", "%.0f")))
    a, b = med(t, "cio_bench", "req_per_s"), med(t, "wrk", "req_per_s")
    ca, cb = med(t, "cio_bench", "gen_cpu_us_per_req"), med(t, "wrk", "gen_cpu_us_per_req")
    if a and b and ca and cb:
        print()
        print("cio-bench/wrk: req/s %.2fx, generator CPU per request %.2fx (< 1: cio-bench cheaper)." % (a / b, ca / cb))
PYEOF
}

# ------------------------------------------------------------------------------------------------ main

[ $# -ge 1 ] || die "usage: bench/run.sh runtime|sync|echo|tls|http-server|http-client|bench [--smoke] [--runs K] [--only W1,W2] [WORKLOAD=N ...]"
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
echo)
    [ ${#ONLY[@]} -gt 0 ] || ONLY=("${EC_WORKLOADS[@]}")
    if [ -n "$SMOKE" ]; then
        ec_smoke
        exit $?
    fi
    echo "## cio echo suite"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
        "Linux $(uname -r); servers pinned to CPU $CPU, echo_client to CPU $EC_CLIENT_CPU, loopback; median of" \
        "$RUNS runs of ${EC_SECS} s after one warm-up (min-max). cio/peer: msgs/s ratio (> 1: cio faster), CPU" \
        "ratio (< 1: cio cheaper)."
    echo "Command: \`bench/run.sh echo${ARGS:+ $ARGS}\`"
    start=$SECONDS
    ec_run "$RUNS"
    echo
    echo "Suite time: $((SECONDS - start)) s."
    ;;
tls)
    [ ${#ONLY[@]} -gt 0 ] || ONLY=("${TL_WORKLOADS[@]}")
    for w in "${ONLY[@]}"; do
        [[ " ${TL_POINTS[*]} handshake " == *" $w "* ]] || die "unknown tls workload '$w'"
    done
    if [ -n "$SMOKE" ]; then
        tl_smoke
        exit $?
    fi
    echo "## cio tls suite"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
        "Linux $(uname -r), $(openssl version | cut -d' ' -f1-2); servers pinned to CPU $CPU, tls_client to CPU" \
        "$EC_CLIENT_CPU, loopback; median of $RUNS runs of ${EC_SECS} s after one warm-up (min-max). cio/peer:" \
        "rate ratio (> 1: cio faster), CPU ratio (< 1: cio cheaper). TLS 1.3, the client offering only" \
        "TLS_AES_128_GCM_SHA256 and X25519 so that every server runs the same algorithms; a self-signed EC P-256" \
        "certificate (ECDSA signatures), not verified by the client; no server issues session tickets or caches" \
        "sessions, and the client resumes none: every handshake is a full one."
    echo "Command: \`bench/run.sh tls${ARGS:+ $ARGS}\`"
    start=$SECONDS
    tl_run "$RUNS"
    echo
    echo "Suite time: $((SECONDS - start)) s."
    ;;
http-server)
    [ ${#ONLY[@]} -gt 0 ] || ONLY=("${HS_WORKLOADS[@]}")
    for w in "${ONLY[@]}"; do
        [[ " ${HS_WORKLOADS[*]} " == *" $w "* ]] || die "unknown http-server workload '$w'"
    done
    if [ -n "$SMOKE" ]; then
        hs_smoke
        exit $?
    fi
    echo "## cio http-server suite"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
        "Linux $(uname -r), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | sed 's/.*: //');" \
        "servers pinned to CPU $CPU, wrk (one thread) to CPU $HS_CLIENT_CPU, loopback; \`wrk -t1 -c$HS_CONNS" \
        "--latency\`, median of $RUNS runs of $HS_SECS s after a 1 s warm-up (min-max). Every server answers" \
        "GET /plaintext with the 13 bytes \"Hello, World!\" on keep-alive."
    echo "Command: \`bench/run.sh http-server${ARGS:+ $ARGS}\`"
    start=$SECONDS
    hs_run "$RUNS"
    echo
    echo "Suite time: $((SECONDS - start)) s."
    ;;
http-client)
    [ ${#ONLY[@]} -gt 0 ] || ONLY=("${HC_WORKLOADS[@]}")
    for w in "${ONLY[@]}"; do
        [[ " ${HC_WORKLOADS[*]} " == *" $w "* ]] || die "unknown http-client workload '$w'"
    done
    if [ -n "$SMOKE" ]; then
        hc_smoke
        exit $?
    fi
    echo "## cio http-client suite"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
        "Linux $(uname -r), $(nginx -v 2>&1 | sed 's/.*: //'), $(curl --version | head -n 1 | cut -d' ' -f1-2)," \
        "$(go version 2>/dev/null | cut -d' ' -f3), Node $(node --version 2>/dev/null)," \
        "aiohttp $("$PY" -c 'import aiohttp; print(aiohttp.__version__)' 2>/dev/null); clients pinned to CPU $CPU," \
        "nginx (one worker) to CPU $HC_SERVER_CPU, loopback; median of $RUNS runs after one warm-up (min-max)." \
        "cio/peer: req/s ratio (> 1: cio faster), CPU ratio (< 1: cio cheaper)."
    echo "Command: \`bench/run.sh http-client${ARGS:+ $ARGS}\`"
    start=$SECONDS
    hc_run "$RUNS"
    echo
    echo "Suite time: $((SECONDS - start)) s."
    ;;
bench)
    [ -z "$SMOKE" ] || die "the bench suite has no smoke run (tests/tools/bench.c checks cio-bench)"
    echo "## cio bench suite: cio-bench beside wrk"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
        "Linux $(uname -r), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | sed 's/.*: //');" \
        "servers pinned to CPU $CPU (nginx one worker, cio-serve --workers 1), the generator (one thread," \
        "$HS_CONNS connections) to CPU $HS_CLIENT_CPU, loopback; GET /plaintext (13 bytes), median of $RUNS runs" \
        "of $HS_SECS s after a 1 s warm-up (min-max)."
    echo "Command: \`bench/run.sh bench${ARGS:+ $ARGS}\`"
    start=$SECONDS
    bn_run "$RUNS"
    echo
    echo "Suite time: $((SECONDS - start)) s."
    ;;
*) die "unknown suite '$SUITE' (known: runtime, sync, echo, tls, http-server, http-client, bench)" ;;
esac
