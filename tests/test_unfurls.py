"""Pasted meeting links unfold into live calls: `link_shared` (typed, then posted), `calls.add`
for a meeting the app doesn't run yet, `chat.unfurl` with the call's block."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL

from calls_app.models import CallState, EndReason
from local_slack.web_api import FakeSlack
from tests.support.app import FakeClock, RunningApp, app_env, reply_text, serve_app
from tests.support.jitsi import TOKEN, join, leave
from tests.support.presence import LiveMeeting, live_meeting, present, reconciler_pass
from tests.support.reconciler import slack_client
from tests.support.unfurls import MESSAGE_TS, posted, typed
from tests.support.views import home_of, texts
from tests.support.workspace import ALICE, BOB, GENERAL

PASTED = "https://meet.example.org/team-sync"


@pytest.fixture
def app(fake_slack: FakeSlack, database_url: URL, clock: FakeClock) -> Iterator[RunningApp]:
    env = app_env(fake_slack, database_url, JITSI_WEBHOOK_TOKEN=TOKEN)
    with serve_app(fake_slack, database_url, clock, env) as running:
        yield running


def share(app: RunningApp, event: dict, *, unfurls: int) -> None:
    assert app.slack.event(event).status == 200
    app.fake.wait_for(lambda: len(app.fake.unfurls) >= unfurls, 5, message=f"{unfurls} unfurls")


def call_block(slack_call_id: str) -> dict:
    return {"blocks": [{"type": "call", "call_id": slack_call_id}]}


def pasted_meeting(app: RunningApp) -> LiveMeeting:
    """PASTED posted by Bob: the meeting registered as a call, unfurled, nobody in it yet."""
    share(app, posted(PASTED), unfurls=len(app.fake.unfurls) + 1)
    (call,) = [c for c in app.db.calls() if c.join_url == PASTED]
    return live_meeting(app, call)


def reconcile(app: RunningApp, database_url: URL):
    """A pass of a reconciler configured as the app is: the meeting reports presence."""
    return reconciler_pass(app, database_url, JITSI_WEBHOOK_TOKEN=TOKEN)


def test_a_link_to_a_call_the_app_runs_unfurls_as_that_call(app):
    call = app.start_call("start Standup")
    share(app, posted(call.join_url), unfurls=1)
    (unfurl,) = app.sent("chat.unfurl")
    assert (unfurl["channel"], unfurl["ts"]) == (GENERAL, MESSAGE_TS)
    assert unfurl["unfurls"] == {call.join_url: call_block(call.slack_call_id)}
    assert len(app.sent("calls.add")) == 1 and len(app.db.calls()) == 1
    assert not app.db.call(call.id).shown_by_unfurl  # it has its message


def test_another_meeting_is_registered_once_typed_then_posted(app):
    share(app, typed(PASTED), unfurls=1)
    share(app, posted(PASTED), unfurls=2)
    (call,) = app.db.calls()
    assert call.state == CallState.ACTIVE
    assert (call.created_by, call.join_url, call.meeting_id) == (BOB, PASTED, "jitsi:team-sync")
    (added,) = app.sent("calls.add")
    assert added["created_by"] == BOB and added["join_url"] == PASTED
    assert added.get("users") in (None, [])  # nobody is in the meeting yet
    first, second = app.sent("chat.unfurl")
    assert (first["unfurl_id"], first["source"]) == ("C123456.123456789.abcdef", "composer")
    assert "channel" not in first
    assert (second["channel"], second["ts"]) == (GENERAL, MESSAGE_TS)
    assert first["unfurls"] == second["unfurls"] == {PASTED: call_block(call.slack_call_id)}
    assert app.db.participants(call.id) == []
    assert call.shown_by_unfurl
    assert app.sent("chat.postMessage") == []  # the unfurl is how it shows


def test_several_links_and_other_hosts(app):
    running = app.start_call("start Standup")
    other_host = "https://example.com/docs"
    share(app, posted(other_host, PASTED, running.join_url, PASTED), unfurls=1)
    (unfurl,) = app.sent("chat.unfurl")
    registered = next(c for c in app.db.calls() if c.join_url == PASTED)
    assert unfurl["unfurls"] == {
        PASTED: call_block(registered.slack_call_id),
        running.join_url: call_block(running.slack_call_id),
    }
    assert len(app.sent("calls.add")) == 2


def test_links_to_other_hosts_only_are_left_alone(app):
    for url in (
        "https://example.com/meet/x",
        "https://meet.example.org.evil.com/room",
        "http://meet.example.org/room",
        "https://meet.example.org/a/b",
    ):
        assert app.slack.event(posted(url)).status == 200
    time.sleep(0.3)  # the work queue would have run by now
    assert app.sent("chat.unfurl") == [] and app.sent("calls.add") == []
    assert app.db.calls() == []


def test_a_registered_meeting_gets_presence_and_no_message_of_its_own(app, database_url):
    call, room, t = pasted_meeting(app)
    join(app, room, t, name="Dana Guest")
    app.settle()
    users = app.fake.calls[call.slack_call_id].users
    assert [u["display_name"] for u in users] == ["Dana Guest"]
    # Past any lease and the empty grace: someone is in it, so the reconciler only checks it.
    app.clock.advance(minutes=10)
    assert reconcile(app, database_url)() == {}
    assert [c["id"] for c in app.sent("calls.info")] == [call.slack_call_id]
    assert app.sent("chat.postMessage") == [] and app.sent("calls.end") == []
    assert app.db.call(call.id).state == CallState.ACTIVE
    assert present(app, call.id) == ["Dana Guest"]


def test_starting_a_call_with_the_link_of_a_live_meeting_says_so_and_starts_nothing(app):
    share(app, posted(PASTED), unfurls=1)
    (registered,) = app.db.calls()
    reply = app.command(f"start Sync <{PASTED}>", user=ALICE)
    assert "already a live call" in reply_text(reply)
    assert [c.id for c in app.db.calls()] == [registered.id]
    assert len(app.sent("calls.add")) == 1 and app.sent("chat.postMessage") == []
    # Once that call is over, the meeting can be started again.
    app.command("end", user=BOB)
    app.start_call(f"start Sync <{PASTED}>")
    assert len([c for c in app.db.calls() if c.state == CallState.ACTIVE]) == 1


def test_an_unfurled_call_whose_meeting_empties_ends_after_the_grace(app, database_url):
    call, room, t = pasted_meeting(app)
    assert "Meeting" in texts(home_of(app, BOB))  # the call Bob registered, live
    join(app, room, t, name="Dana Guest")
    app.clock.advance(minutes=1)
    leave(app, room, t, t + 60, name="Dana Guest")
    app.settle()
    pass_ = reconcile(app, database_url)
    app.clock.advance(minutes=4, seconds=59)
    assert pass_() == {}
    app.clock.advance(seconds=2)
    assert pass_() == {"ended when empty": 1}
    stored = app.db.call(call.id)
    assert (stored.state, stored.end_reason) == (CallState.ENDED, EndReason.EMPTY)
    (ended,) = app.sent("calls.end")
    assert (ended["id"], int(ended["duration"])) == (call.slack_call_id, 6 * 60 + 1)
    assert app.fake.calls[call.slack_call_id].ended  # every unfurl of it shows it ended
    app.settle()
    assert "Meeting" not in texts(app.fake.home_views[BOB])
    # Slack renders an unfurl from the call itself: nothing is posted or unfurled again.
    assert app.sent("chat.postMessage") == [] and app.sent("chat.update") == []
    assert len(app.sent("chat.unfurl")) == 1


@pytest.mark.parametrize("first_seen", [typed, posted], ids=["in the composer", "posted"])
def test_an_unfurled_call_whose_end_fails_is_ended_again_and_never_posted(
    app, database_url, first_seen
):
    """calls.end failing leaves the call live; a pasted link's call has no message to post,
    wherever its link was first seen (the composer's is no channel at all)."""
    share(app, first_seen(PASTED), unfurls=1)
    (call,) = app.db.calls()
    _, room, t = live_meeting(app, call)
    join(app, room, t, name="Dana Guest")
    leave(app, room, t, t + 60, name="Dana Guest")
    app.settle()
    pass_ = reconcile(app, database_url)
    app.clock.advance(minutes=6, seconds=1)
    app.fake.fail_next("calls.end", error="internal_error")
    assert pass_() == {}
    stored = app.db.call(call.id)
    assert (stored.state, stored.lease_expires_at, stored.end_reason) == (
        CallState.ACTIVE,
        None,
        None,
    )
    app.clock.advance(minutes=1)  # the reconciler's back-off on the call
    assert pass_() == {"ended when empty": 1}
    stored = app.db.call(call.id)
    assert (stored.state, stored.end_reason) == (CallState.ENDED, EndReason.EMPTY)
    assert [r.args["id"] for r in app.fake.attempts_to("calls.end")] == [call.slack_call_id] * 2
    assert app.fake.calls[call.slack_call_id].ended
    app.clock.advance(minutes=10)
    assert pass_() == {}
    assert app.fake.attempts_to("chat.postMessage") == []


def test_an_unfurled_call_ended_in_slack_is_recorded_ended(app, database_url):
    call, _, _ = pasted_meeting(app)
    slack_client(app).calls_end(id=call.slack_call_id, duration=30)
    assert reconcile(app, database_url)() == {"repaired drift": 1}
    stored = app.db.call(call.id)
    assert (stored.state, stored.end_reason) == (CallState.ENDED, EndReason.SLACK)
    assert len(app.fake.attempts_to("calls.end")) == 1  # only Slack's own
    assert app.sent("chat.postMessage") == []


def test_an_unfurled_calls_title_and_people_in_slack_follow_ours(app, database_url):
    call, room, t = pasted_meeting(app)
    join(app, room, t, name="Dana Guest")
    app.settle()
    slack = slack_client(app)
    slack.calls_update(id=call.slack_call_id, title="Renamed elsewhere")
    slack.calls_participants_add(id=call.slack_call_id, users=[{"slack_id": ALICE}])
    assert reconcile(app, database_url)() == {"repaired drift": 1}
    app.settle()
    in_slack = app.fake.calls[call.slack_call_id]
    assert in_slack.title == "Meeting"
    assert [u.get("slack_id") or u["display_name"] for u in in_slack.users] == ["Dana Guest"]
    assert app.db.call(call.id).state == CallState.ACTIVE


def test_without_presence_an_unfurled_call_is_not_ended_as_empty(fake_slack, database_url, clock):
    """Nobody can press Join on an unfurl, so only the meeting could say who is in it."""
    with serve_app(fake_slack, database_url, clock, app_env(fake_slack, database_url)) as app:
        call, _, _ = pasted_meeting(app)
        app.clock.advance(minutes=10)
        assert reconciler_pass(app, database_url)() == {}
        assert app.db.call(call.id).state == CallState.ACTIVE
        assert app.sent("calls.end") == []
