# sync_asyncio.py: the sync suite's asyncio/uvloop peer: async with lock, Queue hand-off, to_thread round trip.
#
# Usage: /usr/bin/python3 sync_asyncio.py [--uvloop] WORKLOAD [N [MAXSIZE]]; WORKLOAD is lock, queue or
# to_thread (MAXSIZE: the queue's, default 128). Prints "metric=NAME value=X" lines, like bench/sync/.
# to_thread runs on a one-worker default executor; with CIO_BENCH_LOOP_CPU set, the loop thread alone is pinned
# to that CPU after the warm-up (the worker keeps the process's mask).
import asyncio
import concurrent.futures
import os
import sys
import time


def metric(name, value):
    print(f"metric={name} value={value:.3f}", flush=True)


async def lock_unlock(lock, n):
    for _ in range(n):
        async with lock:
            pass


async def bench_lock(n, _maxsize):
    lock = asyncio.Lock()
    await lock_unlock(lock, n // 10 + 1)
    t0 = time.perf_counter_ns()
    await lock_unlock(lock, n)
    metric("lock_ns", (time.perf_counter_ns() - t0) / n)


async def producer(q, n):
    for i in range(n):
        await q.put(i + 1)


async def consumer(q, n):
    for i in range(n):
        if await q.get() != i + 1:
            sys.exit("sync_asyncio: item out of order")


async def handoff(q, n):
    loop = asyncio.get_running_loop()
    c = loop.create_task(consumer(q, n))
    p = loop.create_task(producer(q, n))
    await p
    await c


async def bench_queue(n, maxsize):
    q = asyncio.Queue(maxsize)
    await handoff(q, n // 10 + 1)
    t0 = time.perf_counter_ns()
    await handoff(q, n)
    metric("queue_ns", (time.perf_counter_ns() - t0) / n)


def trivial():
    return 1


async def round_trips(n):
    for _ in range(n):
        if await asyncio.to_thread(trivial) != 1:
            sys.exit("sync_asyncio: to_thread returned a wrong value")


async def bench_to_thread(n, _maxsize):
    asyncio.get_running_loop().set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=1))
    await round_trips(n // 10 + 1)
    cpu = os.environ.get("CIO_BENCH_LOOP_CPU")
    if cpu:
        os.sched_setaffinity(0, {int(cpu)})  # pid 0: this thread only
    await round_trips(n // 10 + 1)
    t0 = time.perf_counter_ns()
    await round_trips(n)
    metric("to_thread_ns", (time.perf_counter_ns() - t0) / n)


WORKLOADS = {
    "lock": (bench_lock, 1000000),
    "queue": (bench_queue, 200000),
    "to_thread": (bench_to_thread, 10000),
}


def main():
    args = sys.argv[1:]
    if args and args[0] == "--uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        args = args[1:]
    if not args or args[0] not in WORKLOADS:
        sys.exit("usage: sync_asyncio.py [--uvloop] " + "|".join(WORKLOADS) + " [N [MAXSIZE]]")
    fn, n = WORKLOADS[args[0]]
    if len(args) > 1:
        n = int(args[1])
    maxsize = int(args[2]) if len(args) > 2 else 128
    asyncio.run(fn(n, maxsize))


if __name__ == "__main__":
    main()
