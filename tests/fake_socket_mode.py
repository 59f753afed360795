"""A fake Socket Mode server: Slack's end of the WebSocket a Socket Mode app keeps open.

A Socket Mode app calls ``apps.connections.open`` with its app-level token (``FakeSlack``
answers it with this server's ``url``, see ``FakeSlack.set_app_token``), opens a WebSocket to
that URL, and is greeted with a ``hello``. Slack then sends it *envelopes*::

    {"envelope_id": "…", "type": "slash_commands" | "interactive" | "events_api",
     "payload": {…}, "accepts_response_payload": true}

and the app acknowledges each with ``{"envelope_id": "…"}`` (plus ``"payload"`` when it
answers with a body), as it would answer an HTTP request with a 200.

The server is a small RFC 6455 implementation on the standard library, on loopback only:
the opening handshake (``Sec-WebSocket-Accept``), masked client frames (an unmasked one is a
protocol error, as the RFC says), unmasked server frames, fragmented messages, ping/pong and
the closing handshake. Every wait is bounded.

Usage::

    server = FakeSocketMode().start()
    fake_slack.set_app_token("xapp-1-A1-test", url=server.url)
    ...start the app...
    connection = server.wait_for_connection(timeout=15)   # connected, and greeted
    envelope_id = connection.send_envelope("slash_commands", {...})
    ack = connection.wait_for_ack(envelope_id, timeout=3)
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import itertools
import json
import secrets
import select
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
APP_ID = "A123456"

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009

MAX_HANDSHAKE_BYTES = 16 * 1024
MAX_MESSAGE_BYTES = 1024 * 1024
POLL_SECONDS = 0.1  # how often blocked reads look at the stop flag
IO_TIMEOUT = 5.0  # any single send, and the opening handshake, must finish within this


class ProtocolError(Exception):
    """The client broke RFC 6455; the connection is closed with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept answering a Sec-WebSocket-Key."""
    digest = hashlib.sha1((key + WEBSOCKET_GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def encode_frame(opcode: int, payload: bytes, *, fin: bool = True) -> bytes:
    """A server frame: never masked (RFC 6455 §5.1)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    length = len(payload)
    if length <= 125:
        head += bytes([length])
    elif length <= 0xFFFF:
        head += bytes([126]) + struct.pack("!H", length)
    else:
        head += bytes([127]) + struct.pack("!Q", length)
    return head + payload


def _unmask(data: bytes, mask: bytes) -> bytes:
    return bytes(b ^ m for b, m in zip(data, itertools.cycle(mask), strict=False))


