/* stream.c: tests of buffered streams over socket pairs, TCP loopback and pipes. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chaoskit.h"
#include "corekit.h"
#include "harness.h"
#include "netkit.h"
#include "threadkit.h"

/* Writing to a pipe whose reader is gone raises SIGPIPE; the tests want the -EPIPE that follows instead. */
static void ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

TestSuite(stream, .init = ignore_sigpipe);

/* ------------------------------------------------------------------------------------------------ helpers */

static void unix_pair(int fds[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
}

/* A connected TCP pair on 127.0.0.1, made with plain blocking calls (loopback connects at once). */
static void tcp_pair(int fds[2])
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(l, 0);
    cr_assert_eq(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(l, 1), 0);
    cr_assert_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
    fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fds[0], 0);
    cr_assert_eq(connect(fds[0], (struct sockaddr *)&a, sizeof a), 0);
    fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
    cr_assert_geq(fds[1], 0);
    close(l);
}

/* Two streams over the ends of a pair. */
static void stream_pair(cio_stream *s[2], const int fds[2], const cio_stream_opts *opts)
{
    cr_assert_eq(cio_stream_open_fd(&s[0], fds[0], opts), 0);
    cr_assert_eq(cio_stream_open_fd(&s[1], fds[1], opts), 0);
}

static void close_pair(cio_stream *s[2])
{
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
}

/* The byte at position i of the test pattern (period 251, a prime, so chunk edges do not line up with it). */
static unsigned char pat(size_t i)
{
    return (unsigned char)(i % 251);
}

static void write_all(cio_stream *s, const char *text)
{
    cr_assert_eq(cio_stream_write(s, text, strlen(text)), 0);
}

/* ------------------------------------------------------------------------------------------------ basics */

static int basic_roundtrip(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    char buf[64];
    unix_pair(fds);
    stream_pair(s, fds, NULL);
    cr_assert_eq(cio_stream_fd(s[0]), fds[0]);
    cr_assert(fcntl(fds[0], F_GETFL) & O_NONBLOCK, "the descriptor is made non-blocking");
    write_all(s[0], "hello");
    /* Over the chaos transport (CIO_TEST_TRANSPORT=chaos) a read may get fewer bytes than are on their way. */
    ssize_t n = cio_stream_read(s[1], buf, sizeof buf);
    cr_assert(tst_chaos_on() ? n >= 1 && n <= 5 : n == 5, "%zd", n);
    cr_assert_eq(cio_stream_read_exactly(s[1], buf + n, 5 - (size_t)n, NULL), 5 - n);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    write_all(s[1], "world, again");
    n = cio_stream_read(s[0], buf, 5);
    cr_assert(tst_chaos_on() ? n >= 1 && n <= 5 : n == 5, "a read takes at most cap bytes: %zd", n);
    cr_assert_eq(cio_stream_read_exactly(s[0], buf + n, 12 - (size_t)n, NULL), 12 - n, "the rest stays buffered");
    cr_assert_eq(memcmp(buf, "world, again", 12), 0);
    cr_assert_not(cio_stream_at_eof(s[0]));
    close_pair(s);
    return 0;
}

Test(stream, write_then_read_round_trips_bytes_and_close_releases_everything)
{
    tst_run(basic_roundtrip, NULL);
}

struct reader {
    cio_stream *s;
    int started;
    ssize_t rc;
    char buf[64];
};

static int read_once(void *arg)
{
    struct reader *r = arg;
    r->started = 1;
    r->rc = cio_stream_read(r->s, r->buf, sizeof r->buf);
    return r->rc < 0 ? (int)r->rc : 0;
}

static int read_waits_for_data(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    struct reader r = {0};
    unix_pair(fds);
    stream_pair(s, fds, NULL);
    r.s = s[1];
    cr_assert_eq(cio_spawn(&t, read_once, &r, NULL), 0);
    cr_assert_eq(tk_yield_until(&r.started), 0);
    cr_assert_not(cio_task_done(t), "the reader waits: nothing was sent");
    char buf[4];
    cr_assert_eq(cio_stream_read(s[1], buf, sizeof buf), -EBUSY, "a second reader is refused");
    write_all(s[0], "late");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(r.rc, 4);
    cr_assert_eq(memcmp(r.buf, "late", 4), 0);
    close_pair(s);
    return 0;
}

Test(stream, read_waits_until_data_arrives_and_a_second_reader_gets_ebusy)
{
    tst_run(read_waits_for_data, NULL);
}

/* ------------------------------------------------------------------------------------------------ lines */

static int line_limit(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    char buf[64];
    cio_stream_opts o = {.limit = 16};
    unix_pair(fds);
    stream_pair(s, fds, &o);
    write_all(s[0], "0123456789abcdefghij\nxyz\n");
    cr_assert_eq(cio_stream_read_line(s[1], buf, sizeof buf), -EMSGSIZE, "21 bytes exceed the limit of 16");
    cr_assert_eq(cio_stream_read_line(s[1], buf, sizeof buf), -EMSGSIZE, "the bytes stay buffered");
    cr_assert_eq(cio_stream_read_exactly(s[1], buf, 21, NULL), 21, "and can still be read");
    cr_assert_eq(memcmp(buf, "0123456789abcdefghij\n", 21), 0);
    cr_assert_eq(cio_stream_read_line(s[1], buf, sizeof buf), 4);
    cr_assert_eq(memcmp(buf, "xyz\n", 4), 0);
    write_all(s[0], "abcdef\n");
    cr_assert_eq(cio_stream_read_line(s[1], buf, 4), -EMSGSIZE, "cap below the limit bounds the line too");
    cr_assert_eq(cio_stream_read_line(s[1], buf, 7), 7, "a line exactly cap long fits");
    cr_assert_eq(memcmp(buf, "abcdef\n", 7), 0);
    close_pair(s);
    return 0;
}

