/* Configuration: the parsed form of the YAML file or the embedded
 * default. Shared by the library, the daemon and `tenantlog config
 * check`. */
#ifndef TL_LIB_CONFIG_H
#define TL_LIB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "tenantlog/tenantlog.h"

enum tl__sink_type { TL__SINK_CONSOLE = 1, TL__SINK_FILE };
enum tl__colour { TL__COLOUR_AUTO = 0, TL__COLOUR_ALWAYS, TL__COLOUR_NEVER };
enum { TL__FSYNC_NEVER = 0, TL__FSYNC_BATCH = -1 };
enum tl__rotate_every {
    TL__ROTATE_NONE = 0,
    TL__ROTATE_HOURLY,
    TL__ROTATE_DAILY
};
enum tl__compress {
    TL__COMPRESS_NONE = 0,
    TL__COMPRESS_ZSTD,
    TL__COMPRESS_GZIP
};
enum tl__fallback { TL__FALLBACK_STDERR = 0, TL__FALLBACK_SPOOL };

struct tl__sink_conf {
    char *name;
    enum tl__sink_type type;
    enum tl_level level;    /* records at this severity or more severe */
    enum tl__format format; /* console: text by default; file: json */
    enum tl__colour colour; /* console only */
    char *base;             /* file: folder every path stays under */
    char *path;             /* file: template relative to base, with
                               {tenant}; no "..", not absolute */
    uint64_t max_bytes;     /* file: rotate at this size; 0 = never */
    unsigned keep;          /* file: rotated files kept (default 10) */
    int fsync_ms; /* file: TL__FSYNC_NEVER (default), TL__FSYNC_BATCH, or
                     milliseconds between fsyncs of written files */
    enum tl__rotate_every rotate; /* file: time rotation; none by default */
    int rotate_at_min;            /* file, daily: minutes after midnight */
    bool rotate_utc;              /* file: boundaries in UTC, else local */
    int64_t max_age_s;            /* file: delete rotated files older than
                                     this many seconds; 0 = no limit */
    uint64_t max_total_bytes;     /* file: rotated files together stay
                                     under this; 0 = no limit */
    enum tl__compress compress;   /* file: rotated files; zstd default */
    enum tl__fallback fallback;   /* file: where failed records go */
    uint64_t spool_bytes;         /* file, spool: memory bound */
};

struct tl__syslog_conf {
    char *path;           /* Unix socket path */
    bool stream;          /* SOCK_STREAM when true, else SOCK_DGRAM */
    char *default_tenant; /* tenant when the message names none, or NULL */
};

struct tl__config {
    struct tl__sink_conf *sinks;
    size_t n_sinks;
    size_t queue_capacity; /* records */
    bool queue_block;      /* block producers when full, else drop */
    int close_timeout_ms;
    char *audit_path;    /* SQLite database file */
    char *daemon_socket; /* native protocol socket */
    char *daemon_stats;  /* counters written here at exit, or NULL */
    struct tl__syslog_conf *syslog;
    size_t n_syslog;
    char *text; /* the source, to compare two configurations */
    size_t text_len;
};

/* The embedded default configuration, as YAML. */
extern const char tl__config_default_yaml[];

/*
 * Parses YAML text of len bytes. name labels error messages (a path or
 * "<default>"). On failure returns TL_ECONFIG and writes one message of
 * the form "NAME:LINE:COLUMN: what is wrong; what to do" to err (at most
 * errlen bytes), with 1-based line and column. Unknown keys are errors.
 */
int tl__config_parse(const char *text, size_t len, const char *name,
                     struct tl__config **out, char *err, size_t errlen);

/* Reads and parses the file at path; an unreadable file is reported in
 * err with the errno text. */
int tl__config_load(const char *path, struct tl__config **out, char *err,
                    size_t errlen);

void tl__config_free(struct tl__config *cfg);

#endif
