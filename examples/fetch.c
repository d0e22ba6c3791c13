/*
 * fetch.c: a small curl on the HTTP client session: every URL given is fetched concurrently over one session
 * (one pool, one set of options), and the bodies are printed in the order of the arguments.
 *
 *     fetch https://example.com/                              the body on stdout
 *     fetch -i -H 'Accept: text/plain' http://h/a http://h/b  status line and header fields before each body
 *     fetch -o a.html -o b.html http://h/a http://h/b         each body into its file (the nth -o, the nth URL)
 *     fetch -X PUT --data-binary @photo.jpg http://h/up       a file body, sent from disk
 *     fetch --cafile ca.pem --resolve www.test:8443:127.0.0.1 https://www.test:8443/
 *
 * Options (curl's names and meaning):
 *     -o FILE            the next URL's body into FILE (given once per URL, in order)
 *     -i                 the response's status line and header fields before its body
 *     -I                 HEAD, printing the status line and header fields
 *     -X METHOD          the request method (default GET, or POST with a body)
 *     -H 'Name: value'   a header field, repeatable
 *     -d DATA            a body from the argument (@FILE: from that file, as it is: no newline is stripped),
 *                        sent as application/x-www-form-urlencoded unless -H says otherwise
 *     --data-binary DATA the argument as the body, or @FILE: that file's content, read as it is sent
 *     -u USER:PASSWORD   HTTP Basic authentication
 *     -b, --cookie-jar   keep a cookie jar across the redirects and requests of the run
 *     --timeout S        the whole of each request, in seconds (fractions allowed); --connect-timeout S
 *     --max-redirects N  redirects followed (default 10; 0: none, the 3xx is printed)
 *     --fail, -f         a status of 400 or above is an error (exit 22), its body not printed
 *     --cafile F, --capath D, --cert F --key F, --insecure     TLS trust, client certificate, no verification
 *     --compressed       accept and decode content codings (the default); --no-decompress: bodies as sent
 *     --proxy URL, --resolve HOST:PORT:ADDRESS (repeatable), --unix-socket PATH
 *     -v                 the request and response heads on stderr, "> " and "< " first, and "* " notes
 *
 * Exit status: 0 when every response came whole; otherwise the first failed URL's (in argument order), as curl
 * numbers them: 3 a malformed URL, 6 name lookup, 7 connect, 8 a reply that is not HTTP, 28 timeout, 35 TLS
 * handshake, 60 TLS verification, 47 too many redirects, 22 --fail, 56 the connection lost mid-reply, 63 a body
 * over the size limit, 26 a body file that cannot be read, 23 an output that cannot be written, 2 bad usage, 1
 * any other error. Each failed URL gets one line on stderr: "fetch: URL: <what went wrong>".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cio.h"

#define MAX_LIST 64

struct config {
    const char *urls[MAX_LIST];
    const char *outputs[MAX_LIST];
    size_t nurls, noutputs;
    const char *method;
    const char *headers[2 * MAX_LIST + 1]; /* name, value, ..., NULL: the names are split off into `names` */
    char names[MAX_LIST][128];
    size_t nheaders;
    const char *data;      /* -d or --data-binary DATA */
    const char *data_file; /* --data-binary @FILE */
    bool form;             /* -d: the urlencoded Content-Type unless a header names one */
    bool include, head, verbose, fail, cookies, insecure, no_decompress;
    int64_t total, connect;
    int max_redirects; /* -1: the session's default (10) */
    const char *cafile, *capath, *cert, *key, *proxy, *unix_socket;
    const char *resolve[MAX_LIST + 1];
    size_t nresolve;
    char user[256];
    const char *password;
};

/* One URL's request and what it gave. */
struct job {
    const struct config *cfg;
    cio_client_session *session;
    const char *url;
    const char *output; /* NULL: stdout */
    int rc;             /* 0, or the request's error */
    int status;
    char *head;    /* the status line and fields, for -i and -I (malloc'd) */
    char *verbose; /* the "< " lines for -v (malloc'd) */
    cio_buf body;  /* for stdout, or for a file together with the head */
    bool saved;    /* the body went to `output` as it came */
};

static const char user_agent[] = "fetch (cio)";

