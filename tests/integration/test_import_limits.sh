#!/bin/bash
# Imports OpenStack lines whose request id, logger, tenant id or API call
# values are just under and just over tenantlogd's limits, through
# --dry-run, the library and tenantlogd. Every path must report the same
# adjustments, accept every record and audit event, and keep each value
# over a limit whole in a "<member>_too_long" field.
. "$(dirname "$0")/common.sh"

cli="$TL_BIN/tenantlog"

# The lines, their expected records and audit events. Run as
# "cases.py write FILE", "cases.py records BASE" or "cases.py audit DB".
cat >"$tmp/cases.py" <<'EOF'
import json
import os
import sqlite3
import sys

FFFD = "\ufffd"
OK_ID = b"req-" + b"a" * 124              # 128 bytes: the maximum
LONG_ID = b"req-" + b"b" * 200            # 204 bytes
WIDE_ID = b"req-" + b"\xff" * 50          # 54 bytes, 154 as sent
LONG = b"x" * 300


def line(request_id, user, tenant, msg, logger=b"nova.api"):
    return (b"x.log 2017-05-16 00:00:00.008 1 INFO " + logger + b" [" +
            request_id + b" " + user + b" " + tenant + b" - - -] " + msg)


def api(client, method, path):
    return client + b' "' + method + b" " + path + b' HTTP/1.1" status: 202'


LINES = [
    line(OK_ID, b"u1", b"acme", b"m1"),
    line(LONG_ID, b"u1", b"acme", b"m2"),
    line(b"req-3", b"u1", b"acme", b"m3", logger=b"l" * 256),
    line(b"req-4", b"u1", b"acme", b"m4", logger=b"l" * 257),
    line(WIDE_ID, b"u1", b"acme", b"m5"),
    line(b"req-6", b"u1", b"t" * 256, b"m6"),
    line(b"req-7", b"u1", b"t" * 300, b"m7"),
    line(LONG_ID, LONG, b"acme", api(LONG, b"POST", b"/" + LONG)),
    line(b"req-9", b"u\xff", b"acme", api(b"10.0.0.1", b"DELETE", b"/v2/x")),
    line(OK_ID, b"u" * 256, b"acme",
         api(b"c" * 256, b"PUT", b"/" + b"p" * 255)),
]

# Per line number: the members and fields the record must have (None:
# absent).
RECORDS = {
    1: {"request_id": OK_ID.decode(), "request_id_too_long": None},
    2: {"request_id": None, "request_id_too_long": LONG_ID.decode()},
    3: {"logger": "l" * 256, "logger_too_long": None},
    4: {"logger": "fallback", "logger_too_long": "l" * 257},
    5: {"request_id": None, "request_id_too_long": "req-" + FFFD * 50},
    6: {"_tenant_invalid": "t" * 256, "tenant_too_long": None},
    7: {"_tenant_invalid": "t" * 256, "tenant_too_long": "t" * 300},
    8: {"request_id": None, "request_id_too_long": LONG_ID.decode(),
        "user": "x" * 300},
    9: {"request_id": "req-9"},
    10: {"request_id": OK_ID.decode()},
}

# The audit events in order: columns, then the details they must have.
AUDIT = [
    ({"request_id": None, "actor_id": "unknown", "target_id": None,
      "source": None},
     {"request_id_too_long": LONG_ID.decode(), "actor_id_too_long":
      "x" * 300, "path": "/" + "x" * 300, "target_id_too_long": None,
      "source_too_long": "x" * 300}),
    ({"request_id": "req-9", "actor_id": "u" + FFFD, "target_id": "/v2/x",
      "source": "10.0.0.1"}, {}),
    ({"request_id": OK_ID.decode(), "actor_id": "u" * 256,
      "target_id": "/" + "p" * 255, "source": "c" * 256}, {}),
]


def check_records(base):
    found = {}
    for tenant in sorted(os.listdir(base)):
        if tenant == "_system":
            continue  # tenantlogd's own records
        with open(os.path.join(base, tenant, "app.log"), encoding="utf-8") as f:
            for raw in f:
                rec = json.loads(raw)
                found[rec["line"]] = rec
    problems = []
    if sorted(found) != sorted(RECORDS):
        problems.append(f"records of lines {sorted(found)}, expected "
                        f"{sorted(RECORDS)}")
    for number, want in RECORDS.items():
        rec = found.get(number, {})
        for key, value in want.items():
            if rec.get(key) != value:
                got = str(rec.get(key))[:40]
                problems.append(f"line {number}: {key} is {got}..., "
                                f"expected {str(value)[:40]}...")
    return problems


