/* alloc.c: the replaceable allocator behind every allocation cio makes, and the assertion handler. */
#include "internal.h"

#include <stdatomic.h>
#include <string.h>

#include "cio/core.h"

static void *(*alloc_malloc)(size_t) = malloc;
static void *(*alloc_realloc)(void *, size_t) = realloc;
static void (*alloc_free)(void *) = free;

/* Loops open in the process: the allocator cannot change under their feet. */
atomic_int cio__open_loops;

int cio_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t), void (*free_fn)(void *))
{
    if (!malloc_fn || !realloc_fn || !free_fn)
        return -EINVAL;
    if (atomic_load(&cio__open_loops) > 0)
        return -EBUSY;
    alloc_malloc = malloc_fn;
    alloc_realloc = realloc_fn;
    alloc_free = free_fn;
    return 0;
}

void *cio__malloc(size_t n)
{
    return alloc_malloc(n ? n : 1);
}

void *cio__calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = cio__malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *cio__realloc(void *p, size_t n)
{
    return alloc_realloc(p, n ? n : 1);
}

void cio__free(void *p)
{
    if (p)
        alloc_free(p);
}

char *cio__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cio__malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

_Noreturn void cio__assert_fail(const char *cond, const char *file, int line)
{
    fprintf(stderr, "cio: assertion failed: %s (%s:%d)\n", cond, file, line);
    abort();
}