static void usage(void)
{
    fprintf(stderr, "usage: fetch [-i] [-I] [-v] [-f] [-X METHOD] [-H 'Name: value'] [-d DATA] "
                    "[--data-binary DATA|@FILE] [-o FILE] [-u USER:PASSWORD] [-b] [--timeout S] "
                    "[--connect-timeout S] [--max-redirects N] [--cafile F] [--capath D] [--cert F --key F] "
                    "[--insecure] [--compressed|--no-decompress] [--proxy URL] [--resolve HOST:PORT:ADDRESS] "
                    "[--unix-socket PATH] URL...\n");
}

/* Seconds (fractions allowed) as ns; -1 for what is not a positive number. */
static int64_t seconds(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > 1e9)
        return -1;
    return (int64_t)(v * 1e9);
}

/* A growing string of one's own (not cio's: it outlives nothing but the run). */
struct str {
    char *p;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void str_add(struct str *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (s->len + (size_t)n + 1 > s->cap) {
        size_t cap = (s->len + (size_t)n + 1) * 2;
        char *p = realloc(s->p, cap);
        if (!p)
            return;
        s->p = p;
        s->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

/* The header fields given with -H, which replace the default ones of the same name. */
static const char *given(const struct config *c, const char *name)
{
    for (size_t i = 0; i < c->nheaders; i++)
        if (!strcasecmp(c->headers[2 * i], name))
            return c->headers[2 * i + 1];
    return NULL;
}

/*
 * -v's "> " lines. The session does not expose the head it sends, so these are what the client will send as far
 * as this program knows: the request line for the URL, Host, the User-Agent set below, the Accept-Encoding the
 * client adds when it decodes (its documented default), the fields given with -H, and how the body is framed.
 * Authorization, cookies and a proxy's absolute form are left out.
 */
static void show_request(const struct job *j, const char *method)
{
    const struct config *c = j->cfg;
    cio_url u;
    if (cio_url_parse(&u, j->url, strlen(j->url)) < 0)
        return;
    struct str s = {0};
    str_add(&s, "> %s %.*s%s%.*s HTTP/1.1\n", method, (int)u.path.len, u.path.len ? u.path.ptr : "/",
            u.query.len ? "?" : "", (int)u.query.len, u.query.ptr ? u.query.ptr : "");
    str_add(&s, "> Host: %.*s", (int)u.host.len, u.host.ptr);
    if (u.port >= 0)
        str_add(&s, ":%d", u.port);
    str_add(&s, "\n");
    if (!given(c, "User-Agent"))
        str_add(&s, "> User-Agent: %s\n", user_agent);
    if (!c->no_decompress && !given(c, "Accept-Encoding"))
        str_add(&s, "> Accept-Encoding: gzip, deflate, br, zstd\n");
    for (size_t i = 0; i < c->nheaders; i++)
        str_add(&s, "> %s: %s\n", c->headers[2 * i], c->headers[2 * i + 1]);
    if (c->form && !given(c, "Content-Type"))
        str_add(&s, "> Content-Type: application/x-www-form-urlencoded\n");
    if (c->data)
        str_add(&s, "> Content-Length: %zu\n", strlen(c->data));
    else if (c->data_file)
        str_add(&s, "> Content-Length: (the size of %s)\n", c->data_file);
    str_add(&s, ">\n");
    if (s.p)
        fputs(s.p, stderr);
    free(s.p);
}

/* The response's status line and fields, with CRLFs as they came (curl -i's output). */
static char *response_head(cio_client_response *r, const char *prefix, const char *eol)
{
    struct str s = {0};
    str_add(&s, "%sHTTP/1.%d %d%s%s%s", prefix, cio_client_response_version(r), cio_client_response_status(r),
            *cio_client_response_reason(r) ? " " : "", cio_client_response_reason(r), eol);
    const char *name, *value;
    for (size_t i = 0; cio_client_response_header_at(r, i, &name, &value) == 0; i++)
        str_add(&s, "%s%s: %s%s", prefix, name, value, eol);
    str_add(&s, "%s%s", *prefix ? "<" : "", eol);
    return s.p;
}

static int run_job(void *arg)
{
    struct job *j = arg;
    const struct config *c = j->cfg;
    const char *method = c->method ? c->method : c->head ? "HEAD" : (c->data || c->data_file) ? "POST" : "GET";
    const char *form_type[] = {"Content-Type", "application/x-www-form-urlencoded", NULL};
    const char *hdrs[2 * MAX_LIST + 3];
    size_t n = 0;
    for (size_t i = 0; i < 2 * c->nheaders; i++)
        hdrs[n++] = c->headers[i];
    if (c->form && !given(c, "Content-Type")) {
        hdrs[n++] = form_type[0];
        hdrs[n++] = form_type[1];
    }
    hdrs[n] = NULL;
    cio_client_request_opts o = {
        .headers = hdrs,
        .body = c->data,
        .body_len = c->data ? strlen(c->data) : 0,
        .body_file = c->data_file,
        .status = &j->status,
        .raise_for_status = c->fail ? 1 : -1,
    };
    if (c->verbose)
        show_request(j, method);
    cio_client_response *r;
    int rc = cio_client_request(j->session, method, j->url, &o, &r);
    if (rc < 0)
        return j->rc = rc;
    if (c->verbose)
        j->verbose = response_head(r, "< ", "\n");
    if (c->include || c->head)
        j->head = response_head(r, "", "\r\n");
    if (j->output && !j->head) {
        ssize_t saved = cio_client_response_save(r, j->output);
        rc = saved < 0 ? (int)saved : 0;
        j->saved = true;
    } else {
        rc = cio_client_response_read(r, &j->body);
    }
    (void)cio_client_response_release(r);
    return j->rc = rc;
}

/* -v's notes on connections, as curl's "* " lines (the hooks have no job: they go out as they happen). */
static void on_connect(void *arg, const char *host, int port, const cio_addr *peer)
{
    (void)arg;
    char addr[128] = "";
    (void)cio_addr_format(peer, addr, sizeof addr);
    fprintf(stderr, "* Connected to %s port %d (%s)\n", host, port, addr);
}

static void on_reuse(void *arg, const char *host, int port)
{
    (void)arg;
    fprintf(stderr, "* Re-using the connection to %s port %d\n", host, port);
}

static void on_redirect(void *arg, int status, const char *from, const char *to)
{
    (void)arg;
    fprintf(stderr, "* %s answered %d: following to %s\n", from, status, to);
}

/* curl's exit codes for cio's errors. */
static int exit_code(int rc)
{
    switch (rc) {
    case CIO_ECLIENT_STATUS:
        return 22;
    case CIO_ECLIENT_TOO_MANY_REDIRECTS:
        return 47;
    case -ECONNREFUSED:
    case -ENETUNREACH:
    case -EHOSTUNREACH:
    case CIO_ECLIENT_PROXY:
        return 7;
    case CIO_EHTTP_BAD_URL:
    case CIO_EHTTP_BAD_HOST:
    case CIO_EHTTP_BAD_PORT:
        return 3;
    case -ECONNRESET:
    case CIO_ECLIENT_DISCONNECTED:
    case CIO_EHTTP_BODY_TRUNCATED:
        return 56;
    case CIO_EHTTP_BODY_LIMIT:
        return 63;
    case CIO_EHTTP_BAD_FIELD: /* a -H the head writer refuses: not the server's doing */
        return 1;
    case CIO_ETLSEXPIRED:
    case CIO_ETLSSELFSIGNED:
    case CIO_ETLSUNTRUSTED:
    case CIO_ETLSHOSTNAME:
    case CIO_ETLSBADCERT:
        return 60;
    case CIO_ETLS:
    case CIO_ETLSCONFIG:
    case CIO_ETLSNOCERT:
    case CIO_ETLSVERSION:
    case CIO_ETLSALPN:
    case CIO_ETLSALERT:
    case CIO_ETLSPROTO:
        return 35;
    case -ENOENT:
    case -EACCES:
    case -EISDIR:
    case -EIO:
        return 26;
    }
    if (cio_is_timeout(rc))
        return 28;
    if (rc <= CIO_EAI_NONAME && rc >= CIO_EAI_TIMEOUT)
        return 6;
    if (rc <= CIO_EHTTP_BARE_CR && rc >= CIO_EHTTP_MP_BAD_EXT_VALUE) /* the server's answer is not HTTP */
        return 8;
    return 1;
}

/* Write `len` bytes to `f`; false if that failed. */
static bool put(FILE *f, const void *p, size_t len)
{
    return !len || fwrite(p, 1, len, f) == len;
}

/* A finished job's output, to stdout or its file. Returns 0 or an error. */
static int emit(struct job *j)
{
    if (j->verbose)
        fputs(j->verbose, stderr);
    if (j->saved)
        return 0;
    FILE *f = j->output ? fopen(j->output, "wb") : stdout;
    if (!f)
        return -errno;
    bool ok = (!j->head || put(f, j->head, strlen(j->head))) && put(f, j->body.data, j->body.len);
    if (j->output)
        ok = fclose(f) == 0 && ok;
    else
        ok = fflush(f) == 0 && ok;
    return ok ? 0 : -EIO;
}

static int fetch_all(void *arg)
{
    struct config *c = arg;
    cio_tls_opts tls = {.ca_file = c->cafile,
                        .ca_dir = c->capath,
                        .cert_file = c->cert,
                        .key_file = c->key,
                        .insecure_skip_verify = c->insecure};
    cio_client_trace trace = {.connection_create = on_connect, .connection_reuse = on_reuse, .redirect = on_redirect};
    cio_client_session_opts so = {
        .user_agent = user_agent,
        .timeout = {.total = c->total, .connect = c->connect},
        .max_redirects = c->max_redirects < 0    ? 0
                         : c->max_redirects == 0 ? -1
                                                 : c->max_redirects,
        .no_decompress = c->no_decompress,
        /* No TLS option: the session's defaults, made on the first https request only. */
        .tls_opts = c->cafile || c->capath || c->cert || c->insecure ? &tls : NULL,
        .resolve = c->nresolve ? c->resolve : NULL,
        .proxy = c->proxy,
        .unix_socket = c->unix_socket,
        .auth_user = c->user[0] ? c->user : NULL,
        .auth_password = c->password,
        .cookie_jar = c->cookies,
        .trace = c->verbose ? &trace : NULL,
    };
    cio_client_session *s;
    int rc = cio_client_session_new(&s, &so);
    if (rc < 0) {
        const char *why = rc <= CIO_ETLS && rc >= CIO_ETLSTRUNCATED ? cio_tls_last_error() : "";
        fprintf(stderr, "fetch: %s%s%s%s\n", cio_strerror(rc), *why ? " (" : "", why, *why ? ")" : "");
        return 2;
    }
    struct job jobs[MAX_LIST];
    cio_task *tasks[MAX_LIST];
    size_t n = 0;
    for (size_t i = 0; i < c->nurls; i++) {
        jobs[i] = (struct job){.cfg = c, .session = s, .url = c->urls[i], .output = c->outputs[i]};
        if ((rc = cio_spawn(&tasks[n], run_job, &jobs[i], NULL)) < 0) {
            jobs[i].rc = rc;
            continue;
        }
        n++;
    }
    (void)cio_gather(tasks, n, NULL, CIO_GATHER_ALL); /* each job keeps its own result */
    int code = 0;
    for (size_t i = 0; i < c->nurls; i++) {
        struct job *j = &jobs[i];
        if (j->rc == 0 && (rc = emit(j)) < 0) {
            fprintf(stderr, "fetch: %s: %s: %s\n", j->url, j->output ? j->output : "stdout", cio_strerror(rc));
            if (!code)
                code = 23;
        } else if (j->rc == CIO_ECLIENT_STATUS) {
            fprintf(stderr, "fetch: %s: %s (%d)\n", j->url, cio_strerror(j->rc), j->status);
        } else if (j->rc < 0) {
            fprintf(stderr, "fetch: %s: %s\n", j->url, cio_strerror(j->rc));
        }
        if (j->rc < 0 && !code)
            code = exit_code(j->rc);
        free(j->head);
        free(j->verbose);
        cio_buf_free(&j->body);
    }
    cio_client_session_close(s);
    return code;
}

/* The value of option argv[*i], moving past it; NULL (after a message) when it is missing. */
static const char *value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "fetch: %s needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* Parse the arguments into `c`. Returns 0, or 2 (bad usage, said on stderr). */
static int parse(struct config *c, int argc, char **argv)
{
    c->max_redirects = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
#define IS(name) (!strcmp(a, name))
#define VALUE()                           \
    do {                                  \
        if (!(v = value(argc, argv, &i))) \
            return 2;                     \
    } while (0)
        if (a[0] != '-' || !a[1]) {
            if (c->nurls == MAX_LIST)
                goto too_many;
            c->urls[c->nurls++] = a;
        } else if (IS("-i") || IS("--include")) {
            c->include = true;
        } else if (IS("-I") || IS("--head")) {
            c->head = true;
        } else if (IS("-v") || IS("--verbose")) {
            c->verbose = true;
        } else if (IS("-f") || IS("--fail")) {
            c->fail = true;
        } else if (IS("-b") || IS("--cookie-jar")) {
            c->cookies = true;
        } else if (IS("--insecure") || IS("-k")) {
            c->insecure = true;
        } else if (IS("--compressed")) {
            c->no_decompress = false;
        } else if (IS("--no-decompress")) {
            c->no_decompress = true;
        } else if (IS("-o") || IS("--output")) {
            VALUE();
            if (c->noutputs == MAX_LIST)
                goto too_many;
            c->outputs[c->noutputs++] = v;
        } else if (IS("-X") || IS("--request")) {
            VALUE();
            c->method = v;
        } else if (IS("-H") || IS("--header")) {
            VALUE();
            const char *colon = strchr(v, ':');
            size_t len = colon ? (size_t)(colon - v) : 0;
            if (!len || len >= sizeof c->names[0]) {
                fprintf(stderr, "fetch: -H %s: not 'Name: value'\n", v);
                return 2;
            }
            if (c->nheaders == MAX_LIST)
                goto too_many;
            memcpy(c->names[c->nheaders], v, len);
            c->names[c->nheaders][len] = 0;
            for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
                ;
            c->headers[2 * c->nheaders] = c->names[c->nheaders];
            c->headers[2 * c->nheaders + 1] = v;
            c->nheaders++;
        } else if (IS("-d") || IS("--data") || IS("--data-binary")) {
            bool binary = IS("--data-binary");
            VALUE();
            c->data = c->data_file = NULL;
            if (v[0] == '@')
                c->data_file = v + 1;
            else
                c->data = v;
            c->form = !binary;
        } else if (IS("-u") || IS("--user")) {
            VALUE();
            const char *colon = strchr(v, ':');
            size_t len = colon ? (size_t)(colon - v) : strlen(v);
            if (!len || len >= sizeof c->user) {
                fprintf(stderr, "fetch: -u %s: not USER:PASSWORD\n", v);
                return 2;
            }
            memcpy(c->user, v, len);
            c->user[len] = 0;
            c->password = colon ? colon + 1 : "";
        } else if (IS("--timeout") || IS("-m") || IS("--max-time") || IS("--connect-timeout")) {
            bool connect = IS("--connect-timeout");
            VALUE();
            int64_t ns = seconds(v);
            if (ns < 0) {
                fprintf(stderr, "fetch: %s %s: not a number of seconds above 0\n", a, v);
                return 2;
            }
            *(connect ? &c->connect : &c->total) = ns;
        } else if (IS("--max-redirects") || IS("--max-redirs")) {
            VALUE();
            char *end;
            long m = strtol(v, &end, 10);
            if (end == v || *end || m < 0 || m > 1000) {
                fprintf(stderr, "fetch: %s %s: not a count from 0 to 1000\n", a, v);
                return 2;
            }
            c->max_redirects = (int)m;
        } else if (IS("--cafile") || IS("--cacert")) {
            VALUE();
            c->cafile = v;
        } else if (IS("--capath")) {
            VALUE();
            c->capath = v;
        } else if (IS("--cert") || IS("-E")) {
            VALUE();
            c->cert = v;
        } else if (IS("--key")) {
            VALUE();
            c->key = v;
        } else if (IS("--proxy") || IS("-x")) {
            VALUE();
            c->proxy = v;
        } else if (IS("--resolve")) {
            VALUE();
            if (c->nresolve == MAX_LIST)
                goto too_many;
            c->resolve[c->nresolve++] = v;
        } else if (IS("--unix-socket")) {
            VALUE();
            c->unix_socket = v;
        } else if (IS("-h") || IS("--help")) {
            usage();
            return 2;
        } else {
            fprintf(stderr, "fetch: unknown option %s\n", a);
            usage();
            return 2;
        }
#undef IS
#undef VALUE
    }
    if (!c->nurls) {
        usage();
        return 2;
    }
    if (c->noutputs > c->nurls) {
        fprintf(stderr, "fetch: %zu -o for %zu URLs\n", c->noutputs, c->nurls);
        return 2;
    }
    if (!c->cert != !c->key) {
        fprintf(stderr, "fetch: --cert and --key go together\n");
        return 2;
    }
    return 0;
too_many:
    fprintf(stderr, "fetch: at most %d of each list (URLs, -o, -H, --resolve)\n", MAX_LIST);
    return 2;
}

int main(int argc, char **argv)
{
    static struct config c;
    int code = parse(&c, argc, argv);
    if (code)
        return code;
    int rc = cio_run(fetch_all, &c);
    return rc < 0 ? 1 : rc;
}
