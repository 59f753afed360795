"""The "which call?" picker, a page at a time: past 25 calls (what one row of buttons holds),
its More button shows the next page in place of the picker."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from calls_app.models import CallState
from tests.support.app import RunningApp, app_env, reply_text, serve_app
from tests.support.workspace import ALICE, BOB, CAROL

STALE = "That button no longer works. Run the command again."


@pytest.fixture
def crowded(fake_slack, database_url, clock) -> Iterator[RunningApp]:
    """Room for 27 calls in a channel, all Alice's: two pages of the picker."""
    env = app_env(
        fake_slack, database_url, CALLS_MAX_LIVE_PER_CHANNEL="30", CALLS_MAX_LIVE_PER_PERSON="30"
    )
    with serve_app(fake_slack, database_url, clock, env) as app:
        for number in range(27):
            app.start_call(f"start Call {number}", user=ALICE)
            app.clock.advance(minutes=1)
        yield app


def picker_titles(reply: dict) -> list[str]:
    [picker] = [b for b in reply["blocks"] if b.get("block_id") == "call_picker"]
    return [button["text"]["text"].split(" (")[0] for button in picker["elements"]]


def more_button(reply: dict) -> dict | None:
    more = [b for b in reply["blocks"] if b.get("block_id") == "call_picker_more"]
    return more[0]["elements"][0] if more else None


def test_more_shows_the_next_page_in_place_of_the_picker(crowded):
    app = crowded
    before = len(app.fake.requests)
    first = app.command("end", user=ALICE)
    assert "Which one do you want to end?" in reply_text(first)
    assert picker_titles(first) == [f"Call {n}" for n in range(25)]
    assert "Calls 1–25 of 27." in json.dumps(first["blocks"], ensure_ascii=False)
    more = more_button(first)
    assert more is not None

    second = app.click(more["action_id"], more["value"], user=ALICE)
    assert second["replace_original"] is True
    assert second["response_type"] == "ephemeral"
    assert picker_titles(second) == ["Call 25", "Call 26"]
    assert more_button(second) is None
    assert app.fake.requests[before:] == []  # paging asks nothing of Slack

    # A pick on the second page acts on that call.
    [picked] = [b for b in second["blocks"] if b.get("block_id") == "call_picker"]
    button = picked["elements"][1]
    ended = app.click(button["action_id"], button["value"], user=ALICE)
    assert "You ended *Call 26*" in reply_text(ended)
    assert [c.state for c in app.db.calls()] == [CallState.ACTIVE] * 26 + [CallState.ENDED]


def test_the_rename_pickers_pages_carry_the_new_title(crowded):
    app = crowded
    first = app.command("rename Better name", user=ALICE)
    more = more_button(first)
    second = app.click(more["action_id"], more["value"], user=ALICE)
    [picker] = [b for b in second["blocks"] if b.get("block_id") == "call_picker"]
    button = picker["elements"][0]
    app.click(button["action_id"], button["value"], user=ALICE)
    assert [c.title for c in app.db.calls()][24:] == ["Call 24", "Better name", "Call 26"]


def test_more_after_calls_ended_shows_what_is_left(crowded):
    app = crowded
    more = more_button(app.command("join", user=BOB))
    for call in app.db.calls()[:3]:
        app.click("call_end", str(call.id), user=ALICE)
    page = app.click(more["action_id"], more["value"], user=BOB)
    # 24 left: one page, the first.
    assert picker_titles(page) == [f"Call {n}" for n in range(3, 27)]
    assert more_button(page) is None
    assert app.sent("calls.participants.add") == []


def test_more_when_every_call_has_ended_says_so(crowded):
    app = crowded
    more = more_button(app.command("end", user=ALICE))
    for call in app.db.calls():
        app.click("call_end", str(call.id), user=ALICE)
    page = app.click(more["action_id"], more["value"], user=ALICE)
    assert "There is no call running in this channel" in reply_text(page)


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"verb": "drop_table", "page": 1}',
        '{"verb": "end"}',
        '{"verb": "end", "page": "1"}',
        '{"verb": "rename", "page": 1}',  # a rename with no new title
    ],
)
def test_a_forged_more_button_shows_nothing_and_changes_nothing(running_app, value):
    app = running_app
    app.start_call("start One", user=ALICE)
    app.start_call("start Two", user=BOB)
    before = len(app.fake.requests)
    reply = app.click("call_pick_more", value, user=CAROL)
    assert reply_text(reply) == STALE
    assert reply["response_type"] == "ephemeral"
    assert app.fake.requests[before:] == []
    assert [c.state for c in app.db.calls()] == [CallState.ACTIVE, CallState.ACTIVE]
