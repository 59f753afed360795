"""`/call end`: calls.end with the duration in seconds, the message updated, the rules."""

from __future__ import annotations

from calls_app.models import CallState
from tests.support.app import reply_text
from tests.support.workspace import ADMIN, ALICE, BOB, OWNER


def test_end_sends_the_duration_in_seconds_and_updates_the_message(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.clock.advance(minutes=12, seconds=30)
    reply = app.command("end", user=ALICE)

    (ended,) = app.sent("calls.end")
    assert ended["id"] == call.slack_call_id
    assert int(ended["duration"]) == 750  # seconds, not milliseconds
    assert app.fake.calls[call.slack_call_id].ended

    (update,) = app.sent("chat.update")
    assert (update["channel"], update["ts"]) == (call.message_channel_id, call.message_ts)
    assert update["blocks"][0] == {"type": "call", "call_id": call.slack_call_id}
    context = update["blocks"][-1]["elements"][0]["text"]
    assert context == f"Ended by <@{ALICE}>. It lasted 12 min."
    assert not [b for b in update["blocks"] if b["type"] == "actions"]  # no buttons left

    stored = app.db.call(call.id)
    assert stored.state == CallState.ENDED
    assert stored.duration_seconds == 750
    assert stored.ended_by == ALICE
    assert stored.ended_at == app.clock()
    assert app.db.present(call.id) == []
    assert "You ended *Standup*" in reply_text(reply)


def test_end_with_no_call_running_says_so(running_app):
    app = running_app
    reply = app.command("end", user=ALICE)
    assert "no call running in this channel" in reply_text(reply)
    assert app.sent("calls.end") == []


def test_end_an_ended_call_says_it_already_ended(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.command("end", user=ALICE)
    reply = app.click("call_end", str(call.id), user=ALICE)
    assert "already ended" in reply_text(reply)
    assert len(app.sent("calls.end")) == 1


def test_someone_else_may_not_end_the_call_and_nothing_changes(running_app):
    app = running_app
    call = app.start_call("start Standup")
    reply = app.command("end", user=BOB)
    assert "Only the person who started this call or a workspace admin can end it" in reply_text(
        reply
    )
    assert reply["response_type"] == "ephemeral"
    assert app.sent("calls.end") == []
    assert app.sent("chat.update") == []
    assert app.db.call(call.id).state == CallState.ACTIVE
    assert app.sent("users.info") == [{"user": BOB}]


def test_a_workspace_admin_or_owner_may_end_someone_elses_call(running_app):
    app = running_app
    first = app.start_call("start One", channel="C0GENERAL")
    app.command("end", user=ADMIN)
    assert app.db.call(first.id).state == CallState.ENDED
    assert app.db.call(first.id).ended_by == ADMIN
    app.start_call("start Two")
    app.command("end", user=OWNER)
    assert [c.state for c in app.db.calls()] == [CallState.ENDED, CallState.ENDED]


def test_the_creator_ends_without_any_users_info_lookup(running_app):
    app = running_app
    app.start_call("start Standup")
    app.command("end", user=ALICE)
    assert app.sent("users.info") == []


def test_admin_checks_are_cached(running_app):
    app = running_app
    app.start_call("start Standup")
    app.command("end", user=BOB)
    app.command("rename Nope", user=BOB)
    assert len(app.sent("users.info")) == 1


def test_calls_end_failing_leaves_the_call_live_and_says_why(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("calls.end", error="missing_scope")
    reply = app.command("end", user=ALICE)
    assert "missing a Slack permission" in reply_text(reply)
    stored = app.db.call(call.id)
    assert stored.state == CallState.ACTIVE
    assert stored.ended_at is None and stored.ended_by is None
    assert app.sent("chat.update") == []
    # …and it can still be ended afterwards.
    app.command("end", user=ALICE)
    assert app.db.call(call.id).state == CallState.ENDED