class _Reader:
    """Exact-size reads from a socket, noticing ``stopping`` and EOF (both give None)."""

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self._sock = sock
        self._stopping = stopping
        self._buffer = b""

    def _fill(self, deadline: float | None) -> bool:
        while not self._stopping.is_set():
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("the client took too long")
            try:
                ready, _, _ = select.select([self._sock], [], [], POLL_SECONDS)
            except (OSError, ValueError):
                return False
            if not ready:
                continue
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                return False
            if not chunk:
                return False
            self._buffer += chunk
            return True
        return False

    def read_exactly(self, size: int) -> bytes | None:
        while len(self._buffer) < size:
            if not self._fill(None):
                return None
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def read_head(self, timeout: float) -> bytes | None:
        """The HTTP request head, less the blank line that ends it."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self._buffer:
            if len(self._buffer) > MAX_HANDSHAKE_BYTES:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "handshake request too large")
            if not self._fill(deadline):
                return None
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        return head


class SocketModeConnection:
    """One WebSocket an app opened; what it sent is in ``received`` (decoded JSON)."""

    def __init__(self, server: FakeSocketMode, sock: socket.socket, number: int) -> None:
        self.server = server
        self.number = number
        self.path: str | None = None
        self.headers: dict[str, str] = {}
        self.received: list[Any] = []  # every text message, JSON-decoded when it is JSON
        self.pings = 0  # pings the client sent (each answered with a pong)
        self.pongs = 0
        self.protocol_errors: list[str] = []
        self.close_code: int | None = None  # the code the client sent, if it sent a close
        self.open = threading.Event()  # handshake done (and hello sent when the server says so)
        self.closed = threading.Event()
        self._sock = sock
        self._send_lock = threading.Lock()
        self._close_sent = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"fake-socket-mode-{number}", daemon=True
        )

    # ------------------------------------------------------------------ sending

    def send_text(self, text: str) -> None:
        self._send_frame(OP_TEXT, text.encode("utf-8"))

    def send_json(self, message: dict) -> None:
        self.send_text(json.dumps(message))

    def send_envelope(
        self,
        envelope_type: str,
        payload: dict,
        *,
        accepts_response_payload: bool | None = None,
        envelope_id: str | None = None,
    ) -> str:
        """Send an envelope as Slack does; returns its envelope_id.

        ``accepts_response_payload`` defaults to Slack's: true for slash commands, and for
        interactive payloads that may be answered with a body (view submissions, options).
        """
        envelope_id = envelope_id or str(uuid.uuid4())
        if accepts_response_payload is None:
            kind = payload.get("type")
            accepts_response_payload = envelope_type == "slash_commands" or kind in (
                "view_submission",
                "block_suggestion",
            )
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": envelope_type,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        self.send_json(envelope)
        return envelope_id

    def send_hello(self) -> None:
        self.send_json(
            {
                "type": "hello",
                "num_connections": self.server.open_connections() + (not self.open.is_set()),
                "debug_info": {
                    "host": "applink-fake",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.server.app_id},
            }
        )

    def send_disconnect(self, reason: str = "warning") -> None:
        """Slack's notice that it is about to drop this connection; the app should reconnect."""
        self.send_json(
            {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": "applink-fake"},
            }
        )

    def ping(self, payload: bytes = b"") -> None:
        self._send_frame(OP_PING, payload)

    def close(self, code: int = CLOSE_NORMAL, reason: str = "", timeout: float = 2.0) -> None:
        """Start the closing handshake; drop the socket after ``timeout`` regardless."""
        with contextlib.suppress(OSError):
            self._send_close(code, reason)
        if not self.closed.wait(timeout):
            self._stopping.set()
            self.closed.wait(timeout)

    def _send_close(self, code: int, reason: str = "") -> None:
        with self._send_lock:
            if self._close_sent:
                return
            self._close_sent = True
            frame = encode_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode()[:123])
            self._sock.sendall(frame)

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            if self._close_sent or self.closed.is_set():
                raise ConnectionError(f"connection {self.number} is closing or closed")
            self._sock.sendall(encode_frame(opcode, payload))

    # ------------------------------------------------------------------ waiting

    def wait_for_message(
        self, predicate: Callable[[Any], bool], timeout: float, what: str = "a message"
    ) -> Any:
        """The first message received (or to come within ``timeout``) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        with self.server.changed:
            while True:
                for message in self.received:
                    if predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed.is_set():
                    state = "closed" if self.closed.is_set() else "open"
                    raise AssertionError(
                        f"no {what} on connection {self.number} ({state}) within {timeout}s; "
                        f"received {self.received!r}; protocol errors {self.protocol_errors!r}"
                    )
                self.server.changed.wait(min(remaining, POLL_SECONDS))

    def wait_for_ack(self, envelope_id: str, timeout: float = 3.0) -> dict:
        """The app's acknowledgement of ``envelope_id``: ``{"envelope_id", ["payload"]}``."""
        return self.wait_for_message(
            lambda m: isinstance(m, dict) and m.get("envelope_id") == envelope_id,
            timeout,
            what=f"ack of envelope {envelope_id}",
        )

    def wait_closed(self, timeout: float) -> bool:
        return self.closed.wait(timeout)

    # ------------------------------------------------------------------ the connection's thread

    def _run(self) -> None:
        reader = _Reader(self._sock, self._stopping)
        try:
            if not self._handshake(reader):
                return
            self._opened()
            self._receive(reader)
        except ProtocolError as error:
            self._fail(error)
        except (OSError, TimeoutError) as error:
            self._note(f"connection error: {error!r}")
        finally:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._mark_closed()

    def _opened(self) -> None:
        if self.server.send_hello_on_connect:
            self.send_hello()
        with self.server.changed:
            self.open.set()
            self.server.changed.notify_all()

    def _handshake(self, reader: _Reader) -> bool:
        head = reader.read_head(IO_TIMEOUT)
        if head is None:
            return False
        try:
            text = head.decode("ascii")
        except UnicodeDecodeError:
            return self._refuse(400, "handshake is not ASCII")
        request_line, *header_lines = text.split("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3 or parts[0] != "GET" or parts[2] != "HTTP/1.1":
            return self._refuse(400, f"not a WebSocket opening request: {request_line!r}")
        self.path = parts[1]
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep:
                return self._refuse(400, f"malformed header line {line!r}")
            self.headers[name.strip().lower()] = value.strip()
        if self.path != self.server.path:
            return self._refuse(404, f"unknown path {self.path!r}")
        if self.headers.get("upgrade", "").lower() != "websocket":
            return self._refuse(400, "missing Upgrade: websocket")
        connection_tokens = {
            t.strip().lower() for t in self.headers.get("connection", "").split(",")
        }
        if "upgrade" not in connection_tokens:
            return self._refuse(400, "missing Connection: Upgrade")
        if self.headers.get("sec-websocket-version") != "13":
            return self._refuse(426, "Sec-WebSocket-Version must be 13")
        key = self.headers.get("sec-websocket-key", "")
        try:
            valid_key = len(base64.b64decode(key, validate=True)) == 16
        except binascii.Error:
            valid_key = False
        if not valid_key:
            return self._refuse(400, f"bad Sec-WebSocket-Key {key!r}")
        response = (
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(key)}\r\n"
            "\r\n"
        )
        with self._send_lock:
            self._sock.sendall(response.encode("ascii"))
        return True

    def _refuse(self, status: int, reason: str) -> bool:
        self._note(f"handshake refused ({status}): {reason}")
        body = reason.encode()
        response = (
            f"HTTP/1.1 {status} Refused\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        with contextlib.suppress(OSError), self._send_lock:
            self._sock.sendall(response + body)
        return False

    def _read_frame(self, reader: _Reader) -> tuple[bool, int, bytes] | None:
        head = reader.read_exactly(2)
        if head is None:
            return None
        first, second = head
        fin, opcode = bool(first & 0x80), first & 0x0F
        if first & 0x70:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "reserved bits set without an extension")
        if not second & 0x80:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "a client frame must be masked")
        length = second & 0x7F
        if length == 126:
            extended = reader.read_exactly(2)
            if extended is None:
                return None
            (length,) = struct.unpack("!H", extended)
        elif length == 127:
            extended = reader.read_exactly(8)
            if extended is None:
                return None
            (length,) = struct.unpack("!Q", extended)
        if opcode >= OP_CLOSE and (length > 125 or not fin):
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "control frames are short and unfragmented")
        if length > MAX_MESSAGE_BYTES:
            raise ProtocolError(CLOSE_TOO_BIG, f"a {length}-byte frame is too big")
        mask = reader.read_exactly(4)
        data = reader.read_exactly(length) if mask is not None else None
        if mask is None or data is None:
            return None
        return fin, opcode, _unmask(data, mask)

    def _receive(self, reader: _Reader) -> None:
        fragments: list[bytes] | None = None
        fragmented_opcode = OP_TEXT
        while True:
            frame = self._read_frame(reader)
            if frame is None:
                return
            fin, opcode, payload = frame
            if opcode == OP_PING:
                with self.server.changed:
                    self.pings += 1
                with contextlib.suppress(ConnectionError):
                    self._send_frame(OP_PONG, payload)
            elif opcode == OP_PONG:
                with self.server.changed:
                    self.pongs += 1
            elif opcode == OP_CLOSE:
                self._closed_by_client(payload)
                return
            elif opcode in (OP_TEXT, OP_BINARY):
                if fragments is not None:
                    raise ProtocolError(CLOSE_PROTOCOL_ERROR, "a new message before the last ended")
                if fin:
                    self._deliver(opcode, payload)
                else:
                    fragments, fragmented_opcode = [payload], opcode
            elif opcode == OP_CONTINUATION:
                if fragments is None:
                    raise ProtocolError(CLOSE_PROTOCOL_ERROR, "a continuation of no message")
                fragments.append(payload)
                if sum(map(len, fragments)) > MAX_MESSAGE_BYTES:
                    raise ProtocolError(CLOSE_TOO_BIG, "message too big")
                if fin:
                    self._deliver(fragmented_opcode, b"".join(fragments))
                    fragments = None
            else:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")

    def _closed_by_client(self, payload: bytes) -> None:
        if len(payload) == 1:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "a close frame with a 1-byte body")
        code = struct.unpack("!H", payload[:2])[0] if payload else 1005
        with self.server.changed:
            self.close_code = code
        with contextlib.suppress(OSError):  # echo it, unless we started the closing handshake
            self._send_close(code if payload else CLOSE_NORMAL)

    def _deliver(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_BINARY:
            raise ProtocolError(CLOSE_UNSUPPORTED_DATA, "Socket Mode speaks text frames only")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(CLOSE_INVALID_DATA, "a text frame that is not UTF-8") from None
        try:
            message: Any = json.loads(text)
        except ValueError:
            self._note(f"not JSON: {text[:200]!r}")
            message = text
        with self.server.changed:
            self.received.append(message)
            self.server.changed.notify_all()

    def _fail(self, error: ProtocolError) -> None:
        self._note(f"protocol error: {error.reason}")
        with contextlib.suppress(OSError):
            self._send_close(error.code, error.reason)

    def _note(self, problem: str) -> None:
        with self.server.changed:
            self.protocol_errors.append(problem)
            self.server.changed.notify_all()

    def _mark_closed(self) -> None:
        with self.server.changed:
            self.closed.set()
            self.server.changed.notify_all()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        if not self.closed.is_set() and self.open.is_set():
            with contextlib.suppress(OSError):
                self._send_close(CLOSE_GOING_AWAY, "server stopping")
        self._stopping.set()
        self._thread.join(timeout)


class FakeSocketMode:
    """Slack's Socket Mode endpoint on 127.0.0.1; one thread per connection."""

    def __init__(self, *, app_id: str = APP_ID, send_hello_on_connect: bool = True) -> None:
        self.app_id = app_id
        self.send_hello_on_connect = send_hello_on_connect
        self.connections: list[SocketModeConnection] = []
        self.changed = threading.Condition()
        self.url = ""
        self.path = ""
        self.port = 0
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> FakeSocketMode:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(POLL_SECONDS)
        self._listener = listener
        self.port = listener.getsockname()[1]
        # Like Slack's: a path with a one-off ticket; the client must ask for exactly this.
        self.path = f"/link/?ticket={secrets.token_hex(16)}&app_id={self.app_id}"
        self.url = f"ws://127.0.0.1:{self.port}{self.path}"
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept, name="fake-socket-mode", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self.changed:
            connections = list(self.connections)
        for connection in connections:
            connection.stop(timeout)

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def open_connections(self) -> int:
        with self.changed:
            return sum(1 for c in self.connections if c.open.is_set() and not c.closed.is_set())

    def wait_for_connection(
        self, timeout: float = 15.0, *, count: int = 1, check: Callable[[], None] | None = None
    ) -> SocketModeConnection:
        """The ``count``-th connection, once open (and greeted with hello).

        ``check`` runs while waiting and may raise to stop early (say, the app exited).
        """
        deadline = time.monotonic() + timeout
        while True:
            if check is not None:
                check()
            with self.changed:
                opened = [c for c in self.connections if c.open.is_set()]
                if len(opened) >= count:
                    return opened[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    problems = [p for c in self.connections for p in c.protocol_errors]
                    raise AssertionError(
                        f"{len(opened)} of {count} Socket Mode connection(s) opened within "
                        f"{timeout}s; {len(self.connections)} attempted; problems: {problems!r}"
                    )
                self.changed.wait(min(remaining, POLL_SECONDS))

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(IO_TIMEOUT)  # bounds every send; reads poll with select
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.changed:
                connection = SocketModeConnection(self, sock, len(self.connections) + 1)
                self.connections.append(connection)
                self.changed.notify_all()
            connection.start()


__all__ = [
    "FakeSocketMode",
    "ProtocolError",
    "SocketModeConnection",
    "accept_key",
    "encode_frame",
]