Test(stream, read_line_over_the_limit_fails_with_emsgsize_and_keeps_the_bytes)
{
    tst_run(line_limit, NULL);
}

struct dribble {
    cio_stream *s;
    const char *const *pieces;
    bool eof;
};

/* Write each piece after a yield, so the reader sees them arrive one by one; then end the stream if asked. */
static int dribbler(void *arg)
{
    struct dribble *d = arg;
    for (size_t i = 0; d->pieces[i]; i++) {
        int rc = cio_yield();
        if (rc == 0)
            rc = cio_stream_write(d->s, d->pieces[i], strlen(d->pieces[i]));
        if (rc < 0)
            return rc;
    }
    return d->eof ? cio_stream_write_eof(d->s) : 0;
}

static int until_split(void *arg)
{
    (void)arg;
    static const char *const pieces[] = {"GET / HT", "TP/1.1\r", "\nHost: a\r", "\n\r", "\ntail", NULL};
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    char buf[64];
    unix_pair(fds);
    stream_pair(s, fds, NULL);
    struct dribble d = {.s = s[0], .pieces = pieces, .eof = true};
    cr_assert_eq(cio_spawn(&t, dribbler, &d, NULL), 0);
    cr_assert_eq(cio_stream_read_until(s[1], "\r\n", 2, buf, sizeof buf), 16);
    cr_assert_eq(memcmp(buf, "GET / HTTP/1.1\r\n", 16), 0);
    cr_assert_eq(cio_stream_read_until(s[1], "\r\n", 2, buf, sizeof buf), 9);
    cr_assert_eq(cio_stream_read_until(s[1], "\r\n", 2, buf, sizeof buf), 2);
    cr_assert_not(cio_stream_at_eof(s[1]));
    cr_assert_eq(cio_stream_read_until(s[1], "\r\n", 2, buf, sizeof buf), 4, "at the end, what is left");
    cr_assert_eq(memcmp(buf, "tail", 4), 0);
    cr_assert(cio_stream_at_eof(s[1]));
    cr_assert_eq(cio_stream_read_until(s[1], "\r\n", 2, buf, sizeof buf), 0);
    cr_assert_eq(cio_stream_read_line(s[1], buf, sizeof buf), 0);
    cr_assert_eq(cio_join(t), 0);
    close_pair(s);
    return 0;
}

Test(stream, read_until_finds_a_separator_split_across_arrivals_and_returns_the_rest_at_eof)
{
    tst_run(until_split, NULL);
}

/* ------------------------------------------------------------------------------------------------ exact reads */

static int exactly_short(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    char buf[16];
    size_t got = 99;
    unix_pair(fds);
    stream_pair(s, fds, NULL);
    write_all(s[0], "abcdefg");
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cr_assert_eq(cio_stream_read_exactly(s[1], buf, 4, &got), 4);
    cr_assert_eq(got, 4);
    cr_assert_not(cio_stream_at_eof(s[1]));
    cr_assert_eq(cio_stream_read_exactly(s[1], buf, 10, &got), CIO_EINCOMPLETE);
    cr_assert_eq(got, 3, "what came is reported");
    cr_assert_eq(memcmp(buf, "efg", 3), 0);
    cr_assert(cio_stream_at_eof(s[1]));
    cr_assert_eq(cio_stream_read_exactly(s[1], buf, 1, NULL), CIO_EINCOMPLETE);
    cr_assert_eq(cio_stream_read(s[1], buf, sizeof buf), 0);
    close_pair(s);
    return 0;
}

Test(stream, read_exactly_reports_a_short_stream_with_eincomplete_and_the_partial_count)
{
    tst_run(exactly_short, NULL);
}

/* A peer thread writing `total` bytes of the pattern with blocking writes, then closing its end. */
struct pump {
    int fd;
    size_t total;
    size_t line; /* if not 0: lines of this length (the pattern, with '\n' at the end of each) */
};

static unsigned char pump_byte(const struct pump *p, size_t i)
{
    if (p->line && i % p->line == p->line - 1)
        return '\n';
    unsigned char c = pat(i);
    return c == '\n' ? 'n' : c;
}

static void *pump_thread(void *arg)
{
    struct pump *p = arg;
    char buf[8192];
    for (size_t i = 0; i < p->total;) {
        size_t n = p->total - i < sizeof buf ? p->total - i : sizeof buf;
        for (size_t k = 0; k < n; k++)
            buf[k] = (char)pump_byte(p, i + k);
        ssize_t w = write(p->fd, buf, n);
        if (w <= 0)
            break;
        i += (size_t)w;
    }
    close(p->fd);
    return NULL;
}

