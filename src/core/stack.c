/* stack.c: task stacks: mapped in chunks, a guard page under each, pooled so spawning makes no system call. */
#include "core/runtime.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef CIO_VALGRIND
#include <valgrind/valgrind.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

/*
 * Slot layout, low to high: a guard page, the stack, and the task's own struct at the very top, so that an idle
 * task touches one page for both. Slots are carved from chunks of up to 8 MiB: one mmap serves many tasks and
 * neighbouring chunks merge into one kernel mapping, which keeps a million tasks far below vm.max_map_count.
 *
 * Guard pages: MADV_GUARD_INSTALL (Linux 6.13) makes them without splitting the mapping. Older kernels get
 * mprotect, which costs two mappings per guard, so only a budget of slots (a quarter of vm.max_map_count) is
 * guarded that way; the rest carry a canary that the loop checks at each switch away from the task.
 */

#define CHUNK_BYTES ((size_t)8 << 20)
/* Released slots beyond this many per size keep their address space but give their pages back. */
#define WARM_SLOTS 256
#define CANARY     0x63696f2d67756172ull /* "cio-guar" */

struct cio__chunk {
    struct cio__chunk *next;
    char *base;
    size_t len;
    size_t slot_size;
    unsigned nslots;
#ifdef CIO_VALGRIND
    unsigned vg_ids[];
#endif
};

enum { GUARD_UNKNOWN, GUARD_MADVISE, GUARD_MPROTECT };
static atomic_int guard_mode;
static atomic_long mprotect_budget = -1;

static bool guard_install(char *page, size_t len)
{
    int mode = atomic_load(&guard_mode);
    if (mode != GUARD_MPROTECT) {
        if (madvise(page, len, MADV_GUARD_INSTALL) == 0) {
            atomic_store(&guard_mode, GUARD_MADVISE);
            return true;
        }
        if (mode == GUARD_MADVISE)
            return false;
        atomic_store(&guard_mode, GUARD_MPROTECT);
    }
    if (atomic_load(&mprotect_budget) < 0) {
        long max = 65530;
        FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
        if (f) {
            if (fscanf(f, "%ld", &max) != 1)
                max = 65530;
            fclose(f);
        }
        atomic_store(&mprotect_budget, max / 4);
    }
    if (atomic_fetch_sub(&mprotect_budget, 1) <= 0) {
        atomic_fetch_add(&mprotect_budget, 1);
        return false;
    }
    return mprotect(page, len, PROT_NONE) == 0;
}

void cio__stack_canary_set(char *base, size_t page)
{
    uint64_t c = CANARY;
    memcpy(base + page, &c, sizeof c);
    memcpy(base + page + sizeof c, &c, sizeof c);
}

bool cio__stack_canary_ok(const char *base, size_t page)
{
    uint64_t c[2];
    memcpy(c, base + page, sizeof c);
    return c[0] == CANARY && c[1] == CANARY;
}

void cio__stack_pool_init(struct cio__stack_pool *p)
{
    memset(p, 0, sizeof *p);
    p->page = (size_t)sysconf(_SC_PAGESIZE);
}

static void chunk_unmap(struct cio__chunk *c)
{
#ifdef CIO_VALGRIND
    for (unsigned i = 0; i < c->nslots; i++)
        VALGRIND_STACK_DEREGISTER(c->vg_ids[i]);
#endif
    munmap(c->base, c->len);
    cio__free(c);
}

void cio__stack_pool_fini(struct cio__stack_pool *p)
{
    struct cio__chunk *c = p->chunks;
    while (c) {
        struct cio__chunk *next = c->next;
        chunk_unmap(c);
        c = next;
    }
    for (size_t i = 0; i < sizeof p->classes / sizeof p->classes[0]; i++)
        cio__free(p->classes[i].free);
    memset(p->classes, 0, sizeof p->classes);
    p->chunks = NULL;
}

static struct cio__stack_class *class_for(struct cio__stack_pool *p, size_t slot_size)
{
    struct cio__stack_class *empty = NULL;
    for (size_t i = 0; i < sizeof p->classes / sizeof p->classes[0]; i++) {
        if (p->classes[i].slot_size == slot_size)
            return &p->classes[i];
        if (!empty && p->classes[i].slot_size == 0)
            empty = &p->classes[i];
    }
    if (empty)
        empty->slot_size = slot_size;
    return empty;
}

