"""The app under test, served over HTTP beside the fake Slack: its settings, its clock,
its database as tests read it, and the driver that sends it what Slack would."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from alembic import command
from sqlalchemy import Engine, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from calls_app.config import load_settings
from calls_app.db import make_engine
from calls_app.models import Call, OutboxItem, Participant
from calls_app.runtime import alembic_config, build_wsgi_app
from local_slack.app_requests import SIGNING_SECRET, SlackDriver
from local_slack.web_api import FakeSlack
from tests.support.workspace import ALICE


class FakeClock:
    """The app's clock, moved by tests; starts at the real time so Slack's timestamps agree."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)


def migrate(url: URL) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()


class QuietServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def app_env(fake: FakeSlack, url: URL, **extra: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "SLACK_API_URL": fake.base_url,
        "CALLS_JITSI_BASE_URL": "https://meet.example.org/",
        "CALLS_HOME_REFRESH": "1",  # a change during a Home's publish waits at most a second
        **extra,
    }


@dataclass
class Database:
    engine: Engine

    def calls(self) -> list[Call]:
        with Session(self.engine) as session:
            return list(session.scalars(select(Call).order_by(Call.id)))

    def call(self, call_id: int) -> Call:
        with Session(self.engine) as session:
            return session.get_one(Call, call_id)

    def only_call(self) -> Call:
        calls = self.calls()
        assert len(calls) == 1, calls
        return calls[0]

    def participants(self, call_id: int) -> list[Participant]:
        with Session(self.engine) as session:
            return list(
                session.scalars(
                    select(Participant)
                    .where(Participant.call_id == call_id)
                    .order_by(Participant.id)
                )
            )

    def present(self, call_id: int) -> list[str]:
        return [p.slack_user_id for p in self.participants(call_id) if p.left_at is None]

    def outbox(self) -> list[OutboxItem]:
        """What the outbox has yet to tell Slack."""
        with Session(self.engine) as session:
            pending = OutboxItem.generation > OutboxItem.done_generation
            return list(session.scalars(select(OutboxItem).where(pending).order_by(OutboxItem.id)))


def settle(fake: FakeSlack, db: Database, timeout: float = 5.0) -> None:
    """Wait until the outbox has brought Slack in step with everything recorded."""
    fake.wait_for(lambda: not db.outbox(), timeout, message="an empty outbox")


@dataclass
class RunningApp:
    slack: SlackDriver
    fake: FakeSlack
    db: Database
    clock: FakeClock
    base_url: str

    def sent(self, method: str) -> list[dict]:
        """What Slack accepted for `method`, less the team_id Bolt's client adds to every call."""
        return [
            {k: v for k, v in args.items() if k != "team_id"} for args in self.fake.calls_to(method)
        ]

    def settle(self, timeout: float = 5.0) -> None:
        settle(self.fake, self.db, timeout)

    def start_call(self, text: str = "start Standup", *, user: str = ALICE, **kwargs) -> Call:
        """`/call start …`, waiting until the reply; returns the call as stored."""
        before = {c.id for c in self.db.calls()}
        result, response_url = self.slack.command(text, user=user, **kwargs)
        assert result.status == 200, result
        self.fake.wait_for_response(response_url)
        new = [c for c in self.db.calls() if c.id not in before]
        assert len(new) == 1, new
        return new[0]

    def command(self, text: str, *, user: str, timeout: float = 5.0, **kwargs) -> dict:
        """A `/call` command; returns the private reply."""
        result, response_url = self.slack.command(text, user=user, **kwargs)
        assert result.status == 200, result
        return command_reply(self.fake, text, result.body, response_url, timeout=timeout)

    def click(self, action_id: str, value: str | None, *, user: str, **kwargs) -> dict:
        """A button click; returns the private reply. Unless told otherwise, the button is on
        the message of the call it names, as when a person presses it in Slack."""
        if "message_ts" not in kwargs and value and value.isdigit():
            named = [c for c in self.db.calls() if c.id == int(value)]
            if named:
                (call,) = named
                # A call with no message has no button anyone could press: say which message.
                assert call.message_ts, f"call {call.id} has no message: pass message_ts"
                kwargs |= {"message_ts": call.message_ts, "channel": call.message_channel_id}
        result, response_url, _ = self.slack.click(action_id, value, user=user, **kwargs)
        assert result.status == 200, result
        return self.fake.wait_for_response(response_url)


def reply_text(reply: dict) -> str:
    return reply.get("text", "")


@contextmanager
def serve_app(
    fake: FakeSlack, database_url: URL, clock: FakeClock, env: dict[str, str]
) -> Iterator[RunningApp]:
    """The real WSGI app, built from `env` as `python app.py` would, served on loopback."""
    settings = load_settings(env)
    engine = make_engine(settings.database_url)
    wsgi_app = build_wsgi_app(settings, engine, clock=clock)
    server = make_server(
        "127.0.0.1", 0, wsgi_app, server_class=QuietServer, handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield RunningApp(
            slack=SlackDriver(f"{base_url}/slack/events", fake.new_response_url),
            fake=fake,
            db=Database(engine),
            clock=clock,
            base_url=base_url,
        )
    finally:
        server.shutdown()
        server.server_close()
        wsgi_app.close()
        engine.dispose()


def command_reply(fake, text: str, acked: str, response_url: str, *, timeout: float) -> dict:
    """A `/call` command's private reply: in the ack for Join and Leave (done before it),
    else sent to the response_url after an empty ack."""
    if text.split()[:1] in (["join"], ["leave"]):
        assert acked, "Join and Leave are answered in the ack"
        answer = json.loads(acked)
        assert answer["response_type"] == "ephemeral", answer
        return answer
    assert acked == "", acked  # acknowledged at once, empty
    return fake.wait_for_response(response_url, timeout=timeout)
