"""Client for tenantlogd's native protocol, using the standard library only.

- ``Handler`` is a ``logging.Handler`` that sends each record to the daemon.
- ``audit()`` sends one audit event and returns once the daemon has
  committed it.
- ``context()`` sets the tenant and request id for the current thread or
  asyncio task.

Usage::

    import logging
    import tenantlog_client

    logging.basicConfig(level=logging.INFO,
                        handlers=[tenantlog_client.Handler()])
    log = logging.getLogger("shop")
    with tenantlog_client.context(tenant="acme", request_id="req-1"):
        log.info("order placed", extra={"order": 42, "items": ["a", "b"]})
    log.warning("stock low", extra={"tenant": "acme", "sku": "X-1"})

    audit_seq = tenantlog_client.audit(
        "db.insert", tenant="acme", actor=("user", "u1"),
        target=("table", "orders"), details={"rows": 1})

Socket path: ``Handler``, ``audit()`` and ``Connection`` connect to their
``path`` argument, else to the path in the environment variable
``TENANTLOG_SOCKET`` (read when the handler or connection is created),
else to ``./var/tenantlogd.sock``, the daemon's default ``daemon.socket``.
A failed connect raises the ``OSError`` subclass of the cause (such as
``FileNotFoundError`` or ``ConnectionRefusedError``) with a message that
names the path.

Fields: ``extra=`` values other than the tenant, request, trace and span
ids become typed fields. Strings, booleans, integers and finite floats keep
their type. Dicts, lists, tuples and ``None`` are sent as JSON values (up
to 32 levels deep), which the daemon stores as their compact JSON text
(``{"a":1}``). Integers outside
64 bits, NaN, infinities and any other object are sent as ``str(value)``.

Errors and ``Handler.dropped``: the daemon rejects an invalid record with
an error frame (docs/protocol.md lists the codes), for example a record
with a ``request_id`` longer than 128 bytes or a logger name longer than
256 bytes. The handler counts each such record in ``dropped`` and reports it
through ``Handler.handleError``, as for any other failure in ``emit()``.
By default, with ``logging.raiseExceptions`` true, that prints a traceback
ending in ``TenantlogError: <code>: <message>`` and the record's message to
stderr. Override ``handleError`` to report it elsewhere. Error frames
arrive after the record was sent, so the report can come during a later
``emit()`` or ``flush()``. ``dropped`` also counts records that could not be
encoded (a frame over 1 MiB) and the oldest unsent records, discarded when
more than ``10 * max_unacked`` wait while the daemon is unreachable.
NOTE: a ``write_failed`` rejection is counted too, although the daemon
wrote that record to its own standard error instead of its sinks.

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
import re
import socket
import struct
import time

DEFAULT_SOCKET = "./var/tenantlogd.sock"
FRAME_MAX = 1 << 20

tenant_var = contextvars.ContextVar("tenantlog_tenant", default=None)
request_id_var = contextvars.ContextVar("tenantlog_request_id", default=None)

# Attributes every LogRecord has. Any other attribute came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {
    "message", "asctime", "taskName"}
_CONTEXT_KEYS = ("tenant", "request_id", "trace_id", "span_id")
_INT64 = (-(1 << 63), (1 << 63) - 1)
# Bytes that send_body() adds to an encoded frame: "seq":<20 digits>,
_SEQ_RESERVE = 27
# Nesting depth of extra= values sent as JSON. Deeper values (and cyclic
# ones) are sent as str(value).
_NEST_MAX = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class TenantlogError(Exception):
    """An error frame from the daemon. ``code`` is stable, and ``seq`` is the
    rejected frame's sequence number (0 when the frame had none)."""

    def __init__(self, code, message, seq=0):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.seq = seq


def socket_path(path=None):
    """Return path, else $TENANTLOG_SOCKET, else DEFAULT_SOCKET."""
    return path or os.environ.get("TENANTLOG_SOCKET") or DEFAULT_SOCKET


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


def encode(frame):
    """Encode frame (a dict without "seq") as a frame body for send_body().
    A lone surrogate, as os.fsdecode() makes from undecodable bytes,
    becomes U+FFFD, because the daemon rejects invalid UTF-8. Raise
    ValueError when the frame would be larger than FRAME_MAX."""
    text = json.dumps(frame, separators=(",", ":"), allow_nan=False,
                      ensure_ascii=False)
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        body = _SURROGATE.sub("\ufffd", text).encode("utf-8")
    if len(body) + _SEQ_RESERVE > FRAME_MAX:
        raise ValueError(f"frame of {len(body)} bytes is larger than the "
                         f"maximum of {FRAME_MAX - _SEQ_RESERVE}")
    return body


def _connect_error(exc, path):
    """Return exc's OSError subclass with a message that names path."""
    cause = exc.strerror or str(exc)
    text = (f"failed to connect to tenantlogd at {path}: {cause}. Check "
            f"that tenantlogd is running and that {path} is its native "
            f"socket (daemon.socket in its configuration).")
    return type(exc)(exc.errno, text) if exc.errno else type(exc)(text)


