/* tls_interop.c: cio's TLS against real peers on 127.0.0.1: a cio client of `openssl s_server` and of nginx, and
   a cio server for `openssl s_client` and Python's ssl module. Each peer is a child process that the test starts,
   waits for by readiness (never by sleeping a fixed time), stops and reaps. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "harness.h"
#include "netkit.h"
#include "tlskit.h"

/* ------------------------------------------------------------------------------------------------ fixture */

/* The kit of the running test (certificates, and the peers' files: nginx.conf, its logs, sessions). */
static char kit[PATH_MAX];

/* Children started and not yet reaped: a failed assertion leaves them running, and the fixture kills them (a
   process that dies without running it takes them along: see spawn). */
#define MAX_CHILDREN 4
static pid_t children[MAX_CHILDREN];

static void kit_down(void);

/* Under AddressSanitizer, an assertion failing inside a task ends the process within Criterion (its longjmp
   leaves the task's stack) before the fixture's fini runs: the sanitizer's death callback cleans up then. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void kit_up(void)
{
    int rc = tlskit_make(kit, sizeof kit);
    cr_assert_eq(rc, 0, "tlskit_make: %s", strerror(-rc));
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(kit_down);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    (void)remove(path);
    return 0;
}

static void kit_down(void)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] > 0) {
            (void)kill(children[i], SIGKILL);
            (void)waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
    }
    /* nginx makes directories of its own in the kit (temporary paths), which tlskit_remove would leave. */
    if (kit[0])
        (void)nftw(kit, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    kit[0] = '\0';
}

TestSuite(s_server, .init = kit_up, .fini = kit_down, .timeout = 120);
TestSuite(s_client, .init = kit_up, .fini = kit_down, .timeout = 120);
TestSuite(nginx, .init = kit_up, .fini = kit_down, .timeout = 120);
TestSuite(python, .init = kit_up, .fini = kit_down, .timeout = 120);

/* A file of the kit (a few at once: each call has its own slot). */
static const char *kp(const char *name)
{
    static char bufs[8][PATH_MAX];
    static int next;
    char *b = bufs[next++ % 8];
    cr_assert_not_null(tlskit_path(kit, name, b, sizeof bufs[0]));
    return b;
}

/* This process has no child left, not even a zombie. */
static void assert_no_children(void)
{
    int st;
    errno = 0;
    cr_assert_eq(waitpid(-1, &st, WNOHANG), -1, "a child is left over");
    cr_assert_eq(errno, ECHILD);
}

/*
 * Every test body runs under a deadline shorter than Criterion's timeout: a hang then fails an assertion, whose
 * cleanup stops the peers and removes the kit, instead of getting the test's process killed.
 */
#define BODY_DEADLINE CIO_SEC(100)

struct body {
    int (*fn)(void *);
};

static int bounded(void *arg)
{
    const struct body *b = arg;
    cio_scope sc;
    cr_assert_eq(cio_timeout_begin(&sc, BODY_DEADLINE), 0);
    int rc = b->fn(NULL);
    cr_assert_eq(cio_scope_end(&sc), 0, "the test ran out of time");
    return rc;
}

#define tst_run_bounded(fn) tst_run(bounded, &(struct body){(fn)})

/* ------------------------------------------------------------------------------------------------ children */

/* What a child printed, kept whole for searching and for failure messages. */
#define TEXT_CAP ((size_t)256 * 1024)

struct text {
    char *buf;
    size_t len, cap;
    /* Where the next search starts: just past the last match. */
    size_t mark;
};

/* An empty text that holds up to `cap` bytes (0: TEXT_CAP). */
static void text_init(struct text *t, size_t cap)
{
    t->cap = cap ? cap : TEXT_CAP;
    t->buf = calloc(1, t->cap + 1);
    cr_assert_not_null(t->buf);
    t->len = t->mark = 0;
}

static void text_free(struct text *t)
{
    free(t->buf);
    t->buf = NULL;
}

/*
 * Read the child's output into `t` until `needle` appears after the mark (then `*hit` points at it and the mark
 * moves past it) or the output ends (`*hit` NULL). A NULL needle reads to the end. Returns 0, or the read's
 * error, or -ENOBUFS when `t` is full. It asserts nothing, so tasks other than the test's own may use it.
 */
static int text_read(cio_stream *out, struct text *t, const char *needle, const char **hit)
{
    size_t nlen = needle ? strlen(needle) : 0, from = t->mark;
    *hit = NULL;
    for (;;) {
        if (needle && t->len - from >= nlen) {
            const char *h = memmem(t->buf + from, t->len - from, needle, nlen);
            if (h) {
                t->mark = (size_t)(h - t->buf) + nlen;
                *hit = h;
                return 0;
            }
            from = t->len - nlen + 1; /* a match may still start in the last nlen - 1 bytes */
        }
        if (t->len == t->cap)
            return -ENOBUFS;
        ssize_t n = cio_stream_read(out, t->buf + t->len, t->cap - t->len);
        if (n <= 0)
            return (int)n;
        t->len += (size_t)n;
        t->buf[t->len] = '\0';
    }
}

/* text_read within 20 s, failing the test on an error; returns the match or NULL at the end of the output. */
static const char *read_until(cio_stream *out, struct text *t, const char *needle)
{
    const char *hit;
    cio_scope sc;
    cr_assert_eq(cio_timeout_begin(&sc, CIO_SEC(20)), 0);
    int rc = text_read(out, t, needle, &hit);
    cio_scope_end(&sc);
    cr_assert_eq(rc, 0, "reading the child's output for \"%s\": %s\n--- it printed:\n%s", needle ? needle : "(end)",
                 cio_err_name(rc), t->buf);
    return hit;
}

static void track(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
    }
    cr_assert_fail("more than %d children", MAX_CHILDREN);
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == pid)
            children[i] = 0;
}

/* `name` in PATH, or in /usr/sbin and /sbin (nginx's home, not in every user's PATH); NULL if nowhere. */
static const char *find_program(const char *name, char *buf, size_t cap)
{
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        int n = snprintf(buf, cap, "%s/%s", d, name);
        if (*d && n > 0 && (size_t)n < cap && access(buf, X_OK) == 0)
            return buf;
    }
    return NULL;
}

/*
 * Start argv (NULL-terminated; argv[0] a program of the Debian package of that name) with `opts`: a missing
 * program fails the test, saying so. It runs under `setpriv --pdeathsig KILL` (util-linux), so that it dies with
 * this process even when a crash or Criterion's timeout ends the test before it could stop the child.
 */
static void spawn(cio_process **p, const char *const *argv, const cio_process_opts *opts)
{
    char exe[PATH_MAX], setpriv[PATH_MAX];
    if (!find_program(argv[0], exe, sizeof exe))
        cr_assert_fail("%s is not installed: install the Debian package %s (scripts/deps.sh does)", argv[0], argv[0]);
    const char *args[40] = {0};
    size_t n = 0;
    if (find_program("setpriv", setpriv, sizeof setpriv)) {
        args[n++] = setpriv;
        args[n++] = "--pdeathsig";
        args[n++] = "KILL";
        args[n++] = "--";
    }
    args[n++] = exe;
    for (size_t i = 1; argv[i]; i++) {
        cr_assert_lt(n, sizeof args / sizeof args[0] - 1);
        args[n++] = argv[i];
    }
    int rc = cio_process_exec(p, (char *const *)args, opts);
    cr_assert_eq(rc, 0, "starting %s: %s", exe, cio_err_name(rc));
    track(cio_process_pid(*p));
}

/* Wait (at most 20 s) for the child to exit, release it, and return its returncode. */
static int reap(cio_process *p)
{
    int status = INT_MIN;
    pid_t pid = cio_process_pid(p);
    cio_scope sc;
    cr_assert_eq(cio_timeout_begin(&sc, CIO_SEC(20)), 0);
    int rc = cio_process_wait(p, &status);
    cio_scope_end(&sc);
    cr_assert_eq(rc, 0, "waiting for child %d: %s", (int)pid, cio_err_name(rc));
    untrack(pid); /* before close reaps it: the fixture never signals a pid that may be reused */
    cr_assert_eq(cio_process_close(p), 0, "the child had exited");
    return status;
}

/* Stop a child that serves until told (SIGTERM) and release it. */
static void stop(cio_process *p)
{
    int rc = cio_process_terminate(p);
    cr_assert(rc == 0 || rc == -ESRCH, "terminate: %s", cio_err_name(rc));
    (void)reap(p);
}

/* The child's stdin, stdout and stderr: stderr goes to the stdout pipe, so one read sees all it says. */
static const cio_process_opts piped = {.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_STDOUT};

/* ------------------------------------------------------------------------------------------------ TLS helpers */

static cio_tls_ctx *client_ctx(cio_tls_opts o)
{
    if (!o.ca_file)
        o.ca_file = kp("ca.pem");
    cio_tls_ctx *c;
    int rc = cio_tls_ctx_new(&c, CIO_TLS_CLIENT, &o);
    cr_assert_eq(rc, 0, "client ctx: %s (%s)", cio_err_name(rc), cio_tls_last_error());
    return c;
}

