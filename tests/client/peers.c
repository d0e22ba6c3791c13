/* peers.c: the client against a server it did not grow up with: Python's aiohttp.web in a child process, on an
 * ephemeral loopback port (text, compression, streaming, redirects, repeated Set-Cookie, keep-alive). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clientkit.h"

TestSuite(client_peers, .init = wk_init);

static const char aiohttp_server[] =
    "import asyncio, sys\n"
    "from aiohttp import web\n"
    "async def hello(r): return web.Response(text='Hello from aiohttp')\n"
    "async def big(r):\n"
    "    resp = web.Response(text='abcdefghij' * 5000)\n"
    "    resp.enable_compression()\n"
    "    return resp\n"
    "async def stream(r):\n"
    "    resp = web.StreamResponse()\n"
    "    await resp.prepare(r)\n"
    "    for p in (b'one ', b'two ', b'three'):\n"
    "        await resp.write(p)\n"
    "    await resp.write_eof()\n"
    "    return resp\n"
    "async def redir(r): raise web.HTTPFound('/echo?from=redirect')\n"
    "async def echo(r):\n"
    "    body = await r.read()\n"
    "    return web.Response(text=f\"{r.method} {r.path_qs} ua={r.headers.get('User-Agent')} body={body.decode()}\")\n"
    "async def cookies(r):\n"
    "    resp = web.Response(text='c')\n"
    "    resp.set_cookie('a', '1')\n"
    "    resp.set_cookie('b', '2')\n"
    "    return resp\n"
    "async def main():\n"
    "    app = web.Application()\n"
    "    app.add_routes([web.get('/hello', hello), web.get('/big', big), web.get('/stream', stream),\n"
    "                    web.get('/redir', redir), web.route('*', '/echo', echo), web.get('/cookies', cookies)])\n"
    "    runner = web.AppRunner(app)\n"
    "    await runner.setup()\n"
    "    site = web.TCPSite(runner, '127.0.0.1', 0)\n"
    "    await site.start()\n"
    "    print(site._server.sockets[0].getsockname()[1], flush=True)\n"
    "    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)\n"
    "    await runner.cleanup()\n"
    "asyncio.run(main())\n";

static int read_all(cio_client_session *s, const char *method, const char *url, cio_client_request_opts *o,
                    cio_client_response **r, cio_buf *b)
{
    int rc = cio_client_request(s, method, url, o, r);
    if (rc == 0)
        rc = cio_client_response_read(*r, b);
    return rc;
}

static int aiohttp_body(void *arg)
{
    (void)arg;
    cio_process *p;
    char *argv[] = {"/usr/bin/python3", "-c", (char *)aiohttp_server, NULL};
    cio_process_opts po = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE};
    int rc = cio_process_exec(&p, argv, &po);
    WK_EQ(rc, 0);
    if (rc < 0)
        return 0;
    char line[32];
    ssize_t n = cio_stream_read_line(cio_process_stdout(p), line, sizeof line);
    WK_CHECK(n > 1, "the server's port: %s", cio_err_name((int)n));
    int port = n > 1 ? atoi(line) : 0;
    cio_client_session *s;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    char url[64];
    cio_client_response *r;
    cio_buf b = {0};
    WK_EQ(read_all(s, "GET", ck_url(url, sizeof url, port, "/hello"), NULL, &r, &b), 0);
    WK_EQ(cio_client_response_status(r), 200);
    WK_STREQ(b.data, "Hello from aiohttp");
    WK_STREQ(cio_client_response_header(r, "content-type"), "text/plain; charset=utf-8");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* aiohttp picks a coding from our Accept-Encoding; we decode it. */
    WK_EQ(read_all(s, "GET", ck_url(url, sizeof url, port, "/big"), NULL, &r, &b), 0);
    const char *ce = cio_client_response_header(r, "Content-Encoding");
    WK_CHECK(ce && (!strcmp(ce, "gzip") || !strcmp(ce, "deflate") || !strcmp(ce, "br")), "%s", wk_s(ce));
    WK_EQ(b.len, 50000);
    WK_CHECK(b.data && !memcmp(b.data, "abcdefghijabcdefghij", 20));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(read_all(s, "GET", ck_url(url, sizeof url, port, "/stream"), NULL, &r, &b), 0);
    WK_STREQ(b.data, "one two three");
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(read_all(s, "GET", ck_url(url, sizeof url, port, "/redir"), NULL, &r, &b), 0);
    WK_CHECK(b.data && !strncmp(b.data, "GET /echo?from=redirect ua=cio/", 31), "%s", wk_s(b.data));
    WK_EQ(cio_client_response_redirects(r), 1);
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    const char *const params[] = {"q", "a b", NULL};
    cio_client_request_opts o = {.params = params, .body = "sent", .body_len = 4};
    WK_EQ(read_all(s, "POST", ck_url(url, sizeof url, port, "/echo"), &o, &r, &b), 0);
    WK_CHECK(b.data && strstr(b.data, "POST /echo?q=a%20b") && strstr(b.data, "body=sent"), "%s", wk_s(b.data));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    WK_EQ(read_all(s, "GET", ck_url(url, sizeof url, port, "/cookies"), NULL, &r, &b), 0);
    const char *c0 = cio_client_response_header_nth(r, "Set-Cookie", 0);
    const char *c1 = cio_client_response_header_nth(r, "set-cookie", 1);
    WK_CHECK(c0 && c1 && strstr(c0, "a=1") && strstr(c1, "b=2"), "%s | %s", wk_s(c0), wk_s(c1));
    cio_buf_free(&b);
    WK_EQ(cio_client_response_release(r), 1);
    /* All of it over one kept-alive connection. */
    WK_EQ(cio_client_session_connections(s, NULL), 1);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_stream_write_eof(cio_process_stdin(p)), 0);
    int status = -1;
    WK_EQ(cio_process_wait(p, &status), 0);
    WK_EQ(status, 0);
    cio_process_close(p);
    return 0;
}

Test(client_peers, against_pythons_aiohttp_server)
{
    tst_run(aiohttp_body, NULL);
    wk_verdict();
}
