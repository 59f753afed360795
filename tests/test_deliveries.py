"""The same request twice acts once: a network's retry of a signed request, Slack's retry of
an event. Unsigned requests are never recorded; old deliveries are purged."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import insert, select

from calls_app.deliveries import KEEP_FOR, PURGE_BATCH, PURGE_EVERY, Deliveries
from calls_app.models import SlackDelivery
from local_slack.app_requests import (
    app_home_opened_event,
    event_envelope,
    post,
    sign,
    slash_command_form,
)
from tests.support.workspace import ALICE, BOB

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
deliveries = SlackDelivery.__table__


def stored_keys(app) -> list[str]:
    with app.db.engine.connect() as connection:
        return list(connection.execute(select(deliveries.c.key)).scalars())


def test_a_command_sent_twice_starts_one_call(running_app):
    app = running_app
    response_url = app.fake.new_response_url()
    body = urlencode(slash_command_form("start Standup", user=ALICE, response_url=response_url))
    now = int(time.time())
    signed = {"timestamp": now, "signature": sign(body.encode(), now)}

    first = post(app.slack.events_url, body.encode(), content_type=FORM, **signed)
    again = post(app.slack.events_url, body.encode(), content_type=FORM, **signed)

    assert (first.status, again.status, again.body) == (200, 200, "")
    assert "Started *Standup*" in app.fake.wait_for_response(response_url)["text"]
    time.sleep(0.3)  # a second start would have reached the fake by now
    assert len(app.fake.calls_to("calls.add")) == 1
    assert len(app.fake.responses[response_url]) == 1
    app.db.only_call()


def test_a_command_sent_eight_times_at_once_starts_one_call(running_app):
    app = running_app
    response_url = app.fake.new_response_url()
    body = urlencode(slash_command_form("start Standup", user=ALICE, response_url=response_url))
    now = int(time.time())
    signature = sign(body.encode(), now)

    def send(_: int) -> int:
        return post(
            app.slack.events_url,
            body.encode(),
            content_type=FORM,
            timestamp=now,
            signature=signature,
        ).status

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(send, range(8))) == [200] * 8
    app.fake.wait_for_response(response_url)
    time.sleep(0.3)
    assert len(app.fake.calls_to("calls.add")) == 1
    app.db.only_call()


def test_slacks_retry_of_an_event_is_acknowledged_and_not_acted_on(running_app):
    app = running_app
    body = json.dumps(event_envelope(app_home_opened_event(ALICE))).encode()
    first = post(app.slack.events_url, body, content_type=JSON)
    app.fake.wait_for(lambda: len(app.fake.calls_to("views.publish")) == 1)

    # Slack's retry: the same envelope, signed anew a moment later, with its retry headers.
    later = int(time.time()) + 1
    retry_headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    retry = post(
        app.slack.events_url, body, content_type=JSON, timestamp=later, extra_headers=retry_headers
    )

    assert (first.status, retry.status, retry.body) == (200, 200, "")
    time.sleep(0.3)  # a second publish would have reached the fake by now
    assert len(app.fake.calls_to("views.publish")) == 1
    event_id = json.loads(body)["event_id"]
    assert stored_keys(app) == [f"event:{event_id}"]


def test_different_events_are_each_acted_on(running_app):
    app = running_app
    for user in (ALICE, BOB):
        assert app.slack.open_home(user=user).status == 200
    app.fake.wait_for(lambda: len(app.fake.calls_to("views.publish")) == 2)
    assert set(app.fake.home_views) == {ALICE, BOB}


def test_requests_not_signed_by_slack_are_never_recorded(running_app):
    app = running_app
    body = urlencode(slash_command_form("start Standup", user=ALICE, response_url="http://x/"))
    now = int(time.time())
    forged = post(
        app.slack.events_url,
        body.encode(),
        content_type=FORM,
        timestamp=now,
        signature=sign(body.encode(), now, secret="not-the-secret"),
    )
    assert forged.status == 401
    assert stored_keys(app) == []


def test_deliveries_older_than_15_minutes_are_purged_a_batch_a_minute(running_app):
    app = running_app
    store = Deliveries(app.db.engine, clock=app.clock)
    assert store.first("signature:kept") is True
    assert store.first("signature:kept") is False
    old = app.clock() - KEEP_FOR - timedelta(seconds=1)
    with app.db.engine.begin() as connection:
        connection.execute(
            insert(deliveries),
            [{"key": f"old:{n}", "seen_at": old} for n in range(PURGE_BATCH + 10)],
        )

    app.clock.advance(seconds=PURGE_EVERY.total_seconds())
    store.first("signature:new")
    assert len([k for k in stored_keys(app) if k.startswith("old:")]) == 10  # one batch
    store.first("signature:newer")  # within the minute: no purge
    assert len([k for k in stored_keys(app) if k.startswith("old:")]) == 10

    app.clock.advance(seconds=PURGE_EVERY.total_seconds())
    assert store.first("signature:kept") is False  # 2 minutes old: still a repeat
    assert sorted(stored_keys(app)) == ["signature:kept", "signature:new", "signature:newer"]
    app.clock.advance(minutes=15)
    assert store.first("signature:kept") is True  # purged, so new again
