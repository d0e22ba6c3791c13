/* static.c: files from a directory (add_static, FileResponse): a root the request cannot leave, validators and
 * conditional requests, byte ranges, precompressed siblings, directory indexes, and a per-worker cache of open
 * files so a hot file costs no open per request. */
#include "web/web.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------------ opening safely */

/* A static root: the directory's descriptor and the options, copied. */
struct web_static {
    int dirfd;
    char *prefix; /* as registered, without a trailing "/" ("" for the root) */
    cio_web_static_opts opts;
    char *index, *cache_control, *default_type; /* the copies opts point to */
    cio_web_mime_type *types;                   /* ... and the table's, its strings in the same block */
};

static int have_openat2 = 1; /* cleared (for every thread: it is the kernel's answer) on ENOSYS */

void cio__web_static_force_walk(bool walk)
{
    __atomic_store_n(&have_openat2, walk ? 0 : 1, __ATOMIC_RELAXED);
}

/* Whether one decoded path segment may name a file: not empty, "." or "..", no "/", "\", NUL or control byte,
   valid UTF-8 (so no overlong forms), and not hidden unless allowed. */
bool cio__web_segment_ok(const char *s, size_t n, bool hidden)
{
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    if (s[0] == '.' && !hidden)
        return false;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\' || c == '/')
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (len == 0 || c > 0xf4 || i + len > n)
            return false;
        unsigned char c1 = (unsigned char)s[i + 1];
        if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
            (c == 0xf4 && c1 > 0x8f))
            return false;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] & 0xc0) != 0x80)
                return false;
        i += len;
    }
    return true;
}

/* Check the relative path `rel` ("a/b/c", no leading "/", maybe a trailing one) segment by segment. */
static bool rel_ok(const char *rel, bool hidden)
{
    const char *p = rel;
    while (*p) {
        const char *s = p;
        while (*p && *p != '/')
            p++;
        if (!cio__web_segment_ok(s, (size_t)(p - s), hidden) && !(p - s == 0 && *p == '\0'))
            return false;
        if (*p == '/')
            p++;
    }
    return true;
}

/* Open `rel` below `dirfd` without leaving it: openat2's RESOLVE_BENEATH (a symlink may point anywhere inside the
   root, never outside; `outside` lifts that), else a walk that opens each directory with O_NOFOLLOW (no symlink
   at all). The file is opened for reading, non-blocking (a FIFO does not hang the loop). Returns the descriptor,
   or a negative errno. */
static int open_beneath(int dirfd, const char *rel, bool outside)
{
    const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    if (*rel == '\0')
        rel = ".";
    if (outside) {
        int fd = openat(dirfd, rel, flags);
        return fd >= 0 ? fd : -errno;
    }
    if (__atomic_load_n(&have_openat2, __ATOMIC_RELAXED)) {
        struct open_how how = {.flags = flags, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
        long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
        if (fd >= 0)
            return (int)fd;
        if (errno != ENOSYS)
            return errno == EXDEV ? -ENOENT : -errno;
        __atomic_store_n(&have_openat2, 0, __ATOMIC_RELAXED);
    }
    int cur = dirfd;
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        char seg[256];
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n >= sizeof seg) {
            if (cur != dirfd)
                close(cur);
            return -ENAMETOOLONG;
        }
        memcpy(seg, p, n);
        seg[n] = '\0';
        bool last = !slash || slash[1] == '\0';
        int lf = flags | O_NOFOLLOW | (slash ? O_DIRECTORY : 0); /* "name/" names a directory, as in a path */
        int fd = openat(cur, seg, last ? lf : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        if (cur != dirfd)
            close(cur);
        if (fd < 0)
            return err == ELOOP || err == ENOTDIR ? -ENOENT : -err;
        if (last)
            return fd;
        cur = fd;
        p = slash + 1;
    }
}

/* ---------------------------------------------------------------------------------------- open-file cache */

