/* router.c: applications, their middleware, and the route tree: one node per path segment, literal children in a
 * sorted array (binary search), then variable segments in order of registration, then a tail; a lookup walks one
 * path down the tree, so its cost follows the path's depth, not the number of routes. */
#include "web/web.h"

#include <errno.h>
#include <string.h>

#define DEFAULT_CLIENT_MAX_SIZE ((uint64_t)1 << 20)

/* ------------------------------------------------------------------------------------------------ apps */

int cio_web_app_open(cio_web_app **out, const cio_web_app_opts *opts)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    struct cio_web_app *app = cio__calloc(1, sizeof(*app));
    if (!app)
        return -ENOMEM;
    if (opts)
        app->opts = *opts;
    if (!app->opts.client_max_size)
        app->opts.client_max_size = DEFAULT_CLIENT_MAX_SIZE;
    *out = app;
    return 0;
}

static void free_routes(struct web_route *r)
{
    while (r) {
        struct web_route *next = r->next;
        cio__free(r);
        r = next;
    }
}

static void free_node(struct web_node *n)
{
    for (size_t i = 0; i < n->nlits; i++) {
        free_node(n->lits[i].child);
        cio__free(n->lits[i].child);
        cio__free(n->lits[i].seg);
    }
    cio__free(n->lits);
    for (size_t i = 0; i < n->nvars; i++) {
        struct web_var *v = &n->vars[i];
        free_node(v->child);
        cio__free(v->child);
        cio__free(v->name);
        cio__free(v->prefix);
        cio__free(v->suffix);
        if (v->has_re)
            regfree(&v->re);
    }
    cio__free(n->vars);
    cio__free(n->tail_name);
    free_routes(n->tail_routes);
    free_routes(n->routes);
    if (n->sub)
        cio_web_app_close(n->sub);
}

void cio_web_app_close(cio_web_app *app)
{
    if (!app)
        return;
    free_node(&app->root);
    for (size_t i = 0; i < app->nowned; i++)
        app->owned[i].free(app->owned[i].p);
    cio__free(app->owned);
    cio__free(app->mws);
    for (int k = 0; k < HOOK_KINDS; k++)
        cio__free(app->hooks[k]);
    cio__free(app->tree);
    cio__free(app);
}

int cio__web_app_own(struct cio_web_app *app, void *p, void (*fn)(void *))
{
    struct web_owned *o = cio__realloc(app->owned, (app->nowned + 1) * sizeof *o);
    if (!o)
        return -ENOMEM;
    app->owned = o;
    o[app->nowned++] = (struct web_owned){p, fn};
    return 0;
}

/* Freeze `app` and what is mounted below it; count (tree NULL) or list them into tree[*n...]. */
static void freeze_into(struct cio_web_app *app, struct cio_web_app **tree, size_t *n);

static void freeze_node(struct web_node *n, struct cio_web_app **tree, size_t *count)
{
    for (size_t i = 0; i < n->nlits; i++)
        freeze_node(n->lits[i].child, tree, count);
    for (size_t i = 0; i < n->nvars; i++)
        freeze_node(n->vars[i].child, tree, count);
    if (n->sub)
        freeze_into(n->sub, tree, count);
}

static void freeze_into(struct cio_web_app *app, struct cio_web_app **tree, size_t *n)
{
    app->frozen = true;
    if (tree)
        tree[*n] = app;
    ++*n;
    freeze_node(&app->root, tree, n);
}

int cio__web_app_freeze(struct cio_web_app *app)
{
    if (app->tree)
        return 0;
    size_t n = 0;
    freeze_into(app, NULL, &n);
    struct cio_web_app **tree = cio__calloc(n, sizeof(*tree));
    if (!tree)
        return -ENOMEM;
    app->ntree = 0;
    freeze_into(app, tree, &app->ntree);
    app->tree = tree;
    return 0;
}

static int add_hook(cio_web_app *app, int kind, cio_web_hook fn, void *arg)
{
    if (!app || !fn)
        return -EINVAL;
    if (app->frozen)
        return CIO_EWEB_FROZEN;
    struct web_hook *h = cio__realloc(app->hooks[kind], (app->nhooks[kind] + 1) * sizeof(*h));
    if (!h)
        return -ENOMEM;
    h[app->nhooks[kind]++] = (struct web_hook){fn, arg};
    app->hooks[kind] = h;
    return 0;
}

