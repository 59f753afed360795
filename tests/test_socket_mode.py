"""Socket Mode end to end: `python app.py` with SLACK_APP_TOKEN, driven over a real WebSocket.

The app asks the fake Web API for a WebSocket URL (apps.connections.open with its app-level
token), connects to the fake Socket Mode server (tests/fake_socket_mode.py), is greeted with
``hello``, and from then on gets slash commands and clicks as envelopes, which it must
acknowledge with their envelope_id, as Slack requires, within 3 seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy.engine import URL

from calls_app.db import make_engine
from calls_app.models import CallState
from local_slack.app_requests import (
    app_home_opened_event,
    button_click_payload,
    event_envelope,
    slash_command_form,
)
from local_slack.web_api import FakeSlack
from tests.app_process import AppProcess, free_port, run_app
from tests.fake_socket_mode import (
    CLOSE_PROTOCOL_ERROR,
    OP_CLOSE,
    OP_TEXT,
    FakeSocketMode,
    SocketModeConnection,
    encode_frame,
)
from tests.support.app import Database, app_env
from tests.support.workspace import ALICE, BOB, GENERAL

pytestmark = pytest.mark.slow

APP_TOKEN = "xapp-1-A1-test"
ACK_TIMEOUT = 3.0  # Slack's limit for acknowledging an envelope
REPLY_TIMEOUT = 10.0
READY_TIMEOUT = 15.0


# --------------------------------------------------------------------------- payloads


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    with FakeSocketMode() as server:
        fake_slack.set_app_token(APP_TOKEN, url=server.url)
        yield server


@pytest.fixture
def db(database_url: URL) -> Iterator[Database]:
    engine = make_engine(database_url)
    yield Database(engine)
    engine.dispose()


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on (Linux: its socket fds against /proc/net/tcp*)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            next(lines)  # the header
            for line in lines:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and inode in inodes:  # 0A: LISTEN
                    ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def check_running(process: AppProcess) -> None:
    """Raise at once, with its output, if the app has exited: no use waiting any longer."""
    assert process.proc is not None
    if process.proc.poll() is not None:
        raise AssertionError(f"app exited with {process.proc.returncode}\n{process.output()}")


@dataclass
class SocketModeApp:
    process: AppProcess
    connection: SocketModeConnection  # the first one
    port: int  # PORT as set: in Socket Mode nothing may listen on it

    def check_running(self) -> None:
        check_running(self.process)

    def ack(self, envelope_id: str, connection: SocketModeConnection | None = None) -> dict:
        """The app's ack of ``envelope_id``, which must come within Slack's 3 seconds."""
        try:
            return (connection or self.connection).wait_for_ack(envelope_id, timeout=ACK_TIMEOUT)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.process.output()}") from None


@pytest.fixture
def app(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, database_url: URL, tmp_path: Path
) -> Iterator[SocketModeApp]:
    """`python app.py` in Socket Mode, ready: its WebSocket is open and has had its hello.

    Torn down before the fake servers and the database: the whole process group is killed.
    """
    settings = app_env(
        fake_slack, database_url, SLACK_APP_TOKEN=APP_TOKEN, CALLS_RECONCILE_INTERVAL="0"
    )
    port = free_port()
    process = AppProcess(settings, port=port, log_dir=tmp_path, name="socket-mode").start()
    try:
        connection = socket_mode.wait_for_connection(
            READY_TIMEOUT, check=lambda: check_running(process)
        )
        yield SocketModeApp(process=process, connection=connection, port=port)
    finally:
        process.stop()


# --------------------------------------------------------------------------- the app


def test_socket_mode_starts_and_ends_a_call(
    app: SocketModeApp, fake_slack: FakeSlack, socket_mode: FakeSocketMode, db: Database
) -> None:
    connection = app.connection

    # It checked its app-level token at start, asked for its URL with it, and serves no HTTP.
    checked, opened = fake_slack.attempts_to("apps.connections.open")
    assert checked.ok and opened.ok and opened.token == APP_TOKEN
    assert connection.path == socket_mode.path
    assert app.process.proc is not None
    assert listening_ports(app.process.proc.pid) == set(), f"PORT was {app.port}"

    # /call start Standup. calls.add is held until the ack is in: the ack must not wait for it.
    calls_add_gate = threading.Event()
    fake_slack.fail_next("calls.add", hang=calls_add_gate)
    response_url = fake_slack.new_response_url()
    sent_at = time.monotonic()
    command_envelope = connection.send_envelope(
        "slash_commands", slash_command_form("start Standup", user=ALICE, response_url=response_url)
    )
    try:
        ack = app.ack(command_envelope)
    finally:
        calls_add_gate.set()
    assert ack == {"envelope_id": command_envelope}  # acknowledged at once, with no body
    assert time.monotonic() - sent_at < ACK_TIMEOUT

    reply = fake_slack.wait_for_response(response_url, timeout=REPLY_TIMEOUT)
    assert "Started *Standup*" in reply["text"], reply
    assert reply["response_type"] == "ephemeral"
    (added,) = fake_slack.calls_to("calls.add")
    assert added["title"] == "Standup" and added["created_by"] == ALICE
    (slack_call,) = fake_slack.calls.values()
    (posted,) = fake_slack.calls_to("chat.postMessage")
    assert posted["channel"] == GENERAL
    assert {"type": "call", "call_id": slack_call.id} in posted["blocks"]
    (message,) = fake_slack.messages_in(GENERAL)

    call = db.only_call()
    assert call.state == CallState.ACTIVE, app.process.output()
    assert (call.title, call.created_by, call.channel_id) == ("Standup", ALICE, GENERAL)
    assert call.slack_call_id == slack_call.id
    assert call.message_ts == message.ts

    # End call, pressed on the call message by the person who started it.
    response_url = fake_slack.new_response_url()
    click_envelope = connection.send_envelope(
        "interactive",
        button_click_payload(
            "call_end",
            str(call.id),
            user=ALICE,
            response_url=response_url,
            message_ts=message.ts,
        ),
    )
    assert app.ack(click_envelope) == {"envelope_id": click_envelope}

    reply = fake_slack.wait_for_response(response_url, timeout=REPLY_TIMEOUT)
    assert "You ended *Standup*" in reply["text"], reply
    fake_slack.wait_for(
        lambda: db.call(call.id).state == CallState.ENDED,
        timeout=REPLY_TIMEOUT,
        message="the call ended in the database",
    )
    assert [args["id"] for args in fake_slack.calls_to("calls.end")] == [slack_call.id]
    assert slack_call.ended
    ended = db.call(call.id)
    assert ended.ended_by == ALICE and ended.duration_seconds is not None
    assert fake_slack.calls_to("chat.update"), "the call message shows the call ended"

    # The app sent nothing but one ack per envelope, and kept to the protocol.
    assert connection.received == [
        {"envelope_id": command_envelope},
        {"envelope_id": click_envelope},
    ]
    assert connection.protocol_errors == []
    assert connection.pings >= 1  # the client's keepalive, answered with pongs

    # SIGTERM stops it cleanly, and its WebSocket goes with it.
    app.process.signal(signal.SIGTERM)
    code = app.process.wait(timeout=25)
    assert code == 0, app.process.output()
    assert connection.wait_closed(5)


def test_an_event_delivered_again_is_acknowledged_and_acted_on_once(
    app: SocketModeApp, fake_slack: FakeSlack, db: Database
) -> None:
    delivery = event_envelope(app_home_opened_event(ALICE))
    first = app.connection.send_envelope("events_api", delivery)
    assert app.ack(first) == {"envelope_id": first}
    fake_slack.wait_for(lambda: fake_slack.calls_to("views.publish"), timeout=REPLY_TIMEOUT)
    # Slack sends it again (say the first ack was late): a new envelope, the same event_id.
    again = app.connection.send_envelope("events_api", delivery)
    assert app.ack(again) == {"envelope_id": again}
    other = app.connection.send_envelope("events_api", event_envelope(app_home_opened_event(BOB)))
    assert app.ack(other) == {"envelope_id": other}
    fake_slack.wait_for(
        lambda: [a["user_id"] for a in fake_slack.calls_to("views.publish")] == [ALICE, BOB],
        timeout=REPLY_TIMEOUT,
        message="one Home for Alice, one for Bob",
    )
    time.sleep(1.5)  # the outbox runs at once: a second publish for Alice would be here by now
    assert [a["user_id"] for a in fake_slack.calls_to("views.publish")] == [ALICE, BOB]


def test_socket_mode_reconnects_when_slack_says_disconnect(
    app: SocketModeApp, fake_slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    """Slack refreshes connections now and then: a fresh URL, a new socket, nothing lost."""
    first = app.connection
    first.send_disconnect("refresh_requested")
    second = socket_mode.wait_for_connection(READY_TIMEOUT, count=2, check=app.check_running)
    # slack-sdk's builtin client reads the new socket only once the old one is closed, which
    # takes it up to 3 s (its receive timeout): an envelope sent on the new socket before that
    # is acknowledged late (about 3.1 s after it was sent). Here: reconnecting, so wait.
    assert first.wait_closed(5)
    # the start-up check, the first connection, the second
    assert [r.token for r in fake_slack.attempts_to("apps.connections.open")] == [APP_TOKEN] * 3

    # `/call help` is answered in the ack itself: the envelope's response payload.
    response_url = fake_slack.new_response_url()
    envelope_id = second.send_envelope(
        "slash_commands", slash_command_form("help", user=ALICE, response_url=response_url)
    )
    ack = app.ack(envelope_id, second)
    assert ack["envelope_id"] == envelope_id
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "`start [title]" in ack["payload"]["text"]
    assert fake_slack.responses_to(response_url) == []
    assert first.protocol_errors == second.protocol_errors == []


# --------------------------------------------------------------------------- the fakes


def test_apps_connections_open_takes_app_level_tokens_only(fake_slack: FakeSlack) -> None:
    fake_slack.set_app_token(APP_TOKEN, url="ws://127.0.0.1:9/link/?ticket=t")
    client = WebClient(base_url=fake_slack.base_url, retry_handlers=[])
    assert client.apps_connections_open(app_token=APP_TOKEN)["url"] == (
        "ws://127.0.0.1:9/link/?ticket=t"
    )
    for token, error in (
        ("xapp-1-A1-wrong", "invalid_auth"),
        (fake_slack.bot_token, "not_allowed_token_type"),
    ):
        with pytest.raises(SlackApiError) as refused:
            client.apps_connections_open(app_token=token)
        assert refused.value.response["error"] == error
    # and an app-level token is no bot token
    with pytest.raises(SlackApiError) as refused:
        WebClient(base_url=fake_slack.base_url, token=APP_TOKEN, retry_handlers=[]).auth_test()
    assert refused.value.response["error"] == "invalid_auth"


def test_fake_server_talks_to_slack_sdks_own_client(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    """The fake server against slack-sdk's builtin client, with no app in between."""
    hellos: list[dict] = []

    def on_request(client: SocketModeClient, request: SocketModeRequest) -> None:
        client.send_socket_mode_response(
            SocketModeResponse(request.envelope_id, payload={"echo": request.payload["n"]})
        )

    client = SocketModeClient(
        app_token=APP_TOKEN,
        web_client=WebClient(base_url=fake_slack.base_url, retry_handlers=[]),
        auto_reconnect_enabled=False,
    )
    client.message_listeners.append(
        lambda _client, message, _raw: (
            hellos.append(message) if message.get("type") == "hello" else None
        )
    )
    client.socket_mode_request_listeners.append(on_request)
    try:
        client.connect()
        connection = socket_mode.wait_for_connection(5)
        big = "x" * 70_000  # a frame with a 64-bit length, in the server's direction
        envelope_id = connection.send_envelope("events_api", {"n": 1, "big": big})
        assert connection.wait_for_ack(envelope_id) == {
            "envelope_id": envelope_id,
            "payload": {"echo": 1},
        }
        connection.ping(b"are you there")
        _eventually(lambda: hellos and connection.pongs == 1)
        assert hellos[0]["connection_info"] == {"app_id": socket_mode.app_id}
        connection.close()
        assert connection.wait_closed(5)
        assert connection.protocol_errors == [] and connection.pings >= 1
        # (slack-sdk's close() races its own reader dropping the socket: let that finish)
        _eventually(lambda: not client.is_connected())
    finally:
        client.close()


