#!/bin/bash
# Imports lines whose tenant id is invalid ("../x", "a/b", "..") through
# the library and through tenantlogd: each record must land in the
# quarantine file with the id in _tenant_invalid, and no file may appear
# outside the sink's base folder.
set -u

: "${TL_BIN:?set TL_BIN to the build folder}"
cli="$TL_BIN/tenantlog"
tmp=$(mktemp -d)
daemon_pid=
failures=0

cleanup() {
    if [ -n "$daemon_pid" ]; then
        kill -TERM "$daemon_pid" 2>/dev/null
        wait "$daemon_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# write_config FILE BASE: a file sink under BASE, sockets under $tmp/run.
write_config() {
    cat >"$1" <<EOF
sinks:
  - name: files
    type: file
    base: $2
    path: "{tenant}/app.log"
    level: debug
audit:
  path: $tmp/audit.db
daemon:
  socket: $tmp/run/native.sock
EOF
}

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

write_config "$tmp/lib.yaml" "$tmp/lib/log"
"$cli" import --config "$tmp/lib.yaml" "$tmp/input.log" >"$tmp/lib.out" \
    2>&1 || fail "import through the library failed: $(cat "$tmp/lib.out")"
grep -q 'records with invalid tenant: 3' "$tmp/lib.out" ||
    fail "the report does not count 3 invalid tenants: $(cat "$tmp/lib.out")"
check "$tmp/lib/log"

write_config "$tmp/daemon.yaml" "$tmp/daemon/log"
"$TL_BIN/tenantlogd" --config "$tmp/daemon.yaml" 2>"$tmp/daemon.err" &
daemon_pid=$!
for _ in $(seq 100); do
    [ -S "$tmp/run/native.sock" ] && break
    sleep 0.05
done
"$cli" import --daemon "$tmp/run/native.sock" "$tmp/input.log" \
    >"$tmp/daemon.out" 2>&1 ||
    fail "import through tenantlogd failed: $(cat "$tmp/daemon.out")"
kill -TERM "$daemon_pid"
wait "$daemon_pid" || fail "tenantlogd exited with $?"
daemon_pid=
# The daemon's own start and stop records have no tenant: drop _system.
rm -rf "$tmp/daemon/log/_system"
check "$tmp/daemon/log"

if [ "$failures" -ne 0 ]; then
    echo "$failures checks failed" >&2
    exit 1
fi
echo "quarantine: all checks passed"
