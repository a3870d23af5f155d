/* The console sink: one line per record on stderr, human text (coloured
 * on a terminal) or JSON. It borrows descriptor 2 and never closes it. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "sink.h"

struct console {
    struct tl__sink base;
    bool colour;
};

static int console_write(struct tl__sink *s, const struct tl__record *r)
{
    struct console *c = (struct console *)s;
    const char *p;
    size_t left;

    tl__buf_reset(&s->line);
    if (s->conf->format == TL__FORMAT_JSON) {
        tl__format_json(&s->line, r);
    } else {
        tl__format_text(&s->line, r, c->colour);
    }
    if (s->line.oom) {
        return -ENOMEM;
    }
    p = s->line.data;
    left = s->line.len;
    while (left > 0) {
        ssize_t n = write(STDERR_FILENO, p, left);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int err = errno;

            tl__sink_fail(s, TL__OP_WRITE, err, NULL, NULL);
            return -err;
        }
        p += n;
        left -= (size_t)n;
    }
    return 0;
}

static void console_reopen(struct tl__sink *s)
{
    (void)s;
}

static void console_free(struct tl__sink *s)
{
    free(s);
}

static const struct tl__sink_ops console_ops = {
    .write = console_write,
    .reopen = console_reopen,
    .free = console_free,
};

int tl__sink_console_new(const struct tl__sink_conf *conf,
                         struct tl__sink **out)
{
    struct console *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return -ENOMEM;
    }
    c->base.ops = &console_ops;
    c->base.conf = conf;
    if (conf->colour == TL__COLOUR_AUTO) {
        const char *term = getenv("TERM");

        c->colour = isatty(STDERR_FILENO) && getenv("NO_COLOR") == NULL &&
                    term != NULL && term[0] != '\0';
    } else {
        c->colour = conf->colour == TL__COLOUR_ALWAYS;
    }
    *out = &c->base;
    return 0;
}
