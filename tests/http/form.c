/* form.c: multipart forms on streams: read part by part over body readers, written as uploads, and checked against
 * curl -F, Python's requests and Python's email parser. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cio/http.h"
#include "harness.h"

static void ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

TestSuite(form, .init = ignore_sigpipe, .timeout = 120);

static void pair(cio_stream *s[2])
{
    int fds[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    cr_assert_eq(cio_stream_open_fd(&s[0], fds[0], NULL), 0);
    cr_assert_eq(cio_stream_open_fd(&s[1], fds[1], NULL), 0);
}

/* A file of `n` bytes of a pattern with "\r\n--" and boundary-like runs in it; returns its descriptor. */
static int pattern_file(char *path, size_t n)
{
    strcpy(path, "/tmp/cio-form-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    for (size_t i = 0; i < n; i++) {
        char c = i % 97 == 0 ? '\r' : i % 97 == 1 ? '\n' : i % 97 < 4 ? '-' : (char)('a' + i % 23);
        cr_assert_eq(write(fd, &c, 1), 1);
    }
    return fd;
}

/* The checksum both sides compute. */
static uint32_t sum_of(const void *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i < n; i++)
        sum = sum * 31 + ((const unsigned char *)p)[i];
    return sum;
}

static uint32_t file_sum(int fd, size_t n)
{
    char buf[4096];
    uint32_t sum = 0;
    for (size_t off = 0; off < n;) {
        ssize_t r = pread(fd, buf, sizeof buf, (off_t)off);
        cr_assert_gt(r, 0);
        sum = sum_of(buf, (size_t)r, sum);
        off += (size_t)r;
    }
    return sum;
}

/* A writer task: a form of two fields and a 200 KiB file part, chunked. */
struct upload {
    cio_stream *s;
    int fd;
    size_t size;
    char boundary[CIO_HTTP_MP_MAX_BOUNDARY + 1];
    bool length; /* declare a Content-Length computed from the overheads instead of chunking */
};

static int write_form(void *arg)
{
    struct upload *u = arg;
    cio_http_body_out body;
    cio_http_form_out w;
    cio_http_body_out probe;
    cr_assert_eq(cio_http_body_out_init(&probe, u->s, CIO_HTTP_BODY_NONE, 0), 0);
    cr_assert_eq(cio_http_form_out_init(&w, &probe, u->boundary), 0);
    uint64_t total = (uint64_t)cio_http_form_out_overhead(&w, true, "title", NULL, NULL) + 5 +
                     (uint64_t)cio_http_form_out_overhead(&w, false, "note \"quoted\"", NULL, "text/plain") + 0 +
                     (uint64_t)cio_http_form_out_overhead(&w, false, "file", "../../etc/r\xc3\xa9sum\xc3\xa9.bin",
                                                          "application/octet-stream") +
                     u->size + (uint64_t)cio_http_form_out_close_size(&w);
    int rc = cio_http_body_out_init(&body, u->s, u->length ? CIO_HTTP_BODY_LENGTH : CIO_HTTP_BODY_CHUNKED, total);
    if (rc == 0)
        rc = cio_http_form_out_init(&w, &body, u->boundary);
    if (rc == 0)
        rc = cio_http_form_out_part(&w, "title", NULL, NULL);
    if (rc == 0)
        rc = cio_http_form_out_write(&w, "hello", 5);
    if (rc == 0)
        rc = cio_http_form_out_part(&w, "note \"quoted\"", NULL, "text/plain"); /* an empty part */
    if (rc == 0)
        rc = cio_http_form_out_part(&w, "file", "../../etc/r\xc3\xa9sum\xc3\xa9.bin", "application/octet-stream");
    if (rc == 0)
        rc = (int)cio_http_form_out_file(&w, u->fd, 0, u->size) == (int)u->size ? 0 : -EIO;
    if (rc == 0)
        rc = cio_http_form_out_end(&w);
    if (rc == 0)
        rc = cio_http_body_out_end(&body, NULL);
    return rc;
}

