/* session.c: client sessions opened and closed, every option checked with its own error, and the URL resolution
 * that base URLs and redirects rely on (RFC 3986 section 5.4's examples). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clientkit.h"
#include "client/client.h"
#include "tlskit.h"

TestSuite(client_session, .init = wk_init);

static int open_close_body(void *arg)
{
    (void)arg;
    cio_client_session *s = NULL;
    WK_EQ(cio_client_session_new(&s, NULL), 0);
    size_t idle = 99;
    WK_EQ(cio_client_session_connections(s, &idle), 0);
    WK_EQ(idle, 0);
    WK_EQ(cio_client_session_close(s), 0);
    WK_EQ(cio_client_session_close(NULL), 0);
    WK_EQ(cio_client_session_connections(NULL, &idle), 0);
    /* Every option at once, all valid. */
    const char *const headers[] = {"X-Default", "1", "Authorization", "Bearer t", NULL};
    const char *const resolve[] = {"example.test:80:127.0.0.1", "v6.test:443:[::1]", "v6b.test:8080:::1", NULL};
    cio_client_session_opts o = {
        .base_url = "http://example.test/api/",
        .headers = headers,
        .user_agent = "tester/1",
        .limit = 4,
        .limit_per_host = 2,
        .keepalive_timeout = CIO_SEC(1),
        .timeout = {.total = CIO_INFINITE, .connect = CIO_SEC(1), .sock_connect = CIO_MS(500), .sock_read = CIO_SEC(2)},
        .resolve = resolve,
        .max_size = 1024,
        .max_redirects = -1,
        .no_decompress = true,
        .max_headers = 10,
    };
    WK_EQ(cio_client_session_new(&s, &o), 0);
    WK_EQ(cio_client_session_close(s), 0);
    return 0;
}

Test(client_session, opens_and_closes_with_defaults_and_with_every_option)
{
    tst_run(open_close_body, NULL);
    wk_verdict();
}

