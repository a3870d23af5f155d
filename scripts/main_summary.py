#!/usr/bin/env python3
"""Print the main job's summary: records per tenant and per file, every
input line accounted for, drops, rejects and the audit verification.

The last line is machine-readable:
summary: records=N dropped=N rejected=N audit=verified|FAILED
"""

import argparse
import collections
import json
import os
import re
import sqlite3
import sys


def read_lines(path):
    """Split a file on LF, CRLF or bare CR, as the importer does."""
    with open(path, "rb") as f:
        data = f.read()
    lines = re.split(rb"\r\n|\r|\n", data)
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.decode("utf-8", "replace") for line in lines]


def read_records(log_dir):
    """Return {relative file path: [record, ...]} for every JSON line file."""
    files = {}
    for root, _, names in os.walk(log_dir):
        for name in sorted(names):
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                files[os.path.relpath(path, os.path.dirname(log_dir))] = [
                    json.loads(line) for line in f
                ]
    return files


def read_stats(path):
    stats = {}
    if not os.path.exists(path):
        return stats
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, sep, value = line.strip().rpartition("=")
            if sep and value.isdigit():
                stats[key] = int(value)
    return stats


def read_import_report(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("import: "):
                return {
                    k: int(v)
                    for k, v in re.findall(r"(\w+)=(\d+)", line)
                }
    return {}


def source_of(record):
    """Name where a record came from, for the records without a tenant."""
    transport = record.get("_transport", "library")
    if transport == "native":
        return "OpenStack_2k.log (import)"
    if transport == "syslog":
        return f"syslog, tag {record.get('logger', '-')}"
    if transport == "daemon":
        return "tenantlogd itself"
    return transport


OPENSTACK_CONTEXT = re.compile(r"\[(req-\S+) (\S+) (\S+) - - -\]")


def check_openstack(lines, records):
    """Check each OpenStack line's record by its "line" field: the tenant
    and request id of its context. Returns the list of mismatches."""
    by_line = {r.get("line"): r for r in records}
    problems = []
    for number, line in enumerate(lines, 1):
        rec = by_line.get(number)
        if rec is None:
            problems.append(f"line {number}: no record")
            continue
        m = OPENSTACK_CONTEXT.search(line)
        tenant = m.group(3) if m and m.group(3) != "-" else None
        request = m.group(1) if m else None
        if rec.get("tenant") != tenant or rec.get("request_id") != request:
            problems.append(f"line {number}: tenant or request id differs")
    return problems


def account(name, inputs, records):
    """Match input lines to record messages; return (matched, missing)."""
    expected = collections.Counter(inputs)
    got = collections.Counter(r.get("msg", "") for r in records)
    missing = expected - got
    return sum((expected & got).values()), sorted(missing.elements())


def audit_rows(db):
    if not os.path.exists(db):
        return {}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(
            con.execute(
                "SELECT tenant, count(*) FROM audit_events GROUP BY tenant"
            ).fetchall()
        )
    finally:
        con.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--var", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--daemon-status", type=int, default=0)
    parser.add_argument("--verify-status", type=int, default=0)
    parser.add_argument("--import-status", type=int, default=0)
    parser.add_argument("--logger-status", type=int, default=0)
    args = parser.parse_args()

    files = read_records(os.path.join(args.var, "log"))
    stats = read_stats(os.path.join(args.var, "tenantlogd.stats"))
    report = read_import_report(os.path.join(args.var, "import.report"))
    all_records = [r for rs in files.values() for r in rs]
    problems = []

    print("== summary")
    print("records per tenant:")
    per_tenant = collections.Counter(
        r.get("tenant", "(none)") for r in all_records
    )
    for tenant, n in sorted(per_tenant.items()):
        print(f"  {tenant}: {n}")
    untenanted = collections.Counter(
        source_of(r) for r in all_records if "tenant" not in r
    )
    for source, n in sorted(untenanted.items()):
        print(f"    (none) from {source}: {n}")
    print("records per file:")
    for path, rs in sorted(files.items()):
        print(f"  {path}: {len(rs)}")

    native = [r for r in all_records if r.get("_transport") == "native"]
    syslog = [r for r in all_records if r.get("_transport") == "syslog"]
    ssh = [r for r in syslog if r.get("tenant") == "labsz"]
    linux = [r for r in syslog if r.get("logger") == "combo"]
    own = [r for r in all_records if r.get("_transport") == "daemon"]

    print("input lines accounted for:")
    sent, failed = report.get("records", 0), report.get("failed", 0)
    rejected = report.get("rejected", 0)
    openstack = read_lines(os.path.join(args.data, "OpenStack_2k.log"))
    print(
        f"  OpenStack_2k.log: {len(openstack)} lines, {sent} imported "
        f"({report.get('unparsed', 0)} unparsed, kept as plain records), "
        f"{rejected} rejected, {failed} not accepted by tenantlogd, "
        f"{len(native)} records in files"
    )
    if sent + rejected != len(openstack):
        problems.append("OpenStack_2k.log: imported + rejected != lines")
    if len(native) != sent - failed:
        problems.append("OpenStack_2k.log: records in files != accepted")
    mismatches = check_openstack(openstack, native)
    print(f"    {len(openstack) - len(mismatches)} lines found as records "
          f"with their tenant and request id")
    for m in mismatches[:5]:
        print(f"    {m}")
    if mismatches:
        problems.append(f"OpenStack_2k.log: {len(mismatches)} lines differ")
    for name, recs in (("OpenSSH_2k.log", ssh), ("Linux_2k.log", linux)):
        inputs = read_lines(os.path.join(args.data, name))
        matched, missing = account(name, inputs, recs)
        print(
            f"  {name}: {len(inputs)} lines, {matched} found as records, "
            f"{len(missing)} missing"
        )
        for line in missing[:5]:
            print(f"    missing: {line!r}")
        if missing or len(recs) != len(inputs):
            problems.append(f"{name}: {len(missing)} lines missing")
    print(f"  tenantlogd's own records: {len(own)}")

    # A record that failed to write is in records_failed, and again in
    # sink_write_errors and sink_fallback, so count records_failed only.
    # Frames tenantlogd rejected are in the import's failed count.
    dropped = stats.get("records_failed", 0) + stats.get("audit_failed", 0)
    dropped += failed + report.get("audit_failed", 0)
    syslog_rejected = stats.get("syslog_empty", 0)
    rejected += syslog_rejected
    print("rejected lines with reasons:")
    if rejected == 0:
        print("  none")
    else:
        print(f"  import: {report.get('rejected', 0)} (see import report)")
        print(f"  syslog: {syslog_rejected} empty messages")
    print(f"dropped records: {dropped}")
    if stats.get("native_errors", 0):
        print(f"  tenantlogd error frames: {stats['native_errors']}")

    rows = audit_rows(os.path.join(args.var, "audit.db"))
    print(
        f"audit: {sum(rows.values())} events in {len(rows)} tenants "
        f"({report.get('audit', 0)} sent by the import)"
    )
    if sum(rows.values()) != report.get("audit", 0):
        problems.append("audit rows != audit events sent")
    audit_ok = args.verify_status == 0 and sum(rows.values()) > 0
    for name, status in (("tenantlogd", args.daemon_status),
                         ("tenantlog import", args.import_status),
                         ("logger", args.logger_status)):
        if status != 0:
            problems.append(f"{name} exited with status {status}")

    for p in problems:
        print(f"problem: {p}")
    print(
        f"summary: records={len(all_records)} dropped={dropped} "
        f"rejected={rejected} audit={'verified' if audit_ok else 'FAILED'}"
    )
    return 0 if audit_ok and not problems and dropped == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
