"""`/call rename`, `/call status`, `/call help` and text the app doesn't understand."""

from __future__ import annotations

import pytest

from calls_app.models import CallState
from tests.support.app import reply_text
from tests.support.workspace import ADMIN, ALICE, BOB, CAROL


def test_rename_updates_slack_the_database_and_the_message(running_app):
    app = running_app
    call = app.start_call("start Standup")
    reply = app.command("rename Retro & <!here>", user=ALICE)
    assert app.sent("calls.update") == [{"id": call.slack_call_id, "title": "Retro & @here"}]
    assert app.fake.calls[call.slack_call_id].title == "Retro & @here"
    assert app.db.call(call.id).title == "Retro & @here"
    (update,) = app.sent("chat.update")
    assert update["text"].endswith("Retro &amp; @here")
    assert [b["type"] for b in update["blocks"]] == ["call", "actions"]  # still live
    assert "Renamed the call to *Retro &amp; @here*" in reply_text(reply)


def test_rename_without_a_title_is_refused_at_once(running_app):
    app = running_app
    app.start_call("start Standup")
    result, _ = app.slack.command("rename   ", user=ALICE)
    assert "Give the new title" in result.json()["text"]
    assert app.sent("calls.update") == []


def test_someone_else_may_not_rename(running_app):
    app = running_app
    call = app.start_call("start Standup")
    reply = app.command("rename Mine now", user=BOB)
    assert "can rename it" in reply_text(reply)
    assert app.sent("calls.update") == []
    assert app.db.call(call.id).title == "Standup"


def test_an_admin_may_rename(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.command("rename Admin title", user=ADMIN)
    assert app.db.call(call.id).title == "Admin title"


def test_status_reports_title_starter_duration_and_people(running_app):
    app = running_app
    call = app.start_call("start Standup")
    app.command("join", user=BOB)
    app.settle()  # status says what Slack shows, and Slack hears of the join from the outbox
    app.clock.advance(minutes=5)
    reply = app.command("status", user=CAROL)
    assert app.sent("calls.info") == [{"id": call.slack_call_id}]
    text = reply["blocks"][0]["text"]["text"]
    assert "*Standup*" in text
    assert f"Started by <@{ALICE}>" in text
    assert "running for 5 min" in text
    assert f"In the call (2): <@{ALICE}>, <@{BOB}>" in text
    assert reply["response_type"] == "ephemeral"


def test_status_lists_every_running_call(running_app):
    app = running_app
    app.start_call("start One")
    app.start_call("start Two", user=BOB)
    reply = app.command("status", user=CAROL)
    texts = [b["text"]["text"] for b in reply["blocks"]]
    assert len(texts) == 2
    assert "*One*" in texts[0] and "*Two*" in texts[1]


def test_status_with_nothing_running(running_app):
    reply = running_app.command("status", user=CAROL)
    assert "no call running" in reply_text(reply)
    assert running_app.sent("calls.info") == []


@pytest.mark.parametrize("text", ["", "help", "HELP", "  "])
def test_help_names_every_verb(running_app, text):
    result, _ = running_app.slack.command(text, user=ALICE)
    body = result.json()
    assert body["response_type"] == "ephemeral"
    for verb in ("start", "end", "join", "leave", "rename", "status", "help"):
        assert f"`{verb}" in body["text"] or f"/ `{verb}`" in body["text"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("dance", "I don't know `dance`"),
        ("end now", "`/call end` takes nothing after it"),
        ("status please", "`/call status` takes nothing after it"),
    ],
)
def test_text_the_app_does_not_understand_gets_the_usage(running_app, text, problem):
    app = running_app
    call = app.start_call("start Standup")
    before = len(app.fake.requests)
    result, _ = app.slack.command(text, user=ALICE)
    assert problem in result.json()["text"]
    assert "`start [title]" in result.json()["text"]
    assert len(app.fake.requests) == before
    assert app.db.call(call.id).state == CallState.ACTIVE


def test_ambiguous_verbs_get_a_picker_and_the_pick_acts_on_that_call(running_app):
    app = running_app
    first = app.start_call("start One")
    second = app.start_call("start Two")
    reply = app.command("end", user=ALICE)
    assert "Which one do you want to end?" in reply_text(reply)
    buttons = reply["blocks"][1]["elements"]
    assert [b["text"]["text"].split(" (")[0] for b in buttons] == ["One", "Two"]
    assert app.sent("calls.end") == []

    picked = app.click(buttons[1]["action_id"], buttons[1]["value"], user=ALICE)
    assert "You ended *Two*" in reply_text(picked)
    assert app.sent("calls.end")[0]["id"] == second.slack_call_id
    assert app.db.call(first.id).state == CallState.ACTIVE
    assert app.db.call(second.id).state == CallState.ENDED


def test_rename_picker_carries_the_new_title(running_app):
    app = running_app
    app.start_call("start One")
    second = app.start_call("start Two")
    reply = app.command("rename Better name", user=ALICE)
    button = reply["blocks"][1]["elements"][1]
    app.click(button["action_id"], button["value"], user=ALICE)
    assert app.db.call(second.id).title == "Better name"


def test_join_picker_buttons_open_the_call(running_app):
    app = running_app
    first = app.start_call("start One")
    second = app.start_call("start Two")
    reply = app.command("join", user=BOB)
    urls = [b["url"] for b in reply["blocks"][1]["elements"]]
    assert urls == [first.join_url, second.join_url]


def test_a_forged_picker_value_acts_on_nothing(running_app):
    app = running_app
    call = app.start_call("start One")
    for value in ("not json", '{"verb": "drop_table", "call_id": 1}', '{"verb": "end"}'):
        reply = app.click("call_pick_0", value, user=ALICE)
        assert reply["response_type"] == "ephemeral"
    assert app.sent("calls.end") == []
    assert app.db.call(call.id).state == CallState.ACTIVE
