#!/bin/bash
# The real logrotate in create mode, with a postrotate SIGHUP to
# tenantlogd, rotates a tenant's file five times while `tenantlog emit`
# sends numbered records through the daemon. Every n from 1 to N must be
# present exactly once across the current and the rotated files.
. "$(dirname "$0")/common.sh"

if ! command -v logrotate >/dev/null; then
    fail "logrotate is not installed (Debian package logrotate)"
    finish
fi

count=100000
write_config "$tmp/tl.yaml" "$tmp/log" "$tmp/audit.db" "$tmp/run/native.sock"
daemon_start "$tmp/tl.yaml" "$tmp/run/native.sock"

# logrotate refuses a configuration that group or others can write.
cat >"$tmp/logrotate.conf" <<EOF
$tmp/log/rot/app.log {
    rotate 100
    nocompress
    missingok
    create 0640
    postrotate
        kill -HUP $daemon_pid
    endscript
}
EOF
chmod 0644 "$tmp/logrotate.conf"

"$TL_BIN/tenantlog" emit --daemon "$tmp/run/native.sock" --tenant rot \
    --count "$count" --rate 20000 >"$tmp/emit.out" 2>&1 &
emit_pid=$!
rotate_while_running "$emit_pid" "$tmp/log/rot/app.log"
wait "$emit_pid" || fail "emit failed: $(cat "$tmp/emit.out")"
daemon_stop "after the rotations"
[ "$rotations" -ge 3 ] || fail "only $rotations rotations during emit"

check_exactly_once "$tmp/log/rot" "$count"
echo "logrotate runs during emit: $rotations"
finish
