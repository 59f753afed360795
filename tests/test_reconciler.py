"""The reconciler, rule by rule, with the app's clock moved by the test; and its CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient

from calls_app import blocks
from calls_app.bolt_app import build_parts, build_reconciler
from calls_app.config import load_settings
from calls_app.models import CallState, EndReason
from calls_app.store import CallStore, NewCall
from tests.conftest import ALICE, BOB, CAROL, GENERAL, app_env, reply_text

ROOT = Path(__file__).resolve().parent.parent
LEASE = timedelta(seconds=60)


@pytest.fixture
def new_reconciler(running_app, database_url):
    """A reconciler over the running app's database, as another instance would run it."""
    settings = load_settings(
        app_env(running_app.fake, database_url, CALLS_MAX_DURATION="12h", CALLS_EMPTY_GRACE="5m")
    )
    return lambda: build_reconciler(
        build_parts(settings, running_app.db.engine, clock=running_app.clock)
    )


@pytest.fixture
def reconcile(new_reconciler):
    """One pass, as the background thread makes it."""
    return new_reconciler().run_once


def slack_client(app) -> WebClient:
    """Slack itself, acting on its own (a user in Slack's UI, another app): no retries."""
    return WebClient(token=app.fake.bot_token, base_url=app.fake.base_url, retry_handlers=[])


def test_a_call_past_the_time_limit_is_ended_and_says_so(running_app, reconcile):
    app = running_app
    call = app.start_call("start Forgotten")
    app.clock.advance(hours=11, minutes=59)
    assert reconcile() == {}
    app.clock.advance(minutes=1, seconds=1)
    assert reconcile() == {"ended over the time limit": 1}
    (ended,) = app.sent("calls.end")
    assert (ended["id"], ended["duration"]) == (call.slack_call_id, 12 * 3600 + 1)
    stored = app.db.call(call.id)
    assert (stored.state, stored.end_reason, stored.ended_by) == (
        CallState.ENDED,
        EndReason.MAX_DURATION,
        None,
    )
    context = app.fake.messages[0].blocks[-1]["elements"][0]["text"]
    assert context.startswith("Ended automatically: it reached the longest a call may run.")
    assert reconcile() == {}  # once


def test_a_call_everyone_left_ends_after_the_grace_period(running_app, reconcile):
    app = running_app
    call = app.start_call("start Standup")
    app.command("join", user=BOB)
    app.command("leave", user=BOB)
    app.settle()
    app.clock.advance(minutes=10)
    assert reconcile() == {}  # Alice is still in it
    app.command("leave", user=ALICE)
    app.settle()
    app.clock.advance(minutes=4, seconds=59)
    assert reconcile() == {}
    app.clock.advance(seconds=2)
    assert reconcile() == {"ended when empty": 1}
    stored = app.db.call(call.id)
    assert (stored.state, stored.end_reason) == (CallState.ENDED, EndReason.EMPTY)
    assert "after everyone left" in app.fake.messages[0].blocks[-1]["elements"][0]["text"]


def test_an_end_interrupted_by_a_crash_is_finished_once_its_lease_runs_out(running_app, reconcile):
    app = running_app
    call = app.start_call("start Standup")
    store = build_store(app)
    # The process that pressed End died right after claiming the call: calls.end never sent.
    assert store.claim_ending(
        call.id, by=BOB, reason=EndReason.PERSON, now=app.clock(), lease=LEASE
    )
    assert reconcile() == {}
    app.clock.advance(seconds=61)
    assert reconcile() == {"finished ends": 1}
    assert len(app.sent("calls.end")) == 1
    stored = app.db.call(call.id)
    assert (stored.state, stored.ended_by, stored.end_reason) == (
        CallState.ENDED,
        BOB,
        EndReason.PERSON,
    )
    assert stored.duration_seconds == 0  # counted to when End was pressed, not to recovery


def test_a_registered_call_whose_message_was_never_posted_gets_it(running_app, reconcile):
    app = running_app
    call = registered_call(app, build_store(app), "Orphan")
    slack_id = call.slack_call_id
    assert reconcile() == {}  # its starter may still be at it
    app.clock.advance(seconds=61)
    assert reconcile() == {"posted messages": 1}
    (posted,) = app.sent("chat.postMessage")
    assert posted["blocks"][0] == {"type": "call", "call_id": slack_id}
    stored = app.db.call(call.id)
    assert stored.message_ts == app.fake.messages[0].ts
    assert reconcile() == {}


def posted_then_died(app, call) -> str:
    """The call's message, posted as its starter posts it; the starter died before recording
    it. Returns the message's ts."""
    message = blocks.live_call_message(call)
    posted = slack_client(app).chat_postMessage(
        channel=GENERAL, text=message.text, blocks=message.blocks
    )
    return posted["ts"]