int cio_web_on_startup(cio_web_app *app, cio_web_hook fn, void *arg)
{
    return add_hook(app, HOOK_STARTUP, fn, arg);
}

int cio_web_on_shutdown(cio_web_app *app, cio_web_hook fn, void *arg)
{
    return add_hook(app, HOOK_SHUTDOWN, fn, arg);
}

int cio_web_on_cleanup(cio_web_app *app, cio_web_hook fn, void *arg)
{
    return add_hook(app, HOOK_CLEANUP, fn, arg);
}

int cio__web_run_hooks(struct cio_web_app *app, int kind, struct cio_web_server *srv, bool stop_at_error)
{
    int first = 0;
    for (size_t a = 0; a < app->ntree; a++) {
        const struct cio_web_app *sub = app->tree[a];
        for (size_t i = 0; i < sub->nhooks[kind]; i++) {
            int rc = sub->hooks[kind][i].fn(srv, sub->hooks[kind][i].arg);
            if (rc < 0 && !first)
                first = rc;
            if (rc < 0 && stop_at_error)
                return rc;
        }
    }
    return first;
}

int cio_web_use(cio_web_app *app, cio_web_middleware fn, void *arg)
{
    if (!app || !fn)
        return -EINVAL;
    if (app->frozen)
        return CIO_EWEB_FROZEN;
    if (app->nmws == app->capmws) {
        size_t cap = app->capmws ? app->capmws * 2 : 4;
        struct web_mw *m = cio__realloc(app->mws, cap * sizeof(*m));
        if (!m)
            return -ENOMEM;
        app->mws = m;
        app->capmws = cap;
    }
    app->mws[app->nmws++] = (struct web_mw){fn, arg};
    return 0;
}

/* ------------------------------------------------------------------------------------------------ patterns */

/* One segment of a pattern, parsed. */
struct seg {
    const char *p;
    size_t len;
    bool var;
    const char *prefix, *name, *spec, *suffix;
    size_t plen, nlen, slen, sfxlen;
    int kind;
    bool tail;
};

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int parse_seg(struct seg *g, const char *p, size_t len, bool last)
{
    memset(g, 0, sizeof(*g));
    g->p = p;
    g->len = len;
    const char *open = memchr(p, '{', len);
    if (!open) {
        if (memchr(p, '}', len))
            return CIO_EWEB_BAD_PATTERN;
        return 0;
    }
    g->var = true;
    g->prefix = p;
    g->plen = (size_t)(open - p);
    if (memchr(p, '}', g->plen))
        return CIO_EWEB_BAD_PATTERN;
    const char *q = open + 1, *end = p + len;
    g->name = q;
    while (q < end && name_char(*q))
        q++;
    g->nlen = (size_t)(q - g->name);
    if (!g->nlen || q == end)
        return CIO_EWEB_BAD_PATTERN;
    if (*q == ':') {
        g->spec = ++q;
        int depth = 0;
        while (q < end && (depth > 0 || *q != '}')) {
            if (*q == '\\' && q + 1 < end) {
                q += 2;
                continue;
            }
            if (*q == '{')
                depth++;
            else if (*q == '}')
                depth--;
            q++;
        }
        g->slen = (size_t)(q - g->spec);
        if (q == end || !g->slen)
            return CIO_EWEB_BAD_PATTERN;
    } else if (*q != '}') {
        return CIO_EWEB_BAD_PATTERN;
    }
    q++; /* the closing brace */
    g->suffix = q;
    g->sfxlen = (size_t)(end - q);
    if (memchr(g->suffix, '{', g->sfxlen) || memchr(g->suffix, '}', g->sfxlen))
        return CIO_EWEB_BAD_PATTERN;
    g->kind = VAR_ANY;
    if (g->spec) {
        if ((g->slen == 2 && (!memcmp(g->spec, ".*", 2) || !memcmp(g->spec, ".+", 2))) ||
            (g->slen == 4 && !memcmp(g->spec, "path", 4))) {
            if (!last || g->plen || g->sfxlen)
                return CIO_EWEB_BAD_PATTERN; /* a tail is a whole last segment */
            g->tail = true;
        } else if (g->slen == 3 && !memcmp(g->spec, "int", 3)) {
            g->kind = VAR_INT;
        } else {
            g->kind = VAR_REGEX;
        }
    }
    return 0;
}

