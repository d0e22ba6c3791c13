/* dns.c: tests of cio_resolve: numeric addresses, hosts files, DNS through a local responder, the cache,
   timeouts, cancellation and bad input. No test reaches the network: every name not in a hosts file goes to a
   server this test runs on 127.0.0.1. */
#include <arpa/inet.h>
#include <ares.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corekit.h"
#include "dnskit.h"
#include "harness.h"
#include "io/dns.h"

/* What a test body gets: the responder its resolv.conf names. */
struct env {
    tst_dns *dns;
    int (*body)(struct env *e);
};

/* Run `body` on a fresh loop against a responder; closing the loop releases the resolver and its cache, which
   tst_run's leak check then proves. */
static int run_body(void *arg)
{
    struct env *e = arg;
    return e->body(e);
}

static void run_with(int (*body)(struct env *e), tst_dns *dns)
{
    struct env e = {.dns = dns, .body = body};
    tst_dns_use(dns);
    tst_run(run_body, &e);
    tst_dns_close(dns);
}

static void run(int (*body)(struct env *e))
{
    run_with(body, tst_dns_open(false));
}

/* The address as text, without the port. */
static const char *text(const cio_addr *a)
{
    static char buf[INET6_ADDRSTRLEN];
    if (a->u.sa.sa_family == AF_INET)
        return inet_ntop(AF_INET, &((const struct sockaddr_in *)&a->u.ss)->sin_addr, buf, sizeof buf);
    if (a->u.sa.sa_family == AF_INET6)
        return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a->u.ss)->sin6_addr, buf, sizeof buf);
    return "?";
}

static int port_of(const cio_addr *a)
{
    if (a->u.sa.sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->u.ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&a->u.ss)->sin6_port);
}

static int resolve(const char *host, int family, cio_addr *out, size_t cap)
{
    return cio_resolve(host, 80, out, cap, &(cio_resolve_opts){.family = family, .timeout = CIO_SEC(10)});
}

/* ------------------------------------------------------------------------------------------------ bad input */

static int bad_input(struct env *e)
{
    cio_addr a[2];
    cr_assert_eq(cio_resolve(NULL, 80, a, 2, NULL), -EINVAL);
    cr_assert_eq(cio_resolve("", 80, a, 2, NULL), -EINVAL);
    cr_assert_eq(cio_resolve("localhost", -1, a, 2, NULL), -EINVAL);
    cr_assert_eq(cio_resolve("localhost", 65536, a, 2, NULL), -EINVAL);
    cr_assert_eq(cio_resolve("localhost", 80, a, 0, NULL), -EINVAL);
    cr_assert_eq(cio_resolve("localhost", 80, NULL, 2, NULL), -EINVAL);
    cr_assert_eq(cio_resolve("localhost", 80, a, 2, &(cio_resolve_opts){.family = AF_UNIX}), -EINVAL);
    cr_assert_eq(cio_resolve("localhost", 80, a, 2, &(cio_resolve_opts){.timeout = -1}), -EINVAL);
    cr_assert_eq(cio_resolve("127.0.0.1", 65536, a, 2, NULL), -EINVAL, "numeric hosts are checked too");
    cr_assert_eq(tst_dns_queries(e->dns), 0);
    return 0;
}

Test(dns, bad_arguments_give_einval)
{
    run(bad_input);
}

static int long_name(struct env *e)
{
    (void)e;
    char name[1100];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    cio_addr a[1];
    cr_assert_eq(cio_resolve(name, 80, a, 1, NULL), CIO_EAI_BADNAME);
    cr_assert_eq(cio_resolve("a..b", 80, a, 1, NULL), CIO_EAI_BADNAME);
    return 0;
}

Test(dns, malformed_names_give_eai_badname)
{
    run(long_name);
}

/* ------------------------------------------------------------------------------------------------ numeric */

