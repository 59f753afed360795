"""The demo's self-hosted Jitsi: people join and leave a call's meeting from the page, the
local Slack posts what event_sync would, and the call card shows who is really there."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlencode

import pytest

from calls_app.models import CallState
from local_slack.meeting import BASE_URL
from local_slack.slack import LocalSlack
from tests.support.app import RunningApp
from tests.support.demo import ADA, GENERAL

pytestmark = pytest.mark.slow


@pytest.fixture
def page(browser, local_slack: LocalSlack, meeting_demo: RunningApp):
    from tests.demo.slack_page import SlackPage

    return SlackPage(browser, local_slack.page_url).open(person=ADA, at=GENERAL)


def in_slack(demo: RunningApp) -> list[dict]:
    (call,) = demo.fake.calls.values()
    return call.users


def test_joining_and_leaving_the_meeting_shows_in_the_card_and_its_end_ends_the_call(
    page, meeting_demo: RunningApp
) -> None:
    demo = meeting_demo
    page.say("/call start Standup")
    page.wait_for_card(lambda: page.card_title() == "Standup", "the Standup card")
    demo.settle()
    call = demo.db.only_call()
    assert call.join_url.startswith(BASE_URL)
    assert page.card_people() == [] and demo.db.present(call.id) == []  # nobody there yet
    assert "Nobody is in the call." in page.main_text()

    page.press("Join the meeting as Ada Okafor", in_message_with="Standup")
    page.wait_for_card(lambda: page.card_people() == ["Ada Okafor"], "Ada in the card")
    assert page.meeting_buttons()[0] == "Leave the meeting"
    demo.settle()
    assert demo.db.present(call.id) == [ADA]
    assert in_slack(demo) == [{"slack_id": ADA}]
    assert [sent["email"] for sent in demo.sent("users.lookupByEmail")] == ["ada@example.com"]

    page.fill_guest_name("Dana Guest")
    page.press("Join as a guest", in_message_with="Standup")
    page.wait_for_card(
        lambda: page.card_people() == ["Ada Okafor", "Dana Guest"], "the guest in the card"
    )
    page.join_as_guest_with_enter("Eve")  # Enter joins the guest, not Ada's button
    page.wait_for_card(
        lambda: page.card_people() == ["Ada Okafor", "Dana Guest", "Eve"], "Eve in the card"
    )
    page.press("Eve leaves", in_message_with="Standup")
    page.wait_for_card(
        lambda: page.card_people() == ["Ada Okafor", "Dana Guest"], "Eve gone from the card"
    )
    page.press("Leave the meeting", in_message_with="Standup")
    page.wait_for_card(lambda: page.card_people() == ["Dana Guest"], "Ada gone from the card")
    demo.settle()
    assert demo.db.present(call.id) == [None]  # the guest is no Slack user
    (guest,) = in_slack(demo)
    assert guest["display_name"] == "Dana Guest" and "slack_id" not in guest
    assert page.meeting_buttons()[0] == "Join the meeting as Ada Okafor"

    page.press("End the meeting", in_message_with="Standup")
    page.wait_for_card(lambda: page.card_status().startswith("Call ended"), "the ended card")
    assert page.meeting_buttons() == []  # an ended call has no meeting
    demo.settle()
    ended = demo.db.only_call()
    assert ended.state == CallState.ENDED
    assert len(demo.sent("calls.end")) == 1


def test_a_meeting_control_for_no_live_call_or_an_unknown_one_sends_the_app_nothing(
    local_slack: LocalSlack, meeting_demo: RunningApp
) -> None:
    demo = meeting_demo

    def post(path: str, **fields: str) -> None:
        form = urlencode({"as": ADA, "at": GENERAL, **fields}).encode()
        urllib.request.urlopen(f"{local_slack.page_url}{path}", data=form, timeout=10).close()

    def main_html() -> str:
        state = f"{local_slack.page_url}/state?{urlencode({'as': ADA, 'at': GENERAL})}"
        with urllib.request.urlopen(state, timeout=5) as response:
            return json.load(response)["main"]["html"]

    post("/message", text="/call start Standup")
    demo.fake.wait_for(lambda: "call-card live" in main_html(), 10, message="the call's card")
    demo.settle()
    (slack_call,) = demo.fake.calls.values()
    assert 'action="/meeting"' in main_html()
    for call_id, do in [("R0NOSUCHCALL", "join"), ("", "join"), (slack_call.id, "dance")]:
        post("/meeting", call=call_id, do=do)
    post("/meeting", call=slack_call.id, do="leave:" + ADA)  # Ada is not in the meeting
    demo.settle()
    assert demo.sent("users.lookupByEmail") == [] and nobody_took_part(demo)

    post("/message", text="/call end")
    demo.fake.wait_for(lambda: slack_call.ended, 10, message="the call ended in Slack")
    post("/meeting", call=slack_call.id, do="join")  # an ended call has no meeting
    demo.settle()
    assert demo.sent("users.lookupByEmail") == [] and nobody_took_part(demo)
    assert 'action="/meeting"' not in main_html()


def nobody_took_part(demo: RunningApp) -> bool:
    return demo.db.participants(demo.db.only_call().id) == []