static cio_tls_ctx *server_ctx(cio_tls_opts o)
{
    o.cert_file = kp("server.pem");
    o.key_file = kp("server.key");
    cio_tls_ctx *c;
    int rc = cio_tls_ctx_new(&c, CIO_TLS_SERVER, &o);
    cr_assert_eq(rc, 0, "server ctx: %s (%s)", cio_err_name(rc), cio_tls_last_error());
    return c;
}

/* Connect to 127.0.0.1:port over TLS, checking the certificate against `name` (NULL: the address itself). */
static int tls_open(cio_stream **s, int port, cio_tls_ctx *ctx, const char *name)
{
    cio_connect_opts o = {.timeout = CIO_SEC(20), .tls = ctx, .server_name = name};
    return cio_open_connection(s, "127.0.0.1", port, &o);
}

static cio_stream *tls_connect(int port, cio_tls_ctx *ctx, const char *name)
{
    cio_stream *s;
    int rc = tls_open(&s, port, ctx, name);
    cr_assert_eq(rc, 0, "TLS connect to port %d: %s (%s)", port, cio_err_name(rc), cio_tls_last_error());
    return s;
}

static cio_tls_info tls_info(cio_stream *s)
{
    cio_tls_info info;
    cr_assert_eq(cio_stream_tls_info(s, &info), 0);
    return info;
}

static bool alpn_is(const cio_tls_info *info, const char *want)
{
    return want ? info->alpn && info->alpn_len == strlen(want) && memcmp(info->alpn, want, info->alpn_len) == 0
                : info->alpn == NULL && info->alpn_len == 0;
}

/* ------------------------------------------------------------------------------------------------ s_server */

/* `openssl s_server` on a port the kernel chose, which it prints ("ACCEPT 127.0.0.1:PORT"). */
struct s_server {
    cio_process *p;
    int port;
    struct text out;
};

/* Start s_server with server.pem and the `extra` options (NULL-terminated), and wait until it listens. */
static void s_server_start(struct s_server *srv, const char *const *extra)
{
    const char *argv[32] = {"openssl", "s_server",       "-accept", "127.0.0.1:0",
                            "-cert",   kp("server.pem"), "-key",    kp("server.key")};
    size_t n = 8;
    for (size_t i = 0; extra && extra[i]; i++) {
        cr_assert_lt(n, sizeof argv / sizeof argv[0] - 1);
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    /* Its stdin stays an open pipe: it never reads it in -rev mode, and an end of input is not asked for. */
    spawn(&srv->p, argv, &piped);
    text_init(&srv->out, 0);
    const char *at = read_until(cio_process_stdout(srv->p), &srv->out, "ACCEPT 127.0.0.1:");
    cr_assert_not_null(at, "s_server ended without listening:\n%s", srv->out.buf);
    /* The rest of the line, up to its newline, is the port. */
    while (!strchr(srv->out.buf + srv->out.mark, '\n'))
        cr_assert_not_null(read_until(cio_process_stdout(srv->p), &srv->out, "\n"), "%s", srv->out.buf);
    srv->port = atoi(srv->out.buf + srv->out.mark);
    cr_assert(srv->port > 0 && srv->port < 65536, "no port in:\n%s", srv->out.buf);
}

/* Wait until s_server has printed `needle` (after what was found before). */
static void s_server_expect(struct s_server *srv, const char *needle)
{
    cr_assert_not_null(read_until(cio_process_stdout(srv->p), &srv->out, needle),
                       "s_server never said \"%s\"; it said:\n%s", needle, srv->out.buf);
}

static void s_server_stop(struct s_server *srv)
{
    stop(srv->p);
    text_free(&srv->out);
}

/* s_server -rev sends each line back reversed (its newline last). */
static void rev_roundtrip(cio_stream *s, const char *line)
{
    size_t n = strlen(line), got = 0;
    char want[256], buf[256];
    cr_assert(n >= 1 && n < sizeof want && line[n - 1] == '\n');
    for (size_t i = 0; i + 1 < n; i++)
        want[i] = line[n - 2 - i];
    want[n - 1] = '\n';
    int rc = cio_stream_write(s, line, n);
    cr_assert_eq(rc, 0, "write: %s (%s)", cio_err_name(rc), cio_tls_last_error());
    ssize_t r = cio_stream_read_exactly(s, buf, n, &got);
    cr_assert_eq(r, (ssize_t)n, "read: %s (%s), got %zu bytes", cio_err_name((int)r), cio_tls_last_error(), got);
    cr_assert(memcmp(buf, want, n) == 0, "got \"%.*s\", wanted \"%.*s\"", (int)n, buf, (int)n, want);
}

/* "CLOSE" makes s_server -rev end the connection with close_notify: the stream then ends cleanly. */
static void rev_close(cio_stream *s)
{
    char buf[64];
    cr_assert_eq(cio_stream_write(s, "CLOSE\n", 6), 0);
    ssize_t n = cio_stream_read(s, buf, sizeof buf);
    cr_assert_eq(n, 0, "a clean end after close_notify, got %s (%s)", cio_err_name((int)n), cio_tls_last_error());
    cr_assert_eq(cio_stream_close(s), 0);
}

static const char *version_name(int v)
{
    return v == CIO_TLS_1_2 ? "TLSv1.2" : "TLSv1.3";
}

/* A client pinned to TLS version `v`, trusting the kit's CA. */
static cio_tls_ctx *client_ctx_v(int v, cio_tls_opts o)
{
    o.min_version = o.max_version = v;
    return client_ctx(o);
}

static int handshake_and_echo(void *arg)
{
    (void)arg;
    struct s_server srv;
    s_server_start(&srv, (const char *const[]){"-rev", NULL});
    static const int versions[] = {CIO_TLS_1_3, CIO_TLS_1_2};
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        cio_tls_ctx *ctx = client_ctx_v(v, (cio_tls_opts){0});

        /* By name: SNI and the DNS SAN. */
        cio_stream *s = tls_connect(srv.port, ctx, "localhost");
        cio_tls_info info = tls_info(s);
        cr_assert_str_eq(info.version, version_name(v));
        cr_assert(info.peer_verified, "the chain and the name were checked");
        cr_assert(!info.resumed, "a first connection");
        cr_assert_str_eq(info.server_name, "localhost", "SNI was sent");
        cr_assert(alpn_is(&info, NULL), "no ALPN was offered");
        char subject[128];
        cr_assert_gt(cio_stream_tls_peer_subject(s, subject, sizeof subject), 0);
        cr_assert_str_eq(subject, "CN=localhost");
        rev_roundtrip(s, "hello cio\n");
        /* Three lines written at once come back in order. */
        static const char three[] = "one\ntwo\nthree\n", back[] = "eno\nowt\neerht\n";
        char buf[sizeof back];
        cr_assert_eq(cio_stream_write(s, three, sizeof three - 1), 0);
        cr_assert_eq(cio_stream_read_exactly(s, buf, sizeof back - 1, NULL), (ssize_t)(sizeof back - 1));
        cr_assert(memcmp(buf, back, sizeof back - 1) == 0, "got \"%.*s\"", (int)(sizeof back - 1), buf);
        rev_close(s);

        /* By address: no SNI, the IP SAN; another cache key, so a full handshake again. */
        s = tls_connect(srv.port, ctx, NULL);
        info = tls_info(s);
        cr_assert(info.peer_verified);
        cr_assert(!info.resumed, "127.0.0.1 is another session cache key than localhost");
        cr_assert_null(info.server_name, "no SNI for an address");
        rev_roundtrip(s, "by address\n");
        rev_close(s);

        /* By name again: the session (a TLS 1.3 ticket read with the data, or the TLS 1.2 ticket) resumes. */
        s = tls_connect(srv.port, ctx, "localhost");
        info = tls_info(s);
        cr_assert(info.resumed, "%s: the second connection to localhost resumes", version_name(v));
        cr_assert_str_eq(info.version, version_name(v));
        rev_roundtrip(s, "resumed\n");
        rev_close(s);
        cio_tls_ctx_free(ctx);
    }
    s_server_stop(&srv);
    assert_no_children();
    return 0;
}

Test(s_server, cio_client_verifies_echoes_and_resumes_with_tls13_and_tls12)
{
    tst_run_bounded(handshake_and_echo);
}

