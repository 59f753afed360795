"""The real entry point, `python app.py`, as a process: start-up checks, serving, stopping.

The fake Slack runs in the test process and is reached over HTTP; the app under test is a
child process (gunicorn and its workers), started, signalled and killed as in production.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy.engine import URL, make_url

from calls_app.db import make_engine
from calls_app.installations import installation_store
from calls_app.models import CallState
from calls_app.web import BODY_DEADLINE_SECONDS
from local_slack.app_requests import SIGNING_SECRET, get, post
from local_slack.web_api import FakeSlack
from tests.app_process import free_port, run_app
from tests.support.app import Database, app_env, migrate, settle
from tests.support.process import StartApp, command, driver
from tests.support.workspace import ALICE

pytestmark = pytest.mark.slow

FORM = "application/x-www-form-urlencoded"


class Gate(threading.Event):
    """A ``hang`` for FakeSlack.fail_next that also tells when a request has reached it."""

    def __init__(self) -> None:
        super().__init__()
        self.reached = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.reached.set()
        return super().wait(timeout)


def one_error_line(stderr: str) -> str:
    """The one `calls-app: …` line a start-up error prints."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("calls-app: ")]
    assert len(lines) == 1, stderr
    return lines[0]


def assert_no_secret(output: str, fake: FakeSlack, *more: str) -> None:
    for secret in (fake.bot_token, SIGNING_SECRET, *more):
        assert secret not in output, f"a secret leaked: {output!r}"


# ---------------------------------------------------------------------------------- start-up