def test_a_message_its_starter_died_before_recording_becomes_the_calls_at_a_press(
    running_app, reconcile
):
    app = running_app
    call = registered_call(app, build_store(app), "Orphan")
    ts = posted_then_died(app, call)
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=ts)
    # Its starter's lease still runs: for all we know it may yet withdraw the call.
    assert "That call is still starting" in reply_text(reply)
    assert app.db.call(call.id).message_ts is None
    app.clock.advance(seconds=61)
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=ts)
    assert "You joined *Orphan*" in reply_text(reply)
    stored = app.db.call(call.id)
    assert (stored.message_channel_id, stored.message_ts) == (GENERAL, ts)
    assert app.db.present(call.id) == [ALICE, BOB]
    assert reconcile() == {}  # nothing left to post: one message, the one people use
    assert [m.ts for m in app.fake.messages] == [ts]
    app.command("end", user=ALICE)
    (message,) = app.fake.messages
    assert message.updates == 1 and "Call ended" in message.text


def test_a_press_on_the_unrecorded_message_of_an_ended_call_shows_it_ended(running_app):
    app = running_app
    call = registered_call(app, build_store(app), "Orphan")
    ts = posted_then_died(app, call)
    assert "You ended *Orphan*" in reply_text(app.command("end", user=ALICE))
    assert app.sent("chat.update") == []  # the ender can't know where it is shown
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=ts)
    assert "has already ended" in reply_text(reply)
    (message,) = app.fake.messages
    assert message.ts == ts and message.updates == 1 and "Call ended" in message.text
    assert app.db.call(call.id).message_ts == ts
    assert app.db.present(call.id) == []


def test_a_press_on_the_unrecorded_message_of_a_call_being_ended_gives_it_to_the_ender(
    running_app, reconcile
):
    app = running_app
    store = build_store(app)
    call = registered_call(app, store, "Orphan")
    ts = posted_then_died(app, call)
    app.clock.advance(seconds=61)  # the dead starter's lease is over
    assert store.claim_ending(  # an ender holds the call, and then dies too
        call.id, by=ALICE, reason=EndReason.PERSON, now=app.clock(), lease=LEASE
    )
    reply = app.click("call_join", str(call.id), user=BOB, message_ts=ts)
    assert "“Orphan” is being ended right now" in reply_text(reply)
    assert app.db.call(call.id).message_ts == ts  # so whoever finishes the end shows it
    (message,) = app.fake.messages
    assert message.updates == 0  # not taken for a copy: its buttons stay until the end
    app.clock.advance(seconds=61)
    assert reconcile() == {"finished ends": 1}
    (message,) = app.fake.messages
    assert message.updates == 1 and "Call ended" in message.text
    assert app.db.present(call.id) == []


def test_a_pending_message_the_reconciler_cannot_post_withdraws_the_call(running_app, reconcile):
    app = running_app
    call = registered_call(app, build_store(app), "Orphan")
    app.clock.advance(seconds=61)
    app.fake.fail_next("chat.postMessage", status=503)
    assert reconcile() == {}
    (ended,) = app.sent("calls.end")  # nobody can see it: withdrawn from Slack
    assert ended["id"] == call.slack_call_id and app.fake.calls[call.slack_call_id].ended
    assert app.db.call(call.id).state == CallState.FAILED
    assert app.fake.messages == []


def test_a_second_message_of_a_call_loses_its_buttons_when_pressed(running_app, reconcile):
    app = running_app
    call = registered_call(app, build_store(app), "Twice")
    first = posted_then_died(app, call)
    app.clock.advance(seconds=61)
    assert reconcile() == {"posted messages": 1}  # the reconciler can't know of the first
    second = app.db.call(call.id).message_ts
    assert second not in (None, first)
    reply = app.click("call_end", str(call.id), user=ALICE, message_ts=first)
    assert "You ended *Twice*" in reply_text(reply)
    copy, recorded = sorted(app.fake.messages_in(GENERAL), key=lambda m: float(m.ts))
    assert (copy.ts, recorded.ts) == (first, second)
    assert "Twice is shown in another message" in copy.text
    assert [block["type"] for block in copy.blocks] == ["section"]  # no call card, no button
    assert "Call ended" in recorded.text
    assert app.db.call(call.id).state == CallState.ENDED


