"""Client for tenantlogd's native protocol, using the standard library only.

- ``Handler`` is a ``logging.Handler`` that sends each record to the daemon.
- ``audit()`` sends one audit event and returns once the daemon has
  committed it.
- ``context()`` sets the tenant and request id for the current thread or
  asyncio task.

docs/protocol.md specifies the frames: a 4-byte big-endian length, then one
UTF-8 JSON object.
"""

import collections
import contextlib
import contextvars
import datetime
import json
import logging
import math
import os
import socket
import struct
import time

DEFAULT_SOCKET = os.environ.get("TENANTLOG_SOCKET", "./var/tenantlogd.sock")
FRAME_MAX = 1 << 20

tenant_var = contextvars.ContextVar("tenantlog_tenant", default=None)
request_id_var = contextvars.ContextVar("tenantlog_request_id", default=None)

# Attributes every LogRecord has. Any other attribute came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {
    "message", "asctime", "taskName"}
_CONTEXT_KEYS = ("tenant", "request_id", "trace_id", "span_id")
_INT64 = (-(1 << 63), (1 << 63) - 1)


class TenantlogError(Exception):
    """An error frame from the daemon. ``code`` is stable, and ``seq`` is the
    rejected frame's sequence number (0 when the frame had none)."""

    def __init__(self, code, message, seq=0):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.seq = seq


@contextlib.contextmanager
def context(tenant=None, request_id=None):
    """Set the tenant and request id for records logged inside the block."""
    tokens = [(tenant_var, tenant_var.set(tenant)) if tenant else None,
              (request_id_var, request_id_var.set(request_id))
              if request_id else None]
    try:
        yield
    finally:
        for var_token in reversed(tokens):
            if var_token:
                var_token[0].reset(var_token[1])


