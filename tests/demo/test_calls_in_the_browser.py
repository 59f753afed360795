"""The demo page in headless Chromium: people of one workspace use the app through the local
Slack as they would through Slack, and see what Slack would show them."""

from __future__ import annotations

import pytest

from calls_app.models import CallState
from local_slack.slack import LocalSlack
from tests.support.app import RunningApp
from tests.support.demo import ADA, BEN, GENERAL

pytestmark = pytest.mark.slow


@pytest.fixture
def page(browser, local_slack: LocalSlack, demo: RunningApp):
    from tests.demo.slack_page import SlackPage

    return SlackPage(browser, local_slack.page_url).open(person=ADA, at=GENERAL)


def start_standup(page, demo: RunningApp) -> None:
    """Ada starts a call in #general and sees its card."""
    page.say("/call start Standup @ben")
    page.wait_for_card(lambda: page.card_title() == "Standup", "the Standup card")
    page.wait_for_card(lambda: page.card_people() == ["Ada Okafor"], "Ada in the call")
    demo.settle()


def test_a_call_one_person_starts_and_another_joins_shows_both_in_its_card(
    page, demo: RunningApp
) -> None:
    top = page.browser.find_element("css selector", ".top")
    # the stylesheet came from the local Slack: the browser reaches nothing else
    assert top.value_of_css_property("background-color") == "rgba(53, 13, 54, 1)"

    start_standup(page, demo)
    page.wait_to_see("Started Standup. Invited @Ben Carter.")
    assert page.private_items_text()[-1].count("Only visible to you") == 1
    assert "in reply to /call start Standup @ben" in page.private_items_text()[-1]

    page.be("Ben Carter")
    page.wait_for_card(lambda: page.card_title() == "Standup", "the card, as Ben")
    assert "Started Standup" not in page.main_text()  # Ada's reply was for Ada
    page.press("Join", in_message_with="Standup")
    page.wait_for_card(
        lambda: sorted(page.card_people()) == ["Ada Okafor", "Ben Carter"], "both in the card"
    )
    page.wait_to_see("You joined Standup.")
    call = demo.db.only_call()
    assert sorted(demo.db.present(call.id)) == sorted([ADA, BEN])
    assert "Live" in page.card_status()

    page.go_to("calls-app")
    page.go_to("Messages")
    page.wait_to_see("@Ada Okafor invited you to Standup in #general.")
    assert page.buttons() == ["Join"]


def test_renaming_through_the_modal_shows_field_errors_until_the_title_is_good(
    page, demo: RunningApp
) -> None:
    start_standup(page, demo)
    page.press("Rename", in_message_with="Standup")
    page.wait_for_modal("Rename call")
    assert page.field("Title").get_attribute("value") == "Standup"

    page.fill("Title", "")
    page.submit_modal()
    # Slack itself refuses an empty required field: the app is not asked
    page.wait_field_error("Title", "Please complete this required field.")
    page.fill("Title", "   ")
    page.submit_modal()
    page.wait_field_error("Title", "A call needs a title.")
    assert page.modal_title() == "Rename call"
    assert demo.db.only_call().title == "Standup"
    assert demo.sent("calls.update") == []

    page.fill("Title", "Daily standup")
    page.submit_modal()
    page.wait_modal_closed()
    page.wait_for_card(lambda: page.card_title() == "Daily standup", "the new title in the card")
    page.wait_to_see("Renamed the call to Daily standup.")
    assert demo.db.only_call().title == "Daily standup"


def test_cancel_closes_the_modal_and_changes_nothing(page, demo: RunningApp) -> None:
    start_standup(page, demo)
    page.press("Rename", in_message_with="Standup")
    page.wait_for_modal("Rename call")
    page.fill("Title", "Not this")
    page.close_modal("Cancel")
    assert demo.db.only_call().title == "Standup"
    assert page.card_title() == "Standup"


def test_ending_is_refused_to_someone_else_and_done_by_the_starter_with_its_duration(
    page, demo: RunningApp
) -> None:
    start_standup(page, demo)

    page.be("Ben Carter")
    page.press("End call", in_message_with="Standup")
    refusal = "Only the person who started this call or a workspace admin can end it."
    page.wait_to_see(refusal)
    assert demo.db.only_call().state == CallState.ACTIVE
    assert demo.sent("calls.end") == []
    assert "Live" in page.card_status()
    page.be("Chloé Martin")
    page.wait_for_card(lambda: page.card_title() == "Standup", "the card, as Chloé")
    assert refusal not in page.main_text()  # Ben's refusal was for Ben

    demo.clock.advance(minutes=3)
    page.be("Ada Okafor")
    page.press("End call", in_message_with="Standup")
    page.wait_for_card(lambda: page.card_status().startswith("Call ended"), "the ended card")
    assert page.card_status() == "Call ended · lasted 3:00 · started by Ada Okafor"
    page.wait_to_see("Ended by @Ada Okafor. It lasted 3 min.")
    assert "End call" not in page.buttons()  # an ended call keeps no button
    ended = demo.db.only_call()
    assert (ended.state, ended.duration_seconds) == (CallState.ENDED, 180)


def test_the_home_tab_shows_the_history_and_starts_a_call_from_its_modal(
    page, demo: RunningApp
) -> None:
    start_standup(page, demo)
    demo.clock.advance(minutes=2)
    page.say("/call end")
    page.wait_for_card(lambda: page.card_status().startswith("Call ended"), "the ended card")

    page.go_to("calls-app")
    page.wait_to_see("Recent calls")
    page.wait_to_see("Standup in #general")
    assert "lasted 2 min · 1 person took part" in page.main_text()

    page.press("Start a call")
    page.wait_for_modal("Start a call")
    page.choose("Channel", "#random")  # the app was never invited there
    page.fill("Title", "Design review")
    page.submit_modal()
    page.wait_field_error(
        "Channel", "I'm not in that channel. Invite me with /invite @calls-app, or pick another."
    )
    assert len(demo.db.calls()) == 1

    page.choose("Channel", "#design")
    page.tick("Invite", "Ben Carter")
    page.submit_modal()
    page.wait_for_modal("Call started")
    assert "Design review is live in #design." in page.modal().text
    page.close_modal("Close")
    page.wait_to_see("Your active calls")
    page.wait_to_see("Design review in #design")

    page.go_to("# design")
    page.wait_for_card(lambda: page.card_title() == "Design review", "the card in #design")
