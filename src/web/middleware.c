/* middleware.c: the ready-made middleware: an access log in the common and combined formats, CORS, and error
 * pages inside the chain. */
#include "web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/runtime.h"

/* ------------------------------------------------------------------------------------------------ errors */

int cio_web_error_pages(cio_web_request *req, cio_web_response *res, void *opts)
{
    (void)opts;
    int rc = cio_web_next(req, res);
    if (rc >= 0 || res->started || (rc == -ECANCELED && cio_task_cancelled(cio_current())))
        return rc;
    return cio__web_answer_error(req, res, rc);
}

/* ------------------------------------------------------------------------------------------------ access log */

/* A quoted log field: printable ASCII as it is, '"' and '\\' escaped, anything else as \xHH (so a client cannot
   forge log lines). */
static size_t quoted(char *o, size_t cap, const char *s)
{
    size_t n = 0;
    if (!s)
        s = "-";
    for (; *s && n + 5 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            o[n++] = '\\';
            o[n++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            o[n++] = (char)c;
        } else {
            n += (size_t)snprintf(o + n, cap - n, "\\x%02x", c);
        }
    }
    return n;
}

int cio_web_access_log(cio_web_request *req, cio_web_response *res, void *arg)
{
    const cio_web_access_log_opts *o = arg;
    int rc = cio_web_next(req, res);
    if (rc < 0 && !res->started && !(rc == -ECANCELED && cio_task_cancelled(cio_current())))
        rc = cio__web_answer_error(req, res, rc); /* log what the client gets */
    char host[INET6_ADDRSTRLEN] = "-";
    cio_addr a;
    if (cio_web_remote(req, &a) == 0) {
        if (a.u.sa.sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)&a.u.ss)->sin_addr, host, sizeof host);
        else if (a.u.sa.sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&a.u.ss)->sin6_addr, host, sizeof host);
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    uint64_t bytes = res->started ? res->out.count : res->no_body || req->head_method ? 0 : res->body_len;
    char line[2048];
    char rl[768];
    size_t rn = quoted(rl, sizeof rl, req->method);
    rl[rn++] = ' ';
    rn += quoted(rl + rn, sizeof rl - rn, req->target);
    rn += (size_t)snprintf(rl + rn, sizeof rl - rn, " HTTP/1.%d", req->head->minor_version);
    int n = snprintf(line, sizeof line, "%s - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"%.*s\" %d %llu", host, tm.tm_mday,
                     months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rn, rl, res->status,
                     (unsigned long long)bytes);
    size_t len = n > 0 ? (size_t)n : 0;
    if (len >= sizeof line)
        len = sizeof line - 1;
    if (o && o->format == CIO_WEB_LOG_COMBINED && len + 16 < sizeof line) {
        char ref[512], ua[512];
        size_t refn = quoted(ref, sizeof ref, cio_web_header(req, "Referer"));
        size_t uan = quoted(ua, sizeof ua, cio_web_header(req, "User-Agent"));
        n = snprintf(line + len, sizeof line - len, " \"%.*s\" \"%.*s\"", (int)refn, ref, (int)uan, ua);
        len += n > 0 ? (size_t)n : 0;
        if (len >= sizeof line)
            len = sizeof line - 1;
    }
    line[len] = 0;
    if (o && o->write)
        o->write(o->arg, line, len);
    else
        cio__log(cio_loop_current(), "%s", line);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ CORS */

static bool origin_allowed(const cio_web_cors_opts *o, const char *origin)
{
    if (!o->origins)
        return true;
    for (const char *const *p = o->origins; *p; p++)
        if (!strcmp(*p, origin))
            return true;
    return false;
}

int cio_web_cors(cio_web_request *req, cio_web_response *res, void *arg)
{
    static const cio_web_cors_opts defaults = {0};
    const cio_web_cors_opts *o = arg ? arg : &defaults;
    const char *origin = cio_web_header(req, "Origin");
    if (!origin || !origin_allowed(o, origin))
        return cio_web_next(req, res);
    /* "*" is only for a public resource without credentials; else the origin itself, and caches must key on it. */
    bool star = !o->origins && !o->allow_credentials;
    int rc;
    const char *want = cio_web_header(req, "Access-Control-Request-Method");
    bool preflight = !strcmp(req->method, "OPTIONS") && want;
    /* Set before the rest of the chain runs, so that a response it streams (a static file, a prepared body)
       carries them too. */
    if ((rc = cio_web_set_header(res, "Access-Control-Allow-Origin", star ? "*" : origin)) < 0)
        return rc;
    if (!star && (rc = cio_web_add_header(res, "Vary", "Origin")) < 0)
        return rc;
    if (o->allow_credentials && (rc = cio_web_set_header(res, "Access-Control-Allow-Credentials", "true")) < 0)
        return rc;
    if (!preflight) {
        if (o->expose_headers && (rc = cio_web_set_header(res, "Access-Control-Expose-Headers", o->expose_headers)) < 0)
            return rc;
        return cio_web_next(req, res);
    }
    const char *hdrs = cio_web_header(req, "Access-Control-Request-Headers");
    if ((rc = cio_web_respond(res, 204, NULL, NULL, 0)) < 0 ||
        (rc = cio_web_set_header(res, "Access-Control-Allow-Methods", o->allow_methods ? o->allow_methods : want)) < 0)
        return rc;
    if ((o->allow_headers || (hdrs && *hdrs)) &&
        (rc = cio_web_set_header(res, "Access-Control-Allow-Headers", o->allow_headers ? o->allow_headers : hdrs)) < 0)
        return rc;
    if (o->max_age > 0) {
        char age[16];
        snprintf(age, sizeof age, "%d", o->max_age);
        if ((rc = cio_web_set_header(res, "Access-Control-Max-Age", age)) < 0)
            return rc;
    }
    return 0;
}