/* Read the form back with cio_http_form: fields, an empty part, a file saved to disk with a safe name. */
static void read_form(cio_http_body_in *b, const cio_http_head *h, uint32_t want_sum, size_t size)
{
    cio_http_form *f;
    cr_assert_eq(cio_http_form_open(&f, b, h, NULL, 0), 0);
    const cio_http_head *ph;
    char name[64], fname[300], safe[300];
    cr_assert_eq(cio_http_form_next_part(f, &ph), 1);
    cr_assert_eq(cio_http_form_part_name(f, name, sizeof name), 5);
    cr_assert_str_eq(name, "title");
    cr_assert_eq(cio_http_form_part_filename(f, fname, sizeof fname), -ENOENT, "a plain field");
    const void *p;
    size_t n;
    cr_assert_eq(cio_http_form_part_next(f, &p, &n), 1);
    cr_assert(n == 5 && memcmp(p, "hello", 5) == 0);
    cr_assert_eq(cio_http_form_part_next(f, &p, &n), 0);
    cr_assert_eq(cio_http_form_next_part(f, &ph), 1);
    cr_assert_gt(cio_http_form_part_name(f, name, sizeof name), 0);
    cr_assert_str_eq(name, "note \"quoted\"", "the quote escaped as %%22 and decoded back");
    cr_assert_not_null(cio_http_header_find(ph, "content-type", NULL));
    cr_assert_eq(cio_http_form_part_next(f, &p, &n), 0, "an empty part");
    cr_assert_eq(cio_http_form_next_part(f, &ph), 1);
    ssize_t fl = cio_http_form_part_filename(f, fname, sizeof fname);
    cr_assert_gt(fl, 0);
    cr_assert_eq(cio_http_filename_sanitize(safe, sizeof safe, (cio_http_str){fname, (size_t)fl}, NULL),
                 (ssize_t)strlen("r\xc3\xa9sum\xc3\xa9.bin"));
    cr_assert_str_eq(safe, "r\xc3\xa9sum\xc3\xa9.bin", "no directory parts survive");
    char path[] = "/tmp/cio-form-save-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    cio_file *file;
    cr_assert_eq(cio_file_open(&file, path, O_RDWR | O_TRUNC, 0600), 0);
    cr_assert_eq(cio_http_form_part_save(f, file), (ssize_t)size);
    cr_assert_eq(cio_file_close(file), 0);
    fd = open(path, O_RDONLY);
    cr_assert_eq(file_sum(fd, size), want_sum, "the file part arrived whole");
    close(fd);
    unlink(path);
    cr_assert_eq(cio_http_form_next_part(f, &ph), 0, "the close delimiter");
    cr_assert_eq(cio_http_form_next_part(f, &ph), 0);
    cio_http_form_close(f);
}

