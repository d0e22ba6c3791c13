"""http_aiohttp.py: the http-server suite's aiohttp peer: web.run_app on uvloop answering a 13-byte plaintext body
on keep-alive through the router, with the access log off.

Usage: /usr/bin/python3 http_aiohttp.py PORT [DIR]. With DIR, its files are served under /static/ (add_static).
Listens on 127.0.0.1 until SIGTERM; prints "listening on ..." once
ready.
"""
import sys

import uvloop
from aiohttp import web


async def plaintext(request):
    return web.Response(body=b"Hello, World!", content_type="text/plain")


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: http_aiohttp.py PORT [DIR]", file=sys.stderr)
        sys.exit(2)
    port = int(sys.argv[1])
    app = web.Application()
    app.router.add_get("/plaintext", plaintext)
    if len(sys.argv) == 3:
        app.router.add_static("/static", sys.argv[2])
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=port, access_log=None,
                print=lambda *_: print(f"listening on 127.0.0.1:{port}", flush=True))


if __name__ == "__main__":
    main()
