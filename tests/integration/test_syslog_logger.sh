#!/bin/bash
# Integration test: the real util-linux logger(1) sends RFC 5424 and RFC 3164
# messages to tenantlogd's syslog sockets, by datagram and by stream, with
# and without octet counting. Each message must land exactly once, in the
# right tenant's file, with logger's own pid and uid as trusted fields.
# Needs TL_BIN (the build folder).
. "$(dirname "$0")/common.sh"

write_config "$tmp/tenantlog.yaml" "$tmp/log" "$tmp/audit.db" \
    "$tmp/run/native.sock"
# More keys of the daemon section: the counters file and the syslog sockets.
cat >>"$tmp/tenantlog.yaml" <<EOF
  stats: $tmp/stats.txt
  syslog:
    - path: $tmp/run/dgram.sock
      type: dgram
    - path: $tmp/run/dgram-tenant.sock
      type: dgram
      tenant: dgramco
    - path: $tmp/run/stream.sock
      type: stream
      tenant: streamco
EOF

daemon_start "$tmp/tenantlog.yaml" "$tmp/run/stream.sock"

# check_record TENANT MSG PID [PROCID]: waits for MSG in TENANT's file and
# checks that it is there once, with _pid PID and the caller's _uid.
check_record() {
    local tenant=$1 msg=$2 pid=$3 procid=${4:-} file="$tmp/log/$1/app.log"
    local out
    for _ in $(seq 200); do
        [ -f "$file" ] && grep -qF "\"msg\":\"$msg\"" "$file" && break
        sleep 0.05
    done
    out=$(python3 - "$file" "$msg" "$pid" "$(id -u)" "$procid" <<'PY'
import json, sys
path, msg, pid, uid, procid = sys.argv[1:]
try:
    recs = [json.loads(l) for l in open(path)]
except FileNotFoundError:
    recs = []
found = [r for r in recs if r.get("msg") == msg]
if len(found) != 1:
    print(f"found {len(found)} records, expected 1")
    sys.exit(0)
r = found[0]
if r.get("_pid") != int(pid):
    print(f"_pid is {r.get('_pid')}, expected {pid}")
if r.get("_uid") != int(uid):
    print(f"_uid is {r.get('_uid')}, expected {uid}")
if r.get("_transport") != "syslog":
    print(f"_transport is {r.get('_transport')}")
if r.get("logger") != "tltest":
    print(f"logger is {r.get('logger')}, expected tltest")
if procid and r.get("procid") != procid:
    print(f"procid is {r.get('procid')}, expected {procid}")
PY
    )
    if [ -n "$out" ]; then
        fail "$msg (tenant $tenant): $out"
    fi
}

# send NAME TENANT ARGS...: runs logger with ARGS and message NAME, then
# checks the record.
send() {
    local name=$1 tenant=$2
    shift 2
    logger -t tltest "$@" "msg $name $$" &
    local pid=$!
    if ! wait "$pid"; then
        fail "logger $* exited with an error"
        return
    fi
    check_record "$tenant" "msg $name $$" "$pid"
}

sd=(--sd-id tenant@32473 --sd-param 'id="acme"')

send dgram-5424 _system -u "$tmp/run/dgram.sock" -d --rfc5424
send dgram-5424-sd acme -u "$tmp/run/dgram.sock" -d --rfc5424 "${sd[@]}"
send dgram-3164 _system -u "$tmp/run/dgram.sock" -d --rfc3164
send dgram-local _system -u "$tmp/run/dgram.sock" -d
send dgram-default-3164 dgramco -u "$tmp/run/dgram-tenant.sock" -d --rfc3164
send dgram-default-5424 dgramco -u "$tmp/run/dgram-tenant.sock" -d --rfc5424
send dgram-default-sd acme -u "$tmp/run/dgram-tenant.sock" -d --rfc5424 \
    "${sd[@]}"
send stream-5424 streamco -u "$tmp/run/stream.sock" -T --rfc5424
send stream-5424-octet streamco -u "$tmp/run/stream.sock" -T --rfc5424 \
    --octet-count
send stream-3164 streamco -u "$tmp/run/stream.sock" -T --rfc3164
send stream-3164-octet streamco -u "$tmp/run/stream.sock" -T --rfc3164 \
    --octet-count
send stream-5424-sd acme -u "$tmp/run/stream.sock" -T --rfc5424 \
    --octet-count "${sd[@]}"
send stream-5424-sd-lf acme -u "$tmp/run/stream.sock" -T --rfc5424 "${sd[@]}"

# -i puts logger's pid in the header too (PROCID or tag[pid]).
logger -t tltest -i -u "$tmp/run/dgram.sock" -d --rfc5424 "msg procid $$" &
pid=$!
wait "$pid"
check_record _system "msg procid $$" "$pid" "$pid"
logger -t tltest -i -u "$tmp/run/stream.sock" -T --rfc3164 "msg tag-pid $$" &
pid=$!
wait "$pid"
check_record streamco "msg tag-pid $$" "$pid" "$pid"

# Many lines from stdin travel over one stream connection.
for framing in lf octet; do
    opt=()
    [ "$framing" = octet ] && opt=(--octet-count)
    seq 1 100 | sed "s/^/line $framing $$ /" |
        logger -t tltest -u "$tmp/run/stream.sock" -T --rfc5424 "${opt[@]}" &
    pid=$!
    wait "$pid"
    check_record streamco "line $framing $$ 100" "$pid"
    for n in 1 37 99; do
        check_record streamco "line $framing $$ $n" "$pid"
    done
    count=$(grep -c "\"msg\":\"line $framing $$ " "$tmp/log/streamco/app.log")
    [ "$count" -eq 100 ] || fail "$framing stream: $count records, not 100"
done

daemon_stop
grep -q '^syslog_received=' "$tmp/stats.txt" ||
    fail "stats file has no syslog_received"
# 13 single messages, 2 with -i, 200 lines.
grep -qx 'syslog_received=215' "$tmp/stats.txt" ||
    fail "stats: $(grep '^syslog_received=' "$tmp/stats.txt"), expected 215"
grep -qx 'syslog_unparsed=0' "$tmp/stats.txt" ||
    fail "stats: $(grep '^syslog_unparsed=' "$tmp/stats.txt"), expected 0"

finish