static int exactly_long(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s;
    size_t n = 1 << 20, got = 0;
    cio_stream_opts o = {.limit = 1024};
    unix_pair(fds);
    struct pump p = {.fd = fds[0], .total = n};
    cr_assert_eq(cio_stream_open_fd(&s, fds[1], &o), 0);
    pthread_t th = thk_start(pump_thread, &p);
    unsigned char *buf = malloc(n + 1);
    cr_assert_eq(cio_stream_read_exactly(s, buf, n, &got), (ssize_t)n, "far beyond the limit");
    cr_assert_eq(got, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(buf[i], pump_byte(&p, i), "byte %zu", i);
    cr_assert_eq(cio_stream_read_exactly(s, buf, 1, &got), CIO_EINCOMPLETE);
    cr_assert_eq(got, 0);
    thk_join(th);
    free(buf);
    cr_assert_eq(cio_stream_close(s), 0);
    return 0;
}

Test(stream, read_exactly_beyond_the_limit_copies_as_data_comes)
{
    tst_run(exactly_long, NULL);
}

/* ------------------------------------------------------------------------------------------------ iteration */

static int lines_constant_memory(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s;
    const char *line;
    size_t len, lines = 0, bytes = 0;
    int rc;
    unix_pair(fds);
    struct pump p = {.fd = fds[0], .total = (size_t)10 << 20, .line = 100};
    p.total -= p.total % p.line;
    cr_assert_eq(cio_stream_open_fd(&s, fds[1], NULL), 0);
    pthread_t th = thk_start(pump_thread, &p);
    while ((rc = cio_stream_next_line(s, &line, &len)) == 1) {
        cr_assert_eq(len, 100, "line %zu", lines);
        cr_assert_eq(line[99], '\n');
        cr_assert_eq((unsigned char)line[0], pump_byte(&p, bytes));
        cr_assert_eq((unsigned char)line[98], pump_byte(&p, bytes + 98));
        bytes += len;
        if (++lines == 10)
            tst_alloc_count_reset(); /* warm: from here on, nothing may be allocated */
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(bytes, p.total);
    cr_assert_eq(tst_alloc_count(), 0, "iterating 10 MB allocated (the buffer grew)");
    cr_assert_eq(cio_stream_next_line(s, &line, &len), 0, "the end stays the end");
    thk_join(th);
    cr_assert_eq(cio_stream_close(s), 0);
    return 0;
}

Test(stream, next_line_iterates_10_mb_in_constant_memory, .timeout = 60)
{
    tst_run(lines_constant_memory, NULL);
}

static int chunks(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s;
    const void *chunk;
    size_t len, bytes = 0;
    int rc;
    unix_pair(fds);
    struct pump p = {.fd = fds[0], .total = 1 << 20};
    cr_assert_eq(cio_stream_open_fd(&s, fds[1], NULL), 0);
    pthread_t th = thk_start(pump_thread, &p);
    while ((rc = cio_stream_next_chunk(s, &chunk, &len)) == 1) {
        cr_assert_gt(len, 0);
        for (size_t k = 0; k < len; k++)
            cr_assert_eq(((const unsigned char *)chunk)[k], pump_byte(&p, bytes + k));
        bytes += len;
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(bytes, p.total);
    cr_assert(cio_stream_at_eof(s));
    thk_join(th);
    cr_assert_eq(cio_stream_close(s), 0);
    return 0;
}

Test(stream, next_chunk_hands_out_every_byte_then_zero)
{
    tst_run(chunks, NULL);
}

/* ------------------------------------------------------------------------------------------------ idle memory */

/* More pairs than the loop keeps buffers (16): were idle streams to hold theirs, the counts below would show it. */
#define IDLE_PAIRS 24

struct idler {
    cio_stream *s;
    size_t got;
    int chunks, rc;
};

/* An idle connection's reader: waits in next_chunk between chunks, until the end. */
static int idler_main(void *arg)
{
    struct idler *d = arg;
    const void *chunk;
    size_t len;
    int rc;
    while ((rc = cio_stream_next_chunk(d->s, &chunk, &len)) == 1) {
        d->got += len;
        d->chunks++;
    }
    d->rc = rc;
    return 0;
}

static int count_chunks(struct idler *d, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += d[i].chunks;
    return total;
}

/* How many readers have got at least `want` bytes. */
static int readers_at(struct idler *d, int n, size_t want)
{
    int done = 0;
    for (int i = 0; i < n; i++)
        done += d[i].got >= want;
    return done;
}

/* Every reader got its chunk and waits for the next: between them they hold one buffer, the loop's. */
static int idle_readers_body(void *arg)
{
    (void)arg;
    cio_stream *s[IDLE_PAIRS][2];
    struct idler d[IDLE_PAIRS] = {{0}};
    cio_task *t[IDLE_PAIRS];
    char msg[1000];
    memset(msg, 'i', sizeof msg);
    for (int i = 0; i < IDLE_PAIRS; i++) {
        int fds[2];
        unix_pair(fds);
        stream_pair(s[i], fds, NULL);
        d[i].s = s[i][1];
        cr_assert_eq(cio_spawn(&t[i], idler_main, &d[i], NULL), 0);
    }
    for (int round = 1; round <= 3; round++) {
        for (int i = 0; i < IDLE_PAIRS; i++)
            cr_assert_eq(cio_stream_write(s[i][0], msg, sizeof msg), 0);
        int done;
        for (long k = 0; (done = readers_at(d, IDLE_PAIRS, round * sizeof msg)) < IDLE_PAIRS; k++) {
            cr_assert_lt(k, 100000L, "only %d of %d readers have their bytes", done, IDLE_PAIRS);
            cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
        }
        /* A message in one read, unless the chaos transport cuts reads short. */
        if (!tst_chaos_on())
            cr_assert_eq(count_chunks(d, IDLE_PAIRS), round * IDLE_PAIRS, "one chunk per message");
        /* The readers ran one after another, each giving the buffer back before it waited again. */
        cr_assert_eq(tst_live_big_blocks(), 1, "round %d: %ld I/O buffers held by %d idle streams", round,
                     tst_live_big_blocks(), IDLE_PAIRS);
    }
    for (int i = 0; i < IDLE_PAIRS; i++) {
        cr_assert_eq(cio_stream_close(s[i][0]), 0);
        cr_assert_eq(cio_join(t[i]), 0);
        cr_assert_eq(d[i].rc, 0);
        cr_assert_eq(d[i].got, 3 * sizeof msg);
        cr_assert_eq(cio_stream_close(s[i][1]), 0);
    }
    return 0;
}

Test(stream, idle_readers_hold_no_buffer_between_chunks)
{
    tst_run(idle_readers_body, NULL);
}

struct direct_reader {
    cio_stream *s;
    ssize_t rc;
    int done;
};

/* A read into a buffer of 16 KiB or more goes straight into it, waiting for input. */
static int direct_reader_main(void *arg)
{
    struct direct_reader *r = arg;
    static char big[16 * 1024];
    r->rc = cio_stream_read(r->s, big, sizeof big);
    r->done = 1;
    return 0;
}

/* A stream whose reader went from lines (views into the loop's buffer) to a direct read gives the empty buffer
   back before it waits: a second stream then reuses it instead of taking another. */
static int direct_read_body(void *arg)
{
    (void)arg;
    int f1[2], f2[2];
    cio_stream *a[2], *b[2];
    const char *line;
    size_t len;
    unix_pair(f1);
    unix_pair(f2);
    stream_pair(a, f1, NULL);
    stream_pair(b, f2, NULL);
    write_all(a[0], "head\n");
    cr_assert_eq(cio_stream_next_line(a[1], &line, &len), 1);
    cr_assert_eq(tst_live_big_blocks(), 1, "the line's buffer");
    struct direct_reader r = {.s = a[1]};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, direct_reader_main, &r, NULL), 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(cio_sleep(CIO_NS(1)), 0);
    cr_assert_eq(r.done, 0, "waiting for the body");
    write_all(b[0], "other\n");
    cr_assert_eq(cio_stream_next_line(b[1], &line, &len), 1);
    cr_assert_eq(tst_live_big_blocks(), 1, "the other stream took the same buffer back from the loop");
    write_all(a[0], "body");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(r.rc, 4);
    close_pair(a);
    close_pair(b);
    return 0;
}

Test(stream, a_direct_read_gives_the_loop_buffer_back_before_it_waits)
{
    tst_run(direct_read_body, NULL);
}

/* A reader that takes `want` bytes slowly (a few KiB a turn), so that the writer must queue. */
struct slow_reader {
    cio_stream *s;
    size_t want, got;
};

static int slow_reader_main(void *arg)
{
    struct slow_reader *r = arg;
    char buf[4096];
    while (r->got < r->want) {
        ssize_t n = cio_stream_read(r->s, buf, sizeof buf);
        cr_assert_gt(n, 0, "%s", cio_err_name((int)n));
        r->got += (size_t)n;
        cr_assert_eq(cio_yield(), 0);
    }
    return 0;
}

/* Writers that had to queue output give their buffers back once it is all sent. */
static int flushed_writers_body(void *arg)
{
    (void)arg;
    enum { N = IDLE_PAIRS, SIZE = 512 * 1024 };
    cio_stream *s[N][2];
    struct slow_reader r[N];
    cio_task *t[N];
    char *block = malloc(SIZE);
    cr_assert_not_null(block);
    memset(block, 'w', SIZE);
    for (int i = 0; i < N; i++) {
        int fds[2];
        unix_pair(fds);
        stream_pair(s[i], fds, NULL);
        r[i] = (struct slow_reader){.s = s[i][1], .want = SIZE};
        cr_assert_eq(cio_spawn(&t[i], slow_reader_main, &r[i], NULL), 0);
    }
    long most = 0;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(cio_stream_write(s[i][0], block, SIZE), 0);
        long now = tst_live_big_blocks();
        most = now > most ? now : most;
    }
    cr_assert_gt(most, 1, "writes of 512 KiB into a socket buffer had to queue");
    for (int i = 0; i < N; i++) {
        cr_assert_eq(cio_stream_drain(s[i][0]), 0);
        cr_assert_eq(cio_join(t[i]), 0);
        cr_assert_eq(r[i].got, (size_t)SIZE);
    }
    /* All sent and read: what is left is in the loop's keeping, at most the 16 it keeps, not one per stream. */
    cr_assert_leq(tst_live_big_blocks(), 16, "%ld I/O buffers left for %d flushed streams", tst_live_big_blocks(),
                  2 * N);
    for (int i = 0; i < N; i++)
        close_pair(s[i]);
    free(block);
    return 0;
}

Test(stream, flushed_writers_give_their_buffers_back)
{
    tst_run(flushed_writers_body, NULL);
}

/* Streams with a limit and high-water mark above the loop buffers' 256 KiB keep their buffers (and grow them). */
static int own_buffers_body(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_stream_opts o = {.limit = 1024 * 1024, .high_water = 512 * 1024};
    enum { BIG = 300 * 1024 };
    char *big = malloc(BIG), *got = malloc(BIG), line[8];
    cr_assert(big && got);
    memset(big, 'b', BIG);
    big[BIG - 1] = '\n';
    unix_pair(fds);
    stream_pair(s, fds, &o);
    cr_assert_eq(tst_live_big_blocks(), 0);
    cr_assert_eq(cio_stream_write(s[0], big, BIG), 0, "within the high-water mark: queued, no wait");
    cr_assert_eq(cio_stream_read_line(s[1], got, BIG), BIG, "a 300 KiB line fits in the 1 MiB limit");
    cr_assert_eq(memcmp(got, big, BIG), 0);
    long held = tst_live_big_blocks();
    cr_assert_geq(held, 1, "the read buffer grew past 256 KiB");
    write_all(s[0], "x\n");
    cr_assert_eq(cio_stream_read_line(s[1], line, sizeof line), 2);
    cr_assert_eq(tst_live_big_blocks(), held, "emptied, the stream's own buffers stay with it");
    free(got);
    free(big);
    close_pair(s);
    cr_assert_eq(tst_live_big_blocks(), 0);
    return 0;
}

Test(stream, streams_with_their_own_limits_keep_their_buffers)
{
    tst_run(own_buffers_body, NULL);
}

static int line_views(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    const char *line;
    size_t len;
    cio_stream_opts o = {.limit = 8};
    unix_pair(fds);
    stream_pair(s, fds, &o);
    write_all(s[0], "a\nbb\n0123456789\nlast");
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cr_assert_eq(cio_stream_next_line(s[1], &line, &len), 1);
    cr_assert_eq(len, 2);
    cr_assert_eq(memcmp(line, "a\n", 2), 0);
    cr_assert_eq(cio_stream_next_line(s[1], &line, &len), 1);
    cr_assert_eq(memcmp(line, "bb\n", 3), 0);
    cr_assert_eq(cio_stream_next_line(s[1], &line, &len), -EMSGSIZE);
    char buf[16];
    cr_assert_eq(cio_stream_read_exactly(s[1], buf, 11, NULL), 11, "the long line is still there");
    cr_assert_eq(cio_stream_next_line(s[1], &line, &len), 1, "the unterminated last line");
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(line, "last", 4), 0);
    cr_assert_eq(cio_stream_next_line(s[1], &line, &len), 0);
    close_pair(s);
    return 0;
}

