/* sleepers.c: spawn 10,000 tasks that each sleep a little, gather them, and say what happened. */
#include <stdio.h>
#include <stdlib.h>

#include <cio.h>

#define NTASKS 10000

/* Each task sleeps between 1 and 100 ms, then reports how long it meant to sleep. */
static int sleeper(void *arg)
{
    int64_t ms = (int64_t)(intptr_t)arg;
    int rc = cio_sleep(CIO_MS(ms));
    return rc < 0 ? rc : (int)ms;
}

static int main_task(void *arg)
{
    (void)arg;
    static cio_task *tasks[NTASKS];
    static int status[NTASKS];
    int64_t start = cio_now();
    for (int i = 0; i < NTASKS; i++) {
        int rc = cio_spawn(&tasks[i], sleeper, (void *)(intptr_t)(1 + i % 100), NULL); /* asyncio.create_task */
        if (rc < 0) {
            fprintf(stderr, "spawn: %s\n", cio_strerror(rc));
            return rc;
        }
    }
    int rc = cio_gather(tasks, NTASKS, status, CIO_GATHER_ALL); /* asyncio.gather */
    if (rc < 0)
        return rc;
    int64_t elapsed = cio_now() - start;
    long long slept = 0;
    int failed = 0;
    for (int i = 0; i < NTASKS; i++) {
        if (status[i] < 0)
            failed++;
        else
            slept += status[i];
    }
    printf("%d tasks slept %.1f s in total, concurrently, in %.1f ms of wall time; %d failed\n", NTASKS,
           (double)slept / 1000.0, (double)elapsed / 1e6, failed);
    return failed ? -EIO : 0;
}

int main(void)
{
    int rc = cio_run(main_task, NULL); /* asyncio.run */
    if (rc < 0) {
        fprintf(stderr, "sleepers: %s\n", cio_strerror(rc));
        return 1;
    }
    return 0;
}