def test_a_start_that_never_reached_slack_is_marked_failed(running_app, reconcile):
    app = running_app
    store = build_store(app)
    now = app.clock()
    call = store.create_starting(
        NewCall("T0001", None, GENERAL, "Ghost", "https://x.example/g", ALICE, now),
        lease_until=now + LEASE,
    )
    assert reconcile() == {}
    app.clock.advance(seconds=61)
    assert reconcile() == {"abandoned starts": 1}
    assert app.db.call(call.id).state == CallState.FAILED
    assert [r.method for r in app.fake.requests if r.method != "auth.test"] == []


def test_a_call_ended_in_slack_is_ended_here_without_another_calls_end(running_app, reconcile):
    app = running_app
    call = app.start_call("start Standup")
    slack_client(app).calls_end(id=call.slack_call_id, duration=30)
    assert reconcile() == {"repaired drift": 1}
    assert len(app.fake.attempts_to("calls.end")) == 1  # only Slack's own
    stored = app.db.call(call.id)
    assert (stored.state, stored.end_reason) == (CallState.ENDED, EndReason.SLACK)
    assert "Ended in Slack" in app.fake.messages[0].blocks[-1]["elements"][0]["text"]


def test_participants_drift_is_repaired_to_match_the_database(running_app, reconcile):
    app = running_app
    call = app.start_call("start Standup")
    app.command("join", user=BOB)
    app.settle()
    slack = slack_client(app)
    slack.calls_participants_remove(id=call.slack_call_id, users=[{"slack_id": BOB}])
    slack.calls_participants_add(id=call.slack_call_id, users=[{"slack_id": CAROL}])
    assert reconcile() == {"repaired drift": 1}
    app.settle()
    assert app.fake.calls[call.slack_call_id].users == [{"slack_id": ALICE}, {"slack_id": BOB}]
    assert app.sent("calls.participants.add")[-1]["users"] == [{"slack_id": BOB}]
    assert app.sent("calls.participants.remove")[-1]["users"] == [{"slack_id": CAROL}]
    assert reconcile() == {}  # nothing left to repair


