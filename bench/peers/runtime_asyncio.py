# runtime_asyncio.py: the runtime suite's asyncio/uvloop peer: yield, task+await, idle RSS, 1M sleepers, timers.
#
# Usage: /usr/bin/python3 runtime_asyncio.py [--uvloop] WORKLOAD [N]; WORKLOAD is yield, spawn, idle, sleep1m or
# timers. Prints "metric=NAME value=X" lines, like the cio benchmarks in bench/runtime/.
import asyncio
import sys
import time


def metric(name, value):
    print(f"metric={name} value={value:.3f}", flush=True)


def status_kib(key):
    """A field of /proc/self/status ("VmRSS", "VmHWM") in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return -1


async def yielder(n):
    for _ in range(n):
        await asyncio.sleep(0)


async def yield_round(n):
    loop = asyncio.get_running_loop()
    a = loop.create_task(yielder(n))
    b = loop.create_task(yielder(n))
    await a
    await b


async def bench_yield(n):
    await yield_round(n // 10 + 1)
    t0 = time.perf_counter_ns()
    await yield_round(n)
    metric("yield_ns", (time.perf_counter_ns() - t0) / (2 * n))


async def trivial():
    pass


async def spawn_join(n):
    loop = asyncio.get_running_loop()
    for _ in range(n):
        await loop.create_task(trivial())


async def bench_spawn(n):
    await spawn_join(n // 10 + 1)
    t0 = time.perf_counter_ns()
    await spawn_join(n)
    metric("spawn_join_ns", (time.perf_counter_ns() - t0) / n)


async def bench_idle(n):
    loop = asyncio.get_running_loop()
    gate = loop.create_future()
    started = 0

    async def idler():
        nonlocal started
        started += 1
        await gate

    tasks = [None] * n  # count the list in the baseline, as cio counts its handle array
    rss0 = status_kib("VmRSS")
    for i in range(n):
        tasks[i] = loop.create_task(idler())
    while started < n:
        await asyncio.sleep(0)
    rss1 = status_kib("VmRSS")
    metric("idle_kib", (rss1 - rss0) / n)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def sleeper():
    await asyncio.sleep(0.1)


async def bench_sleep1m(n):
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter_ns()
    tasks = [loop.create_task(sleeper()) for _ in range(n)]
    for t in tasks:
        await t
    metric("sleep1m_ms", (time.perf_counter_ns() - t0) / 1e6)
    metric("sleep1m_hwm_mib", status_kib("VmHWM") / 1024)


def never():
    sys.exit("runtime_asyncio: a cancelled timer fired")


def churn(loop, n):
    for _ in range(n):
        h = loop.call_later(10, never)
        h.cancel()


async def bench_timers(n):
    loop = asyncio.get_running_loop()
    churn(loop, n // 10 + 1)
    t0 = time.perf_counter_ns()
    churn(loop, n)
    metric("timer_ns", (time.perf_counter_ns() - t0) / n)


WORKLOADS = {
    "yield": (bench_yield, 50000),
    "spawn": (bench_spawn, 50000),
    "idle": (bench_idle, 100000),
    "sleep1m": (bench_sleep1m, 1000000),
    "timers": (bench_timers, 200000),
}


def main():
    args = sys.argv[1:]
    if args and args[0] == "--uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        args = args[1:]
    if not args or args[0] not in WORKLOADS:
        sys.exit("usage: runtime_asyncio.py [--uvloop] " + "|".join(WORKLOADS) + " [N]")
    fn, n = WORKLOADS[args[0]]
    if len(args) > 1:
        n = int(args[1])
    asyncio.run(fn(n))


if __name__ == "__main__":
    main()
