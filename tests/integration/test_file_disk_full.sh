#!/bin/bash
# Integration test of a real full disk: a small tmpfs fills up while
# `tenantlog emit` writes, then space is freed. With `fallback: spool`
# every record reaches the file once the disk has room, with no restart.
# With `fallback: stderr` each record is in the file or on stderr, once.
# Mounting needs root; without it the test reports itself skipped (77).
# Needs TL_BIN (the build folder).
. "$(dirname "$0")/common.sh"

mnt=$tmp/mnt
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=512k tmpfs "$mnt" 2>"$tmp/mount.err"; then
    echo "$test_name: skipped: cannot mount a tmpfs: $(cat "$tmp/mount.err")"
    rm -rf "$tmp"
    trap - EXIT
    exit 77
fi
cleanup_hook() {
    umount "$mnt" 2>/dev/null
}

# disk_config FILE FALLBACK: a file sink on the tmpfs.
disk_config() {
    cat >"$1" <<EOF
sinks:
  - name: files
    type: file
    base: $mnt/$2
    path: "{tenant}/app.log"
    level: debug
    fallback: $2
EOF
}

# fill_disk: leaves about 16 KiB free on the tmpfs.
fill_disk() {
    head -c 600k /dev/zero >"$mnt/filler" 2>/dev/null
    truncate -s -16k "$mnt/filler"
}

# run_full FALLBACK: emits 3000 records at 1000/s for tenant t while the
# disk is full during the first second.
run_full() {
    disk_config "$tmp/$1.yaml" "$1"
    mkdir -p "$mnt/$1/t"
    fill_disk
    "$TL_BIN/tenantlog" emit --config "$tmp/$1.yaml" --tenant t --count 3000 \
        --rate 1000 >"$tmp/$1.out" 2>"$tmp/$1.err" &
    local pid=$!
    sleep 1
    rm -f "$mnt/filler"
    wait "$pid"
    echo $? >"$tmp/$1.status"
}

# count_records FILE...: succeeds when every record n from 1 to 3000 is a
# complete line of the files exactly once; torn fragments do not count.
count_records() {
    python3 - "$@" <<'PY'
import collections, json, sys
seen = collections.Counter()
for path in sys.argv[1:]:
    for line in open(path, errors="replace"):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and "n" in r:
            seen[r["n"]] += 1
bad = [n for n in range(1, 3001) if seen[n] != 1]
print(f"{sum(seen.values())} records, {len(bad)} missing or doubled")
sys.exit(1 if bad else 0)
PY
}

run_full spool
[ "$(cat "$tmp/spool.status")" -eq 0 ] ||
    fail "emit with a spool exited $(cat "$tmp/spool.status"):" \
        "$(cat "$tmp/spool.err")"
grep -q "spooled=[1-9]" "$tmp/spool.err" ||
    fail "the disk never filled, nothing was spooled: $(cat "$tmp/spool.err")"
grep -q '"n":' "$tmp/spool.err" && fail "a record went to stderr with a spool"
count_records "$mnt/spool/t/app.log" ||
    fail "spool: records lost or doubled in the file"
grep "spooled=" "$tmp/spool.err"

run_full stderr
[ "$(cat "$tmp/stderr.status")" -eq 1 ] ||
    fail "emit with stderr fallback exited $(cat "$tmp/stderr.status"), not 1"
grep -q "fallback=[1-9]" "$tmp/stderr.err" ||
    fail "no record went to stderr: $(tail -3 "$tmp/stderr.err")"
grep -q "works again" "$tmp/stderr.err" ||
    fail "the sink did not report its recovery"
count_records "$mnt/stderr/t/app.log" "$tmp/stderr.err" ||
    fail "stderr: records lost or doubled across the file and stderr"
grep "fallback=" "$tmp/stderr.err"
finish
