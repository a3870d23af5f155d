#!/bin/bash
# Imports lines whose tenant id is invalid ("../x", "a/b", "..") through
# the library and through tenantlogd: each record must land in the
# quarantine file with the id in _tenant_invalid, and no file may appear
# outside the sink's base folder.
. "$(dirname "$0")/common.sh"

cli="$TL_BIN/tenantlog"

line='x.log 2017-05-16 00:00:00.008 1 INFO nova.api [req-1 u1 TENANT - - -] m'
for tenant in '../x' 'a/b' '..'; do
    printf '%s\n' "${line/TENANT/$tenant}"
done >"$tmp/input.log"

# check BASE: three quarantined records, nothing else written.
check() {
    python3 - "$1" <<'PY' || fail "records under $1 are wrong (see above)"
import json, os, sys
base = sys.argv[1]
path = os.path.join(base, "_quarantine", "app.log")
with open(path) as f:
    got = [json.loads(line)["_tenant_invalid"] for line in f]
if got != ["../x", "a/b", ".."]:
    sys.exit(f"{path}: _tenant_invalid values {got}")
entries = sorted(os.listdir(base))
if entries != ["_quarantine"]:
    sys.exit(f"{base} holds {entries}, expected only _quarantine")
PY
    [ ! -e "$(dirname "$1")/x" ] || fail "a file escaped to $(dirname "$1")/x"
}

write_config "$tmp/lib.yaml" "$tmp/lib/log" "$tmp/audit.db" \
    "$tmp/run/native.sock"
"$cli" import --config "$tmp/lib.yaml" "$tmp/input.log" >"$tmp/lib.out" \
    2>&1 || fail "import through the library failed: $(cat "$tmp/lib.out")"
grep -q 'records with invalid tenant: 3' "$tmp/lib.out" ||
    fail "the report does not count 3 invalid tenants: $(cat "$tmp/lib.out")"
check "$tmp/lib/log"

write_config "$tmp/daemon.yaml" "$tmp/daemon/log" "$tmp/audit.db" \
    "$tmp/run/native.sock"
daemon_start "$tmp/daemon.yaml" "$tmp/run/native.sock"
"$cli" import --daemon "$tmp/run/native.sock" "$tmp/input.log" \
    >"$tmp/daemon.out" 2>&1 ||
    fail "import through tenantlogd failed: $(cat "$tmp/daemon.out")"
daemon_stop "import --daemon"
# The daemon's own start and stop records have no tenant: drop _system.
rm -rf "$tmp/daemon/log/_system"
check "$tmp/daemon/log"

finish