static int versions(void *arg)
{
    (void)arg;
    struct s_server only12, only13;
    s_server_start(&only12, (const char *const[]){"-rev", "-tls1_2", NULL});
    s_server_start(&only13, (const char *const[]){"-rev", "-tls1_3", NULL});

    /* The default context settles on the server's only version. */
    cio_tls_ctx *any = client_ctx((cio_tls_opts){0});
    cio_stream *s = tls_connect(only12.port, any, "localhost");
    cr_assert_str_eq(tls_info(s).version, "TLSv1.2");
    rev_roundtrip(s, "twelve\n");
    rev_close(s);
    s = tls_connect(only13.port, any, "localhost");
    cr_assert_str_eq(tls_info(s).version, "TLSv1.3");
    rev_roundtrip(s, "thirteen\n");
    rev_close(s);
    cio_tls_ctx_free(any);

    /* No version in common: the server's protocol_version alert. */
    cio_tls_ctx *c13 = client_ctx_v(CIO_TLS_1_3, (cio_tls_opts){0});
    int rc = tls_open(&s, only12.port, c13, "localhost");
    cr_assert_eq(rc, CIO_ETLSVERSION, "1.3 client, 1.2 server: %s (%s)", cio_err_name(rc), cio_tls_last_error());
    cio_tls_ctx_free(c13);
    cio_tls_ctx *c12 = client_ctx_v(CIO_TLS_1_2, (cio_tls_opts){0});
    rc = tls_open(&s, only13.port, c12, "localhost");
    cr_assert_eq(rc, CIO_ETLSVERSION, "1.2 client, 1.3 server: %s (%s)", cio_err_name(rc), cio_tls_last_error());
    cio_tls_ctx_free(c12);

    s_server_stop(&only13);
    s_server_stop(&only12);
    assert_no_children();
    return 0;
}

Test(s_server, versions_are_negotiated_and_a_mismatch_is_etlsversion)
{
    tst_run_bounded(versions);
}

static int alpn(void *arg)
{
    (void)arg;
    struct s_server srv;
    s_server_start(&srv, (const char *const[]){"-rev", "-alpn", "h2,http/1.1", NULL});
    static const int versions[] = {CIO_TLS_1_3, CIO_TLS_1_2};
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        /* The server's preference wins among what the client offers. */
        cio_tls_ctx *ctx = client_ctx_v(v, (cio_tls_opts){.alpn = (const char *const[]){"http/1.1", "h2", NULL}});
        cio_stream *s = tls_connect(srv.port, ctx, "localhost");
        cio_tls_info info = tls_info(s);
        cr_assert(alpn_is(&info, "h2"), "%s: ALPN \"%.*s\"", version_name(v), (int)info.alpn_len,
                  info.alpn ? info.alpn : "");
        rev_roundtrip(s, "alpn\n");
        rev_close(s);
        cio_tls_ctx_free(ctx);

        ctx = client_ctx_v(v, (cio_tls_opts){.alpn = (const char *const[]){"http/1.1", NULL}});
        s = tls_connect(srv.port, ctx, "localhost");
        info = tls_info(s);
        cr_assert(alpn_is(&info, "http/1.1"));
        rev_close(s);
        cio_tls_ctx_free(ctx);

        /* Nothing in common: s_server refuses with no_application_protocol (RFC 7301). */
        ctx = client_ctx_v(v, (cio_tls_opts){.alpn = (const char *const[]){"spdy/1", NULL}});
        int rc = tls_open(&s, srv.port, ctx, "localhost");
        cr_assert_eq(rc, CIO_ETLSALPN, "%s: %s (%s)", version_name(v), cio_err_name(rc), cio_tls_last_error());
        cio_tls_ctx_free(ctx);
        s_server_expect(&srv, "no application protocol");
    }
    s_server_stop(&srv);
    assert_no_children();
    return 0;
}

Test(s_server, alpn_takes_the_servers_choice_and_a_mismatch_is_etlsalpn)
{
    tst_run_bounded(alpn);
}

/*
 * The client's first read after a handshake the server went on to refuse: in TLS 1.3 the client's handshake is
 * over before the server has seen its certificate, so the refusal is an alert on the first read.
 */
static int read_refusal(cio_stream *s)
{
    char buf[64];
    cio_scope sc;
    cr_assert_eq(cio_timeout_begin(&sc, CIO_SEC(20)), 0);
    ssize_t n = cio_stream_read(s, buf, sizeof buf);
    cr_assert_eq(cio_scope_end(&sc), 0, "the refusal came");
    cio_stream_abort(s);
    return (int)n;
}

static int client_certs(void *arg)
{
    (void)arg;
    struct s_server srv;
    s_server_start(
        &srv, (const char *const[]){"-rev", "-Verify", "1", "-CAfile", kp("ca.pem"), "-verify_return_error", NULL});
    static const int versions[] = {CIO_TLS_1_3, CIO_TLS_1_2};
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        const char *vn = version_name(v);

        /* client.pem, signed by the CA the server trusts: accepted, and s_server saw who it was. */
        cio_tls_ctx *ctx = client_ctx_v(v, (cio_tls_opts){.cert_file = kp("client.pem"), .key_file = kp("client.key")});
        cio_stream *s = tls_connect(srv.port, ctx, "localhost");
        cr_assert_str_eq(tls_info(s).version, vn);
        rev_roundtrip(s, "with a certificate\n");
        s_server_expect(&srv, "Peer certificate: CN = cio test client");
        s_server_expect(&srv, "Verification: OK");
        rev_close(s);
        cio_tls_ctx_free(ctx);

        /* No certificate. TLS 1.3: certificate_required (RFC 8446 4.4.2.4), after the client's handshake;
           TLS 1.2: a handshake_failure alert during it, which says nothing more specific. */
        ctx = client_ctx_v(v, (cio_tls_opts){0});
        int rc;
        if (v == CIO_TLS_1_3) {
            s = tls_connect(srv.port, ctx, "localhost");
            rc = read_refusal(s);
            cr_assert_eq(rc, CIO_ETLSNOCERT, "%s: %s (%s)", vn, cio_err_name(rc), cio_tls_last_error());
        } else {
            rc = tls_open(&s, srv.port, ctx, "localhost");
            cr_assert_eq(rc, CIO_ETLSALERT, "%s: %s (%s)", vn, cio_err_name(rc), cio_tls_last_error());
            cr_assert_not_null(strstr(cio_tls_last_error(), "handshake failure"), "%s", cio_tls_last_error());
        }
        s_server_expect(&srv, "peer did not return a certificate");
        cio_tls_ctx_free(ctx);

        /* A certificate from a CA the server does not trust: unknown_ca. */
        ctx = client_ctx_v(v, (cio_tls_opts){.cert_file = kp("other-client.pem"), .key_file = kp("other-client.key")});
        if (v == CIO_TLS_1_3) {
            s = tls_connect(srv.port, ctx, "localhost");
            rc = read_refusal(s);
        } else {
            rc = tls_open(&s, srv.port, ctx, "localhost");
        }
        cr_assert_eq(rc, CIO_ETLSALERT, "%s: %s (%s)", vn, cio_err_name(rc), cio_tls_last_error());
        cr_assert_not_null(strstr(cio_tls_last_error(), "unknown ca"), "%s", cio_tls_last_error());
        s_server_expect(&srv, "certificate verify failed");
        cio_tls_ctx_free(ctx);
    }
    s_server_stop(&srv);
    assert_no_children();
    return 0;
}

Test(s_server, client_certificate_is_sent_and_its_absence_is_reported)
{
    tst_run_bounded(client_certs);
}

/* ------------------------------------------------------------------------------------------------ bulk */

#define BULK ((size_t)4 * 1024 * 1024)

/* Digits only: s_server and s_client take a piece of their input that starts with a letter for a command. */
static char *bulk_data(void)
{
    char *d = malloc(BULK);
    cr_assert_not_null(d);
    for (size_t i = 0; i < BULK; i++)
        d[i] = (char)('0' + (i * 7 + i / 4093) % 10);
    return d;
}

/* Bytes to write to a stream in pieces of varied sizes (1 byte to over two records), then drain it. */
struct feed {
    cio_stream *s;
    const char *data;
    size_t len;
};

/* Tasks the test spawns bound their own waits (a task does not inherit its parent's deadline). */
#define TASK_DEADLINE CIO_SEC(60)

static int feed_task(void *arg)
{
    struct feed *f = arg;
    cio_scope sc;
    int rc = cio_timeout_begin(&sc, TASK_DEADLINE);
    size_t off = 0;
    for (size_t k = 0; rc == 0 && off < f->len; k++) {
        size_t n = 1 + (k * 7919) % 40000;
        if (n > f->len - off)
            n = f->len - off;
        rc = cio_stream_write(f->s, f->data + off, n);
        off += n;
    }
    if (rc == 0)
        rc = cio_stream_drain(f->s);
    cio_scope_end(&sc);
    return rc;
}

/* Read `len` bytes from `s` and require them equal to `want`. */
static void expect_bytes(cio_stream *s, const char *want, size_t len, const char *what)
{
    char *got = malloc(len);
    cr_assert_not_null(got);
    size_t n = 0;
    cio_scope sc;
    cr_assert_eq(cio_timeout_begin(&sc, TASK_DEADLINE), 0);
    ssize_t r = cio_stream_read_exactly(s, got, len, &n);
    cio_scope_end(&sc);
    cr_assert_eq(r, (ssize_t)len, "%s: %s (%s), %zu of %zu bytes", what, cio_err_name((int)r), cio_tls_last_error(), n,
                 len);
    size_t bad = 0;
    while (bad < len && got[bad] == want[bad])
        bad++;
    cr_assert_eq(bad, len, "%s: differs at byte %zu", what, bad);
    free(got);
}

