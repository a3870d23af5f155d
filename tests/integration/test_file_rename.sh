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

check_exactly_once "$tmp/log/rot" "$count"
echo "renames during emit: $renames"
finish
