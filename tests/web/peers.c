/* peers.c: the web server as real clients see it, on loopback: curl (HTTP/1.0, 100-continue, chunked and
 * multipart uploads, HEAD, connection reuse), Python's requests and aiohttp (sessions, streaming, concurrency). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netkit.h"
#include "webkit.h"

TestSuite(peers, .init = wk_init);

/* ------------------------------------------------------------------------------------------------ the app */

static int h_hello(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    return cio_web_text(res, 200, "Hello, %s", cio_web_match(req, "name"));
}

static int h_echo(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *data;
    size_t len;
    int rc = cio_web_read_body(req, &data, &len);
    if (rc < 0)
        return rc;
    const char *ct = cio_web_header(req, "Content-Type");
    const char *te = cio_web_header(req, "Transfer-Encoding");
    const char *ex = cio_web_header(req, "Expect");
    (void)cio_web_set_header(res, "X-Framing", te ? "chunked" : "length");
    (void)cio_web_set_header(res, "X-Expect", ex ? ex : "none");
    return cio_web_respond(res, 200, ct ? ct : "application/octet-stream", data, len);
}

/* The remote port: clients that reuse their connection see one value. */
static int h_port(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    cio_addr a;
    int rc = cio_web_remote(req, &a);
    if (rc < 0)
        return rc;
    return cio_web_text(res, 200, "%d\n", cio_addr_port(&a));
}

/* A form: each part as "name[filename]=size:first bytes;" (the first bytes up to a NUL). */
static int h_form(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    cio_http_form *form;
    int rc = cio_http_form_open(&form, cio_web_body(req), cio_web_head(req), NULL, 0);
    if (rc < 0)
        return rc;
    char out[4096];
    size_t n = 0;
    const cio_http_head *ph;
    while ((rc = cio_http_form_next_part(form, &ph)) == 1) {
        char name[256], file[256];
        ssize_t nl = cio_http_form_part_name(form, name, sizeof name);
        ssize_t fl = cio_http_form_part_filename(form, file, sizeof file);
        size_t size = 0;
        char head[9] = {0};
        const void *p;
        size_t len;
        while ((rc = cio_http_form_part_next(form, &p, &len)) == 1) {
            if (size < 8)
                memcpy(head + size, p, len < 8 - size ? len : 8 - size);
            size += len;
        }
        if (rc < 0)
            break;
        n += (size_t)snprintf(out + n, sizeof out - n, "%s[%s]=%zu:%s;", nl >= 0 ? name : "?", fl >= 0 ? file : "",
                              size, head);
    }
    cio_http_form_close(form);
    if (rc < 0)
        return rc;
    return cio_web_respond(res, 200, "text/plain", out, n);
}

static int h_stream(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    (void)arg;
    int rc = cio_web_prepare(res, -1);
    char line[64];
    for (int i = 0; rc == 0 && i < 1000; i++) {
        int n = snprintf(line, sizeof line, "line %d\n", i);
        rc = cio_web_write(res, line, (size_t)n);
    }
    return rc;
}

struct server {
    cio_web_app *app;
    cio_web_test *t;
    char port[16];
};

static int server_open(struct server *s)
{
    int rc = cio_web_app_open(&s->app, &(cio_web_app_opts){.client_max_size = 64 << 20});
    WK_EQ(rc, 0);
    if (rc < 0)
        return rc;
    WK_EQ(cio_web_get(s->app, "/hello/{name}", h_hello, NULL), 0);
    WK_EQ(cio_web_route(s->app, "*", "/echo", h_echo, NULL), 0);
    WK_EQ(cio_web_get(s->app, "/port", h_port, NULL), 0);
    WK_EQ(cio_web_post(s->app, "/form", h_form, NULL), 0);
    WK_EQ(cio_web_get(s->app, "/stream", h_stream, NULL), 0);
    WK_EQ(rc = cio_web_test_open(&s->t, s->app, NULL), 0);
    snprintf(s->port, sizeof s->port, "%d", cio_web_test_port(s->t));
    return rc;
}

static void server_close(struct server *s)
{
    WK_EQ(cio_web_test_close(s->t, CIO_SEC(5)), 0);
    cio_web_app_close(s->app);
}