/* Read what s_server prints until the end of an upload framed by "<<<BEGIN\n" and ">>>END\n" (a task). */
struct upload_read {
    struct s_server *srv;
    const char *end;
};

static int upload_read_task(void *arg)
{
    struct upload_read *u = arg;
    cio_scope sc;
    int rc = cio_timeout_begin(&sc, TASK_DEADLINE);
    if (rc == 0)
        rc = text_read(cio_process_stdout(u->srv->p), &u->srv->out, ">>>END\n", &u->end);
    cio_scope_end(&sc);
    return rc;
}

/* The upload as s_server printed it is `data`, whole. */
static void check_upload(const struct upload_read *u, const char *data)
{
    const struct text *t = &u->srv->out;
    cr_assert_not_null(u->end, "s_server never printed the end of the upload");
    const char *begin = memmem(t->buf, t->len, "<<<BEGIN\n", 9);
    cr_assert_not_null(begin, "s_server never printed the start of the upload");
    begin += 9;
    cr_assert_eq((size_t)(u->end - begin), BULK, "s_server printed %zu bytes of the upload", (size_t)(u->end - begin));
    size_t bad = 0;
    while (bad < BULK && begin[bad] == data[bad])
        bad++;
    cr_assert_eq(bad, BULK, "the upload differs at byte %zu", bad);
}

static cio_task *spawn_task(cio_fn fn, void *arg)
{
    cio_task *t;
    int rc = cio_spawn(&t, fn, arg, NULL);
    cr_assert_eq(rc, 0, "spawn: %s", cio_err_name(rc));
    return t;
}

/*
 * Both directions at once, 4 MiB each, through s_server's plain mode (what the client sends comes out on its
 * stdout, what its stdin gets goes to the client): one task writes the TLS stream while this one reads it, as
 * the stream API allows, and two more feed s_server's stdin and check its stdout.
 */
static int bulk_both_ways(void *arg)
{
    (void)arg;
    char *data = bulk_data();
    size_t up_len = 9 + BULK + 7;
    char *up = malloc(up_len);
    cr_assert_not_null(up);
    memcpy(up, "<<<BEGIN\n", 9);
    memcpy(up + 9, data, BULK);
    memcpy(up + 9 + BULK, ">>>END\n", 7);

    static const int versions[] = {CIO_TLS_1_3, CIO_TLS_1_2};
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        struct s_server srv;
        s_server_start(&srv, NULL);
        /* Room for the whole upload and what s_server says around it; the port is known already. */
        text_free(&srv.out);
        text_init(&srv.out, BULK + TEXT_CAP);

        cio_tls_ctx *ctx = client_ctx_v(v, (cio_tls_opts){0});
        cio_stream *s = tls_connect(srv.port, ctx, "localhost");
        cr_assert_str_eq(tls_info(s).version, version_name(v));
        struct feed upload = {s, up, up_len}, download = {cio_process_stdin(srv.p), data, BULK};
        struct upload_read printed = {&srv, NULL};
        cio_task *tasks[3] = {spawn_task(feed_task, &upload), spawn_task(feed_task, &download),
                              spawn_task(upload_read_task, &printed)};
        expect_bytes(s, data, BULK, "the download");
        static const char *const task_names[] = {"the upload", "s_server's input", "s_server's output"};
        for (int t = 0; t < 3; t++) {
            int rc = cio_join(tasks[t]);
            cr_assert_eq(rc, 0, "%s: %s: %s (%s)", version_name(v), task_names[t], cio_err_name(rc),
                         cio_tls_last_error());
        }
        check_upload(&printed, data);
        /* close_notify ends s_server's connection. */
        cr_assert_eq(cio_stream_close(s), 0);
        s_server_expect(&srv, "DONE");
        cio_tls_ctx_free(ctx);
        s_server_stop(&srv);
    }
    free(up);
    free(data);
    assert_no_children();
    return 0;
}

Test(s_server, four_mib_each_way_at_once_with_tls13_and_tls12)
{
    tst_run_bounded(bulk_both_ways);
}

/* ------------------------------------------------------------------------------------------------ key updates */

/* KeyUpdate messages seen by an SSL's message callback (OpenSSL's: cio has nothing for this). */
struct key_updates {
    int got, sent;
};

static void count_key_updates(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
                              void *arg)
{
    (void)version, (void)ssl;
    struct key_updates *k = arg;
    if (content_type == SSL3_RT_HANDSHAKE && len > 0 && *(const unsigned char *)buf == SSL3_MT_KEY_UPDATE)
        (*(write_p ? &k->sent : &k->got))++;
}

/* A line read by a task of its own, so that the stream reads (and OpenSSL handles what comes) meanwhile. */
struct line_read {
    cio_stream *s;
    char line[256];
};

static int line_read_task(void *arg)
{
    struct line_read *r = arg;
    cio_scope sc;
    int rc = cio_timeout_begin(&sc, TASK_DEADLINE);
    ssize_t n = rc < 0 ? rc : cio_stream_read_line(r->s, r->line, sizeof r->line - 1);
    cio_scope_end(&sc);
    r->line[n > 0 ? n : 0] = '\0';
    return n < 0 ? (int)n : 0;
}

static void expect_read(cio_task *t, struct line_read *r, const char *want)
{
    int rc = cio_join(t);
    cr_assert_eq(rc, 0, "waiting for \"%s\": %s (%s)", want, cio_err_name(rc), cio_tls_last_error());
    cr_assert_str_eq(r->line, want);
}

/*
 * TLS 1.3 KeyUpdate both ways with s_server's plain mode (what the client sends comes out on its stdout, what
 * its stdin gets goes to the client; "K" on its stdin sends a KeyUpdate that asks for one back, and is taken for
 * a command only when it arrives alone). OpenSSL answers a request with the next write.
 */
static int key_updates(void *arg)
{
    (void)arg;
    struct s_server srv;
    s_server_start(&srv, NULL);
    cio_tls_ctx *ctx = client_ctx_v(CIO_TLS_1_3, (cio_tls_opts){0});
    cio_stream *s = tls_connect(srv.port, ctx, "localhost");
    struct key_updates k = {0};
    SSL *ssl = cio_stream_tls_native(s);
    SSL_set_msg_callback(ssl, count_key_updates);
    SSL_set_msg_callback_arg(ssl, &k);
    cio_stream *in = cio_process_stdin(srv.p);
    cr_assert_eq(cio_stream_write(s, "before\n", 7), 0);
    s_server_expect(&srv, "before\n");

    /* The server updates its keys and asks us to: a reader takes the update in, then the data under the new
       keys; our answer goes out ahead of our next data. */
    struct line_read r = {s, ""};
    cio_task *reader = spawn_task(line_read_task, &r);
    cr_assert_eq(cio_stream_write(in, "K\n", 2), 0);
    cr_assert_eq(nk_turn_until(&k.got, 1), 0);
    cr_assert_eq(cio_stream_write(in, "12345\n", 6), 0);
    expect_read(reader, &r, "12345\n");
    cr_assert_eq(cio_stream_write(s, "after the server's\n", 19), 0);
    s_server_expect(&srv, "after the server's\n");
    cr_assert_eq(k.sent, 1, "the request was answered");

    /* Our own update, asking for one back: the server's answer comes ahead of its next data. */
    cr_assert_eq(SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED), 1);
    cr_assert_eq(cio_stream_write(s, "after ours\n", 11), 0);
    s_server_expect(&srv, "after ours\n");
    cr_assert_eq(k.sent, 2);
    reader = spawn_task(line_read_task, &r);
    cr_assert_eq(cio_stream_write(in, "67890\n", 6), 0);
    expect_read(reader, &r, "67890\n");
    cr_assert_eq(k.got, 2, "the server answered ours");

    cr_assert_eq(cio_stream_close(s), 0);
    s_server_expect(&srv, "DONE");
    cio_tls_ctx_free(ctx);
    s_server_stop(&srv);
    assert_no_children();
    return 0;
}

Test(s_server, key_updates_both_ways_over_tls13)
{
    tst_run_bounded(key_updates);
}

/* ------------------------------------------------------------------------------------------------ cio servers */

/* What a cio server's handlers saw: the last connection's parameters and counts. */
struct seen {
    int calls;
    int resumed;
    char version[16];
    char alpn[32];
    char sni[64];
    char subject[128];
    bool verified;
};

/*
 * Read one line, note the connection's TLS parameters, send the line back and end the connection. Handlers and
 * other tasks the test spawns assert nothing (a failed assertion must unwind the test's own task): what they
 * saw is checked by the test afterwards.
 */
