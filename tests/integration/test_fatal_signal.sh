#!/bin/bash
# The fatal-signal handler: a program logs 10,000 numbered records and then
# crashes. The process must still die by SIGSEGV, with the handler's
# emergency record on stderr and, with a 2000 ms drain deadline, every
# record in the file. When the writer thread is blocked, the deadline
# bounds the wait.
. "$(dirname "$0")/common.sh"

count=10000
helper=$TL_BIN/tests/crash_after_logging
# A sanitizer build would report the crash itself and exit non-zero: leave
# the fatal signals to the handler under test.
handle_none=handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_abort=0
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}$handle_none"
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}$handle_none"

write_config "$tmp/tl.yaml" "$tmp/log" "$tmp/audit.db"

# run_crash NAME DRAIN_MS MODE: runs the helper for tenant NAME in
# $tmp/NAME, killed after 30 s, and sets status and elapsed_ms.
run_crash() {
    local start end
    mkdir -p "$tmp/$1"
    start=$(date +%s%N)
    (cd "$tmp/$1" && exec timeout -s KILL 30 "$helper" "$tmp/tl.yaml" \
        "$1" "$count" "$2" "$3" 2>"$tmp/$1.err")
    status=$?
    end=$(date +%s%N)
    elapsed_ms=$(((end - start) / 1000000))
}

# check_crash NAME [SIGNAL NUMBER]: the helper died by SIGNAL (default
# SIGSEGV, 11) and wrote the handler's first emergency record.
check_crash() {
    local sig=${2:-SIGSEGV} num=${3:-11}
    [ "$status" -eq $((128 + num)) ] ||
        fail "$1: exit status $status, expected $((128 + num)) ($sig):" \
            "$(cat "$tmp/$1.err")"
    grep -Eq "\"level\":\"crit\",\"msg\":\"fatal signal $sig \\($num\\): (waiting up to|no queued records)" \
        "$tmp/$1.err" ||
        fail "$1: no emergency record on stderr: $(cat "$tmp/$1.err")"
}

# A second thread logs, then writes through NULL. The kernel writes a
# core file into the working folder when core_pattern is a plain name,
# unless a sanitizer (ASan, TSan) turned core dumps off.
ulimit -c unlimited 2>/dev/null || ulimit -c 0
run_crash null 2000 null
check_crash null
if grep -q "lost" "$tmp/null.err"; then
    fail "null: records reported lost: $(cat "$tmp/null.err")"
fi
check_exactly_once "$tmp/log/null" "$count"
pattern=$(cat /proc/sys/kernel/core_pattern)
if grep -q __asan_init "$helper"; then
    echo "null: core file not checked (AddressSanitizer build)"
elif grep -q __tsan_init "$helper"; then
    echo "null: core file not checked (ThreadSanitizer build)"
elif [ "$(ulimit -c)" = unlimited ] && [ "${pattern#|}" = "$pattern" ] &&
    [ "${pattern#/}" = "$pattern" ]; then
    ls "$tmp/null" | grep -q '^core' ||
        fail "null: no core file in $tmp/null (core_pattern $pattern)"
else
    echo "null: core file not checked (core_pattern $pattern)"
fi
rm -f "$tmp"/null/core*
ulimit -c 0

# abort(3) on a second thread: the handler raises SIGABRT again.
run_crash abort 2000 abort
check_crash abort SIGABRT 6
check_exactly_once "$tmp/log/abort" "$count"

# The main thread, which installed the handler and so has an alternate
# signal stack, overflows its stack.
run_crash overflow 2000 overflow
check_crash overflow
check_exactly_once "$tmp/log/overflow" "$count"

# The writer thread waits in the diagnostic callback for a lock that the
# crashing thread holds, so nothing drains: the handler must give up after
# 500 ms and report the records left.
mkdir -p "$tmp/log/blocked/app.log"
run_crash blocked 500 blocked
check_crash blocked
grep -q 'records still queued at the deadline are lost' "$tmp/blocked.err" ||
    fail "blocked: no record of the records left: $(cat "$tmp/blocked.err")"
[ "$elapsed_ms" -ge 500 ] ||
    fail "blocked: died after $elapsed_ms ms, before the 500 ms deadline"
[ "$elapsed_ms" -lt 5000 ] ||
    fail "blocked: died after $elapsed_ms ms, expected about 500 ms"
echo "blocked: died after $elapsed_ms ms with a 500 ms deadline"
finish