static int numeric(struct env *e)
{
    cio_addr a[4];
    cr_assert_eq(cio_resolve("127.0.0.1", 8080, a, 4, NULL), 1);
    cr_assert_eq(a[0].u.sa.sa_family, AF_INET);
    cr_assert_eq(a[0].len, sizeof(struct sockaddr_in));
    cr_assert_str_eq(text(&a[0]), "127.0.0.1");
    cr_assert_eq(port_of(&a[0]), 8080);

    cr_assert_eq(cio_resolve("::1", 443, a, 4, NULL), 1);
    cr_assert_eq(a[0].u.sa.sa_family, AF_INET6);
    cr_assert_eq(a[0].len, sizeof(struct sockaddr_in6));
    cr_assert_str_eq(text(&a[0]), "::1");
    cr_assert_eq(port_of(&a[0]), 443);

    cr_assert_eq(cio_resolve("[2001:db8::5]", 0, a, 4, NULL), 1);
    cr_assert_str_eq(text(&a[0]), "2001:db8::5");
    cr_assert_eq(cio_resolve("fe80::1%1", 1, a, 4, NULL), 1);
    cr_assert_eq(((struct sockaddr_in6 *)&a[0].u.ss)->sin6_scope_id, 1u);

    cr_assert_eq(cio_resolve("127.0.0.1", 80, a, 4, &(cio_resolve_opts){.family = AF_INET6}), CIO_EAI_NODATA);
    cr_assert_eq(cio_resolve("::1", 80, a, 4, &(cio_resolve_opts){.family = AF_INET}), CIO_EAI_NODATA);
    cr_assert_eq(cio_resolve("::1", 80, a, 4, &(cio_resolve_opts){.family = AF_INET6}), 1);
    cr_assert_eq(tst_dns_queries(e->dns), 0, "numeric addresses need no query");
    return 0;
}

Test(dns, numeric_ipv4_and_ipv6_addresses_resolve_without_a_query)
{
    run(numeric);
}

Test(dns, numeric_addresses_resolve_outside_a_loop)
{
    cio_addr a[1];
    cr_assert_eq(cio_resolve("10.1.2.3", 99, a, 1, NULL), 1);
    cr_assert_str_eq(text(&a[0]), "10.1.2.3");
    cr_assert_eq(cio_resolve("example.invalid", 99, a, 1, NULL), CIO_ENOLOOP, "a name needs the loop");
}

/* ------------------------------------------------------------------------------------------------ hosts */

static int system_localhost(struct env *e)
{
    cio_addr a[8];
    int n = resolve("localhost", AF_UNSPEC, a, 8);
    cr_assert_geq(n, 1, "%s", cio_err_name(n));
    for (int i = 0; i < n; i++) {
        const char *t = text(&a[i]);
        cr_assert(strncmp(t, "127.", 4) == 0 || strcmp(t, "::1") == 0, "localhost is %s", t);
        cr_assert_eq(port_of(&a[i]), 80);
    }
    cr_assert_eq(tst_dns_queries(e->dns), 0, "localhost comes from /etc/hosts, not DNS");
    return 0;
}

Test(dns, localhost_resolves_from_the_system_hosts_file)
{
    run(system_localhost);
}

static int custom_hosts(struct env *e)
{
    cio_addr a[8];
    cr_assert_eq(resolve("myhost.cio.test", AF_UNSPEC, a, 8), 3);
    cr_assert_str_eq(text(&a[0]), "fd00::7", "IPv6 first");
    cr_assert_str_eq(text(&a[1]), "10.9.8.7");
    cr_assert_str_eq(text(&a[2]), "10.9.8.8", "then IPv4, in file order");
    cr_assert_eq(resolve("ALIAS.cio.test", AF_UNSPEC, a, 8), 1, "names compare without case; aliases count");
    cr_assert_str_eq(text(&a[0]), "10.9.8.7");
    cr_assert_eq(resolve("myhost.cio.test", AF_INET6, a, 8), 1);
    cr_assert_str_eq(text(&a[0]), "fd00::7");
    cr_assert_eq(resolve("myhost.cio.test", AF_INET, a, 1), 1, "cut to cap");
    cr_assert_str_eq(text(&a[0]), "10.9.8.7");
    cr_assert_eq(resolve("localhost", AF_INET, a, 8), 1);
    cr_assert_str_eq(text(&a[0]), "127.0.0.2", "the file replaces /etc/hosts");
    cr_assert_eq(tst_dns_queries(e->dns), 0);
    cr_assert_eq(resolve("commented.cio.test", AF_UNSPEC, a, 8), CIO_EAI_NONAME, "comments are ignored");
    cr_assert_gt(tst_dns_queries(e->dns), 0, "names not in the file go to DNS");
    return 0;
}

/* Point CIO_HOSTS_FILE at a file holding `text` while `body` runs. */
static void run_hosts(int (*body)(struct env *e), const char *text)
{
    char path[64];
    snprintf(path, sizeof path, "%s", tst_write_temp(text));
    cr_assert_eq(setenv("CIO_HOSTS_FILE", path, 1), 0);
    run(body);
    unsetenv("CIO_HOSTS_FILE");
    unlink(path);
}