static char *dupn(const char *s, size_t n)
{
    char *d = cio__malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static int lit_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

/* The index of the literal child `seg` of `n`, or where it would go (*found false). */
static size_t lit_find(const struct web_node *n, const char *seg, size_t len, bool *found)
{
    size_t lo = 0, hi = n->nlits;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = lit_cmp(n->lits[mid].seg, n->lits[mid].len, seg, len);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static int child_lit(struct web_node *n, const char *seg, size_t len, struct web_node **out)
{
    bool found;
    size_t i = lit_find(n, seg, len, &found);
    if (found) {
        *out = n->lits[i].child;
        return 0;
    }
    if (n->nlits == n->caplits) {
        size_t cap = n->caplits ? n->caplits * 2 : 4;
        struct web_lit *l = cio__realloc(n->lits, cap * sizeof(*l));
        if (!l)
            return -ENOMEM;
        n->lits = l;
        n->caplits = cap;
    }
    struct web_node *child = cio__calloc(1, sizeof(*child));
    char *copy = dupn(seg, len);
    if (!child || !copy) {
        cio__free(child);
        cio__free(copy);
        return -ENOMEM;
    }
    memmove(&n->lits[i + 1], &n->lits[i], (n->nlits - i) * sizeof(n->lits[0]));
    n->lits[i] = (struct web_lit){copy, len, child};
    n->nlits++;
    *out = child;
    return 0;
}

static bool same_str(const char *a, const char *b, size_t blen)
{
    return strlen(a) == blen && !memcmp(a, b, blen);
}

static int child_var(struct web_node *n, const struct seg *g, struct web_node **out)
{
    for (size_t i = 0; i < n->nvars; i++) {
        struct web_var *v = &n->vars[i];
        if (same_str(v->name, g->name, g->nlen) && v->plen == g->plen && !memcmp(v->prefix, g->prefix, g->plen) &&
            v->slen == g->sfxlen && !memcmp(v->suffix, g->suffix, g->sfxlen) && v->kind == g->kind &&
            v->kind != VAR_REGEX) {
            *out = v->child;
            return 0;
        }
    }
    struct web_var v = {.kind = g->kind, .plen = g->plen, .slen = g->sfxlen};
    if (g->kind == VAR_REGEX) {
        char *re = cio__malloc(g->slen + 5);
        if (!re)
            return -ENOMEM;
        memcpy(re, "^(", 2);
        memcpy(re + 2, g->spec, g->slen);
        memcpy(re + 2 + g->slen, ")$", 3);
        int rc = regcomp(&v.re, re, REG_EXTENDED | REG_NOSUB);
        cio__free(re);
        if (rc != 0)
            return CIO_EWEB_BAD_PATTERN;
        v.has_re = true;
    }
    v.name = dupn(g->name, g->nlen);
    v.prefix = dupn(g->prefix, g->plen);
    v.suffix = dupn(g->suffix, g->sfxlen);
    v.child = cio__calloc(1, sizeof(*v.child));
    struct web_var *vars = cio__realloc(n->vars, (n->nvars + 1) * sizeof(*vars));
    if (!v.name || !v.prefix || !v.suffix || !v.child || !vars) {
        if (vars)
            n->vars = vars;
        cio__free(v.name);
        cio__free(v.prefix);
        cio__free(v.suffix);
        cio__free(v.child);
        if (v.has_re)
            regfree(&v.re);
        return -ENOMEM;
    }
    n->vars = vars;
    n->vars[n->nvars++] = v;
    *out = v.child;
    return 0;
}

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!cio_http_is_tchar((unsigned char)*s))
            return false;
    return true;
}

static int add_route(struct web_route **list, const char *method, cio_web_handler fn, void *arg)
{
    for (struct web_route *r = *list; r; r = r->next)
        if (!strcmp(r->method, method))
            return CIO_EWEB_ROUTE_EXISTS;
    struct web_route *r = cio__calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    strcpy(r->method, method);
    r->fn = fn;
    r->arg = arg;
    /* Keep registration order: Allow lists methods as they were added. */
    struct web_route **tail = list;
    while (*tail)
        tail = &(*tail)->next;
    *tail = r;
    return 0;
}

