"""Races with real threads: clicks landing at the same moment change state once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from calls_app.models import CallState
from tests.support.app import reply_text
from tests.support.reconciler import build_store, posted_then_died, registered_call
from tests.support.workspace import ADMIN, ALICE, BOB, CAROL, OWNER

CLICKS = 8


def click_at_once(app, action_id: str, value: str, users: list[str]) -> list[dict]:
    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        futures = [pool.submit(app.click, action_id, value, user=user) for user in users]
        return [f.result() for f in futures]


def test_end_clicked_many_times_at_once_ends_the_call_once(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("calls.end", delay=0.3)  # keep the winner busy while the others arrive
    replies = [
        reply_text(r) for r in click_at_once(app, "call_end", str(call.id), [ALICE] * CLICKS)
    ]

    assert len(app.fake.attempts_to("calls.end")) == 1
    assert sum("You ended *Standup*" in r for r in replies) == 1
    losers = [r for r in replies if "You ended" not in r]
    assert all("already ended" in r or "being ended right now" in r for r in losers), losers
    assert len(app.sent("chat.update")) == 1
    stored = app.db.call(call.id)
    assert stored.state == CallState.ENDED
    assert stored.ended_by == ALICE


def test_join_clicked_many_times_at_once_registers_once(running_app):
    app = running_app
    call = app.start_call("start Standup")
    replies = [reply_text(r) for r in click_at_once(app, "call_join", str(call.id), [BOB] * CLICKS)]

    app.settle()
    assert app.sent("calls.participants.add") == [
        {"id": call.slack_call_id, "users": [{"slack_id": BOB}]}
    ]
    assert sum("You joined" in r for r in replies) == 1
    assert sum("already in" in r for r in replies) == CLICKS - 1
    assert [p.slack_user_id for p in app.db.participants(call.id)] == [ALICE, BOB]


def test_many_people_joining_at_once_are_all_registered(running_app):
    app = running_app
    people = [f"U0PERSON{i:02d}" for i in range(CLICKS)]
    for person in people:
        app.fake.add_user(person)
    call = app.start_call("start All hands")
    click_at_once(app, "call_join", str(call.id), people)

    app.settle()
    added = [u["slack_id"] for a in app.sent("calls.participants.add") for u in a["users"]]
    assert sorted(added) == people  # each person once, however the presses were batched
    assert sorted(app.db.present(call.id)) == sorted([ALICE, *people])
    assert len(app.fake.calls[call.slack_call_id].users) == CLICKS + 1


def test_join_and_end_racing_leave_slack_and_the_database_agreeing(running_app):
    app = running_app
    people = [f"U0RACER{i:02d}" for i in range(CLICKS)]
    for person in people:
        app.fake.add_user(person)
    call = app.start_call("start Standup")
    with ThreadPoolExecutor(max_workers=CLICKS + 1) as pool:
        joins = [pool.submit(app.click, "call_join", str(call.id), user=p) for p in people]
        end = pool.submit(app.click, "call_end", str(call.id), user=ALICE)
        [f.result() for f in [*joins, end]]

    assert len(app.sent("calls.end")) == 1
    stored = app.db.call(call.id)
    assert stored.state == CallState.ENDED
    assert app.db.present(call.id) == []  # nobody is left "in" an ended call
    app.settle()
    # Slack listed nobody the database doesn't know took part, and nobody twice; joins
    # recorded as the end began stay unsent (Slack's list of an ended call is closed).
    took_part = {p.slack_user_id for p in app.db.participants(call.id)} - {ALICE}
    accepted = [u["slack_id"] for a in app.sent("calls.participants.add") for u in a["users"]]
    assert set(accepted) <= took_part
    assert len(accepted) == len(set(accepted))
    accepted_in_order = [r.method for r in app.fake.requests if r.ok]
    after_end = accepted_in_order[accepted_in_order.index("calls.end") :]
    assert "calls.participants.add" not in after_end


def test_starts_at_once_make_distinct_calls(running_app):
    app = running_app
    # Several people: one may have no more than CALLS_MAX_LIVE_PER_PERSON (5) calls running.
    people = [ALICE, BOB, CAROL, ADMIN, OWNER]

    def start(i: int):
        return app.slack.command(f"start Call {i}", user=people[i % len(people)])

    with ThreadPoolExecutor(max_workers=CLICKS) as pool:
        results = list(pool.map(start, range(CLICKS)))
    for _, response_url in results:
        app.fake.wait_for_response(response_url)
    calls = app.db.calls()
    assert len(calls) == CLICKS
    assert all(c.state == CallState.ACTIVE for c in calls)
    assert len({c.slack_call_id for c in calls}) == CLICKS
    assert len(app.sent("calls.add")) == CLICKS


def test_an_end_before_the_message_is_recorded_still_updates_the_message(running_app):
    """End pressed while the start still waits on chat.postMessage: whoever learns last of
    the two (the end, or where the message is) brings the message up to date."""
    app = running_app
    posted = threading.Event()
    app.fake.fail_next("chat.postMessage", hang=posted)
    result, start_reply = app.slack.command("start Standup", user=ALICE)
    assert result.status == 200
    app.fake.wait_for(lambda: app.sent("calls.add") and app.db.calls()[0].state == "active")
    ended = app.command("end", user=ALICE)
    assert "You ended *Standup*" in reply_text(ended)
    assert app.sent("chat.update") == []  # no message known yet
    posted.set()
    app.fake.wait_for_response(start_reply)
    app.fake.wait_for(lambda: app.sent("chat.update"))
    (update,) = app.sent("chat.update")
    assert update["ts"] == app.fake.messages[0].ts
    assert [b["type"] for b in update["blocks"]] == ["call", "context"]
    assert app.db.only_call().state == CallState.ENDED


def test_presses_at_once_on_a_message_nobody_recorded_keep_its_buttons(running_app):
    app = running_app
    people = [f"U0PERSON{i:02d}" for i in range(CLICKS)]
    for person in people:
        app.fake.add_user(person)
    store = build_store(app)
    for attempt in range(3):  # the race is narrow: give it three chances to show
        call = registered_call(app, store, f"Orphan {attempt}")
        ts = posted_then_died(app, call)  # its starter died before recording it
        app.clock.advance(seconds=61)
        with ThreadPoolExecutor(max_workers=CLICKS) as pool:
            futures = [
                pool.submit(app.click, "call_join", str(call.id), user=person, message_ts=ts)
                for person in people
            ]
            replies = [reply_text(f.result()) for f in futures]

        assert all(f"You joined *Orphan {attempt}*" in r for r in replies), replies
        assert app.db.call(call.id).message_ts == ts
        (message,) = [m for m in app.fake.messages if m.ts == ts]
        assert "is shown in another message" not in message.text  # one press adopted it
        assert message.blocks[0]["type"] == "call"
        assert sorted(app.db.present(call.id)) == sorted([ALICE, *people])
