"""`/call start`: what Slack receives, what the database holds, what the person is told."""

from __future__ import annotations

import re

from calls_app.models import CallState
from tests.support.app import reply_text
from tests.support.workspace import ALICE, BOB, CAROL, GENERAL, OUTSIDE


def test_start_registers_the_call_posts_it_and_stores_it(running_app):
    app = running_app
    call = app.start_call("start Weekly sync")

    (added,) = app.sent("calls.add")
    assert added["title"] == "Weekly sync"
    assert added["created_by"] == ALICE
    assert added["users"] == [{"slack_id": ALICE}]
    assert int(added["date_start"]) == int(app.clock().timestamp())
    assert re.fullmatch(r"https://meet\.example\.org/calls-[A-Za-z0-9]{20,}", added["join_url"])
    assert added["external_unique_id"] == call.external_unique_id

    (posted,) = app.sent("chat.postMessage")
    assert posted["channel"] == GENERAL
    assert posted["blocks"][0] == {"type": "call", "call_id": call.slack_call_id}
    buttons = {e["action_id"]: e for e in posted["blocks"][1]["elements"]}
    assert set(buttons) == {"call_join", "call_leave", "call_rename", "call_end"}
    assert buttons["call_join"]["url"] == added["join_url"]
    assert {b["value"] for b in buttons.values()} == {str(call.id)}

    assert call.state == CallState.ACTIVE
    assert call.slack_call_id in app.fake.calls
    assert call.title == "Weekly sync"
    assert call.channel_id == GENERAL
    assert call.created_by == ALICE
    assert call.team_id == "T0001"
    assert call.join_url == added["join_url"]
    assert (call.message_channel_id, call.message_ts) == (GENERAL, app.fake.messages[0].ts)
    assert app.db.present(call.id) == [ALICE]
    # The common path is two Web API calls (plus Bolt's one-time auth.test).
    assert [r.method for r in app.fake.requests if r.method != "auth.test"] == [
        "calls.add",
        "chat.postMessage",
    ]


def test_start_without_a_title_names_the_channel(running_app):
    running_app.start_call("start", channel_name="general")
    assert running_app.sent("calls.add")[0]["title"] == "Call in #general"


def test_each_call_gets_its_own_unguessable_room_and_unique_id(running_app):
    first = running_app.start_call("start One")
    second = running_app.start_call("start Two")
    assert first.join_url != second.join_url
    assert first.external_unique_id != second.external_unique_id


def test_start_with_a_link_uses_it_as_the_join_url(running_app):
    call = running_app.start_call("start Review <https://zoom.example/j/123?pwd=a&amp;b=c>")
    assert call.join_url == "https://zoom.example/j/123?pwd=a&b=c"
    assert running_app.sent("calls.add")[0]["join_url"] == call.join_url
    assert call.title == "Review"


def test_start_invites_mentioned_people_by_dm_with_a_join_button(running_app):
    app = running_app
    call = app.start_call(f"start Planning <@{BOB}|bob> <@{CAROL}|carol> <@{BOB}|bob>")
    assert call.title == "Planning"
    posts = app.sent("chat.postMessage")
    dms = [p for p in posts if p["channel"] in (BOB, CAROL)]
    assert sorted(p["channel"] for p in dms) == [BOB, CAROL]  # once each
    for dm in dms:
        (join,) = [e for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert join["action_id"] == "call_join"
        assert join["url"] == call.join_url
        assert join["value"] == str(call.id)
    # Invited is not joined: only the starter is in the call.
    assert app.db.present(call.id) == [ALICE]
    assert app.fake.calls[call.slack_call_id].users == [{"slack_id": ALICE}]


def test_the_starter_is_told_privately_what_happened(running_app):
    app = running_app
    result, response_url = app.slack.command(f"start Standup <@{BOB}>", user=ALICE)
    assert (result.status, result.body) == (200, "")
    reply = app.fake.wait_for_response(response_url)
    assert reply["response_type"] == "ephemeral"
    assert "Started *Standup*" in reply_text(reply)
    assert f"<@{BOB}>" in reply_text(reply)


def test_special_mentions_in_a_title_notify_nobody(running_app):
    app = running_app
    call = app.start_call("start <!channel> <!here> <!subteam^S123|@devs> party & <b>")
    assert call.title == "@channel @here @devs party & <b>"
    (posted,) = app.sent("chat.postMessage")
    everything_sent = repr(posted)
    for live in ("<!channel>", "<!here>", "<!subteam"):
        assert live not in everything_sent
    assert "&lt;b&gt;" in posted["text"]


def test_an_overlong_title_is_cut_with_an_ellipsis(running_app):
    app = running_app
    call = app.start_call("start " + "long " * 100)
    assert len(call.title) == 150
    assert call.title.endswith("…")
    assert app.sent("calls.add")[0]["title"] == call.title


def test_an_http_link_is_refused_and_nothing_is_registered(running_app):
    app = running_app
    result, response_url = app.slack.command(
        "start Standup <http://insecure.example/j/1>", user=ALICE
    )
    assert result.status == 200
    assert "Only https:// links" in result.json()["text"]
    assert result.json()["response_type"] == "ephemeral"
    assert app.sent("calls.add") == []
    assert app.db.calls() == []


def test_two_links_are_refused(running_app):
    app = running_app
    result, _ = app.slack.command("start A <https://a.example/1> <https://b.example/2>", user=ALICE)
    assert "at most one link" in result.json()["text"]
    assert app.db.calls() == []


def test_app_not_in_channel_ends_the_registered_call_and_says_how_to_fix_it(running_app):
    app = running_app
    reply = app.command("start Standup", user=ALICE, channel=OUTSIDE)
    assert "/invite @calls-app" in reply_text(reply)
    (added,) = app.sent("calls.add")
    (ended,) = app.sent("calls.end")
    slack_call = app.fake.calls[ended["id"]]
    assert slack_call.ended
    call = app.db.only_call()
    assert call.state == CallState.FAILED
    assert call.message_ts is None
    assert app.db.present(call.id) == []


def test_a_link_that_is_not_a_url_is_refused_not_a_500(running_app):
    app = running_app
    result, _ = app.slack.command("start Standup https://[abc", user=ALICE)
    assert result.status == 200
    assert "isn't a link I can use" in result.json()["text"]
    assert app.db.calls() == []
