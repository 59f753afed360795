"""GET /metrics: scraped over HTTP from the running app before and after what it counts."""

from __future__ import annotations

import time
import urllib.error
from urllib.parse import urlencode

import pytest

from calls_app import metrics
from calls_app.bolt_app import build_parts, build_reconciler
from calls_app.config import ConfigError, load_settings
from calls_app.models import CallState
from local_slack.app_requests import get, post, sign, slash_command_form
from tests.support.app import app_env, reply_text, serve_app
from tests.support.process import scrape
from tests.support.workspace import ALICE, BOB

FORM = "application/x-www-form-urlencoded"


def test_a_calls_life_moves_the_counters(running_app):
    app = running_app
    before = scrape(app.base_url)
    assert before.value("calls_app_live_calls") == 0

    call = app.start_call("start Standup")
    during = scrape(app.base_url)
    assert during.value("calls_app_live_calls") == 1
    app.command("join", user=BOB)
    app.command("leave", user=BOB)
    app.settle()
    app.command("end", user=ALICE)
    app.settle()
    app.fake.wait_for(
        lambda: scrape(app.base_url).value("calls_app_work_queue_jobs") == 0,
        message="the work queue emptied",
    )
    after = scrape(app.base_url)

    moved = after - before
    assert app.db.call(call.id).state == CallState.ENDED
    assert moved("calls_app_calls_started_total") == 1
    assert moved("calls_app_calls_ended_total", reason="person") == 1
    assert moved("calls_app_calls_failed_to_start_total") == 0
    assert moved("calls_app_participant_changes_total", change="join") == 1
    assert moved("calls_app_participant_changes_total", change="leave") == 1
    for method in ("calls.add", "chat.postMessage", "calls.end", "chat.update"):
        assert moved("calls_app_slack_requests_total", method=method, outcome="ok") == len(
            app.fake.calls_to(method)
        ), method
        assert moved("calls_app_slack_request_seconds_count", method=method) >= 1, method
    assert moved("calls_app_slack_requests_total", method="calls.add", outcome="ok") == 1
    # Four commands, each delivered and acknowledged; start's and end's work queued (join and
    # leave are done and answered in their acks).
    assert moved("calls_app_webhook_deliveries_total", provider="slack", outcome="accepted") == 4
    assert moved("calls_app_ack_seconds_count") == 4
    assert moved("calls_app_work_queue_wait_seconds_count") == 2
    assert after.value("calls_app_live_calls") == 0
    assert after.value("calls_app_outbox_items") == 0


def test_refused_and_repeated_deliveries_are_counted_and_not_acted_on(running_app):
    app = running_app
    before = scrape(app.base_url)
    response_url = app.fake.new_response_url()
    body = urlencode(slash_command_form("start Standup", user=ALICE, response_url=response_url))
    now = int(time.time())
    signed = {"timestamp": now, "signature": sign(body.encode(), now)}

    assert post(app.slack.events_url, body.encode(), content_type=FORM, **signed).status == 200
    assert post(app.slack.events_url, body.encode(), content_type=FORM, **signed).status == 200
    unsigned = post(
        app.slack.events_url, b"command=%2Fcall&text=end", content_type=FORM, signed=False
    )
    assert unsigned.status == 401
    assert app.slack.post_form(b"payload=not-json").status == 400
    app.fake.wait_for_response(response_url)
    after = scrape(app.base_url)

    moved = after - before
    for outcome, count in (
        ("accepted", 1),
        ("duplicate", 1),
        ("bad_signature", 1),
        ("bad_request", 1),
    ):
        assert (
            moved("calls_app_webhook_deliveries_total", provider="slack", outcome=outcome) == count
        ), outcome
    assert moved("calls_app_ack_seconds_count") == 1  # only the request acted on
    assert moved("calls_app_calls_started_total") == 1
    assert len(app.db.calls()) == 1
    assert len(app.fake.calls_to("calls.add")) == 1


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ({"error": "not_authorized"}, "slack_error"),
        ({"status": 503}, "http_5xx"),
        ({"status": 429, "retry_after": 30}, "ratelimited"),
        ({"drop_connection": True}, "unreachable"),
    ],
    ids=["slack-error", "5xx", "429", "dropped"],
)
def test_a_start_slack_refuses_counts_the_request_and_the_failed_start(running_app, fault, outcome):
    app = running_app
    before = scrape(app.base_url)
    app.fake.fail_next("calls.add", **fault)
    reply = app.command("start Standup", user=ALICE)
    after = scrape(app.base_url)

    moved = after - before
    assert "Standup" not in reply_text(reply) or "Started" not in reply_text(reply)
    assert app.db.only_call().state == CallState.FAILED
    assert moved("calls_app_slack_requests_total", method="calls.add", outcome=outcome) == 1
    assert moved("calls_app_slack_requests_total", method="calls.add", outcome="ok") == 0
    assert moved("calls_app_calls_failed_to_start_total") == 1
    assert moved("calls_app_calls_started_total") == 0
    assert after.value("calls_app_live_calls") == 0


def test_a_request_that_got_no_answer_is_a_timeout_or_unreachable():
    assert metrics.unanswered_outcome(TimeoutError("timed out")) == "timeout"
    assert metrics.unanswered_outcome(urllib.error.URLError(TimeoutError())) == "timeout"
    assert metrics.unanswered_outcome(urllib.error.URLError(ConnectionRefusedError())) == (
        "unreachable"
    )
    assert metrics.unanswered_outcome(ConnectionResetError()) == "unreachable"


def test_reconciler_actions_are_counted_by_rule(running_app, database_url):
    app = running_app
    app.start_call("start Forgotten")
    settings = load_settings(app_env(app.fake, database_url, CALLS_MAX_DURATION="1h"))
    reconciler = build_reconciler(build_parts(settings, app.db.engine, clock=app.clock))
    before = scrape(app.base_url)
    app.clock.advance(hours=1, seconds=1)

    assert reconciler.run_once() == {"ended over the time limit": 1}
    moved = scrape(app.base_url) - before
    assert moved("calls_app_reconciler_actions_total", rule="ended over the time limit") == 1
    assert moved("calls_app_calls_ended_total", reason="max_duration") == 1
    assert moved("calls_app_calls_ended_total", reason="person") == 0


def test_with_metrics_port_set_the_app_port_has_no_metrics(fake_slack, database_url, clock):
    env = app_env(fake_slack, database_url, METRICS_PORT="127.0.0.1:9")
    with serve_app(fake_slack, database_url, clock, env) as app:
        assert get(f"{app.base_url}/metrics").status == 404
        assert get(f"{app.base_url}/healthz").status == 200


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("abc", "must be a port"),
        ("70000", "must be a port"),
        ("10.0.0.5:", "must be a port"),
        ("3000", "must not be PORT"),
    ],
)
def test_a_bad_metrics_port_is_refused_naming_it(fake_slack, database_url, value, problem):
    with pytest.raises(ConfigError) as error:
        load_settings(app_env(fake_slack, database_url, METRICS_PORT=value, PORT="3000"))
    assert error.value.setting == "METRICS_PORT" and problem in str(error.value)


def test_metrics_port_is_a_port_or_an_address_and_port(fake_slack, database_url):
    def bind(value: str):
        return load_settings(app_env(fake_slack, database_url, METRICS_PORT=value)).metrics_bind

    assert bind("9100") == ("0.0.0.0", 9100)
    assert bind("10.0.0.5:9100") == ("10.0.0.5", 9100)
    assert bind("[::1]:9100") == ("::1", 9100)
    assert load_settings(app_env(fake_slack, database_url)).metrics_bind is None
