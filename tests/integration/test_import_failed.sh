#!/bin/bash
# Checks that `tenantlog import` reports records and audit events that
# were not accepted: "records failed", "audit failed" and the failed= and
# audit_failed= keys of the summary, through the library, a real
# tenantlogd whose sink cannot write one tenant's file, and a stand-in
# daemon that rejects one audit event. A dry run and an empty input print
# both counts as 0.
. "$(dirname "$0")/common.sh"

cli="$TL_BIN/tenantlog"
fake_pid=

cleanup_hook() {
    if [ -n "$fake_pid" ]; then
        kill "$fake_pid" 2>/dev/null
        wait "$fake_pid" 2>/dev/null
    fi
}

# One POST API call for tenant acme and one for tenant broken.
head='x.log 2017-05-16 00:00:00.008 1 INFO nova.api'
api='10.0.0.1 "POST /v2/servers HTTP/1.1" status: 202 len: 1'
for tenant in acme broken; do
    printf '%s [req-1 u1 %s - - -] %s\n' "$head" "$tenant" "$api"
done >"$tmp/input.log"
: >"$tmp/empty.log"

# summary READ AUDIT FAILED AUDIT_FAILED: prints the last report line of
# an input without unparsed or rejected lines.
summary() {
    printf 'import: read=%s records=%s unparsed=0 rejected=0 audit=%s' \
        "$1" "$1" "$2"
    printf ' failed=%s audit_failed=%s\n' "$3" "$4"
}

# expect_summary STATUS WHAT OUT: the import described by WHAT exited with
# STATUS, which must be $expected_status, and OUT has the summary $want.
expect_summary() {
    local status=$1 what=$2 out=$3
    [ "$status" -eq "$expected_status" ] ||
        fail "$what exited with $status, expected $expected_status"
    grep -qxF "$want" "$out" ||
        fail "$what: summary is '$(tail -1 "$out")', expected '$want'"
}

# A dry run and an empty input: both failure counts, always 0.
"$cli" import --audit --dry-run "$tmp/input.log" >"$tmp/dry.out" 2>&1
status=$?
expected_status=0
want=$(summary 2 2 0 0)
expect_summary "$status" "import --dry-run" "$tmp/dry.out"
write_config "$tmp/lib.yaml" "$tmp/lib" "$tmp/lib-audit.db"
"$cli" import --config "$tmp/lib.yaml" "$tmp/empty.log" >"$tmp/empty.out" 2>&1
status=$?
want=$(summary 0 0 0 0)
expect_summary "$status" "import of an empty file" "$tmp/empty.out"
for out in "$tmp/dry.out" "$tmp/empty.out"; do
    grep -qx 'records failed: 0' "$out" || fail "$out lacks 'records failed: 0'"
    grep -qx 'audit failed: 0' "$out" || fail "$out lacks 'audit failed: 0'"
done

# The file sink cannot write tenant broken's file, because its folder is
# a regular file: one of the two records is not written.
expected_status=1
want=$(summary 2 0 1 0)
mkdir -p "$tmp/lib"
: >"$tmp/lib/broken"
"$cli" import --config "$tmp/lib.yaml" "$tmp/input.log" >"$tmp/lib.out" \
    2>"$tmp/lib.err"
expect_summary $? "import through the library" "$tmp/lib.out"
grep -qx 'records failed: 1' "$tmp/lib.out" ||
    fail "library: $tmp/lib.out lacks 'records failed: 1'"

write_config "$tmp/daemon.yaml" "$tmp/daemon" "$tmp/daemon-audit.db" \
    "$tmp/native.sock"
mkdir -p "$tmp/daemon"
: >"$tmp/daemon/broken"
daemon_start "$tmp/daemon.yaml" "$tmp/native.sock"
"$cli" import --daemon "$tmp/native.sock" "$tmp/input.log" \
    >"$tmp/daemon.out" 2>"$tmp/daemon.err"
status=$?
daemon_stop "import --daemon"
expect_summary "$status" "import through tenantlogd" "$tmp/daemon.out"
grep -q 'write_failed' "$tmp/daemon.err" ||
    fail "tenantlogd did not reject a record: $(cat "$tmp/daemon.err")"
written=$(wc -l <"$tmp/daemon/acme/app.log")
[ "$written" -eq 1 ] ||
    fail "tenantlogd wrote $written records for acme, expected 1"

# A stand-in for tenantlogd that speaks the native protocol and rejects
# every frame for tenant broken: records with write_failed, audit events
# with store_failed.
python3 - "$tmp/fake.sock" <<'EOF' >"$tmp/fake.out" 2>&1 &
import json
import socket
import struct
import sys


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def send(conn, frame):
    body = json.dumps(frame).encode()
    conn.sendall(struct.pack(">I", len(body)) + body)


def serve(conn):
    audit_seq = 0
    while True:
        head = read_exact(conn, 4)
        if head is None:
            return
        frame = json.loads(read_exact(conn, struct.unpack(">I", head)[0]))
        seq = frame["seq"]
        if frame.get("tenant") == "broken":
            code = "store_failed" if frame["type"] == "audit" else \
                "write_failed"
            send(conn, {"type": "error", "seq": seq, "code": code,
                        "message": "rejected by the test"})
        elif frame["type"] == "audit":
            audit_seq += 1
            send(conn, {"type": "audit_ack", "seq": seq,
                        "tenant": frame["tenant"], "audit_seq": audit_seq})
        send(conn, {"type": "ack", "seq": seq})


server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
server.listen(4)
while True:
    conn, _ = server.accept()
    with conn:
        serve(conn)
EOF
fake_pid=$!
for _ in $(seq 200); do
    socket_accepts "$tmp/fake.sock" && break
    sleep 0.05
done
want=$(summary 2 2 1 1)
"$cli" import --daemon "$tmp/fake.sock" --audit "$tmp/input.log" \
    >"$tmp/fake-import.out" 2>"$tmp/fake-import.err"
expect_summary $? "import --audit through the stand-in daemon" \
    "$tmp/fake-import.out"
grep -qx 'audit failed: 1' "$tmp/fake-import.out" ||
    fail "$tmp/fake-import.out lacks 'audit failed: 1'"

finish
