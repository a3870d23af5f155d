#!/usr/bin/env bash
# The main job: tenantlogd on the embedded default configuration (all
# state under ./var/), fed with real logs from Loghub through every
# ingest path, then a summary that accounts for every input line.
set -euo pipefail

build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
data=${TL_DATA:-$top/../shared/data/loghub}
bin=$top/$build
var=$top/var

for f in OpenStack_2k.log OpenSSH_2k.log Linux_2k.log; do
    if [ ! -r "$data/$f" ]; then
        echo "main-job: input $data/$f not found; set TL_DATA to the" \
             "Loghub folder" >&2
        exit 1
    fi
done

# The job owns ./var: each run starts from an empty state so that the
# summary counts this run only.
cd "$top"
rm -rf "$var"
mkdir -p "$var"
env -u TENANTLOG_CONFIG "$bin/tenantlogd" 2>"$var/tenantlogd.stderr" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true' EXIT

for _ in $(seq 100); do
    [ -S var/tenantlogd.sock ] && [ -S var/syslog.sock ] &&
        [ -S var/syslog-stream.sock ] && break
    sleep 0.1
done
if ! kill -0 "$daemon" 2>/dev/null || [ ! -S var/tenantlogd.sock ]; then
    echo "main-job: tenantlogd did not start; its stderr:" >&2
    cat "$var/tenantlogd.stderr" >&2
    exit 1
fi

echo "== OpenStack_2k.log -> tenantlog import (native protocol, with audit)"
# A failed import must not stop the job: the summary reports it.
import_status=0
env -u TENANTLOG_CONFIG "$bin/tenantlog" import --daemon var/tenantlogd.sock \
    --audit "$data/OpenStack_2k.log" >"$var/import.report" ||
    import_status=$?
cat "$var/import.report"

echo "== OpenSSH_2k.log -> logger(1), RFC 5424, stream, octet counting," \
     "tenant labsz"
logger_status=0
logger -u var/syslog-stream.sock -T --rfc5424 --octet-count \
    --sd-id tenant@32473 --sd-param 'id="labsz"' -t sshd -p auth.info \
    -f "$data/OpenSSH_2k.log" || logger_status=$?

echo "== Linux_2k.log -> logger(1), RFC 3164, datagram, no tenant"
logger -u var/syslog.sock -d --rfc3164 -t combo -p syslog.notice \
    -f "$data/Linux_2k.log" || logger_status=$?

kill -TERM "$daemon"
status=0
wait "$daemon" || status=$?
trap - EXIT
if [ "$status" -ne 0 ]; then
    echo "main-job: tenantlogd exited with status $status; its stderr:" >&2
    cat "$var/tenantlogd.stderr" >&2
fi

echo "== audit verification"
verify_status=0
env -u TENANTLOG_CONFIG "$bin/tenantlog" audit verify >"$var/verify.report" \
    2>&1 || verify_status=$?
cat "$var/verify.report"

python3 "$top/scripts/main_summary.py" --var "$var" --data "$data" \
    --daemon-status "$status" --verify-status "$verify_status" \
    --import-status "$import_status" --logger-status "$logger_status"
