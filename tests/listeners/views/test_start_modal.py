"""Home's Start-a-call modal: opened from Home, checked before it closes, started after."""

from __future__ import annotations

import threading
import time

from calls_app.models import CallState
from calls_app.slack_gateway import MAX_MEMBER_PAGES, MEMBER_PAGE_SIZE
from tests.support.views import open_start_modal, values
from tests.support.workspace import ALICE, BOB, CAROL, GENERAL, OUTSIDE

CLOSED = "C0CLOSED"  # a public channel the app is in and Alice is not


def test_the_modal_defaults_to_the_last_channel_used(running_app):
    app = running_app
    first = open_start_modal(app)["view"]
    assert "initial_conversation" not in first["blocks"][0]["element"]
    app.start_call("start Standup")
    again = open_start_modal(app)["view"]
    assert again["blocks"][0]["element"]["initial_conversation"] == GENERAL


def test_submitting_starts_the_call_through_the_same_path_as_the_command(running_app):
    app = running_app
    opened = open_start_modal(app)
    result = app.slack.submit_view(
        opened["view"],
        values(channel=GENERAL, title="Planning poker", people=[BOB]),
        user=ALICE,
        view_id=opened["id"],
    )
    assert result.status == 200
    assert result.json()["response_action"] == "update"
    app.fake.wait_for(lambda: any(v["method"] == "views.update" for v in app.fake.views))
    (added,) = app.sent("calls.add")
    assert added["title"] == "Planning poker"
    assert added["created_by"] == ALICE
    posts = app.sent("chat.postMessage")
    assert [p["channel"] for p in posts] == [GENERAL, BOB]  # the call, then the invitation
    update = [v for v in app.fake.views if v["method"] == "views.update"][-1]
    assert update["view_id"] == opened["id"]
    assert "*Planning poker* is live" in update["view"]["blocks"][0]["text"]["text"]
    call = app.db.only_call()
    assert (call.state, call.channel_id, call.title) == (
        CallState.ACTIVE,
        GENERAL,
        "Planning poker",
    )


def test_without_a_title_the_call_is_named_after_the_channel(running_app):
    app = running_app
    opened = open_start_modal(app)
    app.slack.submit_view(opened["view"], values(channel=GENERAL), user=ALICE, view_id=opened["id"])
    app.fake.wait_for(lambda: app.sent("chat.postMessage"))
    assert app.sent("calls.add")[0]["title"] == "Call in #general"


def test_a_channel_the_app_is_not_in_is_a_field_error_and_nothing_starts(running_app):
    app = running_app
    opened = open_start_modal(app)
    result = app.slack.submit_view(
        opened["view"], values(channel=OUTSIDE, title="Nope"), user=ALICE, view_id=opened["id"]
    )
    body = result.json()
    assert body["response_action"] == "errors"
    assert "/invite @calls-app" in body["errors"]["channel_block"]
    assert app.fake.attempts_to("conversations.members") == []  # the app's membership first
    assert app.sent("calls.add") == []
    assert app.db.calls() == []


def test_an_unknown_channel_is_a_field_error(running_app):
    app = running_app
    opened = open_start_modal(app)
    result = app.slack.submit_view(
        opened["view"], values(channel="C0NOSUCH"), user=ALICE, view_id=opened["id"]
    )
    assert "channel_block" in result.json()["errors"]
    assert app.db.calls() == []


def test_no_channel_is_a_field_error(running_app):
    app = running_app
    opened = open_start_modal(app)
    result = app.slack.submit_view(
        opened["view"], values(channel=None), user=ALICE, view_id=opened["id"]
    )
    assert result.json() == {
        "response_action": "errors",
        "errors": {"channel_block": "Pick a channel."},
    }
    assert app.sent("conversations.info") == []


def test_too_many_people_is_a_field_error(running_app):
    app = running_app
    opened = open_start_modal(app)
    people = [f"U0MANY{i:04d}" for i in range(21)]
    result = app.slack.submit_view(
        opened["view"], values(channel=GENERAL, people=people), user=ALICE, view_id=opened["id"]
    )
    assert "at most 20" in result.json()["errors"]["people_block"]
    assert app.db.calls() == []


def test_a_failure_after_the_modal_closed_is_shown_in_the_modal(running_app):
    app = running_app
    opened = open_start_modal(app, user=CAROL)
    app.fake.fail_next("calls.add", error="not_authorized")
    app.slack.submit_view(
        opened["view"], values(channel=GENERAL, title="x"), user=CAROL, view_id=opened["id"]
    )
    app.fake.wait_for(lambda: any(v["method"] == "views.update" for v in app.fake.views))
    update = [v for v in app.fake.views if v["method"] == "views.update"][-1]
    assert "doesn't allow calls" in update["view"]["blocks"][0]["text"]["text"]
    assert [c.state for c in app.db.calls()] == [CallState.FAILED]