static int line_echo(cio_stream *s, void *arg)
{
    struct seen *w = arg;
    cio_tls_info info;
    int rc = cio_stream_tls_info(s, &info);
    if (rc < 0)
        return rc;
    snprintf(w->version, sizeof w->version, "%s", info.version);
    snprintf(w->alpn, sizeof w->alpn, "%.*s", (int)info.alpn_len, info.alpn ? info.alpn : "");
    snprintf(w->sni, sizeof w->sni, "%s", info.server_name ? info.server_name : "");
    w->verified = info.peer_verified;
    if (cio_stream_tls_peer_subject(s, w->subject, sizeof w->subject) < 0)
        w->subject[0] = '\0';
    w->resumed += info.resumed;
    char line[512];
    ssize_t n = cio_stream_read_line(s, line, sizeof line);
    if (n <= 0)
        return (int)n;
    rc = cio_stream_write(s, line, (size_t)n);
    w->calls++;
    return rc;
}

static cio_server *echo_server(cio_tls_ctx *ctx, struct seen *w, int *port)
{
    cio_server *srv;
    cio_addr a;
    cio_server_opts o = {.tls = ctx, .tls_handshake_timeout = CIO_SEC(20)};
    int rc = cio_start_server(&srv, line_echo, w, "127.0.0.1", 0, &o);
    cr_assert_eq(rc, 0, "start_server: %s", cio_err_name(rc));
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    *port = cio_addr_port(&a);
    return srv;
}

/*
 * Run `openssl s_client -connect 127.0.0.1:PORT -servername localhost -verify_hostname localhost
 * -verify_return_error -CAfile <ca>` (the chain and the name checked) with the `extra` options, send `line`, wait
 * until the echo shows in its output (or it ends), then end its input and collect all it printed into `out`.
 * Returns its exit status.
 */
