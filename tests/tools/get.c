/* get.c: cio-get as its users run it, against cio's own server (retries after 503 and 429, a server that ignores
 * Range, hostile Content-Disposition names, no-clobber, resume and 416, a bad checksum, --json read by Python,
 * exit codes and usage errors) and against nginx (many files at once, resume of a truncated .part with the same
 * SHA-256). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../client/peerkit.h"
#include "tlskit.h"
#include "../web/webkit.h"

#define GET CIO_TOOLS_DIR "/cio-get"

static char root[256]; /* root/src is served, root/out receives */

#define FILE_LEN ((size_t)300000)

static char pattern_at(size_t i)
{
    return "the quick brown fox jumps over the lazy dog 0123456789\n"[(i + i / 4096) % 55];
}

static void put(const char *name, size_t len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/src/%s", root, name);
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f, "%s", p);
    for (size_t i = 0; i < len; i++)
        fputc(pattern_at(i), f);
    fclose(f);
}

static void setup(void)
{
    wk_init();
    snprintf(root, sizeof root, "%s/cio-get-XXXXXX", getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(root));
    char p[512];
    snprintf(p, sizeof p, "%s/src", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/out", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/tmp", root);
    cr_assert_eq(mkdir(p, 0755), 0);
    put("a.bin", FILE_LEN);
    put("small.txt", 13);
    for (int i = 0; i < 40; i++) {
        char n[32];
        snprintf(n, sizeof n, "f%02d.txt", i);
        put(n, 1000 + (size_t)i * 37);
    }
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(get, .init = setup, .fini = teardown, .timeout = 120);

/* Run cio-get with `args` (after a tiny --retry-wait), stdout into `out` (may be NULL). Returns its exit status. */
static int get(char *const args[], cio_buf *out)
{
    char *argv[64] = {GET, "--retry-wait", "0.01"};
    int n = 3;
    for (int i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    cio_buf tmp = {0};
    int rc = wk_run(argv, NULL, 0, out ? out : &tmp);
    cio_buf_free(&tmp);
    return rc;
}

static char *path(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", root, rel);
    return buf;
}

/* Whether the file at root/`rel` holds the first `len` bytes of the pattern, and no more. */
static bool holds(const char *rel, size_t len)
{
    char p[512];
    FILE *f = fopen(path(p, sizeof p, rel), "rb");
    if (!f)
        return false;
    size_t i = 0;
    int c;
    bool same = true;
    while ((c = fgetc(f)) != EOF) {
        if (i >= len || c != (unsigned char)pattern_at(i))
            same = false;
        i++;
    }
    fclose(f);
    return same && i == len;
}

static bool there(const char *rel)
{
    char p[512];
    struct stat st;
    return lstat(path(p, sizeof p, rel), &st) == 0;
}

/* Write the first `len` bytes of the pattern to root/`rel` (a .part of an earlier run), then `junk` after them. */
static void make_part(const char *rel, size_t len, const char *junk)
{
    char p[512];
    FILE *f = fopen(path(p, sizeof p, rel), "wb");
    cr_assert_not_null(f);
    for (size_t i = 0; i < len; i++)
        fputc(pattern_at(i), f);
    if (junk)
        fputs(junk, f);
    fclose(f);
}

static void clean_out(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s/out' && mkdir '%s/out'", root, root);
    cr_assert_eq(system(cmd), 0);
}

/* ------------------------------------------------------------------------------------------------ cio's server */

static int flaky_left, busy_left, norange_calls;
static char body[FILE_LEN];

static int h_flaky(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req, (void)arg;
    if (flaky_left > 0) {
        flaky_left--;
        return cio_web_text(res, 503, "try later");
    }
    return cio_web_respond(res, 200, "application/octet-stream", body, 1000);
}

static int h_busy(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req, (void)arg;
    if (busy_left > 0) {
        busy_left--;
        cio_web_set_header(res, "Retry-After", "0");
        return cio_web_text(res, 429, "slow down");
    }
    return cio_web_respond(res, 200, "application/octet-stream", body, 2000);
}

/* The whole file whatever the Range, with a strong ETag. */
static int h_norange(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req, (void)arg;
    norange_calls++;
    cio_web_set_header(res, "ETag", "\"v1\"");
    return cio_web_respond(res, 200, "application/octet-stream", body, FILE_LEN);
}

static int h_busy_date(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req, (void)arg;
    if (busy_left > 0) {
        busy_left--;
        cio_web_set_header(res, "Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"); /* past: at once */
        return cio_web_text(res, 503, "maintenance");
    }
    return cio_web_respond(res, 200, "application/octet-stream", body, 2000);
}

static int h_redir(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req, (void)arg;
    return cio_web_redirect(res, 302, "/static/small.txt");
}

static int h_named(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)req;
    cio_web_set_header(res, "Content-Disposition", arg);
    return cio_web_respond(res, 200, "application/octet-stream", body, 100);
}

/* A file with a strong ETag that honours "Range: bytes=A-" and "bytes=A-B" (with If-Range) and counts what it
   sends; while `stall` is set, each answer sends its first STALL_AT bytes (STALL_SEG for a bounded range) and then
   nothing. */
#define STALL_AT  100000
#define STALL_SEG 50000
static bool stall;
static long long stall_from = -1;
static bool stall_if_range;
static size_t served;

static int h_stall(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    cio_web_set_header(res, "ETag", "\"s1\"");
    const char *range = cio_web_header(req, "Range"), *ir = cio_web_header(req, "If-Range");
    long long from = 0, to = (long long)FILE_LEN - 1;
    int got = range ? sscanf(range, "bytes=%lld-%lld", &from, &to) : 0;
    bool ranged = got >= 1 && from >= 0 && from < (long long)FILE_LEN && to >= from && (!ir || !strcmp(ir, "\"s1\""));
    if (!ranged)
        from = 0, to = (long long)FILE_LEN - 1;
    if (to >= (long long)FILE_LEN)
        to = (long long)FILE_LEN - 1;
    size_t len = (size_t)(to - from + 1);
    if (ranged) {
        if (from > 0) {
            stall_from = from;
            stall_if_range = ir && !strcmp(ir, "\"s1\"");
        }
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %lld-%lld/%zu", from, to, FILE_LEN);
        cio_web_set_header(res, "Content-Range", cr);
    }
    if (stall) {
        size_t part = got == 2 ? STALL_SEG : STALL_AT;
        int rc = ranged ? cio_web_status(res, 206, NULL) : 0;
        if (rc == 0)
            rc = cio_web_prepare(res, (int64_t)len);
        if (rc == 0)
            rc = cio_web_write(res, body + from, part < len ? part : len);
        if (rc == 0)
            rc = cio_web_drain(res);
        while (rc == 0 && stall)
            rc = cio_sleep(CIO_SEC(1) / 100);
        return rc < 0 ? rc : -ECONNRESET;
    }
    served += len;
    return cio_web_respond(res, ranged ? 206 : 200, "application/octet-stream", body + from, len);
}

static int server_body(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < FILE_LEN; i++)
        body[i] = pattern_at(i);
    char src[512], out[512], u[8][256], p[512];
    path(src, sizeof src, "src");
    path(out, sizeof out, "out");
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/flaky", h_flaky, NULL), 0);
    WK_EQ(cio_web_get(app, "/busy", h_busy, NULL), 0);
    WK_EQ(cio_web_get(app, "/norange/a.bin", h_norange, NULL), 0);
    WK_EQ(cio_web_get(app, "/cd1", h_named, "attachment; filename=\"../x1\""), 0);
    WK_EQ(cio_web_get(app, "/cd2", h_named, "attachment; filename=\"/etc/x2\""), 0);
    WK_EQ(cio_web_get(app, "/cd3", h_named, "attachment; filename*=UTF-8''%2e%2e%2fx3"), 0);
    WK_EQ(cio_web_get(app, "/cd4", h_named, "attachment; filename=\"..\""), 0);
    WK_EQ(cio_web_get(app, "/cd5", h_named, "attachment; filename=\".hidden\\\\a%00b\""), 0);
    WK_EQ(cio_web_get(app, "/cd6", h_named, "attachment; filename*=UTF-8''..%2fn%00u%0al"), 0);
    WK_EQ(cio_web_get(app, "/stall/a.bin", h_stall, NULL), 0);
    WK_EQ(cio_web_get(app, "/busydate", h_busy_date, NULL), 0);
    WK_EQ(cio_web_get(app, "/redir", h_redir, NULL), 0);
    WK_EQ(cio_web_add_static(app, "/static", src, NULL), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, NULL), 0);
    int port = cio_web_test_port(t);