Test(dns, names_resolve_from_the_hosts_file_named_by_cio_hosts_file)
{
    run_hosts(custom_hosts, "# test hosts\n"
                            "10.9.8.7\tmyhost.cio.test alias.cio.test\n"
                            "fd00::7 myhost.cio.test   # same host, IPv6\n"
                            "10.9.8.8 MyHost.cio.test\n"
                            "# 10.1.1.1 commented.cio.test\n"
                            "not-an-address myhost.cio.test\n"
                            "127.0.0.2 localhost\n");
}

static int local_names(struct env *e)
{
    cio_addr a[8];
    cr_assert_eq(resolve("localhost", AF_UNSPEC, a, 8), 2);
    cr_assert_str_eq(text(&a[0]), "::1");
    cr_assert_str_eq(text(&a[1]), "127.0.0.1");
    cr_assert_eq(resolve("db.localhost", AF_INET, a, 8), 1);
    cr_assert_str_eq(text(&a[0]), "127.0.0.1");
    cr_assert_eq(tst_dns_queries(e->dns), 0, "localhost names never go to DNS (RFC 6761)");
    return 0;
}

Test(dns, localhost_names_missing_from_the_hosts_file_are_loopback)
{
    run_hosts(local_names, "10.9.8.7 myhost.cio.test\n");
}

/* ------------------------------------------------------------------------------------------------ DNS */

static int answers(struct env *e)
{
    tst_dns_add(e->dns, "www.cio.test", "192.0.2.10", 300);
    tst_dns_add(e->dns, "www.cio.test", "192.0.2.11", 300);
    tst_dns_add(e->dns, "www.cio.test", "2001:db8::10", 300);
    cio_addr a[8];
    int n = resolve("www.cio.test", AF_UNSPEC, a, 8);
    cr_assert_eq(n, 3, "%s", cio_err_name(n));
    cr_assert_str_eq(text(&a[0]), "2001:db8::10", "IPv6 first");
    cr_assert_str_eq(text(&a[1]), "192.0.2.10");
    cr_assert_str_eq(text(&a[2]), "192.0.2.11");
    for (int i = 0; i < n; i++)
        cr_assert_eq(port_of(&a[i]), 80);
    cr_assert_eq(resolve("www.cio.test", AF_INET, a, 8), 2);
    cr_assert_eq(a[0].u.sa.sa_family, AF_INET);
    cr_assert_eq(resolve("www.cio.test", AF_INET6, a, 1), 1);
    cr_assert_str_eq(text(&a[0]), "2001:db8::10");
    return 0;
}

Test(dns, names_resolve_through_the_configured_server_ipv6_first)
{
    run(answers);
}

static int unknown(struct env *e)
{
    cio_addr a[2];
    cr_assert_eq(resolve("nonexistent.cio.test", AF_UNSPEC, a, 2), CIO_EAI_NONAME);
    cr_assert_gt(tst_dns_queries(e->dns), 0, "the server was asked");
    cr_assert_eq(cio_resolve("other.cio.test", 80, a, 2, &(cio_resolve_opts){.timeout = INT64_MAX}), CIO_EAI_NONAME,
                 "the longest timeout does not overflow");
    return 0;
}

Test(dns, an_unknown_name_gives_eai_noname)
{
    run(unknown);
}

static int nodata(struct env *e)
{
    tst_dns_add(e->dns, "v6only.cio.test", "2001:db8::6", 300);
    cio_addr a[2];
    cr_assert_eq(resolve("v6only.cio.test", AF_INET, a, 2), CIO_EAI_NODATA);
    cr_assert_eq(resolve("v6only.cio.test", AF_UNSPEC, a, 2), 1);
    return 0;
}

Test(dns, a_name_without_an_address_of_the_family_gives_eai_nodata)
{
    run(nodata);
}

