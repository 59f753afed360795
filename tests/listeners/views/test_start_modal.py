"""Home's Start-a-call modal: opened from Home, checked before it closes, started after."""

from __future__ import annotations

from calls_app.models import CallState
from tests.conftest import ALICE, BOB, CAROL, GENERAL, OUTSIDE


def open_start_modal(app, user: str = ALICE) -> dict:
    before = len(app.fake.views)
    result, trigger_id = app.slack.click_in_home("home_start_call", "start", user=user)
    assert result.status == 200
    app.fake.wait_for(lambda: len(app.fake.views) > before)
    opened = app.fake.views[-1]
    assert opened["method"] == "views.open"
    assert opened["trigger_id"] == trigger_id
    return opened


def values(*, channel: str | None, title: str | None = None, people: list[str] | None = None):
    return {
        "channel_block": {
            "channel_input": {"type": "conversations_select", "selected_conversation": channel}
        },
        "title_block": {"title_input": {"type": "plain_text_input", "value": title}},
        "people_block": {
            "people_input": {"type": "multi_users_select", "selected_users": people or []}
        },
    }


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
