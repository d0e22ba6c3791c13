/* context.c: task-local context (contextvars): keys, copy-on-write maps of shared values, set and get. */
#include "core/runtime.h"

#include <stdatomic.h>
#include <string.h>

#define CIO__KEY_MAGIC 0x63766172u /* "cvar" */

struct cio_context_key {
    uint32_t magic;
    /* The owner's reference (until cio_context_key_free) and one per value alive: boxes live on any loop's
       thread, so this one count is atomic. */
    atomic_size_t refs;
    void (*destroy)(void *value);
};

/* A value and the number of maps holding it (all on one loop's thread). */
struct cio__cvbox {
    size_t refs;
    cio_context_key *key;
    void *value;
};

/* A map grows by doubling from this many values. */
#define MAP_MIN 4u

static void key_unref(cio_context_key *k)
{
    if (atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1)
        cio__free(k);
}

static void box_release(struct cio__cvbox *b)
{
    if (--b->refs)
        return;
    cio_context_key *k = b->key;
    void *value = b->value;
    cio__free(b);
    if (k->destroy)
        k->destroy(value);
    key_unref(k);
}

void cio__cvmap_release(struct cio__cvmap *m)
{
    if (!m || --m->refs)
        return;
    for (uint32_t i = 0; i < m->n; i++)
        box_release(m->v[i]);
    cio__free(m);
}

static struct cio__cvmap *map_alloc(uint32_t cap)
{
    struct cio__cvmap *m = cio__malloc(sizeof *m + (size_t)cap * sizeof m->v[0]);
    if (m) {
        m->refs = 1;
        m->n = 0;
        m->cap = cap;
    }
    return m;
}

/* The index of `k` in `m`, or m->n. */
static uint32_t map_find(const struct cio__cvmap *m, const cio_context_key *k)
{
    uint32_t i = 0;
    while (i < m->n && m->v[i]->key != k)
        i++;
    return i;
}

int cio_context_key_new(cio_context_key **out, void (*destroy)(void *value))
{
    if (!out)
        return -EINVAL;
    cio_context_key *k = cio__malloc(sizeof *k);
    if (!k)
        return -ENOMEM;
    k->magic = CIO__KEY_MAGIC;
    atomic_init(&k->refs, 1);
    k->destroy = destroy;
    *out = k;
    return 0;
}

void cio_context_key_free(cio_context_key *k)
{
    if (!k || k->magic != CIO__KEY_MAGIC)
        return;
    k->magic = CIO__DEAD_MAGIC;
    key_unref(k);
}

/* Where the current context lives: the running task's, or the running callback's. */
static int current_slot(struct cio__cvmap ***out)
{
    cio_loop *l = cio__tls_loop;
    if (!l)
        return CIO_ENOLOOP;
    if (l->current)
        *out = &l->current->cvars;
    else if (l->cb_cvars)
        *out = l->cb_cvars;
    else
        return CIO_ENOTASK;
    return 0;
}

/*
 * A map that `*slot` alone holds, with room for `want` values: `m` itself when it is already so, else a copy
 * (a shared map is never changed) or a larger one. NULL without memory, nothing changed.
 */
static struct cio__cvmap *map_writable(struct cio__cvmap **slot, uint32_t want)
{
    struct cio__cvmap *m = *slot;
    if (m && m->refs == 1) {
        if (want <= m->cap)
            return m;
        uint32_t cap = m->cap * 2;
        struct cio__cvmap *g = cio__realloc(m, sizeof *m + (size_t)cap * sizeof m->v[0]);
        if (!g)
            return NULL;
        g->cap = cap;
        *slot = g;
        return g;
    }
    uint32_t cap = MAP_MIN;
    while (cap < want)
        cap *= 2;
    struct cio__cvmap *c = map_alloc(cap);
    if (!c)
        return NULL;
    if (m) {
        for (uint32_t i = 0; i < m->n; i++) {
            c->v[i] = m->v[i];
            c->v[i]->refs++;
        }
        c->n = m->n;
        m->refs--; /* it was shared: the other holders keep it */
    }
    *slot = c;
    return c;
}

int cio_context_set(cio_context_key *k, void *value)
{
    if (!k)
        return -EINVAL;
    if (k->magic != CIO__KEY_MAGIC)
        return CIO_EBADHANDLE;
    struct cio__cvmap **slot;
    int rc = current_slot(&slot);
    if (rc < 0)
        return rc;
    struct cio__cvmap *m = *slot;
    uint32_t i = m ? map_find(m, k) : 0;
    bool found = m && i < m->n;
    if (found && m->v[i]->value == value)
        return 0; /* destroying it would leave the context holding freed memory */
    if (!value) {
        if (!found)
            return 0;
        if (m->n == 1) { /* the last value: the context becomes empty again */
            *slot = NULL;
            cio__cvmap_release(m);
            return 0;
        }
    }
    struct cio__cvbox *b = NULL;
    if (value) {
        b = cio__malloc(sizeof *b);
        if (!b)
            return -ENOMEM;
        b->refs = 1;
        b->key = k;
        b->value = value;
    }
    struct cio__cvmap *w = map_writable(slot, (m ? m->n : 0) + (found ? 0 : 1));
    if (!w) {
        cio__free(b);
        return -ENOMEM;
    }
    if (b)
        atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed);
    if (!found) {
        w->v[w->n++] = b;
        return 0;
    }
    /* The map is changed before the old value goes, so its destroy sees a consistent context. */
    struct cio__cvbox *old = w->v[i];
    if (b)
        w->v[i] = b;
    else
        w->v[i] = w->v[--w->n];
    box_release(old);
    return 0;
}

void *cio_context_get(cio_context_key *k)
{
    cio_loop *l = cio__tls_loop;
    if (!k || !l)
        return NULL;
    struct cio__cvmap *m = cio__cvmap_current(l);
    if (!m)
        return NULL;
    uint32_t i = map_find(m, k);
    return i < m->n ? m->v[i]->value : NULL;
}