static int bad_opts_body(void *arg)
{
    (void)arg;
    cio_client_session *s = (cio_client_session *)1;
    WK_EQ(cio_client_session_new(NULL, NULL), -EINVAL);
    struct {
        cio_client_session_opts o;
        int want;
    } cases[] = {
        {{.timeout.total = -5}, -EINVAL},
        {{.timeout.connect = -2}, -EINVAL},
        {{.timeout.sock_connect = -3}, -EINVAL},
        {{.timeout.sock_read = -4}, -EINVAL},
        {{.keepalive_timeout = -7}, -EINVAL},
        {{.base_url = "not a url"}, CIO_EHTTP_BAD_URL},
        {{.base_url = "/relative"}, CIO_EHTTP_BAD_URL},
        {{.base_url = "ftp://example.test/"}, CIO_ECLIENT_BAD_SCHEME},
        {{.base_url = "http://example.test:99999/"}, CIO_EHTTP_BAD_PORT},
        {{.headers = (const char *const[]){"X-A", "1", "X-B", NULL}}, CIO_EHTTP_BAD_FIELD},
        {{.headers = (const char *const[]){"X-A", "v\r\nX-Evil: 1", NULL}}, CIO_EHTTP_BAD_FIELD},
        {{.headers = (const char *const[]){"Bad Name", "v", NULL}}, CIO_EHTTP_BAD_FIELD},
        {{.headers = (const char *const[]){"Host", "example.test", NULL}}, -EINVAL},
        {{.headers = (const char *const[]){"content-length", "3", NULL}}, -EINVAL},
        {{.headers = (const char *const[]){"Transfer-Encoding", "chunked", NULL}}, -EINVAL},
        {{.user_agent = "bad\nagent"}, CIO_EHTTP_BAD_FIELD},
        {{.resolve = (const char *const[]){"nohost", NULL}}, CIO_ECLIENT_BAD_RESOLVE},
        {{.resolve = (const char *const[]){":80:127.0.0.1", NULL}}, CIO_ECLIENT_BAD_RESOLVE},
        {{.resolve = (const char *const[]){"h.test::127.0.0.1", NULL}}, CIO_ECLIENT_BAD_RESOLVE},
        {{.resolve = (const char *const[]){"h.test:0:127.0.0.1", NULL}}, CIO_ECLIENT_BAD_RESOLVE},
        {{.resolve = (const char *const[]){"h.test:70000:127.0.0.1", NULL}}, CIO_ECLIENT_BAD_RESOLVE},
        {{.resolve = (const char *const[]){"h.test:8x:127.0.0.1", NULL}}, CIO_ECLIENT_BAD_RESOLVE},
        {{.resolve = (const char *const[]){"h.test:80:not-an-address", NULL}}, CIO_ECLIENT_BAD_RESOLVE},
        {{.resolve = (const char *const[]){"h.test:80", NULL}}, CIO_ECLIENT_BAD_RESOLVE},
        {{.tls_opts = &(cio_tls_opts){.ca_file = "/nonexistent/ca.pem"}}, -ENOENT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = cio_client_session_new(&s, &cases[i].o);
        if (rc != cases[i].want)
            wk_fail(__LINE__, "case", "%zu: %s, want %s", i, cio_err_name(rc), cio_err_name(cases[i].want));
        WK_CHECK(s == NULL, "case %zu leaves no session", i);
    }
    /* A context of the caller's and options for one: which would it be? */
    cio_tls_ctx *ctx;
    WK_EQ(cio_tls_ctx_new(&ctx, CIO_TLS_CLIENT, NULL), 0);
    cio_client_session_opts both = {.tls = ctx, .tls_opts = &(cio_tls_opts){0}};
    WK_EQ(cio_client_session_new(&s, &both), -EINVAL);
    /* The caller's context is borrowed: the session does not free it. */
    WK_EQ(cio_client_session_new(&s, &(cio_client_session_opts){.tls = ctx}), 0);
    WK_EQ(cio_client_session_close(s), 0);
    cio_tls_ctx_free(ctx);
    return 0;
}

Test(client_session, refuses_each_bad_option_with_its_own_error)
{
    tst_run(bad_opts_body, NULL);
    wk_verdict();
}

Test(client_session, needs_a_loop)
{
    cio_client_session *s;
    cr_assert_eq(cio_client_session_new(&s, NULL), CIO_ENOLOOP);
}

static int tls_opts_body(void *arg)
{
    const char *dir = arg;
    char ca[512];
    cio_client_session *s;
    WK_EQ(cio_client_session_new(
              &s, &(cio_client_session_opts){.tls_opts = &(
                                                 cio_tls_opts){.ca_file = tlskit_path(dir, "ca.pem", ca, sizeof ca)}}),
          0);
    WK_EQ(cio_client_session_close(s), 0);
    return 0;
}

Test(client_session, makes_its_tls_context_from_options)
{
    char dir[256];
    cr_assert_eq(tlskit_make(dir, sizeof dir), 0);
    tst_run(tls_opts_body, dir);
    tlskit_remove(dir);
    wk_verdict();
}

Test(client_session, client_errors_have_names_messages_and_timeouts_are_timeouts)
{
    const int timeouts[] = {CIO_ECLIENT_TIMEOUT, CIO_ECLIENT_CONNECT_TIMEOUT, CIO_ECLIENT_SOCK_CONNECT_TIMEOUT,
                            CIO_ECLIENT_READ_TIMEOUT};
    for (size_t i = 0; i < 4; i++)
        cr_assert(cio_is_timeout(timeouts[i]), "%s", cio_err_name(timeouts[i]));
    cr_assert_not(cio_is_timeout(CIO_ECLIENT_DISCONNECTED));
    cr_assert_str_eq(cio_err_name(CIO_ECLIENT_CLOSED), "CIO_ECLIENT_CLOSED");
    cr_assert_eq(CIO_ECLIENT_CLOSED, -4450);
    cr_assert_str_eq(cio_strerror(CIO_ECLIENT_REDIRECT_LOOP), "client: a redirect back to a URL already requested");
}

/* ------------------------------------------------------------------------------------------------ URL joins */

struct join_case {
    const char *ref, *want;
};

/* RFC 3986 section 5.4, against its base "http://a/b/c/d;p?q" (the fragments dropped: a client never sends one). */
static const struct join_case joins[] = {
    {"g", "http://a/b/c/g"},
    {"./g", "http://a/b/c/g"},
    {"g/", "http://a/b/c/g/"},
    {"/g", "http://a/g"},
    {"//g", "http://g"},
    {"?y", "http://a/b/c/d;p?y"},
    {"g?y", "http://a/b/c/g?y"},
    {"#s", "http://a/b/c/d;p?q"},
    {"g#s", "http://a/b/c/g"},
    {"g?y#s", "http://a/b/c/g?y"},
    {";x", "http://a/b/c/;x"},
    {"g;x", "http://a/b/c/g;x"},
    {"", "http://a/b/c/d;p?q"},
    {".", "http://a/b/c/"},
    {"./", "http://a/b/c/"},
    {"..", "http://a/b/"},
    {"../", "http://a/b/"},
    {"../g", "http://a/b/g"},
    {"../..", "http://a/"},
    {"../../", "http://a/"},
    {"../../g", "http://a/g"},
    {"../../../g", "http://a/g"},
    {"../../../../g", "http://a/g"},
    {"/./g", "http://a/g"},
    {"/../g", "http://a/g"},
    {"g.", "http://a/b/c/g."},
    {".g", "http://a/b/c/.g"},
    {"g..", "http://a/b/c/g.."},
    {"..g", "http://a/b/c/..g"},
    {"./../g", "http://a/b/g"},
    {"./g/.", "http://a/b/c/g/"},
    {"g/./h", "http://a/b/c/g/h"},
    {"g/../h", "http://a/b/c/h"},
    {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
    {"g;x=1/../y", "http://a/b/c/y"},
    {"g?y/./x", "http://a/b/c/g?y/./x"},
    {"https://other:8443/x/../y?z", "https://other:8443/y?z"},
};

Test(client_session, relative_references_resolve_as_rfc_3986_says)
{
    for (size_t i = 0; i < sizeof joins / sizeof joins[0]; i++) {
        char *out = NULL;
        int rc = cio__client_url_join(&out, "http://a/b/c/d;p?q", joins[i].ref);
        cr_assert_eq(rc, 0, "%s: %s", joins[i].ref, cio_err_name(rc));
        char *hash = strchr(out, '#');
        if (hash)
            *hash = 0;
        cr_assert_str_eq(out, joins[i].want, "ref \"%s\"", joins[i].ref);
        cio__free(out);
    }
    char *out = (char *)1;
    cr_assert_eq(cio__client_url_join(&out, "/no/scheme", "x"), CIO_EHTTP_BAD_URL);
    cr_assert_null(out);
    cr_assert_eq(cio__client_url_join(&out, "http://a/b", "http:path"), CIO_EHTTP_BAD_URL);
    cr_assert_eq(cio__client_url_join(&out, "http://a", "x"), 0);
    cr_assert_str_eq(out, "http://a/x");
    cio__free(out);
}
