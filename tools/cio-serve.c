/*
 * cio-serve: serve a directory over HTTP, as `python -m http.server` does, on cio's static file handler.
 *
 *     cio-serve [OPTIONS] [DIR]
 *
 * Built on cio's public headers only, like any program of a cio user. Run `cio-serve --help` for the options.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cio.h"
#include "toolkit.h"

#ifndef CIO_TOOLS_VERSION
#define CIO_TOOLS_VERSION "0"
#endif

/* Exit codes, as --help lists them. */
enum { EXIT_SERVE_OK = 0, EXIT_SERVE_FAIL = 1, EXIT_SERVE_USAGE = 2 };

#define usage(...) tool_usage_error("cio-serve", EXIT_SERVE_USAGE, __VA_ARGS__)

static const char usage_text[] =
    "Usage: cio-serve [OPTIONS] [DIR]\n"
    "Serve the files below DIR (default: the current directory) over HTTP until SIGINT or SIGTERM.\n"
    "\n"
    "  -p, --port PORT         listen on PORT (default 8000; 0: any free port)\n"
    "  -b, --bind ADDR         listen on the numeric address ADDR (default: every IPv4 and IPv6 address)\n"
    "      --no-list           answer 403 for a directory without index.html instead of listing it\n"
    "      --hidden            serve and list names that start with \".\"\n"
    "      --no-compress       do not compress text files on the fly (precompressed .br/.zst/.gz siblings\n"
    "                          are still served to clients that accept them)\n"
    "      --cert FILE         serve HTTPS with this certificate chain (PEM; with --key)\n"
    "      --key FILE          the certificate's private key (PEM)\n"
    "      --log FILE          an access log in the combined format, one line per request (\"-\": stdout)\n"
    "      --cors              allow cross-origin requests from any origin (Access-Control-Allow-Origin)\n"
    "      --workers N         serve with N threads (default 0: one per core)\n"
    "      --max-connections N at most N connections at once (default 10000)\n"
    "      --grace SECONDS     on SIGINT or SIGTERM, let transfers finish for this long (default 10)\n"
    "  -q, --quiet             do not print the address served on\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "Files are served with ETag and Last-Modified, conditional requests (304, 412), ranges (206, 416),\n"
    "sendfile, and a cache of open files; nothing outside DIR can be reached, symlinks out of it included.\n"
    "\n"
    "Exit status: 0 after a shutdown on SIGINT or SIGTERM, 1 when serving failed (DIR cannot be opened, the\n"
    "address cannot be listened on, the certificate is refused), 2 for a usage error.\n";

struct config {
    const char *dir;
    const char *bind;
    int port;
    bool no_list, hidden, no_compress, cors, quiet;
    const char *cert, *key, *log;
    unsigned workers;
    size_t max_connections;
    int64_t grace;
    int log_fd;
};

/* Each access log line with its newline in one write(2) to an O_APPEND descriptor: worker threads' lines never
   interleave. */
static void write_log(void *arg, const char *line, size_t len)
{
    const struct config *cfg = arg;
    char buf[4096];
    if (len > sizeof buf - 1)
        len = sizeof buf - 1;
    memcpy(buf, line, len);
    buf[len] = '\n';
    ssize_t n = write(cfg->log_fd, buf, len + 1);
    (void)n; /* a full disk loses log lines, not requests */
}

static void ready(int port, void *arg)
{
    const struct config *cfg = arg;
    if (cfg->quiet)
        return;
    const char *scheme = cfg->cert ? "https" : "http";
    const char *host = cfg->bind ? cfg->bind : "0.0.0.0";
    bool v6 = strchr(host, ':') != NULL;
    printf("Serving %s on %s port %d (%s://%s%s%s:%d/)\n", cfg->dir, host, port, scheme, v6 ? "[" : "", host,
           v6 ? "]" : "", port);
    fflush(stdout);
}

static int serve(void *arg)
{
    struct config *cfg = arg;
    cio_tls_ctx *tls = NULL;
    int rc;
    if (cfg->cert) {
        cio_tls_opts to = {.cert_file = cfg->cert, .key_file = cfg->key};
        if ((rc = cio_tls_ctx_new(&tls, CIO_TLS_SERVER, &to)) < 0) {
            fprintf(stderr, "cio-serve: %s: %s\n", cfg->cert, cio_strerror(rc));
            return rc;
        }
    }
    cio_web_app *app;
    if ((rc = cio_web_app_open(&app, NULL)) < 0) {
        cio_tls_ctx_free(tls);
        return rc;
    }
    /* The middleware options outlive the app: they are the caller's (here, this frame's, which returns last). */
    cio_web_access_log_opts log = {.format = CIO_WEB_LOG_COMBINED, .write = write_log, .arg = cfg};
    cio_web_cors_opts cors = {0};
    if (cfg->log && (rc = cio_web_use(app, cio_web_access_log, &log)) < 0)
        goto out;
    if (cfg->cors && (rc = cio_web_use(app, cio_web_cors, &cors)) < 0)
        goto out;
    cio_web_static_opts so = {
        .show_index = !cfg->no_list,
        .show_hidden = cfg->hidden,
        .precompressed = true,
        .compress = !cfg->no_compress,
    };
    if ((rc = cio_web_add_static(app, "/", cfg->dir, &so)) < 0) {
        fprintf(stderr, "cio-serve: %s: %s\n", cfg->dir, cio_strerror(rc));
        goto out;
    }
    cio_web_server_opts wo = {
        .host = cfg->bind,
        .port = cfg->port,
        .tls = tls,
        .max_connections = cfg->max_connections,
        .workers = cfg->workers,
        .ready = ready,
        .ready_arg = cfg,
    };
    rc = cio_web_run(app, &wo, cfg->grace);
    if (rc == -ETIMEDOUT)
        rc = 0; /* transfers still running at the end of the grace period were cut: a shutdown all the same */
    else if (rc < 0)
        fprintf(stderr, "cio-serve: %s:%d: %s\n", cfg->bind ? cfg->bind : "*", cfg->port, cio_strerror(rc));
out:
    cio_web_app_close(app);
    cio_tls_ctx_free(tls);
    return rc;
}