def test_the_check_before_closing_the_modal_does_not_retry_past_slacks_3_seconds(running_app):
    """A rate-limited check answers with a field error at once instead of sleeping through
    Retry-After while Slack gives up on the modal (and the person submits again)."""
    app = running_app
    opened = open_start_modal(app)
    app.fake.fail_next("conversations.info", status=429, retry_after=5)
    result = app.slack.submit_view(
        opened["view"], values(channel=GENERAL, title="x"), user=ALICE, view_id=opened["id"]
    )
    assert result.json()["response_action"] == "errors"
    assert "rate-limiting" in result.json()["errors"]["channel_block"]
    assert len(app.fake.attempts_to("conversations.info")) == 1
    assert app.db.calls() == []


def submit_in(app, channel: str, *, user: str = ALICE):
    opened = open_start_modal(app, user=user)
    return app.slack.submit_view(
        opened["view"], values(channel=channel, title="Sync"), user=user, view_id=opened["id"]
    )


def assert_nothing_started(app) -> None:
    assert app.sent("calls.add") == []
    assert app.sent("chat.postMessage") == []
    assert app.db.calls() == []


def test_a_public_channel_the_person_is_not_in_is_a_field_error_and_nothing_starts(running_app):
    """The picker offers public channels the person never joined; the app is in this one, so
    only their own membership stops them posting a call there."""
    app = running_app
    app.fake.add_channel(CLOSED, name="closed", members=[BOB, CAROL])
    result = submit_in(app, CLOSED)
    assert result.json() == {
        "response_action": "errors",
        "errors": {"channel_block": "You're not in that channel. Join it first, or pick another."},
    }
    (asked,) = app.sent("conversations.members")
    assert (asked["channel"], asked["limit"]) == (CLOSED, MEMBER_PAGE_SIZE)
    assert_nothing_started(app)


def test_a_member_of_the_channel_starts_the_call(running_app):
    app = running_app
    app.fake.add_channel(CLOSED, name="closed", members=[BOB, ALICE])
    result = submit_in(app, CLOSED)
    assert result.json()["response_action"] == "update"
    app.fake.wait_for(lambda: app.sent("chat.postMessage"))
    assert [p["channel"] for p in app.sent("chat.postMessage")] == [CLOSED]
    assert app.db.only_call().channel_id == CLOSED


def test_the_person_is_found_on_a_later_page_of_members(running_app):
    app = running_app
    app.fake.members_per_page = 2  # Slack may answer fewer than the 999 asked for
    app.fake.add_channel(CLOSED, name="closed", members=[BOB, CAROL, ALICE])
    result = submit_in(app, CLOSED)
    assert result.json()["response_action"] == "update"
    pages = app.sent("conversations.members")
    assert len(pages) == 2
    assert "cursor" not in pages[0] and pages[1]["cursor"]
    app.fake.wait_for(lambda: app.sent("chat.postMessage"))
    assert app.db.only_call().channel_id == CLOSED


def test_a_channel_too_big_to_check_before_the_modal_closes_is_refused(running_app):
    """Reading members stops after MAX_MEMBER_PAGES pages; someone not found by then is refused
    (they may not be in it) and told the way that works: the command in the channel."""
    app = running_app
    others = [f"U0OTHER{i:03d}" for i in range(MAX_MEMBER_PAGES)]
    for other in others:
        app.fake.add_user(other)
    app.fake.members_per_page = 1
    app.fake.add_channel(CLOSED, name="closed", members=[*others, ALICE])  # Alice: one too far
    result = submit_in(app, CLOSED)
    error = result.json()["errors"]["channel_block"]
    assert "too big" in error and "/call start" in error
    assert len(app.fake.attempts_to("conversations.members")) == MAX_MEMBER_PAGES
    assert_nothing_started(app)


def test_slack_failing_to_list_members_is_a_field_error_and_nothing_starts(running_app):
    app = running_app
    app.fake.fail_next("conversations.members", error="fetch_members_failed")
    result = submit_in(app, GENERAL)
    error = result.json()["errors"]["channel_block"]
    assert "couldn't tell me who is in that channel" in error and "Try again" in error
    assert_nothing_started(app)


def test_a_server_error_listing_members_is_not_retried_before_the_modal_closes(running_app):
    app = running_app
    app.fake.fail_next("conversations.members", status=503)
    result = submit_in(app, GENERAL)
    assert "Slack is having trouble" in result.json()["errors"]["channel_block"]
    assert len(app.fake.attempts_to("conversations.members")) == 1
    assert_nothing_started(app)


def test_both_checks_together_answer_within_slacks_3_seconds(running_app):
    """The app's and the person's membership share one time budget: a slow conversations.info
    leaves conversations.members only what is left of it, not a timeout of its own."""
    app = running_app
    opened = open_start_modal(app)
    release = threading.Event()
    app.fake.fail_next("conversations.info", delay=1.2)  # slow, then answered
    app.fake.fail_next("conversations.members", hang=release)
    try:
        began = time.monotonic()
        result = app.slack.submit_view(
            opened["view"], values(channel=GENERAL), user=ALICE, view_id=opened["id"]
        )
        elapsed = time.monotonic() - began
    finally:
        release.set()
    assert result.json()["response_action"] == "errors"
    assert "channel_block" in result.json()["errors"]
    assert elapsed < 2.6, elapsed
    assert_nothing_started(app)