def check_audit(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT * FROM audit_events ORDER BY seq").fetchall()
    problems = []
    if len(rows) != len(AUDIT):
        problems.append(f"{len(rows)} audit rows, expected {len(AUDIT)}")
    for seq, (row, (columns, details)) in enumerate(zip(rows, AUDIT), 1):
        for key, value in columns.items():
            if row[key] != value:
                problems.append(f"audit {seq}: {key} is "
                                f"{str(row[key])[:40]}..., expected "
                                f"{str(value)[:40]}...")
        stored = json.loads(row["details"])
        for key, value in details.items():
            if stored.get(key) != value:
                problems.append(f"audit {seq}: detail {key} is "
                                f"{str(stored.get(key))[:40]}...")
    return problems


mode, path = sys.argv[1:3]
if mode == "write":
    with open(path, "wb") as f:
        f.write(b"\n".join(LINES) + b"\n")
    sys.exit(0)
problems = check_records(path) if mode == "records" else check_audit(path)
for p in problems[:20]:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
python3 "$tmp/cases.py" write "$tmp/input.log"

# check_report FILE: the adjustments and a summary without failures.
check_report() {
    local want summary
    summary='import: read=10 records=10 unparsed=0 rejected=0 audit=3'
    summary+=' failed=0 audit_failed=0'
    for want in 'records: 10' 'records adjusted: 5' \
        'adjusted request id too long: 3' 'adjusted logger too long: 1' \
        'adjusted tenant too long: 1' 'audit: 3' 'audit adjusted: 1' \
        'audit adjusted request id too long: 1' \
        'audit adjusted actor id too long: 1' \
        'audit adjusted target id too long: 1' \
        'audit adjusted source too long: 1' \
        "$summary"; do
        grep -qxF "$want" "$1" || fail "$1 lacks the line '$want'"
    done
}

# The dry run predicts the adjustments and writes nothing.
write_config "$tmp/lib.yaml" "$tmp/lib" "$tmp/lib-audit.db"
"$cli" import --config "$tmp/lib.yaml" --logger fallback --audit --dry-run \
    "$tmp/input.log" >"$tmp/dry.out" 2>"$tmp/dry.err" ||
    fail "import --dry-run failed: $(cat "$tmp/dry.err")"
check_report "$tmp/dry.out"
[ ! -e "$tmp/lib" ] || fail "--dry-run created $tmp/lib"

# The library, which checks no lengths itself, writes the same records.
"$cli" import --config "$tmp/lib.yaml" --logger fallback --audit \
    "$tmp/input.log" >"$tmp/lib.out" 2>"$tmp/lib.err" ||
    fail "import through the library failed: $(cat "$tmp/lib.err")"
check_report "$tmp/lib.out"
python3 "$tmp/cases.py" records "$tmp/lib" ||
    fail "library records are wrong (see above)"
python3 "$tmp/cases.py" audit "$tmp/lib-audit.db" ||
    fail "library audit events are wrong (see above)"
"$cli" audit verify --db "$tmp/lib-audit.db" >"$tmp/verify.out" 2>&1 ||
    fail "audit verify of the library's events: $(cat "$tmp/verify.out")"

# tenantlogd accepts every record and audit event.
write_config "$tmp/daemon.yaml" "$tmp/daemon" "$tmp/daemon-audit.db" \
    "$tmp/native.sock"
daemon_start "$tmp/daemon.yaml" "$tmp/native.sock"
"$cli" import --daemon "$tmp/native.sock" --logger fallback --audit \
    "$tmp/input.log" >"$tmp/daemon.out" 2>"$tmp/daemon.err" ||
    fail "import through tenantlogd failed: $(cat "$tmp/daemon.err")"
daemon_stop "import --daemon"
check_report "$tmp/daemon.out"
python3 "$tmp/cases.py" records "$tmp/daemon" ||
    fail "tenantlogd's records are wrong (see above)"
python3 "$tmp/cases.py" audit "$tmp/daemon-audit.db" ||
    fail "tenantlogd's audit events are wrong (see above)"

# A --logger that tenantlogd would reject is a usage error.
"$cli" import --dry-run --logger "$(printf 'l%.0s' $(seq 257))" \
    "$tmp/input.log" >/dev/null 2>"$tmp/usage.err"
status=$?
[ "$status" -eq 2 ] ||
    fail "a 257-byte --logger exited with $status, expected 2"
grep -q 'invalid --logger' "$tmp/usage.err" ||
    fail "the usage error does not name --logger: $(cat "$tmp/usage.err")"

finish
