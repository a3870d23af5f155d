#!/bin/bash
# Imports the loghub OpenStack sample through the library and through
# tenantlogd. Every line with a tenant must land in that tenant's file
# with its request id and time. --dry-run must write nothing, and --audit
# must record the 86 mutating API calls.
. "$(dirname "$0")/common.sh"

: "${TL_DATA:?set TL_DATA to the loghub folder}"
cli="$TL_BIN/tenantlog"
input="$TL_DATA/OpenStack_2k.log"

write_config "$tmp/tl.yaml" "$tmp/log" "$tmp/audit.db"

# check_tenants FOLDER TIME_KEY: every tenant line of the input, found
# independently with a regular expression, is in its tenant's file under
# FOLDER with its request id, and TIME_KEY contains the line's time.
check_tenants() {
    python3 - "$input" "$@" <<'EOF'
import json
import os
import re
import sys

source, base, time_key = sys.argv[1:4]
context = re.compile(rb"^\S+ (\S+) (\S+) .*?\[(req-\S+) (\S+) (\S+) - - -\]")
expected = {}
with open(source, "rb") as f:
    lines = re.split(rb"\r\n|\r|\n", f.read())
for number, line in enumerate(lines, 1):
    m = context.search(line)
    if m and m.group(5) != b"-":
        day, clock = m.group(1).decode(), m.group(2).decode()
        ts = f"{day}T{clock}000Z"
        expected[number] = (m.group(5).decode(), m.group(3).decode(), ts)
problems = []
if len(expected) != 1191:
    problems.append(f"the input has {len(expected)} tenant lines, not 1191")
found = {}
for tenant in sorted(os.listdir(base)):
    path = os.path.join(base, tenant, "app.log")
    with open(path, encoding="utf-8") as f:
        for raw in f:
            rec = json.loads(raw)
            if "tenant" not in rec:
                continue
            if rec["tenant"] != tenant:
                problems.append(f"{path}: record of line {rec['line']} "
                                f"has tenant {rec['tenant']}")
            if rec["line"] in found:
                problems.append(f"line {rec['line']} imported twice")
            found[rec["line"]] = (rec["tenant"], rec.get("request_id"),
                                  rec.get(time_key))
for number, want in sorted(expected.items()):
    got = found.get(number)
    if got != want:
        problems.append(f"line {number}: expected {want}, found {got}")
extra = sorted(set(found) - set(expected))
if extra:
    problems.append(f"records with a tenant from lines without one: "
                    f"{extra[:5]}")
for p in problems[:20]:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
}

# The input's mutating API calls per tenant, as "tenant|count" lines.
want_audit=$(python3 - "$input" <<'EOF'
import collections
import re
import sys

call = re.compile(rb'\[req-\S+ \S+ (\w+) - - -\] \S+ "(POST|PUT|DELETE) ')
counts = collections.Counter()
with open(sys.argv[1], "rb") as f:
    for line in re.split(rb"\r\n|\r|\n", f.read()):
        m = call.search(line)
        if m:
            counts[m.group(1).decode()] += 1
for tenant in sorted(counts):
    print(f"{tenant}|{counts[tenant]}")
EOF
)

# check_audit DB: 86 rows, split between the tenants as the input's
# mutating calls are, and every chain verifies.
check_audit() {
    local rows got
    rows=$(sqlite3 "$1" 'SELECT count(*) FROM audit_events')
    [ "$rows" = 86 ] || fail "$1 has $rows audit rows, expected 86"
    got=$(sqlite3 "$1" \
        'SELECT tenant, count(*) FROM audit_events GROUP BY tenant ORDER BY 1')
    [ "$got" = "$want_audit" ] ||
        fail "$1 rows per tenant: got [$got], expected [$want_audit]"
    "$cli" audit verify --db "$1" >"$tmp/verify.out" 2>&1 ||
        fail "audit verify $1: $(cat "$tmp/verify.out")"
}

# check_report FILE: the summary and the records per tenant.
check_report() {
    local summary='import: read=2000 records=2000 unparsed=0 rejected=0'
    summary+=' audit=86 failed=0 audit_failed=0'
    grep -qxF "$summary" "$1" || fail "$1 summary: $(tail -1 "$1")"
    grep -qx 'records adjusted: 0' "$1" ||
        fail "$1 does not report 0 records adjusted"
    grep -qx 'tenant 54fadb412c4e40cdbaed9335e4c35a9e: 1101' "$1" ||
        fail "$1 lacks 1101 records for tenant 54fadb41..."
    grep -qx 'tenant e9746973ac574c6b8a9e8857f56a7608: 90' "$1" ||
        fail "$1 lacks 90 records for tenant e9746973..."
    grep -qx 'tenant (none): 809' "$1" ||
        fail "$1 lacks 809 records without a tenant"
}

# --dry-run parses everything and writes nothing.
"$cli" import --config "$tmp/tl.yaml" --audit --dry-run "$input" \
    >"$tmp/dry.out" 2>"$tmp/dry.err" ||
    fail "import --dry-run failed: $(cat "$tmp/dry.err")"
check_report "$tmp/dry.out"
[ ! -e "$tmp/log" ] || fail "--dry-run created $tmp/log"
[ ! -e "$tmp/audit.db" ] || fail "--dry-run created $tmp/audit.db"

# Through the library, which keeps the line's time as "ts".
"$cli" import --config "$tmp/tl.yaml" --audit "$input" \
    >"$tmp/import.out" 2>"$tmp/import.err" ||
    fail "import failed: $(cat "$tmp/import.err")"
check_report "$tmp/import.out"
check_tenants "$tmp/log" ts ||
    fail "library records do not match the input (see above)"
check_audit "$tmp/audit.db"

# Through tenantlogd, which keeps the line's time as "ts".
write_config "$tmp/daemon.yaml" "$tmp/dlog" "$tmp/daemon-audit.db" \
    "$tmp/native.sock"
daemon_start "$tmp/daemon.yaml" "$tmp/native.sock"
"$cli" import --daemon "$tmp/native.sock" --audit "$input" \
    >"$tmp/dimport.out" 2>"$tmp/dimport.err" ||
    fail "import --daemon failed: $(cat "$tmp/dimport.err")"
daemon_stop "import --daemon"
check_report "$tmp/dimport.out"
check_tenants "$tmp/dlog" ts ||
    fail "daemon records do not match the input (see above)"
check_audit "$tmp/daemon-audit.db"

finish