static char *url(const struct server *s, const char *path)
{
    static char bufs[8][256];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 256, "http://127.0.0.1:%s%s", s->port, path);
    return b;
}

#define CURL "curl", "--silent", "--show-error", "--max-time", "60"

/* ------------------------------------------------------------------------------------------------ curl */

static int curl_body(void *arg)
{
    (void)arg;
    struct server s;
    if (server_open(&s) < 0)
        return 0;
    cio_buf out = {0};
    WK_EQ(wk_run((char *[]){CURL, url(&s, "/hello/curl"), NULL}, NULL, 0, &out), 0);
    WK_STREQ(out.data, "Hello, curl");
    cio_buf_free(&out);
    /* HTTP/1.0: the response is 1.0 too, and closes. */
    WK_EQ(wk_run((char *[]){CURL, "--http1.0", "-i", url(&s, "/hello/old"), NULL}, NULL, 0, &out), 0);
    WK_CHECK(out.data && !strncmp(out.data, "HTTP/1.0 200 OK\r\n", 17), "%s", wk_s(out.data));
    WK_CHECK(out.data && strstr(out.data, "\r\n\r\nHello, old"));
    cio_buf_free(&out);
    /* HEAD. */
    WK_EQ(wk_run((char *[]){CURL, "-I", url(&s, "/hello/head"), NULL}, NULL, 0, &out), 0);
    WK_CHECK(out.data && strstr(out.data, "Content-Length: 11\r\n") && !strstr(out.data, "Hello"), "%s",
             wk_s(out.data));
    cio_buf_free(&out);
    /* A large body with Expect: 100-continue, from stdin with a length. */
    size_t big = 3 << 20;
    char *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)('a' + (i * 7) % 26);
    WK_EQ(wk_run((char *[]){CURL, "-H", "Expect: 100-continue", "-H", "Content-Type: application/x-test", "-D",
                            "/dev/stderr", "--data-binary", "@-", url(&s, "/echo"), NULL},
                 data, big, &out),
          0);
    WK_CHECK(out.len == big && !memcmp(out.data, data, big), "%zu bytes back", out.len);
    cio_buf_free(&out);
    /* Chunked upload: curl -T - sends stdin chunked. */
    WK_EQ(wk_run((char *[]){CURL, "-T", "-", "-i", url(&s, "/echo"), NULL}, data, big, &out), 0);
    /* After the final head (a 100 Continue may come first). */
    const char *final = out.data ? strstr(out.data, "HTTP/1.1 200") : NULL;
    const char *body = final ? strstr(final, "\r\n\r\n") : NULL;
    WK_CHECK(out.data && strstr(out.data, "X-Framing: chunked\r\n"), "%.300s", wk_s(out.data));
    WK_CHECK(body && out.len - (size_t)(body + 4 - out.data) == big && !memcmp(body + 4, data, big));
    cio_buf_free(&out);
    /* Multipart with a file part. */
    char dir[256], path[300];
    nk_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/up load.bin", dir);
    FILE *fp = fopen(path, "wb");
    fwrite(data, 1, 100000, fp);
    fclose(fp);
    char file_arg[400];
    snprintf(file_arg, sizeof file_arg, "file=@%s", path);
    WK_EQ(wk_run((char *[]){CURL, "-F", "field=value", "-F", file_arg, url(&s, "/form"), NULL}, NULL, 0, &out), 0);
    WK_STREQ(out.data, "field[]=5:value;file[up load.bin]=100000:ahovcjqx;");
    cio_buf_free(&out);
    nk_rmdir(dir);
    /* Several URLs in one run reuse the connection: one remote port. */
    WK_EQ(wk_run((char *[]){CURL, url(&s, "/port"), url(&s, "/port"), url(&s, "/port"), NULL}, NULL, 0, &out), 0);
    char *second = out.data ? strchr(out.data, '\n') : NULL;
    WK_CHECK(second && out.len == 3 * (size_t)(second + 1 - out.data) &&
                 !memcmp(out.data, second + 1, (size_t)(second + 1 - out.data)),
             "%s", wk_s(out.data));
    cio_buf_free(&out);
    free(data);
    server_close(&s);
    return 0;
}

