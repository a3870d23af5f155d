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


def account(name, inputs, records):
    """Match input lines to record messages; return (matched, missing)."""
    wanted = collections.Counter(inputs)
    got = collections.Counter(r.get("msg", "") for r in records)
    missing = wanted - got
    return sum((wanted & got).values()), sorted(missing.elements())


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
    print("records per file:")
    for path, rs in sorted(files.items()):
        print(f"  {path}: {len(rs)}")

    native = [r for r in all_records if r.get("_transport") == "native"]
    syslog = [r for r in all_records if r.get("_transport") == "syslog"]
    ssh = [r for r in syslog if r.get("tenant") == "labsz"]
    linux = [r for r in syslog if r.get("logger") == "combo"]
    own = [r for r in all_records if r.get("_transport") == "daemon"]

    print("input lines accounted for:")
    rejected = report.get("rejected", 0)
    openstack = read_lines(os.path.join(args.data, "OpenStack_2k.log"))
    print(
        f"  OpenStack_2k.log: {len(openstack)} lines, "
        f"{report.get('records', 0)} imported "
        f"({report.get('unparsed', 0)} unparsed, kept as plain records), "
        f"{rejected} rejected, {len(native)} records in files"
    )
    if report.get("records", 0) + rejected != len(openstack):
        problems.append("OpenStack_2k.log: imported + rejected != lines")
    if len(native) != report.get("records", 0):
        problems.append("OpenStack_2k.log: records in files != imported")
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

    dropped = sum(
        stats.get(k, 0)
        for k in ("records_failed", "write_errors", "fallback",
                  "audit_failed")
    )
    dropped += report.get("failed", 0)
    syslog_rejected = stats.get("syslog_empty", 0)
    native_rejected = stats.get("native_errors", 0)
    rejected += syslog_rejected + native_rejected
    print("rejected lines with reasons:")
    if rejected == 0:
        print("  none")
    else:
        print(f"  import: {report.get('rejected', 0)} (see import report)")
        print(f"  syslog: {syslog_rejected} empty messages")
        print(f"  native protocol: {native_rejected} error frames")
    print(f"dropped records: {dropped}")

    rows = audit_rows(os.path.join(args.var, "audit.db"))
    print(
        f"audit: {sum(rows.values())} events in {len(rows)} tenants "
        f"({report.get('audit', 0)} sent by the import)"
    )
    if sum(rows.values()) != report.get("audit", 0):
        problems.append("audit rows != audit events sent")
    audit_ok = args.verify_status == 0 and sum(rows.values()) > 0
    if args.daemon_status != 0:
        problems.append(f"tenantlogd exited with {args.daemon_status}")

    for p in problems:
        print(f"problem: {p}")
    print(
        f"summary: records={len(all_records)} dropped={dropped} "
        f"rejected={rejected} audit={'verified' if audit_ok else 'FAILED'}"
    )
    return 0 if audit_ok and not problems and dropped == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
