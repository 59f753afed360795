"""What reaches /slack/events and /healthz: bad requests stop at the door, and nothing changes."""

from __future__ import annotations

import json
import logging
import threading
import time
from urllib.parse import quote_plus, urlencode
from wsgiref.simple_server import make_server

import pytest
from sqlalchemy.engine import make_url

from calls_app.config import load_settings
from calls_app.db import make_engine
from calls_app.runtime import build_wsgi_app
from local_slack.app_requests import get, post, sign
from tests.support.app import QuietHandler, QuietServer, app_env
from tests.support.workspace import ALICE

START_FORM = urlencode(
    {
        "team_id": "T0001",
        "channel_id": "C0GENERAL",
        "channel_name": "general",
        "user_id": ALICE,
        "command": "/call",
        "text": "start Standup",
        "response_url": "http://127.0.0.1:9/unused",
        "trigger_id": "t",
    }
).encode()
FORM = "application/x-www-form-urlencoded"


def nothing_happened(app) -> None:
    assert [r.method for r in app.fake.requests if r.method != "auth.test"] == []
    assert app.db.calls() == []


@pytest.mark.parametrize(
    "how",
    ["unsigned", "wrong secret", "tampered body", "six minutes old", "from the future"],
)
def test_requests_not_signed_by_slack_get_401_and_reach_nothing(running_app, how):
    app = running_app
    now = int(time.time())
    kwargs: dict = {}
    if how == "unsigned":
        kwargs["signed"] = False
    elif how == "wrong secret":
        kwargs["signature"] = sign(START_FORM, now, secret="not-the-secret")
    elif how == "tampered body":
        kwargs["signature"] = sign(START_FORM.replace(b"Standup", b"Hacked!"), now)
    elif how == "six minutes old":
        kwargs["timestamp"] = now - 6 * 60
    elif how == "from the future":
        kwargs["timestamp"] = now + 6 * 60
    result = post(app.slack.events_url, START_FORM, content_type=FORM, **kwargs)
    assert result.status == 401
    time.sleep(0.2)  # anything wrongly started would have reached the fake by now
    nothing_happened(app)


ODD_SIGNATURE_HEADERS = {
    # str.isdigit() is True for "²", and int() refuses it.
    "superscript timestamp": {"timestamp": "²"},
    # int() refuses more than 4300 digits.
    "5000-digit timestamp": {"timestamp": "1" * 5000},
    # hmac.compare_digest() raises on a non-ASCII str.
    "non-ASCII signature": {"signature": "v0=" + "é" * 64},
}


@pytest.mark.parametrize("headers", ODD_SIGNATURE_HEADERS.values(), ids=ODD_SIGNATURE_HEADERS)
def test_odd_signature_headers_get_401_and_one_log_line(running_app, caplog, headers):
    app = running_app
    caplog.set_level(logging.INFO)
    result = post(app.slack.events_url, START_FORM, content_type=FORM, **headers)
    assert (result.status, result.body) == (401, "invalid signature")
    logged = [(r.name, r.getMessage(), r.exc_info) for r in caplog.records]
    assert logged == [
        ("calls_app.web", "refused a request to /slack/events: 401 invalid signature", None)
    ]
    nothing_happened(app)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", FORM),
        (b"payload=not-json", FORM),
        (b"payload=%5B1%2C2%5D", FORM),  # JSON, but not an object
        (b"payload=", FORM),
        (b"hello=world", FORM),
        (b"{not json", "application/json"),
        (b"[]", "application/json"),
        (b"\xff\xfe", FORM),
    ],
)
def test_signed_payloads_that_are_not_slacks_get_400_never_500(running_app, body, content_type):
    app = running_app
    result = post(app.slack.events_url, body, content_type=content_type)
    assert result.status == 400
    nothing_happened(app)


def test_a_body_over_1_mib_gets_413(running_app):
    app = running_app
    body = b"text=" + b"a" * (1024 * 1024)
    assert post(app.slack.events_url, body, content_type=FORM).status == 413
    assert post(app.slack.events_url, body, content_type=FORM, signed=False).status == 413
    nothing_happened(app)


def test_a_signed_command_reaches_the_app(running_app):
    app = running_app
    response_url = app.fake.new_response_url()
    form = START_FORM.replace(
        b"http%3A%2F%2F127.0.0.1%3A9%2Funused", quote_plus(response_url).encode()
    )
    result = post(app.slack.events_url, form, content_type=FORM)
    assert (result.status, result.body) == (200, "")
    assert "Started *Standup*" in app.fake.wait_for_response(response_url)["text"]


def test_url_verification_is_answered(running_app):
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}).encode()
    result = post(running_app.slack.events_url, body, content_type="application/json")
    assert result.status == 200
    assert "abc123" in result.body


def test_other_paths_and_methods(running_app):
    assert get(running_app.base_url + "/nope").status == 404
    assert get(running_app.slack.events_url).status == 405


def test_healthz_is_200_while_the_database_answers(running_app):
    result = get(running_app.base_url + "/healthz")
    assert (result.status, result.body) == (200, "ok")


def test_healthz_is_503_when_the_database_does_not(fake_slack, tmp_path):
    # Port 9 (discard) refuses connections on loopback: a database that is down.
    down = make_url("postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=2")
    settings = load_settings(app_env(fake_slack, make_url(f"sqlite:///{tmp_path}/x.db")))
    wsgi = build_wsgi_app(settings, make_engine(down))
    server = make_server("127.0.0.1", 0, wsgi, server_class=QuietServer, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        result = get(f"http://127.0.0.1:{server.server_port}/healthz")
        assert result.status == 503
    finally:
        server.shutdown()
        server.server_close()
        wsgi.close()  # its outbox runner, which would go on failing to reach that database