CONFIG_ERRORS = {
    "missing signing secret": ({"SLACK_SIGNING_SECRET": None}, "SLACK_SIGNING_SECRET"),
    "missing bot token": ({"SLACK_BOT_TOKEN": None}, "SLACK_BOT_TOKEN"),
    "user token": ({"SLACK_BOT_TOKEN": "xoxp-1234-secret-user-token"}, "SLACK_BOT_TOKEN"),
    "port not a number": ({"PORT": "abc"}, "PORT"),
    "port out of range": ({"PORT": "70000"}, "PORT"),
    "unknown database": ({"DATABASE_URL": "nonsense://x"}, "DATABASE_URL"),
    "ftp api url": ({"SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
    "template without url": ({"CALLS_JOIN_URL_PROVIDER": "template"}, "CALLS_JOIN_URL_TEMPLATE"),
}


@pytest.mark.parametrize("change, setting", CONFIG_ERRORS.values(), ids=CONFIG_ERRORS.keys())
def test_a_bad_setting_stops_the_app_with_one_line_naming_it(
    fake_slack: FakeSlack, tmp_path: Path, change: dict[str, str | None], setting: str
) -> None:
    url = make_url(f"sqlite:///{tmp_path / 'calls.db'}")
    settings = app_env(fake_slack, url, PORT=str(free_port()))
    for key, value in change.items():
        if value is None:
            settings.pop(key)
        else:
            settings[key] = value

    result = run_app(settings, cwd=tmp_path)

    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    line = result.stderr.rstrip("\n")
    assert line.startswith("calls-app: "), line
    assert setting in line, line
    assert result.stdout == ""
    assert_no_secret(result.stderr, fake_slack, "xoxp-1234-secret-user-token")
    assert fake_slack.requests == []  # stopped before anything reached Slack


def test_an_unmigrated_database_stops_the_app(fake_slack: FakeSlack, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    settings = app_env(fake_slack, make_url(f"sqlite:///{empty}"), PORT=str(free_port()))

    result = run_app(settings, cwd=tmp_path)

    assert result.returncode == 2, result
    line = one_error_line(result.stderr)
    assert "alembic upgrade head" in line, line
    assert_no_secret(result.stderr, fake_slack)
    assert fake_slack.requests == []


def test_a_token_slack_refuses_stops_the_app(fake_slack: FakeSlack, tmp_path: Path) -> None:
    url = make_url(f"sqlite:///{tmp_path / 'calls.db'}")
    migrate(url)
    fake_slack.fail_next("auth.test", error="invalid_auth")

    result = run_app(app_env(fake_slack, url, PORT=str(free_port())), cwd=tmp_path)

    assert result.returncode == 2, result
    line = one_error_line(result.stderr)
    assert "SLACK_BOT_TOKEN" in line and "invalid_auth" in line, line
    assert_no_secret(result.stderr, fake_slack)
    assert [r.method for r in fake_slack.requests] == ["auth.test"]


@pytest.mark.parametrize("problem", ["unmigrated", "invalid_auth"])
def test_a_startup_error_about_the_database_or_token_is_the_only_line(
    fake_slack: FakeSlack, tmp_path: Path, problem: str
) -> None:
    url = make_url(f"sqlite:///{tmp_path / 'calls.db'}")
    if problem == "unmigrated":
        (tmp_path / "calls.db").touch()
    else:
        migrate(url)
        fake_slack.fail_next("auth.test", error="invalid_auth")

    result = run_app(app_env(fake_slack, url, PORT=str(free_port())), cwd=tmp_path)

    assert result.returncode == 2, result
    assert len(result.stderr.splitlines()) == 1, result.stderr


STORED_TOKEN = "xoxb-stored-secret-token-0001"


@pytest.mark.parametrize(
    ("given", "says"),
    [("another key", "encrypted with a key that is not in it"), ("none", "but it is not set")],
)
def test_tokens_stored_under_a_key_not_given_stop_the_app(
    fake_slack: FakeSlack, tmp_path: Path, given: str, says: str
) -> None:
    stored_with, other = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    url = make_url(f"sqlite:///{tmp_path / 'calls.db'}")
    migrate(url)
    engine = make_engine(url)
    store = installation_store(client_id="1111.2222", engine=engine, encryption_keys=[stored_with])
    store.save(
        Installation(app_id="A1", team_id="T0001", bot_token=STORED_TOKEN, user_id="U0INSTALLER")
    )
    engine.dispose()
    settings = app_env(
        fake_slack,
        url,
        PORT=str(free_port()),
        SLACK_CLIENT_ID="1111.2222",
        SLACK_CLIENT_SECRET="oauth-client-secret-abcdef",
    )
    del settings["SLACK_BOT_TOKEN"]
    if given == "another key":
        settings["CALLS_ENCRYPTION_KEY"] = other

    result = run_app(settings, cwd=tmp_path)

    assert result.returncode == 2, result
    line = one_error_line(result.stderr)
    assert line.startswith("calls-app: CALLS_ENCRYPTION_KEY: ") and says in line, line
    assert_no_secret(result.stderr, fake_slack, stored_with, other, STORED_TOKEN)
    assert fake_slack.requests == []


# ---------------------------------------------------------------------------------- serving


def test_serves_slack_and_health_over_http(
    start_app: StartApp, fake_slack: FakeSlack, database_url: URL, db: Database
) -> None:
    app = start_app(app_env(fake_slack, database_url))

    health = get(f"{app.base_url}/healthz")
    assert (health.status, health.body) == (200, "ok")

    reply = command(app, fake_slack, "start Standup")
    assert "Started *Standup*" in reply["text"], reply
    assert len(fake_slack.calls_to("calls.add")) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    call = db.only_call()
    assert call.state == CallState.ACTIVE and call.message_ts is not None

    slack = driver(app, fake_slack)
    too_large = post(app.events_url, b"x" * 1_100_000, content_type=FORM)
    assert too_large.status == 413, too_large
    unsigned = slack.post_form(b"command=%2Fcall&text=start", signed=False)
    assert unsigned.status == 401, unsigned
    not_json = slack.post_form(b"payload=not-json")
    assert not_json.status == 400, not_json
    # Still serving after the refusals; nothing more reached Slack.
    assert get(f"{app.base_url}/healthz").status == 200
    assert len(fake_slack.calls_to("calls.add")) == 1


def test_sigterm_finishes_the_work_in_flight_and_exits_0(
    start_app: StartApp, fake_slack: FakeSlack, database_url: URL, db: Database
) -> None:
    app = start_app(app_env(fake_slack, database_url))
    gate = Gate()
    fake_slack.fail_next("calls.add", hang=gate)  # a slow Slack, then a normal answer

    result, response_url = driver(app, fake_slack).command("start Standup", user=ALICE)
    assert result.status == 200, result  # acknowledged; the work goes on after the answer
    assert gate.reached.wait(10), app.output()

    app.signal(signal.SIGTERM)
    release = threading.Timer(0.5, gate.set)
    release.start()
    try:
        code = app.wait(timeout=25)
    finally:
        release.cancel()
        gate.set()

    assert code == 0, app.output()
    assert len(fake_slack.calls_to("calls.add")) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1, app.output()
    assert "Started *Standup*" in fake_slack.wait_for_response(response_url, timeout=1)["text"]
    call = db.only_call()
    assert call.state == CallState.ACTIVE, app.output()
    assert call.message_ts is not None


@pytest.mark.parametrize("slack_ended_it", [True, False], ids=["slack-ended-it", "never-reached"])
def test_kill_9_while_ending_loses_nothing(
    start_app: StartApp,
    fake_slack: FakeSlack,
    database_url: URL,
    db: Database,
    slack_ended_it: bool,
) -> None:
    settings = app_env(fake_slack, database_url, CALLS_ACTION_LEASE_SECONDS="1")
    first = start_app(settings, name="first")
    assert "Started *Standup*" in command(first, fake_slack, "start Standup")["text"]
    call = db.only_call()
    slack_call = fake_slack.calls[call.slack_call_id]

    # calls.end reaches Slack and stalls there; the process dies before it hears back.
    # Released after the kill, Slack either ends the call (the request got through) or
    # drops it (it never did).
    gate = Gate()
    fake_slack.fail_next("calls.end", hang=gate, drop_connection=not slack_ended_it)
    result, _ = driver(first, fake_slack).command("end", user=ALICE)
    assert result.status == 200, result
    assert gate.reached.wait(10), first.output()
    first.kill_all()

    stuck = db.only_call()
    assert stuck.state == CallState.ENDING
    assert stuck.lease_expires_at is not None
    gate.set()
    fake_slack.wait_for(lambda: fake_slack.attempts_to("calls.end"), timeout=5)
    assert slack_call.ended is slack_ended_it

    second = start_app(settings, name="second")
    wait = (stuck.lease_expires_at - datetime.now(UTC)).total_seconds() + 0.3
    time.sleep(min(max(wait, 0), 2))

    reply = command(second, fake_slack, "end")
    assert "You ended *Standup*" in reply["text"], (reply, second.output())
    ended = db.only_call()
    assert ended.state == CallState.ENDED
    assert ended.duration_seconds is not None
    assert ended.ended_by == ALICE
    assert slack_call.ended
    assert len(fake_slack.calls_to("calls.end")) == 1  # Slack ended it once, first or second
    updates = fake_slack.calls_to("chat.update")
    assert updates and updates[-1]["ts"] == ended.message_ts
    assert db.present(call.id) == []


def test_two_workers_register_ten_concurrent_joins_once_each(
    start_app: StartApp, fake_slack: FakeSlack, database_url: URL, db: Database
) -> None:
    app = start_app(app_env(fake_slack, database_url, WEB_CONCURRENCY="2"))
    assert "Started *Standup*" in command(app, fake_slack, "start Standup")["text"]
    call = db.only_call()
    people = [f"U0JOINER{n:02d}" for n in range(10)]
    for person in people:
        fake_slack.add_user(person)

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        replies = list(pool.map(lambda p: command(app, fake_slack, "join", user=p), people))

    assert all("You joined *Standup*" in r["text"] for r in replies), replies
    assert app.output().count("Booting worker") == 2, app.output()
    settle(fake_slack, db, timeout=10)
    adds = fake_slack.calls_to("calls.participants.add")
    assert sorted(u["slack_id"] for a in adds for u in a["users"]) == people  # each once
    assert sorted(db.present(call.id)) == sorted([ALICE, *people])


# ---------------------------------------------------------------------------------- slow bodies

TRICKLERS = 24  # more than the worker's 16 request threads


def trickling_client(port: int) -> socket.socket:
    """A client that sends its headers, promising a 1 KB body, and none of the body yet."""
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    client.sendall(
        b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
    )
    client.setblocking(False)
    return client


def trickle(clients: list[socket.socket], answers: dict[int, bytes], stop: threading.Event) -> None:
    """Each client sends its body a byte at a time until it is answered (or `stop`, or 30 s)."""
    deadline = time.monotonic() + 30
    while not stop.is_set() and time.monotonic() < deadline and len(answers) < len(clients):
        for n, client in enumerate(clients):
            if n in answers:
                continue
            with contextlib.suppress(BlockingIOError):
                answers[n] = client.recv(200)  # an answer, or b"" if closed without one
                continue
            with contextlib.suppress(OSError):
                client.send(b"a")
        stop.wait(0.1)


def test_clients_trickling_their_bodies_cannot_stop_the_app_serving(
    start_app: StartApp, fake_slack: FakeSlack, database_url: URL
) -> None:
    app = start_app(app_env(fake_slack, database_url))
    clients = [trickling_client(app.port) for _ in range(TRICKLERS)]
    answers: dict[int, bytes] = {}
    stop = threading.Event()
    trickling = threading.Thread(target=trickle, args=(clients, answers, stop), daemon=True)
    trickling.start()
    try:
        time.sleep(0.5)  # every request thread is reading a body by now
        asked = time.monotonic()
        health = get(f"{app.base_url}/healthz")
        waited = time.monotonic() - asked
        assert (health.status, health.body) == (200, "ok"), health
        assert len(answers) < TRICKLERS  # answered while some still trickled
        # A body is cut off 3 s after it was first read; /healthz had a thread by then.
        assert waited < BODY_DEADLINE_SECONDS + 2, waited
        trickling.join(timeout=3 * BODY_DEADLINE_SECONDS)
        assert len(answers) == TRICKLERS, answers
        assert {answer.split(b"\r\n")[0] for answer in answers.values()} == {
            b"HTTP/1.1 408 Request Timeout"
        }
    finally:
        stop.set()
        trickling.join(timeout=5)
        for client in clients:
            client.close()
    assert app.output().count("408 request body not received in time") == TRICKLERS


@pytest.mark.parametrize(
    "chunks",
    [b"zz\r\nab\r\n0\r\n\r\n", b"5\r\nab"],
    ids=["malformed", "cut off"],
)
def test_a_chunked_body_that_is_not_whole_gets_400(
    start_app: StartApp, fake_slack: FakeSlack, database_url: URL, chunks: bytes
) -> None:
    app = start_app(app_env(fake_slack, database_url))
    with socket.create_connection(("127.0.0.1", app.port), timeout=10) as client:
        client.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + chunks
        )
        client.shutdown(socket.SHUT_WR)  # nothing more comes
        answer = client.recv(200)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request"), answer
    assert "400 request body unreadable" in app.output()
    assert "Traceback" not in app.output()
    assert get(f"{app.base_url}/healthz").status == 200


def test_kill_9_mid_crowd_loses_no_acknowledged_press(
    start_app: StartApp, fake_slack: FakeSlack, database_url: URL, db: Database
) -> None:
    settings = app_env(fake_slack, database_url)
    first = start_app(settings, name="first")
    assert "Started *All hands*" in command(first, fake_slack, "start All hands")["text"]
    call = db.only_call()
    people = [f"U0CROWD{n:02d}" for n in range(12)]
    for person in people:
        fake_slack.add_user(person)

    # Slack takes the first sync and stalls; every press after it is acknowledged meanwhile,
    # and the process dies before Slack answers.
    gate = Gate()
    fake_slack.fail_next("calls.participants.add", hang=gate, drop_connection=True)
    slack = driver(first, fake_slack)
    presses = [
        slack.click("call_join", str(call.id), user=p, message_ts=call.message_ts) for p in people
    ]
    assert all(result.status == 200 for result, _, _ in presses)
    assert gate.reached.wait(10), first.output()
    first.kill_all()
    gate.set()
    assert sorted(db.present(call.id)) == sorted([ALICE, *people])  # acknowledged = recorded

    start_app(settings, name="second")  # its outbox runner takes over once the claim runs out
    settle(fake_slack, db, timeout=45)
    in_slack = [u["slack_id"] for u in fake_slack.calls[call.slack_call_id].users]
    assert sorted(in_slack) == sorted([ALICE, *people])
