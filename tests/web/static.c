/* static.c: static files as curl and Python's requests see them (ranges, conditions, HEAD, precompressed files,
 * listings, downloads), a traversal table on raw requests, a symlink swapped in while requests run, a sparse file
 * past 4 GiB, and descriptors accounted for after a client leaves mid-body. */
#include <dirent.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web/web.h"
#include "webkit.h"

TestSuite(static_files, .init = wk_init);

static char root[64], outside[96];
static char big[1 << 20];

static void put_file(const char *name, const void *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", root, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void at(char *dst, size_t cap, const char *name)
{
    snprintf(dst, cap, "%s/%s", root, name);
}

/* The tree every test serves: files, an index, names to escape, a symlink in and one out, a FIFO, hidden files. */
static void make_tree(void)
{
    strcpy(root, "/tmp/cio-static-XXXXXX");
    cr_assert(mkdtemp(root));
    snprintf(outside, sizeof outside, "%s-secret", root);
    FILE *f = fopen(outside, "w");
    cr_assert(f);
    fputs("SECRET outside the root\n", f);
    fclose(f);
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7 + i / 251);
    char p[256], q[1024];
    put_file("small.txt", "hello world\n", 12);
    put_file("big.bin", big, sizeof big);
    static char page[4000];
    for (size_t i = 0; i < sizeof page; i++)
        page[i] = "<p>static page</p>\n"[i % 19];
    put_file("page.html", page, sizeof page);
    at(p, sizeof p, "sub");
    cr_assert_eq(mkdir(p, 0755), 0);
    put_file("sub/index.html", "<h1>sub</h1>\n", 13);
    at(p, sizeof p, "list");
    cr_assert_eq(mkdir(p, 0755), 0);
    put_file("list/a&b<c>.txt", "x", 1);
    put_file("list/space name.txt", "y", 1);
    put_file("list/.hidden", "h", 1);
    at(p, sizeof p, "list/dir");
    cr_assert_eq(mkdir(p, 0755), 0);
    put_file(".hidden", "hidden\n", 7);
    at(p, sizeof p, "out");
    cr_assert_eq(symlink(outside, p), 0);
    at(p, sizeof p, "in.txt");
    cr_assert_eq(symlink("small.txt", p), 0);
    at(p, sizeof p, "fifo");
    cr_assert_eq(mkfifo(p, 0644), 0);
    at(p, sizeof p, "sub/up");
    cr_assert_eq(symlink("../../", p), 0); /* a directory symlink that leads above the root */
    /* precompressed siblings, made by the real tools (before the loop runs: plain system()) */
    at(p, sizeof p, "page.html");
    snprintf(q, sizeof q,
             "gzip -k -9 '%s' && /usr/bin/python3 -c \"import brotli,sys; d=open(sys.argv[1],'rb').read(); "
             "open(sys.argv[1]+'.br','wb').write(brotli.compress(d))\" '%s'",
             p, p);
    cr_assert_eq(system(q), 0, "%s", q);
}

static void rm_tree(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", root, outside);
    cr_assert_eq(system(cmd), 0);
}

/* curl with `args`, -i: the head and body split. Returns curl's status. */
struct got {
    cio_buf out;
    char head[4096];
    const char *body;
    size_t body_len;
};

