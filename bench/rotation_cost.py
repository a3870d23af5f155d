#!/usr/bin/env python3
"""Measure what rotation and compression cost the writer.

`tenantlog emit` writes COUNT numbered records through the library as
fast as it can, to a file sink configured four ways. These are no
rotation, rotation every 16 MiB without compression, with zstd, and with
gzip. The four runs alternate, ROUNDS times, so that load from other
work on the machine spreads over all of them. For each it reports the median wall
time, its ratio to the run without rotation, and the files rotated and
compressed by the time emit exited.

Usage: bench/rotation_cost.py BUILD_DIR [COUNT] [ROUNDS]
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CONFIGS = {
    "none": "",
    "rotate": "    max_bytes: 16M\n    keep: 1000\n    compress: none\n",
    "zstd": "    max_bytes: 16M\n    keep: 1000\n    compress: zstd\n",
    "gzip": "    max_bytes: 16M\n    keep: 1000\n    compress: gzip\n",
}


def write_config(path, base, extra):
    with open(path, "w") as f:
        f.write("sinks:\n  - name: files\n    type: file\n"
                f"    base: {base}\n    path: \"{{tenant}}/app.log\"\n"
                f"    level: debug\n{extra}")


def run_once(build, folder, name, count):
    base = os.path.join(folder, name)
    shutil.rmtree(base, ignore_errors=True)
    config = os.path.join(folder, name + ".yaml")
    write_config(config, base, CONFIGS[name])
    start = time.monotonic()
    subprocess.run([os.path.join(build, "tenantlog"), "emit", "--config",
                    config, "--tenant", "t", "--count", str(count)],
                   check=True, stderr=subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    names = os.listdir(os.path.join(base, "t"))
    rotated = sum(1 for n in names if n.startswith("app.log.")
                  and n != "app.log.lock")
    compressed = sum(1 for n in names if n.endswith((".zst", ".gz")))
    return elapsed, rotated, compressed


def main():
    build = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    results = {name: [] for name in CONFIGS}
    with tempfile.TemporaryDirectory(prefix="tl-rotation-") as folder:
        for _ in range(rounds):
            for name in CONFIGS:
                results[name].append(run_once(build, folder, name, count))
    base = statistics.median(r[0] for r in results["none"])
    print(f"{count} records, {rounds} rounds")
    print("config  median_s  ratio  rotated  compressed")
    for name, runs in results.items():
        median = statistics.median(r[0] for r in runs)
        print(f"{name:6}  {median:8.2f}  {median / base:5.2f}  "
              f"{statistics.median(r[1] for r in runs):7}  "
              f"{statistics.median(r[2] for r in runs):10}")


if __name__ == "__main__":
    main()