#define URL(i, pth) (snprintf(u[i], sizeof u[i], "http://127.0.0.1:%d%s", port, pth), u[i])

    /* plain files, a 404 among them: some failed */
    WK_EQ(get((char *[]){"-d", out, URL(0, "/static/a.bin"), URL(1, "/static/small.txt"), URL(2, "/static/none"), NULL},
              NULL),
          1);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "a.bin");
    WK_CHECK(holds("out/small.txt", 13), "small.txt");
    WK_CHECK(!there("out/a.bin.part") && !there("out/none") && !there("out/none.part"), "leftovers");

    /* no clobber: the second run refuses (all failed), the file stays; --clobber replaces it */
    make_part("out/small.txt", 5, NULL);
    WK_EQ(get((char *[]){"-d", out, URL(1, "/static/small.txt"), NULL}, NULL), 3);
    WK_CHECK(holds("out/small.txt", 5), "clobbered");
    WK_EQ(get((char *[]){"-d", out, "--clobber", URL(1, "/static/small.txt"), NULL}, NULL), 0);
    WK_CHECK(holds("out/small.txt", 13), "not replaced");
    /* -o, and -o refusing an existing file */
    WK_EQ(get((char *[]){"-o", path(p, sizeof p, "out/named"), URL(1, "/static/small.txt"), NULL}, NULL), 0);
    WK_CHECK(holds("out/named", 13), "-o");
    WK_EQ(get((char *[]){"-o", p, URL(1, "/static/small.txt"), NULL}, NULL), 3);

    /* URLs on stdin with -i - */
    clean_out();
    char list[600];
    int ll = snprintf(list, sizeof list, "# two\n%s\n\n  %s  \n", URL(0, "/static/a.bin"), URL(1, "/static/small.txt"));
    char *argv_in[] = {GET, "-i", "-", "-d", out, NULL};
    cio_buf none = {0};
    WK_EQ(wk_run(argv_in, list, (size_t)ll, &none), 0);
    cio_buf_free(&none);
    WK_CHECK(holds("out/a.bin", FILE_LEN) && holds("out/small.txt", 13), "-i -");

    /* --limit-rate: 300000 bytes at 1 MiB/s take at least a quarter of a second (a lower bound only) */
    clean_out();
    int64_t t0 = cio_now();
    WK_EQ(get((char *[]){"--limit-rate", "1M", "-d", out, URL(0, "/static/a.bin"), NULL}, NULL), 0);
    WK_CHECK(cio_now() - t0 >= CIO_SEC(1) / 4, "%lld ns", (long long)(cio_now() - t0));
    WK_CHECK(holds("out/a.bin", FILE_LEN), "rate-limited");

    /* retries: two 503s, then the file; with --retries 1 it fails */
    flaky_left = 2;
    WK_EQ(get((char *[]){"-d", out, URL(0, "/flaky"), NULL}, NULL), 0);
    WK_EQ(flaky_left, 0);
    WK_CHECK(holds("out/flaky", 1000), "flaky");
    flaky_left = 2;
    WK_EQ(get((char *[]){"-d", out, "--clobber", "--retries", "1", URL(0, "/flaky"), NULL}, NULL), 3);
    /* 429 with Retry-After: 0, twice */
    busy_left = 2;
    WK_EQ(get((char *[]){"-d", out, URL(0, "/busy"), NULL}, NULL), 0);
    WK_EQ(busy_left, 0);
    WK_CHECK(holds("out/busy", 2000), "busy");

    /* 503 with Retry-After as an HTTP date */
    busy_left = 1;
    WK_EQ(get((char *[]){"-d", out, URL(0, "/busydate"), NULL}, NULL), 0);
    WK_EQ(busy_left, 0);
    WK_CHECK(holds("out/busydate", 2000), "busydate");
    /* a redirect followed, named after the URL asked for; with --max-redirects 0 the 302 is an error */
    clean_out();
    WK_EQ(get((char *[]){"-d", out, URL(0, "/redir"), NULL}, NULL), 0);
    WK_CHECK(holds("out/redir", 13), "redirected");
    WK_EQ(get((char *[]){"-d", out, "--max-redirects", "0", URL(0, "/redir"), NULL}, NULL), 3);
    /* --timeout: a server that stops sending, no retry: failed */
    stall = true;
    WK_EQ(get((char *[]){"-d", out, "--timeout", "0.3", "--retries", "0", URL(0, "/stall/a.bin"), NULL}, NULL), 3);
    stall = false;
    WK_CHECK(!there("out/a.bin"), "a timed-out download completed");

    /* resume against the static handler: a .part of the first bytes continues with a 206 */
    clean_out();
    make_part("out/a.bin.part", 123456, NULL);
    cio_buf js = {0};
    WK_EQ(get((char *[]){"-c", "--json", "-d", out, URL(0, "/static/a.bin"), NULL}, &js), 0);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "resumed");
    WK_CHECK(js.data && strstr(js.data, "\"status\":206"), "%s", js.data ? js.data : "");
    cio_buf_free(&js);
    /* a complete .part: 416, then done */
    clean_out();
    make_part("out/a.bin.part", FILE_LEN, NULL);
    WK_EQ(get((char *[]){"-c", "--json", "-d", out, URL(0, "/static/a.bin"), NULL}, &js), 0);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "after 416");
    WK_CHECK(js.data && strstr(js.data, "\"status\":416"), "%s", js.data ? js.data : "");
    cio_buf_free(&js);
    /* a .part longer than the file: the 416 names the size, the file starts again */
    clean_out();
    make_part("out/a.bin.part", FILE_LEN, "EXTRA");
    WK_EQ(get((char *[]){"-c", "-d", out, URL(0, "/static/a.bin"), NULL}, NULL), 0);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "after a long .part");
    /* one name for two downloads of a run: the second is refused, the first is whole */
    clean_out();
    WK_EQ(get((char *[]){"-j", "2", "-d", out, URL(0, "/static/a.bin"), URL(1, "/static/a.bin"), NULL}, NULL), 1);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "one of two");
    /* a server that ignores Range: the junk-ended .part restarts from zero */
    clean_out();
    make_part("out/a.bin.part", 1000, "JUNKJUNK");
    norange_calls = 0;
    WK_EQ(get((char *[]){"-c", "-d", out, URL(0, "/norange/a.bin"), NULL}, NULL), 0);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "restarted");
    WK_EQ(norange_calls, 1);

    /* kill -9 in the middle of a download, then -c with the same arguments: only the rest is fetched */
    clean_out();
    stall = true;
    cio_process *pr;
    cio_process_opts po = {.stdin_mode = CIO_DEVNULL, .stdout_mode = CIO_DEVNULL, .stderr_mode = CIO_DEVNULL};
    WK_EQ(cio_process_exec(&pr, (char *[]){GET, "-d", out, URL(0, "/stall/a.bin"), NULL}, &po), 0);
    struct stat st = {0};
    for (int i = 0; i < 6000 && (stat(path(p, sizeof p, "out/a.bin.part"), &st) < 0 || st.st_size < STALL_AT); i++)
        cio_sleep(CIO_SEC(1) / 100);
    WK_EQ((long long)st.st_size, STALL_AT);
    WK_EQ(cio_process_kill(pr), 0);
    int status = 0;
    WK_EQ(cio_process_wait(pr, &status), 0);
    cio_process_close(pr);
    stall = false;
    WK_EQ(get((char *[]){"-c", "-d", out, URL(0, "/stall/a.bin"), NULL}, NULL), 0);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "after kill -9");
    WK_EQ(stall_from, STALL_AT);
    WK_CHECK(stall_if_range, "If-Range with the saved ETag");

    /* -x 4: the same bytes as one stream, from cio's static handler and from a server that ignores Range */
    clean_out();
    WK_EQ(get((char *[]){"-x", "4", "--json", "-d", out, URL(0, "/static/a.bin"), NULL}, &js), 0);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "segmented");
    WK_CHECK(js.data && strstr(js.data, "\"status\":206"), "%s", js.data ? js.data : "");
    WK_CHECK(!there("out/a.bin.part.ctl") && !there("out/a.bin.part"), "leftovers");
    cio_buf_free(&js);
    clean_out();
    norange_calls = 0;
    WK_EQ(get((char *[]){"-x", "4", "-d", out, URL(0, "/norange/a.bin"), NULL}, NULL), 0);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "one stream after a 200");
    WK_EQ(norange_calls, 1);

    /* kill -9 in the middle of a segmented download, then -c: only what the control file lacks is fetched */
    clean_out();
    stall = true;
    WK_EQ(cio_process_exec(&pr, (char *[]){GET, "-x", "4", "-d", out, URL(0, "/stall/a.bin"), NULL}, &po), 0);
    long long dones[4] = {0};
    bool saved = false;
    for (int i = 0; i < 6000 && !saved; i++) {
        cio_sleep(CIO_SEC(1) / 100);
        FILE *cf = fopen(path(p, sizeof p, "out/a.bin.part.ctl"), "r");
        if (!cf)
            continue;
        long long size, a, b;
        int n;
        saved = fscanf(cf, "cio-get segments %lld %d", &size, &n) == 2 && n == 4;
        for (int k = 0; saved && k < 4; k++)
            saved = fscanf(cf, "%lld %lld %lld", &a, &b, &dones[k]) == 3 && dones[k] >= 40000;
        fclose(cf);
    }
    WK_CHECK(saved, "the control file never showed every segment under way");
    WK_EQ(cio_process_kill(pr), 0);
    WK_EQ(cio_process_wait(pr, &status), 0);
    cio_process_close(pr);
    stall = false;
    served = 0;
    WK_EQ(get((char *[]){"-c", "-x", "4", "-d", out, URL(0, "/stall/a.bin"), NULL}, NULL), 0);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "segmented after kill -9");
    WK_CHECK(served <= FILE_LEN - 4 * 40000, "%zu bytes fetched again", served);
    WK_CHECK(!there("out/a.bin.part.ctl") && !there("out/a.bin.part.meta"), "leftovers");

    /* a segmented .part of a file that changed since (If-Range does not match): started again, whole */
    clean_out();
    FILE *cf = fopen(path(p, sizeof p, "out/a.bin.part"), "w");
    cr_assert(cf);
    for (size_t i = 0; i < FILE_LEN; i++)
        fputc('Z', cf); /* the old file's bytes */
    fclose(cf);
    cf = fopen(path(p, sizeof p, "out/a.bin.part.ctl"), "w");
    cr_assert(cf);
    fprintf(cf, "cio-get segments %zu 2\n0 150000 1000\n150000 %zu 0\n", FILE_LEN, FILE_LEN);
    fclose(cf);
    cf = fopen(path(p, sizeof p, "out/a.bin.part.meta"), "w");
    cr_assert(cf);
    fprintf(cf, "\"old\"\n");
    fclose(cf);
    WK_EQ(get((char *[]){"-c", "-x", "2", "-d", out, URL(0, "/stall/a.bin"), NULL}, NULL), 0);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "after a change on the server");
    WK_CHECK(!there("out/a.bin.part.ctl"), "leftovers");

    /* names that try to leave the directory */
    clean_out();
    WK_EQ(get((char *[]){"-d", out, URL(0, "/cd1"), URL(1, "/cd2"), URL(2, "/cd3"), URL(3, "/cd4"), URL(4, "/cd5"),
                         URL(5, "/cd6"), NULL},
              NULL),
          0);
    WK_CHECK(holds("out/x1", 100) && holds("out/x2", 100) && holds("out/x3", 100), "sanitised names");
    WK_CHECK(holds("out/index.html", 100), "'..' is index.html");
    WK_CHECK(holds("out/a%00b", 100), "a backslashed hidden name is its last segment");
    WK_CHECK(holds("out/n_u_l", 100), "a NUL and a newline in filename*");
    WK_CHECK(!there("x1") && !there("x3") && !there("out/.hidden"), "a name escaped");

    /* a bad checksum: all failed, the .part kept; the right one: done */
    clean_out();
    const char *zero = "0000000000000000000000000000000000000000000000000000000000000000";
    WK_EQ(get((char *[]){"-d", out, "--sha256", (char *)zero, URL(1, "/static/small.txt"), NULL}, NULL), 3);
    WK_CHECK(there("out/small.txt.part") && !there("out/small.txt"), "bad checksum");
    cio_buf sum = {0};
    WK_EQ(wk_run((char *[]){"sha256sum", path(p, sizeof p, "src/small.txt"), NULL}, NULL, 0, &sum), 0);
    char hex[65] = "";
    if (sum.len >= 64)
        memcpy(hex, sum.data, 64);
    cio_buf_free(&sum);
    WK_EQ(get((char *[]){"-c", "-d", out, "--sha256", hex, URL(1, "/static/small.txt"), NULL}, NULL), 0);
    WK_CHECK(holds("out/small.txt", 13), "good checksum");

    /* --json, read by Python */
    clean_out();
    WK_EQ(get((char *[]){"--json", "-q", "-d", out, URL(0, "/static/a.bin"), URL(1, "/static/none"), NULL}, &js), 1);
    static const char py[] = "import json, sys\n"
                             "rows = [json.loads(l) for l in sys.stdin]\n"
                             "by = {r['url'].rsplit('/', 1)[1]: r for r in rows}\n"
                             "a, n = by['a.bin'], by['none']\n"
                             "assert a['bytes'] == 300000 and a['status'] == 200 and a['error'] is None, a\n"
                             "assert a['path'].endswith('/a.bin') and len(a['sha256']) == 64, a\n"
                             "assert n['status'] == 404 and n['error'] and n['seconds'] >= 0, n\n"
                             "print('ok')\n";
    cio_buf pyout = {0};
    WK_EQ(wk_run((char *[]){"/usr/bin/python3", "-c", (char *)py, NULL}, js.data, js.len, &pyout), 0);
    WK_STREQ(pyout.data, "ok\n");
    cio_buf_free(&pyout);
    cio_buf_free(&js);

    /* under a pseudo-terminal: progress lines redrawn with ANSI codes and a final total; off one: plain lines */
    clean_out();
    static const char pty_py[] =
        "import os, pty, subprocess, sys\n"
        "pid, fd = pty.fork()\n"
        "if pid == 0:\n"
        "    os.execv(sys.argv[1], sys.argv[1:])\n"
        "out = b''\n"
        "while True:\n"
        "    try:\n"
        "        d = os.read(fd, 65536)\n"
        "    except OSError:\n"
        "        break\n"
        "    if not d:\n"
        "        break\n"
        "    out += d\n"
        "_, st = os.waitpid(pid, 0)\n"
        "assert os.waitstatus_to_exitcode(st) == 0, out\n"
        "assert b'\\x1b[' in out and b'total: ' in out and b'done: 1/1 files, 0 failed' in out, out\n"
        "assert b' -> ' in out, out\n"
        "os.unlink(sys.argv[-2] + '/a.bin')\n"
        "r = subprocess.run(sys.argv[1:], stderr=subprocess.PIPE)\n"
        "assert r.returncode == 0 and b'\\x1b' not in r.stderr, r\n"
        "assert r.stderr.count(b'\\n') == 1 and b' -> ' in r.stderr and b'300000 bytes' in r.stderr, r\n"
        "print('ok')\n";
    WK_EQ(wk_run((char *[]){"/usr/bin/python3", "-c", (char *)pty_py, GET, "-d", out, URL(0, "/static/a.bin"), NULL},
                 NULL, 0, &pyout),
          0);
    WK_STREQ(pyout.data, "ok\n");
    cio_buf_free(&pyout);

    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    return 0;
}