static int free_push(struct cio__stack_class *c, char *slot)
{
    if (c->nfree == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        char **v = cio__realloc(c->free, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        c->free = v;
        c->cap = cap;
    }
    c->free[c->nfree++] = slot;
    return 0;
}

/* Free-list entries are slot addresses (page aligned) with the low bit set when the slot has a guard page. */
static inline char *entry_slot(char *e, bool *guarded)
{
    *guarded = ((uintptr_t)e & 1) != 0;
    return (char *)((uintptr_t)e & ~(uintptr_t)1);
}

/* Map a chunk of slots, install their guards, and list all but the first as free; returns the first. */
static char *chunk_new(struct cio__stack_pool *p, struct cio__stack_class *cls, size_t slot_size, bool *guarded)
{
    unsigned n = (!cls || slot_size >= CHUNK_BYTES) ? 1 : (unsigned)(CHUNK_BYTES / slot_size);
    size_t extra = 0;
#ifdef CIO_VALGRIND
    extra = n * sizeof(unsigned);
#endif
    struct cio__chunk *c = cio__malloc(sizeof *c + extra);
    if (!c)
        return NULL;
    /* Room in the free list first, so that a failure leaves nothing mapped. */
    if (cls && cls->cap < cls->nfree + n) {
        size_t cap = cls->cap ? cls->cap : 64;
        while (cap < cls->nfree + n)
            cap *= 2;
        char **v = cio__realloc(cls->free, cap * sizeof *v);
        if (!v) {
            cio__free(c);
            return NULL;
        }
        cls->free = v;
        cls->cap = cap;
    }
    c->len = (size_t)n * slot_size;
    c->base =
        mmap(NULL, c->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (c->base == MAP_FAILED) {
        cio__free(c);
        return NULL;
    }
    c->slot_size = slot_size;
    c->nslots = n;
    c->next = p->chunks;
    p->chunks = c;
    /* Listed in reverse, so slots are handed out from the chunk's low end upwards. */
    for (unsigned i = n; i-- > 0;) {
        char *slot = c->base + (size_t)i * slot_size;
        bool g = guard_install(slot, p->page);
#ifdef CIO_VALGRIND
        c->vg_ids[i] = VALGRIND_STACK_REGISTER(slot + p->page, slot + slot_size);
#endif
        if (i > 0)
            cls->free[cls->nfree++] = (char *)((uintptr_t)slot | g);
        else
            *guarded = g;
    }
    return c->base;
}

char *cio__stack_get(struct cio__stack_pool *p, size_t slot_size, bool *guarded)
{
    struct cio__stack_class *cls = class_for(p, slot_size);
    if (cls && cls->nfree) {
        char *e = cls->free[--cls->nfree];
        if (cls->ncold > cls->nfree)
            cls->ncold = cls->nfree;
        return entry_slot(e, guarded);
    }
    return chunk_new(p, cls, slot_size, guarded);
}

void cio__stack_put(struct cio__stack_pool *p, char *base, size_t slot_size, bool guarded)
{
    struct cio__stack_class *cls = class_for(p, slot_size);
    if (cls && free_push(cls, (char *)((uintptr_t)base | guarded)) == 0) {
        if (cls->nfree - cls->ncold > WARM_SLOTS) {
            /* The oldest warm slot turns cold: its pages go back to the kernel, its address range stays. */
            bool g;
            char *cold = entry_slot(cls->free[cls->ncold++], &g);
            madvise(cold + p->page, slot_size - p->page, MADV_DONTNEED);
        }
        return;
    }
    /* No class for this size (or no memory to list it): unmap its one-slot chunk. */
    for (struct cio__chunk **pc = &p->chunks; *pc; pc = &(*pc)->next) {
        if ((*pc)->base == base && (*pc)->nslots == 1) {
            struct cio__chunk *c = *pc;
            *pc = c->next;
            chunk_unmap(c);
            return;
        }
    }
    /* A slot inside a shared chunk with nowhere to list it stays mapped until the loop closes. */
}
