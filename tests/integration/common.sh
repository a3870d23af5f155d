# Scaffolding shared by the shell integration tests: a temporary folder,
# failure counting, starting and stopping tenantlogd, cleanup and the final
# verdict. A test sources it with: . "$(dirname "$0")/common.sh"
set -u

: "${TL_BIN:?set TL_BIN to the build folder}"
test_name=$(basename "$0" .sh)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tl-$test_name.XXXXXX")
daemon_log=$tmp/tenantlogd.out
daemon_pid=
failures=0

# fail MESSAGE...: reports a failed check on stderr and counts it.
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# write_config FILE LOG_BASE AUDIT_DB [SOCKET]: writes a configuration with
# one file sink at level debug writing LOG_BASE/{tenant}/app.log, the audit
# database AUDIT_DB and, when SOCKET is given, tenantlogd's native socket.
write_config() {
    cat >"$1" <<EOF
sinks:
  - name: files
    type: file
    base: $2
    path: "{tenant}/app.log"
    level: debug
audit:
  path: $3
EOF
    if [ $# -ge 4 ]; then
        printf 'daemon:\n  socket: %s\n' "$4" >>"$1"
    fi
}

# socket_accepts PATH: succeeds when PATH accepts a Unix stream connection.
socket_accepts() {
    python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$1" 2>/dev/null
}

# daemon_start CONFIG SOCKET: starts tenantlogd on CONFIG, appends its
# output to $daemon_log and sets daemon_pid. It then tries to connect to
# SOCKET up to 200 times, 50 ms apart. If the daemon exits first or never
# accepts the connection, it prints the daemon's output and ends the test.
daemon_start() {
    local config=$1 socket=$2
    "$TL_BIN/tenantlogd" --config "$config" >>"$daemon_log" 2>&1 &
    daemon_pid=$!
    for _ in $(seq 200); do
        socket_accepts "$socket" && return 0
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.05
    done
    fail "tenantlogd on $config did not accept connections on $socket." \
        "Its output:"
    cat "$daemon_log" >&2
    exit 1
}

# daemon_stop [STEP]: sends SIGTERM to tenantlogd, waits for it and fails
# a check when it exits non-zero. STEP, when given, prefixes the message.
daemon_stop() {
    local status
    kill -TERM "$daemon_pid"
    wait "$daemon_pid"
    status=$?
    daemon_pid=
    if [ "$status" -ne 0 ]; then
        fail "${1:+$1: }tenantlogd exited with $status after SIGTERM"
    fi
}

# Stops a daemon left running by an early exit: SIGTERM, then SIGKILL when
# it is still running 5 s later.
daemon_kill() {
    if [ -z "$daemon_pid" ] || ! kill -0 "$daemon_pid" 2>/dev/null; then
        return
    fi
    kill -TERM "$daemon_pid"
    for _ in $(seq 100); do
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid"
    fi
    wait "$daemon_pid" 2>/dev/null
    daemon_pid=
}

# Runs at exit: stops tenantlogd, calls the test's cleanup_hook function
# when it defines one (for processes of its own), and removes $tmp unless a
# check failed or the script exited non-zero.
cleanup() {
    local status=$?
    daemon_kill
    if declare -F cleanup_hook >/dev/null; then
        cleanup_hook
    fi
    if [ "$failures" -eq 0 ] && [ "$status" -eq 0 ]; then
        rm -rf "$tmp"
    else
        echo "$test_name: kept $tmp for inspection" >&2
    fi
}
trap cleanup EXIT

# check_exactly_once FOLDER COUNT: every record "n" from 1 to COUNT is in
# exactly one line of the files in FOLDER (the current and rotated ones,
# decompressed when they end in .zst or .gz; lock files are skipped).
check_exactly_once() {
    python3 - "$1" "$2" <<'PY' || fail "records lost or doubled in $1"
import collections, gzip, json, os, subprocess, sys
folder, count = sys.argv[1], int(sys.argv[2])
seen = collections.Counter()
for name in os.listdir(folder):
    path = os.path.join(folder, name)
    if name.endswith(".lock"):
        continue
    if name.endswith(".zst"):
        data = subprocess.run(["zstd", "-dcq", path], check=True,
                              capture_output=True).stdout
    elif name.endswith(".gz"):
        data = gzip.open(path).read()
    else:
        data = open(path, "rb").read()
    for line in data.decode().splitlines():
        seen[json.loads(line)["n"]] += 1
missing = [n for n in range(1, count + 1) if seen[n] == 0]
doubled = [n for n, c in seen.items() if c > 1]
print(f"{len(os.listdir(folder))} files, {sum(seen.values())} records, "
      f"{len(missing)} missing, {len(doubled)} doubled")
sys.exit(1 if missing or doubled else 0)
PY
}

# rotate_while_running PID FILE: every 0.5 s while PID runs, runs the real
# logrotate on $tmp/logrotate.conf when FILE is not empty, at most five
# times. Sets rotations to the number of runs.
rotate_while_running() {
    rotations=0
    while kill -0 "$1" 2>/dev/null && [ "$rotations" -lt 5 ]; do
        sleep 0.5
        if [ -s "$2" ]; then
            logrotate -f -s "$tmp/logrotate.state" "$tmp/logrotate.conf" \
                2>>"$tmp/logrotate.err" ||
                fail "logrotate failed: $(cat "$tmp/logrotate.err")"
            rotations=$((rotations + 1))
        fi
    done
}

# finish: exits 1 after printing the count of failed checks and the output
# of tenantlogd, or prints one line saying that every check passed.
finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$test_name: $failures check(s) failed" >&2
        if [ -s "$daemon_log" ]; then
            echo "tenantlogd output:" >&2
            cat "$daemon_log" >&2
        fi
        exit 1
    fi
    echo "$test_name: all checks passed"
    exit 0
}
