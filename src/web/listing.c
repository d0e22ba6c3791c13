/* listing.c: a static route's HTML listing of a directory without its index file (aiohttp's show_index):
 * names escaped, hidden ones left out unless asked for, directories first. */
#include "web/web.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------------------------------------------ listings */

struct listed {
    char *name;
    bool dir;
    off_t size;
    time_t mtime;
};

static int by_name(const void *a, const void *b)
{
    const struct listed *x = a, *y = b;
    if (x->dir != y->dir)
        return x->dir ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Append `s` to the buffer, HTML-escaped. */
struct html {
    char *p;
    size_t len, cap;
    int err;
};

static void html_put(struct html *h, const char *s, size_t n)
{
    if (h->err)
        return;
    if (h->len + n + 1 > h->cap) {
        size_t cap = h->cap ? h->cap : 4096;
        while (cap < h->len + n + 1)
            cap *= 2;
        char *p = cio__realloc(h->p, cap);
        if (!p) {
            h->err = -ENOMEM;
            return;
        }
        h->p = p;
        h->cap = cap;
    }
    memcpy(h->p + h->len, s, n);
    h->len += n;
    h->p[h->len] = '\0';
}

static void html_lit(struct html *h, const char *s)
{
    html_put(h, s, strlen(s));
}

static void html_text(struct html *h, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            html_put(h, "&amp;", 5);
            break;
        case '<':
            html_put(h, "&lt;", 4);
            break;
        case '>':
            html_put(h, "&gt;", 4);
            break;
        case '"':
            html_put(h, "&quot;", 6);
            break;
        case '\'':
            html_put(h, "&#39;", 5);
            break;
        default:
            html_put(h, s, 1);
        }
    }
}

int cio__web_listing(cio_web_response *res, int dirfd, const char *shown, const cio_web_static_opts *o)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cio_web_error(res, 403);
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return cio_web_error(res, 403);
    }
    struct listed *items = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (!cio__web_segment_ok(de->d_name, strlen(de->d_name), o->show_hidden))
            continue;
        struct stat sb;
        if (fstatat(dirfd, de->d_name, &sb, o->follow_symlinks ? 0 : AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (!S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct listed *ni = cio__realloc(items, nc * sizeof *ni);
            if (!ni) {
                rc = -ENOMEM;
                break;
            }
            items = ni;
            cap = nc;
        }
        char *name = cio__malloc(strlen(de->d_name) + 1);
        if (!name) {
            rc = -ENOMEM;
            break;
        }
        strcpy(name, de->d_name);
        items[n++] = (struct listed){name, S_ISDIR(sb.st_mode), sb.st_size, sb.st_mtim.tv_sec};
    }
    closedir(d);
    if (n)
        qsort(items, n, sizeof *items, by_name);
    struct html h = {0};
    html_lit(&h, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
    html_text(&h, shown);
    html_lit(&h, "</title></head>\n<body><h1>Index of ");
    html_text(&h, shown);
    html_lit(&h, "</h1>\n<table>\n<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n");
    for (size_t i = 0; i < n && rc == 0; i++) {
        char href[1024], date[CIO_HTTP_DATE_LEN + 1], size[32];
        if (cio_url_encode(href, sizeof href, items[i].name, strlen(items[i].name), 0) < 0)
            continue;
        if (cio_http_date_format(date, items[i].mtime) < 0)
            date[0] = '\0';
        if (items[i].dir)
            strcpy(size, "-");
        else
            snprintf(size, sizeof size, "%lld", (long long)items[i].size);
        html_lit(&h, "<tr><td><a href=\"");
        html_text(&h, href);
        if (items[i].dir)
            html_lit(&h, "/");
        html_lit(&h, "\">");
        html_text(&h, items[i].name);
        if (items[i].dir)
            html_lit(&h, "/");
        html_lit(&h, "</a></td><td>");
        html_text(&h, size);
        html_lit(&h, "</td><td>");
        html_text(&h, date);
        html_lit(&h, "</td></tr>\n");
    }
    html_lit(&h, "</table>\n</body></html>\n");
    for (size_t i = 0; i < n; i++)
        cio__free(items[i].name);
    cio__free(items);
    if (rc == 0)
        rc = h.err;
    if (rc == 0)
        rc = cio_web_respond(res, 200, "text/html; charset=utf-8", h.p, h.len);
    cio__free(h.p);
    return rc;
}