Test(get, against_cio_server)
{
    tst_run(server_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ nginx */

static const char *nginx_path(void)
{
    static const char *const where[] = {"/usr/sbin/nginx", "/sbin/nginx", "/usr/bin/nginx", NULL};
    return pk_which(where);
}

static void write_conf(int port)
{
    char p[512];
    FILE *f = fopen(path(p, sizeof p, "nginx.conf"), "w");
    cr_assert(f);
    fprintf(f,
            "%s"
            "daemon off; master_process off; worker_processes 1;\n"
            "pid %s/nginx.pid; error_log %s/error.log warn;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            "  access_log off;\n"
            "  client_body_temp_path %s/tmp; proxy_temp_path %s/tmp; fastcgi_temp_path %s/tmp;\n"
            "  uwsgi_temp_path %s/tmp; scgi_temp_path %s/tmp;\n"
            "  default_type application/octet-stream;\n"
            "  server { listen 127.0.0.1:%d; root %s/src; }\n"
            "}\n",
            getuid() == 0 ? "user root;\n" : "", root, root, root, root, root, root, root, port, root);
    fclose(f);
}

static int nginx_body(void *arg)
{
    (void)arg;
    WK_CHECK(nginx_path(), "nginx is not installed (apt-get install nginx)");
    if (!nginx_path())
        return 0;
    char conf[512], out[512], list[512], p[512];
    path(conf, sizeof conf, "nginx.conf");
    path(out, sizeof out, "out");
    cio_process *ng = NULL;
    int port = 0, rc = -ECONNREFUSED;
    for (int attempt = 0; attempt < 3 && rc == -ECONNREFUSED; attempt++) {
        port = pk_free_port();
        write_conf(port);
        rc = pk_start(&ng, (char *[]){(char *)nginx_path(), "-p", root, "-c", conf, NULL}, port);
    }
    WK_EQ(rc, 0);
    if (rc < 0)
        return 0;

    /* 40 files from a list on stdin-like input (-i FILE), 8 at once, 2 per host */
    FILE *f = fopen(path(list, sizeof list, "list.txt"), "w");
    cr_assert(f);
    fprintf(f, "# the files\n\n");
    for (int i = 0; i < 40; i++)
        fprintf(f, "http://127.0.0.1:%d/f%02d.txt\n", port, i);
    fclose(f);
    WK_EQ(get((char *[]){"-j", "8", "--limit-per-host", "2", "-i", list, "-d", out, NULL}, NULL), 0);
    for (int i = 0; i < 40; i++) {
        char n[64];
        snprintf(n, sizeof n, "out/f%02d.txt", i);
        WK_CHECK(holds(n, 1000 + (size_t)i * 37), "%s", n);
    }

    /* resume a truncated .part: the same SHA-256 as the source, by Python's hashlib */
    clean_out();
    make_part("out/a.bin.part", 77777, NULL);
    char u[256];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/a.bin", port);
    WK_EQ(get((char *[]){"-c", "-d", out, u, NULL}, NULL), 0);
    static const char py[] = "import hashlib, sys\n"
                             "h = [hashlib.sha256(open(p, 'rb').read()).hexdigest() for p in sys.argv[1:]]\n"
                             "print('same' if h[0] == h[1] else h)\n";
    char src[512];
    cio_buf pyout = {0};
    WK_EQ(wk_run((char *[]){"/usr/bin/python3", "-c", (char *)py, path(src, sizeof src, "src/a.bin"),
                            path(p, sizeof p, "out/a.bin"), NULL},
                 NULL, 0, &pyout),
          0);
    WK_STREQ(pyout.data, "same\n");
    cio_buf_free(&pyout);
    WK_CHECK(!there("out/a.bin.part") && !there("out/a.bin.part.meta"), "leftovers");
    /* in 8 segments: the same file */
    clean_out();
    WK_EQ(get((char *[]){"-x", "8", "-d", out, u, NULL}, NULL), 0);
    WK_CHECK(holds("out/a.bin", FILE_LEN), "segmented from nginx");
    WK_CHECK(!there("out/a.bin.part.ctl"), "leftovers");

    pk_stop(ng);
    return 0;
}

Test(get, against_nginx)
{
    tst_run(nginx_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ the command line */

static int usage_body(void *arg)
{
    (void)arg;
    cio_buf out = {0};
    WK_EQ(get((char *[]){"--help", NULL}, &out), 0);
    WK_CHECK(out.data && strstr(out.data, "Usage: cio-get") && strstr(out.data, "Exit status"), "help");
    cio_buf_free(&out);
    WK_EQ(get((char *[]){"--version", NULL}, &out), 0);
    WK_CHECK(out.data && !strncmp(out.data, "cio-get ", 8), "version");
    cio_buf_free(&out);
    WK_EQ(get((char *[]){NULL}, NULL), 2);
    WK_EQ(get((char *[]){"-j", "0", "http://127.0.0.1:1/", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"--retries", "x", "http://127.0.0.1:1/", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"--timeout", "-1", "http://127.0.0.1:1/", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"--sha256", "abc", "http://127.0.0.1:1/", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"--limit-rate", "0", "http://127.0.0.1:1/", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"-x", "17", "http://127.0.0.1:1/", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"--limit-rate", "5X", "http://127.0.0.1:1/", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"--bogus", "http://127.0.0.1:1/", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"-d", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"-o", "x", "http://127.0.0.1:1/a", "http://127.0.0.1:1/b", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"-d", "/nonexistent-dir-cio", "http://127.0.0.1:1/a", NULL}, NULL), 2);
    WK_EQ(get((char *[]){"-i", "/nonexistent-list-cio", NULL}, NULL), 2);
    /* a refused connection, retried once: all failed */
    char out_dir[512];
    WK_EQ(get((char *[]){"--retries", "1", "-d", path(out_dir, sizeof out_dir, "out"), "http://127.0.0.1:1/a", NULL},
              NULL),
          3);
    WK_EQ(get((char *[]){"-d", out_dir, "ftp://127.0.0.1:1/a", NULL}, NULL), 3);
    return 0;
}

Test(get, command_line)
{
    tst_run(usage_body, NULL);
    wk_verdict();
}

/* ------------------------------------------------------------------------------------------------ TLS */

static int https_body(void *arg)
{
    const char *dir = arg;
    for (size_t i = 0; i < FILE_LEN; i++)
        body[i] = pattern_at(i);
    char cert[300], key[300], ca[300], out[512], u[256];
    tlskit_path(dir, "server.pem", cert, sizeof cert);
    tlskit_path(dir, "server.key", key, sizeof key);
    tlskit_path(dir, "ca.pem", ca, sizeof ca);
    path(out, sizeof out, "out");
    cio_tls_ctx *tls;
    WK_EQ(cio_tls_ctx_new(&tls, CIO_TLS_SERVER, &(cio_tls_opts){.cert_file = cert, .key_file = key}), 0);
    cio_web_app *app;
    WK_EQ(cio_web_app_open(&app, NULL), 0);
    WK_EQ(cio_web_get(app, "/busy", h_busy, NULL), 0);
    cio_web_test *t;
    WK_EQ(cio_web_test_open(&t, app, &(cio_web_server_opts){.tls = tls}), 0);
    snprintf(u, sizeof u, "https://127.0.0.1:%d/busy", cio_web_test_port(t));
    busy_left = 0;
    WK_EQ(get((char *[]){"-d", out, "--cafile", ca, u, NULL}, NULL), 0);
    WK_CHECK(holds("out/busy", 2000), "over TLS");
    /* the test CA is not the system's: refused, and not retried */
    WK_EQ(get((char *[]){"-d", out, "--clobber", u, NULL}, NULL), 3);
    WK_EQ(get((char *[]){"-d", out, "--clobber", "--insecure", u, NULL}, NULL), 0);
    WK_EQ(get((char *[]){"-d", out, "--cafile", "/nonexistent-ca-cio", u, NULL}, NULL), 3);
    WK_EQ(cio_web_test_close(t, CIO_SEC(5)), 0);
    cio_web_app_close(app);
    cio_tls_ctx_free(tls);
    return 0;
}

Test(get, https)
{
    char dir[256];
    cr_assert_eq(tlskit_make(dir, sizeof dir), 0);
    tst_run(https_body, dir);
    tlskit_remove(dir);
    wk_verdict();
}
