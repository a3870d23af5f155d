/* tenantlogd: the collector daemon. Parses the command line, loads the
 * configuration and runs the event loop in the foreground. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define EXIT_USAGE 2

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tenantlogd [--config FILE] [--help] [--version]\n"
            "\n"
            "Collects records on the native socket and the syslog sockets\n"
            "and writes them to the configured sinks; audit events go to\n"
            "the audit store. Runs in the foreground until SIGTERM or\n"
            "SIGINT; SIGHUP reopens every file sink.\n"
            "\n"
            "  -c, --config FILE  YAML configuration (default: the\n"
            "                     TENANTLOG_CONFIG variable, else the\n"
            "                     embedded default, state under ./var/)\n"
            "  -h, --help         print this help and exit\n"
            "  -V, --version      print the version and exit\n");
}

/* Parses the options. Returns -1 to go on, else the exit status. */
static int options_parse(int argc, char **argv, const char **config)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            *config = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_SUCCESS;
        case 'V':
            printf("tenantlogd %s\n", TL__DAEMON_VERSION);
            return EXIT_SUCCESS;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tenantlogd: unexpected argument \"%s\"\n",
                argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    return -1;
}

static int config_read(const char *path, struct tl__config **cfg)
{
    char err[1024];
    int rc;

    if (path != NULL) {
        rc = tl__config_load(path, cfg, err, sizeof(err));
    } else {
        rc = tl__config_parse(tl__config_default_yaml,
                              strlen(tl__config_default_yaml), "<default>", cfg,
                              err, sizeof(err));
    }
    if (rc < 0) {
        fprintf(stderr, "tenantlogd: %s\n", err);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static struct tl__daemon d;
    const char *path = NULL;
    uv_loop_t loop;
    int status, rc;

    status = options_parse(argc, argv, &path);
    if (status >= 0) {
        return status;
    }
    if (path == NULL && getenv("TENANTLOG_CONFIG") != NULL &&
        getenv("TENANTLOG_CONFIG")[0] != '\0') {
        path = getenv("TENANTLOG_CONFIG");
    }
    if (config_read(path, &d.cfg) < 0) {
        return EXIT_FAILURE;
    }
    /* A client that disconnects must cost an EPIPE, not the process. */
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    d.loop = &loop;
    d.config_name = path ? path : "<default>";
    rc = tl__daemon_start(&d);
    if (rc == 0) {
        uv_run(&loop, UV_RUN_DEFAULT);
    } else {
        tl__daemon_stop(&d);
    }
    if (tl__daemon_finish(&d) < 0) {
        rc = -1;
    }
    uv_loop_close(&loop);
    tl__config_free(d.cfg);
    return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
