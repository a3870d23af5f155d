#!/bin/bash
# The real logrotate in copytruncate mode while `tenantlog emit` writes
# numbered records through the library. The file is opened with
# O_APPEND, so after each truncation the next record starts at offset 0:
# the files must hold no NUL byte and only whole JSON lines. Records
# written between logrotate's copy and its truncation are lost, which is
# copytruncate's known window; the test prints how many.
. "$(dirname "$0")/common.sh"

if ! command -v logrotate >/dev/null; then
    fail "logrotate is not installed (Debian package logrotate)"
    finish
fi

count=100000
write_config "$tmp/tl.yaml" "$tmp/log" "$tmp/audit.db"
mkdir -p "$tmp/log/ct"
cat >"$tmp/logrotate.conf" <<EOF
$tmp/log/ct/app.log {
    rotate 100
    nocompress
    missingok
    copytruncate
}
EOF
chmod 0644 "$tmp/logrotate.conf"

"$TL_BIN/tenantlog" emit --config "$tmp/tl.yaml" --tenant ct \
    --count "$count" --rate 20000 2>"$tmp/emit.err" &
emit_pid=$!
rotate_while_running "$emit_pid" "$tmp/log/ct/app.log"
wait "$emit_pid" || fail "emit failed: $(cat "$tmp/emit.err")"
[ "$rotations" -ge 3 ] || fail "only $rotations rotations during emit"

python3 - "$tmp/log/ct" "$count" "$rotations" <<'PY' ||
import collections, json, os, sys
folder, count, rotations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seen = collections.Counter()
for name in os.listdir(folder):
    with open(os.path.join(folder, name), "rb") as f:
        data = f.read()
    if b"\0" in data:
        sys.exit(f"{name} holds NUL bytes")
    for line in data.splitlines():
        seen[json.loads(line)["n"]] += 1
doubled = [n for n, c in seen.items() if c > 1]
lost = count - len(seen)
print(f"copytruncate: {rotations} rotations, {lost} records lost "
      f"({lost / rotations:.1f} per rotation), {len(doubled)} doubled")
sys.exit(1 if doubled else 0)
PY
    fail "a file holds NUL bytes, a torn line or a doubled record"
finish