def test_instances_reconciling_at_once_end_a_call_once(running_app, new_reconciler):
    app = running_app
    app.start_call("start Forgotten")
    app.clock.advance(hours=13)
    app.fake.fail_next("calls.end", delay=0.3)
    instances = [new_reconciler() for _ in range(4)]  # each with its own pass lock
    results = []
    threads = [threading.Thread(target=lambda r=r: results.append(r.run_once())) for r in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 4
    assert len(app.fake.attempts_to("calls.end")) == 1
    assert sum(r.get("ended over the time limit", 0) for r in results) == 1


def test_the_command_line_runs_one_pass(running_app, database_url):
    app = running_app
    call = app.start_call("start Forgotten")
    env = {
        **os.environ,
        **app_env(app.fake, database_url, CALLS_MAX_DURATION="1s"),
    }
    time.sleep(1.1)  # the CLI reads the real clock: let the call pass its 1 s limit
    done = subprocess.run(
        [sys.executable, "-m", "calls_app", "reconcile"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "ended over the time limit: 1" in done.stdout
    assert app.db.call(call.id).state == CallState.ENDED


def registered_call(app, store, title: str, *, invitees: tuple[str, ...] = ()):
    """A start that died after Slack registered its call (calls.add) and before it posted:
    written as the app writes it, registered in Slack as the app registers it."""
    now = app.clock()
    call = store.create_starting(
        NewCall("T0001", None, GENERAL, title, "https://meet.example.org/x", ALICE, now),
        lease_until=now + LEASE,
        invitees=invitees,
    )
    call.slack_call_id = slack_client(app).calls_add(
        external_unique_id=call.external_unique_id,
        join_url=call.join_url,
        created_by=ALICE,
        title=title,
        users=[{"slack_id": ALICE}],
    )["call"]["id"]
    assert store.mark_registered(
        call.id, slack_call_id=call.slack_call_id, lease=now + LEASE, renewed=now + LEASE
    )
    return call


def build_store(app) -> CallStore:
    return CallStore(app.db.engine)


def test_a_start_slower_than_its_lease_is_given_up_and_undone_in_slack(running_app, reconcile):
    app = running_app
    answer = threading.Event()
    app.fake.fail_next("calls.add", hang=answer)
    _, response_url = app.slack.command("start Slow", user=ALICE)
    app.fake.wait_for(lambda: app.db.calls() and app.db.calls()[0].state == CallState.STARTING)
    app.clock.advance(seconds=61)
    assert reconcile() == {"abandoned starts": 1}
    answer.set()  # Slack registers the call after all
    reply = app.fake.wait_for_response(response_url)
    assert "took too long" in reply["text"]
    (registered,) = app.fake.calls.values()
    assert registered.ended  # withdrawn from Slack, not left behind
    assert app.sent("chat.postMessage") == []
    call = app.db.only_call()
    assert (call.state, call.slack_call_id) == (CallState.FAILED, None)
    assert app.db.present(call.id) == []


def test_a_post_slower_than_its_lease_leaves_one_message(running_app, reconcile):
    app = running_app
    posted = threading.Event()
    app.fake.fail_next("chat.postMessage", hang=posted)
    _, response_url = app.slack.command("start Slow", user=ALICE)
    app.fake.wait_for(lambda: app.db.calls() and app.db.calls()[0].state == CallState.ACTIVE)
    app.clock.advance(seconds=61)
    assert reconcile() == {"posted messages": 1}  # the starter looks dead
    posted.set()  # …but was only slow
    app.fake.wait_for_response(response_url)
    app.fake.wait_for(lambda: app.sent("chat.delete"))
    assert len(app.fake.messages) == 1
    assert app.db.only_call().message_ts == app.fake.messages[0].ts


def test_recording_the_message_keeps_an_enders_lease(running_app, reconcile):
    app = running_app
    store = build_store(app)
    now = app.clock()
    call = store.create_starting(
        NewCall("T0001", None, GENERAL, "Racy", "https://x.example/r", ALICE, now),
        lease_until=now + LEASE,
    )
    assert store.mark_registered(
        call.id, slack_call_id="R1", lease=now + LEASE, renewed=now + LEASE
    )
    claimed = store.claim_ending(call.id, by=ALICE, reason=EndReason.PERSON, now=now, lease=LEASE)
    assert claimed is not None
    store.set_message(call.id, channel_id=GENERAL, ts="1.2")  # the post lands after the claim
    assert app.db.call(call.id).lease_expires_at == claimed.lease_expires_at


def test_the_empty_rule_does_not_end_a_call_someone_rejoined(running_app):
    app = running_app
    store = build_store(app)
    call = app.start_call("start Standup")  # Alice is in it
    claimed = store.claim_ending(
        call.id,
        by=None,
        reason=EndReason.EMPTY,
        now=app.clock(),
        lease=LEASE,
        only_if_empty=True,
    )
    assert claimed is None
    assert app.db.call(call.id).state == CallState.ACTIVE


def test_an_ender_that_lost_its_lease_changes_nothing(running_app):
    app = running_app
    store = build_store(app)
    call = app.start_call("start Standup")
    first = store.claim_ending(
        call.id, by=ALICE, reason=EndReason.PERSON, now=app.clock(), lease=LEASE
    )
    app.clock.advance(seconds=61)
    second = store.claim_ending(
        call.id, by=BOB, reason=EndReason.PERSON, now=app.clock(), lease=LEASE
    )
    assert first is not None and second is not None
    store.release_ending(first, now=app.clock())  # the first ender's calls.end finally failed
    assert store.mark_ended(first) is None
    stored = app.db.call(call.id)
    assert (stored.state, stored.lease_expires_at) == (CallState.ENDING, second.lease_expires_at)
    assert store.mark_ended(second) is not None
    assert app.db.call(call.id).state == CallState.ENDED


def test_a_message_update_that_failed_is_rendered_again(running_app, reconcile):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("chat.update", error="internal_error")
    app.command("end", user=ALICE)
    assert app.db.call(call.id).state == CallState.ENDED
    assert [b["type"] for b in app.fake.messages[0].blocks] == ["call", "actions"]  # stale
    assert reconcile() == {"refreshed messages": 1}
    assert [b["type"] for b in app.fake.messages[0].blocks] == ["call", "context"]
    assert reconcile() == {}


def test_invitations_a_crash_kept_from_being_sent_are_sent(running_app, reconcile):
    app = running_app
    store = build_store(app)
    # A start that died after posting the call, before its invitations went out.
    call = registered_call(app, store, "Planning", invitees=(BOB, CAROL))
    store.set_message(call.id, channel_id=GENERAL, ts="1700000000.000100")
    assert reconcile() == {}  # its starter may still be inviting
    app.clock.advance(seconds=61)
    assert reconcile() == {"sent invitations": 1}
    assert sorted(p["channel"] for p in app.sent("chat.postMessage")) == [BOB, CAROL]
    assert store.unsent_invitations(call.id) == []
    assert reconcile() == {}  # once


def test_an_invitation_slack_refuses_is_recorded_and_not_retried(running_app, reconcile):
    app = running_app
    call = app.start_call(f"start Planning <@{BOB}> <@U0NOBODY01>")  # no such user
    assert sorted(p["channel"] for p in app.sent("chat.postMessage")) == [GENERAL, BOB]
    app.clock.advance(seconds=61)
    assert reconcile() == {}
    assert build_store(app).unsent_invitations(call.id) == []
