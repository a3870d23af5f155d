/* Error strings and level names. */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "tenantlog/tenantlog.h"

const char *tl_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define TL_ERROR_CASE(name, value, text)                                       \
    case value:                                                                \
        return text;
        TL_ERRORS(TL_ERROR_CASE)
#undef TL_ERROR_CASE
    default:
        break;
    }
    if (code < 0 && code > -4096) {
        /* strerror is not thread-safe in general, but glibc's returns
         * static strings for known errnos. */
        return strerror(-code);
    }
    return "unknown error";
}

static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

const char *tl_level_name(enum tl_level level)
{
    if ((unsigned)level > TL_DEBUG) {
        return NULL;
    }
    return level_names[level];
}

static const struct {
    const char *name;
    enum tl_level level;
} level_aliases[] = {
    {"emergency", TL_EMERG},  {"panic", TL_EMERG}, {"critical", TL_CRIT},
    {"fatal", TL_CRIT},       {"err", TL_ERROR},   {"warn", TL_WARNING},
    {"information", TL_INFO}, {"trace", TL_DEBUG},
};

int tl_level_parse(const char *name, enum tl_level *out)
{
    size_t i;

    if (name == NULL) {
        return TL_EINVAL;
    }
    for (i = 0; i <= TL_DEBUG; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum tl_level)i;
            return 0;
        }
    }
    for (i = 0; i < sizeof(level_aliases) / sizeof(level_aliases[0]); i++) {
        if (strcasecmp(name, level_aliases[i].name) == 0) {
            *out = level_aliases[i].level;
            return 0;
        }
    }
    return TL_EINVAL;
}