/* Walk (creating) the nodes of `pattern`; `*tail_seg` is set when it ends in a tail variable. */
static int walk_pattern(struct web_node *root, const char *pattern, bool literal_only, struct web_node **out,
                        struct seg *tail_seg)
{
    struct web_node *n = root;
    const char *p = pattern + 1, *end = pattern + strlen(pattern);
    if (p == end) {
        *out = n;
        return 0;
    }
    for (;;) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        const char *se = slash ? slash : end;
        struct seg g;
        int rc = parse_seg(&g, p, (size_t)(se - p), !slash);
        if (rc < 0)
            return rc;
        if (g.var && literal_only)
            return CIO_EWEB_BAD_PATTERN;
        if (g.tail) {
            *tail_seg = g;
            *out = n;
            return 1;
        }
        rc = g.var ? child_var(n, &g, &n) : child_lit(n, g.p, g.len, &n);
        if (rc < 0)
            return rc;
        if (!slash)
            break;
        p = slash + 1;
    }
    *out = n;
    return 0;
}

int cio_web_route(cio_web_app *app, const char *method, const char *pattern, cio_web_handler fn, void *arg)
{
    if (!app || !method || !pattern || !fn || pattern[0] != '/')
        return -EINVAL;
    if (strcmp(method, "*") != 0 && (!is_token(method) || strlen(method) >= WEB_MAX_METHOD))
        return -EINVAL;
    if (app->frozen)
        return CIO_EWEB_FROZEN;
    struct web_node *n;
    struct seg tail;
    int rc = walk_pattern(&app->root, pattern, false, &n, &tail);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        if (n->tail_name && !same_str(n->tail_name, tail.name, tail.nlen))
            return CIO_EWEB_ROUTE_EXISTS; /* one tail per node: two names could not both be filled */
        if (!n->tail_name && !(n->tail_name = dupn(tail.name, tail.nlen)))
            return -ENOMEM;
        return add_route(&n->tail_routes, method, fn, arg);
    }
    return add_route(&n->routes, method, fn, arg);
}

int cio_web_get(cio_web_app *app, const char *pattern, cio_web_handler fn, void *arg)
{
    return cio_web_route(app, "GET", pattern, fn, arg);
}

int cio_web_post(cio_web_app *app, const char *pattern, cio_web_handler fn, void *arg)
{
    return cio_web_route(app, "POST", pattern, fn, arg);
}

int cio_web_put(cio_web_app *app, const char *pattern, cio_web_handler fn, void *arg)
{
    return cio_web_route(app, "PUT", pattern, fn, arg);
}

int cio_web_delete(cio_web_app *app, const char *pattern, cio_web_handler fn, void *arg)
{
    return cio_web_route(app, "DELETE", pattern, fn, arg);
}

