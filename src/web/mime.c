/* mime.c: the Content-Type of a file by its extension, as Python's mimetypes.guess_type knows the common ones. */
#include "web/web.h"

#include <string.h>
#include <strings.h>

/* ----------------------------------------------------------------------------------------------- media types */

static const cio_web_mime_type builtin_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"bmp", "image/bmp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tgz", "application/gzip"},
    {"bz2", "application/x-bzip2"},
    {"xz", "application/x-xz"},
    {"zst", "application/zstd"},
    {"tar", "application/x-tar"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"wav", "audio/wav"},
    {"flac", "audio/flac"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"},
    {"c", "text/plain; charset=utf-8"},
    {"h", "text/plain; charset=utf-8"},
    {"py", "text/plain; charset=utf-8"},
    {"sh", "text/plain; charset=utf-8"},
    {"log", "text/plain; charset=utf-8"},
    {"yaml", "text/plain; charset=utf-8"},
    {"yml", "text/plain; charset=utf-8"},
    {"toml", "text/plain; charset=utf-8"},
    {"wat", "text/plain; charset=utf-8"},
    {"webmanifest", "application/manifest+json"},
    {NULL, NULL},
};

static const char *type_in(const cio_web_mime_type *t, const char *ext)
{
    for (; t && t->ext; t++)
        if (strcasecmp(t->ext, ext) == 0)
            return t->type;
    return NULL;
}

const char *cio_web_mime_type_for(const char *name, const cio_web_mime_type *overrides)
{
    const char *slash = name ? strrchr(name, '/') : NULL, *base = slash ? slash + 1 : name;
    const char *dot = base ? strrchr(base, '.') : NULL;
    if (!dot || dot == base)
        return NULL;
    const char *t = type_in(overrides, dot + 1);
    return t ? t : type_in(builtin_types, dot + 1);
}
