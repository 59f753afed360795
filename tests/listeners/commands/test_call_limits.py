"""How many calls may run at once: CALLS_MAX_LIVE_PER_CHANNEL and CALLS_MAX_LIVE_PER_PERSON.
A start past either is refused before anything reaches Slack or the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from calls_app.models import CallState
from tests.support.app import RunningApp, app_env, reply_text, serve_app
from tests.support.views import open_start_modal, values
from tests.support.workspace import ADMIN, ALICE, BOB, CAROL, GENERAL, OWNER

RANDOM = "C0RANDOM01"  # a second channel the app is in
CHANNEL_FULL = "This channel already has the most calls it may have running at once"
PERSON_FULL = "You already have the most calls one person may have running at once"


@pytest.fixture
def limited(fake_slack, database_url, clock) -> Iterator[RunningApp]:
    """Two calls per channel, three per person."""
    fake_slack.add_channel(RANDOM, name="random")
    env = app_env(
        fake_slack,
        database_url,
        CALLS_MAX_LIVE_PER_CHANNEL="2",
        CALLS_MAX_LIVE_PER_PERSON="3",
    )
    with serve_app(fake_slack, database_url, clock, env) as app:
        yield app


def refused_start(app: RunningApp, text: str, *, user: str, channel: str = GENERAL) -> str:
    """A start the limits refuse: nothing reaches Slack, nothing is stored; the reply."""
    requests, calls = len(app.fake.requests), len(app.db.calls())
    reply = app.command(text, user=user, channel=channel)
    assert reply["response_type"] == "ephemeral"
    assert app.fake.requests[requests:] == []
    assert len(app.db.calls()) == calls
    return reply_text(reply)


def test_a_start_past_the_channels_limit_is_refused_naming_it(limited):
    app = limited
    app.start_call("start One", user=ALICE)
    app.start_call("start Two", user=BOB)
    text = refused_start(app, "start Three", user=CAROL)
    assert f"{CHANNEL_FULL} (2). End one before starting another." in text
    # Another channel is not this one's business.
    app.start_call("start Elsewhere", user=CAROL, channel=RANDOM)


def test_an_ended_or_failed_call_leaves_room_in_the_channel(limited):
    app = limited
    app.start_call("start One", user=ALICE)
    app.fake.fail_next("calls.add", error="internal_error")
    app.command("start Fails", user=BOB)
    app.start_call("start Two", user=BOB)
    assert [c.state for c in app.db.calls()] == [
        CallState.ACTIVE,
        CallState.FAILED,
        CallState.ACTIVE,
    ]
    refused_start(app, "start Three", user=CAROL)
    first = app.db.calls()[0]
    app.click("call_end", str(first.id), user=ALICE)
    assert app.db.call(first.id).state == CallState.ENDED
    app.start_call("start Three", user=CAROL)


def test_a_start_past_the_persons_limit_is_refused_naming_it(limited):
    app = limited
    app.start_call("start One", user=ALICE)
    app.start_call("start Two", user=ALICE, channel=RANDOM)
    app.start_call("start Three", user=ALICE, channel=RANDOM)
    text = refused_start(app, "start Four", user=ALICE)
    assert f"{PERSON_FULL} (3). End one before starting another." in text
    # Calls others started don't count against her, nor hers against them.
    app.start_call("start Bob's", user=BOB)


def test_the_default_limits_are_ten_per_channel_and_five_per_person(running_app):
    app = running_app
    for title in ("A1", "A2", "A3", "A4", "A5"):
        app.start_call(f"start {title}", user=ALICE)
    assert PERSON_FULL in refused_start(app, "start A6", user=ALICE)
    for title in ("B1", "B2", "B3", "B4", "B5"):
        app.start_call(f"start {title}", user=BOB)
    assert CHANNEL_FULL in refused_start(app, "start C1", user=CAROL)
    # Status asks Slack about each call: no more than the channel's limit.
    reply = app.command("status", user=CAROL)
    assert len(app.sent("calls.info")) == 10
    assert len(reply["blocks"]) == 10


def test_status_asks_slack_about_no_more_calls_than_the_channels_limit(
    fake_slack, database_url, clock
):
    """More calls than the limit can run (a limit lowered, starts racing): status still asks
    Slack about as many as the limit, the oldest."""
    with serve_app(fake_slack, database_url, clock, app_env(fake_slack, database_url)) as app:
        calls = [
            app.start_call(f"start {title}", user=user)
            for title, user in (("One", ALICE), ("Two", BOB), ("Three", CAROL))
        ]
    env = app_env(fake_slack, database_url, CALLS_MAX_LIVE_PER_CHANNEL="2")
    with serve_app(fake_slack, database_url, clock, env) as app:
        reply = app.command("status", user=ADMIN)
        assert [r["id"] for r in app.sent("calls.info")] == [c.slack_call_id for c in calls[:2]]
        assert [b["text"]["text"].split("\n")[0] for b in reply["blocks"]] == ["*One*", "*Two*"]
        # …and a fourth is refused.
        assert CHANNEL_FULL in refused_start(app, "start Four", user=OWNER)


def test_the_start_modal_says_why_a_call_was_not_started(limited):
    app = limited
    app.start_call("start One", user=ALICE)
    app.start_call("start Two", user=BOB)
    opened = open_start_modal(app, user=CAROL)
    app.slack.submit_view(
        opened["view"], values(channel=GENERAL, title="Three"), user=CAROL, view_id=opened["id"]
    )

    def not_started() -> list[dict]:
        return [
            v["view"]
            for v in app.fake.views
            if v["method"] == "views.update" and v["view"]["title"]["text"] == "Call not started"
        ]

    app.fake.wait_for(not_started)
    [view] = not_started()
    assert CHANNEL_FULL in view["blocks"][0]["text"]["text"]
    assert len(app.sent("calls.add")) == 2
    assert len(app.db.calls()) == 2
