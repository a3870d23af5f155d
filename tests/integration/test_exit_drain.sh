#!/bin/bash
# A program that returns from main without tl_logger_close: the library's
# exit handler drains every queued record. A record logged by a later exit
# handler, and one logged by a destructor after every exit handler, are
# refused (TL_ECLOSED), counted in dropped_closed and written to stderr by
# the fallback path, without a crash. Run it in an ASan build to check
# that neither touches freed memory.
. "$(dirname "$0")/common.sh"

count=50000
write_config "$tmp/tl.yaml" "$tmp/log" "$tmp/audit.db"
"$TL_BIN/tests/exit_without_close" "$tmp/tl.yaml" drain "$count" \
    >"$tmp/out" 2>"$tmp/err" || fail "exit_without_close failed: $(cat "$tmp/err")"
lines=$(wc -l <"$tmp/log/drain/app.log" 2>/dev/null || echo 0)
[ "$lines" -eq "$count" ] || fail "$lines of $count records drained at exit"

expected_late="late=-1002 written=$count dropped_closed=1 queue_depth=0 fallback=1"
expected_destructor="destructor=-1002 written=$count dropped_closed=2 fallback=2"
[ "$(sed -n 1p "$tmp/out")" = "$expected_late" ] ||
    fail "counters after the exit handler: $(cat "$tmp/out")"
[ "$(sed -n 2p "$tmp/out")" = "$expected_destructor" ] ||
    fail "counters after the destructor: $(cat "$tmp/out")"
grep -q '"logger":"late","msg":"after the drain"' "$tmp/err" ||
    fail "no fallback line from the exit handler on stderr: $(cat "$tmp/err")"
grep -q '"logger":"late","msg":"in a destructor"' "$tmp/err" ||
    fail "no fallback line from the destructor on stderr: $(cat "$tmp/err")"
finish
