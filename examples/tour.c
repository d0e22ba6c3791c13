/* tour.c: the README's tour: spawn three tasks, gather them under a timeout. */
#include <cio.h>
#include <stdio.h>

static int worker(void *arg) /* a coroutine body: 0 or a negative error code */
{
    int n = *(int *)arg;
    int rc = cio_sleep(CIO_MS(10 * n)); /* suspends this task; the others run meanwhile */
    return rc < 0 ? rc : n;
}

static int main_task(void *arg)
{
    (void)arg;
    int ids[3] = {1, 2, 3}, status[3];
    cio_task *t[3];
    for (int i = 0; i < 3; i++)
        cio_spawn(&t[i], worker, &ids[i], NULL); /* asyncio.create_task */

    cio_scope s;
    cio_timeout_begin(&s, CIO_MS(500));                /* async with asyncio.timeout(0.5) */
    int rc = cio_gather(t, 3, status, CIO_GATHER_ALL); /* asyncio.gather(..., return_exceptions=True) */
    if (cio_scope_end(&s) == -ETIMEDOUT)
        printf("timed out\n");
    printf("gather: %s, statuses %d %d %d\n", cio_strerror(rc), status[0], status[1], status[2]);
    return rc;
}

int main(void)
{
    return cio_run(main_task, NULL) < 0;
} /* asyncio.run */
