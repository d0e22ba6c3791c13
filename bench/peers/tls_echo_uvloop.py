# tls_echo_uvloop.py: the tls suite's Python peers: TLS echo on uvloop (Protocol or streams) and on asyncio.
#
# Usage: /usr/bin/python3 tls_echo_uvloop.py [--streams | --asyncio] PORT CERT KEY
#   (default)   uvloop, an asyncio.Protocol whose data_received writes the data straight back
#   --streams   uvloop, asyncio.start_server: read(64 KiB), write, await drain
#   --asyncio   the standard asyncio loop with the streams server
# Every variant serves TLS through an ssl.SSLContext (OpenSSL) loaded with CERT and KEY, with session tickets
# off (num_tickets = 0) as in every server of the suite. Listens on 127.0.0.1 until killed; prints
# "listening on ..." once ready.
import asyncio
import ssl
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
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def main(mode, port, cert, key):
    loop = asyncio.get_running_loop()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.num_tickets = 0
    if mode == "protocol":
        server = await loop.create_server(Echo, "127.0.0.1", port, ssl=ctx, backlog=4096)
    else:
        server = await asyncio.start_server(handle, "127.0.0.1", port, ssl=ctx, backlog=4096)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    args = sys.argv[1:]
    mode = "protocol"
    if args and args[0] in ("--streams", "--asyncio"):
        mode = "streams" if args[0] == "--streams" else "asyncio"
        args = args[1:]
    if len(args) != 3:
        sys.exit("usage: tls_echo_uvloop.py [--streams | --asyncio] PORT CERT KEY")
    if mode != "asyncio":
        import uvloop

        uvloop.install()
    asyncio.run(main(mode, int(args[0]), args[1], args[2]))