/* A file (or a known absence) opened for a static root, shared by the requests that serve it. */
struct file_entry {
    struct file_entry *next; /* in its bucket */
    const struct web_static *st;
    char *rel;
    int fd; /* -1: there is no such file */
    int err;
    struct stat sb;
    int64_t checked; /* cio_now() of the open */
    uint64_t used;   /* the cache's clock at the last use */
    unsigned users;  /* requests using fd now */
    bool evicted;    /* closed when the last user is done */
    /* Worked out once per entry: the validators, and a small file's bytes (read at its first whole-body use),
       which go out from memory with the head in one write instead of a write and a sendfile. */
    bool have_validators, small_tried;
    char etag[64];
    char last_modified[CIO_HTTP_DATE_LEN + 1];
    char *small; /* NULL: not read (too large, or the read fell short) */
};

#define FILE_BUCKETS 256

struct web_files {
    struct file_entry *buckets[FILE_BUCKETS];
    size_t count;
    uint64_t clock;
};

static uint32_t hash_rel(const void *st, const char *rel)
{
    uint32_t h = 2166136261u ^ (uint32_t)(uintptr_t)st;
    for (; *rel; rel++)
        h = (h ^ (unsigned char)*rel) * 16777619u;
    return h;
}

static void entry_free(struct file_entry *e)
{
    if (e->fd >= 0)
        close(e->fd);
    cio__free(e->small);
    cio__free(e->rel);
    cio__free(e);
}

static void entry_release(struct file_entry *e)
{
    if (!e)
        return;
    if (--e->users == 0 && e->evicted)
        entry_free(e);
}

static void unlink_entry(struct web_files *fc, struct file_entry *e)
{
    for (struct file_entry **pp = &fc->buckets[hash_rel(e->st, e->rel) % FILE_BUCKETS]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            fc->count--;
            break;
        }
    if (e->users)
        e->evicted = true;
    else
        entry_free(e);
}

void cio__web_files_free(struct web_files *fc)
{
    if (!fc)
        return;
    for (size_t b = 0; b < FILE_BUCKETS; b++)
        while (fc->buckets[b])
            unlink_entry(fc, fc->buckets[b]);
    cio__free(fc);
}

/* An entry for `rel`, fresh (opened within the cache's validity), with one more user; NULL and *err on failure. */
static struct file_entry *file_get(struct cio_web_server *srv, const struct web_static *st, const char *rel, int *err)
{
    int64_t valid = st->opts.cache_valid == 0 ? CIO_SEC(1) : st->opts.cache_valid;
    size_t max = st->opts.cache_max ? st->opts.cache_max : 256;
    struct web_files *fc = valid > 0 ? srv->files : NULL;
    if (!fc && valid > 0) {
        fc = srv->files = cio__calloc(1, sizeof *fc);
        if (!fc) {
            *err = -ENOMEM;
            return NULL;
        }
    }
    int64_t now = cio_now();
    struct file_entry *e = NULL;
    if (fc) {
        for (e = fc->buckets[hash_rel(st, rel) % FILE_BUCKETS]; e; e = e->next)
            if (e->st == st && strcmp(e->rel, rel) == 0)
                break;
        if (e && now - e->checked > valid) {
            /* re-checked once its time is up: a file changed or replaced is seen within `valid` */
            struct stat sb;
            int fd = open_beneath(st->dirfd, rel, st->opts.follow_symlinks);
            bool same = fd >= 0 && e->fd >= 0 && fstat(fd, &sb) == 0 && sb.st_ino == e->sb.st_ino &&
                        sb.st_dev == e->sb.st_dev && sb.st_size == e->sb.st_size &&
                        sb.st_mtim.tv_sec == e->sb.st_mtim.tv_sec && sb.st_mtim.tv_nsec == e->sb.st_mtim.tv_nsec;
            if (fd >= 0)
                close(fd);
            if (same) {
                e->checked = now;
            } else {
                unlink_entry(fc, e);
                e = NULL;
            }
        }
    }
    if (!e) {
        e = cio__calloc(1, sizeof *e);
        char *r = e ? cio__malloc(strlen(rel) + 1) : NULL;
        if (!r) {
            cio__free(e);
            *err = -ENOMEM;
            return NULL;
        }
        strcpy(r, rel);
        e->st = st;
        e->rel = r;
        e->checked = now;
        e->fd = open_beneath(st->dirfd, rel, st->opts.follow_symlinks);
        if (e->fd < 0) {
            e->err = e->fd;
            e->fd = -1;
        } else if (fstat(e->fd, &e->sb) < 0) {
            e->err = -errno;
            close(e->fd);
            e->fd = -1;
        }
        if (!fc) { /* no cache: the entry lives as long as its request */
            e->evicted = true;
        } else {
            if (fc->count >= max) {
                struct file_entry *old = NULL;
                for (size_t b = 0; b < FILE_BUCKETS; b++)
                    for (struct file_entry *x = fc->buckets[b]; x; x = x->next)
                        if (!old || x->used < old->used)
                            old = x;
                if (old)
                    unlink_entry(fc, old);
            }
            struct file_entry **head = &fc->buckets[hash_rel(st, rel) % FILE_BUCKETS];
            e->next = *head;
            *head = e;
            fc->count++;
        }
    }
    if (fc)
        e->used = ++fc->clock;
    e->users++;
    return e;
}

