/* Unit tests of the native-protocol client (src/common/client.c) against a
 * scripted fake daemon on a Unix socket: frame layout, cumulative acks,
 * audit acks, error frames, timeouts and a lost connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/client.h"
#include "tenantlog/tenantlog.h"

/* What the fake daemon does after reading n_read frames. */
enum script { ACK_ALL, NO_ACK, CLOSE, BAD_LENGTH };

struct fake {
    char dir[64];
    char path[128];
    int listen_fd;
    enum script script;
    size_t n_read;
    json_t *frames[8]; /* the frames it read */
    pthread_t thread;
    bool joined;
};

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t n = read(fd, p, len);

        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static json_t *frame_read(int fd)
{
    unsigned char hdr[4];
    uint32_t len;
    char *body;
    json_t *obj;

    if (read_full(fd, hdr, 4) < 0) {
        return NULL;
    }
    len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
          (uint32_t)hdr[2] << 8 | hdr[3];
    body = malloc(len);
    if (body == NULL || read_full(fd, body, len) < 0) {
        free(body);
        return NULL;
    }
    obj = json_loadb(body, len, 0, NULL);
    free(body);
    return obj;
}

/* Runs on the fake daemon's thread, where cmocka asserts must not be
 * used. A short write shows up as a failed check on the client side. */
static void frame_write(int fd, const char *json)
{
    size_t len = strlen(json);
    unsigned char hdr[4] = {(unsigned char)(len >> 24),
                            (unsigned char)(len >> 16),
                            (unsigned char)(len >> 8), (unsigned char)len};

    if (write(fd, hdr, 4) == 4) {
        (void)!write(fd, json, len);
    }
}

/* Reads n_read frames, then replies as the script says. Frame 2 is
 * rejected, and frame 3 is an audit frame that gets audit_seq 7. */
static void *fake_run(void *arg)
{
    struct fake *f = arg;
    int fd = accept(f->listen_fd, NULL, NULL);
    size_t i;

    for (i = 0; i < f->n_read; i++) {
        f->frames[i] = frame_read(fd);
    }
    if (f->script == ACK_ALL) {
        frame_write(fd, "{\"type\":\"error\",\"seq\":2,\"code\":"
                        "\"invalid_tenant\",\"message\":\"bad\"}");
        frame_write(fd, "{\"type\":\"audit_ack\",\"seq\":3,\"tenant\":"
                        "\"acme\",\"audit_seq\":7}");
        frame_write(fd, "{\"type\":\"ack\",\"seq\":3}");
    } else if (f->script == BAD_LENGTH) {
        (void)!write(fd, "\0\0\0\0", 4);
    } else if (f->script == NO_ACK) {
        sleep(1);
    }
    close(fd);
    return NULL;
}

static struct fake *fake_start(enum script script, size_t n_read)
{
    struct fake *f = calloc(1, sizeof(*f));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};

    assert_non_null(f);
    strcpy(f->dir, "/tmp/tl-frame-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/native.sock", f->dir);
    strcpy(addr.sun_path, f->path);
    f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&addr, sizeof(addr)),
                     0);
    assert_int_equal(listen(f->listen_fd, 1), 0);
    f->script = script;
    f->n_read = n_read;
    assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
    return f;
}

static void fake_join(struct fake *f)
{
    if (!f->joined) {
        pthread_join(f->thread, NULL);
        f->joined = true;
    }
}

static void fake_stop(struct fake *f)
{
    size_t i;

    fake_join(f);
    close(f->listen_fd);
    unlink(f->path);
    rmdir(f->dir);
    for (i = 0; i < f->n_read; i++) {
        json_decref(f->frames[i]);
    }
    free(f);
}

struct errors_seen {
    uint64_t seq;
    char code[32];
};

static void on_error(void *user, uint64_t seq, const char *code,
                     const char *message)
{
    struct errors_seen *e = user;

    (void)message;
    e->seq = seq;
    snprintf(e->code, sizeof(e->code), "%s", code);
}

static void send_three(struct tl__client *c)
{
    uint64_t seq = 0;
    int i;

    for (i = 1; i <= 3; i++) {
        json_t *obj = json_pack("{s:s,s:s}", "type", "record", "msg", "hi");

        assert_int_equal(tl__client_send(c, obj, &seq), 0);
        assert_int_equal(seq, (uint64_t)i);
        json_decref(obj);
    }
}

static void client_acks(void **state)
{
    struct fake *f = fake_start(ACK_ALL, 3);
    struct errors_seen seen = {0};
    struct tl__client *c;

    (void)state;
    assert_int_equal(tl__client_connect(f->path, &c), 0);
    tl__client_on_error(c, on_error, &seen);
    send_three(c);
    assert_int_equal(tl__client_flush(c, 5000), 0);
    assert_int_equal(tl__client_acked(c), 3);
    assert_int_equal(tl__client_errors(c), 1);
    assert_int_equal(seen.seq, 2);
    assert_string_equal(seen.code, "invalid_tenant");
    assert_int_equal(tl__client_audit_seq(c, 3), 7);
    assert_int_equal(tl__client_audit_seq(c, 2), 0);
    tl__client_close(c);
    fake_stop(f);
}

static void client_frames_read(void **state)
{
    struct fake *f = fake_start(ACK_ALL, 3);
    struct tl__client *c;
    size_t i;

    (void)state;
    assert_int_equal(tl__client_connect(f->path, &c), 0);
    send_three(c);
    assert_int_equal(tl__client_flush(c, 5000), 0);
    tl__client_close(c);
    fake_join(f);
    for (i = 0; i < 3; i++) {
        assert_non_null(f->frames[i]);
        assert_int_equal(
            json_integer_value(json_object_get(f->frames[i], "seq")),
            (json_int_t)i + 1);
        assert_string_equal(
            json_string_value(json_object_get(f->frames[i], "msg")), "hi");
    }
    fake_stop(f);
}

static void client_flush_timeout(void **state)
{
    struct fake *f = fake_start(NO_ACK, 3);
    struct tl__client *c;

    (void)state;
    assert_int_equal(tl__client_connect(f->path, &c), 0);
    send_three(c);
    assert_int_equal(tl__client_flush(c, 100), TL_ETIMEDOUT);
    assert_int_equal(tl__client_acked(c), 0);
    tl__client_close(c);
    fake_stop(f);
}

static void client_closed(void **state)
{
    struct fake *f = fake_start(CLOSE, 3);
    struct tl__client *c;

    (void)state;
    assert_int_equal(tl__client_connect(f->path, &c), 0);
    send_three(c);
    assert_int_equal(tl__client_flush(c, 5000), TL_EPROTO);
    tl__client_close(c);
    fake_stop(f);
}

static void client_bad_length(void **state)
{
    struct fake *f = fake_start(BAD_LENGTH, 3);
    struct tl__client *c;

    (void)state;
    assert_int_equal(tl__client_connect(f->path, &c), 0);
    send_three(c);
    assert_int_equal(tl__client_flush(c, 5000), TL_EPROTO);
    tl__client_close(c);
    fake_stop(f);
}

static void client_no_daemon(void **state)
{
    struct tl__client *c;

    (void)state;
    assert_int_equal(tl__client_connect("/nonexistent/tl.sock", &c), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_acks),
        cmocka_unit_test(client_frames_read),
        cmocka_unit_test(client_flush_timeout),
        cmocka_unit_test(client_closed),
        cmocka_unit_test(client_bad_length),
        cmocka_unit_test(client_no_daemon),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
