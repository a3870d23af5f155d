#!/bin/bash
# A program that returns from main without tl_logger_close: the library's
# exit handler drains every queued record, and a record logged by a later
# exit handler is refused (TL_ECLOSED) and counted, without a crash.
. "$(dirname "$0")/common.sh"

count=50000
write_config "$tmp/tl.yaml" "$tmp/log" "$tmp/audit.db"
"$TL_BIN/tests/exit_without_close" "$tmp/tl.yaml" drain "$count" \
    >"$tmp/out" 2>"$tmp/err" || fail "exit_without_close failed: $(cat "$tmp/err")"
lines=$(wc -l <"$tmp/log/drain/app.log" 2>/dev/null || echo 0)
[ "$lines" -eq "$count" ] || fail "$lines of $count records drained at exit"
grep -qx "late=-1002 written=$count dropped_closed=1 queue_depth=0" "$tmp/out" ||
    fail "counters after the drain: $(cat "$tmp/out")"
finish
