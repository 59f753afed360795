"""No token or signing secret in any log line, even at DEBUG where slack-sdk logs requests."""

from __future__ import annotations

import io
import logging
import socket
import urllib.error
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from calls_app.db import autocommitting, make_engine
from calls_app.installations import INSTALLATIONS_TABLE
from calls_app.logging_setup import SecretRedactor, configure_logging
from local_slack.app_requests import SIGNING_SECRET
from local_slack.web_api import FakeSlack
from tests.app_process import AppProcess, free_port
from tests.support.app import app_env
from tests.support.oauth import CLIENT_ID, CLIENT_SECRET, TEAM_A, TOKEN_A, install, oauth_env
from tests.support.workspace import ALICE


def test_a_whole_call_at_debug_level_logs_no_secret(running_app):
    app = running_app
    stream = io.StringIO()
    configure_logging("DEBUG", [app.fake.bot_token, SIGNING_SECRET])
    root = logging.getLogger()
    root.handlers[0].stream = stream  # type: ignore[attr-defined]
    try:
        app.fake.fail_next("calls.participants.add", error="invalid_auth")
        call = app.start_call("start Standup")
        app.command("join", user="U0BOB00001")
        app.command("end", user=ALICE)
    finally:
        root.handlers.clear()
        root.setLevel(logging.WARNING)
    logged = stream.getvalue()
    assert "calls.add" in logged  # slack-sdk's debug lines were there to leak from
    assert call.slack_call_id in logged
    assert app.fake.bot_token not in logged
    assert SIGNING_SECRET not in logged
    assert "xoxb-" not in logged


def test_redactor_masks_any_slack_token_shape():
    redactor = SecretRedactor(["s3cr3t-signing"])
    text = "Bearer xoxb-123-456-abc xapp-1-A1-xyz xoxp-9 s3cr3t-signing"
    redacted = redactor.redact(text)
    for secret in ("xoxb-123", "xapp-1", "xoxp-9", "s3cr3t-signing"):
        assert secret not in redacted


# ------------------------------------------------------------------ a real process (gunicorn)


@contextmanager
def inserts_refused(url: URL, table: str) -> Iterator[None]:
    """The database refuses every insert into `table`, as a failing database would."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        create = [
            f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'inserts refused'); END"
        ]
        drop = ["DROP TRIGGER refuse"]
    else:
        create = [
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'inserts refused'; END $$",
            f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
        drop = [f"DROP TRIGGER refuse ON {table}", "DROP FUNCTION refuse()"]
    with engine.begin() as connection:
        for statement in create:
            connection.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as connection:
            for statement in drop:
                connection.execute(text(statement))
        engine.dispose()


@pytest.fixture
def oauth_fake() -> Iterator[FakeSlack]:
    fake = FakeSlack(client_id=CLIENT_ID, client_secret=CLIENT_SECRET).start()
    fake.add_team(TEAM_A, bot_token="xoxb-unused-" + TEAM_A)
    fake.set_oauth_code(f"code-{TEAM_A}", team_id=TEAM_A, bot_token=TOKEN_A, scope="commands")
    yield fake
    fake.stop()


@pytest.fixture
def app_process(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], AppProcess]]:
    started: list[AppProcess] = []

    def start(settings: dict[str, str]) -> AppProcess:
        app = AppProcess(settings, port=free_port(), log_dir=tmp_path, name="app")
        started.append(app.start())
        return app.wait_ready(timeout=30)

    yield start
    for app in started:
        app.stop()


@pytest.mark.slow
def test_an_install_the_database_fails_to_save_logs_its_error_once_without_the_token(
    oauth_fake, database_url, app_process
):
    app = app_process(oauth_env(oauth_fake, database_url))
    with (
        inserts_refused(database_url, INSTALLATIONS_TABLE.name),
        pytest.raises(urllib.error.HTTPError) as failed,
    ):
        install(app, TEAM_A)
    assert failed.value.code == 500
    error_id = failed.value.read().decode().removeprefix("internal error ")
    assert oauth_fake.calls_to("oauth.v2.access")  # the token was had, and then not saved
    logged = app.output()
    assert "inserts refused" in logged  # the database's error, with its statement, was logged
    for secret in (TOKEN_A, CLIENT_SECRET, SIGNING_SECRET):
        assert secret not in logged, logged
    assert "[parameters:" not in logged, logged
    assert logged.count(f"error {error_id}: GET /slack/oauth_redirect failed") == 1, logged
    assert "Error handling request" not in logged  # not again by gunicorn


@pytest.mark.slow
def test_gunicorns_own_log_lines_are_redacted(fake_slack, database_url, app_process):
    app = app_process(app_env(fake_slack, database_url))
    # Requests gunicorn refuses itself, and logs as they came.
    for request_line in (f"{SIGNING_SECRET} / HTTP/1.1", f"GET / HTTP/{fake_slack.bot_token}"):
        with socket.create_connection(("127.0.0.1", app.port), timeout=5) as client:
            client.sendall(f"{request_line}\r\nHost: x\r\n\r\n".encode())
            assert client.recv(100).startswith(b"HTTP/1.1 400"), request_line
    logged = app.output()
    assert logged.count("Invalid request from ip=127.0.0.1") == 2, logged
    for secret in (fake_slack.bot_token, SIGNING_SECRET):
        assert secret not in logged, logged


def test_database_errors_never_show_a_statements_parameters(database_url):
    engine = make_engine(database_url)
    try:
        for each in (engine, autocommitting(engine)):
            with pytest.raises(SQLAlchemyError) as failed, each.connect() as connection:
                connection.execute(text("SELECT * FROM no_such_table WHERE x = :t"), {"t": TOKEN_A})
            assert TOKEN_A not in str(failed.value)
    finally:
        engine.dispose()