static int rcodes(struct env *e)
{
    tst_dns_rcode(e->dns, "refused.cio.test", 5);
    tst_dns_rcode(e->dns, "servfail.cio.test", 2);
    cio_addr a[2];
    /* c-ares 1.18 reports servers that all refused as ARES_ECONNREFUSED ("could not contact DNS servers");
       later versions say ARES_EREFUSED. Either way it is a failure, never a name that does not exist. */
    int rc = resolve("refused.cio.test", AF_INET, a, 2);
    cr_assert(rc == CIO_EAI_REFUSED || rc == CIO_EAI_FAIL, "%s", cio_err_name(rc));
    rc = resolve("servfail.cio.test", AF_INET, a, 2);
    cr_assert_eq(rc, CIO_EAI_FAIL, "%s", cio_err_name(rc));
    return 0;
}

Test(dns, server_failures_map_to_their_eai_codes)
{
    run(rcodes);
}

Test(dns, c_ares_statuses_map_to_cio_codes)
{
    cr_assert_eq(cio__dns_error(ARES_SUCCESS), 0);
    cr_assert_eq(cio__dns_error(ARES_ENOTFOUND), CIO_EAI_NONAME);
    cr_assert_eq(cio__dns_error(ARES_ENODATA), CIO_EAI_NODATA);
    cr_assert_eq(cio__dns_error(ARES_ETIMEOUT), CIO_EAI_TIMEOUT);
    cr_assert_eq(cio__dns_error(ARES_EREFUSED), CIO_EAI_REFUSED);
    cr_assert_eq(cio__dns_error(ARES_EBADNAME), CIO_EAI_BADNAME);
    cr_assert_eq(cio__dns_error(ARES_EBADRESP), CIO_EAI_BADRESP);
    cr_assert_eq(cio__dns_error(ARES_ESERVFAIL), CIO_EAI_FAIL);
    cr_assert_eq(cio__dns_error(ARES_ECONNREFUSED), CIO_EAI_FAIL);
    cr_assert_eq(cio__dns_error(ARES_ENOMEM), -ENOMEM);
}

/* A lookup in a task of its own: `started` is set before it waits, `rc` is what cio_resolve returned. */
struct job {
    char name[64];
    int family;
    int64_t timeout;
    int started;
    int rc;
    cio_addr a[4];
};

static int resolve_job(void *arg)
{
    struct job *j = arg;
    j->started = 1;
    j->rc = cio_resolve(j->name, 80, j->a, 4, &(cio_resolve_opts){.family = j->family, .timeout = j->timeout});
    return j->rc;
}

static int many(struct env *e)
{
    enum { N = 16 };
    struct job jobs[N];
    cio_task *t[N];
    int st[N];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < N; i++) {
        char addr[32];
        snprintf(jobs[i].name, sizeof jobs[i].name, "host%d.cio.test", i);
        snprintf(addr, sizeof addr, "192.0.2.%d", 100 + i);
        tst_dns_add(e->dns, jobs[i].name, addr, 0);
    }
    for (int i = 0; i < N; i++)
        cr_assert_eq(cio_spawn(&t[i], resolve_job, &jobs[i], NULL), 0);
    cr_assert_eq(cio_gather(t, N, st, CIO_GATHER_ALL), 0);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "192.0.2.%d", 100 + i);
        cr_assert_eq(st[i], 1, "%s: %s", jobs[i].name, cio_err_name(st[i]));
        cr_assert_str_eq(text(&jobs[i].a[0]), want);
    }
    return 0;
}

Test(dns, concurrent_lookups_share_the_channel_and_each_gets_its_answer)
{
    run(many);
}

/* ------------------------------------------------------------------------------------------------ cache */

static int cache(struct env *e)
{
    tst_dns_add(e->dns, "cached.cio.test", "192.0.2.1", 300);
    tst_dns_add(e->dns, "fresh.cio.test", "192.0.2.2", 0);
    cio_addr a[2];
    cr_assert_eq(resolve("cached.cio.test", AF_INET, a, 2), 1);
    int q = tst_dns_queries(e->dns);
    cr_assert_gt(q, 0);
    cr_assert_eq(resolve("CACHED.cio.test", AF_INET, a, 2), 1);
    cr_assert_str_eq(text(&a[0]), "192.0.2.1");
    cr_assert_eq(port_of(&a[0]), 80);
    cr_assert_eq(tst_dns_queries(e->dns), q, "the second lookup is answered from the cache");
    cr_assert_eq(cio_resolve("cached.cio.test", 443, a, 2, &(cio_resolve_opts){.family = AF_INET}), 1);
    cr_assert_eq(port_of(&a[0]), 443, "the port is the caller's, not the cache's");
    cr_assert_eq(tst_dns_queries(e->dns), q);

    cr_assert_eq(resolve("fresh.cio.test", AF_INET, a, 2), 1);
    q = tst_dns_queries(e->dns);
    cr_assert_eq(resolve("fresh.cio.test", AF_INET, a, 2), 1);
    cr_assert_gt(tst_dns_queries(e->dns), q, "a TTL of 0 is not cached");
    return 0;
}

