#!/bin/bash
# Integration test of compressed rotation. The library: a second emit run
# compresses with zstd what the first one rotated, and every record of
# both runs is found exactly once. tenantlogd: with gzip, the daemon
# compresses while idle, and its stats file counts the compressed files.
# Needs TL_BIN (the build folder).
. "$(dirname "$0")/common.sh"

# file_config FILE BASE METHOD [SOCKET]: a file sink rotating at 64 KiB
# with compression METHOD, keeping every rotated file.
file_config() {
    cat >"$1" <<EOF
sinks:
  - name: files
    type: file
    base: $2
    path: "{tenant}/app.log"
    level: debug
    max_bytes: 64K
    keep: 10000
    compress: $3
EOF
    if [ $# -ge 4 ]; then
        printf 'daemon:\n  socket: %s\n  stats: %s\n' "$4" "$tmp/stats.txt" \
            >>"$1"
    fi
}

# count_files FOLDER PATTERN: prints how many names in FOLDER match PATTERN.
count_files() {
    find "$1" -maxdepth 1 -name "$2" | wc -l
}

# check_runs FOLDER RUN=COUNT...: every record n from 1 to COUNT of each
# request id RUN is in exactly one line of the files in FOLDER.
check_runs() {
    python3 - "$@" <<'PY' || fail "records lost or doubled in $1"
import collections, gzip, json, os, subprocess, sys
folder, runs = sys.argv[1], dict(a.split("=") for a in sys.argv[2:])
seen = collections.Counter()
for name in os.listdir(folder):
    path = os.path.join(folder, name)
    if name.endswith(".zst"):
        data = subprocess.run(["zstd", "-dcq", path], check=True,
                              capture_output=True).stdout
    elif name.endswith(".gz"):
        data = gzip.open(path).read()
    elif name.endswith(".lock"):
        continue
    else:
        data = open(path, "rb").read()
    for line in data.decode().splitlines():
        r = json.loads(line)
        seen[(r.get("request_id"), r["n"])] += 1
bad = 0
for run, count in runs.items():
    for n in range(1, int(count) + 1):
        if seen[(run, n)] != 1:
            bad += 1
print(f"{sum(seen.values())} records, {bad} missing or doubled")
sys.exit(1 if bad else 0)
PY
}

# The library: the first run rotates; the second, over 5 s, compresses the
# first run's files once they have been quiet for 1 s.
file_config "$tmp/lib.yaml" "$tmp/lib" zstd
"$TL_BIN/tenantlog" emit --config "$tmp/lib.yaml" --tenant t --count 20000 \
    --request-id one 2>>"$tmp/emit.err" ||
    fail "first emit failed: $(cat "$tmp/emit.err")"
rotated=$(count_files "$tmp/lib/t" 'app.log.*Z')
[ "$rotated" -gt 10 ] || fail "the first run rotated $rotated files, not 11+"
"$TL_BIN/tenantlog" emit --config "$tmp/lib.yaml" --tenant t --count 10000 \
    --rate 2000 --request-id two 2>>"$tmp/emit.err" ||
    fail "second emit failed: $(cat "$tmp/emit.err")"
zst=$(count_files "$tmp/lib/t" 'app.log.*Z.zst')
[ "$zst" -ge "$rotated" ] ||
    fail "$zst files compressed with zstd, fewer than the $rotated rotated"
[ "$(count_files "$tmp/lib/t" '*.tmp')" -eq 0 ] ||
    fail "a compression temporary was left"
for f in "$tmp"/lib/t/*.zst; do
    zstd -tq "$f" || fail "$f is not a valid zstd file"
done
check_runs "$tmp/lib/t" one=20000 two=10000
echo "library: $zst files compressed"

# tenantlogd with gzip: compression runs while the daemon is idle.
file_config "$tmp/d.yaml" "$tmp/d" gzip "$tmp/native.sock"
daemon_start "$tmp/d.yaml" "$tmp/native.sock"
"$TL_BIN/tenantlog" emit --daemon "$tmp/native.sock" --tenant t \
    --count 20000 --request-id d 2>>"$tmp/emit.err" ||
    fail "emit to tenantlogd failed: $(cat "$tmp/emit.err")"
rotated=$(count_files "$tmp/d/t" 'app.log.*Z*')
for _ in $(seq 600); do # up to 60 s, for slow (sanitizer) builds
    [ "$(count_files "$tmp/d/t" 'app.log.*Z.gz')" -ge "$rotated" ] && break
    sleep 0.1
done
daemon_stop
gz=$(count_files "$tmp/d/t" 'app.log.*Z.gz')
[ "$gz" -ge "$rotated" ] && [ "$gz" -gt 10 ] ||
    fail "tenantlogd compressed $gz of $rotated rotated files"
check_runs "$tmp/d/t" d=20000
grep -qx "sink_compressed=$gz" "$tmp/stats.txt" ||
    fail "stats file: no sink_compressed $gz: $(grep compress "$tmp/stats.txt")"
echo "tenantlogd: $gz files compressed"
finish
