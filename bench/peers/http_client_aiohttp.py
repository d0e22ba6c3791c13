"""http_client_aiohttp.py: the http-client suite's aiohttp peer, on uvloop: one ClientSession with a
TCPConnector(limit=C) and C tasks each looping session.get + read the body + release, as the cio client's do.

Usage: /usr/bin/python3 http_client_aiohttp.py URL N [C] [--cafile FILE] [-o FILE]. N requests in all, C (default
100) at once. Bodies are read in chunks and dropped, or with -o written to FILE (truncated for each response:
meant for N = 1). --cafile trusts the PEM CA certificates in FILE for https. Prints the same "metric=NAME
value=X" lines as bench/http_client/cio_http_client.c: requests, errors, bytes, wall_s, req_per_s, mib_per_s,
cpu_us_per_req (getrusage over the requests). Exit status 1 if a request failed.
"""
import asyncio
import resource
import ssl
import sys
import time

import aiohttp
import uvloop

CHUNK = 256 * 1024


def cpu_us():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return (ru.ru_utime + ru.ru_stime) * 1e6


def usage():
    print("usage: http_client_aiohttp.py URL N [C] [--cafile FILE] [-o FILE]", file=sys.stderr)
    sys.exit(2)


async def run(url, n, conc, cafile, out):
    ctx = ssl.create_default_context(cafile=cafile) if cafile else None
    state = {"next": 0, "errors": 0, "bytes": 0, "first": None}

    def fail(e):
        state["errors"] += 1
        if state["first"] is None:
            state["first"] = e

    async def worker(session):
        while state["next"] < n:
            state["next"] += 1
            try:
                async with session.get(url, ssl=ctx) as resp:
                    if out:
                        with open(out, "wb") as f:
                            async for chunk in resp.content.iter_chunked(CHUNK):
                                f.write(chunk)
                                state["bytes"] += len(chunk)
                    else:
                        async for chunk in resp.content.iter_chunked(CHUNK):
                            state["bytes"] += len(chunk)
                    if resp.status != 200:
                        fail(f"status {resp.status}")
            except Exception as e:  # noqa: BLE001 -- counted, reported once
                fail(repr(e))

    connector = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session:
        t0, c0 = time.monotonic(), cpu_us()
        await asyncio.gather(*(worker(session) for _ in range(conc)))
        wall, cpu = time.monotonic() - t0, cpu_us() - c0
    print(f"metric=requests value={n}\nmetric=errors value={state['errors']}\nmetric=bytes value={state['bytes']}")
    print(f"metric=wall_s value={wall:.6f}\nmetric=req_per_s value={n / wall:.3f}")
    print(f"metric=mib_per_s value={state['bytes'] / 1048576 / wall:.3f}\nmetric=cpu_us_per_req value={cpu / n:.3f}",
          flush=True)
    if state["first"] is not None:
        print(f"http_client_aiohttp: {state['errors']} of {n} failed, the first: {state['first']}", file=sys.stderr)
        sys.exit(1)


def main():
    pos, cafile, out = [], None, None
    args = sys.argv[1:]
    i = 0
    while i < len(args):
        if args[i] in ("--cafile", "-o"):
            if i + 1 >= len(args):
                usage()
            if args[i] == "-o":
                out = args[i + 1]
            else:
                cafile = args[i + 1]
            i += 2
        else:
            pos.append(args[i])
            i += 1
    if len(pos) not in (2, 3):
        usage()
    n = int(pos[0 + 1])
    conc = int(pos[2]) if len(pos) == 3 else 100
    if n <= 0 or conc <= 0:
        usage()
    uvloop.install()
    asyncio.run(run(pos[0], n, min(conc, n), cafile, out))


if __name__ == "__main__":
    main()