Test(stream, next_line_reports_long_lines_and_returns_an_unterminated_last_line)
{
    tst_run(line_views, NULL);
}

/* ------------------------------------------------------------------------------------------------ back-pressure */

struct slow {
    cio_stream *s;
    size_t total;
    /* Set by the writer around each write or drain: the reader counts turns in which it saw the writer wait. */
    int in_write;
    long saw_writer_waiting;
    uint64_t sum;
    size_t got;
};

static uint64_t mix(uint64_t h, unsigned char c)
{
    return (h ^ c) * 1099511628211ull;
}

static int slow_reader(void *arg)
{
    struct slow *w = arg;
    char buf[1000];
    ssize_t n;
    w->sum = 14695981039346656037ull;
    while ((n = cio_stream_read(w->s, buf, sizeof buf)) > 0) {
        for (ssize_t k = 0; k < n; k++)
            w->sum = mix(w->sum, (unsigned char)buf[k]);
        w->got += (size_t)n;
        w->saw_writer_waiting += w->in_write;
        for (int i = 0; i < 3; i++)
            if (cio_yield() < 0)
                return -1;
    }
    return (int)n;
}

static int back_pressure(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    cio_stream_opts o = {.high_water = 64 * 1024, .low_water = 1024};
    unix_pair(fds);
    stream_pair(s, fds, &o);
    /* 2 MiB: thirty times the high-water mark and more than the socket holds, so the writer must wait, and few
       enough bytes that the chaos transport's one-byte reads under ASan on a loaded machine finish in time. */
    struct slow w = {.s = s[1], .total = (size_t)2 << 20};
    cr_assert_eq(cio_spawn(&t, slow_reader, &w, NULL), 0);
    static unsigned char chunk[7919 * 3];
    uint64_t sum = 14695981039346656037ull;
    for (size_t off = 0; off < w.total;) {
        size_t n = sizeof chunk, k;
        if (n > w.total - off)
            n = w.total - off;
        for (k = 0; k < n; k++)
            sum = mix(sum, chunk[k] = pat(off + k));
        w.in_write = 1;
        cr_assert_eq(cio_stream_write(s[0], chunk, n), 0);
        w.in_write = 0;
        off += n;
    }
    w.in_write = 1;
    cr_assert_eq(cio_stream_drain(s[0]), 0);
    w.in_write = 0;
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(w.got, w.total, "nothing lost");
    cr_assert_eq(w.sum, sum, "nothing reordered");
    cr_assert_gt(w.saw_writer_waiting, 0, "the writer waited for the slow reader");
    close_pair(s);
    return 0;
}

