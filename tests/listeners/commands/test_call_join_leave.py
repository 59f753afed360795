"""`/call join` and `/call leave`."""

from __future__ import annotations

from tests.support.app import reply_text
from tests.support.workspace import ALICE, BOB, CAROL


def test_join_registers_the_person_and_offers_the_link(running_app):
    app = running_app
    call = app.start_call("start Standup")
    reply = app.command("join", user=BOB)
    assert app.db.present(call.id) == [ALICE, BOB]  # recorded before the ack
    app.settle()
    assert app.sent("calls.participants.add") == [
        {"id": call.slack_call_id, "users": [{"slack_id": BOB}]}
    ]
    assert "You joined *Standup*" in reply_text(reply)
    link = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert link[0]["url"] == call.join_url


def test_joining_twice_registers_once(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.command("join", user=BOB)
    reply = app.command("join", user=BOB)
    assert "already in" in reply_text(reply)
    app.settle()
    assert len(app.sent("calls.participants.add")) == 1
    assert len(app.db.participants(call.id)) == 2


def test_leave_unregisters_and_rejoin_works(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.command("join", user=BOB)
    app.settle()
    reply = app.command("leave", user=BOB)
    assert "You left *Standup*" in reply_text(reply)
    app.settle()
    assert app.sent("calls.participants.remove") == [
        {"id": call.slack_call_id, "users": [{"slack_id": BOB}]}
    ]
    assert app.db.present(call.id) == [ALICE]
    assert app.fake.calls[call.slack_call_id].users == [{"slack_id": ALICE}]
    app.command("join", user=BOB)
    assert app.db.present(call.id) == [ALICE, BOB]
    assert len(app.db.participants(call.id)) == 2  # one row per person, reused
    app.settle()
    assert app.fake.calls[call.slack_call_id].users == [{"slack_id": ALICE}, {"slack_id": BOB}]


def test_leave_when_not_in_the_call_changes_nothing(running_app):
    app = running_app
    call = app.start_call("start Standup")
    reply = app.command("leave", user=BOB)
    assert "You're not in the call “Standup”" in reply_text(reply)
    assert app.sent("calls.participants.remove") == []
    assert app.db.present(call.id) == [ALICE]


def test_join_with_no_call_running(running_app):
    reply = running_app.command("join", user=BOB)
    assert "no call running" in reply_text(reply)
    assert running_app.sent("calls.participants.add") == []


def test_join_an_ended_call_is_refused(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.command("end", user=ALICE)
    reply = app.click("call_join", str(call.id), user=BOB)
    assert "already ended" in reply_text(reply)
    assert app.sent("calls.participants.add") == []
    assert app.db.present(call.id) == []


def test_a_join_slack_refuses_is_sent_with_the_next_change(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("calls.participants.add", error="internal_error")
    reply = app.command("join", user=BOB)
    assert "You joined *Standup*" in reply_text(reply)  # recorded: Slack hears of it later
    app.settle()
    assert app.sent("calls.participants.add") == []  # refused, and not asked again at once
    assert app.db.present(call.id) == [ALICE, BOB]
    app.command("join", user=CAROL)
    app.settle()
    assert app.sent("calls.participants.add") == [
        {"id": call.slack_call_id, "users": [{"slack_id": BOB}, {"slack_id": CAROL}]}
    ]


def test_leave_picks_the_one_call_you_are_in_when_several_run(running_app):
    app = running_app
    first = app.start_call("start One")
    second = app.start_call("start Two", user=BOB)
    reply = app.command("leave", user=BOB)
    assert "You left *Two*" in reply_text(reply)
    assert app.db.present(second.id) == []
    assert app.db.present(first.id) == [ALICE]


def test_a_rejoin_and_a_leave_in_one_window_reach_slack_as_they_ended(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.command("join", user=BOB)
    app.settle()
    app.fake.fail_next("calls.participants.remove", delay=0.5)  # the next sync is slow
    app.command("leave", user=BOB)
    app.fake.wait_for(lambda: app.fake.attempts_to("calls.participants.remove"))
    app.command("join", user=BOB)
    app.command("join", user=CAROL)
    app.settle()
    # Bob left, then came back while Slack was hearing that he left: Slack lists him again.
    assert [u["slack_id"] for u in app.fake.calls[call.slack_call_id].users] == [
        ALICE,
        BOB,
        CAROL,
    ]
    added = [u["slack_id"] for a in app.sent("calls.participants.add") for u in a["users"]]
    assert sorted(added) == sorted([BOB, BOB, CAROL])  # Bob's first join and his return
    (bob,) = [p for p in app.db.participants(call.id) if p.slack_user_id == BOB]
    assert bob.left_at is None and bob.in_slack
