/* internal.h: what every layer of cio shares: assertions, the allocator, intrusive lists. */
#ifndef CIO_INTERNAL_H
#define CIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CIO_LIKELY(x)   __builtin_expect(!!(x), 1)
#define CIO_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* A broken invariant is a bug in cio: it stays checked in every build and aborts with file and line. */
#define CIO_ASSERT(cond)                                 \
    do {                                                 \
        if (CIO_UNLIKELY(!(cond)))                       \
            cio__assert_fail(#cond, __FILE__, __LINE__); \
    } while (0)
_Noreturn void cio__assert_fail(const char *cond, const char *file, int line);

#define cio__container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Every allocation goes through these, so cio_set_allocator and the test allocator see all of them. */
void *cio__malloc(size_t n);
void *cio__calloc(size_t n, size_t size);
void *cio__realloc(void *p, size_t n);
void cio__free(void *p);
char *cio__strdup(const char *s);

/* A circular doubly linked list with a sentinel head; an unlinked node points at itself. */
struct cio__list {
    struct cio__list *prev, *next;
};

static inline void cio__list_init(struct cio__list *l)
{
    l->prev = l->next = l;
}

static inline int cio__list_empty(const struct cio__list *l)
{
    return l->next == l;
}

static inline void cio__list_insert_tail(struct cio__list *head, struct cio__list *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

static inline void cio__list_remove(struct cio__list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

static inline struct cio__list *cio__list_pop_head(struct cio__list *head)
{
    struct cio__list *n = head->next;
    if (n == head)
        return NULL;
    cio__list_remove(n);
    return n;
}

#endif