Test(stream, a_slow_reader_makes_write_and_drain_wait_and_nothing_is_lost)
{
    tst_run(back_pressure, NULL);
}

struct echo_back {
    cio_stream *s;
    size_t expect;
};

/* Read `expect` bytes, then answer "ok". */
static int consume_then_answer(void *arg)
{
    struct echo_back *e = arg;
    char buf[4096];
    size_t got = 0;
    while (got < e->expect) {
        ssize_t n = cio_stream_read(e->s, buf, sizeof buf);
        if (n <= 0)
            return n < 0 ? (int)n : -EPROTO;
        got += (size_t)n;
    }
    return cio_stream_write(e->s, "ok\n", 3);
}

static int background_flush(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    char buf[8];
    /* More than the socket holds, so that close has to wait for the reader; small enough that the chaos
       transport's storms of short writes cannot use up close's flush budget on a loaded machine. */
    size_t n = 512 << 10;
    cio_stream_opts o = {.high_water = 4 << 20};
    unix_pair(fds);
    stream_pair(s, fds, &o);
    struct echo_back e = {.s = s[1], .expect = n};
    cr_assert_eq(cio_spawn(&t, consume_then_answer, &e, NULL), 0);
    char *big = calloc(1, n);
    cr_assert_eq(cio_stream_write(s[0], big, n), 0, "below the high-water mark: no wait");
    free(big);
    /* No drain: the buffered megabyte must go out while this task waits for the answer. */
    cr_assert_eq(cio_stream_read_line(s[0], buf, sizeof buf), 3);
    cr_assert_eq(cio_join(t), 0);
    close_pair(s);
    return 0;
}

Test(stream, buffered_output_is_sent_while_the_writer_waits_for_something_else)
{
    tst_run(background_flush, NULL);
}

struct counter {
    cio_stream *s;
    size_t got;
};

static int count_to_eof(void *arg)
{
    struct counter *c = arg;
    char buf[4096];
    ssize_t n;
    while ((n = cio_stream_read(c->s, buf, sizeof buf)) > 0)
        c->got += (size_t)n;
    return (int)n;
}