static int s_client(int port, const char *ca, const char *const *extra, const char *line, struct text *out)
{
    char connect[32];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    const char *argv[32] = {"openssl",
                            "s_client",
                            "-connect",
                            connect,
                            "-servername",
                            "localhost",
                            "-verify_hostname",
                            "localhost",
                            "-verify_return_error",
                            "-CAfile",
                            kp(ca)};
    size_t n = 11;
    for (size_t i = 0; extra && extra[i]; i++) {
        cr_assert_lt(n, sizeof argv / sizeof argv[0] - 1);
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    cio_process *p;
    spawn(&p, argv, &piped);
    text_init(out, 0);
    /* A client refused in its handshake may be gone before it reads: -EPIPE / -ECONNRESET are fine then. */
    (void)cio_stream_write(cio_process_stdin(p), line, strlen(line));
    (void)read_until(cio_process_stdout(p), out, line);
    (void)cio_stream_write_eof(cio_process_stdin(p));
    (void)read_until(cio_process_stdout(p), out, NULL);
    return reap(p);
}

static int s_client_echo(void *arg)
{
    (void)arg;
    struct seen w = {0};
    int port;
    cio_tls_ctx *ctx = server_ctx((cio_tls_opts){0});
    cio_server *srv = echo_server(ctx, &w, &port);
    struct text out;

    /* -quiet: only what the server sends is printed; s_client ends when the server closes. */
    int st = s_client(port, "ca.pem", (const char *const[]){"-quiet", NULL}, "hello from s_client\n", &out);
    cr_assert_eq(st, 0, "s_client failed (%d):\n%s", st, out.buf);
    cr_assert_not_null(strstr(out.buf, "hello from s_client\n"), "no echo in:\n%s", out.buf);
    cr_assert_eq(w.calls, 1);
    cr_assert_str_eq(w.version, "TLSv1.3");
    cr_assert_str_eq(w.sni, "localhost", "the server saw the SNI");
    cr_assert_str_eq(w.alpn, "");
    cr_assert_eq(w.resumed, 0);
    text_free(&out);

    st = s_client(port, "ca.pem", (const char *const[]){"-quiet", "-tls1_2", NULL}, "tls 1.2\n", &out);
    cr_assert_eq(st, 0, "s_client -tls1_2 failed (%d):\n%s", st, out.buf);
    cr_assert_not_null(strstr(out.buf, "tls 1.2\n"), "no echo in:\n%s", out.buf);
    cr_assert_eq(w.calls, 2);
    cr_assert_str_eq(w.version, "TLSv1.2");
    text_free(&out);

    /* Without -quiet it prints the session: the protocol and the server's certificate as it verified it. */
    st = s_client(port, "ca.pem", NULL, "verbose\n", &out);
    cr_assert_eq(st, 0, "s_client failed (%d):\n%s", st, out.buf);
    cr_assert_not_null(strstr(out.buf, "Verify return code: 0 (ok)"), "%s", out.buf);
    cr_assert_not_null(strstr(out.buf, "subject=CN = localhost"), "%s", out.buf);
    cr_assert_not_null(strstr(out.buf, "issuer=CN = cio test CA"), "%s", out.buf);
    cr_assert_not_null(strstr(out.buf, "New, TLSv1.3"), "%s", out.buf);
    cr_assert_eq(w.calls, 3);
    text_free(&out);

    /* A client that does not trust the server's CA refuses it, and the handler never runs. */
    st = s_client(port, "other-ca.pem", (const char *const[]){"-quiet", NULL}, "untrusted\n", &out);
    cr_assert_neq(st, 0, "s_client must refuse:\n%s", out.buf);
    cr_assert_not_null(strstr(out.buf, "unable to get local issuer certificate"), "%s", out.buf);
    cr_assert_null(strstr(out.buf, "untrusted\n"), "nothing was echoed");
    cr_assert_eq(w.calls, 3);
    text_free(&out);

    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(ctx);
    assert_no_children();
    return 0;
}

Test(s_client, echo_over_tls13_and_tls12_and_an_untrusting_client_refuses)
{
    tst_run_bounded(s_client_echo);
}

static int s_client_resume(void *arg)
{
    (void)arg;
    struct seen w = {0};
    int port;
    cio_tls_ctx *ctx = server_ctx((cio_tls_opts){0});
    cio_server *srv = echo_server(ctx, &w, &port);
    const char *sess = kp("s_client.session");
    struct text out;
    static const char *const versions[] = {"-tls1_3", "-tls1_2"};
    for (size_t i = 0; i < 2; i++) {
        const char *vn = i == 0 ? "TLSv1.3" : "TLSv1.2";
        (void)unlink(sess);
        /* The first connection saves its session: in TLS 1.3 when the ticket comes, ahead of the echo. */
        int st = s_client(port, "ca.pem", (const char *const[]){versions[i], "-sess_out", sess, NULL}, "first\n", &out);
        cr_assert_eq(st, 0, "%s: s_client failed (%d):\n%s", vn, st, out.buf);
        char want[64];
        snprintf(want, sizeof want, "New, %s", vn);
        cr_assert_not_null(strstr(out.buf, want), "%s", out.buf);
        cr_assert_eq(access(sess, R_OK), 0, "%s: s_client saved the session", vn);
        cr_assert_str_eq(w.version, vn);
        text_free(&out);

        int resumed = w.resumed;
        st = s_client(port, "ca.pem", (const char *const[]){versions[i], "-sess_in", sess, NULL}, "second\n", &out);
        cr_assert_eq(st, 0, "%s: s_client failed (%d):\n%s", vn, st, out.buf);
        snprintf(want, sizeof want, "Reused, %s", vn);
        cr_assert_not_null(strstr(out.buf, want), "%s: the session was not resumed:\n%s", vn, out.buf);
        cr_assert_not_null(strstr(out.buf, "second\n"), "%s", out.buf);
        cr_assert_eq(w.resumed, resumed + 1, "%s: the server side says resumed too", vn);
        text_free(&out);
    }
    cr_assert_eq(w.calls, 4);
    (void)unlink(sess);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(ctx);
    assert_no_children();
    return 0;
}

Test(s_client, sess_in_resumes_a_saved_session_with_tls13_and_tls12)
{
    tst_run_bounded(s_client_resume);
}

static int s_client_certs(void *arg)
{
    (void)arg;
    struct seen w = {0};
    int port;
    cio_tls_ctx *ctx = server_ctx((cio_tls_opts){.ca_file = kp("ca.pem"), .client_auth = CIO_TLS_CLIENT_AUTH_REQUIRE});
    cio_server *srv = echo_server(ctx, &w, &port);
    struct text out;
    static const char *const versions[] = {"-tls1_3", "-tls1_2"};
    for (size_t i = 0; i < 2; i++) {
        const char *vn = i == 0 ? "TLSv1.3" : "TLSv1.2";
        int calls = w.calls;
        int st = s_client(
            port, "ca.pem",
            (const char *const[]){versions[i], "-quiet", "-cert", kp("client.pem"), "-key", kp("client.key"), NULL},
            "with a certificate\n", &out);
        cr_assert_eq(st, 0, "%s: s_client failed (%d):\n%s", vn, st, out.buf);
        cr_assert_not_null(strstr(out.buf, "with a certificate\n"), "%s", out.buf);
        cr_assert_eq(w.calls, calls + 1);
        cr_assert(w.verified, "%s: the server verified the client's certificate", vn);
        cr_assert_str_eq(w.subject, "CN=cio test client");
        text_free(&out);

        /* Without a certificate the server refuses, and the handler never runs. */
        st = s_client(port, "ca.pem", (const char *const[]){versions[i], "-quiet", NULL}, "without\n", &out);
        cr_assert_neq(st, 0, "%s: s_client must be refused:\n%s", vn, out.buf);
        cr_assert_not_null(strstr(out.buf, i == 0 ? "certificate required" : "handshake failure"), "%s: %s", vn,
                           out.buf);
        text_free(&out);

        /* Nor with one the server's CA did not sign. */
        st = s_client(port, "ca.pem",
                      (const char *const[]){versions[i], "-quiet", "-cert", kp("other-client.pem"), "-key",
                                            kp("other-client.key"), NULL},
                      "other\n", &out);
        cr_assert_neq(st, 0, "%s: s_client must be refused:\n%s", vn, out.buf);
        cr_assert_not_null(strstr(out.buf, "unknown ca"), "%s: %s", vn, out.buf);
        text_free(&out);
        cr_assert_eq(w.calls, calls + 1, "%s: no handler ran for the refused clients", vn);
    }
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(ctx);
    assert_no_children();
    return 0;
}

Test(s_client, client_certificates_are_verified_by_the_cio_server)
{
    tst_run_bounded(s_client_certs);
}

static int s_client_alpn(void *arg)
{
    (void)arg;
    struct seen w = {0};
    int port;
    cio_tls_ctx *ctx = server_ctx((cio_tls_opts){.alpn = (const char *const[]){"h2", "http/1.1", NULL}});
    cio_server *srv = echo_server(ctx, &w, &port);
    struct text out;
    int st = s_client(port, "ca.pem", (const char *const[]){"-alpn", "http/1.1,h2", NULL}, "alpn\n", &out);
    cr_assert_eq(st, 0, "s_client failed (%d):\n%s", st, out.buf);
    cr_assert_not_null(strstr(out.buf, "ALPN protocol: h2"), "the server's preference: %s", out.buf);
    cr_assert_str_eq(w.alpn, "h2");
    text_free(&out);

    st = s_client(port, "ca.pem", (const char *const[]){"-alpn", "http/1.1", NULL}, "alpn\n", &out);
    cr_assert_eq(st, 0, "s_client failed (%d):\n%s", st, out.buf);
    cr_assert_not_null(strstr(out.buf, "ALPN protocol: http/1.1"), "%s", out.buf);
    cr_assert_str_eq(w.alpn, "http/1.1");
    text_free(&out);

    st = s_client(port, "ca.pem", (const char *const[]){"-quiet", "-alpn", "spdy/1", NULL}, "none\n", &out);
    cr_assert_neq(st, 0, "a client offering nothing the server speaks is refused:\n%s", out.buf);
    cr_assert_not_null(strstr(out.buf, "no application protocol"), "%s", out.buf);
    text_free(&out);
    cr_assert_eq(w.calls, 2);

    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(ctx);
    assert_no_children();
    return 0;
}

Test(s_client, alpn_is_chosen_by_the_cio_server)
{
    tst_run_bounded(s_client_alpn);
}

/* Echo everything until the client ends its side (then close_notify closes ours); notes the version. */
static int bulk_echo(cio_stream *s, void *arg)
{
    struct seen *w = arg;
    cio_tls_info info;
    int rc = cio_stream_tls_info(s, &info);
    if (rc < 0)
        return rc;
    snprintf(w->version, sizeof w->version, "%s", info.version);
    char buf[20000];
    for (;;) {
        ssize_t n = cio_stream_read(s, buf, sizeof buf);
        if (n <= 0) {
            w->calls++;
            return (int)n;
        }
        rc = cio_stream_write(s, buf, (size_t)n);
        if (rc < 0)
            return rc;
    }
}

/* 4 MiB through s_client and the cio server's echo, written and read back at once, then a clean end. */
static int s_client_bulk(void *arg)
{
    (void)arg;
    struct seen w = {0};
    cio_tls_ctx *ctx = server_ctx((cio_tls_opts){0});
    cio_server *srv;
    cio_addr a;
    int rc = cio_start_server(&srv, bulk_echo, &w, "127.0.0.1", 0, &(cio_server_opts){.tls = ctx});
    cr_assert_eq(rc, 0, "start_server: %s", cio_err_name(rc));
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    char connect[32];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", cio_addr_port(&a));
    char *data = bulk_data();
    static const char *const versions[] = {"-tls1_3", "-tls1_2"};
    for (size_t i = 0; i < 2; i++) {
        /* -quiet prints only what comes from the server, -no_ign_eof makes the end of input end the connection,
           -nocommands leaves the input alone. */
        const char *argv[] = {"openssl",
                              "s_client",
                              "-connect",
                              connect,
                              "-servername",
                              "localhost",
                              "-verify_hostname",
                              "localhost",
                              "-verify_return_error",
                              "-CAfile",
                              kp("ca.pem"),
                              "-quiet",
                              "-no_ign_eof",
                              "-nocommands",
                              versions[i],
                              NULL};
        cio_process *p;
        spawn(&p, argv, &(cio_process_opts){.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE, .stderr_mode = CIO_PIPE});
        struct feed in = {cio_process_stdin(p), data, BULK};
        cio_task *feeder = spawn_task(feed_task, &in);
        expect_bytes(cio_process_stdout(p), data, BULK, "the echo through s_client");
        rc = cio_join(feeder);
        cr_assert_eq(rc, 0, "feeding s_client: %s", cio_err_name(rc));
        /* Only now end its input: s_client then sends close_notify and exits, and the handler sees the end. */
        cr_assert_eq(cio_stream_write_eof(cio_process_stdin(p)), 0);
        struct text err;
        text_init(&err, 0);
        (void)read_until(cio_process_stderr(p), &err, NULL);
        int st = reap(p);
        cr_assert_eq(st, 0, "s_client %s failed (%d):\n%s", versions[i], st, err.buf);
        text_free(&err);
        cr_assert_str_eq(w.version, i == 0 ? "TLSv1.3" : "TLSv1.2");
    }
    /* Closing waits for the handlers, which end when they read s_client's close_notify: a clean end each. */
    cr_assert_eq(cio_server_close(srv, CIO_SEC(20)), 0, "the handlers ended by themselves");
    cr_assert_eq(w.calls, 2, "each handler saw a clean end of stream");
    free(data);
    cio_tls_ctx_free(ctx);
    assert_no_children();
    return 0;
}

Test(s_client, four_mib_echoed_through_the_cio_server_with_tls13_and_tls12)
{
    tst_run_bounded(s_client_bulk);
}

/* s_client's "K" (a KeyUpdate asking for one back) in the middle of an echo by the cio server. */
static int s_client_key_update(void *arg)
{
    (void)arg;
    struct seen w = {0};
    cio_tls_ctx *ctx = server_ctx((cio_tls_opts){0});
    struct key_updates k = {0};
    SSL_CTX_set_msg_callback(cio_tls_ctx_native(ctx), count_key_updates);
    SSL_CTX_set_msg_callback_arg(cio_tls_ctx_native(ctx), &k);
    cio_server *srv;
    cio_addr a;
    int rc = cio_start_server(&srv, bulk_echo, &w, "127.0.0.1", 0, &(cio_server_opts){.tls = ctx});
    cr_assert_eq(rc, 0, "start_server: %s", cio_err_name(rc));
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    char connect[32];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", cio_addr_port(&a));
    /* -no_ign_eof after -quiet keeps the command letters on, and makes the end of input end the connection. */
    const char *argv[] = {"openssl", "s_client",   "-connect", connect,       "-servername", "localhost",
                          "-CAfile", kp("ca.pem"), "-quiet",   "-no_ign_eof", "-tls1_3",     NULL};
    cio_process *p;
    spawn(&p, argv, &piped);
    cio_stream *in = cio_process_stdin(p), *out = cio_process_stdout(p);
    struct text t;
    text_init(&t, 0);
    cr_assert_eq(cio_stream_write(in, "before\n", 7), 0);
    cr_assert_not_null(read_until(out, &t, "before\n"), "no echo:\n%s", t.buf);
    cr_assert_eq(cio_stream_write(in, "K\n", 2), 0);
    cr_assert_not_null(read_until(out, &t, "KEYUPDATE"), "s_client sent no KeyUpdate:\n%s", t.buf);
    /* The server answered with its own update: s_client reads the echo under the server's new keys. */
    cr_assert_eq(cio_stream_write(in, "after\n", 6), 0);
    cr_assert_not_null(read_until(out, &t, "after\n"), "no echo after the key update:\n%s", t.buf);
    cr_assert_eq(k.got, 1, "the server received s_client's KeyUpdate");
    cr_assert_eq(k.sent, 1, "and answered it, ahead of the echo");
    cr_assert_eq(cio_stream_write_eof(in), 0);
    (void)read_until(out, &t, NULL);
    int st = reap(p);
    cr_assert_eq(st, 0, "s_client failed (%d):\n%s", st, t.buf);
    text_free(&t);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(20)), 0, "the handler ended by itself");
    cr_assert_eq(w.calls, 1, "the handler saw a clean end of stream");
    cr_assert_str_eq(w.version, "TLSv1.3");
    cio_tls_ctx_free(ctx);
    assert_no_children();
    return 0;
}

