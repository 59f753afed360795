"""LOG_FORMAT=json: one JSON object a line, saying which workspace, channel, call and Slack
request it concerns; no token or secret in it, at any level."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from calls_app.config import ConfigError, load_settings
from calls_app.logging_setup import configure_logging
from local_slack.app_requests import SIGNING_SECRET
from tests.support.app import app_env
from tests.support.workspace import ALICE, BOB, GENERAL


@contextmanager
def logs(level: str, log_format: str, secrets: list[str]) -> Iterator[io.StringIO]:
    """The process's log, as configure_logging sets it up, written to a string."""
    stream = io.StringIO()
    hooks = sys.excepthook, threading.excepthook
    configure_logging(level, secrets, log_format)
    root = logging.getLogger()
    root.handlers[0].stream = stream  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        root.handlers.clear()
        root.setLevel(logging.WARNING)
        logging.captureWarnings(False)
        sys.excepthook, threading.excepthook = hooks


def parsed(stream: io.StringIO) -> list[dict]:
    lines = stream.getvalue().splitlines()
    assert lines
    entries = [json.loads(line) for line in lines]  # every line, or this fails
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
    return entries


def test_each_line_is_json_and_says_which_call_it_concerns(running_app):
    app = running_app
    with logs("INFO", "json", [app.fake.bot_token, SIGNING_SECRET]) as stream:
        app.fake.fail_next("calls.participants.add", error="not_in_call")
        call = app.start_call("start Standup")
        app.command("join", user=BOB)
        app.settle()
        app.command("end", user=ALICE)
    entries = parsed(stream)

    (started,) = [e for e in entries if e["message"] == f"call {call.id} started in {GENERAL}"]
    assert started["call"] == call.id
    assert (started["workspace"], started["channel"]) == ("T0001", GENERAL)
    assert started["slack_request"].startswith("trigger-")  # the command's trigger_id
    assert started["logger"] == "calls_app.service.starting" and started["level"] == "INFO"
    # From the outbox, on another thread, long after the request that caused it.
    (dropped,) = [e for e in entries if e["message"].startswith("outbox: participants")]
    assert (dropped["call"], dropped["workspace"], dropped["level"]) == (
        call.id,
        "T0001",
        "WARNING",
    )
    assert "channel" not in dropped  # not known there: left out, not made up
    (ended,) = [e for e in entries if e["message"] == f"call {call.id} ended (person)"]
    assert ended["call"] == call.id and ended["slack_request"] != started["slack_request"]


def test_no_secret_in_any_line_at_debug_level(running_app):
    app = running_app
    with logs("DEBUG", "json", [app.fake.bot_token, SIGNING_SECRET]) as stream:
        app.start_call("start Standup")
        app.command("end", user=ALICE)
        try:
            raise RuntimeError(f"failed with {app.fake.bot_token} and {SIGNING_SECRET}")
        except RuntimeError:
            logging.getLogger("calls_app.test").exception("holding %s", app.fake.bot_token)
    logged = stream.getvalue()
    entries = parsed(stream)
    assert any("calls.add" in e["message"] for e in entries)  # slack-sdk's lines were there
    (failure,) = [e for e in entries if e["logger"] == "calls_app.test"]
    assert "RuntimeError: failed with" in failure["exception"]
    assert "[redacted]" in failure["exception"] and "xox?-[redacted]" in failure["message"]
    for secret in (app.fake.bot_token, SIGNING_SECRET, "xoxb-"):
        assert secret not in logged


def test_text_stays_the_default(running_app, fake_slack, database_url):
    assert load_settings(app_env(fake_slack, database_url)).log_format == "text"
    with logs("INFO", "text", [fake_slack.bot_token]) as stream:
        call = running_app.start_call("start Standup")
    line = next(x for x in stream.getvalue().splitlines() if f"call {call.id} started" in x)
    assert " INFO calls_app.service.starting: call " in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_an_unknown_log_format_is_refused(fake_slack, database_url):
    with pytest.raises(ConfigError) as error:
        load_settings(app_env(fake_slack, database_url, LOG_FORMAT="xml"))
    assert error.value.setting == "LOG_FORMAT"