int cio_web_add_subapp(cio_web_app *app, const char *prefix, cio_web_app *sub)
{
    if (!app || !prefix || !sub || prefix[0] != '/' || sub == app)
        return -EINVAL;
    size_t len = strlen(prefix);
    if (len < 2 || prefix[len - 1] == '/')
        return CIO_EWEB_BAD_PATTERN;
    if (app->frozen || sub->frozen)
        return CIO_EWEB_FROZEN;
    if (sub->parent)
        return CIO_EWEB_ROUTE_EXISTS;
    int depth = 0;
    for (struct cio_web_app *a = app; a; a = a->parent)
        depth++;
    if (depth + 1 > WEB_MAX_DEPTH)
        return -EINVAL;
    struct web_node *n;
    struct seg unused;
    int rc = walk_pattern(&app->root, prefix, true, &n, &unused);
    if (rc < 0)
        return rc;
    if (n->sub)
        return CIO_EWEB_ROUTE_EXISTS;
    n->sub = sub;
    sub->parent = app;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ lookup */

static bool all_digits(const char *p, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static bool var_matches(const struct web_var *v, const char *seg, size_t len, size_t *voff, size_t *vlen)
{
    if (len < v->plen + v->slen + 1)
        return false; /* a variable part is never empty */
    if (memcmp(seg, v->prefix, v->plen) || memcmp(seg + len - v->slen, v->suffix, v->slen))
        return false;
    const char *p = seg + v->plen;
    size_t n = len - v->plen - v->slen;
    switch (v->kind) {
    case VAR_INT:
        if (!all_digits(p, n))
            return false;
        break;
    case VAR_REGEX: {
        regmatch_t pm[1] = {{.rm_so = 0, .rm_eo = (regoff_t)n}};
        if (regexec(&v->re, p, 1, pm, REG_STARTEND) != 0)
            return false;
        break;
    }
    default:
        break;
    }
    *voff = v->plen;
    *vlen = n;
    return true;
}

static bool match_node(struct web_node *n, const char *base, const char *r, const char *end, bool has_seg,
                       struct web_match *m);

/* At an app's root: `r` is what follows a "/", and an empty rest is the root itself. */
static bool match_app(struct cio_web_app *app, const char *base, const char *r, const char *end, struct web_match *m)
{
    if (m->napps >= WEB_MAX_DEPTH)
        return false;
    m->apps[m->napps++] = app;
    if (match_node(&app->root, base, r, end, r < end, m))
        return true;
    m->napps--;
    return false;
}

static bool match_node(struct web_node *n, const char *base, const char *r, const char *end, bool has_seg,
                       struct web_match *m)
{
    if (!has_seg) {
        if (n->routes) {
            m->routes = n->routes;
            return true;
        }
    } else {
        if (n->sub && match_app(n->sub, base, r, end, m))
            return true;
        const char *slash = memchr(r, '/', (size_t)(end - r));
        const char *se = slash ? slash : end;
        size_t len = (size_t)(se - r);
        const char *next = slash ? slash + 1 : end;
        bool more = slash != NULL;
        bool found;
        size_t i = lit_find(n, r, len, &found);
        if (found && match_node(n->lits[i].child, base, next, end, more, m))
            return true;
        size_t saved = m->ncaps;
        for (i = 0; i < n->nvars && saved < WEB_MAX_VARS; i++) {
            size_t voff, vlen;
            if (!var_matches(&n->vars[i], r, len, &voff, &vlen))
                continue;
            m->caps[saved] = (struct web_capture){n->vars[i].name, (size_t)(r - base) + voff, vlen};
            m->ncaps = saved + 1;
            if (match_node(n->vars[i].child, base, next, end, more, m))
                return true;
            m->ncaps = saved;
        }
    }
    if (n->tail_routes && m->ncaps < WEB_MAX_VARS) {
        size_t off = has_seg ? (size_t)(r - base) : (size_t)(end - base);
        m->caps[m->ncaps++] = (struct web_capture){n->tail_name, off, has_seg ? (size_t)(end - r) : 0};
        m->routes = n->tail_routes;
        return true;
    }
    return false;
}

bool cio__web_lookup(struct cio_web_app *app, const char *path, size_t len, struct web_match *m)
{
    m->routes = NULL;
    m->napps = 0;
    m->ncaps = 0;
    if (!len || path[0] != '/')
        return false;
    return match_app(app, path, path + 1, path + len, m);
}

struct web_route *cio__web_route_for(struct web_route *routes, const char *method, size_t mlen)
{
    struct web_route *any = NULL, *get = NULL;
    bool head = mlen == 4 && !memcmp(method, "HEAD", 4);
    for (struct web_route *r = routes; r; r = r->next) {
        if (strlen(r->method) == mlen && !memcmp(r->method, method, mlen))
            return r;
        if (r->method[0] == '*' && !r->method[1])
            any = r;
        else if (head && !strcmp(r->method, "GET"))
            get = r;
    }
    return get ? get : any;
}

static size_t append(char *buf, size_t cap, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (at + n + 3 > cap)
        return at;
    if (at) {
        memcpy(buf + at, ", ", 2);
        at += 2;
    }
    memcpy(buf + at, s, n);
    buf[at + n] = 0;
    return at + n;
}

size_t cio__web_allow(struct web_route *routes, char *buf, size_t cap)
{
    size_t at = 0;
    bool head = false, options = false;
    buf[0] = 0;
    for (struct web_route *r = routes; r; r = r->next) {
        head |= !strcmp(r->method, "HEAD");
        options |= !strcmp(r->method, "OPTIONS");
    }
    /* In the order of registration, with the HEAD that GET implies right after it. */
    for (struct web_route *r = routes; r; r = r->next) {
        at = append(buf, cap, at, r->method);
        if (!head && !strcmp(r->method, "GET"))
            at = append(buf, cap, at, "HEAD");
    }
    if (!options)
        at = append(buf, cap, at, "OPTIONS");
    return at;
}
