/* The in-memory record: one allocation holding the header, the context,
 * the typed fields and every string they point to. Immutable once built,
 * so the writer thread reads it without locks. */
#ifndef TL_LIB_RECORD_H
#define TL_LIB_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tenantlog/tenantlog.h"

/* Largest record accepted, counting every string and field. */
#define TL__RECORD_MAX (1u << 20)

/* The transport a record arrived by, written as the trusted "_transport"
 * key. */
enum tl__transport {
    TL__TRANSPORT_LIBRARY = 0, /* in-process; no trusted keys written */
    TL__TRANSPORT_NATIVE,      /* the daemon's native socket */
    TL__TRANSPORT_SYSLOG,      /* the daemon's syslog sockets */
    TL__TRANSPORT_DAEMON       /* the daemon's own diagnostics */
};

struct tl__field {
    const char *key;
    enum tl_field_type type;
    size_t len; /* bytes of v.s, for TL_FIELD_STR */
    union {
        const char *s;
        int64_t i;
        uint64_t u;
        double d;
        bool b;
    } v;
};

/* Credentials the kernel reported for the sender (SO_PEERCRED or
 * SCM_CREDENTIALS). The payload can never set these. */
struct tl__cred {
    bool set;
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

struct tl__record {
    int64_t ts_ns;
    enum tl_level level;
    enum tl__transport transport;
    struct tl__cred cred;
    /* Each string is NUL-terminated inside the allocation, or NULL. */
    const char *logger;
    const char *msg;
    size_t msg_len;
    /* A valid tenant id, or NULL. When the caller gave an invalid one it
     * is kept, escaped on output, in tenant_invalid, and tenant is NULL. */
    const char *tenant;
    const char *tenant_invalid;
    const char *request_id;
    const char *trace_id;
    const char *span_id;
    size_t n_fields;
    struct tl__field *fields;
};

/* The borrowed parts of a record before it is copied. */
struct tl__record_src {
    int64_t ts_ns; /* 0 means now */
    enum tl_level level;
    enum tl__transport transport;
    struct tl__cred cred;
    const char *logger;
    const char *msg;
    size_t msg_len; /* (size_t)-1 means strlen(msg) */
    const char *tenant;
    const char *request_id;
    const char *trace_id;
    const char *span_id;
    const struct tl_field *fields;
    size_t n_fields;
    /* Optional string field lengths, for strings with NUL bytes; when NULL
     * every string field is NUL-terminated. */
    const size_t *field_lens;
};

/* Copies src into one allocation. Returns 0 and sets *out (free with
 * free(3)), TL_EINVAL for a field of unknown type, TL_ETOOBIG past
 * TL__RECORD_MAX, or -ENOMEM. */
int tl__record_new(const struct tl__record_src *src, struct tl__record **out);

/* True when key is one of the reserved output keys, which a field key
 * must not take ("ts", "level", ..., and every key starting with '_'). */
bool tl__key_reserved(const char *key);

#endif