Test(dns, answers_are_cached_for_their_ttl_and_ttl_0_is_not_cached)
{
    run(cache);
}

struct kept {
    tst_dns *dns;
    int want_queries;
};

static int lookup_cached(void *arg)
{
    struct kept *k = arg;
    cio_addr a[2];
    cr_assert_eq(resolve("kept.cio.test", AF_INET, a, 2), 1);
    cr_assert_str_eq(text(&a[0]), "192.0.2.4");
    cr_assert_eq(resolve("kept.cio.test", AF_INET, a, 2), 1);
    cr_assert_eq(tst_dns_queries(k->dns), k->want_queries, "one query per loop: the second lookup is cached");
    return 0;
}

Test(dns, closing_a_loop_releases_its_resolver_and_cache)
{
    tst_dns *dns = tst_dns_open(false);
    tst_dns_add(dns, "kept.cio.test", "192.0.2.4", 300);
    tst_dns_use(dns);
    tst_install_allocator();
    for (int i = 0; i < 2; i++) {
        struct kept k = {dns, i + 1};
        cio_loop *l;
        cr_assert_eq(cio_loop_open(&l, NULL), 0);
        cr_assert_eq(cio_loop_run(l, lookup_cached, &k), 0);
        cr_assert_eq(cio_loop_close(l), 0);
        cr_assert_eq(tst_live_blocks(), 0, "the cache went with its loop");
    }
    tst_dns_close(dns);
}

/* ------------------------------------------------------------------------------------------ timeouts, cancellation */

static int silent(struct env *e)
{
    (void)e;
    int fds = tst_open_fds();
    cio_addr a[2];
    int rc = cio_resolve("quiet.cio.test", 80, a, 2, &(cio_resolve_opts){.timeout = CIO_MS(200)});
    cr_assert_eq(rc, CIO_EAI_TIMEOUT, "%s", cio_err_name(rc));
    cr_assert_eq(tst_open_fds(), fds, "the abandoned query's socket is closed at once");
    return 0;
}

Test(dns, a_server_that_never_answers_gives_eai_timeout_after_the_timeout)
{
    run_with(silent, tst_dns_open(true));
}

static int resolver_timeout(struct env *e)
{
    int fds = tst_open_fds();
    cio_addr a[2];
    int rc = cio_resolve("quiet.cio.test.", 80, a, 2, &(cio_resolve_opts){.family = AF_INET, .timeout = TK_FOREVER});
    cr_assert_eq(rc, CIO_EAI_TIMEOUT, "c-ares gave up after its one try: %s", cio_err_name(rc));
    cr_assert_eq(tst_dns_queries(e->dns), 1, "resolv.conf's attempts:1 was honoured");
    cr_assert_eq(tst_open_fds(), fds);
    return 0;
}

Test(dns, the_resolvers_own_timeout_from_resolv_conf_gives_eai_timeout, .timeout = 60)
{
    tst_dns *dns = tst_dns_open(true);
    tst_dns_use_options(dns, "timeout:1 attempts:1");
    struct env e = {.dns = dns, .body = resolver_timeout};
    tst_run(run_body, &e);
    tst_dns_close(dns);
}

/* Yield until the responder has counted `n` queries: it runs on its own thread. */
static void wait_queries(tst_dns *d, int n)
{
    for (long i = 0; tst_dns_queries(d) < n; i++) {
        cr_assert_lt(i, 10000000, "the server never saw the query");
        cr_assert_eq(cio_yield(), 0);
    }
}

static int cancel_one(struct env *e)
{
    tst_dns_rcode(e->dns, "slow.cio.test", TST_DNS_DROP);
    tst_dns_add(e->dns, "after.cio.test", "192.0.2.9", 0);
    int fds = tst_open_fds();
    struct job j = {.name = "slow.cio.test", .family = AF_INET, .timeout = TK_FOREVER};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, resolve_job, &j, NULL), 0);
    cr_assert_eq(tk_yield_until(&j.started), 0);
    wait_queries(e->dns, 1);
    cr_assert_gt(tst_open_fds(), fds, "the query's socket is open");
    cr_assert_eq(cio_cancel(t, "test"), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    cr_assert_eq(j.rc, -ECANCELED);
    cr_assert_eq(tst_open_fds(), fds, "cancelling closed the query's socket");
    cio_addr a[2];
    cr_assert_eq(resolve("after.cio.test", AF_INET, a, 2), 1, "the resolver works on");
    return 0;
}