Test(s_client, key_update_requested_by_s_client_is_answered)
{
    tst_run_bounded(s_client_key_update);
}

/* ------------------------------------------------------------------------------------------------ Python */

/* A client with Python's defaults (chain and host name checked), which prints what it negotiated and got. */
static const char py_client[] = "import socket, ssl, sys\n"
                                "port, cafile, version = int(sys.argv[1]), sys.argv[2], sys.argv[3]\n"
                                "ctx = ssl.create_default_context(cafile=cafile)\n"
                                "if version == '1.2':\n"
                                "    ctx.maximum_version = ssl.TLSVersion.TLSv1_2\n"
                                "ctx.set_alpn_protocols(['h2', 'http/1.1'])\n"
                                "msg = b'hello from python\\n'\n"
                                "try:\n"
                                "    with socket.create_connection(('127.0.0.1', port), timeout=20) as raw:\n"
                                "        with ctx.wrap_socket(raw, server_hostname='localhost') as s:\n"
                                "            s.sendall(msg)\n"
                                "            data = b''\n"
                                "            while not data.endswith(b'\\n'):\n"
                                "                chunk = s.recv(4096)\n"
                                "                if not chunk:\n"
                                "                    break\n"
                                "                data += chunk\n"
                                "            print(s.version(), s.selected_alpn_protocol(),\n"
                                "                  'OK' if data == msg else 'BAD %r' % data)\n"
                                "except ssl.SSLCertVerificationError as e:\n"
                                "    print('VERIFY', e.verify_message)\n"
                                "    sys.exit(3)\n";

/* Run the client against `port` with `cafile` and `version` ("1.2" or "any"); what it printed goes to `out`
   ("" when nothing). */
static int python_client(int port, const char *cafile, const char *version, char *out, size_t cap)
{
    char ports[16];
    snprintf(ports, sizeof ports, "%d", port);
    const char *argv[] = {"python3", "-c", py_client, ports, kp(cafile), version, NULL};
    cio_process *p;
    spawn(&p, argv, &(cio_process_opts){.stdout_mode = CIO_PIPE, .stderr_mode = CIO_STDOUT});
    cio_buf buf;
    cio_scope sc;
    cr_assert_eq(cio_timeout_begin(&sc, CIO_SEC(30)), 0);
    int rc = cio_process_communicate(p, NULL, 0, &buf, NULL);
    cio_scope_end(&sc);
    cr_assert_eq(rc, 0, "communicate: %s", cio_err_name(rc));
    snprintf(out, cap, "%s", buf.data ? buf.data : "");
    cio_buf_free(&buf);
    return reap(p);
}

static int python(void *arg)
{
    (void)arg;
    struct seen w = {0};
    int port;
    cio_tls_ctx *ctx = server_ctx((cio_tls_opts){.alpn = (const char *const[]){"http/1.1", NULL}});
    cio_server *srv = echo_server(ctx, &w, &port);
    char out[4096];

    int st = python_client(port, "ca.pem", "any", out, sizeof out);
    cr_assert_eq(st, 0, "python failed (%d):\n%s", st, out);
    cr_assert_str_eq(out, "TLSv1.3 http/1.1 OK\n");
    cr_assert_str_eq(w.version, "TLSv1.3");
    cr_assert_str_eq(w.sni, "localhost");
    cr_assert_str_eq(w.alpn, "http/1.1");

    st = python_client(port, "ca.pem", "1.2", out, sizeof out);
    cr_assert_eq(st, 0, "python failed (%d):\n%s", st, out);
    cr_assert_str_eq(out, "TLSv1.2 http/1.1 OK\n");
    cr_assert_str_eq(w.version, "TLSv1.2");
    cr_assert_eq(w.calls, 2);

    /* Trusting another CA, Python refuses the server. */
    st = python_client(port, "other-ca.pem", "any", out, sizeof out);
    cr_assert_eq(st, 3, "python must refuse (%d):\n%s", st, out);
    cr_assert_not_null(strstr(out, "VERIFY unable to get local issuer certificate"), "%s", out);
    cr_assert_eq(w.calls, 2);

    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    cio_tls_ctx_free(ctx);
    assert_no_children();
    return 0;
}

Test(python, ssl_module_client_talks_to_the_cio_server)
{
    tst_run_bounded(python);
}

/* ------------------------------------------------------------------------------------------------ nginx */

#define BIG_SIZE ((size_t)300 * 1000)

