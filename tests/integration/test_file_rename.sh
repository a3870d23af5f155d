#!/bin/bash
# External rotation: while `tenantlog emit` writes numbered records
# through the library, another process renames the active file every
# 50 ms, as logrotate's create mode does. The sink notices each rename
# and reopens by path, so every n from 1 to N is present exactly once
# across the active and the renamed files.
. "$(dirname "$0")/common.sh"

count=200000
write_config "$tmp/tl.yaml" "$tmp/log" "$tmp/audit.db"
mkdir -p "$tmp/log/rot"
"$TL_BIN/tenantlog" emit --config "$tmp/tl.yaml" --tenant rot \
    --count "$count" --rate 100000 2>"$tmp/emit.err" &
emit_pid=$!
renames=0
while kill -0 "$emit_pid" 2>/dev/null; do
    sleep 0.05
    if [ -e "$tmp/log/rot/app.log" ]; then
        mv "$tmp/log/rot/app.log" "$tmp/log/rot/app.log.$renames"
        renames=$((renames + 1))
    fi
done
wait "$emit_pid" || fail "emit failed: $(cat "$tmp/emit.err")"
[ "$renames" -ge 5 ] || fail "only $renames renames happened during emit"

python3 - "$tmp/log/rot" "$count" <<'PY' || fail "records lost or doubled"
import collections, json, os, sys
folder, count = sys.argv[1], int(sys.argv[2])
seen = collections.Counter()
for name in os.listdir(folder):
    with open(os.path.join(folder, name)) as f:
        for line in f:
            seen[json.loads(line)["n"]] += 1
missing = [n for n in range(1, count + 1) if seen[n] == 0]
doubled = [n for n, c in seen.items() if c > 1]
print(f"{len(os.listdir(folder))} files, {sum(seen.values())} records, "
      f"{len(missing)} missing, {len(doubled)} doubled")
sys.exit(1 if missing or doubled else 0)
PY
echo "renames during emit: $renames"
finish