Test(dns, a_cancelled_lookup_returns_ecanceled_and_leaves_nothing_behind)
{
    run(cancel_one);
}

static int cancel_beside(struct env *e)
{
    tst_dns_rcode(e->dns, "slow.cio.test", TST_DNS_DROP);
    tst_dns_add(e->dns, "quick.cio.test", "192.0.2.8", 0);
    int fds = tst_open_fds();
    struct job slow = {.name = "slow.cio.test", .family = AF_INET, .timeout = TK_FOREVER};
    struct job quick = {.name = "quick.cio.test", .family = AF_INET, .timeout = TK_FOREVER};
    cio_task *ts, *tq;
    cr_assert_eq(cio_spawn(&ts, resolve_job, &slow, NULL), 0);
    cr_assert_eq(tk_yield_until(&slow.started), 0);
    cr_assert_eq(cio_cancel(ts, "test"), 0);
    cr_assert_eq(cio_spawn(&tq, resolve_job, &quick, NULL), 0);
    cr_assert_eq(cio_join(ts), -ECANCELED);
    cr_assert_eq(cio_join(tq), 1, "%s", cio_err_name(quick.rc));
    cr_assert_str_eq(text(&quick.a[0]), "192.0.2.8");
    cr_assert_eq(tst_open_fds(), fds, "the orphaned query ended with the last lookup");
    return 0;
}

Test(dns, cancelling_one_lookup_leaves_the_others_running)
{
    run(cancel_beside);
}

static int deadline(struct env *e)
{
    tst_dns_rcode(e->dns, "slow.cio.test", TST_DNS_DROP);
    int fds = tst_open_fds();
    cio_scope s;
    cio_addr a[2];
    cr_assert_eq(cio_timeout_begin(&s, CIO_MS(50)), 0);
    int rc = cio_resolve("slow.cio.test", 80, a, 2, &(cio_resolve_opts){.timeout = TK_FOREVER});
    cr_assert_eq(rc, -ETIMEDOUT, "the caller's deadline, not the resolver's: %s", cio_err_name(rc));
    cr_assert_eq(cio_scope_end(&s), -ETIMEDOUT);
    cr_assert_eq(tst_open_fds(), fds);
    return 0;
}

Test(dns, the_callers_deadline_ends_a_lookup_with_etimedout)
{
    run(deadline);
}

static int already_cancelled(struct env *e)
{
    cio_scope s;
    cio_addr a[2];
    cr_assert_eq(cio_timeout_begin(&s, CIO_INFINITE), 0);
    cr_assert_eq(cio_scope_cancel(&s), 0);
    cr_assert_eq(resolve("www.cio.test", AF_UNSPEC, a, 2), -ECANCELED);
    cr_assert_eq(cio_scope_end(&s), -ECANCELED);
    cr_assert_eq(tst_dns_queries(e->dns), 0, "nothing was sent");
    return 0;
}

Test(dns, a_lookup_in_a_cancelled_scope_returns_at_once)
{
    run(already_cancelled);
}

/* ------------------------------------------------------------------------------------------------ allocation */

static long fail_at;
/* Set once a run made fewer allocations than fail_at: every one has been failed in turn. */
static bool exhausted;

static int alloc_body(struct env *e)
{
    tst_dns_add(e->dns, "mem.cio.test", "192.0.2.3", 300);
    cio_addr a[2];
    tst_fail_alloc_at(fail_at);
    int rc = resolve("mem.cio.test", AF_INET, a, 2);
    long used = tst_alloc_count();
    tst_fail_alloc_at(0);
    cr_assert(rc == 1 || rc == -ENOMEM, "allocation %ld failed: %s", fail_at, cio_err_name(rc));
    if (rc == 1 && used < fail_at)
        exhausted = true;
    return 0;
}

Test(dns, a_lookup_fails_cleanly_at_each_allocation)
{
    for (fail_at = 1; !exhausted; fail_at++) {
        cr_assert_lt(fail_at, 200, "a lookup should not need this many allocations");
        run(alloc_body);
    }
}
