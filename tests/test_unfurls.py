"""Pasted meeting links unfold into live calls: `link_shared` (typed, then posted), `calls.add`
for a meeting the app doesn't run yet, `chat.unfurl` with the call's block."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL

from calls_app.models import CallState
from local_slack.web_api import FakeSlack
from tests.support.app import FakeClock, RunningApp, app_env, serve_app
from tests.support.workspace import ALICE, BOB, GENERAL
from tests.test_jitsi_presence import TOKEN, join, reconciler_pass

MESSAGE_TS = "1700000000.000200"
PASTED = "https://meet.example.org/team-sync"


@pytest.fixture
def app(fake_slack: FakeSlack, database_url: URL, clock: FakeClock) -> Iterator[RunningApp]:
    env = app_env(fake_slack, database_url, JITSI_WEBHOOK_TOKEN=TOKEN)
    with serve_app(fake_slack, database_url, clock, env) as running:
        yield running


def typed(*urls: str, user: str = BOB) -> dict:
    """link_shared while the link is still in the composer."""
    return {
        "type": "link_shared",
        "channel": "COMPOSER",
        "is_bot_user_member": True,
        "user": user,
        "message_ts": "Uxxxxxxx-909b5454-75f8-4ac4-b325-1b40e230bbd8-gryl3kb80b3wm",
        "unfurl_id": "C123456.123456789.abcdef",
        "source": "composer",
        "links": [{"domain": url.split("/")[2], "url": url} for url in urls],
        "event_ts": f"{time.time():.6f}",
    }


def posted(*urls: str, user: str = BOB, ts: str = MESSAGE_TS) -> dict:
    """link_shared once the message is posted."""
    return {
        "type": "link_shared",
        "channel": GENERAL,
        "is_bot_user_member": True,
        "user": user,
        "message_ts": ts,
        "thread_ts": None,
        "source": "conversations_history",
        "links": [{"domain": url.split("/")[2], "url": url} for url in urls],
        "event_ts": f"{time.time():.6f}",
    }


def share(app: RunningApp, event: dict, *, unfurls: int) -> None:
    assert app.slack.event(event).status == 200
    app.fake.wait_for(lambda: len(app.fake.unfurls) >= unfurls, 5, message=f"{unfurls} unfurls")


def call_block(slack_call_id: str) -> dict:
    return {"blocks": [{"type": "call", "call_id": slack_call_id}]}


def test_a_link_to_a_call_the_app_runs_unfurls_as_that_call(app):
    call = app.start_call("start Standup")
    share(app, posted(call.join_url), unfurls=1)
    (unfurl,) = app.sent("chat.unfurl")
    assert (unfurl["channel"], unfurl["ts"]) == (GENERAL, MESSAGE_TS)
    assert unfurl["unfurls"] == {call.join_url: call_block(call.slack_call_id)}
    assert len(app.sent("calls.add")) == 1 and len(app.db.calls()) == 1


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
    share(app, posted(PASTED), unfurls=1)
    (call,) = app.db.calls()
    join(app, "team-sync", int(app.clock().timestamp()), name="Dana Guest")
    app.settle()
    users = app.fake.calls[call.slack_call_id].users
    assert [u["display_name"] for u in users] == ["Dana Guest"]
    # Past any lease: the reconciler finds nothing to post for it.
    app.clock.advance(minutes=10)
    reconciler_pass(app, database_url)()
    assert app.sent("chat.postMessage") == []
    assert ALICE not in [p.slack_user_id for p in app.db.participants(call.id)]
