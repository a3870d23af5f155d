#!/bin/bash
# Rotation by size: the file sink renames app.log aside when it reaches
# max_bytes, keeps the newest `keep` rotated files and deletes no other
# file. Checked with one writer and with two writers on the same file.
. "$(dirname "$0")/common.sh"

count=20000
max_bytes=65536

# rotate_config FILE BASE KEEP: one file sink that rotates at max_bytes.
rotate_config() {
    cat >"$1" <<YAML
sinks:
  - name: files
    type: file
    base: $2
    path: "{tenant}/app.log"
    level: debug
    max_bytes: $max_bytes
    keep: $3
audit:
  path: $tmp/audit.db
YAML
}

# emit CONFIG REQUEST_ID: writes $count records for tenant t.
emit() {
    "$TL_BIN/tenantlog" emit --config "$1" --tenant t --count "$count" \
        --request-id "$2" 2>>"$tmp/emit.err" ||
        fail "emit $2 failed: $(cat "$tmp/emit.err")"
}

# rotated_names FOLDER: the rotated files of app.log in FOLDER.
rotated_names() {
    find "$1" -maxdepth 1 -type f -printf '%f\n' |
        grep -E '^app\.log\.[0-9]{8}T[0-9]{6}\.[0-9]{6}Z(-[0-9]+)?$'
}

# Keep 3, with files that look close to rotated ones.
decoys="app.log.other app.log.20260101T000000.000000Z.bz2
app.log.20260101T000000.000000Z.gz.bak app.log2.20260101T000000.000000Z
app.log.20260101T000000.000000Z.zst.part"
rotate_config "$tmp/keep3.yaml" "$tmp/keep3" 3
mkdir -p "$tmp/keep3/t"
for name in $decoys; do
    echo "$name" >"$tmp/keep3/t/$name"
done
emit "$tmp/keep3.yaml" one
rotated=$(rotated_names "$tmp/keep3/t" | wc -l)
[ "$rotated" -eq 3 ] || fail "keep 3 left $rotated rotated files, not 3"
[ -f "$tmp/keep3/t/app.log" ] || fail "keep 3: no active app.log"
for name in $decoys; do
    [ "$(cat "$tmp/keep3/t/$name")" = "$name" ] ||
        fail "$name was changed or deleted"
done
for name in $(rotated_names "$tmp/keep3/t"); do
    size=$(stat -c %s "$tmp/keep3/t/$name")
    [ "$size" -lt $((max_bytes + 1024)) ] ||
        fail "$name has $size bytes, more than max_bytes and one line"
done

# Keep 1000: nothing is deleted, so every record is in one file.
rotate_config "$tmp/all.yaml" "$tmp/all" 1000
emit "$tmp/all.yaml" one
rotated=$(rotated_names "$tmp/all/t" | wc -l)
[ "$rotated" -ge 10 ] || fail "keep 1000: only $rotated rotations"
check_exactly_once "$tmp/all/t" "$count"

# Two writers on the same file at the same time.
rotate_config "$tmp/two.yaml" "$tmp/two" 1000
emit "$tmp/two.yaml" a &
first=$!
emit "$tmp/two.yaml" b
wait "$first"
python3 - "$tmp/two/t" "$count" <<'PY' || fail "two writers: see above"
import collections, json, os, sys
folder, count = sys.argv[1], int(sys.argv[2])
seen, torn = collections.Counter(), 0
for name in os.listdir(folder):
    with open(os.path.join(folder, name)) as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                torn += 1
                continue
            seen[(rec["request_id"], rec["n"])] += 1
want = [(r, n) for r in ("a", "b") for n in range(1, count + 1)]
missing = [k for k in want if seen[k] == 0]
doubled = [k for k, c in seen.items() if c > 1]
print(f"two writers: {len(os.listdir(folder))} files, "
      f"{sum(seen.values())} records, {len(missing)} missing, "
      f"{len(doubled)} doubled, {torn} torn lines")
sys.exit(1 if missing or doubled or torn else 0)
PY
finish
