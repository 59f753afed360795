"""Self-hosted Jitsi's presence: Prosody's event_sync posts its JSON bodies to /jitsi/events/…,
and the call in Slack shows who is really in the meeting and ends with it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL

from calls_app.models import CallState, EndReason
from local_slack.web_api import FakeSlack
from tests.support.app import FakeClock, RunningApp, app_env, serve_app
from tests.support.jitsi import DOMAIN, TOKEN, deliver, join, leave, occupant_body
from tests.support.presence import now, present, reconciler_pass, start_meeting
from tests.support.workspace import ALICE, BOB

BOB_EMAIL = "bob@example.org"


@pytest.fixture
def jitsi_app(fake_slack: FakeSlack, database_url: URL, clock: FakeClock) -> Iterator[RunningApp]:
    fake_slack.add_user(BOB, email=BOB_EMAIL)
    env = app_env(fake_slack, database_url, JITSI_WEBHOOK_TOKEN=TOKEN, CALLS_EMPTY_GRACE="5m")
    with serve_app(fake_slack, database_url, clock, env) as app:
        yield app


def destroyed_body(room: str, *, breakout: str | None = None) -> dict:
    body = {
        "event_name": "muc-room-destroyed",
        "room_name": room,
        "room_jid": f"{room}@conference.{DOMAIN}",
        "is_breakout": breakout is not None,
        "created_at": 1,
        "destroyed_at": 2,
        "all_occupants": [],
    }
    if breakout is not None:
        body["breakout_room_id"] = breakout
    return body


def slack_users(app: RunningApp, call) -> list[dict]:
    return app.fake.calls[call.slack_call_id].users


def test_a_guest_who_joins_and_leaves_shows_in_slacks_call_as_external(jitsi_app):
    app = jitsi_app
    call, room, t = start_meeting(app)
    assert call.join_url == f"https://{DOMAIN}/{room}"  # the room event_sync names
    join(app, room, t)
    app.settle()
    (guest,) = [p for p in app.db.participants(call.id) if p.external_id]
    assert guest.display_name == "Dana Guest" and guest.left_at is None and guest.in_slack
    (added,) = app.sent("calls.participants.add")
    assert added["users"] == [
        {"external_id": guest.external_id, "display_name": "Dana Guest"}
    ]
    leave(app, room, t, t + 60)
    app.settle()
    (removed,) = app.sent("calls.participants.remove")
    # The remove names the guest as the add did: Slack ignores one with external_id alone.
    assert removed["users"] == [
        {"external_id": guest.external_id, "display_name": "Dana Guest"}
    ]
    assert slack_users(app, call) == []
    assert present(app, call.id) == []


def test_a_slack_member_is_shown_as_themselves_by_their_email(jitsi_app):
    app = jitsi_app
    call, room, t = start_meeting(app)
    join(app, room, t, name="Bob B", email=BOB_EMAIL.upper())
    app.settle()
    assert slack_users(app, call) == [{"slack_id": BOB}]
    assert present(app, call.id) == [BOB]
    (lookup,) = app.sent("users.lookupByEmail")
    assert lookup["email"] == BOB_EMAIL


@pytest.mark.parametrize("token", [None, "wrong-token", "", TOKEN + "x"])
def test_a_delivery_without_the_right_token_is_refused_and_changes_nothing(jitsi_app, token):
    app = jitsi_app
    call, room, t = start_meeting(app)
    result = deliver(
        app, "occupant/joined", occupant_body(room, "joined", joined_at=t), token=token
    )
    assert result.status == 401
    result = deliver(app, "room/destroyed", destroyed_body(room), token=token)
    assert result.status == 401
    app.settle()
    assert present(app, call.id) == []
    assert app.db.call(call.id).state == CallState.ACTIVE
    assert app.sent("calls.participants.add") == [] and app.sent("calls.end") == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b"\xff\xfe", 400),
        (json.dumps({"room_name": "x", "occupant": "nobody"}).encode(), 400),
        (b"{" + b" " * (1024 * 1024) + b"}", 413),
    ],
)
def test_a_body_that_is_not_an_event_is_refused_and_changes_nothing(jitsi_app, body, status):
    app = jitsi_app
    call = app.start_call("start Standup")
    assert deliver(app, "occupant/joined", body).status == status
    app.settle()
    assert present(app, call.id) == []
    assert [p.slack_user_id for p in app.db.participants(call.id)] == []


def test_unknown_paths_and_methods(jitsi_app):
    app = jitsi_app
    assert deliver(app, "occupant/teleported", {}).status == 404
    from local_slack.app_requests import get

    assert get(f"{app.base_url}/jitsi/events/occupant/joined").status == 405


def test_repeats_and_late_deliveries_change_nothing(jitsi_app):
    app = jitsi_app
    call, room, t = start_meeting(app)
    join(app, room, t)
    join(app, room, t)  # the same delivery again
    leave(app, room, t, t + 60)
    leave(app, room, t, t + 60)
    join(app, room, t)  # the first join, very late: older than the leave
    app.settle()
    assert present(app, call.id) == []
    # One add and one remove, or neither when the sync saw the join and the leave together.
    adds, removes = app.sent("calls.participants.add"), app.sent("calls.participants.remove")
    assert len(adds) == len(removes) <= 1
    assert slack_users(app, call) == []
    (guest,) = [p for p in app.db.participants(call.id) if p.external_id]
    assert guest.joined_at.timestamp() == t and guest.left_at.timestamp() == t + 60


def test_a_leave_older_than_the_last_join_is_ignored(jitsi_app):
    app = jitsi_app
    call, room, t = start_meeting(app)
    join(app, room, t)
    leave(app, room, t, t + 10)
    join(app, room, t + 20)  # back again
    leave(app, room, t, t + 10)  # the first leave, repeated late
    app.settle()
    assert present(app, call.id) == ["Dana Guest"]
    assert app.fake.calls[call.slack_call_id].users[-1]["display_name"] == "Dana Guest"


def test_a_leave_that_arrives_before_its_join_leaves_nobody_in_the_call(jitsi_app):
    app = jitsi_app
    call, room, t = start_meeting(app)
    leave(app, room, t, t + 30)
    join(app, room, t)
    app.settle()
    assert present(app, call.id) == []
    assert app.sent("calls.participants.add") == []
    assert slack_users(app, call) == []


@pytest.mark.parametrize("leave_first", [True, False])
def test_moving_into_a_breakout_room_keeps_the_person_in_the_call(jitsi_app, leave_first):
    app = jitsi_app
    call, room, t = start_meeting(app)
    join(app, room, t)
    steps = [
        lambda: leave(app, room, t, t + 60),
        lambda: join(app, room, t + 60, breakout="b1@breakout.meet.example.org"),
    ]
    for step in steps if leave_first else reversed(steps):
        step()
    # The breakout room goes when it is empty: not the call.
    assert deliver(app, "room/destroyed", destroyed_body(room, breakout="b1")).status == 200
    app.settle()
    assert present(app, call.id) == ["Dana Guest"]
    assert app.db.call(call.id).state == CallState.ACTIVE
    assert app.sent("calls.participants.remove") == []
    assert len(app.fake.calls[call.slack_call_id].users) == 1
    # Back from the breakout and then out: left.
    leave(app, room, t + 60, t + 120, breakout="b1@breakout.meet.example.org")
    join(app, room, t + 120)
    leave(app, room, t + 120, t + 180)
    app.settle()
    assert present(app, call.id) == []


def test_a_destroyed_room_ends_the_call_once(jitsi_app):
    app = jitsi_app
    call, room, t = start_meeting(app)
    join(app, room, t)
    app.clock.advance(minutes=20)
    assert deliver(app, "room/destroyed", destroyed_body(room)).status == 200
    assert deliver(app, "room/destroyed", destroyed_body(room)).status == 200  # reported twice
    app.fake.wait_for(lambda: app.db.call(call.id).state == CallState.ENDED, 5)
    app.settle()
    stored = app.db.call(call.id)
    assert stored.end_reason == EndReason.PROVIDER
    (ended,) = app.sent("calls.end")
    assert int(ended["duration"]) == 20 * 60
    text = app.fake.messages[0].blocks[-1]["elements"][0]["text"]
    assert text == "Ended when the meeting ended. It lasted 20 min."
    assert present(app, call.id) == []
    # Events for the ended call: answered, and nothing changes.
    assert deliver(app, "room/destroyed", destroyed_body(room)).status == 200
    join(app, room, t + 2000, jid="other@meet.example.org/x", name="Late")
    app.settle()
    assert len(app.sent("calls.end")) == 1
    assert [p.display_name for p in app.db.participants(call.id)] == ["Dana Guest"]


def test_events_for_a_room_the_app_does_not_know_change_nothing(jitsi_app):
    app = jitsi_app
    call = app.start_call("start Standup")
    join(app, "some-other-room", now(app))
    assert deliver(app, "room/destroyed", destroyed_body("some-other-room")).status == 200
    assert (
        deliver(
            app,
            "room/created",
            {"room_name": "calls-new", "is_breakout": False, "created_at": now(app)},
        ).status
        == 200
    )
    app.settle()
    assert app.db.call(call.id).state == CallState.ACTIVE
    assert [p.slack_user_id for p in app.db.participants(call.id)] == []


def test_the_empty_call_rule_works_on_real_presence(jitsi_app, database_url):
    app = jitsi_app
    app.fake.add_user(ALICE, email="alice@example.org")
    call, room, t = start_meeting(app)
    join(app, room, t, jid="a@meet.example.org/1", name="Alice", email="alice@example.org")
    join(app, room, t)
    leave(app, room, t, t + 60, jid="a@meet.example.org/1", name="Alice", email="alice@example.org")
    leave(app, room, t, t + 120)
    app.settle()
    assert present(app, call.id) == []
    reconcile = reconciler_pass(app, database_url, JITSI_WEBHOOK_TOKEN=TOKEN)
    app.clock.advance(seconds=120 + 4 * 60)
    assert reconcile() == {}
    app.clock.advance(seconds=61)
    assert reconcile() == {"ended when empty": 1}
    assert app.db.call(call.id).end_reason == EndReason.EMPTY


def test_a_call_whose_meeting_nobody_joins_ends_when_empty(jitsi_app, database_url):
    app = jitsi_app
    call = app.start_call("start Standup")
    # The starter ran the command; the meeting says nobody is in it, so nobody is.
    assert present(app, call.id) == []
    assert app.sent("calls.add")[0]["users"] == []
    reconcile = reconciler_pass(app, database_url, JITSI_WEBHOOK_TOKEN=TOKEN)
    app.clock.advance(minutes=4, seconds=59)
    assert reconcile() == {}
    app.clock.advance(seconds=2)
    assert reconcile() == {"ended when empty": 1}
    assert app.db.call(call.id).end_reason == EndReason.EMPTY
    assert app.fake.calls[call.slack_call_id].ended
