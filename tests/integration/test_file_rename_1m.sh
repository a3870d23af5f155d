#!/bin/bash
# External rotation: while `tenantlog emit` writes 1,000,000 numbered
# records through the library, another process renames the active file
# every 50 ms, as logrotate's create mode does. The sink notices each
# rename and reopens by path, so every n from 1 to 1,000,000 is present
# exactly once across the active and the renamed files.
. "$(dirname "$0")/common.sh"

count=1000000
rate=200000 # records/s, so that emit runs about 5 s: about 100 renames
write_config "$tmp/tl.yaml" "$tmp/log" "$tmp/audit.db"
mkdir -p "$tmp/log/rot"
start=$(date +%s%N)
"$TL_BIN/tenantlog" emit --config "$tmp/tl.yaml" --tenant rot \
    --count "$count" --rate "$rate" 2>"$tmp/emit.err" &
emit_pid=$!

# Stops emit when the test ends early; emit_pid is empty once it exited.
cleanup_hook() {
    [ -n "$emit_pid" ] && kill "$emit_pid" 2>/dev/null
}

renames=0
while kill -0 "$emit_pid" 2>/dev/null; do
    sleep 0.05
    if [ -e "$tmp/log/rot/app.log" ]; then
        mv "$tmp/log/rot/app.log" "$tmp/log/rot/app.log.$renames"
        renames=$((renames + 1))
    fi
done
wait "$emit_pid" || fail "emit failed: $(cat "$tmp/emit.err")"
emit_pid=
end=$(date +%s%N)
[ "$renames" -ge 20 ] || fail "only $renames renames happened during emit"

check_exactly_once "$tmp/log/rot" "$count"
echo "renames during emit: $renames, emit ran $(((end - start) / 1000000)) ms"
finish
