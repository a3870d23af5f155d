#!/bin/bash
# Tampers with a real audit database through sqlite3(1) and checks that
# `tenantlog audit verify` exits 1 and names the tenant and the first bad
# seq, for a modified, a deleted and a swapped row and a modified hash.
. "$(dirname "$0")/common.sh"

fill=$TL_BIN/tests/audit_fill
cli=$TL_BIN/tenantlog
for tool in "$fill" "$cli"; do
    if [ ! -x "$tool" ]; then
        fail "$tool is missing; build it first"
        exit 1
    fi
done
if ! command -v sqlite3 >/dev/null; then
    fail "sqlite3(1) is not installed (Debian package sqlite3)"
    exit 1
fi

# Sets db to a new $tmp/NAME.db with 40 events of acme and 25 of beta.
make_db() {
    db=$tmp/$1.db
    "$fill" "$db" acme 40 >/dev/null || fail "$1: audit_fill acme failed"
    "$fill" "$db" beta 25 >/dev/null || fail "$1: audit_fill beta failed"
}

# Runs SQL on a database after dropping the append-only triggers, as an
# attacker with write access to the file would.
tamper() {
    sqlite3 "$1" "DROP TRIGGER IF EXISTS audit_events_no_update;
                  DROP TRIGGER IF EXISTS audit_events_no_delete;
                  $2" || fail "sqlite3 could not run: $2"
}

# expect CASE WANT_RC PATTERN... -- VERIFY_ARGS...: runs verify and checks
# its exit status and that its output contains every line PATTERN.
expect() {
    local name=$1 want=$2 out rc pattern
    shift 2
    local patterns=()
    while [ "$1" != "--" ]; do
        patterns+=("$1")
        shift
    done
    shift
    out=$("$cli" audit verify "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "$name: exit status $rc, expected $want; output:"$'\n'"$out"
    fi
    for pattern in "${patterns[@]}"; do
        if ! grep -qxF -- "$pattern" <<<"$out"; then
            fail "$name: no line '$pattern' in output:"$'\n'"$out"
        fi
    done
}

swap_columns="ts_ns, actor_type, actor_id, action, target_type, target_id,
    outcome, reason, request_id, source, details, sender_pid, sender_uid,
    sender_gid, hash"

make_db intact
before=$(sha256sum <"$db")
expect intact 0 "tenant acme: 40 rows, chain intact" \
    "tenant beta: 25 rows, chain intact" -- --db "$db"
after=$(sha256sum <"$db")
[ "$before" = "$after" ] || fail "intact: verify changed the database file"

if sqlite3 "$db" "UPDATE audit_events SET action = 'x'" 2>/dev/null; then
    fail "triggers: an UPDATE of an audit row succeeded"
fi

make_db modified
tamper "$db" "UPDATE audit_events SET actor_id = 'mallory'
              WHERE tenant = 'acme' AND seq = 17"
expect modified 1 "tenant acme: chain broken at seq 17: hash mismatch" \
    "tenant beta: 25 rows, chain intact" -- --db "$db"
expect filter-other 0 "tenant beta: 25 rows, chain intact" \
    -- --db "$db" --tenant beta
if "$cli" audit verify --db "$db" --tenant beta | grep -q acme; then
    fail "filter-other: --tenant beta also reported acme"
fi
expect filter-broken 1 "tenant acme: chain broken at seq 17: hash mismatch" \
    -- --db "$db" --tenant acme

make_db deleted
tamper "$db" "DELETE FROM audit_events WHERE tenant = 'beta' AND seq = 9"
expect deleted 1 "tenant acme: 40 rows, chain intact" \
    "tenant beta: chain broken at seq 9: missing row" -- --db "$db"

make_db swapped
tamper "$db" "CREATE TEMP TABLE pair AS SELECT * FROM audit_events
                  WHERE tenant = 'acme' AND seq IN (5, 6);
              UPDATE audit_events SET ($swap_columns) =
                  (SELECT $swap_columns FROM pair
                   WHERE pair.seq = 11 - audit_events.seq)
                  WHERE tenant = 'acme' AND seq IN (5, 6)"
expect swapped 1 "tenant acme: chain broken at seq 5: hash mismatch" \
    -- --db "$db"

make_db swapped-seq
tamper "$db" "UPDATE audit_events SET seq = 1000
                  WHERE tenant = 'beta' AND seq = 12;
              UPDATE audit_events SET seq = 12
                  WHERE tenant = 'beta' AND seq = 13;
              UPDATE audit_events SET seq = 13
                  WHERE tenant = 'beta' AND seq = 1000"
expect swapped-seq 1 "tenant beta: chain broken at seq 12: hash mismatch" \
    -- --db "$db"

make_db rehashed
tamper "$db" "UPDATE audit_events SET hash = randomblob(32)
              WHERE tenant = 'acme' AND seq = 30"
expect rehashed 1 "tenant acme: chain broken at seq 30: hash mismatch" \
    -- --db "$db"

prefix="tenantlog audit verify:"
expect unknown-tenant 2 "$prefix no audit rows for tenant gamma in $db" \
    -- --db "$db" --tenant gamma
none=$tmp/none.db
expect missing-db 2 \
    "$prefix cannot open audit database $none: No such file or directory" \
    -- --db "$none"
expect bad-option 2 -- --db "$db" --no-such-option

# Four writer processes at once still give one gapless chain.
for i in 1 2 3 4; do
    "$fill" "$tmp/concurrent.db" acme 200 >/dev/null &
done
wait
expect concurrent 0 "tenant acme: 800 rows, chain intact" \
    -- --db "$tmp/concurrent.db"

# Without --db, the path comes from the embedded default: ./var/audit.db.
mkdir -p "$tmp/cwd/var"
"$fill" "$tmp/cwd/var/audit.db" acme 3 >/dev/null || fail "default: fill"
(cd "$tmp/cwd" && env -u TENANTLOG_CONFIG "$cli" audit verify) \
    >"$tmp/default.out" 2>&1 || fail "default: exit status $?"
grep -qxF "tenant acme: 3 rows, chain intact" "$tmp/default.out" ||
    fail "default: unexpected output: $(cat "$tmp/default.out")"

finish
