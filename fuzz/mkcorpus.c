/* mkcorpus.c: write the fuzzers' seed corpora (fuzz/corpus/<name>/) from the test tables. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cases.h"
#include "multipart_cases.h"

static int put(const char *dir, const char *name, int i, const void *p, size_t n, int prefix)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/seed-%03d", dir, name, i);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    if (prefix >= 0)
        fputc(prefix, f);
    fwrite(p, 1, n, f);
    return fclose(f);
}

int main(int argc, char **argv)
{
    static const char *const chunked[] = {
        "\0"
        "5\r\nhello\r\n0\r\n\r\n",
        "\0"
        "5;a=b;c=\"d e\"\r\nhello\r\n0\r\n\r\n",
        "\0"
        "a\r\n0123456789\r\n0\r\nX: y\r\n\r\nGET",
        "\1"
        "5\nhello\n0\n\n",
        "\2"
        "3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
        "\0"
        "00000000000000005\r\n",
        "\0"
        "5 \r\nhello\r\n0\r\n\r\n",
    };
    static const char *const urls[] = {
        "http://user:pw@example.com:8080/a/b?x=1&y=2#f",
        "https://[::1]:443/",
        "/index.html?q=a+b%20c",
        "*",
        "example.com:443",
        "http://a",
        "gzip;q=0.8, br;q=1.0, *;q=0",
        "a=1&b=&c&=d",
        "keep-alive, \"quoted, list\", Upgrade",
    };
    const char *dir = argc > 1 ? argv[1] : "fuzz/corpus";
    int rc = 0;
    mkdir(dir, 0755);
    for (size_t i = 0; i < N_REQUEST_CASES; i++) {
        rc |= put(dir, "request", (int)i, request_cases[i].wire, request_cases[i].len, -1);
        rc |= put(dir, "differential", (int)i, request_cases[i].wire, request_cases[i].len, 0);
    }
    for (size_t i = 0; i < N_RESPONSE_CASES; i++) {
        rc |= put(dir, "response", (int)i, response_cases[i].wire, response_cases[i].len, -1);
        rc |= put(dir, "differential", (int)(N_REQUEST_CASES + i), response_cases[i].wire, response_cases[i].len, 1);
    }
    for (size_t i = 0; i < sizeof(chunked) / sizeof(chunked[0]); i++)
        rc |= put(dir, "chunked", (int)i, chunked[i], 1 + strlen(chunked[i] + 1), -1);
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
        rc |= put(dir, "url", (int)i, urls[i], strlen(urls[i]), -1);
    for (size_t i = 0; i < N_MP_CASES; i++) { /* flags, the boundary's length, the boundary, the body */
        const struct mp_case *c = &mp_cases[i];
        char seed[4096];
        size_t bl = strlen(c->boundary);
        seed[0] = (char)c->opt, seed[1] = (char)bl;
        memcpy(seed + 2, c->boundary, bl);
        memcpy(seed + 2 + bl, c->wire, c->len);
        rc |= put(dir, "multipart", (int)i, seed, 2 + bl + c->len, -1);
    }
    return rc ? 1 : 0;
}
