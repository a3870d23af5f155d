#!/usr/bin/env python3
"""Measure what an external unlink of the active file costs.

`tenantlog emit` writes numbered records through the library at a fixed
rate while this script unlinks the active file every 50 ms. Before each
unlink it opens the file and notes its size, so afterwards it can count
the records the sink still wrote to the unlinked file: those are lost
with it. The sink compares the path with its open file at most every
100 ms, so the expected loss is up to 100 ms of records per unlink.

Usage: bench/unlink_cost.py BUILD_DIR [COUNT] [RATE]
"""

import os
import subprocess
import sys
import tempfile
import time


def main():
    build = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    rate = int(sys.argv[3]) if len(sys.argv) > 3 else 50000
    with tempfile.TemporaryDirectory(prefix="tl-unlink-") as tmp:
        config = os.path.join(tmp, "tl.yaml")
        with open(config, "w") as f:
            f.write(f"sinks:\n  - name: files\n    type: file\n"
                    f"    base: {tmp}/log\n    path: \"{{tenant}}/app.log\"\n"
                    f"audit:\n  path: {tmp}/audit.db\n")
        path = os.path.join(tmp, "log", "unl", "app.log")
        emit = subprocess.Popen(
            [os.path.join(build, "tenantlog"), "emit", "--config", config,
             "--tenant", "unl", "--count", str(count), "--rate", str(rate)],
            stderr=subprocess.DEVNULL)
        unlinked = []  # (open file, size at the unlink)
        while emit.poll() is None:
            time.sleep(0.05)
            try:
                f = open(path, "rb")
            except FileNotFoundError:
                continue
            size = os.fstat(f.fileno()).st_size
            os.unlink(path)
            unlinked.append((f, size))
        lost = []
        for f, size in unlinked:
            f.seek(size)
            lost.append(f.read().count(b"\n"))
            f.close()
    lost.sort()
    n = len(lost)
    median = lost[n // 2] if n else 0
    print(f"rate={rate}/s records={count} unlinks={n} "
          f"lost_total={sum(lost)} lost_per_unlink_median={median} "
          f"max={max(lost) if lost else 0} "
          f"median_ms={1000 * median / rate:.1f}")


if __name__ == "__main__":
    main()
