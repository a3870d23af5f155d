#!/bin/bash
# Checks `tenantlog emit` through the library and through tenantlogd:
# every record n=1..N arrives exactly once, audit events are committed,
# invalid tenant ids are usage errors, and failed writes fail the run.
. "$(dirname "$0")/common.sh"

cli="$TL_BIN/tenantlog"
daemon="$TL_BIN/tenantlogd"
fake_pid=

# Stops the stand-in daemon of fake_daemon when the test ends early. The
# exit trap of common.sh calls it.
cleanup_hook() {
    if [ -n "$fake_pid" ]; then
        kill "$fake_pid" 2>/dev/null
    fi
}

# check_records FILE TENANT COUNT [SIZE]: n=1..COUNT each exactly once,
# all with TENANT, and messages of SIZE bytes when given.
check_records() {
    python3 - "$@" <<'EOF'
import json
import sys

path, tenant, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
size = int(sys.argv[4]) if len(sys.argv) > 4 else None
seen = {}
problems = []
with open(path, encoding="utf-8") as f:
    for raw in f:
        rec = json.loads(raw)
        n = rec.get("n")
        seen[n] = seen.get(n, 0) + 1
        if rec.get("tenant") != tenant:
            problems.append(f"n={n}: tenant {rec.get('tenant')!r}")
        if size is not None and len(rec["msg"].encode()) != size:
            problems.append(f"n={n}: message of {len(rec['msg'])} bytes")
missing = [n for n in range(1, count + 1) if n not in seen]
twice = [n for n, k in seen.items() if k > 1]
extra = [n for n in seen if not (isinstance(n, int) and 1 <= n <= count)]
if missing:
    problems.append(f"{len(missing)} missing, first {missing[:5]}")
if twice:
    problems.append(f"{len(twice)} duplicated, first {twice[:5]}")
if extra:
    problems.append(f"unexpected n values {extra[:5]}")
for p in problems[:10]:
    print(f"{path}: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
}

# run_emit NAME ARGS...: runs emit, keeping its stderr in $tmp/NAME.err
# and its exit status in $status.
run_emit() {
    local name=$1
    shift
    "$cli" emit "$@" 2>"$tmp/$name.err"
    status=$?
}

write_config "$tmp/lib.yaml" "$tmp/log" "$tmp/audit.db"

# 10,000 records through the library.
run_emit lib --config "$tmp/lib.yaml" --tenant acme --count 10000 \
    --request-id req-1
[ "$status" = 0 ] || fail "emit exited $status: $(cat "$tmp/lib.err")"
grep -qx 'emit: sent=10000 accepted=10000 audit=0 failed=0' \
    "$tmp/lib.err" || fail "emit summary: $(tail -1 "$tmp/lib.err")"
check_records "$tmp/log/acme/app.log" acme 10000 ||
    fail "library records of tenant acme"

# One audit event after every 100 records.
run_emit audit --config "$tmp/lib.yaml" --tenant beta --count 1000 \
    --audit-every 100
[ "$status" = 0 ] || fail "emit --audit-every exited $status"
grep -qx 'emit: sent=1000 accepted=1000 audit=10 failed=0' \
    "$tmp/audit.err" || fail "audit summary: $(tail -1 "$tmp/audit.err")"
rows=$(sqlite3 "$tmp/audit.db" \
    "SELECT count(*) FROM audit_events WHERE tenant = 'beta'")
[ "$rows" = 10 ] || fail "beta has $rows audit rows, expected 10"
targets=$(sqlite3 "$tmp/audit.db" "SELECT group_concat(target_id, ',')
    FROM (SELECT target_id FROM audit_events WHERE tenant = 'beta'
          AND action = 'db.update' AND target_type = 'emit' ORDER BY seq)")
[ "$targets" = 100,200,300,400,500,600,700,800,900,1000 ] ||
    fail "beta audit targets: $targets"
"$cli" audit verify --db "$tmp/audit.db" >/dev/null 2>&1 ||
    fail "audit verify failed after emit --audit-every"

# Padded messages of an exact size, paced.
run_emit size --config "$tmp/lib.yaml" --tenant gamma --count 100 \
    --size 300 --rate 1000
[ "$status" = 0 ] || fail "emit --size exited $status"
check_records "$tmp/log/gamma/app.log" gamma 100 300 ||
    fail "records with --size 300"

# Invalid tenant ids are usage errors that write nothing.
for tenant in ../x a/b; do
    run_emit bad --config "$tmp/lib.yaml" --tenant "$tenant" --count 1
    [ "$status" = 2 ] || fail "--tenant $tenant exited $status, expected 2"
    grep -qF "invalid --tenant '$tenant'" "$tmp/bad.err" ||
        fail "--tenant $tenant message: $(head -1 "$tmp/bad.err")"
done
folders=$(cd "$tmp/log" && printf '%s ' *)
[ "$folders" = "acme beta gamma " ] ||
    fail "unexpected folders in $tmp/log: $folders"

# Writes that fail make emit fail.
touch "$tmp/file"
write_config "$tmp/bad.yaml" "$tmp/file/log" "$tmp/bad-audit.db"
run_emit unwritable --config "$tmp/bad.yaml" --tenant acme --count 5
[ "$status" = 1 ] || fail "emit into an unwritable folder exited $status"
grep -qx 'emit: sent=5 accepted=0 audit=0 failed=5' "$tmp/unwritable.err" ||
    fail "unwritable summary: $(tail -1 "$tmp/unwritable.err")"

# Through tenantlogd's native socket.
if [ ! -x "$daemon" ]; then
    fail "$daemon is missing"
else
    write_config "$tmp/daemon.yaml" "$tmp/dlog" "$tmp/daemon-audit.db" \
        "$tmp/native.sock"
    daemon_start "$tmp/daemon.yaml" "$tmp/native.sock"
    run_emit native --daemon "$tmp/native.sock" --tenant acme \
        --count 10000 --audit-every 1000
    [ "$status" = 0 ] || fail "emit --daemon exited $status"
    grep -qx 'emit: sent=10000 accepted=10000 audit=10 failed=0' \
        "$tmp/native.err" || fail "emit --daemon: $(cat "$tmp/native.err")"
    daemon_stop "emit --daemon"
    check_records "$tmp/dlog/acme/app.log" acme 10000 ||
        fail "daemon records of tenant acme"
    rows=$(sqlite3 "$tmp/daemon-audit.db" \
        "SELECT count(*) FROM audit_events WHERE tenant = 'acme'")
    [ "$rows" = 10 ] || fail "daemon audit rows: $rows, expected 10"
fi

# fake_daemon SOCKET MODE: a stand-in for tenantlogd that serves one
# connection. "reject3" acks every frame but sends an error frame for
# frame 3. "close" reads frames until the client has been idle for one
# second, then closes without an ack.
fake_daemon() {
    python3 - "$@" <<'EOF' &
import json
import os
import socket
import struct
import sys

path, mode = sys.argv[1], sys.argv[2]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path + ".tmp")
server.listen(1)
os.rename(path + ".tmp", path)
conn, _ = server.accept()
# In "close" mode, one idle second means the client is waiting for acks.
conn.settimeout(1 if mode == "close" else 10)
data = b""
try:
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        while len(data) >= 4:
            (size,) = struct.unpack(">I", data[:4])
            if len(data) < 4 + size:
                break
            frame = json.loads(data[4:4 + size])
            data = data[4 + size:]
            if mode == "close":
                continue
            replies = []
            if frame["seq"] == 3:
                replies.append({"type": "error", "seq": 3,
                                "code": "invalid_member",
                                "message": "rejected by the test"})
            replies.append({"type": "ack", "seq": frame["seq"]})
            for reply in replies:
                body = json.dumps(reply).encode()
                conn.sendall(struct.pack(">I", len(body)) + body)
except socket.timeout:
    pass
conn.close()
EOF
    fake_pid=$!
    for _ in $(seq 50); do
        [ -S "$1" ] && break
        sleep 0.1
    done
}

# A rejected frame and a connection closed before the acks both fail the
# run and count the records they lost.
fake_daemon "$tmp/fake1.sock" reject3
run_emit reject --daemon "$tmp/fake1.sock" --tenant acme --count 5
wait "$fake_pid"
[ "$status" = 1 ] || fail "emit with a rejected frame exited $status"
grep -qx 'emit: sent=5 accepted=4 audit=0 failed=1' "$tmp/reject.err" ||
    fail "rejected frame summary: $(cat "$tmp/reject.err")"
grep -q 'rejected frame 3: invalid_member' "$tmp/reject.err" ||
    fail "the rejected frame was not reported: $(cat "$tmp/reject.err")"
fake_daemon "$tmp/fake2.sock" close
run_emit unacked --daemon "$tmp/fake2.sock" --tenant acme --count 5
wait "$fake_pid"
[ "$status" = 1 ] || fail "emit without acks exited $status"
grep -qx 'emit: sent=5 accepted=0 audit=0 failed=5' "$tmp/unacked.err" ||
    fail "unacked summary: $(cat "$tmp/unacked.err")"

# No daemon at the socket: a runtime failure.
run_emit nodaemon --daemon "$tmp/none.sock" --tenant acme --count 1
[ "$status" = 1 ] || fail "emit to a missing socket exited $status"

finish
