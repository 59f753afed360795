"""The reconciler, rule by rule, with the app's clock moved by the test; and its CLI."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from calls_app.bolt_app import build_parts, build_reconciler
from calls_app.config import load_settings
from calls_app.models import CallState, EndReason
from calls_app.reconciler import PASS_LIMIT, backoff
from calls_app.records import NewCall
from calls_app.store.ending import EndingStore
from calls_app.store.participants import ParticipantStore
from tests.app_process import run_module
from tests.support import oauth
from tests.support.app import RunningApp, app_env, reply_text, serve_app
from tests.support.reconciler import (
    LEASE,
    build_store,
    posted_then_died,
    registered_call,
    slack_client,
)
from tests.support.workspace import ALICE, BOB, CAROL, GENERAL


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
    # The process that pressed End died right after claiming the call: calls.end never sent.
    assert EndingStore(app.db.engine).claim_ending(
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
    assert EndingStore(app.db.engine).claim_ending(  # an ender holds the call, then dies too
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
    done = run_module("calls_app", "reconcile", env=env)
    assert done.returncode == 0, done.stderr
    assert "ended over the time limit: 1" in done.stdout
    assert app.db.call(call.id).state == CallState.ENDED


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
    claimed = EndingStore(app.db.engine).claim_ending(
        call.id, by=ALICE, reason=EndReason.PERSON, now=now, lease=LEASE
    )
    assert claimed is not None
    store.set_message(call.id, channel_id=GENERAL, ts="1.2")  # the post lands after the claim
    assert app.db.call(call.id).lease_expires_at == claimed.lease_expires_at


def test_the_empty_rule_does_not_end_a_call_someone_rejoined(running_app):
    app = running_app
    store = EndingStore(app.db.engine)
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
    store = EndingStore(app.db.engine)
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
    assert ParticipantStore(app.db.engine).unsent_invitations(call.id) == []
    assert reconcile() == {}  # once


def test_an_invitation_slack_refuses_is_recorded_and_not_retried(running_app, reconcile):
    app = running_app
    call = app.start_call(f"start Planning <@{BOB}> <@U0NOBODY01>")  # no such user
    assert sorted(p["channel"] for p in app.sent("chat.postMessage")) == [GENERAL, BOB]
    app.clock.advance(seconds=61)
    assert reconcile() == {}
    assert ParticipantStore(app.db.engine).unsent_invitations(call.id) == []


# -- fairness between workspaces ------------------------------------------------------------


@pytest.fixture
def two_workspaces(database_url, clock) -> Iterator[RunningApp]:
    """The app installed by OAuth in workspaces A and B, each with its own token."""
    fake = oauth.two_workspaces_fake()
    try:
        # A backlog of PASS_LIMIT + 1 calls, all started by one person in one channel.
        caps = {"CALLS_MAX_LIVE_PER_CHANNEL": "50", "CALLS_MAX_LIVE_PER_PERSON": "50"}
        with serve_app(
            fake, database_url, clock, oauth.oauth_env(fake, database_url, **caps)
        ) as app:
            oauth.install(app, oauth.TEAM_A)
            oauth.install(app, oauth.TEAM_B)
            yield app
    finally:
        fake.stop()


def reconcile_workspaces(app: RunningApp, database_url):
    """Each pass as a fresh process would make it (a minute apart: Slack's windows are new)."""
    settings = load_settings(oauth.oauth_env(app.fake, database_url))

    def one_pass() -> Counter[str]:
        return build_reconciler(build_parts(settings, app.db.engine, clock=app.clock)).run_once()

    return one_pass


def backlog_in_a_then_a_call_in_b(app: RunningApp):
    """More calls in A than a pass takes, then one in B; all of them past the time limit."""
    a_calls = [
        app.start_call(f"start A{n}", user=ALICE, team_id=oauth.TEAM_A)
        for n in range(PASS_LIMIT + 1)
    ]
    app.clock.advance(seconds=1)
    b_call = app.start_call(
        "start Beta", user=oauth.BOB_B, team_id=oauth.TEAM_B, channel=oauth.CHANNEL_B
    )
    app.clock.advance(hours=12, seconds=2)
    return a_calls, b_call


def test_a_workspace_whose_token_slack_refuses_does_not_hold_up_another(
    two_workspaces, database_url
):
    app = two_workspaces
    a_calls, b_call = backlog_in_a_then_a_call_in_b(app)
    app.fake.revoke_token(oauth.TOKEN_A)
    reconcile = reconcile_workspaces(app, database_url)
    before = len(app.fake.requests)
    assert reconcile() == {
        "closed: token refused": len(a_calls),
        "ended over the time limit": 1,
    }
    this_pass = app.fake.requests[before:]
    # One refusal tells enough: nothing more is asked with A's token.
    (refused,) = [r for r in this_pass if r.token == oauth.TOKEN_A]
    assert (refused.method, refused.response["error"]) == ("calls.end", "token_revoked")
    (ended,) = [r for r in this_pass if r.method == "calls.end" and r.token == oauth.TOKEN_B]
    assert (ended.args["id"], ended.status) == (b_call.slack_call_id, 200)
    assert app.fake.calls[b_call.slack_call_id].ended
    stored = app.db.call(b_call.id)
    assert (stored.state, stored.end_reason) == (CallState.ENDED, EndReason.MAX_DURATION)
    for call in a_calls:
        stored = app.db.call(call.id)
        assert (stored.state, stored.end_reason, stored.ended_at) == (
            CallState.ENDED,
            EndReason.UNINSTALLED,
            app.clock(),
        )
        assert app.db.present(call.id) == []
    assert not any(app.fake.calls[c.slack_call_id].ended for c in a_calls)  # Slack wasn't told
    assert reconcile() == {}
    assert [r for r in app.fake.requests[before:] if r.token == oauth.TOKEN_A] == [refused]


def test_one_workspaces_backlog_does_not_hold_up_anothers_calls(two_workspaces, database_url):
    app = two_workspaces
    a_calls, b_call = backlog_in_a_then_a_call_in_b(app)
    reconcile = reconcile_workspaces(app, database_url)
    assert reconcile() == {"ended over the time limit": PASS_LIMIT}
    assert app.db.call(b_call.id).state == CallState.ENDED  # B's turn came in the first pass
    a_states = [app.db.call(c.id).state for c in a_calls]
    assert a_states.count(CallState.ENDED) == PASS_LIMIT - 1
    assert a_states[: PASS_LIMIT - 1] == [CallState.ENDED] * (PASS_LIMIT - 1)  # oldest first
    assert reconcile() == {"ended over the time limit": 2}
    assert all(app.db.call(c.id).state == CallState.ENDED for c in a_calls)


# -- calls the reconciler keeps failing on --------------------------------------------------


def test_a_call_whose_end_keeps_failing_waits_longer_after_each_failure(running_app, reconcile):
    app = running_app
    call = app.start_call("start Forgotten")
    app.clock.advance(hours=12, seconds=1)
    app.fake.fail_next("calls.end", error="internal_error")
    before = len(app.fake.requests)
    assert reconcile() == {}
    assert [r.method for r in app.fake.requests[before:]] == ["calls.end"]
    stored = app.db.call(call.id)
    assert (stored.state, stored.reconcile_failures, stored.reconcile_after) == (
        CallState.ACTIVE,
        1,
        app.clock() + timedelta(minutes=1),
    )
    app.clock.advance(seconds=59)
    before = len(app.fake.requests)
    assert reconcile() == {}
    assert app.fake.requests[before:] == []  # not tried again, nor checked for drift
    app.clock.advance(seconds=1)
    app.fake.fail_next("calls.end", error="internal_error")
    assert reconcile() == {}
    assert len(app.fake.attempts_to("calls.end")) == 2
    stored = app.db.call(call.id)
    assert (stored.state, stored.reconcile_failures, stored.reconcile_after) == (
        CallState.ACTIVE,
        2,
        app.clock() + timedelta(minutes=2),
    )
    app.clock.advance(minutes=1, seconds=59)
    assert reconcile() == {}
    assert len(app.fake.attempts_to("calls.end")) == 2
    app.clock.advance(seconds=1)
    assert reconcile() == {"ended over the time limit": 1}
    (ended,) = app.sent("calls.end")
    assert ended["id"] == call.slack_call_id
    stored = app.db.call(call.id)
    assert (stored.state, stored.end_reason) == (CallState.ENDED, EndReason.MAX_DURATION)
    assert (stored.reconcile_failures, stored.reconcile_after) == (0, None)


def test_a_call_checked_after_its_backoff_starts_afresh(running_app, reconcile):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("calls.info", error="internal_error")
    assert reconcile() == {}
    assert app.db.call(call.id).reconcile_failures == 1
    assert reconcile() == {}
    assert len(app.fake.attempts_to("calls.info")) == 1
    app.clock.advance(minutes=1)
    assert reconcile() == {}
    assert len(app.fake.attempts_to("calls.info")) == 2
    stored = app.db.call(call.id)
    assert (stored.state, stored.reconcile_failures, stored.reconcile_after) == (
        CallState.ACTIVE,
        0,
        None,
    )
    assert reconcile() == {}  # checked again at once: no backoff left over
    assert len(app.fake.attempts_to("calls.info")) == 3


def test_backoff_doubles_from_a_minute_up_to_an_hour():
    assert [backoff(n) for n in range(1, 10)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60, 60, 60)
    ]
    assert backoff(10_000) == timedelta(hours=1)


