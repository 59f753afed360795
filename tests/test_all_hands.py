"""What an all-hands needs: acks that never wait for Slack or a thread, a busy queue that says
so, presses batched into a few Slack requests, and Homes re-published once per interval."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from calls_app.models import OutboxItem
from tests.support.app import app_env, reply_text, serve_app
from tests.support.workspace import ADMIN, ALICE, BOB, CAROL

PEOPLE = [f"U0CROWD{i:03d}" for i in range(40)]


@pytest.fixture
def crowd_app(fake_slack, database_url, clock):
    for person in PEOPLE:
        fake_slack.add_user(person)
    fake_slack.set_rate_limits(True)  # Slack's tiers, as in a real workspace
    env = app_env(fake_slack, database_url, CALLS_HOME_REFRESH="60")
    with serve_app(fake_slack, database_url, clock, env) as app:
        yield app


def time_passes(app) -> None:
    """Every outbox wait runs out (set in the past rather than waited for), until Slack has
    been told everything: a call's homes item may bump a person's Home as it is published."""
    for _ in range(5):
        with app.db.engine.begin() as db:
            db.execute(update(OutboxItem).values(due_at=datetime(2000, 1, 1, tzinfo=UTC)))
        try:
            app.settle(timeout=2)
            return
        except AssertionError:
            continue
    app.settle()


def press_join(app, call, person):
    result, response_url, _ = app.slack.click(
        "call_join", str(call.id), user=person, message_ts=call.message_ts
    )
    return result, response_url


def test_a_crowd_joining_is_acked_at_once_and_reaches_slack_in_a_few_requests(crowd_app):
    app = crowd_app
    call = app.start_call("start All hands")
    slow = threading.Event()
    app.fake.fail_next("calls.participants.add", hang=slow)  # Slack is slow to take the first
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda p: press_join(app, call, p), PEOPLE))
    acked_within = time.monotonic() - started
    assert all(result.status == 200 for result, _ in results)
    assert acked_within < 3, acked_within  # while Slack still hasn't answered the first sync
    assert sorted(app.db.present(call.id)) == sorted([ALICE, *PEOPLE])  # every press recorded
    slow.set()
    app.settle(timeout=10)
    for _, response_url in results:
        assert "You joined *All hands*" in reply_text(app.fake.wait_for_response(response_url))
    adds = app.sent("calls.participants.add")
    added = [u["slack_id"] for a in adds for u in a["users"]]
    assert sorted(added) == sorted(PEOPLE)  # each person once
    assert len(adds) <= 3  # the first (one person), then the rest batched
    assert len(app.fake.calls[call.slack_call_id].users) == len(PEOPLE) + 1
    assert app.fake.rate_limited() == 0


def test_homes_are_republished_once_per_interval_not_once_per_join(crowd_app):
    app = crowd_app
    assert app.slack.open_home(user=ALICE).status == 200
    call = app.start_call("start All hands")
    time_passes(app)
    publishes_before = len(app.sent("views.publish"))
    for person in PEOPLE[:10]:
        result, _ = press_join(app, call, person)
        assert result.status == 200
    time.sleep(0.5)  # the outbox would have published by now, were it not waiting its interval
    assert len(app.sent("views.publish")) - publishes_before <= 1
    time_passes(app)  # one publish shows the latest of all ten joins
    assert len(app.sent("views.publish")) - publishes_before <= 2
    assert "11 in the call" in str(app.fake.home_views[ALICE])


@pytest.fixture
def full_queue(fake_slack, database_url, clock):
    """An app with one place in its queue, held by a start Slack is slow to register; the
    call Standup started before it. Yields (app, Standup); Slack answers on the way out."""
    env = app_env(fake_slack, database_url, CALLS_QUEUE_SIZE="1", CALLS_THREADS="1")
    with serve_app(fake_slack, database_url, clock, env) as app:
        call = app.start_call("start Standup")
        held = threading.Event()
        app.fake.fail_next("calls.add", hang=held)
        # The first start's job gives its place back just after its reply: wait for that.
        app.fake.wait_for(lambda: not app.slack.command("start Second", user=ALICE)[0].body)
        app.fake.wait_for(lambda: len(app.db.calls()) == 2)  # it holds the only place now
        try:
            yield app, call
        finally:
            held.set()
        app.fake.wait_for(lambda: len(app.sent("chat.postMessage")) == 2)
        app.settle()
        assert len(app.fake.attempts_to("calls.add")) == 2  # nothing refused reached Slack


def test_a_full_queue_says_busy_and_does_nothing(full_queue):
    app, _ = full_queue
    result, _ = app.slack.command("start Third", user=BOB)
    assert result.status == 200
    assert "calls-app is busy right now, so nothing was done" in result.body
    assert len(app.db.calls()) == 2  # Standup, and Second still starting: no Third


def test_a_full_queue_still_records_joins_and_tells_only_problems(full_queue):
    app, call = full_queue
    click, joined_url, _ = app.slack.click(
        "call_join", str(call.id), user=BOB, message_ts=call.message_ts
    )
    assert click.status == 200
    assert sorted(app.db.present(call.id)) == sorted([ALICE, BOB])  # recorded all the same
    typed = app.command("join", user=CAROL)  # a command is answered in its ack
    assert "You joined *Standup*" in reply_text(typed)
    click, left_url, _ = app.slack.click(
        "call_leave", str(call.id), user=ADMIN, message_ts=call.message_ts
    )
    assert click.status == 200
    problem = app.fake.wait_for_response(left_url)  # a problem still gets out
    assert "You're not in the call “Standup”" in reply_text(problem)
    app.settle(timeout=10)
    assert sorted(app.db.present(call.id)) == sorted([ALICE, BOB, CAROL])
    added = [u["slack_id"] for a in app.sent("calls.participants.add") for u in a["users"]]
    assert sorted(added) == sorted([BOB, CAROL])
    assert app.fake.responses_to(joined_url) == []  # no room for a "you joined": skipped
