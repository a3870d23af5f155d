/* The embedded default configuration, used when no file is given. Its
 * sinks, queue, audit and daemon.socket values equal the defaults that
 * config.c gives a file that omits them; test_config checks both. */
#include "config.h"

const char tl__config_default_yaml[] =
    "# tenantlog embedded default: human text on stderr for warnings and "
    "worse,\n"
    "# JSON lines per tenant under ./var/log, the audit trail in "
    "./var/audit.db.\n"
    "sinks:\n"
    "  - name: console\n"
    "    type: console\n"
    "    level: warning\n"
    "  - name: files\n"
    "    type: file\n"
    "    base: ./var/log\n"
    "    path: \"{tenant}/app.log\"\n"
    "    level: debug\n"
    "queue:\n"
    "  capacity: 65536\n"
    "  full: block\n"
    "  close_timeout_ms: 5000\n"
    "audit:\n"
    "  path: ./var/audit.db\n"
    "daemon:\n"
    "  socket: ./var/tenantlogd.sock\n"
    "  stats: ./var/tenantlogd.stats\n"
    "  syslog:\n"
    "    - path: ./var/syslog.sock\n"
    "      type: dgram\n"
    "    - path: ./var/syslog-stream.sock\n"
    "      type: stream\n";
