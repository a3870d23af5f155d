#!/bin/bash
# Integration test of tenantlogd's lifecycle. SIGHUP reopens a renamed file.
# SIGTERM exits 0 and writes the stats file, and no acked record is lost
# when it arrives while a client is sending. At start the daemon rejects a
# socket path with a live daemon or a regular file, and replaces a stale
# socket.
# Needs TL_BIN (the build folder) and TL_SRC (the source tree).
. "$(dirname "$0")/common.sh"

export PYTHONPATH="$TL_SRC/clients/python"

write_config "$tmp/tenantlog.yaml" "$tmp/log" "$tmp/audit.db" \
    "$tmp/run/native.sock"
# One more key of the daemon section: where SIGTERM writes the counters.
echo "  stats: $tmp/stats.txt" >>"$tmp/tenantlog.yaml"

# send_records TENANT FIRST LAST: sends records n=FIRST..LAST and waits for
# the ack of the last one.
send_records() {
    python3 - "$tmp/run/native.sock" "$@" <<'PY'
import sys
import tenantlog_client as tc
path, tenant, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4])
with tc.Connection(path, timeout=10) as conn:
    for n in range(first, last + 1):
        seq = conn.send({"type": "record", "tenant": tenant,
                         "msg": f"record {n}", "fields": {"n": n}})
    conn.wait(seq, timeout=10)
    if conn.errors:
        sys.exit(f"error frames: {list(conn.errors)}")
PY
}

# ns_of FILE: prints the n fields of FILE, sorted, one per line.
ns_of() {
    python3 -c "import json,sys; \
print('\n'.join(str(json.loads(l)['n']) for l in open(sys.argv[1])))" "$1" |
        sort -n
}

daemon_start "$tmp/tenantlog.yaml" "$tmp/run/native.sock"

# --- SIGHUP reopens a file renamed away ---
send_records hup 1 3 || fail "sending the first records failed"
mv "$tmp/log/hup/app.log" "$tmp/log/hup/app.log.1"
kill -HUP "$daemon_pid"
for _ in $(seq 200); do
    grep -q 'reopened every file sink on SIGHUP' "$tmp/log/_system/app.log" \
        2>/dev/null && break
    sleep 0.05
done
grep -q 'reopened every file sink on SIGHUP' "$tmp/log/_system/app.log" ||
    fail "no reopen record after SIGHUP"
send_records hup 4 6 || fail "sending after SIGHUP failed"
[ -f "$tmp/log/hup/app.log" ] || fail "no new app.log after SIGHUP"
[ "$(ns_of "$tmp/log/hup/app.log" | tr '\n' ' ')" = "4 5 6 " ] ||
    fail "new file holds n = $(ns_of "$tmp/log/hup/app.log" | tr '\n' ' ')"
[ "$(ns_of "$tmp/log/hup/app.log.1" | tr '\n' ' ')" = "1 2 3 " ] ||
    fail "renamed file holds n = $(ns_of "$tmp/log/hup/app.log.1" |
        tr '\n' ' ')"

# --- a second daemon on the same socket is rejected ---
if "$TL_BIN/tenantlogd" --config "$tmp/tenantlog.yaml" \
    >"$tmp/second.out" 2>&1; then
    fail "a second daemon started on a live socket"
fi
grep -q 'another process is listening' "$tmp/second.out" ||
    fail "second daemon's error: $(cat "$tmp/second.out")"

# --- SIGTERM while a client sends: every acked record is in the file ---
python3 - "$tmp/run/native.sock" "$tmp/acked" <<'PY' &
import sys
import tenantlog_client as tc
path, acked_file = sys.argv[1], sys.argv[2]
conn = tc.Connection(path, timeout=10)
n = 0
try:
    while True:
        n += 1
        conn.send({"type": "record", "tenant": "term", "msg": f"term {n}",
                   "fields": {"n": n}})
        conn.read(block=False)
except OSError:
    pass
try:
    while True:
        conn.read(block=True)
except OSError:
    pass
with open(acked_file, "w") as f:
    f.write(f"{conn.acked}\n")
PY
sender_pid=$!
sleep 0.5
daemon_stop "SIGTERM while sending"
wait "$sender_pid" || fail "the sender failed"
acked=$(cat "$tmp/acked" 2>/dev/null || echo 0)
[ "$acked" -gt 0 ] || fail "no record was acked before SIGTERM"
missing=$(ns_of "$tmp/log/term/app.log" | python3 -c "import sys; \
got = [int(l) for l in sys.stdin]; acked = int(sys.argv[1]); \
lost = sorted(set(range(1, acked + 1)) - set(got)); \
dup = len(got) - len(set(got)); \
print(f'{len(lost)} acked records missing, first {lost[:5]}' if lost else \
      f'{dup} duplicates' if dup else '')" "$acked")
[ -z "$missing" ] || fail "after SIGTERM: $missing"
grep -q 'tenantlogd stopped' "$tmp/log/_system/app.log" ||
    fail "no stop record"

# --- the stats file has every counter ---
for name in native_frames native_records native_errors audit_committed \
    audit_failed syslog_received syslog_unparsed syslog_empty \
    syslog_truncated records_written records_failed connections \
    sink_written sink_write_errors sink_fallback sink_reopens; do
    grep -q "^$name=[0-9][0-9]*$" "$tmp/stats.txt" ||
        fail "stats file has no $name"
done
native=$(sed -n 's/^native_records=//p' "$tmp/stats.txt")
[ "${native:-0}" -ge "$acked" ] ||
    fail "native_records=$native is less than the $acked acked"

# --- a stale socket left by a killed daemon is replaced ---
daemon_start "$tmp/tenantlog.yaml" "$tmp/run/native.sock"
{
    kill -KILL "$daemon_pid"
    wait "$daemon_pid"
} 2>/dev/null
daemon_pid=
[ -S "$tmp/run/native.sock" ] || fail "no stale socket after SIGKILL"
daemon_start "$tmp/tenantlog.yaml" "$tmp/run/native.sock"
send_records stale 1 1 || fail "sending after a stale socket failed"
daemon_stop "after a stale socket"

# --- a regular file at the socket path is left alone ---
rm -f "$tmp/run/native.sock"
echo "not a socket" >"$tmp/run/native.sock"
if "$TL_BIN/tenantlogd" --config "$tmp/tenantlog.yaml" \
    >"$tmp/file.out" 2>&1; then
    fail "tenantlogd started over a regular file"
fi
grep -q 'is not a socket' "$tmp/file.out" ||
    fail "regular file error: $(cat "$tmp/file.out")"
grep -qx 'not a socket' "$tmp/run/native.sock" ||
    fail "the regular file was changed"

echo "records acked before SIGTERM: $acked"
finish