def _eventually(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not true within {timeout}s"
        time.sleep(0.02)


def _server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each unmasked frame in ``data``."""
    frames = []
    while data:
        opcode, length, start = data[0] & 0x0F, data[1] & 0x7F, 2
        if length == 126:
            length, start = struct.unpack("!H", data[2:4])[0], 4
        elif length == 127:
            length, start = struct.unpack("!Q", data[2:10])[0], 10
        frames.append((opcode, data[start : start + length]))
        data = data[start + length :]
    return frames


def test_fake_server_refuses_unmasked_client_frames(socket_mode: FakeSocketMode) -> None:
    with socket.create_connection(("127.0.0.1", socket_mode.port), timeout=5) as sock:
        sock.sendall(
            (
                f"GET {socket_mode.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 101 ")
        assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in answer  # RFC 6455 §1.3
        connection = socket_mode.wait_for_connection(5)
        sock.sendall(encode_frame(OP_TEXT, b"{}"))  # as a server would: unmasked
        assert connection.wait_closed(5)
        rest = answer.partition(b"\r\n\r\n")[2]
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            rest += chunk
    (hello_op, hello), (close_op, close) = _server_frames(rest)
    assert hello_op == OP_TEXT and b'"hello"' in hello
    assert close_op == OP_CLOSE and struct.unpack("!H", close[:2])[0] == CLOSE_PROTOCOL_ERROR
    assert any("must be masked" in p for p in connection.protocol_errors)


def test_sigterm_lets_acknowledged_work_finish(
    app: SocketModeApp, fake_slack: FakeSlack, db: Database
) -> None:
    """A deploy stops the app mid-command: what was acknowledged still happens."""
    calls_add_gate = threading.Event()
    fake_slack.fail_next("calls.add", hang=calls_add_gate)
    response_url = fake_slack.new_response_url()
    envelope = app.connection.send_envelope(
        "slash_commands", slash_command_form("start Standup", user=ALICE, response_url=response_url)
    )
    app.ack(envelope)
    app.process.signal(signal.SIGTERM)
    threading.Timer(0.5, calls_add_gate.set).start()
    assert app.process.wait(timeout=25) == 0, app.process.output()
    assert "Started *Standup*" in fake_slack.wait_for_response(response_url)["text"]
    call = db.only_call()
    assert call.state == CallState.ACTIVE and call.message_ts is not None


def test_a_refused_app_token_stops_the_app_with_one_line(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, database_url: URL, tmp_path: Path
) -> None:
    settings = app_env(fake_slack, database_url, SLACK_APP_TOKEN="xapp-1-A1-not-this-one")
    done = run_app(settings, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "calls-app: SLACK_APP_TOKEN: Slack refused it (invalid_auth)."
    ]
