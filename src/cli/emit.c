/* `tenantlog emit`: sends N numbered records (field "n" = 1..N) for one
 * tenant through the library or tenantlogd, optionally paced and with
 * audit events, and fails unless every one was accepted. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_util.h"
#include "output.h"

#define CMD "emit"
#define SIZE_MAX_BYTES 1000000 /* leaves room in a 1 MiB protocol frame */
#define COUNT_MAX UINT64_C(1000000000000)

struct emit_opts {
    const char *tenant;
    const char *logger;
    const char *request_id;
    const char *config;
    const char *socket;
    uint64_t count;
    uint64_t rate;        /* records per second, 0 for no limit */
    uint64_t size;        /* message bytes, 0 for "record <n>" */
    uint64_t audit_every; /* 0 for no audit events */
    enum tl_level level;
};

/* The message text, rebuilt for each record in one reused buffer. */
struct message {
    char *text;
    size_t size;
    char number[32];
};

static const char usage_text[] =
    "Usage: tenantlog emit [OPTIONS]\n"
    "Send numbered records (field \"n\" = 1..N) for one tenant and exit 0\n"
    "only when every record and audit event was accepted.\n"
    "\n"
    "  --tenant T          tenant id of every record (default: none)\n"
    "  --count N           number of records (default: 1)\n"
    "  --rate R            records per second; 0 sends as fast as possible\n"
    "                      (default: 0)\n"
    "  --size BYTES        message length in bytes, \"record <n>\" padded\n"
    "                      with 'x' (default: just \"record <n>\")\n"
    "  --level L           level of every record (default: info)\n"
    "  --logger NAME       logger name (default: emit)\n"
    "  --request-id ID     request id of every record (default: none)\n"
    "  --audit-every K     one audit event after every K records: action\n"
    "                      db.update, target emit/<n>; needs --tenant\n"
    "  --daemon SOCKET     send to tenantlogd's native socket and wait for\n"
    "                      every ack, instead of using the library\n"
    "  --config FILE       library configuration (default: $TENANTLOG_CONFIG,\n"
    "                      else the embedded default)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Prints \"emit: sent=N accepted=N audit=N failed=N\" to stderr.\n"
    "Exit status: 0 all accepted, 1 something failed, 2 usage error.\n";

enum {
    OPT_TENANT = 256,
    OPT_COUNT,
    OPT_RATE,
    OPT_SIZE,
    OPT_LEVEL,
    OPT_LOGGER,
    OPT_REQUEST_ID,
    OPT_AUDIT_EVERY,
    OPT_DAEMON,
    OPT_CONFIG
};