class Connection:
    """One connection to the daemon. Not thread-safe.

    Error frames are passed to on_error(TenantlogError) when it is given,
    else kept in ``errors`` (the last 100)."""

    def __init__(self, path=None, timeout=30.0, on_error=None):
        self.path = socket_path(path)
        self.timeout = timeout
        self.on_error = on_error
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(self.path)
        except OSError as exc:
            self.sock.close()
            raise _connect_error(exc, self.path) from None
        self.seq = 0
        self.acked = 0
        self.audit_seqs = {}  # frame seq -> per-tenant audit seq
        self.errors = collections.deque(maxlen=100)  # TenantlogError
        self._buf = b""

    def send(self, frame):
        """Send frame (a dict without "seq") and return its seq."""
        return self.send_body(encode(frame))

    def send_body(self, body):
        """Send body, from encode(), with the next seq and return the seq."""
        seq = self.seq + 1
        if body == b"{}":
            data = b'{"seq":%d}' % seq
        else:
            data = b'{"seq":%d,' % seq + body[1:]
        self.sock.settimeout(self.timeout)
        self.sock.sendall(struct.pack(">I", len(data)) + data)
        self.seq = seq
        return seq

    def _handle(self, frame):
        kind, seq = frame.get("type"), frame.get("seq", 0)
        if kind == "ack":
            self.acked = max(self.acked, seq)
        elif kind == "audit_ack":
            self.audit_seqs[seq] = frame["audit_seq"]
        elif kind == "error":
            err = TenantlogError(frame.get("code", ""),
                                 frame.get("message", ""), seq)
            if self.on_error is not None:
                self.on_error(err)
            else:
                self.errors.append(err)

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


def _field_value(value, depth=0):
    """Convert an extra= value to the JSON value sent for it."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth < _NEST_MAX and isinstance(value, dict):
        # Keys become strings. Two keys with the same str() keep the last
        # value, because the daemon rejects duplicate member names.
        return {str(key): _field_value(item, depth + 1)
                for key, item in value.items()}
    if depth < _NEST_MAX and isinstance(value, (list, tuple)):
        return [_field_value(item, depth + 1) for item in value]
    return str(value)


class Handler(logging.Handler):
    """Send log records to tenantlogd. The tenant and request id come from
    the record's ``tenant`` and ``request_id`` attributes (``extra=``), else
    from ``context()``. Other ``extra=`` values become typed fields.

    Unacknowledged frames are kept. After a lost connection the handler
    reconnects and sends them again, so a record can arrive twice but is
    not lost. ``flush()`` waits for every ack.

    ``dropped`` counts the records that did not reach the daemon's sinks,
    as the module documentation describes. The handler also reports each
    record that the daemon rejected through ``handleError``."""

    def __init__(self, path=None, level=logging.NOTSET, timeout=5.0,
                 max_unacked=1000):
        super().__init__(level)
        self.path = socket_path(path)
        self.timeout, self.max_unacked = timeout, max_unacked
        self.conn = None
        # [seq or 0 when unsent, encoded frame, LogRecord], in send order
        self.unacked = collections.deque()
        self.dropped = 0

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

    def _report(self, err, record):
        """Pass err to handleError as the exception being handled."""
        try:
            raise err
        except TenantlogError:
            self.handleError(record)

    def _rejected(self, err):
        """Count and report the record that error frame err rejected."""
        item = None
        if err.seq > 0:
            item = next((i for i in self.unacked if i[0] == err.seq), None)
        if item is None:
            # The frame is no longer kept, or the error has no seq.
            self._report(err, logging.makeLogRecord(
                {"msg": f"error frame for frame {err.seq} from tenantlogd"}))
            return
        # Removed at once, so that a resend after a lost connection
        # cannot count it twice.
        self.unacked.remove(item)
        self.dropped += 1
        self._report(err, item[2])

    def _push(self):
        """Send every unsent frame, and reconnect once when the connection
        is lost. A new connection sends every unacked frame again."""
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = Connection(self.path, self.timeout,
                                           self._rejected)
                    for item in self.unacked:
                        item[0] = 0
                for item in self.unacked:
                    if item[0] == 0:
                        item[0] = self.conn.send_body(item[1])
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
            body = encode(self.frame(record))
        except Exception:
            self.dropped += 1
            self.handleError(record)
            return
        try:
            if len(self.unacked) >= 10 * self.max_unacked:
                self.unacked.popleft()
                self.dropped += 1
            self.unacked.append([0, body, record])
            self._push()
        except Exception:
            self.handleError(record)

    def flush(self):
        with self.lock:
            if self.unacked:
                self._push()
            if self.unacked:
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
          path=None, timeout=10.0):
    """Send one audit event and return its per-tenant sequence number once
    the daemon has committed it durably. ``actor`` and ``target`` are
    ``(type, id)`` pairs. ``path`` is as for ``Handler``. Raise
    TenantlogError when the daemon rejects the event, and OSError when the
    connect fails. Raise ConnectionError or TimeoutError when the outcome
    is unknown. The caller may then send it again, but the daemon does not
    drop duplicates yet, so a committed event would be stored twice."""
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