int main(int argc, char **argv)
{
    struct config cfg = {.dir = ".", .port = 8000, .grace = CIO_SEC(10), .log_fd = -1};
    enum { O_NO_LIST = 256, O_HIDDEN, O_NO_COMPRESS, O_CERT, O_KEY, O_LOG, O_CORS, O_WORKERS, O_MAXCONN, O_GRACE };
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"no-list", no_argument, NULL, O_NO_LIST},
        {"hidden", no_argument, NULL, O_HIDDEN},
        {"no-compress", no_argument, NULL, O_NO_COMPRESS},
        {"cert", required_argument, NULL, O_CERT},
        {"key", required_argument, NULL, O_KEY},
        {"log", required_argument, NULL, O_LOG},
        {"cors", no_argument, NULL, O_CORS},
        {"workers", required_argument, NULL, O_WORKERS},
        {"max-connections", required_argument, NULL, O_MAXCONN},
        {"grace", required_argument, NULL, O_GRACE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    long long v;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":p:b:qhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if ((v = tool_parse_number(optarg, 0, 65535)) < 0)
                return usage("bad port '%s' (0 to 65535)", optarg);
            cfg.port = (int)v;
            break;
        case 'b':
            cfg.bind = optarg;
            break;
        case O_NO_LIST:
            cfg.no_list = true;
            break;
        case O_HIDDEN:
            cfg.hidden = true;
            break;
        case O_NO_COMPRESS:
            cfg.no_compress = true;
            break;
        case O_CERT:
            cfg.cert = optarg;
            break;
        case O_KEY:
            cfg.key = optarg;
            break;
        case O_LOG:
            cfg.log = optarg;
            break;
        case O_CORS:
            cfg.cors = true;
            break;
        case O_WORKERS:
            if ((v = tool_parse_number(optarg, 0, 1024)) < 0)
                return usage("bad worker count '%s' (0 to 1024)", optarg);
            cfg.workers = (unsigned)v;
            break;
        case O_MAXCONN:
            if ((v = tool_parse_number(optarg, 1, 10000000)) < 0)
                return usage("bad connection limit '%s'", optarg);
            cfg.max_connections = (size_t)v;
            break;
        case O_GRACE:
            if ((v = tool_parse_number(optarg, 0, 86400)) < 0)
                return usage("bad grace '%s' (whole seconds, 0 to 86400)", optarg);
            /* 0 s: cut transfers at once (cio_web_run takes 0 as its default, so ask for 1 ns) */
            cfg.grace = v ? CIO_SEC(v) : 1;
            break;
        case 'q':
            cfg.quiet = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_SERVE_OK;
        case 'V':
            printf("cio-serve %s\n", CIO_TOOLS_VERSION);
            return EXIT_SERVE_OK;
        case ':':
            return usage("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        cfg.dir = argv[optind++];
    if (optind < argc)
        return usage("one directory only: '%s' is one too many", argv[optind]);
    if (!cfg.cert != !cfg.key)
        return usage("--cert and --key go together");
    struct stat st;
    if (stat(cfg.dir, &st) < 0) {
        fprintf(stderr, "cio-serve: %s: %s\n", cfg.dir, strerror(errno));
        return EXIT_SERVE_FAIL;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "cio-serve: %s: not a directory\n", cfg.dir);
        return EXIT_SERVE_FAIL;
    }
    if (cfg.log) {
        cfg.log_fd = strcmp(cfg.log, "-") ? open(cfg.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : 1;
        if (cfg.log_fd < 0) {
            fprintf(stderr, "cio-serve: %s: %s\n", cfg.log, strerror(errno));
            return EXIT_SERVE_FAIL;
        }
    }
    int rc = cio_run(serve, &cfg);
    if (cfg.log_fd > 2)
        close(cfg.log_fd);
    if (rc == -EINTR)
        return EXIT_SERVE_OK; /* the signal arrived before the server listened: nothing to finish */
    return rc < 0 ? EXIT_SERVE_FAIL : EXIT_SERVE_OK;
}