static int round_trip(void *arg)
{
    bool length = arg != NULL;
    cio_stream *s[2];
    pair(s);
    char fpath[32];
    struct upload u = {.s = s[0], .size = 200 * 1024, .length = length};
    u.fd = pattern_file(fpath, u.size);
    uint32_t want = file_sum(u.fd, u.size);
    cr_assert_eq(cio_http_multipart_boundary_new(u.boundary, sizeof u.boundary), CIO_HTTP_MP_NEW_BOUNDARY);
    cio_task *t;
    cr_assert_eq(cio_spawn(&t, write_form, &u, NULL), 0);
    char ct[128];
    snprintf(ct, sizeof ct, "multipart/form-data; boundary=%s", u.boundary);
    cio_http_header hs[1] = {{{"Content-Type", 12}, {ct, strlen(ct)}}};
    cio_http_head h = {.headers = hs, .num_headers = 1, .max_headers = 1};
    cio_http_body_in b;
    cr_assert_eq(cio_http_body_init(&b, s[1], length ? CIO_HTTP_BODY_UNTIL_CLOSE : CIO_HTTP_BODY_CHUNKED, 0, NULL), 0);
    if (length) {
        cr_assert_eq(cio_join(t), 0, "the declared length matched what was written");
        cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    }
    read_form(&b, &h, want, u.size);
    cio_http_body_fini(&b);
    if (!length)
        cr_assert_eq(cio_join(t), 0);
    close(u.fd);
    unlink(fpath);
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(form, a_form_written_chunked_reads_back_part_by_part)
{
    tst_run(round_trip, NULL);
}

Test(form, a_form_with_a_declared_length_matches_its_overheads)
{
    tst_run(round_trip, (void *)1);
}

static int not_multipart(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s);
    cio_http_body_in b;
    cr_assert_eq(cio_http_body_init(&b, s[1], CIO_HTTP_BODY_NONE, 0, NULL), 0);
    cio_http_header hs[1] = {{{"Content-Type", 12}, {"text/plain", 10}}};
    cio_http_head h = {.headers = hs, .num_headers = 1, .max_headers = 1};
    cio_http_form *f;
    cr_assert_eq(cio_http_form_open(&f, &b, &h, NULL, 0), CIO_EHTTP_MP_NOT_MULTIPART);
    h.num_headers = 0;
    cr_assert_eq(cio_http_form_open(&f, &b, &h, NULL, 0), CIO_EHTTP_MP_NOT_MULTIPART, "no Content-Type");
    cr_assert_eq(cio_http_form_open(&f, NULL, &h, NULL, 0), -EINVAL);
    /* A body that ends before its close delimiter. */
    cr_assert_eq(cio_stream_write(s[0], "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nabc", 52), 0);
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cr_assert_eq(cio_http_body_init(&b, s[1], CIO_HTTP_BODY_UNTIL_CLOSE, 0, NULL), 0);
    hs[0].value = (cio_http_str){"multipart/form-data; boundary=b", 31};
    h.num_headers = 1;
    cr_assert_eq(cio_http_form_open(&f, &b, &h, NULL, 0), 0);
    const cio_http_head *ph;
    cr_assert_eq(cio_http_form_next_part(f, &ph), 1);
    const void *p;
    size_t n;
    int rc;
    while ((rc = cio_http_form_part_next(f, &p, &n)) == 1)
        ;
    cr_assert_eq(rc, CIO_EHTTP_MP_TRUNCATED);
    cr_assert_eq(cio_http_form_next_part(f, &ph), CIO_EHTTP_MP_TRUNCATED, "the error sticks");
    cio_http_form_close(f);
    cio_http_body_fini(&b);
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(form, a_body_not_multipart_or_cut_short_gives_its_own_error)
{
    tst_run(not_multipart, NULL);
}

/* ------------------------------------------------------------------------------------------------ peers */

/* A server handler: read a request's form, answer "name=<bytes>:<sum>" per part. */
static int form_server(cio_stream *s, void *arg)
{
    (void)arg;
    cio_http_header hs[32];
    cio_http_head h;
    cio_http_head_init(&h, hs, 32);
    ssize_t n = cio_http_read_request(s, &h, NULL);
    if (n < 0)
        return n == CIO_EPEERCLOSED ? 0 : (int)n;
    cio_http_body_in b;
    int rc = cio_http_body_init_request(&b, s, &h, &(cio_http_body_opts){.skip = (size_t)n, .send_continue = true});
    cio_http_form *f = NULL;
    if (rc == 0)
        rc = cio_http_form_open(&f, &b, &h, NULL, 0);
    char answer[1024];
    size_t alen = 0;
    const cio_http_head *ph;
    while (rc == 0 && (rc = cio_http_form_next_part(f, &ph)) == 1) {
        char name[64];
        ssize_t nl = cio_http_form_part_name(f, name, sizeof name);
        const void *p;
        size_t len, total = 0;
        uint32_t sum = 0;
        while ((rc = cio_http_form_part_next(f, &p, &len)) == 1)
            total += len, sum = sum_of(p, len, sum);
        if (rc == 0) {
            alen +=
                (size_t)snprintf(answer + alen, sizeof answer - alen, "%s=%zu:%08x\n", nl > 0 ? name : "?", total, sum);
        }
    }
    cio_http_form_close(f);
    cio_http_body_fini(&b);
    if (rc < 0)
        return rc;
    cio_http_head_out w;
    char hb[256];
    cio_http_head_out_init(&w, hb, sizeof hb);
    cio_http_head_out_status(&w, 200, NULL, 1);
    cio_http_head_out_header_u64(&w, "Content-Length", alen);
    cio_http_head_out_header(&w, "Connection", "close");
    if ((rc = cio_http_head_out_send(&w, s)) < 0)
        return rc;
    return cio_stream_write(s, answer, alen);
}

static int run_peer(const char *cmd, int port, cio_buf *out)
{
    char env_port[32];
    snprintf(env_port, sizeof env_port, "PORT=%d", port);
    char *const env[] = {env_port, "PATH=/usr/bin:/bin", NULL};
    cio_process *p;
    int rc = cio_process_shell(&p, cmd, &(cio_process_opts){.stdout_mode = CIO_PIPE, .env = env});
    if (rc < 0)
        return rc;
    int status = -1;
    rc = cio_process_communicate(p, NULL, 0, out, NULL);
    if (rc == 0)
        rc = cio_process_wait(p, &status);
    cio_process_close(p);
    return rc < 0 ? rc : status;
}

struct peer {
    const char *cmd;
    size_t file_size; /* of the generated file part */
};

static int peer_body(void *arg)
{
    const struct peer *pc = arg;
    cio_server *srv;
    cio_addr a;
    cr_assert_eq(cio_start_server(&srv, form_server, NULL, "127.0.0.1", 0, NULL), 0);
    cr_assert_eq(cio_server_addr(srv, &a), 0);
    char fpath[32];
    int fd = pattern_file(fpath, pc->file_size);
    uint32_t sum = file_sum(fd, pc->file_size);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, pc->cmd, fpath);
    cio_buf out;
    int rc = run_peer(cmd, cio_addr_port(&a), &out);
    unlink(fpath);
    cr_assert_eq(rc, 0, "%s: %d", cmd, rc);
    char want[256];
    snprintf(want, sizeof want, "field=5:%08x\nfile=%zu:%08x\n", sum_of("value", 5, 0), pc->file_size, sum);
    cr_assert_str_eq(out.data ? out.data : "", want, "%s", cmd);
    cio_buf_free(&out);
    cr_assert_eq(cio_server_close(srv, CIO_SEC(5)), 0);
    return 0;
}