def _rfc3339(epoch_s):
    dt = datetime.datetime.fromtimestamp(epoch_s, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Connection:
    """One connection to the daemon. Not thread-safe."""

    def __init__(self, path=DEFAULT_SOCKET, timeout=30.0):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.seq = 0
        self.acked = 0
        self.audit_seqs = {}  # frame seq -> per-tenant audit seq
        self.errors = collections.deque(maxlen=100)  # TenantlogError
        self._buf = b""

    def send(self, frame):
        """Send frame (a dict, given the next "seq") and return its seq."""
        frame["seq"] = self.seq + 1
        body = json.dumps(frame, separators=(",", ":"), allow_nan=False,
                          ensure_ascii=False).encode("utf-8")
        if len(body) > FRAME_MAX:
            raise ValueError(f"frame of {len(body)} bytes is larger than "
                             f"the maximum of {FRAME_MAX}")
        self.sock.settimeout(self.timeout)
        self.sock.sendall(struct.pack(">I", len(body)) + body)
        self.seq += 1
        return self.seq

    def _handle(self, frame):
        kind, seq = frame.get("type"), frame.get("seq", 0)
        if kind == "ack":
            self.acked = max(self.acked, seq)
        elif kind == "audit_ack":
            self.audit_seqs[seq] = frame["audit_seq"]
        elif kind == "error":
            self.errors.append(TenantlogError(frame.get("code", ""),
                                              frame.get("message", ""), seq))

    def _parse(self):
        """Handle every complete frame in the buffer and return how many."""
        count = 0
        while len(self._buf) >= 4:
            (n,) = struct.unpack(">I", self._buf[:4])
            if len(self._buf) < 4 + n:
                break
            self._handle(json.loads(self._buf[4:4 + n]))
            self._buf = self._buf[4 + n:]
            count += 1
        return count

    def read(self, block=True):
        """Read and handle the frames that have arrived. With block, wait
        for at least one. Raise ConnectionError when the daemon closed the
        connection and TimeoutError after the timeout."""
        while True:
            if self._parse():
                block = False
            self.sock.settimeout(self.timeout if block else 0.0)
            try:
                chunk = self.sock.recv(65536)
            except BlockingIOError:
                return
            if not chunk:
                raise ConnectionError("tenantlogd closed the connection")
            self._buf += chunk

    def wait(self, seq, timeout=30.0):
        """Wait until every frame up to seq is acknowledged."""
        deadline = time.monotonic() + timeout
        while self.acked < seq:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no ack for frame {seq} after {timeout} s")
            self.read(block=True)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _field_value(value):
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


class Handler(logging.Handler):
    """Send log records to tenantlogd. The tenant and request id come from
    the record's ``tenant`` and ``request_id`` attributes (``extra=``), else
    from ``context()``. Other ``extra=`` values become typed fields.

    Unacknowledged frames are kept. After a lost connection the handler
    reconnects and sends them again, so a record can arrive twice but is
    not lost. ``flush()`` waits for every ack."""

    def __init__(self, path=DEFAULT_SOCKET, level=logging.NOTSET,
                 timeout=5.0, max_unacked=1000):
        super().__init__(level)
        self.path, self.timeout, self.max_unacked = path, timeout, max_unacked
        self.conn = None
        self.unacked = collections.deque()  # [seq or 0 when unsent, frame]
        self.dropped = 0  # oldest frames dropped while the daemon was down

    def frame(self, record):
        """Build the record frame for a LogRecord."""
        level = ("crit" if record.levelno >= logging.CRITICAL else
                 "error" if record.levelno >= logging.ERROR else
                 "warning" if record.levelno >= logging.WARNING else
                 "info" if record.levelno >= logging.INFO else "debug")
        frame = {"type": "record", "ts": _rfc3339(record.created),
                 "level": level, "logger": record.name,
                 "msg": record.getMessage(),
                 "tenant": tenant_var.get(), "request_id": request_id_var.get()}
        fields = {}
        for key, value in vars(record).items():
            if key in _CONTEXT_KEYS:
                frame[key] = None if value is None else str(value)
            elif key not in _RECORD_ATTRS:
                fields[key] = _field_value(value)
        if record.exc_info:
            fields["exception"] = logging.Formatter().formatException(
                record.exc_info)
        if fields:
            frame["fields"] = fields
        return frame

    def _forget_acked(self):
        while self.unacked and 0 < self.unacked[0][0] <= self.conn.acked:
            self.unacked.popleft()

    def _push(self):
        """Send every unsent frame, and reconnect once when the connection
        is lost. A new connection sends every unacked frame again."""
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = Connection(self.path, self.timeout)
                    for item in self.unacked:
                        item[0] = 0
                for item in self.unacked:
                    if item[0] == 0:
                        item[0] = self.conn.send(item[1])
                self.conn.read(block=False)
                while len(self.unacked) > self.max_unacked:
                    self.conn.read(block=True)
                    self._forget_acked()
                self._forget_acked()
                return
            except OSError:
                if self.conn is not None:
                    self.conn.close()
                    self.conn = None
                if attempt == 2:
                    raise

    def emit(self, record):
        try:
            if len(self.unacked) >= 10 * self.max_unacked:
                self.unacked.popleft()
                self.dropped += 1
            self.unacked.append([0, self.frame(record)])
            self._push()
        except Exception:
            self.handleError(record)

    def flush(self):
        with self.lock:
            if self.unacked:
                self._push()
                self.conn.wait(self.unacked[-1][0], self.timeout)
                self._forget_acked()

    def close(self):
        try:
            self.flush()
        finally:
            if self.conn is not None:
                self.conn.close()
                self.conn = None
            super().close()


def audit(action, *, actor, tenant=None, target=None, outcome="success",
          reason=None, request_id=None, source=None, details=None,
          path=DEFAULT_SOCKET, timeout=10.0):
    """Send one audit event and return its per-tenant sequence number once
    the daemon has committed it durably. ``actor`` and ``target`` are
    ``(type, id)`` pairs. Raise TenantlogError when the daemon rejects the
    event, and ConnectionError or TimeoutError when the outcome is unknown.
    The caller may then send it again, but the daemon does not drop
    duplicates yet, so a committed event would be stored twice."""
    frame = {"type": "audit", "tenant": tenant or tenant_var.get(),
             "actor": {"type": actor[0], "id": actor[1]}, "action": action,
             "outcome": outcome, "reason": reason, "source": source,
             "request_id": request_id or request_id_var.get()}
    if target is not None:
        frame["target"] = {"type": target[0], "id": target[1]}
    if details is not None:
        frame["details"] = details
    with Connection(path, timeout) as conn:
        seq = conn.send(frame)
        conn.wait(seq, timeout)
        for err in conn.errors:
            if err.seq == seq:
                raise err
        return conn.audit_seqs[seq]
