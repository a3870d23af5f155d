"""Integration test of tenantlogd's native protocol, with raw frames and with
the Python client.

It covers acks, an error frame for each kind of bad input, the connection
closed after a bad length, trusted credentials, and audit acks that come
only for rows committed in SQLite. It also checks that the daemon logs
rejected frames, and how the Python client reports rejections and connect
failures.

Needs TL_BIN (the build folder) and TL_SRC (the source tree).
"""

import contextlib
import io
import json
import logging
import os
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import unittest

TL_BIN = os.environ["TL_BIN"]
TL_SRC = os.environ["TL_SRC"]
sys.path.insert(0, os.path.join(TL_SRC, "clients", "python"))
import tenantlog_client  # noqa: E402

FRAME_MAX = 1 << 20


class Daemon:
    """A tenantlogd with every path inside folder."""

    def __init__(self, folder, audit_path=None):
        self.folder = folder
        self.socket = os.path.join(folder, "run", "native.sock")
        self.logs = os.path.join(folder, "log")
        self.audit = audit_path or os.path.join(folder, "audit.db")
        self.stats = os.path.join(folder, "stats.txt")
        config = os.path.join(folder, "tenantlog.yaml")
        with open(config, "w") as f:
            f.write(f"""sinks:
  - name: files
    type: file
    base: {self.logs}
    path: "{{tenant}}/app.log"
    level: debug
audit:
  path: {self.audit}
daemon:
  socket: {self.socket}
  stats: {self.stats}
""")
        self.output = open(os.path.join(folder, "daemon.out"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(TL_BIN, "tenantlogd"), "--config", config],
            stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("tenantlogd did not start; see "
                                   + self.output.name)
            time.sleep(0.02)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        self.output.close()
        return code

    def records(self, tenant):
        """Return the complete records in tenant's file (a last line
        without its newline is a write in progress). The "_system" file
        contains the daemon's own."""
        path = os.path.join(self.logs, tenant, "app.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]


class Peer:
    """A raw connection that sends bytes and reads frames."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.buf = b""
        self.frames = []

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, obj):
        body = json.dumps(obj).encode()
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def next_frame(self):
        """Return the next frame, or None when the daemon closed."""
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if len(self.buf) >= 4 + n:
                    frame = json.loads(self.buf[4:4 + n])
                    self.buf = self.buf[4 + n:]
                    self.frames.append(frame)
                    return frame
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def until_ack(self, seq):
        """Read frames until the ack that covers seq; return them all."""
        got = []
        while True:
            frame = self.next_frame()
            if frame is None:
                raise AssertionError(f"connection closed before ack {seq}; "
                                     f"frames: {got}")
            got.append(frame)
            if frame["type"] == "ack" and frame["seq"] >= seq:
                return got

    def close(self):
        self.sock.close()


daemon = None


def setUpModule():
    global daemon, folder
    folder = tempfile.mkdtemp(prefix="tl-native-")
    daemon = Daemon(folder)


def tearDownModule():
    code = daemon.stop()
    if code != 0:
        raise AssertionError(f"tenantlogd exited with {code}")


class NativeProtocol(unittest.TestCase):
    def setUp(self):
        self.peer = Peer(daemon.socket)

    def tearDown(self):
        self.peer.close()

    def test_record_acked(self):
        self.peer.send({"type": "record", "seq": 1, "tenant": "acme",
                        "level": "warning", "logger": "shop",
                        "msg": "order placed", "request_id": "req-1",
                        "ts": "2024-05-01T12:00:00.000001Z",
                        "fields": {"n": 7, "ok": True, "ratio": 0.5}})
        frames = self.peer.until_ack(1)
        self.assertEqual(frames, [{"type": "ack", "seq": 1}])
        rec = [r for r in daemon.records("acme")
               if r.get("msg") == "order placed"]
        self.assertEqual(len(rec), 1)
        self.assertEqual(rec[0]["ts"], "2024-05-01T12:00:00.000001Z")
        self.assertEqual(rec[0]["level"], "warning")
        self.assertEqual(rec[0]["request_id"], "req-1")
        self.assertEqual(rec[0]["_transport"], "native")
        self.assertEqual(rec[0]["_uid"], os.getuid())
        self.assertEqual(rec[0]["_pid"], os.getpid())
        self.assertEqual(rec[0]["n"], 7)
        self.assertIs(rec[0]["ok"], True)

    def test_forged_uid_renamed(self):
        self.peer.send({"type": "record", "seq": 1, "tenant": "forge",
                        "msg": "forged",
                        "fields": {"_uid": 4242, "_pid": 4242}})
        self.peer.until_ack(1)
        rec = daemon.records("forge")
        self.assertEqual(len(rec), 1)
        self.assertEqual(rec[0]["_uid"], os.getuid())
        self.assertEqual(rec[0]["_pid"], os.getpid())
        self.assertEqual(rec[0]["fields._uid"], 4242)
        self.assertEqual(rec[0]["fields._pid"], 4242)

    def test_nested_fields_as_json(self):
        self.peer.send({"type": "record", "seq": 1, "tenant": "nested",
                        "msg": "m", "fields": {"obj": {"a": 1},
                                              "arr": [1, "x"],
                                              "none": None}})
        self.peer.until_ack(1)
        rec = daemon.records("nested")
        self.assertEqual(rec[0]["obj"], '{"a":1}')
        self.assertEqual(rec[0]["arr"], '[1,"x"]')
        self.assertEqual(rec[0]["none"], "null")

    def test_invalid_tenant_quarantined(self):
        bad = ["../x", "a/b", "..", ".", "/etc", "a\nb"]
        for seq, tenant in enumerate(bad, start=1):
            self.peer.send({"type": "record", "seq": seq, "tenant": tenant,
                            "msg": f"q{seq}"})
        frames = self.peer.until_ack(len(bad))
        self.assertEqual([f for f in frames if f["type"] == "error"], [])
        rec = daemon.records("_quarantine")
        got = {r["msg"]: r for r in rec if r["msg"].startswith("q")}
        for seq, tenant in enumerate(bad, start=1):
            self.assertEqual(got[f"q{seq}"]["_tenant_invalid"], tenant)
            self.assertNotIn("tenant", got[f"q{seq}"])
        # Nothing was written outside the file sink's base folder.
        self.assertFalse(os.path.exists(os.path.join(daemon.folder, "x")))
        self.assertFalse(os.path.exists("/etc/app.log"))

    def test_error_frames(self):
        actor = {"type": "user", "id": "u1"}
        cases = [
            ({"type": "bogus"}, "unknown_type"),
            # The message quotes 64 bytes of the type, which cuts an "é".
            ({"type": "a" + "\u00e9" * 40}, "unknown_type"),
            ({}, "missing_member"),
            ({"type": "record", "msg": 5}, "invalid_member"),
            ({"type": "record", "tenant": "acme\u0000x"}, "invalid_tenant"),
            ({"type": "record", "tenant": "x" * 257}, "invalid_tenant"),
            ({"type": "record", "level": "loud"}, "invalid_member"),
            ({"type": "record", "ts": "yesterday"}, "invalid_member"),
            ({"type": "record", "tennant": "acme"}, "invalid_member"),
            ({"type": "record", "fields": [1]}, "invalid_member"),
            ({"type": "record", "request_id": "x" * 129}, "invalid_member"),
            ({"type": "audit", "tenant": "acme", "actor": actor},
             "missing_member"),
            ({"type": "audit", "actor": actor, "action": "db.insert"},
             "missing_member"),
            ({"type": "audit", "tenant": "acme", "actor": actor,
              "action": "db.insert", "outcome": "maybe"}, "invalid_member"),
            ({"type": "audit", "tenant": "acme", "actor": "u1",
              "action": "db.insert"}, "invalid_member"),
            ({"type": "audit", "tenant": "bad tenant", "actor": actor,
              "action": "db.insert"}, "invalid_tenant"),
        ]
        for seq, (frame, code) in enumerate(cases, start=1):
            with self.subTest(frame=frame):
                frame["seq"] = seq
                self.peer.send(frame)
                frames = self.peer.until_ack(seq)
                errors = [f for f in frames if f["type"] == "error"]
                self.assertEqual(len(errors), 1, frames)
                self.assertEqual(errors[0]["seq"], seq)
                self.assertEqual(errors[0]["code"], code)
                self.assertTrue(errors[0]["message"])
        # The connection still works after every rejected frame.
        seq = len(cases) + 1
        self.peer.send({"type": "record", "seq": seq, "tenant": "acme",
                        "msg": "after errors"})
        self.assertEqual(self.peer.until_ack(seq),
                         [{"type": "ack", "seq": seq}])

    def test_audit_member_paths(self):
        actor = {"type": "user", "id": "u1"}
        cases = [
            ({"actor": {"type": "user", "id": ""}},
             '"actor.id" is required and must not be empty'),
            ({"actor": {"id": "u1"}},
             '"actor.type" is required and must not be empty'),
            ({"actor": {"type": "user", "id": 5}},
             '"actor.id" must be a string'),
            ({"actor": {"type": "user", "id": "u1", "x": 1}},
             'unknown member "x" in "actor"'),
            ({"actor": actor, "target": {"type": 5}},
             '"target.type" must be a string'),
            ({"actor": actor, "target": {"id": "t" * 257}},
             '"target.id" is 257 bytes; the maximum is 256'),
            ({"actor": actor, "target": {"id": "a\u0000b"}},
             '"target.id" contains a NUL character'),
        ]
        for seq, (members, message) in enumerate(cases, start=1):
            with self.subTest(members=members):
                frame = {"type": "audit", "seq": seq, "tenant": "acme",
                         "action": "db.insert", **members}
                self.peer.send(frame)
                frames = self.peer.until_ack(seq)
                errors = [f for f in frames if f["type"] == "error"]
                self.assertEqual(len(errors), 1, frames)
                self.assertEqual(errors[0]["message"], message)

    def assert_closed_after(self, data, code):
        self.peer.send_raw(data)
        frame = self.peer.next_frame()
        self.assertIsNotNone(frame)
        self.assertEqual(frame["type"], "error")
        self.assertEqual(frame["code"], code)
        self.assertNotIn("seq", frame)
        self.assertIsNone(self.peer.next_frame(), "connection not closed")

    def test_length_zero_closes(self):
        self.assert_closed_after(b"\0\0\0\0", "frame_length")

    def test_length_too_big_closes(self):
        self.assert_closed_after(struct.pack(">I", FRAME_MAX + 1),
                                 "frame_length")

    def test_not_json_closes(self):
        body = b"not json"
        self.assert_closed_after(struct.pack(">I", len(body)) + body,
                                 "invalid_json")

    def test_json_array_closes(self):
        body = b"[1,2]"
        self.assert_closed_after(struct.pack(">I", len(body)) + body,
                                 "invalid_json")

    def test_duplicate_key_closes(self):
        body = b'{"type":"record","seq":1,"seq":2}'
        self.assert_closed_after(struct.pack(">I", len(body)) + body,
                                 "invalid_json")

    def test_seq_repeated_closes(self):
        self.peer.send({"type": "record", "seq": 5, "tenant": "acme",
                        "msg": "five"})
        self.peer.until_ack(5)
        self.peer.send({"type": "record", "seq": 5, "tenant": "acme",
                        "msg": "five again"})
        frame = self.peer.next_frame()
        self.assertEqual(frame["code"], "invalid_seq")
        self.assertIsNone(self.peer.next_frame(), "connection not closed")

    def test_audit_ack_committed(self):
        for seq in (1, 2):
            self.peer.send({"type": "audit", "seq": seq, "tenant": "auditco",
                            "actor": {"type": "user", "id": "u1"},
                            "action": "db.insert",
                            "target": {"type": "table", "id": "orders"},
                            "details": {"rows": seq}})
            frames = self.peer.until_ack(seq)
            self.assertEqual(frames, [
                {"type": "audit_ack", "seq": seq, "tenant": "auditco",
                 "audit_seq": seq},
                {"type": "ack", "seq": seq}])
        db = sqlite3.connect(daemon.audit)
        rows = db.execute("SELECT seq, action, target_id, details, "
                          "sender_uid FROM audit_events WHERE tenant = ? "
                          "ORDER BY seq", ("auditco",)).fetchall()
        db.close()
        self.assertEqual(rows, [(1, "db.insert", "orders", '{"rows":1}',
                                 os.getuid()),
                                (2, "db.insert", "orders", '{"rows":2}',
                                 os.getuid())])

    def test_audit_ack_before_ack(self):
        frames = [
            {"type": "record", "seq": 1, "tenant": "mixco", "msg": "a"},
            {"type": "audit", "seq": 2, "tenant": "mixco",
             "actor": {"type": "user", "id": "u1"}, "action": "db.delete"},
            {"type": "record", "seq": 3, "tenant": "mixco", "msg": "b"},
        ]
        data = b""
        for frame in frames:
            body = json.dumps(frame).encode()
            data += struct.pack(">I", len(body)) + body
        self.peer.send_raw(data)
        got = self.peer.until_ack(3)
        kinds = [(f["type"], f["seq"]) for f in got]
        self.assertIn(("audit_ack", 2), kinds)
        first_ack_covering_2 = next(i for i, f in enumerate(got)
                                    if f["type"] == "ack" and f["seq"] >= 2)
        self.assertLess(kinds.index(("audit_ack", 2)), first_ack_covering_2)

    def test_stats_frame(self):
        self.peer.send({"type": "stats", "seq": 1})
        frames = self.peer.until_ack(1)
        self.assertEqual(frames[0]["type"], "stats")
        self.assertGreater(frames[0]["counters"]["native_frames"], 0)
        self.assertIn("records_written", frames[0]["counters"])

    def test_python_handler(self):
        handler = tenantlog_client.Handler(daemon.socket)
        log = logging.getLogger("pyapp")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
        try:
            with tenantlog_client.context(tenant="pyco", request_id="r-1"):
                log.info("hello %s", "world", extra={"n": 5, "big": 2**70})
            log.warning("explicit", extra={"tenant": "pyco2"})
            log.info("path \udcff", extra={"tenant": "pyco3"})
            handler.flush()
        finally:
            log.removeHandler(handler)
            handler.close()
        self.assertEqual(handler.dropped, 0)
        rec = daemon.records("pyco")
        self.assertEqual(len(rec), 1)
        self.assertEqual(rec[0]["msg"], "hello world")
        self.assertEqual(rec[0]["level"], "info")
        self.assertEqual(rec[0]["logger"], "pyapp")
        self.assertEqual(rec[0]["request_id"], "r-1")
        self.assertEqual(rec[0]["n"], 5)
        self.assertEqual(rec[0]["big"], str(2**70))
        self.assertEqual(len(daemon.records("pyco2")), 1)
        # A lone surrogate (from os.fsdecode) arrives as U+FFFD.
        self.assertEqual(daemon.records("pyco3")[0]["msg"], "path \ufffd")

    def test_python_extra_json(self):
        handler = tenantlog_client.Handler(daemon.socket)
        log = logging.getLogger("pyjson")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
        cyclic = []
        cyclic.append(cyclic)
        try:
            log.info("nested", extra={
                "tenant": "pyjson", "obj": {"a": 1, "b": [1, "x"], 2: None},
                "arr": (1, 2.5), "none": None, "deep": {"k": 2**70},
                "cyclic": cyclic})
            handler.flush()
        finally:
            log.removeHandler(handler)
            handler.close()
        rec = daemon.records("pyjson")
        self.assertEqual(len(rec), 1)
        self.assertEqual(rec[0]["obj"], '{"a":1,"b":[1,"x"],"2":null}')
        self.assertEqual(rec[0]["arr"], "[1,2.5]")
        self.assertEqual(rec[0]["none"], "null")
        self.assertEqual(rec[0]["deep"], '{"k":"%d"}' % 2**70)
        self.assertTrue(rec[0]["cyclic"].startswith("["), rec[0]["cyclic"])
        self.assertEqual(handler.dropped, 0)

    def test_python_rejected_dropped(self):
        handler = tenantlog_client.Handler(daemon.socket)
        log = logging.getLogger("pyreject")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
        long_name = logging.getLogger("L" * 257)
        long_name.addHandler(handler)
        long_name.setLevel(logging.DEBUG)
        long_name.propagate = False
        stderr = io.StringIO()

        try:
            with contextlib.redirect_stderr(stderr):
                with tenantlog_client.context(tenant="pyreject"):
                    log.info("long id", extra={"request_id": "r" * 129})
                    long_name.info("long logger")
                    log.info("fine")
                    handler.flush()
        finally:
            log.removeHandler(handler)
            long_name.removeHandler(handler)
            handler.close()

        report = stderr.getvalue()
        self.assertEqual(handler.dropped, 2, report)
        self.assertEqual(report.count("--- Logging error ---"), 2, report)
        self.assertIn('TenantlogError: invalid_member: "request_id" is 129 '
                      'bytes', report)
        self.assertIn('TenantlogError: invalid_member: "logger" is 257 '
                      'bytes', report)
        self.assertIn("Message: 'long id'", report)
        self.assertIn("Message: 'long logger'", report)
        self.assertEqual([r["msg"] for r in daemon.records("pyreject")],
                         ["fine"])

    def test_python_socket_env(self):
        saved = os.environ.pop("TENANTLOG_SOCKET", None)
        try:
            self.assertEqual(tenantlog_client.Handler().path,
                             "./var/tenantlogd.sock")
            os.environ["TENANTLOG_SOCKET"] = daemon.socket
            handler = tenantlog_client.Handler()
            seq = tenantlog_client.audit("auth.login", actor=("user", "u9"),
                                         tenant="pyenv")
        finally:
            os.environ.pop("TENANTLOG_SOCKET", None)
            if saved is not None:
                os.environ["TENANTLOG_SOCKET"] = saved
        self.assertEqual(handler.path, daemon.socket)
        self.assertEqual(seq, 1)

    def test_python_connect_error(self):
        missing = os.path.join(folder, "run", "missing.sock")
        with self.assertRaises(FileNotFoundError) as cm:
            tenantlog_client.audit("auth.login", actor=("user", "u9"),
                                   tenant="pyenv", path=missing)
        self.assertIn(missing, str(cm.exception))
        self.assertIn("tenantlogd is running", str(cm.exception))
        handler = tenantlog_client.Handler(missing)
        log = logging.getLogger("pymissing")
        log.addHandler(handler)
        stderr = io.StringIO()
        try:
            with contextlib.redirect_stderr(stderr):
                log.warning("nowhere")
        finally:
            log.removeHandler(handler)
        self.assertIn(f"failed to connect to tenantlogd at {missing}",
                      stderr.getvalue())

    def test_python_audit(self):
        seq1 = tenantlog_client.audit("auth.login", actor=("user", "u9"),
                                      tenant="pyaudit", path=daemon.socket)
        seq2 = tenantlog_client.audit("db.update", actor=("user", "u9"),
                                      tenant="pyaudit",
                                      target=("table", "t"),
                                      details={"rows": 3},
                                      path=daemon.socket)
        self.assertEqual((seq1, seq2), (1, 2))
        with self.assertRaises(tenantlog_client.TenantlogError) as cm:
            tenantlog_client.audit("db.update", actor=("user", "u9"),
                                   tenant="../x", path=daemon.socket)
        self.assertEqual(cm.exception.code, "invalid_tenant")


class RejectLog(unittest.TestCase):
    def test_rejects_logged_and_limited(self):
        other = tempfile.mkdtemp(prefix="tl-native-reject-")
        d = Daemon(other)
        try:
            peer = Peer(d.socket)
            for seq in range(7, 15):
                peer.send({"type": "record", "seq": seq,
                           "level": "loud", "msg": "bad"})
            peer.until_ack(14)
            peer.close()
        finally:
            code = d.stop()
        self.assertEqual(code, 0)
        own = [r for r in d.records("_system")
               if r.get("logger") == "tenantlogd"]
        rejects = [r for r in own if r["msg"] == "rejected a native frame"]
        # The daemon's error rate limit: 5 per site in 10 seconds.
        self.assertEqual(len(rejects), 5, own)
        first = rejects[0]
        self.assertEqual(first["level"], "error")
        self.assertEqual(first["seq"], 7)
        self.assertEqual(first["code"], "invalid_member")
        self.assertIn('"level" "loud"', first["error"])
        self.assertEqual(first["pid"], os.getpid())
        self.assertEqual(first["uid"], os.getuid())
        self.assertIn("conn", first)
        summary = [r for r in own if r.get("error_key") == "native.reject"]
        self.assertEqual(len(summary), 1, own)
        self.assertEqual(summary[0]["suppressed"], 3)
        shutil.rmtree(other, ignore_errors=True)


class StoreFailure(unittest.TestCase):
    def test_store_failed_no_audit_ack(self):
        other = tempfile.mkdtemp(prefix="tl-native-store-")
        # A regular file where the database's folder should be.
        blocker = os.path.join(other, "blocker")
        open(blocker, "w").close()
        d = Daemon(other, audit_path=os.path.join(blocker, "audit.db"))
        try:
            peer = Peer(d.socket)
            peer.send({"type": "audit", "seq": 1, "tenant": "acme",
                       "actor": {"type": "user", "id": "u1"},
                       "action": "db.insert"})
            frames = peer.until_ack(1)
            peer.close()
        finally:
            code = d.stop()
        self.assertEqual([f["type"] for f in frames], ["error", "ack"])
        self.assertEqual(frames[0]["code"], "store_failed")
        self.assertEqual(code, 0)
        with open(d.stats) as f:
            self.assertIn("audit_failed=1\n", f.read())
        shutil.rmtree(other, ignore_errors=True)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        print(f"kept for inspection: {folder}")
        sys.exit(1)
    shutil.rmtree(folder, ignore_errors=True)