Test(form, curl_f_uploads_a_field_and_a_file)
{
    struct peer pc = {"curl -sS --fail -F field=value -F 'file=@%s;filename=up.bin' http://127.0.0.1:$PORT/up",
                      1500 * 1024};
    tst_run(peer_body, &pc);
}

Test(form, python_requests_uploads_a_field_and_a_file)
{
    struct peer pc = {"/usr/bin/python3 -c \"import os,requests,sys\n"
                      "r=requests.post('http://127.0.0.1:'+os.environ['PORT']+'/up', data={'field':'value'},"
                      "files={'file':('up.bin',open('%s','rb'))})\n"
                      "sys.stdout.write(r.text)\"",
                      300 * 1024};
    tst_run(peer_body, &pc);
}

/* Our upload, parsed by Python's email package (which implements RFC 2046 on its own). */
static int to_python(void *arg)
{
    (void)arg;
    cio_stream *s[2];
    pair(s);
    char fpath[32];
    struct upload u = {.s = s[0], .size = 64 * 1024, .length = true};
    u.fd = pattern_file(fpath, u.size);
    cr_assert_eq(cio_http_multipart_boundary_new(u.boundary, sizeof u.boundary), CIO_HTTP_MP_NEW_BOUNDARY);
    cr_assert_eq(write_form(&u), 0);
    cr_assert_eq(cio_stream_write_eof(s[0]), 0);
    cio_buf body;
    cio_http_body_in b;
    cr_assert_eq(cio_http_body_init(&b, s[1], CIO_HTTP_BODY_UNTIL_CLOSE, 0, NULL), 0);
    cr_assert_eq(cio_http_body_read_all(&b, &body), 0);
    cio_http_body_fini(&b);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import sys,email,email.policy\n"
             "raw=b'Content-Type: multipart/form-data; boundary=%s\\r\\n\\r\\n'+sys.stdin.buffer.read()\n"
             "m=email.message_from_bytes(raw,policy=email.policy.HTTP)\n"
             "for p in m.iter_parts():\n"
             " d=p.get_payload(decode=True) or b''\n"
             " print(p.get_param('name',header='content-disposition'),p.get_filename(),len(d))\"",
             u.boundary);
    cio_process *p;
    cr_assert_eq(cio_process_shell(&p, cmd, &(cio_process_opts){.stdin_mode = CIO_PIPE, .stdout_mode = CIO_PIPE}), 0);
    cio_buf out;
    cr_assert_eq(cio_process_communicate(p, body.data, body.len, &out, NULL), 0);
    int status;
    cr_assert_eq(cio_process_wait(p, &status), 0);
    cio_process_close(p);
    cr_assert_eq(status, 0);
    /* email does not undo the browsers' %22 escape (nor does it need to: the quoting held). */
    cr_assert_str_eq(out.data,
                     "title None 5\nnote %22quoted%22 None 0\nfile ../../etc/r\xc3\xa9sum\xc3\xa9.bin 65536\n");
    cio_buf_free(&out);
    cio_buf_free(&body);
    close(u.fd);
    unlink(fpath);
    cr_assert_eq(cio_stream_close(s[0]), 0);
    cr_assert_eq(cio_stream_close(s[1]), 0);
    return 0;
}

Test(form, python_email_parses_our_upload)
{
    tst_run(to_python, NULL);
}