static unsigned char big_byte(size_t i)
{
    return (unsigned char)(i * 131 + i / 977);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* The static files nginx serves: hello.txt names the kit, so no other server could answer with it. */
static void write_site(char *hello, size_t cap)
{
    cr_assert_eq(mkdir(kp("www"), 0755), 0);
    snprintf(hello, cap, "hello from nginx in %s\n", kit);
    write_file(kp("www/hello.txt"), hello, strlen(hello));
    unsigned char *big = malloc(BIG_SIZE);
    cr_assert_not_null(big);
    for (size_t i = 0; i < BIG_SIZE; i++)
        big[i] = big_byte(i);
    write_file(kp("www/big.bin"), big, BIG_SIZE);
    free(big);
}

/*
 * Everything nginx writes stays in the kit. One process (master_process off), which stops when told and leaves
 * no workers behind; `user root` would only matter to workers started as root (as nobody they could not read the
 * kit, mode 0700), and run as another user nginx ignores it with a warning. The access log says what TLS each
 * request came over, as nginx saw it: version, "r" for a resumed session or ".", ALPN and SNI.
 */
static void write_conf(int port)
{
    const char *d = kit;
    char conf[4096];
    int n = snprintf(conf, sizeof conf,
                     "daemon off;\n"
                     "master_process off;\n"
                     "user root;\n"
                     "worker_processes 1;\n"
                     "pid %s/nginx.pid;\n"
                     "lock_file %s/nginx.lock;\n"
                     "error_log %s/error.log info;\n"
                     "events { worker_connections 64; }\n"
                     "http {\n"
                     "    log_format tls '$request $status $ssl_protocol $ssl_session_reused $ssl_alpn_protocol "
                     "$ssl_server_name';\n"
                     "    access_log %s/access.log tls;\n"
                     "    client_body_temp_path %s/client_body;\n"
                     "    proxy_temp_path %s/proxy;\n"
                     "    fastcgi_temp_path %s/fastcgi;\n"
                     "    uwsgi_temp_path %s/uwsgi;\n"
                     "    scgi_temp_path %s/scgi;\n"
                     "    default_type application/octet-stream;\n"
                     "    server {\n"
                     "        listen 127.0.0.1:%d ssl;\n"
                     "        server_name localhost;\n"
                     "        ssl_certificate %s/server.pem;\n"
                     "        ssl_certificate_key %s/server.key;\n"
                     "        ssl_protocols TLSv1.2 TLSv1.3;\n"
                     "        root %s/www;\n"
                     "        location / { }\n"
                     "    }\n"
                     "}\n",
                     d, d, d, d, d, d, d, d, d, port, d, d, d);
    cr_assert(n > 0 && (size_t)n < sizeof conf);
    write_file(kp("nginx.conf"), conf, (size_t)n);
}

/* A port that was free a moment ago: bound to 127.0.0.1:0 by the kernel's choice, then released. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0, "bind: %s", strerror(errno));
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

/* A file's text (the first 64 KiB; valid until the next call), for checks and failure messages. */
static const char *file_text(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The pid in nginx's pid file, or 0 while there is none. */
static int pid_file(void)
{
    int pid = 0;
    FILE *f = fopen(kp("nginx.pid"), "r");
    if (f) {
        if (fscanf(f, "%d", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return pid;
}

/*
 * Wait until nginx listens on `port`: it writes its pid file only once its listening sockets are bound, so a
 * pid file naming our child means the port is nginx's (a probe's connect alone could reach another process that
 * took the port meanwhile). Returns 0, or -ESRCH when the child exited first (it could not bind), or -ETIMEDOUT
 * after about 20 s.
 */
static int wait_listening(cio_process *p, int port)
{
    for (int i = 0; i < 1000; i++) {
        int status;
        if (cio_process_returncode(p, &status) == 0)
            return -ESRCH;
        if (pid_file() == cio_process_pid(p)) {
            cio_addr a;
            cio_stream *s;
            cr_assert_eq(cio_addr_parse(&a, "127.0.0.1", port), 0);
            int rc = cio_connect_addr(&s, &a, &(cio_connect_opts){.timeout = CIO_SEC(5)});
            cr_assert_eq(rc, 0, "nginx wrote its pid file but port %d refuses: %s", port, cio_err_name(rc));
            cio_stream_abort(s);
            return 0;
        }
        cr_assert_eq(cio_sleep(CIO_MS(20)), 0);
    }
    return -ETIMEDOUT;
}

/* Start nginx on a port free a moment ago and wait until it listens; a port lost to a race is retried. */
static cio_process *nginx_start(int *port)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        *port = free_port();
        write_conf(*port);
        const char *argv[] = {"nginx", "-p", kit, "-c", kp("nginx.conf"), "-e", kp("error.log"), NULL};
        cio_process *p;
        spawn(&p, argv, &(cio_process_opts){.stdout_mode = CIO_PIPE, .stderr_mode = CIO_STDOUT});
        int rc = wait_listening(p, *port);
        if (rc == 0)
            return p;
        cr_assert_eq(rc, -ESRCH, "nginx never listened on port %d:\n%s", *port, file_text(kp("error.log")));
        int status = reap(p);
        cr_log_warn("nginx exited (%d) on port %d, retrying:\n%s", status, *port, file_text(kp("error.log")));
        (void)unlink(kp("error.log")); /* the next attempt's log starts clean */
    }
    cr_assert_fail("nginx could not start in 3 attempts:\n%s", file_text(kp("error.log")));
    return NULL;
}

/* Stop nginx gracefully (SIGQUIT: finish the open connections, then exit) and require a clean exit. */
static void nginx_stop(cio_process *p)
{
    cr_assert_eq(cio_process_send_signal(p, SIGQUIT), 0);
    int status = reap(p);
    cr_assert_eq(status, 0, "nginx exited with %d:\n%s", status, file_text(kp("error.log")));
}

struct response {
    int status;
    bool server_nginx;
    bool conn_close;
    size_t len;
    unsigned char *body;
};

static void http_request(cio_stream *s, const char *path, bool close)
{
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: cio-test\r\n%s\r\n", path,
                     close ? "Connection: close\r\n" : "");
    int rc = cio_stream_write(s, req, (size_t)n);
    cr_assert_eq(rc, 0, "write: %s (%s)", cio_err_name(rc), cio_tls_last_error());
}

/* Read a response (status line, headers, Content-Length body) to a request for `path`. The body is the caller's. */
static void http_response(cio_stream *s, const char *path, struct response *r)
{
    char line[1024];
    *r = (struct response){.status = -1};
    ssize_t len = cio_stream_read_line(s, line, sizeof line - 1);
    cr_assert_gt(len, 0, "status line: %s (%s)", cio_err_name((int)len), cio_tls_last_error());
    line[len] = '\0';
    cr_assert_eq(sscanf(line, "HTTP/1.1 %d ", &r->status), 1, "status line \"%s\"", line);
    long length = -1;
    for (;;) {
        len = cio_stream_read_line(s, line, sizeof line - 1);
        cr_assert_gt(len, 0, "header: %s (%s)", cio_err_name((int)len), cio_tls_last_error());
        line[len] = '\0';
        if (strcmp(line, "\r\n") == 0)
            break;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            length = strtol(line + 15, NULL, 10);
        else if (strncasecmp(line, "Server: nginx", 13) == 0)
            r->server_nginx = true;
        else if (strncasecmp(line, "Connection: close", 17) == 0)
            r->conn_close = true;
    }
    cr_assert_geq(length, 0, "a Content-Length for %s", path);
    r->len = (size_t)length;
    r->body = malloc(r->len + 1);
    cr_assert_not_null(r->body);
    size_t got = 0;
    ssize_t m = cio_stream_read_exactly(s, r->body, r->len, &got);
    cr_assert_eq(m, (ssize_t)r->len, "body of %s: %s (%s), %zu of %zu bytes", path, cio_err_name((int)m),
                 cio_tls_last_error(), got, r->len);
    r->body[r->len] = '\0';
}

static void http_get(cio_stream *s, const char *path, bool close, struct response *r)
{
    http_request(s, path, close);
    http_response(s, path, r);
}

static void expect_hello(cio_stream *s, const char *hello, bool close)
{
    struct response r;
    http_get(s, "/hello.txt", close, &r);
    cr_assert_eq(r.status, 200);
    cr_assert(r.server_nginx, "the answer comes from nginx");
    cr_assert_str_eq((char *)r.body, hello);
    cr_assert_eq(r.conn_close, close);
    free(r.body);
}

static int nginx(void *arg)
{
    (void)arg;
    char hello[PATH_MAX + 64];
    write_site(hello, sizeof hello);
    int port;
    cio_process *p = nginx_start(&port);

    static const int versions[] = {CIO_TLS_1_3, CIO_TLS_1_2};
    for (size_t i = 0; i < 2; i++) {
        int v = versions[i];
        const char *vn = version_name(v);
        cio_tls_ctx *ctx = client_ctx_v(v, (cio_tls_opts){.alpn = (const char *const[]){"http/1.1", NULL}});
        cio_stream *s = tls_connect(port, ctx, "localhost");
        cio_tls_info info = tls_info(s);
        cr_assert_str_eq(info.version, vn);
        cr_assert(alpn_is(&info, "http/1.1"), "%s: nginx chose http/1.1", vn);
        cr_assert(info.peer_verified);
        cr_assert(!info.resumed);

        /* Several requests on one keep-alive connection: small, large (many records), missing, and a last one
           that asks nginx to close, after which the stream ends cleanly (close_notify). */
        expect_hello(s, hello, false);
        struct response r;
        http_get(s, "/big.bin", false, &r);
        cr_assert_eq(r.status, 200);
        cr_assert_eq(r.len, BIG_SIZE);
        size_t bad = 0;
        while (bad < BIG_SIZE && r.body[bad] == big_byte(bad))
            bad++;
        cr_assert_eq(bad, BIG_SIZE, "%s: big.bin differs at byte %zu", vn, bad);
        free(r.body);
        http_get(s, "/missing.txt", false, &r);
        cr_assert_eq(r.status, 404);
        free(r.body);
        /* Two requests sent before either response is read (pipelining). */
        http_request(s, "/missing.txt", false);
        http_request(s, "/hello.txt", false);
        http_response(s, "/missing.txt", &r);
        cr_assert_eq(r.status, 404);
        free(r.body);
        http_response(s, "/hello.txt", &r);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq((char *)r.body, hello);
        free(r.body);
        expect_hello(s, hello, true);
        char c;
        ssize_t n = cio_stream_read(s, &c, 1);
        cr_assert_eq(n, 0, "%s: nginx ended with close_notify: %s (%s)", vn, cio_err_name((int)n),
                     cio_tls_last_error());
        cr_assert_eq(cio_stream_close(s), 0);

        /* A second connection resumes with the ticket nginx sent (ssl_session_tickets is on by default). */
        s = tls_connect(port, ctx, "localhost");
        info = tls_info(s);
        cr_assert(info.resumed, "%s: the second connection resumes", vn);
        cr_assert_str_eq(info.version, vn);
        cr_assert(alpn_is(&info, "http/1.1"));
        expect_hello(s, hello, false);
        expect_hello(s, hello, false);
        /* This side closes: close_notify, then the socket. */
        cr_assert_eq(cio_stream_close(s), 0);
        cio_tls_ctx_free(ctx);
    }

    nginx_stop(p);
    assert_no_children();
    const char *log = file_text(kp("error.log"));
    cr_assert_null(strstr(log, "[crit]"), "%s", log);
    cr_assert_null(strstr(log, "[alert]"), "%s", log);
    cr_assert_null(strstr(log, "[emerg]"), "%s", log);
    /* nginx's side of it: the versions, full then resumed handshakes, ALPN and SNI. */
    log = file_text(kp("access.log"));
    static const char *const want[] = {
        "GET /big.bin HTTP/1.1 200 TLSv1.3 . http/1.1 localhost\n",
        "GET /missing.txt HTTP/1.1 404 TLSv1.3 . http/1.1 localhost\n",
        "GET /hello.txt HTTP/1.1 200 TLSv1.3 r http/1.1 localhost\n",
        "GET /big.bin HTTP/1.1 200 TLSv1.2 . http/1.1 localhost\n",
        "GET /hello.txt HTTP/1.1 200 TLSv1.2 r http/1.1 localhost\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_not_null(strstr(log, want[i]), "no \"%.*s\" in the access log:\n%s", (int)strlen(want[i]) - 1,
                           want[i], log);
    return 0;
}

Test(nginx, keep_alive_requests_and_resumption_over_tls13_and_tls12)
{
    tst_run_bounded(nginx);
}