def test_a_call_that_failed_is_left_alone_for_the_rest_of_the_pass(running_app, reconcile):
    app = running_app
    call = app.start_call("start Standup")
    app.fake.fail_next("chat.update", error="internal_error")
    app.command("rename Planning", user=ALICE)
    assert app.db.call(call.id).message_outdated  # the rename's redraw failed
    app.fake.fail_next("chat.update", error="ratelimited")
    before = len(app.fake.requests)
    assert reconcile() == {}
    # The redraw failed: no drift check of the same call in the same pass.
    assert [r.method for r in app.fake.requests[before:]] == ["chat.update"]
    stored = app.db.call(call.id)
    assert (stored.message_outdated, stored.reconcile_failures) == (True, 1)
    app.clock.advance(minutes=1)
    assert reconcile() == {"refreshed messages": 1}
    assert "Planning" in app.fake.messages[0].text
    assert app.db.call(call.id).reconcile_failures == 0


@pytest.mark.parametrize(
    "error", ["invalid_auth", "token_revoked", "account_inactive", "team_access_not_granted"]
)
def test_a_token_slack_refuses_closes_the_workspaces_calls_here(running_app, reconcile, error):
    app = running_app
    first = app.start_call("start One")
    app.command("join", user=BOB)
    second = app.start_call("start Two", user=CAROL)
    app.fake.revoke_token(app.fake.bot_token, error=error)
    app.clock.advance(seconds=30)
    before = len(app.fake.requests)
    assert reconcile() == {"closed: token refused": 2}
    # The first refusal (a drift check) is the only request: the rest of the workspace waits.
    (refused,) = app.fake.requests[before:]
    assert (refused.method, refused.response["error"]) == ("calls.info", error)
    for call in (first, second):
        stored = app.db.call(call.id)
        assert (stored.state, stored.end_reason, stored.ended_at, stored.ended_by) == (
            CallState.ENDED,
            EndReason.UNINSTALLED,
            app.clock(),
            None,
        )
        assert app.db.present(call.id) == []
        assert not app.fake.calls[call.slack_call_id].ended  # Slack can't be told
    assert [p.left_at for p in app.db.participants(first.id)] == [app.clock(), app.clock()]
    assert reconcile() == {}
    assert len(app.fake.requests) == before + 1


def test_an_error_that_is_not_the_tokens_closes_nothing(running_app, reconcile):
    app = running_app
    first = app.start_call("start One")
    second = app.start_call("start Two", user=CAROL)
    app.fake.fail_next("calls.info", error="internal_error")
    assert reconcile() == {}
    assert len(app.fake.attempts_to("calls.info")) == 2  # the other call is still checked
    assert [app.db.call(c.id).state for c in (first, second)] == [CallState.ACTIVE] * 2
    assert sorted(app.db.call(c.id).reconcile_failures for c in (first, second)) == [0, 1]