static const struct option long_options[] = {
    {"tenant", required_argument, NULL, OPT_TENANT},
    {"count", required_argument, NULL, OPT_COUNT},
    {"rate", required_argument, NULL, OPT_RATE},
    {"size", required_argument, NULL, OPT_SIZE},
    {"level", required_argument, NULL, OPT_LEVEL},
    {"logger", required_argument, NULL, OPT_LOGGER},
    {"request-id", required_argument, NULL, OPT_REQUEST_ID},
    {"audit-every", required_argument, NULL, OPT_AUDIT_EVERY},
    {"daemon", required_argument, NULL, OPT_DAEMON},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Applies one option. Returns 0, or -1 after printing a usage error. */
static int apply_option(int opt, const char *arg, void *opts)
{
    struct emit_opts *o = opts;

    switch (opt) {
    case OPT_TENANT:
        o->tenant = arg;
        return tl__cli_check_tenant(CMD, "--tenant", arg);
    case OPT_COUNT:
        return tl__cli_parse_u64(CMD, "--count", arg, 0, COUNT_MAX, &o->count);
    case OPT_RATE:
        return tl__cli_parse_u64(CMD, "--rate", arg, 0, 1000000000, &o->rate);
    case OPT_SIZE:
        return tl__cli_parse_u64(CMD, "--size", arg, 1, SIZE_MAX_BYTES,
                                 &o->size);
    case OPT_LEVEL:
        return tl__cli_parse_level(CMD, "--level", arg, &o->level);
    case OPT_LOGGER:
        o->logger = arg;
        return 0;
    case OPT_REQUEST_ID:
        o->request_id = arg;
        return 0;
    case OPT_AUDIT_EVERY:
        return tl__cli_parse_u64(CMD, "--audit-every", arg, 1, COUNT_MAX,
                                 &o->audit_every);
    case OPT_DAEMON:
        o->socket = arg;
        return 0;
    case OPT_CONFIG:
        o->config = arg;
        return 0;
    }
    return -1;
}

/* Parses argv into *o. Returns -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct emit_opts *o)
{
    int status;

    status = tl__cli_getopt(CMD, argc, argv, long_options, usage_text,
                            apply_option, o);
    if (status != -1) {
        return status;
    }
    if (optind < argc) {
        return tl__cli_usage_error(CMD, "unexpected argument '%s'",
                                   argv[optind]);
    }
    if (o->socket != NULL && o->config != NULL) {
        return tl__cli_usage_error(CMD, "--daemon and --config exclude each "
                                        "other: the daemon uses its own "
                                        "configuration");
    }
    if (o->audit_every != 0 && o->tenant == NULL) {
        return tl__cli_usage_error(CMD, "--audit-every needs --tenant, "
                                        "because audit events belong to a "
                                        "tenant");
    }
    return -1;
}

static int message_init(struct message *m, size_t size)
{
    m->size = size;
    m->text = NULL;
    if (size == 0) {
        return 0;
    }
    m->text = malloc(size + 1);
    if (m->text == NULL) {
        return -1;
    }
    memset(m->text, 'x', size);
    m->text[size] = '\0';
    return 0;
}

/* Returns the message of record n and stores its length in *len. The
 * padded form overwrites only its prefix, whose length never shrinks
 * because n only grows. */
static const char *message_make(struct message *m, uint64_t n, size_t *len)
{
    int prefix;

    if (m->size == 0) {
        prefix = snprintf(m->number, sizeof(m->number), "record %" PRIu64, n);
        *len = (size_t)prefix;
        return m->number;
    }
    prefix = snprintf(m->number, sizeof(m->number), "record %" PRIu64 " ", n);
    memcpy(m->text, m->number,
           (size_t)prefix < m->size ? (size_t)prefix : m->size);
    *len = m->size;
    return m->text;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleeps until record i (from 1) is due at rate records per second. */
static void pace(int64_t start_ns, uint64_t i, uint64_t rate)
{
    int64_t due_ns = start_ns + (int64_t)((double)(i - 1) * 1e9 / (double)rate);
    struct timespec ts;

    if (due_ns <= monotonic_ns()) {
        return;
    }
    ts.tv_sec = due_ns / 1000000000;
    ts.tv_nsec = due_ns % 1000000000;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
           EINTR) {
    }
}

/* Records that record n updated the tenant's "emit" row n. */
static void send_audit(struct tl__cli_out *out, const struct emit_opts *o,
                       uint64_t n)
{
    struct tl_field details[1] = {TL_U64("n", n)};
    char target[24];
    struct tl_audit_event ev = {0};

    snprintf(target, sizeof(target), "%" PRIu64, n);
    ev.tenant = o->tenant;
    ev.actor_type = "service";
    ev.actor_id = "tenantlog-emit";
    ev.action = "db.update";
    ev.target_type = "emit";
    ev.target_id = target;
    ev.outcome = TL_OUTCOME_SUCCESS;
    ev.request_id = o->request_id;
    ev.details = details;
    ev.n_details = 1;
    (void)tl__cli_out_audit(out, &ev, 0);
}

static void send_all(struct tl__cli_out *out, const struct emit_opts *o,
                     struct message *m)
{
    struct tl_field field;
    struct tl__cli_rec rec = {0};
    int64_t start_ns = monotonic_ns();
    uint64_t i;

    rec.level = o->level;
    rec.logger = o->logger;
    rec.tenant = o->tenant;
    rec.request_id = o->request_id;
    rec.fields = &field;
    rec.n_fields = 1;
    for (i = 1; i <= o->count; i++) {
        if (o->rate != 0) {
            pace(start_ns, i, o->rate);
        }
        field = TL_U64("n", i);
        rec.msg = message_make(m, i, &rec.msg_len);
        (void)tl__cli_out_log(out, &rec);
        if (o->audit_every != 0 && i % o->audit_every == 0) {
            send_audit(out, o, i);
        }
    }
}

int tl__cli_emit(int argc, char **argv)
{
    struct emit_opts o = {.count = 1, .level = TL_INFO, .logger = "emit"};
    struct tl__cli_tally t = {0};
    struct tl__cli_out *out = NULL;
    struct message m;
    int status;

    status = parse_args(argc, argv, &o);
    if (status >= 0) {
        return status;
    }
    if (message_init(&m, o.size) != 0) {
        fprintf(stderr,
                "tenantlog emit: out of memory for a %" PRIu64
                "-byte message\n",
                o.size);
        return TL__EXIT_FAILURE;
    }
    if (tl__cli_out_open("tenantlog emit", o.config, o.socket, &out) != 0) {
        free(m.text);
        return TL__EXIT_FAILURE;
    }
    send_all(out, &o, &m);
    status = tl__cli_out_close(out, &t) == 0 ? TL__EXIT_OK : TL__EXIT_FAILURE;
    fprintf(stderr,
            "emit: sent=%" PRIu64 " accepted=%" PRIu64 " audit=%" PRIu64
            " failed=%" PRIu64 "\n",
            t.sent, t.sent - t.failed, t.audit_sent - t.audit_failed,
            t.failed + t.audit_failed);
    free(m.text);
    return status;
}
