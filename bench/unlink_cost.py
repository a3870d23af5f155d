#!/usr/bin/env python3
"""Measure what an external unlink of the active file costs.

`tenantlog emit` writes numbered records through the library at a fixed
rate while this script unlinks the active file every 50 ms. For each
unlink it measures two things:

- the delay until the sink writes to a new file at that path: after the
  unlink the script polls stat(2) on the path every 0.2 ms until a file
  with data is there, so the figure is accurate to about 0.2 ms plus the
  time this script waits for the CPU;
- the records lost with the unlinked file: before the unlink it opens the
  file and notes its size, so afterwards it counts the lines the sink
  still appended to the unlinked file.

Usage: bench/unlink_cost.py BUILD_DIR [COUNT] [RATE]
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

PERIOD_S = 0.05  # between two unlinks
POLL_S = 0.0002  # between two stat(2) calls while waiting for the new file
WAIT_MAX_S = 2.0  # a new file later than this counts as never


def write_config(tmp):
    config = os.path.join(tmp, "tl.yaml")
    with open(config, "w") as f:
        f.write(f"sinks:\n  - name: files\n    type: file\n"
                f"    base: {tmp}/log\n    path: \"{{tenant}}/app.log\"\n"
                f"audit:\n  path: {tmp}/audit.db\n")
    return config


def wait_new_file(path):
    """Return the seconds until path names a file with data, or None."""
    start = time.monotonic()
    while time.monotonic() - start < WAIT_MAX_S:
        try:
            if os.stat(path).st_size > 0:
                return time.monotonic() - start
        except FileNotFoundError:
            pass
        time.sleep(POLL_S)
    return None


def unlink_loop(emit, path):
    """Unlink path every PERIOD_S while emit runs.

    Return the list of (open unlinked file, its size at the unlink, delay
    until the new file or None)."""
    unlinked = []
    next_unlink = time.monotonic() + PERIOD_S
    while emit.poll() is None:
        time.sleep(max(0.0, next_unlink - time.monotonic()))
        next_unlink += PERIOD_S
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            continue
        size = os.fstat(f.fileno()).st_size
        os.unlink(path)
        delay = wait_new_file(path)
        if emit.poll() is not None and delay is None:
            f.close()  # emit ended: no new file was due
            break
        unlinked.append((f, size, delay))
    return unlinked


def lost_records(f, size):
    f.seek(size)
    lost = f.read().count(b"\n")
    f.close()
    return lost


def report(rate, count, unlinked):
    lost = sorted(lost_records(f, size) for f, size, _ in unlinked)
    delays = [d * 1000 for _, _, d in unlinked if d is not None]
    never = len(unlinked) - len(delays)
    n = len(lost)
    print(f"rate={rate}/s records={count} unlinks={n}")
    if delays:
        print(f"new file after unlink: median={statistics.median(delays):.1f}"
              f" ms max={max(delays):.1f} ms"
              f" over_100ms={sum(d > 100 for d in delays)}"
              f" never={never}")
    if lost:
        median = statistics.median(lost)
        print(f"records lost: total={sum(lost)} median_per_unlink={median:g}"
              f" max={max(lost)} median_as_time="
              f"{1000 * median / rate:.1f} ms")


def main():
    build = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 250000
    rate = int(sys.argv[3]) if len(sys.argv) > 3 else 50000
    with tempfile.TemporaryDirectory(prefix="tl-unlink-") as tmp:
        config = write_config(tmp)
        path = os.path.join(tmp, "log", "unl", "app.log")
        emit = subprocess.Popen(
            [os.path.join(build, "tenantlog"), "emit", "--config", config,
             "--tenant", "unl", "--count", str(count), "--rate", str(rate)],
            stderr=subprocess.DEVNULL)
        try:
            unlinked = unlink_loop(emit, path)
        finally:
            emit.kill()
            emit.wait()
        report(rate, count, unlinked)


if __name__ == "__main__":
    main()
