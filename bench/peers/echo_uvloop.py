# echo_uvloop.py: the echo suite's Python peers: uvloop with a Protocol server or streams, and asyncio streams.
#
# Usage: /usr/bin/python3 echo_uvloop.py [--streams | --asyncio] PORT
#   (default)   uvloop, an asyncio.Protocol whose data_received writes the data straight back
#   --streams   uvloop, asyncio.start_server: read(64 KiB), write, await drain
#   --asyncio   the standard asyncio loop with the streams server
# Listens on 127.0.0.1 until killed; prints "listening on ..." once ready.
import asyncio
import sys

BUF = 64 * 1024


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def handle(reader, writer):
    try:
        while True:
            data = await reader.read(BUF)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main(mode, port):
    loop = asyncio.get_running_loop()
    if mode == "protocol":
        server = await loop.create_server(Echo, "127.0.0.1", port, backlog=4096)
    else:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    args = sys.argv[1:]
    mode = "protocol"
    if args and args[0] in ("--streams", "--asyncio"):
        mode = "streams" if args[0] == "--streams" else "asyncio"
        args = args[1:]
    if len(args) != 1:
        sys.exit("usage: echo_uvloop.py [--streams | --asyncio] PORT")
    if mode == "asyncio":
        asyncio.run(main(mode, int(args[0])))
    else:
        import uvloop

        uvloop.install()
        asyncio.run(main(mode, int(args[0])))