Test(peers, curl)
{
    tst_run(curl_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ Python */

static const char requests_script[] =
    "import sys, requests\n"
    "base = 'http://127.0.0.1:%s' % sys.argv[1]\n"
    "s = requests.Session()\n"
    "ports = set()\n"
    "for i in range(20):\n"
    "    r = s.get(base + '/hello/py%d' % i)\n"
    "    assert r.status_code == 200 and r.text == 'Hello, py%d' % i, r.text\n"
    "    ports.add(s.get(base + '/port').text)\n"
    "assert len(ports) == 1, ports\n"
    "r = s.post(base + '/echo', json={'a': [1, 2, 3]})\n"
    "assert r.json() == {'a': [1, 2, 3]} and r.headers['Content-Type'] == 'application/json', r.headers\n"
    "def gen():\n"
    "    for i in range(100):\n"
    "        yield b'x' * 1000\n"
    "r = s.put(base + '/echo', data=gen())\n"
    "assert r.headers['X-Framing'] == 'chunked' and r.content == b'x' * 100000\n"
    "r = s.post(base + '/form', data={'k': 'v'}, files={'f': ('a.txt', b'hello world', 'text/plain')})\n"
    "assert r.text == 'k[]=1:v;f[a.txt]=11:hello wo;', r.text\n"
    "r = s.get(base + '/stream', stream=True)\n"
    "lines = [l for l in r.iter_lines()]\n"
    "assert len(lines) == 1000 and lines[999] == b'line 999', lines[-1]\n"
    "r = s.get(base + '/nowhere')\n"
    "assert r.status_code == 404 and r.text == '404: Not Found\\n'\n"
    "r = s.delete(base + '/hello/x')\n"
    "assert r.status_code == 405 and r.headers['Allow'] == 'GET, HEAD, OPTIONS', r.headers\n"
    "print('ok')\n";

static const char aiohttp_script[] =
    "import sys, asyncio, aiohttp\n"
    "base = 'http://127.0.0.1:%s' % sys.argv[1]\n"
    "async def main():\n"
    "    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as s:\n"
    "        async def one(i):\n"
    "            async with s.get(base + '/hello/a%d' % i) as r:\n"
    "                assert r.status == 200\n"
    "                return await r.text()\n"
    "        got = await asyncio.gather(*[one(i) for i in range(500)])\n"
    "        assert got == ['Hello, a%d' % i for i in range(500)]\n"
    "        async def chunks():\n"
    "            for i in range(50):\n"
    "                yield b'%04d' % i\n"
    "        async with s.post(base + '/echo', data=chunks()) as r:\n"
    "            assert await r.read() == b''.join(b'%04d' % i for i in range(50))\n"
    "        async with s.get(base + '/stream') as r:\n"
    "            n = 0\n"
    "            async for line in r.content:\n"
    "                n += 1\n"
    "            assert n == 1000\n"
    "        fd = aiohttp.FormData()\n"
    "        fd.add_field('f', b'\\x00\\x01binary', filename='b.bin', content_type='application/octet-stream')\n"
    "        async with s.post(base + '/form', data=fd) as r:\n"
    "            t = await r.text()\n"
    "            assert t == 'f[b.bin]=8:;', t\n"
    "    print('ok')\n"
    "asyncio.run(main())\n";

static int python_body(void *arg)
{
    const char *script = arg;
    struct server s;
    if (server_open(&s) < 0)
        return 0;
    cio_buf out = {0};
    WK_EQ(wk_run((char *[]){"/usr/bin/python3", "-c", (char *)script, s.port, NULL}, NULL, 0, &out), 0);
    WK_STREQ(out.data, "ok\n");
    cio_buf_free(&out);
    server_close(&s);
    return 0;
}

Test(peers, python_requests)
{
    tst_run(python_body, (void *)requests_script);
    wk_verdict();
}

Test(peers, python_aiohttp)
{
    tst_run(python_body, (void *)aiohttp_script);
    wk_verdict();
}