/* ------------------------------------------------------------------------------------------------ validators */

static int etag_of(const struct stat *sb, char *dst, size_t cap)
{
    return snprintf(dst, cap, "\"%llx-%llx-%llx\"", (unsigned long long)sb->st_ino, (unsigned long long)sb->st_size,
                    (unsigned long long)sb->st_mtim.tv_sec * 1000000000ull + (unsigned long long)sb->st_mtim.tv_nsec);
}

static cio_http_str field(cio_web_request *req, const char *name, bool *present)
{
    const cio_http_header *h = cio_http_header_find(cio_web_head(req), name, NULL);
    *present = h != NULL;
    return h ? h->value : (cio_http_str){"", 0};
}

enum { COND_SERVE, COND_304, COND_412 };

/* RFC 9110 section 13.2.2: the preconditions in their order. */
static int preconditions(cio_web_request *req, const char *etag, int64_t mtime, bool get)
{
    bool has;
    cio_http_str v = field(req, "If-Match", &has), et = {etag, strlen(etag)};
    int64_t t;
    if (has) {
        if (cio_http_etag_match(v, et, 0) != 1)
            return COND_412;
    } else {
        v = field(req, "If-Unmodified-Since", &has);
        if (has && cio_http_date_parse(v, &t) == 0 && mtime > t)
            return COND_412;
    }
    v = field(req, "If-None-Match", &has);
    if (has) {
        if (cio_http_etag_match(v, et, CIO_HTTP_ETAG_WEAK) == 1)
            return get ? COND_304 : COND_412;
    } else if (get) {
        v = field(req, "If-Modified-Since", &has);
        if (has && cio_http_date_parse(v, &t) == 0 && mtime <= t)
            return COND_304;
    }
    return COND_SERVE;
}

/* Whether a Range may apply: no If-Range, or one that matches the representation exactly (a strong ETag, or the
   Last-Modified date itself). */
static bool if_range_ok(cio_web_request *req, const char *etag, int64_t mtime)
{
    bool has;
    cio_http_str v = field(req, "If-Range", &has);
    if (!has)
        return true;
    while (v.len && (v.ptr[0] == ' ' || v.ptr[0] == '\t'))
        v.ptr++, v.len--;
    if (v.len && (v.ptr[0] == '"' || v.ptr[0] == 'W'))
        return cio_http_etag_match(v, (cio_http_str){etag, strlen(etag)}, 0) == 1;
    int64_t t;
    return cio_http_date_parse(v, &t) == 0 && t == mtime;
}

/* -------------------------------------------------------------------------------------------------- serving */

static int set_validators(cio_web_response *res, struct file_entry *e, const cio_web_static_opts *o)
{
    if (!e->have_validators) {
        etag_of(&e->sb, e->etag, sizeof e->etag);
        if (cio_http_date_format(e->last_modified, e->sb.st_mtim.tv_sec) <= 0)
            e->last_modified[0] = 0;
        e->have_validators = true;
    }
    int rc = cio_web_set_header(res, "ETag", e->etag);
    if (rc == 0 && e->last_modified[0])
        rc = cio_web_set_header(res, "Last-Modified", e->last_modified);
    if (rc == 0 && o->cache_control)
        rc = cio_web_set_header(res, "Cache-Control", o->cache_control);
    return rc;
}