static int curl(struct got *g, char *const *args)
{
    char *argv[32] = {"curl", "--silent", "--show-error", "--max-time", "60", "-i"};
    int n = 6;
    for (; *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    memset(g, 0, sizeof *g);
    int rc = wk_run(argv, NULL, 0, &g->out);
    const char *d = g->out.data ? g->out.data : "";
    const char *end = strstr(d, "\r\n\r\n");
    if (end) {
        snprintf(g->head, sizeof g->head, "%.*s", (int)(end - d), d);
        g->body = end + 4;
        g->body_len = g->out.len - (size_t)(g->body - d);
    } else {
        g->body = "";
    }
    return rc;
}

static bool has(const struct got *g, const char *s)
{
    return strstr(g->head, s) != NULL;
}

static int app_with(cio_web_app **app, const cio_web_static_opts *o)
{
    int rc = cio_web_app_open(app, NULL);
    if (rc == 0)
        rc = cio_web_add_static(*app, "/static", root, o);
    return rc;
}

static int curl_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(app_with(&app, &(cio_web_static_opts){.precompressed = true, .cache_control = "max-age=60"}), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    char u[160], etag[128] = "", lm[64] = "";
    snprintf(u, sizeof u, "http://127.0.0.1:%d/static/small.txt", cio_web_test_port(t));
    struct got g;

    WK_EQ(curl(&g, (char *[]){u, NULL}), 0);
    WK_CHECK(!strncmp(g.head, "HTTP/1.1 200", 12) && g.body_len == 12 && !memcmp(g.body, "hello world\n", 12), "%s",
             g.head);
    WK_CHECK(has(&g, "Content-Type: text/plain; charset=utf-8") && has(&g, "Cache-Control: max-age=60") &&
                 has(&g, "Accept-Ranges: bytes") && has(&g, "Vary: Accept-Encoding"),
             "%s", g.head);
    const char *e = strstr(g.head, "ETag: "), *l = strstr(g.head, "Last-Modified: ");
    WK_CHECK(e && l, "%s", g.head);
    if (e)
        sscanf(e + 6, "%127[^\r]", etag);
    if (l)
        sscanf(l + 15, "%63[^\r]", lm);
    int64_t mt;
    WK_EQ(cio_http_date_parse((cio_http_str){lm, strlen(lm)}, &mt), 0);
    cio_buf_free(&g.out);

    /* ranges: curl -r */
    static const struct {
        const char *r, *status, *body, *cr;
    } ranges[] = {
        {"0-4", "206", "hello", "Content-Range: bytes 0-4/12"},
        {"-3", "206", "ld\n", "Content-Range: bytes 9-11/12"},
        {"6-", "206", "world\n", "Content-Range: bytes 6-11/12"},
        {"6-100", "206", "world\n", "Content-Range: bytes 6-11/12"},
        {"0-3,2-5", "206", "hello ", "Content-Range: bytes 0-5/12"}, /* overlapping: coalesced */
        {"100-200", "416", NULL, "Content-Range: bytes */12"},
        {"5-1", "200", "hello world\n", NULL}, /* malformed: ignored */
    };
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
        WK_EQ(curl(&g, (char *[]){"-r", (char *)ranges[i].r, u, NULL}), 0);
        WK_CHECK(!strncmp(g.head + 9, ranges[i].status, 3), "-r %s: %s", ranges[i].r, g.head);
        if (ranges[i].body)
            WK_CHECK(g.body_len == strlen(ranges[i].body) && !memcmp(g.body, ranges[i].body, g.body_len), "-r %s: %.*s",
                     ranges[i].r, (int)g.body_len, g.body);
        if (ranges[i].cr)
            WK_CHECK(has(&g, ranges[i].cr), "-r %s: %s", ranges[i].r, g.head);
        cio_buf_free(&g.out);
    }
    /* two ranges: multipart/byteranges, each part with its Content-Range */
    WK_EQ(curl(&g, (char *[]){"-r", "0-1,6-7", u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 206") && has(&g, "Content-Type: multipart/byteranges; boundary="), "%s", g.head);
    WK_CHECK(strstr(g.body, "Content-Range: bytes 0-1/12\r\n\r\nhe\r\n") &&
                 strstr(g.body, "Content-Range: bytes 6-7/12\r\n\r\nwo\r\n--"),
             "%s", g.body);
    cio_buf_free(&g.out);

    /* conditions: -z sends If-Modified-Since (and "-DATE" If-Unmodified-Since) */
    char ims[80], old[80], date[CIO_HTTP_DATE_LEN + 1];
    cio_http_date_format(date, mt);
    snprintf(ims, sizeof ims, "%s", date);
    WK_EQ(curl(&g, (char *[]){"-z", ims, u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 304") && g.body_len == 0 && has(&g, etag), "%s", g.head);
    cio_buf_free(&g.out);
    cio_http_date_format(date, mt - 3600);
    snprintf(old, sizeof old, "%s", date);
    WK_EQ(curl(&g, (char *[]){"-z", old, u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 200") && g.body_len == 12, "%s", g.head);
    cio_buf_free(&g.out);
    snprintf(old, sizeof old, "-%s", date);
    WK_EQ(curl(&g, (char *[]){"-z", old, u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 412"), "%s", g.head);
    cio_buf_free(&g.out);
    char h[200];
    snprintf(h, sizeof h, "If-None-Match: \"x\", W/%s", etag);
    WK_EQ(curl(&g, (char *[]){"-H", h, u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 304"), "%s: %s", h, g.head);
    cio_buf_free(&g.out);
    WK_EQ(curl(&g, (char *[]){"-H", "If-Match: \"other\"", u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 412"), "%s", g.head);
    cio_buf_free(&g.out);
    snprintf(h, sizeof h, "If-Match: %s", etag);
    WK_EQ(curl(&g, (char *[]){"-H", h, u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 200"), "%s", g.head);
    cio_buf_free(&g.out);
    WK_EQ(curl(&g, (char *[]){"-H", "If-Range: \"stale\"", "-r", "0-4", u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 200") && g.body_len == 12, "%s", g.head);
    cio_buf_free(&g.out);
    snprintf(h, sizeof h, "If-Range: %s", etag);
    WK_EQ(curl(&g, (char *[]){"-H", h, "-r", "0-4", u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 206") && g.body_len == 5, "%s", g.head);
    cio_buf_free(&g.out);
    snprintf(h, sizeof h, "If-Range: %s", lm);
    WK_EQ(curl(&g, (char *[]){"-H", h, "-r", "0-4", u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 206"), "%s", g.head);
    cio_buf_free(&g.out);

    /* HEAD: the length, no body */
    WK_EQ(curl(&g, (char *[]){"-I", u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 200") && has(&g, "Content-Length: 12") && g.body_len == 0, "%s", g.head);
    cio_buf_free(&g.out);

    /* precompressed siblings: br preferred, gzip when only it is accepted, the original otherwise */
    static char page[4000];
    for (size_t i = 0; i < sizeof page; i++)
        page[i] = "<p>static page</p>\n"[i % 19];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/static/page.html", cio_web_test_port(t));
    static const struct {
        const char *accept, *coding;
    } acc[] = {{"gzip, br", "br"}, {"gzip", "gzip"}, {"zstd", NULL}, {"identity", NULL}};
    for (size_t i = 0; i < sizeof acc / sizeof *acc; i++) {
        snprintf(h, sizeof h, "Accept-Encoding: %s", acc[i].accept);
        WK_EQ(curl(&g, (char *[]){"--compressed", "-H", h, u, NULL}), 0);
        char ce[64];
        snprintf(ce, sizeof ce, "Content-Encoding: %s", acc[i].coding ? acc[i].coding : "");
        WK_CHECK(acc[i].coding ? has(&g, ce) : !has(&g, "Content-Encoding"), "%s: %s", h, g.head);
        WK_CHECK(has(&g, "Content-Type: text/html") && has(&g, "Vary: Accept-Encoding"), "%s", g.head);
        WK_CHECK(g.body_len == sizeof page && !memcmp(g.body, page, sizeof page), "%s: %zu bytes", h, g.body_len);
        cio_buf_free(&g.out);
    }

    /* directories: the index, the redirect to "/", no listing unless asked */
    snprintf(u, sizeof u, "http://127.0.0.1:%d/static/sub", cio_web_test_port(t));
    WK_EQ(curl(&g, (char *[]){u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 301") && has(&g, "Location: /static/sub/"), "%s", g.head);
    cio_buf_free(&g.out);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/static/sub?x=1", cio_web_test_port(t));
    WK_EQ(curl(&g, (char *[]){u, NULL}), 0);
    WK_CHECK(has(&g, "Location: /static/sub/?x=1"), "%s", g.head);
    cio_buf_free(&g.out);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/static/sub/", cio_web_test_port(t));
    WK_EQ(curl(&g, (char *[]){u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 200") && !strcmp(g.body, "<h1>sub</h1>\n"), "%s", g.head);
    cio_buf_free(&g.out);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/static/list/", cio_web_test_port(t));
    WK_EQ(curl(&g, (char *[]){u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 403"), "%s", g.head);
    cio_buf_free(&g.out);
    snprintf(u, sizeof u, "http://127.0.0.1:%d/static", cio_web_test_port(t));
    WK_EQ(curl(&g, (char *[]){u, NULL}), 0);
    WK_CHECK(has(&g, "HTTP/1.1 301") && has(&g, "Location: /static/"), "%s", g.head);
    cio_buf_free(&g.out);

    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(static_files, ranges_conditions_head_precompressed_and_directories_as_curl_sees_them)
{
    make_tree();
    tst_run(curl_body, NULL);
    rm_tree();
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ listings */

static int listing_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(app_with(&app, &(cio_web_static_opts){.show_index = true}), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/static/list/", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    const char *b = r.body.data ? r.body.data : "";
    /* names escaped in text and encoded in links; directories first; hidden files left out */
    const char *d = strstr(b, "<a href=\"dir/\">dir/</a>"),
               *x = strstr(b, "<a href=\"a%26b%3Cc%3E.txt\">a&amp;b&lt;c&gt;.txt</a>"),
               *s = strstr(b, "<a href=\"space%20name.txt\">space name.txt</a>");
    WK_CHECK(d && x && s && d < x && x < s, "%s", b);
    WK_CHECK(!strstr(b, "hidden") && !strstr(b, "<c>"), "%s", b);
    WK_CHECK(strstr(b, "<title>Index of /static/list/</title>") != NULL, "%s", b);
    cio_web_test_response_fini(&r);
    /* Python's html.parser reads it as the links it shows */
    char script[512];
    snprintf(script, sizeof script,
             "import requests, html.parser\n"
             "class P(html.parser.HTMLParser):\n"
             "    def handle_starttag(self, tag, attrs):\n"
             "        if tag == 'a': print(dict(attrs)['href'])\n"
             "P().feed(requests.get('http://127.0.0.1:%d/static/list/', timeout=30).text)\n",
             cio_web_test_port(t));
    char *py[] = {"/usr/bin/python3", "-c", script, NULL};
    cio_buf out = {0};
    WK_EQ(wk_run(py, NULL, 0, &out), 0);
    WK_STREQ(out.data, "dir/\na%26b%3Cc%3E.txt\nspace%20name.txt\n");
    cio_buf_free(&out);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(static_files, listings_escape_names_and_hide_dot_files)
{
    make_tree();
    tst_run(listing_body, NULL);
    rm_tree();
    wk_verdict();
}

/* --------------------------------------------------------------------------------------------- traversal */

static const char *const escapes[] = {
    "/static/../x-secret",
    "/static/..%2fx-secret",
    "/static/..%2Fx-secret",
    "/static/%2e%2e/x-secret",
    "/static/%2e%2e%2fx-secret",
    "/static/.%2e/x-secret",
    "/static/%2e./x-secret",
    "/static/..%5cx-secret",
    "/static/..\\x-secret",
    "/static/%5c..%5cx-secret",
    "/static/%252e%252e/x-secret",
    "/static/%252e%252e%252fx-secret",
    "/static/%c0%ae%c0%ae/x-secret",
    "/static/%c0%af",
    "/static/%e0%80%ae%e0%80%ae/x-secret",
    "/static/small.txt%00.html",
    "/static/%00",
    "/static//x-secret",
    "/static/sub/../../x-secret",
    "/static/sub/%2e%2e/%2e%2e/x-secret",
    "/static/out",
    "/static/sub/up/x-secret",
    "/static/sub/up",
    "/static/.hidden",
    "/static/list/.hidden",
    "/static/%2ehidden",
    "/static/fifo",
    "/static/small.txt/",
    "/static/small.txt%2f..%2f..%2fx-secret",
    "/static/%0d%0aX-Injected:%20yes",
    "/static/x\x01y",
};

static int traversal_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(app_with(&app, &(cio_web_static_opts){.show_index = true}), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    /* the secret sits beside the root: "x-secret" is its name's tail from inside ("/tmp/cio-static-XXXXXX-secret") */
    const char *tail = strrchr(outside, '/') + 1;
    for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++) {
        char target[512], req[1024];
        const char *x = strstr(escapes[i], "x-secret");
        if (x)
            snprintf(target, sizeof target, "%.*s%s", (int)(x - escapes[i]), escapes[i], tail);
        else
            snprintf(target, sizeof target, "%s", escapes[i]);
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target);
        cio_web_test_response r;
        int rc = cio_web_test_raw(t, req, (size_t)n, "GET", &r);
        if (rc < 0) { /* the connection closed on a request the parser refuses: nothing served */
            WK_CHECK(rc == CIO_EPEERCLOSED, "%s: %s", target, cio_strerror(rc));
            continue;
        }
        WK_CHECK(r.status == 400 || r.status == 403 || r.status == 404, "%s: %d", target, r.status);
        WK_CHECK(!r.body.data || !strstr(r.body.data, "SECRET"), "%s: %s", target, r.body.data);
        WK_ISNULL(cio_web_test_header(&r, "X-Injected"));
        cio_web_test_response_fini(&r);
    }
    /* Inside the root a symlink works, where the kernel has openat2. Valgrind 3.19 does not know the call (ENOSYS),
       so under it the server takes the walk, which refuses every symlink (the walk's own test checks that). */
    struct open_how how = {.flags = O_RDONLY | O_DIRECTORY};
    long probe = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof how);
    bool openat2 = probe >= 0 || errno != ENOSYS;
    if (probe >= 0)
        close((int)probe);
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/static/in.txt", NULL, NULL, 0, &r), 0);
    if (openat2)
        WK_CHECK(r.status == 200 && r.body.data && !strcmp(r.body.data, "hello world\n"), "%d", r.status);
    else
        WK_EQ(r.status, 404);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);

    /* follow_symlinks lets a symlink lead out, and only a symlink */
    WK_EQ(app_with(&app, &(cio_web_static_opts){.follow_symlinks = true}), 0);
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    WK_EQ(cio_web_test_request(t, "GET", "/static/out", NULL, NULL, 0, &r), 0);
    WK_CHECK(r.status == 200 && r.body.data && strstr(r.body.data, "SECRET"), "%d", r.status);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "GET", "/static/..%2fx", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 404);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(static_files, no_request_reaches_outside_the_root)
{
    make_tree();
    tst_run(traversal_body, NULL);
    rm_tree();
    wk_verdict();
}

/* The same on the path a kernel without openat2 takes. Only a symlink out differs: the walk refuses every symlink,
   so in.txt is a 404 there too. */
static int traversal_walk_body(void *arg)
{
    (void)arg;
    cio__web_static_force_walk(true);
    cio_web_app *app;
    WK_EQ(app_with(&app, &(cio_web_static_opts){.show_index = true}), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    const char *tail = strrchr(outside, '/') + 1;
    for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++) {
        char target[512], req[1024];
        const char *x = strstr(escapes[i], "x-secret");
        if (x)
            snprintf(target, sizeof target, "%.*s%s", (int)(x - escapes[i]), escapes[i], tail);
        else
            snprintf(target, sizeof target, "%s", escapes[i]);
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target);
        cio_web_test_response r;
        int rc = cio_web_test_raw(t, req, (size_t)n, "GET", &r);
        if (rc < 0) {
            WK_CHECK(rc == CIO_EPEERCLOSED, "%s: %s", target, cio_strerror(rc));
            continue;
        }
        WK_CHECK(r.status == 400 || r.status == 403 || r.status == 404, "%s: %d", target, r.status);
        WK_CHECK(!r.body.data || !strstr(r.body.data, "SECRET"), "%s: %s", target, r.body.data);
        cio_web_test_response_fini(&r);
    }
    static const struct {
        const char *path;
        int status;
    } walk[] = {{"/static/small.txt", 200}, {"/static/sub/", 200}, {"/static/in.txt", 404}, {"/static/list/", 200}};
    for (size_t i = 0; i < sizeof walk / sizeof *walk; i++) {
        cio_web_test_response r;
        WK_EQ(cio_web_test_request(t, "GET", walk[i].path, NULL, NULL, 0, &r), 0);
        WK_CHECK(r.status == walk[i].status, "%s: %d", walk[i].path, r.status);
        cio_web_test_response_fini(&r);
    }
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    cio__web_static_force_walk(false);
    return 0;
}

Test(static_files, without_openat2_the_walk_keeps_requests_inside_too)
{
    make_tree();
    tst_run(traversal_walk_body, NULL);
    rm_tree();
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------ the swap race */

static atomic_bool swapping;

/* Swap race.txt between a regular file and a symlink to the secret, as fast as rename can. */
static void *swapper(void *arg)
{
    (void)arg;
    char race[256], safe[256], evil[256];
    at(race, sizeof race, "race.txt");
    at(safe, sizeof safe, "safe.tmp");
    at(evil, sizeof evil, "evil.tmp");
    for (unsigned i = 0; atomic_load(&swapping); i++) {
        if (i % 2) {
            FILE *f = fopen(safe, "w");
            if (f) {
                fputs("SAFE\n", f);
                fclose(f);
            }
            rename(safe, race);
        } else {
            unlink(evil);
            if (symlink(outside, evil) == 0)
                rename(evil, race);
        }
    }
    return NULL;
}

static int race_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(app_with(&app, &(cio_web_static_opts){.cache_valid = -1}), 0); /* an open per request: the race is real */
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    pthread_t th;
    atomic_store(&swapping, true);
    WK_EQ(pthread_create(&th, NULL, swapper, NULL), 0);
    int served = 0, refused = 0;
    for (int i = 0; i < 3000; i++) {
        cio_web_test_response r;
        if (cio_web_test_request(t, "GET", "/static/race.txt", NULL, NULL, 0, &r) < 0) {
            WK_CHECK(false, "request %d failed", i);
            break;
        }
        WK_CHECK(!r.body.data || !strstr(r.body.data, "SECRET"), "request %d: %s", i, r.body.data);
        if (r.status == 200)
            served++;
        else
            refused++;
        cio_web_test_response_fini(&r);
    }
    atomic_store(&swapping, false);
    pthread_join(th, NULL);
    WK_CHECK(served + refused == 3000, "%d + %d", served, refused);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(static_files, a_symlink_swapped_in_during_requests_never_leaks_a_byte)
{
    make_tree();
    tst_run(race_body, NULL);
    rm_tree();
    wk_verdict();
}

Test(static_files, a_symlink_swapped_in_never_leaks_a_byte_through_the_walk_either)
{
    make_tree();
    cio__web_static_force_walk(true);
    tst_run(race_body, NULL);
    cio__web_static_force_walk(false);
    rm_tree();
    wk_verdict();
}

/* ------------------------------------------------------------------- large files, requests, descriptors */

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int large_body(void *arg)
{
    (void)arg;
    int fds = count_fds();
    char p[256];
    at(p, sizeof p, "sparse.bin");
    const off_t size = 5LL << 30; /* 5 GiB, sparse */
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    WK_CHECK(fd >= 0, "open");
    WK_EQ(ftruncate(fd, size), 0);
    WK_EQ(pwrite(fd, "END-MARKER", 10, size - 10), 10);
    close(fd);
    cio_web_app *app;
    WK_EQ(app_with(&app, NULL), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    const char *const r1[] = {"Range", "bytes=-10", NULL};
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/static/sparse.bin", r1, NULL, 0, &r), 0);
    WK_EQ(r.status, 206);
    WK_STREQ(r.body.data, "END-MARKER");
    WK_STREQ(cio_web_test_header(&r, "Content-Range"), "bytes 5368709110-5368709119/5368709120");
    cio_web_test_response_fini(&r);
    const char *const r2[] = {"Range", "bytes=5368709100-5368709109", NULL};
    WK_EQ(cio_web_test_request(t, "GET", "/static/sparse.bin", r2, NULL, 0, &r), 0);
    WK_CHECK(r.status == 206 && r.body.len == 10 && !memcmp(r.body.data, "\0\0\0\0\0\0\0\0\0\0", 10), "%d", r.status);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "HEAD", "/static/sparse.bin", NULL, NULL, 0, &r), 0);
    WK_STREQ(cio_web_test_header(&r, "Content-Length"), "5368709120");
    cio_web_test_response_fini(&r);

    /* Python's requests, streaming the 1 MiB file and a range of it */
    char script[1024];
    snprintf(script, sizeof script,
             "import requests, hashlib\n"
             "u = 'http://127.0.0.1:%d/static/big.bin'\n"
             "r = requests.get(u, stream=True, timeout=30)\n"
             "h = hashlib.sha256()\n"
             "for c in r.iter_content(65536): h.update(c)\n"
             "print(r.status_code, r.headers['Content-Length'], h.hexdigest() == "
             "hashlib.sha256(open('%s/big.bin','rb').read()).hexdigest())\n"
             "r = requests.get(u, headers={'Range': 'bytes=1000-1999'}, timeout=30)\n"
             "print(r.status_code, len(r.content), r.content == open('%s/big.bin','rb').read()[1000:2000])\n",
             cio_web_test_port(t), root, root);
    char *py[] = {"/usr/bin/python3", "-c", script, NULL};
    cio_buf out = {0};
    WK_EQ(wk_run(py, NULL, 0, &out), 0);
    WK_STREQ(out.data, "200 1048576 True\n206 1000 True\n");
    cio_buf_free(&out);

    /* a client that leaves in the middle of the 5 GiB body: the server's sendfile fails, nothing stays open */
    cio_stream *s = wk_connect(t);
    if (s) {
        static const char req[] = "GET /static/sparse.bin HTTP/1.1\r\nHost: t\r\n\r\n";
        WK_EQ(cio_stream_write(s, req, sizeof req - 1), 0);
        static char buf[65536]; /* not on the task's stack */
        size_t got = 0;
        while (got < (4u << 20)) {
            ssize_t n = cio_stream_read(s, buf, sizeof buf);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        WK_CHECK(got >= (4u << 20), "%zu bytes", got);
        cio_stream_close(s);
    }
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);

    /* A handler cancelled in the middle of sendfile: a client that reads 1 MiB of the 5 GiB and then stops, so the
       server's sendfile waits for room until the shutdown's grace runs out and cancels it. Its connection and
       file are closed (the count of descriptors below), and the client sees the body end short. */
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    s = wk_connect(t);
    if (s) {
        static const char req[] = "GET /static/sparse.bin HTTP/1.1\r\nHost: t\r\n\r\n";
        WK_EQ(cio_stream_write(s, req, sizeof req - 1), 0);
        static char buf[65536]; /* not on the task's stack */
        size_t got = 0;
        while (got < (1u << 20)) {
            ssize_t n = cio_stream_read(s, buf, sizeof buf);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        WK_CHECK(got >= (1u << 20), "%zu bytes", got);
        WK_EQ(cio_web_test_close(t, CIO_MS(50)), -ETIMEDOUT); /* the request had to be cancelled */
        uint64_t total = got;
        ssize_t n;
        while ((n = cio_stream_read(s, buf, sizeof buf)) > 0)
            total += (uint64_t)n;
        WK_CHECK(n == 0 || n == -ECONNRESET, "%s", cio_strerror((int)n));
        WK_CHECK(total < (uint64_t)size, "%llu bytes", (unsigned long long)total);
        cio_stream_close(s);
    } else {
        (void)cio_web_test_close(t, 0);
    }
    cio_web_app_close(app);
    WK_EQ(count_fds(), fds);
    return 0;
}

Test(static_files, a_sparse_file_past_4_gib_requests_and_a_client_leaving_mid_body)
{
    make_tree();
    tst_run(large_body, NULL);
    rm_tree();
    wk_verdict();
}

/* ------------------------------------------------------------------------ handlers, cache, errors, types */

static int h_file(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    char p[256];
    at(p, sizeof p, cio_web_match(req, "name"));
    return cio_web_file(req, res, p, &(cio_web_static_opts){.download = true});
}

static int handler_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(app_with(&app,
                   &(cio_web_static_opts){.cache_valid = 1,
                                          .types = (const cio_web_mime_type[]){{"txt", "text/x-mine"}, {NULL, NULL}}}),
          0);
    WK_EQ(cio_web_get(app, "/dl/{name}", h_file, NULL), 0);
    WK_EQ(cio_web_add_static(NULL, "/s", root, NULL), -EINVAL);
    WK_EQ(cio_web_add_static(app, "s", root, NULL), -EINVAL);
    WK_EQ(cio_web_add_static(app, "/s", NULL, NULL), -EINVAL);
    WK_EQ(cio_web_add_static(app, "/s/{x}", root, NULL), CIO_EWEB_BAD_PATTERN);
    WK_EQ(cio_web_add_static(app, "/s", "/nonexistent-cio-dir", NULL), -ENOENT);
    char p[256];
    at(p, sizeof p, "small.txt");
    WK_EQ(cio_web_add_static(app, "/s", p, NULL), -ENOTDIR);
    WK_EQ(cio_web_add_static(app, "/static", root, NULL), CIO_EWEB_ROUTE_EXISTS);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    WK_EQ(cio_web_add_static(app, "/later", root, NULL), CIO_EWEB_FROZEN);
    cio_web_test_response r;
    WK_EQ(cio_web_test_request(t, "GET", "/dl/small.txt", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_STREQ(cio_web_test_header(&r, "Content-Disposition"),
             "attachment; filename=\"small.txt\"; filename*=UTF-8''small.txt");
    WK_STREQ(r.body.data, "hello world\n");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "GET", "/dl/none.txt", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 404);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_file(NULL, NULL, p, NULL), -EINVAL);
    /* the override table, and a changed file seen once the cache's time is up */
    WK_EQ(cio_web_test_request(t, "GET", "/static/small.txt", NULL, NULL, 0, &r), 0);
    WK_STREQ(cio_web_test_header(&r, "Content-Type"), "text/x-mine");
    cio_web_test_response_fini(&r);
    put_file("small.txt", "changed\n", 8);
    WK_EQ(cio_web_test_request(t, "GET", "/static/small.txt", NULL, NULL, 0, &r), 0);
    WK_STREQ(r.body.data, "changed\n");
    cio_web_test_response_fini(&r);
    /* POST is not a static method */
    WK_EQ(cio_web_test_request(t, "POST", "/static/small.txt", NULL, "x", 1, &r), 0);
    WK_EQ(r.status, 405);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(static_files, file_responses_errors_types_and_the_cache)
{
    make_tree();
    tst_run(handler_body, NULL);
    rm_tree();
    wk_verdict();
}

static int options_body(void *arg)
{
    (void)arg;
    cio_web_app *app;
    WK_EQ(app_with(
              &app,
              &(cio_web_static_opts){.compress = true, .max_ranges = 2, .default_type = "text/x-unknown", .index = ""}),
          0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    cio_web_test_response r;
    /* compressed on the fly when asked and accepted (page.html has no sibling in use here: precompressed is off) */
    const char *const gz[] = {"Accept-Encoding", "gzip", NULL};
    WK_EQ(cio_web_test_request(t, "GET", "/static/page.html", gz, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_STREQ(cio_web_test_header(&r, "Content-Encoding"), "gzip");
    WK_CHECK(r.body.len > 0 && r.body.len < 1000, "%zu bytes", r.body.len);
    cio_web_test_response_fini(&r);
    /* a range is never compressed */
    const char *const gzr[] = {"Accept-Encoding", "gzip", "Range", "bytes=0-9", NULL};
    WK_EQ(cio_web_test_request(t, "GET", "/static/page.html", gzr, NULL, 0, &r), 0);
    WK_EQ(r.status, 206);
    WK_ISNULL(cio_web_test_header(&r, "Content-Encoding"));
    WK_STREQ(r.body.data, "<p>static ");
    cio_web_test_response_fini(&r);
    /* more ranges than max_ranges: the whole file */
    const char *const three[] = {"Range", "bytes=0-0,2-2,4-4", NULL};
    WK_EQ(cio_web_test_request(t, "GET", "/static/small.txt", three, NULL, 0, &r), 0);
    WK_EQ(r.status, 200);
    WK_STREQ(r.body.data, "hello world\n");
    cio_web_test_response_fini(&r);
    const char *const two[] = {"Range", "bytes=0-0,2-2", NULL};
    WK_EQ(cio_web_test_request(t, "GET", "/static/small.txt", two, NULL, 0, &r), 0);
    WK_EQ(r.status, 206);
    cio_web_test_response_fini(&r);
    /* an unknown extension gets default_type; a directory without an index (index "") and no listing: 403 */
    WK_EQ(cio_web_test_request(t, "GET", "/static/in.txt", NULL, NULL, 0, &r), 0);
    WK_STREQ(cio_web_test_header(&r, "Content-Type"), "text/plain; charset=utf-8");
    cio_web_test_response_fini(&r);
    put_file("noext", "n", 1);
    WK_EQ(cio_web_test_request(t, "GET", "/static/noext", NULL, NULL, 0, &r), 0);
    WK_STREQ(cio_web_test_header(&r, "Content-Type"), "text/x-unknown");
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_request(t, "GET", "/static/sub/", NULL, NULL, 0, &r), 0);
    WK_EQ(r.status, 403);
    cio_web_test_response_fini(&r);
    /* HEAD of a range-less file: the length, no body */
    WK_EQ(cio_web_test_request(t, "HEAD", "/static/big.bin", NULL, NULL, 0, &r), 0);
    WK_STREQ(cio_web_test_header(&r, "Content-Length"), "1048576");
    WK_EQ(r.body.len, 0);
    cio_web_test_response_fini(&r);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(static_files, compression_range_limits_default_type_and_no_index)
{
    make_tree();
    tst_run(options_body, NULL);
    rm_tree();
    wk_verdict();
}

Test(static_files, mime_types)
{
    cr_assert_str_eq(cio_web_mime_type_for("a/b/index.HTML", NULL), "text/html; charset=utf-8");
    cr_assert_str_eq(cio_web_mime_type_for("x.woff2", NULL), "font/woff2");
    cr_assert_str_eq(cio_web_mime_type_for("x.tar.gz", NULL), "application/gzip");
    cr_assert_null(cio_web_mime_type_for("Makefile", NULL));
    cr_assert_null(cio_web_mime_type_for(".bashrc", NULL));
    cr_assert_null(cio_web_mime_type_for("dir.d/file", NULL));
    cr_assert_null(cio_web_mime_type_for(NULL, NULL));
    const cio_web_mime_type mine[] = {{"html", "text/x-html"}, {"foo", "application/x-foo"}, {NULL, NULL}};
    cr_assert_str_eq(cio_web_mime_type_for("a.html", mine), "text/x-html");
    cr_assert_str_eq(cio_web_mime_type_for("a.FOO", mine), "application/x-foo");
    cr_assert_str_eq(cio_web_mime_type_for("a.css", mine), "text/css; charset=utf-8");
}
