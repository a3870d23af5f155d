/* Fuzzes tl__config_parse with the input as YAML text. A rejected input
 * must come with one error line "fuzz.yaml:LINE:COLUMN: ..." free of
 * control bytes. An accepted one must satisfy every rule the parser
 * promises to its users: named sinks, file sinks with base and path,
 * values in range. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "lib/config.h"

#define NAME "fuzz.yaml"

/* Checks "fuzz.yaml:LINE:COLUMN: text" with no byte below 0x20. */
static void error_check(const char *err)
{
    size_t len = strlen(err), i;
    unsigned long line, column;
    int used = 0;

    if (len == 0) {
        fuzz_fail(NULL, 0, "rejected without an error message");
    }
    if (sscanf(err, NAME ":%lu:%lu: %n", &line, &column, &used) != 2 ||
        used == 0 || line == 0 || column == 0) {
        fuzz_fail(err, len, "the error does not start with NAME:LINE:COL");
    }
    for (i = 0; i < len; i++) {
        if ((unsigned char)err[i] < 0x20) {
            fuzz_fail(err, len, "control byte 0x%02x in the error",
                      (unsigned char)err[i]);
        }
    }
}

/* True when a path template stays under base: relative, and without
 * an empty or ".." component. */
static bool template_confined(const char *path)
{
    const char *c = path;
    size_t n;

    if (path[0] == '/') {
        return false;
    }
    for (;;) {
        n = strcspn(c, "/");
        if (n == 0 || (n == 2 && memcmp(c, "..", 2) == 0)) {
            return false;
        }
        if (c[n] == '\0') {
            return true;
        }
        c += n + 1;
    }
}

static void sink_check(const struct tl__sink_conf *s)
{
    if (s->name == NULL || s->name[0] == '\0') {
        fuzz_fail(NULL, 0, "a sink without a name");
    }
    if ((unsigned)s->level > TL_DEBUG) {
        fuzz_fail(s->name, strlen(s->name), "sink level %d", (int)s->level);
    }
    if (s->type == TL__SINK_FILE) {
        if (s->base == NULL || s->path == NULL || !template_confined(s->path)) {
            fuzz_fail(s->name, strlen(s->name),
                      "file sink without base, "
                      "or with a path that leaves base");
        }
    } else if (s->type != TL__SINK_CONSOLE || s->base || s->path) {
        fuzz_fail(s->name, strlen(s->name),
                  "sink of type %d with base or "
                  "path",
                  (int)s->type);
    }
}

static void config_check(const struct tl__config *cfg, const char *text,
                         size_t len)
{
    size_t i, j;

    if (cfg->n_sinks == 0 || cfg->text_len != len ||
        memcmp(cfg->text, text, len) != 0) {
        fuzz_fail(text, len, "no sinks, or the stored text differs");
    }
    for (i = 0; i < cfg->n_sinks; i++) {
        sink_check(&cfg->sinks[i]);
        for (j = 0; j < i; j++) {
            if (strcmp(cfg->sinks[i].name, cfg->sinks[j].name) == 0) {
                fuzz_fail(text, len, "two sinks named %s", cfg->sinks[i].name);
            }
        }
    }
    if (cfg->queue_capacity < 16 || cfg->queue_capacity > 16777216 ||
        cfg->close_timeout_ms < 0 || cfg->close_timeout_ms > 600000) {
        fuzz_fail(text, len, "queue values out of range");
    }
    if (cfg->audit_path == NULL || cfg->daemon_socket == NULL) {
        fuzz_fail(text, len, "no audit path or daemon socket");
    }
    for (i = 0; i < cfg->n_syslog; i++) {
        const struct tl__syslog_conf *s = &cfg->syslog[i];

        if (s->path == NULL ||
            (s->default_tenant && !tl_tenant_valid(s->default_tenant))) {
            fuzz_fail(text, len,
                      "syslog listener without a path or with "
                      "an invalid tenant");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct tl__config *cfg = NULL;
    char err[512];
    int rc;

    rc = tl__config_parse(size > 0 ? text : "", size, NAME, &cfg, err,
                          sizeof(err));
    if (rc == 0) {
        if (cfg == NULL) {
            fuzz_fail(text, size, "success without a configuration");
        }
        config_check(cfg, size > 0 ? text : "", size);
        tl__config_free(cfg);
    } else if (rc == TL_ECONFIG) {
        error_check(err);
    } else {
        fuzz_fail(text, size, "tl__config_parse returned %d", rc);
    }
    return 0;
}