static int close_flushes(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    /* More than the socket holds, so that close has to wait for the reader; small enough that the chaos
       transport's storms of short writes cannot use up close's flush budget on a loaded machine. */
    size_t n = 512 << 10;
    cio_stream_opts o = {.high_water = 4 << 20};
    unix_pair(fds);
    stream_pair(s, fds, &o);
    struct counter c = {.s = s[1]};
    cr_assert_eq(cio_spawn(&t, count_to_eof, &c, NULL), 0);
    char *big = calloc(1, n);
    cr_assert_eq(cio_stream_write(s[0], big, n), 0);
    free(big);
    cr_assert_eq(cio_stream_close(s[0]), 0, "close sends what is buffered");
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(c.got, n);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(stream, close_sends_buffered_output_before_closing)
{
    tst_run(close_flushes, NULL);
}

static int writev_gathers(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    char buf[32];
    unix_pair(fds);
    stream_pair(s, fds, NULL);
    struct iovec v[4] = {{"ab", 2}, {NULL, 0}, {"cde", 3}, {"\n", 1}};
    cr_assert_eq(cio_stream_writev(s[0], v, 4), 0);
    cr_assert_eq(cio_stream_writev(s[0], v, 0), 0);
    cr_assert_eq(cio_stream_read_line(s[1], buf, sizeof buf), 6);
    cr_assert_eq(memcmp(buf, "abcde\n", 6), 0);
    close_pair(s);
    return 0;
}

Test(stream, writev_sends_the_segments_in_order)
{
    tst_run(writev_gathers, NULL);
}

/* ------------------------------------------------------------------------------------------------ half close */

static int half_close(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    char buf[16];
    unix_pair(fds);
    stream_pair(s, fds, NULL);
    write_all(s[0], "ping\n");
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cr_assert_eq(cio_stream_write_eof(s[0]), 0, "twice is harmless");
    cr_assert_eq(cio_stream_write(s[0], "x", 1), -EINVAL, "no writes after write_eof");
    cr_assert_eq(cio_stream_read_line(s[1], buf, sizeof buf), 5);
    cr_assert_eq(cio_stream_read(s[1], buf, sizeof buf), 0, "the peer sees the end");
    cr_assert(cio_stream_at_eof(s[1]));
    write_all(s[1], "pong\n");
    cr_assert_eq(cio_stream_read_line(s[0], buf, sizeof buf), 5, "the half-closed side still reads");
    cr_assert_eq(memcmp(buf, "pong\n", 5), 0);
    close_pair(s);
    return 0;
}

Test(stream, write_eof_half_closes_a_socket_and_the_peer_can_still_answer)
{
    tst_run(half_close, NULL);
}

static int pipes(void *arg)
{
    (void)arg;
    int p[2];
    cio_stream *r, *w;
    char buf[16];
    cio_addr a;
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    cr_assert_eq(cio_stream_open_fd(&r, p[0], NULL), 0);
    cr_assert_eq(cio_stream_open_fd(&w, p[1], NULL), 0);
    cr_assert_eq(cio_stream_peer_addr(w, &a), -ENOTSUP, "a pipe has no address");
    write_all(w, "through a pipe\n");
    cr_assert_eq(cio_stream_write_eof(w), 0, "closes the write end");
    cr_assert_eq(cio_stream_read_line(r, buf, sizeof buf), 15);
    cr_assert_eq(cio_stream_read(r, buf, sizeof buf), 0);
    cr_assert(cio_stream_at_eof(r));
    cr_assert_eq(cio_stream_close(w), 0);
    cr_assert_eq(cio_stream_close(r), 0);

    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    cr_assert_eq(cio_stream_open_fd(&r, p[0], NULL), 0);
    cr_assert_eq(cio_stream_open_fd(&w, p[1], NULL), 0);
    cr_assert_eq(cio_stream_close(r), 0);
    cr_assert_eq(cio_stream_write(w, "x", 1), -EPIPE, "the reader is gone");
    cr_assert_eq(cio_stream_write(w, "x", 1), -EPIPE, "and stays gone");
    cr_assert_eq(cio_stream_close(w), -EPIPE, "close reports the failure too");
    return 0;
}

Test(stream, over_pipes_write_eof_ends_the_stream_and_a_gone_reader_gives_epipe)
{
    tst_run(pipes, NULL);
}

/* ------------------------------------------------------------------------------------------------ errors */

static int reset_mid_read(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    struct reader r = {0};
    tcp_pair(fds);
    stream_pair(s, fds, NULL);
    r.s = s[0];
    cr_assert_eq(cio_spawn(&t, read_once, &r, NULL), 0);
    cr_assert_eq(tk_yield_until(&r.started), 0);
    cio_stream_abort(s[1]);
    cr_assert_eq(cio_join(t), -ECONNRESET);
    cr_assert_eq(cio_stream_read(s[0], r.buf, sizeof r.buf), -ECONNRESET, "the error sticks");
    int rc = cio_stream_write(s[0], "x", 1);
    cr_assert(rc == -EPIPE || rc == -ECONNRESET, "write after reset: %s", cio_err_name(rc));
    cio_stream_abort(s[0]);
    return 0;
}

Test(stream, a_peer_reset_during_a_read_gives_econnreset)
{
    tst_run(reset_mid_read, NULL);
}

static int addresses(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_addr peer, local;
    tcp_pair(fds);
    stream_pair(s, fds, NULL);
    cr_assert_eq(cio_stream_peer_addr(s[0], &peer), 0);
    cr_assert_eq(cio_stream_local_addr(s[1], &local), 0);
    cr_assert_eq(peer.u.sa.sa_family, AF_INET);
    cr_assert_eq(peer.len, sizeof(struct sockaddr_in));
    cr_assert_eq(memcmp(&peer.u.ss, &local.u.ss, sizeof(struct sockaddr_in)), 0, "one end's peer is the other");
    cr_assert_eq(ntohl(((struct sockaddr_in *)&peer.u.ss)->sin_addr.s_addr), INADDR_LOOPBACK);
    cr_assert_eq(cio_stream_peer_addr(s[0], NULL), -EINVAL);
    close_pair(s);
    return 0;
}

Test(stream, peer_and_local_addresses_come_from_the_socket)
{
    tst_run(addresses, NULL);
}

static int cancel_read(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    struct reader r = {0};
    char buf[8];
    unix_pair(fds);
    stream_pair(s, fds, NULL);
    r.s = s[1];
    cr_assert_eq(cio_spawn(&t, read_once, &r, NULL), 0);
    cr_assert_eq(tk_yield_until(&r.started), 0);
    cr_assert_eq(cio_cancel(t, "test"), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    write_all(s[0], "still\n");
    cr_assert_eq(cio_stream_read_line(s[1], buf, sizeof buf), 6, "the stream is still usable");
    close_pair(s);
    return 0;
}

Test(stream, cancelling_a_read_leaves_the_stream_usable)
{
    tst_run(cancel_read, NULL);
}

struct collector {
    cio_stream *s;
    unsigned char *buf;
    size_t cap, got;
};

static int collect_to_eof(void *arg)
{
    struct collector *c = arg;
    ssize_t n;
    while (c->got < c->cap && (n = cio_stream_read(c->s, c->buf + c->got, c->cap - c->got)) > 0)
        c->got += (size_t)n;
    return 0;
}

struct blocked_writer {
    cio_stream *s;
    const unsigned char *data;
    size_t len;
    int started;
    int rc;
    int close_rc;
    bool close_after;
};

static int write_big(void *arg)
{
    struct blocked_writer *b = arg;
    b->started = 1;
    b->rc = cio_stream_write(b->s, b->data, b->len);
    if (b->close_after)
        b->close_rc = cio_stream_close(b->s);
    return b->rc;
}

static unsigned char *pattern(size_t n)
{
    unsigned char *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = pat(i);
    return p;
}

static int cancel_write_then_use(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    size_t n = 4 << 20, got = 0;
    cio_stream_opts o = {.high_water = 4096};
    unix_pair(fds);
    stream_pair(s, fds, &o);
    struct blocked_writer b = {.s = s[0], .data = pattern(n), .len = n};
    cr_assert_eq(cio_spawn(&t, write_big, &b, NULL), 0);
    cr_assert_eq(tk_yield_until(&b.started), 0);
    cr_assert_not(cio_task_done(t), "nobody reads: the write waits");
    cr_assert_eq(cio_cancel(t, "test"), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    /* Some prefix of the data went out or is queued; more can follow, then the end. */
    struct collector c = {.s = s[1], .buf = malloc(n + 4), .cap = n + 4};
    cio_task *rt;
    cr_assert_eq(cio_spawn(&rt, collect_to_eof, &c, NULL), 0);
    cr_assert_eq(cio_stream_write(s[0], "TAIL", 4), 0);
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cr_assert_eq(cio_join(rt), 0);
    got = c.got;
    cr_assert_gt(got, 4);
    cr_assert_lt(got, n + 4, "the cancelled write stopped early");
    cr_assert_eq(memcmp(c.buf, b.data, got - 4), 0, "a prefix of the cancelled write");
    cr_assert_eq(memcmp(c.buf + got - 4, "TAIL", 4), 0, "then what was written after");
    free(c.buf);
    free((void *)b.data);
    close_pair(s);
    return 0;
}

Test(stream, cancelling_a_blocked_write_leaves_the_stream_usable)
{
    tst_run(cancel_write_then_use, NULL);
}

static int cancel_write_then_close(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    size_t n = 4 << 20;
    cio_stream_opts o = {.high_water = 4096};
    unix_pair(fds);
    stream_pair(s, fds, &o);
    struct blocked_writer b = {.s = s[0], .data = pattern(n), .len = n, .close_after = true};
    cr_assert_eq(cio_spawn(&t, write_big, &b, NULL), 0);
    cr_assert_eq(tk_yield_until(&b.started), 0);
    cr_assert_eq(cio_cancel(t, "test"), 0);
    cr_assert_eq(cio_join(t), -ECANCELED);
    cr_assert_eq(b.close_rc, -ECANCELED, "a cancelled task's close does not wait, and says why it stopped");
    free((void *)b.data);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(stream, close_in_a_cancelled_task_returns_at_once_and_frees_everything)
{
    tst_run(cancel_write_then_close, NULL);
}

static int close_under_reader(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    struct reader r = {0};
    unix_pair(fds);
    stream_pair(s, fds, NULL);
    r.s = s[1];
    cr_assert_eq(cio_spawn(&t, read_once, &r, NULL), 0);
    cr_assert_eq(tk_yield_until(&r.started), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    cr_assert_eq(cio_join(t), -EBADF, "the suspended read fails; the stream is freed after it");
    cr_assert_eq(cio_stream_close(s[0]), 0);
    return 0;
}

Test(stream, closing_a_stream_under_a_suspended_reader_fails_that_read_with_ebadf)
{
    tst_run(close_under_reader, NULL);
}

/* ------------------------------------------------------------------------------------------------ sendfile */

static int send_a_file(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    char path[] = "/tmp/cio-stream-XXXXXX";
    size_t n = 3 << 20;
    int f = mkstemp(path);
    cr_assert_geq(f, 0);
    unlink(path);
    unsigned char *data = pattern(n);
    cr_assert_eq(write(f, data, n), (ssize_t)n);
    unix_pair(fds);
    stream_pair(s, fds, NULL);
    struct counter c = {.s = s[1]};
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, count_to_eof, &c, NULL), 0);
    write_all(s[0], "head");
    cr_assert_eq(cio_stream_sendfile(s[0], f, 10, n - 10), (ssize_t)(n - 10));
    cr_assert_eq(cio_stream_sendfile(s[0], f, (off_t)n - 5, 100), 5, "fewer at the file's end");
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(c.got, 4 + n - 10 + 5);
    cr_assert_eq(cio_stream_sendfile(s[0], f, 0, 1), -EINVAL, "after write_eof");
    close(f);
    free(data);
    close_pair(s);
    return 0;
}

Test(stream, sendfile_sends_a_file_range_after_the_buffered_bytes)
{
    tst_run(send_a_file, NULL);
}

static int sendfile_content(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2];
    cio_task *t;
    char path[] = "/tmp/cio-stream-XXXXXX";
    size_t n = 1 << 20;
    int f = mkstemp(path);
    cr_assert_geq(f, 0);
    unlink(path);
    unsigned char *data = pattern(n);
    cr_assert_eq(write(f, data, n), (ssize_t)n);
    unix_pair(fds);
    stream_pair(s, fds, NULL);
    struct collector c = {.s = s[1], .buf = malloc(n), .cap = n};
    cr_assert_eq(cio_spawn(&t, collect_to_eof, &c, NULL), 0);
    cr_assert_eq(cio_stream_sendfile(s[0], f, 0, n), (ssize_t)n);
    cr_assert_eq(cio_join(t), 0);
    cr_assert_eq(c.got, n);
    cr_assert_eq(memcmp(c.buf, data, n), 0, "the same bytes, in order");
    free(c.buf);
    free(data);
    close(f);
    close_pair(s);
    return 0;
}

Test(stream, sendfile_then_read_gives_the_same_bytes)
{
    tst_run(sendfile_content, NULL);
}

/* ------------------------------------------------------------------------------------------------ bad input */

static int bad_input(void *arg)
{
    (void)arg;
    int fds[2];
    cio_stream *s[2], *out = (cio_stream *)&out;
    char buf[8];
    const char *line;
    const void *chunk;
    size_t len;
    unix_pair(fds);
    cr_assert_eq(cio_stream_open_fd(&out, -1, NULL), -EBADF);
    cr_assert_null(out);
    cr_assert_eq(cio_stream_open_fd(NULL, fds[0], NULL), -EINVAL);
    cr_assert_eq(fcntl(fds[0], F_GETFD), -1, "the stream owned the descriptor: it was closed");
    cio_stream_opts o = {.high_water = 10, .low_water = 20};
    cr_assert_eq(cio_stream_open_fd(&out, fds[1], &o), -EINVAL);
    cr_assert_eq(fcntl(fds[1], F_GETFD), -1);

    cr_assert_eq(cio_stream_read(NULL, buf, 1), -EINVAL);
    cr_assert_eq(cio_stream_read_exactly(NULL, buf, 1, NULL), -EINVAL);
    cr_assert_eq(cio_stream_read_line(NULL, buf, 1), -EINVAL);
    cr_assert_eq(cio_stream_read_until(NULL, "x", 1, buf, 1), -EINVAL);
    cr_assert_eq(cio_stream_next_line(NULL, &line, &len), -EINVAL);
    cr_assert_eq(cio_stream_next_chunk(NULL, &chunk, &len), -EINVAL);
    cr_assert_eq(cio_stream_write(NULL, "x", 1), -EINVAL);
    cr_assert_eq(cio_stream_writev(NULL, NULL, 0), -EINVAL);
    cr_assert_eq(cio_stream_drain(NULL), -EINVAL);
    cr_assert_eq(cio_stream_write_eof(NULL), -EINVAL);
    cr_assert_eq(cio_stream_fd(NULL), -EINVAL);
    cr_assert_eq(cio_stream_sendfile(NULL, 0, 0, 1), -EINVAL);
    cr_assert_not(cio_stream_at_eof(NULL));
    cr_assert_eq(cio_stream_close(NULL), 0);
    cio_stream_abort(NULL);

    unix_pair(fds);
    stream_pair(s, fds, NULL);
    cr_assert_eq(cio_stream_read(s[0], NULL, 1), -EINVAL);
    cr_assert_eq(cio_stream_read(s[0], buf, 0), -EINVAL, "cap 0");
    cr_assert_eq(cio_stream_read_exactly(s[0], NULL, 1, NULL), -EINVAL);
    cr_assert_eq(cio_stream_read_line(s[0], NULL, 8), -EINVAL);
    cr_assert_eq(cio_stream_read_line(s[0], buf, 0), -EINVAL);
    cr_assert_eq(cio_stream_read_until(s[0], NULL, 1, buf, 8), -EINVAL);
    cr_assert_eq(cio_stream_read_until(s[0], "x", 0, buf, 8), -EINVAL);
    cr_assert_eq(cio_stream_next_line(s[0], NULL, &len), -EINVAL);
    cr_assert_eq(cio_stream_next_chunk(s[0], &chunk, NULL), -EINVAL);
    cr_assert_eq(cio_stream_write(s[0], NULL, 1), -EINVAL);
    cr_assert_eq(cio_stream_write(s[0], NULL, 0), 0, "nothing to write");
    struct iovec v = {NULL, 3};
    cr_assert_eq(cio_stream_writev(s[0], &v, 1), -EINVAL);
    cr_assert_eq(cio_stream_writev(s[0], &v, -1), -EINVAL);
    cr_assert_eq(cio_stream_sendfile(s[0], -1, 0, 1), -EINVAL);
    cr_assert_eq(cio_stream_sendfile(s[0], 0, -1, 1), -EINVAL);
    close_pair(s);
    return 0;
}

Test(stream, bad_arguments_give_einval_and_open_owns_the_descriptor_even_on_failure)
{
    tst_run(bad_input, NULL);
}

static void *no_loop_thread(void *arg)
{
    int *fd = arg;
    cio_stream *s;
    fd[1] = cio_stream_open_fd(&s, fd[0], NULL);
    return NULL;
}

Test(stream, open_without_a_loop_gives_enoloop_and_closes_the_descriptor)
{
    int fds[2], arg[2];
    unix_pair(fds);
    arg[0] = fds[0];
    thk_join(thk_start(no_loop_thread, arg));
    cr_assert_eq(arg[1], CIO_ENOLOOP);
    cr_assert_eq(fcntl(fds[0], F_GETFD), -1);
    close(fds[1]);
}
