"""Integration test of Python's logging.handlers.SysLogHandler, unmodified,
sending to tenantlogd's datagram and stream syslog sockets.

Every message must land once, with the listener's default tenant or the
tenant of its structured data, and with the sender's kernel credentials.

Needs TL_BIN (the build folder).
"""

import json
import logging
import logging.handlers
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

TL_BIN = os.environ["TL_BIN"]

folder = None
proc = None


def path(*parts):
    return os.path.join(folder, *parts)


def setUpModule():
    global folder, proc
    folder = tempfile.mkdtemp(prefix="tl-syslog-py-")
    with open(path("tenantlog.yaml"), "w") as f:
        f.write(f"""sinks:
  - name: files
    type: file
    base: {path("log")}
    path: "{{tenant}}/app.log"
    level: debug
audit:
  path: {path("audit.db")}
daemon:
  socket: {path("run", "native.sock")}
  stats: {path("stats.txt")}
  syslog:
    - path: {path("run", "dgram.sock")}
      type: dgram
      tenant: dgramco
    - path: {path("run", "stream.sock")}
      type: stream
      tenant: streamco
""")
    proc = subprocess.Popen(
        [os.path.join(TL_BIN, "tenantlogd"), "--config",
         path("tenantlog.yaml")],
        stdout=open(path("daemon.out"), "w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while not os.path.exists(path("run", "stream.sock")):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("tenantlogd did not start; see "
                               + path("daemon.out"))
        time.sleep(0.02)


def tearDownModule():
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=20)
    if code != 0:
        raise AssertionError(f"tenantlogd exited with {code}")
    with open(path("stats.txt")) as f:
        stats = dict(line.rstrip("\n").rsplit("=", 1) for line in f)
    # Only RawSyslog sends messages that are unparsed, empty or cut.
    expected = {"syslog_unparsed": "1", "syslog_empty": "2",
                "syslog_truncated": "2", "records_failed": "0"}
    for name, value in expected.items():
        if stats.get(name) != value:
            raise AssertionError(f"stats: {name}={stats.get(name)}, "
                                 f"expected {value}")


def records(tenant):
    """Return the complete records of tenant's file. A last line without
    its newline is a write still in progress, which a reader can see."""
    p = path("log", tenant, "app.log")
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return [json.loads(line) for line in f if line.endswith("\n")]


def wait_for(tenant, msg, timeout=10.0):
    """Return every record of tenant with this msg once one is there."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in records(tenant) if r.get("msg") == msg]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def send(socktype, level, msg, formatter=None,
         facility=logging.handlers.SysLogHandler.LOG_USER):
    sock = "dgram.sock" if socktype == socket.SOCK_DGRAM else "stream.sock"
    handler = logging.handlers.SysLogHandler(address=path("run", sock),
                                             facility=facility,
                                             socktype=socktype)
    if formatter:
        handler.setFormatter(logging.Formatter(formatter))
    log = logging.getLogger(f"syslogtest.{time.monotonic_ns()}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    log.log(level, msg)
    handler.close()


class SysLogHandlerToDaemon(unittest.TestCase):
    def check_one(self, tenant, msg, level, facility="user"):
        found = wait_for(tenant, msg)
        self.assertEqual(len(found), 1, f"{msg!r} in tenant {tenant}")
        rec = found[0]
        self.assertEqual(rec["level"], level)
        self.assertEqual(rec["facility"], facility)
        self.assertEqual(rec["_transport"], "syslog")
        self.assertEqual(rec["_pid"], os.getpid())
        self.assertEqual(rec["_uid"], os.getuid())
        self.assertEqual(rec["_gid"], os.getgid())

    def test_dgram_default_tenant(self):
        send(socket.SOCK_DGRAM, logging.WARNING, "py dgram warning")
        self.check_one("dgramco", "py dgram warning", "warning")

    def test_stream_default_tenant(self):
        send(socket.SOCK_STREAM, logging.ERROR, "py stream error")
        self.check_one("streamco", "py stream error", "error")

    def test_stream_several_messages(self):
        handler = logging.handlers.SysLogHandler(
            address=path("run", "stream.sock"), socktype=socket.SOCK_STREAM)
        log = logging.getLogger("syslogtest.several")
        log.propagate = False
        log.setLevel(logging.DEBUG)
        log.addHandler(handler)
        for i in range(50):
            log.info("py stream %d", i)
        handler.close()
        for i in range(50):
            self.check_one("streamco", f"py stream {i}", "info")

    def test_facility_name(self):
        send(socket.SOCK_DGRAM, logging.INFO, "py auth info",
             facility=logging.handlers.SysLogHandler.LOG_AUTH)
        self.check_one("dgramco", "py auth info", "info", facility="auth")

    def test_rfc5424_tenant_from_sd(self):
        # The formatter writes an RFC 5424 header after the PRI that the
        # handler prepends, with the tenant in structured data.
        fmt = '1 - myhost pyapp - - [tenant@32473 id="globex"] %(message)s'
        send(socket.SOCK_DGRAM, logging.INFO, "py sd tenant", formatter=fmt)
        self.check_one("globex", "py sd tenant", "info")
        send(socket.SOCK_STREAM, logging.INFO, "py sd stream", formatter=fmt)
        self.check_one("globex", "py sd stream", "info")
        rec = wait_for("globex", "py sd stream")[0]
        self.assertEqual(rec["logger"], "pyapp")
        self.assertEqual(rec["host"], "myhost")


class RawSyslog(unittest.TestCase):
    """Messages that SysLogHandler never sends: no PRI, empty, too long."""

    def send_dgram(self, data):
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(data, path("run", "dgram.sock"))

    def send_stream(self, data):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(path("run", "stream.sock"))
            s.sendall(data)

    def test_no_pri_kept(self):
        self.send_dgram(b"raw text without pri")
        found = wait_for("dgramco", "raw text without pri")
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]["level"], "notice")
        self.assertNotIn("facility", found[0])

    def test_nul_in_tenant_quarantined(self):
        # A NUL must not cut "acme\0.evil" short into the valid id "acme".
        self.send_dgram(b'<13>1 - h app - - [tenant@32473 id="acme\x00.evil"]'
                        b" nul tenant")
        found = wait_for("_quarantine", "nul tenant")
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]["_tenant_invalid"], "acme\x1a.evil")
        self.assertEqual(
            [r for r in records("acme") if r.get("msg") == "nul tenant"], [])

    def test_empty_dropped(self):
        self.send_dgram(b"\n")
        self.send_stream(b"\n<13>after empty\n")
        self.assertEqual(len(wait_for("streamco", "after empty")), 1)

    def test_oversize_dgram_cut(self):
        self.send_dgram(b"<13>big " + b"x" * 70000)
        msg = "big " + "x" * (64 * 1024 - 8)
        found = wait_for("dgramco", msg)
        self.assertEqual(len(found), 1)

    def test_oversize_stream_cut(self):
        self.send_stream(b"<13>long " + b"y" * 70000 + b"\n<13>next one\n")
        self.assertEqual(len(wait_for("streamco", "next one")), 1)
        cut = [r for r in records("streamco")
               if r["msg"].startswith("long ")]
        self.assertEqual(len(cut), 1)
        self.assertEqual(len(cut[0]["msg"]), 64 * 1024 - 4)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        print(f"kept for inspection: {folder}")
        sys.exit(1)
    shutil.rmtree(folder, ignore_errors=True)