static const char *name_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Content-Disposition for a download: the name as a quoted string (ASCII, '"' and '\' escaped, others as '_'),
   and RFC 8187's filename* with every non-attr-char percent-encoded. */
static int set_disposition(cio_web_response *res, const char *name)
{
    char v[1024], *o = v, *e = v + sizeof v - 1;
    o += snprintf(o, (size_t)(e - o), "attachment; filename=\"");
    for (const char *p = name; *p && o < e - 40; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            *o++ = '\\', *o++ = (char)c;
        else
            *o++ = c < 0x20 || c >= 0x7f ? '_' : (char)c;
    }
    o += snprintf(o, (size_t)(e - o), "\"; filename*=UTF-8''");
    ssize_t n = cio_url_encode(o, (size_t)(e - o), name, strlen(name), 0);
    if (n < 0)
        *o = '\0';
    return cio_web_set_header(res, "Content-Disposition", v);
}

/* Cork the connection around a large body's head and its first sendfile, so the head leaves with the file's first
   bytes in full segments (nginx's tcp_nopush) rather than as a small segment of its own. */
enum { CORK_MIN = 16 * 1024 };

static void cork(cio_web_request *req, int on)
{
    int fd = cio_stream_fd(cio_web_stream(req));
    if (fd >= 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on); /* not TCP (a Unix socket): nothing to do */
}

/* Files up to this size are kept in their cache entry and sent from memory. */
enum { SMALL_MAX = 16 * 1024 };

/* The small file's bytes, read once per entry (a file that changes is a new entry within cache_valid). */
static const char *small_bytes(struct file_entry *e)
{
    if (!e->small_tried) {
        e->small_tried = true;
        size_t size = (size_t)e->sb.st_size;
        char *b = size <= SMALL_MAX ? cio__malloc(size ? size : 1) : NULL;
        size_t got = 0;
        while (b && got < size) {
            ssize_t n = pread(e->fd, b + got, size - got, (off_t)got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (b && got == size)
            e->small = b;
        else
            cio__free(b);
    }
    return e->small;
}

static int send_range(cio_web_request *req, cio_web_response *res, struct file_entry *e, uint64_t first, uint64_t len)
{
    const char *mem = e->sb.st_size <= SMALL_MAX ? small_bytes(e) : NULL;
    if (mem) /* with the head, in the connection's next write */
        return cio_web_respond(res, cio_web_status_of(res), NULL, mem + first, (size_t)len);
    int fd = e->fd;
    bool corked = len >= CORK_MIN && !req->head_method;
    if (corked)
        cork(req, 1);
    int rc = cio_web_prepare(res, (int64_t)len);
    ssize_t n = rc == 0 && len ? cio_web_sendfile(res, fd, (off_t)first, (size_t)len) : 0;
    if (corked)
        cork(req, 0);
    return rc < 0 ? rc : n < 0 ? (int)n : 0;
}

/* Serve the open regular file `e` (its representation, maybe a precompressed sibling of `name`). */
static int serve_file(cio_web_request *req, cio_web_response *res, struct file_entry *e, const char *name,
                      const char *coding, const cio_web_static_opts *o)
{
    const struct stat *sb = &e->sb;
    bool get = !strcmp(cio_web_method(req), "GET") || !strcmp(cio_web_method(req), "HEAD");
    int rc = set_validators(res, e, o);
    const char *etag = e->etag;
    const char *type = cio_web_mime_type_for(name, o->types);
    if (!type)
        type = o->default_type ? o->default_type : "application/octet-stream";
    if (rc == 0 && o->precompressed)
        rc = cio_web_add_header(res, "Vary", "Accept-Encoding");
    if (rc < 0)
        return rc;
    int cond = preconditions(req, etag, sb->st_mtim.tv_sec, get);
    if (cond == COND_304) {
        cio_web_status(res, 304, NULL);
        return cio_web_prepare(res, 0);
    }
    if (cond == COND_412)
        return cio_web_error(res, 412);
    if ((rc = cio_web_set_header(res, "Content-Type", type)) < 0 ||
        (rc = cio_web_set_header(res, "Accept-Ranges", "bytes")) < 0)
        return rc;
    if (coding && (rc = cio_web_set_header(res, "Content-Encoding", coding)) < 0)
        return rc;
    if (o->download && (rc = set_disposition(res, name)) < 0)
        return rc;
    uint64_t size = (uint64_t)sb->st_size;
    bool has_range;
    cio_http_str rv = field(req, "Range", &has_range);
    cio_http_range ranges[64];
    size_t max = o->max_ranges ? o->max_ranges : 16;
    if (max > sizeof ranges / sizeof *ranges)
        max = sizeof ranges / sizeof *ranges;
    int nr = 0;
    if (has_range && !strcmp(cio_web_method(req), "GET") && if_range_ok(req, etag, sb->st_mtim.tv_sec))
        nr = cio_http_range_parse(rv, size, ranges, max);
    if (nr == CIO_EHTTP_RANGE_NOT_SATISFIABLE) {
        char cr[48];
        snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
        if ((rc = cio_web_set_header(res, "Content-Range", cr)) < 0)
            return rc;
        cio_web_remove_header(res, "Content-Type");
        return cio_web_error(res, 416);
    }
    if (nr == 1) {
        char cr[80];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)ranges[0].first,
                 (unsigned long long)ranges[0].last, (unsigned long long)size);
        if ((rc = cio_web_set_header(res, "Content-Range", cr)) < 0 || (rc = cio_web_status(res, 206, NULL)) < 0)
            return rc;
        return send_range(req, res, e, ranges[0].first, ranges[0].last - ranges[0].first + 1);
    }
    if (nr > 1) {
        char boundary[80], ct[128];
        if ((rc = cio_http_multipart_boundary_new(boundary, sizeof boundary)) < 0)
            return rc;
        snprintf(ct, sizeof ct, "multipart/byteranges; boundary=%s", boundary);
        /* each part: CRLF "--" boundary CRLF Content-Type CRLF Content-Range CRLF CRLF data; then the close */
        char part[512];
        uint64_t total = 0;
        for (int i = 0; i < nr; i++) {
            int k = snprintf(part, sizeof part,
                             "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n", boundary,
                             type, (unsigned long long)ranges[i].first, (unsigned long long)ranges[i].last,
                             (unsigned long long)size);
            total += (uint64_t)k + ranges[i].last - ranges[i].first + 1;
        }
        total += strlen(boundary) + 8;
        if ((rc = cio_web_set_header(res, "Content-Type", ct)) < 0 || (rc = cio_web_status(res, 206, NULL)) < 0 ||
            (rc = cio_web_prepare(res, (int64_t)total)) < 0)
            return rc;
        for (int i = 0; i < nr; i++) {
            int k = snprintf(part, sizeof part,
                             "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n", boundary,
                             type, (unsigned long long)ranges[i].first, (unsigned long long)ranges[i].last,
                             (unsigned long long)size);
            if ((rc = cio_web_write(res, part, (size_t)k)) < 0)
                return rc;
            ssize_t n =
                cio_web_sendfile(res, e->fd, (off_t)ranges[i].first, (size_t)(ranges[i].last - ranges[i].first + 1));
            if (n < 0)
                return (int)n;
        }
        int k = snprintf(part, sizeof part, "\r\n--%s--\r\n", boundary);
        return cio_web_write(res, part, (size_t)k);
    }
    /* the whole representation (a malformed Range, or too many ranges, are ignored: RFC 9110 14.2) */
    if (o->compress && !coding && (rc = cio_web_compress(res, 0)) < 0)
        return rc;
    return send_range(req, res, e, 0, size);
}

/* ------------------------------------------------------------------------------------------- the handlers */

/* The precompressed sibling to serve for `rel`, if the client takes one and it exists: its entry and coding. */
static struct file_entry *sibling(cio_web_request *req, const struct web_static *st, const char *rel,
                                  const char **coding)
{
    static const struct {
        int coding;
        const char *ext;
    } kinds[] = {{CIO_HTTP_CODING_BR, ".br"}, {CIO_HTTP_CODING_ZSTD, ".zst"}, {CIO_HTTP_CODING_GZIP, ".gz"}};
    bool has;
    cio_http_str ae = field(req, "Accept-Encoding", &has);
    if (!has)
        return NULL;
    unsigned offered = 0;
    for (size_t i = 0; i < 3; i++)
        offered |= CIO_HTTP_CODING_BIT(kinds[i].coding);
    size_t rl = strlen(rel);
    char path[4096];
    if (rl + 5 > sizeof path)
        return NULL;
    while (offered) {
        int c = cio_http_accept_coding(ae, true, offered);
        if (c <= CIO_HTTP_CODING_IDENTITY)
            return NULL;
        offered &= ~CIO_HTTP_CODING_BIT(c);
        const char *ext = NULL;
        for (size_t i = 0; i < 3; i++)
            if (kinds[i].coding == c)
                ext = kinds[i].ext;
        memcpy(path, rel, rl);
        strcpy(path + rl, ext);
        int err;
        struct file_entry *e = file_get(req->srv, st, path, &err);
        if (e && e->fd >= 0 && S_ISREG(e->sb.st_mode)) {
            *coding = cio_http_coding_name(c);
            return e;
        }
        entry_release(e);
    }
    return NULL;
}

static int static_handler(cio_web_request *req, cio_web_response *res, void *arg)
{
    const struct web_static *st = arg;
    const cio_web_static_opts *o = &st->opts;
    const char *tail = cio_web_match(req, "cio_static_path");
    if (!tail)
        tail = "";
    if (!rel_ok(tail, o->show_hidden))
        return cio_web_error(res, 404);
    int err = 0;
    struct file_entry *e = file_get(req->srv, st, tail, &err);
    if (!e)
        return err;
    int rc;
    if (e->fd < 0) {
        rc = cio_web_error(res, e->err == -EACCES ? 403 : 404);
    } else if (S_ISDIR(e->sb.st_mode)) {
        size_t tl = strlen(tail);
        if (tl > 0 && tail[tl - 1] != '/') {
            /* "/dir" -> "/dir/", keeping the query; the target as sent, so nothing is decoded twice */
            const char *target = cio_web_target(req), *q = strchr(target, '?');
            size_t pl = q ? (size_t)(q - target) : strlen(target);
            char *loc = cio__malloc(strlen(target) + 2);
            if (!loc) {
                rc = -ENOMEM;
            } else {
                memcpy(loc, target, pl);
                loc[pl] = '/';
                strcpy(loc + pl + 1, q ? q : "");
                rc = cio_web_redirect(res, 301, loc);
                cio__free(loc);
            }
        } else {
            const char *index = o->index ? o->index : "index.html";
            struct file_entry *ix = NULL;
            char path[4096];
            if (*index && tl + strlen(index) + 1 < sizeof path) {
                snprintf(path, sizeof path, "%s%s", tail, index);
                ix = file_get(req->srv, st, path, &err);
                if (!ix && err == -ENOMEM) {
                    entry_release(e);
                    return err;
                }
            }
            if (ix && ix->fd >= 0 && S_ISREG(ix->sb.st_mode)) {
                const char *coding = NULL;
                struct file_entry *pc = o->precompressed ? sibling(req, st, path, &coding) : NULL;
                rc = serve_file(req, res, pc ? pc : ix, index, coding, o);
                entry_release(pc);
            } else if (o->show_index) {
                char shown[4096];
                snprintf(shown, sizeof shown, "%s/%s", st->prefix, tail);
                rc = cio__web_listing(res, e->fd, shown, o);
            } else {
                rc = cio_web_error(res, 403);
            }
            entry_release(ix);
        }
    } else if (!S_ISREG(e->sb.st_mode)) {
        rc = cio_web_error(res, 404); /* devices, FIFOs and sockets are never served */
    } else {
        const char *coding = NULL;
        struct file_entry *pc = o->precompressed ? sibling(req, st, tail, &coding) : NULL;
        rc = serve_file(req, res, pc ? pc : e, name_of(tail), coding, o);
        entry_release(pc);
    }
    entry_release(e);
    return rc;
}

static void static_free(void *p)
{
    struct web_static *st = p;
    if (st->dirfd >= 0)
        close(st->dirfd);
    cio__free(st->prefix);
    cio__free(st->index);
    cio__free(st->cache_control);
    cio__free(st->default_type);
    cio__free(st->types);
    cio__free(st);
}

static char *dup_or_null(const char *s, int *err)
{
    if (!s)
        return NULL;
    char *d = cio__malloc(strlen(s) + 1);
    if (!d)
        *err = -ENOMEM;
    else
        strcpy(d, s);
    return d;
}

static int redirect_to_slash(cio_web_request *req, cio_web_response *res, void *arg)
{
    (void)arg;
    const char *target = cio_web_target(req), *q = strchr(target, '?');
    size_t pl = q ? (size_t)(q - target) : strlen(target);
    char *loc = cio__malloc(strlen(target) + 2);
    if (!loc)
        return -ENOMEM;
    memcpy(loc, target, pl);
    loc[pl] = '/';
    strcpy(loc + pl + 1, q ? q : "");
    int rc = cio_web_redirect(res, 301, loc);
    cio__free(loc);
    return rc;
}

int cio_web_add_static(cio_web_app *app, const char *prefix, const char *dir, const cio_web_static_opts *opts)
{
    if (!app || !prefix || !dir || prefix[0] != '/')
        return -EINVAL;
    size_t pl = strlen(prefix);
    while (pl > 0 && prefix[pl - 1] == '/')
        pl--;
    if (strchr(prefix, '{'))
        return CIO_EWEB_BAD_PATTERN;
    if (app->frozen)
        return CIO_EWEB_FROZEN;
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    struct web_static *st = cio__calloc(1, sizeof *st);
    int err = 0;
    if (!st) {
        close(dfd);
        return -ENOMEM;
    }
    st->dirfd = dfd;
    if (opts)
        st->opts = *opts;
    st->prefix = cio__malloc(pl + 1);
    if (st->prefix) {
        memcpy(st->prefix, prefix, pl);
        st->prefix[pl] = '\0';
    } else {
        err = -ENOMEM;
    }
    st->opts.index = st->index = dup_or_null(opts ? opts->index : NULL, &err);
    st->opts.cache_control = st->cache_control = dup_or_null(opts ? opts->cache_control : NULL, &err);
    st->opts.default_type = st->default_type = dup_or_null(opts ? opts->default_type : NULL, &err);
    if (opts && opts->types) {
        size_t n = 0, bytes = 0;
        for (const cio_web_mime_type *t = opts->types; t->ext; t++, n++)
            bytes += strlen(t->ext) + strlen(t->type ? t->type : "") + 2;
        st->types = cio__malloc((n + 1) * sizeof *st->types + bytes);
        if (st->types) {
            char *q = (char *)(st->types + n + 1);
            for (size_t i = 0; i < n; i++) {
                const char *src[2] = {opts->types[i].ext, opts->types[i].type ? opts->types[i].type : ""};
                const char **dst[2] = {&st->types[i].ext, &st->types[i].type};
                for (int k = 0; k < 2; k++) {
                    *dst[k] = q;
                    q = stpcpy(q, src[k]) + 1;
                }
            }
            st->types[n] = (cio_web_mime_type){NULL, NULL};
        } else {
            err = -ENOMEM;
        }
        st->opts.types = st->types;
    }
    char *pattern = cio__malloc(pl + 32);
    if (!pattern)
        err = -ENOMEM;
    if (err == 0) {
        snprintf(pattern, pl + 32, "%s/{cio_static_path:path}", st->prefix);
        err = cio_web_get(app, pattern, static_handler, st);
        if (err == 0 && pl > 0) {
            err = cio_web_get(app, st->prefix, redirect_to_slash, NULL);
            if (err == CIO_EWEB_ROUTE_EXISTS)
                err = 0; /* the application serves the bare prefix itself */
        }
    }
    cio__free(pattern);
    if (err == 0)
        err = cio__web_app_own(app, st, static_free);
    if (err < 0) {
        /* a route registered before the failure keeps pointing at st: the app must not be served; it only
           happens on -ENOMEM */
        static_free(st);
        return err;
    }
    return 0;
}

int cio_web_file(cio_web_request *req, cio_web_response *res, const char *path, const cio_web_static_opts *opts)
{
    if (!req || !res || !path)
        return -EINVAL;
    cio_web_static_opts o = opts ? *opts : (cio_web_static_opts){0};
    o.cache_valid = -1;       /* a handler's file is opened for its request */
    o.follow_symlinks = true; /* and the handler chose the path: nothing to confine it to */
    struct web_static st = {.dirfd = AT_FDCWD, .prefix = "", .opts = o};
    int err = 0;
    struct file_entry *e = file_get(req->srv, &st, path, &err);
    if (!e)
        return err;
    int rc;
    if (e->fd < 0)
        rc = cio_web_error(res, e->err == -EACCES ? 403 : 404);
    else if (!S_ISREG(e->sb.st_mode))
        rc = cio_web_error(res, 404);
    else
        rc = serve_file(req, res, e, name_of(path), NULL, &o);
    entry_release(e);
    return rc;
}
