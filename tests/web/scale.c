/* scale.c: one server on one loop holding 10,000 concurrent keep-alive connections (idle ones parked without a
 * task or a stack), each served twice, from a Python asyncio client in another process (so that each side has
 * its 10,000 descriptors within the limit); and a handler cancelled in the middle of a write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netkit.h"
#include "webkit.h"

TestSuite(scale, .init = wk_init);

#define CONNS 10000

static int h_hello(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    return cio_web_text(res, 200, "hello %s", cio_web_match(req, "n"));
}

static const char script[] =
    "import sys, asyncio\n"
    "N = int(sys.argv[2]); port = int(sys.argv[1])\n"
    "async def ask(r, w, i):\n"
    "    w.write(b'GET /hello/%d HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' % i)\n"
    "    head = await r.readuntil(b'\\r\\n\\r\\n')\n"
    "    n = int([l for l in head.split(b'\\r\\n') if l.lower().startswith(b'content-length:')][0].split(b':')[1])\n"
    "    body = await r.readexactly(n)\n"
    "    assert head.startswith(b'HTTP/1.1 200 ') and body == b'hello %d' % i, (head, body)\n"
    "async def main():\n"
    "    conns = []\n"
    "    for i in range(0, N, 500):\n"
    "        conns += await asyncio.gather(*[asyncio.open_connection('127.0.0.1', port) for _ in range(500)])\n"
    "    await asyncio.gather(*[ask(r, w, i) for i, (r, w) in enumerate(conns)])\n"
    "    print('round 1', len(conns), flush=True)\n"
    "    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)\n"
    "    await asyncio.gather(*[ask(r, w, i + N) for i, (r, w) in enumerate(conns)])\n"
    "    print('round 2', len(conns), flush=True)\n"
    "    for r, w in conns:\n"
    "        w.close()\n"
    "asyncio.run(main())\n";

static int hold_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/hello/{n}", h_hello, NULL), 0);
    cio_web_server *srv;
    WK_EQ(cio_web_server_start(&srv, app,
                               &(cio_web_server_opts){.host = "127.0.0.1",
                                                      .max_connections = 2 * CONNS,
                                                      /* opening 10,000 connections takes a while on a loaded machine */
                                                      .header_timeout = CIO_SEC(300)}),
          0);
    char port[16], n[16];
    snprintf(port, sizeof port, "%d", cio_web_server_port(srv));
    snprintf(n, sizeof n, "%d", CONNS);
    cio_process *p;
    cio_process_opts po = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_STDOUT};
    WK_EQ(cio_process_exec(&p, (char *[]){"/usr/bin/python3", "-c", (char *)script, port, n, NULL}, &po), 0);
    char line[4096];
    ssize_t got = cio_stream_read_until(cio_process_stdout(p), "\n", 1, line, sizeof line - 1);
    line[got > 0 ? got : 0] = 0;
    WK_STREQ(line, "round 1 10000\n");
    /* Every connection is open, idle and parked. */
    WK_EQ(cio_web_server_connections(srv), CONNS);
    WK_EQ(cio_stream_write(cio_process_stdin(p), "go\n", 3), 0);
    got = cio_stream_read_until(cio_process_stdout(p), "\n", 1, line, sizeof line - 1);
    line[got > 0 ? got : 0] = 0;
    WK_STREQ(line, "round 2 10000\n");
    int status = -1;
    WK_EQ(cio_process_wait(p, &status), 0);
    WK_EQ(status, 0);
    cio_process_close(p);
    WK_EQ(cio_web_server_close(srv, CIO_SEC(10)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(scale, ten_thousand_keep_alive_connections_on_one_loop, .timeout = 600)
{
    nk_raise_nofile(CONNS + 1000);
    tst_run(hold_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ cancellation */

static int writing;

/* Writes until cancelled: the client reads nothing, so the writes soon wait on back-pressure. */
static int h_flood(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    static char block[65536];
    int rc = cio_web_prepare(res, -1);
    writing = 1;
    while (rc == 0)
        rc = cio_web_write(res, block, sizeof block);
    return rc;
}

static int cancel_body(void *arg)
{
    (void)arg;
    writing = 0;
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/flood", h_flood, NULL), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    cio_stream *s = wk_connect(t);
    WK_EQ(cio_stream_write(s, "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n", 33), 0);
    WK_EQ(nk_turn_until(&writing, 1), 0);
    for (int i = 0; i < 100; i++)
        cio_sleep(0); /* the handler fills the socket and waits */
    /* A grace of zero: the handler is cancelled in its write. */
    WK_EQ(cio_web_test_close(t, 0), -ETIMEDOUT);
    /* The connection is closed: what was sent ends without the last chunk. */
    static char buf[65536];
    char tail[5] = {0}; /* the last bytes that came */
    ssize_t n;
    size_t total = 0;
    while ((n = cio_stream_read(s, buf, sizeof buf)) > 0) {
        total += (size_t)n;
        if (n >= 5) {
            memcpy(tail, buf + n - 5, 5);
        } else {
            memmove(tail, tail + n, 5 - (size_t)n);
            memcpy(tail + 5 - n, buf, (size_t)n);
        }
    }
    WK_CHECK(n == 0 || n == -ECONNRESET, "%s", cio_strerror((int)n));
    WK_CHECK(total > 65536, "%zu bytes", total);
    /* Never the last chunk: a client must not take a cut body for a whole one. */
    WK_CHECK(memcmp(tail, "0\r\n\r\n", 5) != 0);
    cio_stream_close(s);
    cio_web_app_close(app);
    return 0;
}

Test(scale, a_handler_cancelled_mid_write_closes_its_connection)
{
    tst_run(cancel_body, NULL);
    wk_verdict();
}
